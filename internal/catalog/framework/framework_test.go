package framework

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/catalog"
)

func knownIDs(t testing.TB) Known {
	t.Helper()
	c, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	return func(id string) bool { _, err := c.Get(id); return err == nil }
}

func example(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseYAMLExample(t *testing.T) {
	f, err := ParseYAML(example(t, "cbe-cyber-guideline.yaml"), knownIDs(t))
	if err != nil {
		t.Fatal(err)
	}
	if f.ID != "cbe-cyber-guideline" || f.Version != "2026.1" || f.Publisher != "Central Bank of Example" || f.Format != FormatYAML {
		t.Errorf("header = %q %q %q %q", f.ID, f.Version, f.Publisher, f.Format)
	}
	if len(f.Controls) != 6 {
		t.Fatalf("%d controls, want 6", len(f.Controls))
	}
	gov2 := f.Controls[1]
	want := []Mapping{{"GOV-001", Equivalent, "The Bank's agreement plays the role of the MOU."}, {"GOV-003", Subset, ""}}
	if gov2.ID != "CBE-GOV-2" || gov2.Group != "Governance" || len(gov2.Mappings) != 2 || gov2.Mappings[0] != want[0] || gov2.Mappings[1] != want[1] {
		t.Errorf("CBE-GOV-2 = %+v", gov2)
	}
	// Plain entries take the control's relation, or "related".
	if m := f.Controls[3].Mappings; len(m) != 3 || m[2] != (Mapping{RecID: "APP-004", Relation: Subset}) {
		t.Errorf("CBE-APP-1 mappings = %+v", m)
	}
	if m := f.Controls[4].Mappings; len(m) != 1 || m[0].Relation != Equivalent {
		t.Errorf("CBE-AWR-1 mappings = %+v", m)
	}
	if !strings.HasPrefix(f.Controls[0].Text, "The board of a payment") || strings.HasSuffix(f.Controls[0].Text, "\n") {
		t.Errorf("text = %q", f.Controls[0].Text)
	}
	if f.MappingCount() != 9 {
		t.Errorf("MappingCount = %d, want 9", f.MappingCount())
	}
}

func TestParseOSCALExample(t *testing.T) {
	f, err := ParseOSCAL(example(t, "cbe-cyber-guideline.oscal.json"), knownIDs(t))
	if err != nil {
		t.Fatal(err)
	}
	if f.ID != "cbe-cyber-guideline" || f.Publisher != "Central Bank of Example" || f.Version != "2026.1" || f.Format != FormatOSCAL {
		t.Errorf("header = %+v", f)
	}
	var ids []string
	for _, c := range f.Controls {
		ids = append(ids, c.ID+"@"+c.Group)
	}
	if got := strings.Join(ids, " "); got != "cbe-gov-1@Governance cbe-gov-1.1@Governance cbe-app-1@Mobile applications" {
		t.Errorf("controls = %s", got)
	}
	// The statement part only, with its items; guidance is left out.
	if got := f.Controls[2].Text; got != "Customer apps are released without debugging enabled and keep their data out of device backups.\nRelease builds are not debuggable." {
		t.Errorf("text = %q", got)
	}
	if strings.Contains(f.Controls[0].Text, "Minutes") {
		t.Errorf("guidance part in the text: %q", f.Controls[0].Text)
	}
	if m := f.Controls[2].Mappings; len(m) != 2 || m[1] != (Mapping{"APP-002", Subset, "Backups only."}) {
		t.Errorf("mappings = %+v", m)
	}
	if err := ApplyMappings(f, example(t, "cbe-cyber-guideline.mappings.yaml"), knownIDs(t)); err != nil {
		t.Fatal(err)
	}
	if m := f.Controls[1].Mappings; len(m) != 1 || m[0].RecID != "GOV-002" || m[0].Relation != Related {
		t.Errorf("mapping file not applied: %+v", m)
	}
}

func TestParseYAMLErrors(t *testing.T) {
	known := knownIDs(t)
	head := "id: x\ntitle: X\nversion: \"1\"\n"
	for _, tc := range []struct {
		name, in string
		want     []string // each must appear in the error
	}{
		{"empty", "", []string{"empty"}},
		{"syntax", head + "controls: [\n", []string{"line"}},
		{"not a mapping", "- a\n- b\n", []string{"line 1", "must be a mapping"}},
		{"unknown top key", head + "controls: []\nauthor: me\n", []string{"line 5", `unknown key "author"`}},
		{"no controls", head + "controls: []\n", []string{"no controls"}},
		{"missing title", "id: x\nversion: \"1\"\ncontrols:\n  - {id: A, title: T}\n", []string{"title is missing"}},
		{"bad framework id", "id: has space\ntitle: X\nversion: \"1\"\ncontrols:\n  - {id: A, title: T}\n", []string{"line 1", "framework id"}},
		{"unknown rec", head + "controls:\n  - id: A\n    title: T\n    maps_to: [APP-999]\n", []string{"line 7", `unknown recommendation "APP-999"`}},
		{"bad relation", head + "controls:\n  - id: A\n    title: T\n    maps_to:\n      - {rec: APP-001, relation: same}\n", []string{"line 8", `relation "same"`}},
		{"duplicate control", head + "controls:\n  - {id: A, title: T}\n  - {id: A, title: U}\n", []string{"line 6", "earlier control"}},
		{"duplicate mapping", head + "controls:\n  - {id: A, title: T, maps_to: [APP-001, app-001]}\n", []string{"twice"}},
		{"misspelt control key", head + "controls:\n  - {id: A, title: T, mapsto: [APP-001]}\n", []string{"line 5", `unknown key "mapsto"`}},
		{"alias", head + "controls:\n  - &a {id: A, title: T}\n  - *a\n", []string{"aliases"}},
		{"two documents", head + "controls:\n  - {id: A, title: T}\n---\nid: y\n", []string{"second YAML document"}},
		{"text not scalar", head + "controls:\n  - {id: A, title: T, text: [a]}\n", []string{"text must be text"}},
		{"several problems", head + "controls:\n  - {id: A}\n  - {id: B}\n", []string{"line 5", "line 6"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseYAML([]byte(tc.in), known)
			if err == nil || f != nil {
				t.Fatalf("accepted: %+v", f)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v is not ErrInvalid", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestParseOSCALErrors(t *testing.T) {
	known := knownIDs(t)
	wrap := func(groups string) string {
		return `{"catalog": {"uuid": "6f1c9a2e-3b7d-4c1e-9a55-0d2b8e7f4a10", "metadata": {"title": "T", "version": "1",
			"last-modified": "2026-01-01T00:00:00Z", "oscal-version": "1.1.3"}, "groups": ` + groups + `}}`
	}
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"not json", "catalog: x", []string{"line 1"}},
		{"no catalog", `{"profile": {}}`, []string{"$.catalog", "not an OSCAL catalog"}},
		{"trailing data", wrap(`[]`) + `{}`, []string{"data after"}},
		{"wrong type", `{"catalog": {"uuid": 5}}`, []string{"$.catalog.uuid", "a string"}},
		// encoding/json names array indices only since Go 1.27
		// ("groups.0.controls.0.id"), so the path is checked here without
		// them; TestIndexPath checks how indices are written.
		{"wrong type nested", "{\"catalog\": {\"groups\": [{\"title\": \"G\",\n\"controls\": [{\"id\": 5}]}]}}", []string{"$.catalog.groups", "controls", ".id: line 2: a JSON number where a string is expected"}},
		{"bad uuid", `{"catalog": {"uuid": "x", "metadata": {"title": "T", "version": "1", "last-modified": "x", "oscal-version": "1.1.3"}, "controls": [{"id": "a", "title": "A"}]}}`, []string{"$.catalog.uuid"}},
		{"oscal 2", `{"catalog": {"uuid": "6f1c9a2e-3b7d-4c1e-9a55-0d2b8e7f4a10", "metadata": {"title": "T", "version": "1", "last-modified": "x", "oscal-version": "2.0.0"}, "controls": [{"id": "a", "title": "A"}]}}`, []string{"oscal-version"}},
		{"no controls", wrap(`[]`), []string{"no controls"}},
		{"group without title", wrap(`[{"id": "g", "controls": [{"id": "a", "title": "A"}]}]`), []string{"$.catalog.groups[0].title"}},
		{"control without title", wrap(`[{"title": "G", "controls": [{"id": "a", "title": "A"}, {"id": "b"}]}]`), []string{"$.catalog.groups[0].controls[1].title"}},
		{"nested duplicate", wrap(`[{"title": "G", "controls": [{"id": "a", "title": "A", "controls": [{"id": "a", "title": "A2"}]}]}]`), []string{"$.catalog.groups[0].controls[0].controls[0].id", "earlier"}},
		{"unknown rec", wrap(`[{"title": "G", "controls": [{"id": "a", "title": "A", "props": [{"name": "maps-to", "ns": "urn:dfslab:catalog", "value": "XYZ-1"}]}]}]`), []string{"$.catalog.groups[0].controls[0].props", `"XYZ-1"`}},
		{"bad relation", wrap(`[{"title": "G", "controls": [{"id": "a", "title": "A", "props": [{"name": "maps-to", "ns": "urn:dfslab:catalog", "value": "APP-001", "class": "same"}]}]}]`), []string{"$.catalog.groups[0].controls[0].props[0].class"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseOSCAL([]byte(tc.in), known)
			if err == nil || f != nil {
				t.Fatalf("accepted: %+v", f)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v is not ErrInvalid", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	// Props in other namespaces are not mappings.
	f, err := ParseOSCAL([]byte(wrap(`[{"title": "G", "controls": [{"id": "a", "title": "A", "props": [{"name": "maps-to", "value": "XYZ-1"}]}]}]`)), known)
	if err != nil || len(f.Controls[0].Mappings) != 0 || f.ID != "t" {
		t.Errorf("foreign prop: %v %+v", err, f)
	}
}

func TestTooLarge(t *testing.T) {
	big := make([]byte, MaxSize+1)
	for _, format := range []string{FormatYAML, FormatOSCAL} {
		if _, err := Parse(big, format, knownIDs(t)); !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: %v, want ErrTooLarge", format, err)
		}
	}
	if _, err := Parse(nil, "xml", knownIDs(t)); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestApplyMappingsAllOrNothing(t *testing.T) {
	known := knownIDs(t)
	f, err := ParseOSCAL(example(t, "cbe-cyber-guideline.oscal.json"), known)
	if err != nil {
		t.Fatal(err)
	}
	before := f.MappingCount()
	for _, tc := range []struct{ name, in, want string }{
		{"other framework", "framework: other\nmappings: []\n", `for framework "other"`},
		{"unknown control", "framework: cbe-cyber-guideline\nmappings:\n  - {control: zz, rec: APP-001, relation: related}\n", `line 3: no control "zz"`},
		{"second bad", "framework: cbe-cyber-guideline\nmappings:\n  - {control: cbe-gov-1.1, rec: APP-001, relation: related}\n  - {control: cbe-gov-1.1, rec: APP-999, relation: related}\n", "line 4"},
		{"already mapped", "framework: cbe-cyber-guideline\nmappings:\n  - {control: cbe-app-1, rec: app-001, relation: related}\n", "already maps to APP-001"},
	} {
		err := ApplyMappings(f, []byte(tc.in), known)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
		if f.MappingCount() != before {
			t.Fatalf("%s: a refused mapping file changed the framework", tc.name)
		}
	}
}

func TestSniff(t *testing.T) {
	if Sniff(example(t, "cbe-cyber-guideline.oscal.json")) != FormatOSCAL || Sniff(example(t, "cbe-cyber-guideline.yaml")) != FormatYAML {
		t.Error("examples sniffed wrongly")
	}
	if Sniff([]byte(`{"id": "x"}`)) != FormatYAML { // JSON is YAML; without "catalog" it is our format
		t.Error("JSON without catalog sniffed as OSCAL")
	}
}

func TestIndexPath(t *testing.T) {
	for in, want := range map[string]string{
		"catalog":                         "catalog",
		"catalog.uuid":                    "catalog.uuid",
		"catalog.groups.0.controls.12.id": "catalog.groups[0].controls[12].id",
		"catalog.groups.controls.id":      "catalog.groups.controls.id",
		"0.title":                         "[0].title",
	} {
		if got := indexPath(in); got != want {
			t.Errorf("indexPath(%q) = %q, want %q", in, got, want)
		}
	}
}
