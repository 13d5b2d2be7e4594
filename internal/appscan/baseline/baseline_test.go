package baseline

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/appscan"
)

func fnd(rule, class string, sev appscan.Severity) appscan.Finding {
	f := appscan.Finding{RuleID: rule, Title: rule, Severity: sev, Location: appscan.Location{File: "classes.dex", Class: class}}
	f.ComputeFingerprint()
	return f
}

// oldReport writes a JSON report with the documented top-level shape.
func oldReport(t *testing.T, results []*appscan.Result) string {
	t.Helper()
	data, err := json.Marshal(map[string]any{"schema_version": appscan.SchemaVersion, "tool": map[string]string{"name": "dfslab"}, "results": results})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "old.json")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestApply(t *testing.T) {
	a, b, c := fnd("R1", "a.A", appscan.High), fnd("R2", "a.B", appscan.Medium), fnd("R3", "a.C", appscan.Critical)
	other := fnd("R9", "x.X", appscan.Low)
	old := []*appscan.Result{
		{Target: appscan.Target{Path: "v1/wallet.apk"}, App: appscan.AppInfo{Package: "com.wallet"}, Findings: []appscan.Finding{a, b, b}},
		{Target: appscan.Target{Path: "v1/other.apk"}, App: appscan.AppInfo{Package: "com.other"}, Findings: []appscan.Finding{other}},
	}
	base, err := Load(oldReport(t, old))
	if err != nil {
		t.Fatal(err)
	}
	// New build: a unchanged, one of the two b fixed, c new. The file moved
	// and R8 moved a class to classes2.dex: neither may break the match.
	a2 := a
	a2.Location.File = "classes2.dex"
	a2.ComputeFingerprint()
	cur := []*appscan.Result{{Target: appscan.Target{Path: "v2/wallet-2.apk"}, App: appscan.AppInfo{Package: "com.wallet"}, Findings: []appscan.Finding{a2, b, c}}}
	s := base.Apply(cur)
	if s.New != 1 || s.Unchanged != 2 {
		t.Errorf("new %d unchanged %d, want 1 and 2", s.New, s.Unchanged)
	}
	if got := cur[0].Findings; len(got) != 1 || got[0].RuleID != "R3" {
		t.Errorf("kept %+v, want only the new R3", got)
	}
	// com.other was not scanned this time, so its finding is not "fixed".
	if len(s.Fixed) != 1 || s.Fixed[0].Finding.RuleID != "R2" || s.Fixed[0].Package != "com.wallet" || s.Fixed[0].Target != "v2/wallet-2.apk" {
		t.Errorf("fixed = %+v, want the second R2 only", s.Fixed)
	}
}

func TestApplyWithoutPackage(t *testing.T) {
	f := fnd("R1", "a.A", appscan.High)
	base, err := Load(oldReport(t, []*appscan.Result{{Target: appscan.Target{Path: "old/broken.apk"}, Findings: []appscan.Finding{f}}}))
	if err != nil {
		t.Fatal(err)
	}
	cur := []*appscan.Result{{Target: appscan.Target{Path: "new/broken.apk"}, Findings: []appscan.Finding{f}}}
	if s := base.Apply(cur); s.Unchanged != 1 || s.New != 0 {
		t.Errorf("apps without a package are matched by file name: %+v", s)
	}
	var nb *Baseline
	cur = []*appscan.Result{{Target: appscan.Target{Path: "new/broken.apk"}, Findings: []appscan.Finding{f}}}
	if nb.Apply(cur) != nil || len(cur[0].Findings) != 1 {
		t.Error("a nil baseline must change nothing")
	}
}

func TestFingerprintFilledWhenMissing(t *testing.T) {
	f := fnd("R1", "a.A", appscan.High)
	stripped := f
	stripped.Fingerprint = ""
	base, err := Load(oldReport(t, []*appscan.Result{{App: appscan.AppInfo{Package: "p"}, Findings: []appscan.Finding{stripped}}}))
	if err != nil {
		t.Fatal(err)
	}
	if s := base.Apply([]*appscan.Result{{App: appscan.AppInfo{Package: "p"}, Findings: []appscan.Finding{f}}}); s.Unchanged != 1 {
		t.Errorf("a baseline finding without fingerprint must still match: %+v", s)
	}
}

func TestReadErrors(t *testing.T) {
	for name, in := range map[string]string{
		"not json":         "<html>",
		"no version":       `{"results": []}`,
		"future major":     `{"schema_version": "2.0", "results": []}`,
		"wrong field type": `{"schema_version": "1.0", "results": {}}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Read(strings.NewReader(in), "old.json"); err == nil || !strings.Contains(err.Error(), "old.json") {
				t.Errorf("Read = %v, want an error naming the file", err)
			}
		})
	}
	if _, err := Read(strings.NewReader(`{"schema_version": "1.7", "results": [], "future_field": 1}`), "x"); err != nil {
		t.Errorf("a newer minor version must be readable: %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
}

func FuzzRead(f *testing.F) {
	f.Add([]byte(`{"schema_version":"1.0","results":[{"app":{"package":"p"},"findings":[{"rule_id":"R","fingerprint":"ab"}]}]}`))
	f.Add([]byte(`{"schema_version":"1.0","results":[{"target":{"path":"a.apk"},"findings":[{"rule_id":"R","severity":"high"}]}]}`))
	f.Add([]byte(`{"schema_version":"2"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Read(bytes.NewReader(data), "fuzz.json")
		if err != nil {
			return
		}
		// Whatever was read, applying it must not panic and must account
		// for every current finding.
		cur := []*appscan.Result{{App: appscan.AppInfo{Package: "p"}, Findings: []appscan.Finding{fnd("R", "a.A", appscan.High)}}}
		s := b.Apply(cur)
		if s.New+s.Unchanged != 1 {
			t.Fatalf("new %d + unchanged %d != 1", s.New, s.Unchanged)
		}
	})
}
