package framework

import (
	"testing"
)

// The fuzz targets check that the parsers never panic and that whatever
// they accept passes the validation a store relies on.

func checkAccepted(t *testing.T, f *Framework, err error, known Known) {
	if err != nil {
		if f != nil {
			t.Fatal("framework returned with an error")
		}
		return
	}
	if !idPattern.MatchString(f.ID) || f.Title == "" || len(f.Controls) == 0 || len(f.Controls) > MaxControls {
		t.Fatalf("accepted an invalid framework: %+v", f)
	}
	seen := map[string]bool{}
	for _, c := range f.Controls {
		if seen[c.ID] || !idPattern.MatchString(c.ID) || c.Title == "" {
			t.Fatalf("accepted an invalid control: %+v", c)
		}
		seen[c.ID] = true
		for _, m := range c.Mappings {
			if !known(m.RecID) || !m.Relation.Valid() {
				t.Fatalf("accepted an invalid mapping: %+v", m)
			}
		}
	}
}

func FuzzParseYAML(f *testing.F) {
	f.Add(example(f, "cbe-cyber-guideline.yaml"))
	f.Add([]byte("id: x\ntitle: X\nversion: \"1\"\ncontrols:\n  - {id: A, title: T, maps_to: [APP-001]}\n"))
	f.Add([]byte("id: x\ncontrols:\n  - &a {id: A}\n  - *a\n"))
	f.Add([]byte("- [a, {b: c}]\n"))
	known := knownIDs(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		fw, err := ParseYAML(data, known)
		checkAccepted(t, fw, err, known)
	})
}

func FuzzParseOSCAL(f *testing.F) {
	f.Add(example(f, "cbe-cyber-guideline.oscal.json"))
	f.Add([]byte(`{"catalog": {"uuid": "6f1c9a2e-3b7d-4c1e-9a55-0d2b8e7f4a10", "metadata": {"title": "T", "version": "1", "last-modified": "x", "oscal-version": "1.1.3"}, "controls": [{"id": "a", "title": "A", "controls": [{"id": "b", "title": "B"}]}]}}`))
	f.Add([]byte(`{"catalog": {"groups": [{"groups": [{"groups": []}]}]}}`))
	f.Add([]byte(`[1, "x"]`))
	known := knownIDs(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		fw, err := ParseOSCAL(data, known)
		checkAccepted(t, fw, err, known)
	})
}
