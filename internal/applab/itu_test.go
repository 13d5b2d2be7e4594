package applab_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/applab"
	"github.com/dfslab/dfslab/internal/appscan"
	"github.com/dfslab/dfslab/internal/appscan/report"
)

var update = flag.Bool("update", false, "rewrite static/report.css from the scanner's report stylesheet")

// TestReportStylesheet: the stylesheet served for the embedded scanner
// report is the report package's (the platform's CSP forbids inline
// styles, so it is a static file). Regenerate with -update.
func TestReportStylesheet(t *testing.T) {
	path := filepath.Join("static", "report.css")
	if *update {
		if err := os.WriteFile(path, []byte(report.HTMLStyle()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != report.HTMLStyle() {
		t.Fatal("static/report.css is stale: go test ./internal/applab -run TestReportStylesheet -update")
	}
}

func TestMatrix(t *testing.T) {
	rules := []appscan.RuleMeta{
		{ID: "R-DEBUG", Mappings: appscan.Mappings{ITUTest: []string{"T1.2"}}},
		{ID: "R-CLEAR", Mappings: appscan.Mappings{ITUTest: []string{"T3.1"}}},
		{ID: "R-PIN", Mappings: appscan.Mappings{ITUTest: []string{"T3.3"}}},
		{ID: "R-ROOT", Mappings: appscan.Mappings{ITUTest: []string{"T8.1"}}},
		{ID: "R-OBF", Control: true, Mappings: appscan.Mappings{ITUTest: []string{"T9.1"}}},
		{ID: "R-PERM", Mappings: appscan.Mappings{ITUTest: []string{"T1.4"}}},
		{ID: "R-ROOTCTL", Control: true, Mappings: appscan.Mappings{ITUTest: []string{"T8.1"}}},
	}
	res := &appscan.Result{Findings: []appscan.Finding{
		{RuleID: "R-DEBUG", Fingerprint: "d"},
		{RuleID: "R-CLEAR", Fingerprint: "c"},
		{RuleID: "R-ROOT", Fingerprint: "r"},
		// A library's finding is listed apart and fails nothing.
		{RuleID: "R-PERM", Fingerprint: "lib", InLibrary: true, Library: "OkHttp"},
	}, Controls: []appscan.ControlStatus{{RuleID: "R-OBF", Name: "Obfuscation", Present: false}, {RuleID: "R-ROOTCTL", Name: "Root detection", Present: true}}}
	tests := []struct {
		name   string
		tri    map[string]applab.Triage
		rec    map[string]applab.Recorded
		want   map[string]applab.ITUResult
		source map[string]string
	}{
		{
			name: "static only",
			// T9.1: no finding, but the control is absent. T1.4: covered, nothing found.
			want: map[string]applab.ITUResult{"T1.2": applab.Fail, "T3.1": applab.Fail, "T3.3": applab.NotTested, "T8.1": applab.Fail,
				"T1.1": applab.NotTested, "T9.1": applab.Fail, "T1.4": applab.Pass},
			source: map[string]string{"T1.2": "static scan", "T3.3": ""},
		},
		{
			name: "false positive and fixed do not fail; accepted risk still does",
			tri: map[string]applab.Triage{"d": {Decision: applab.FalsePositive}, "c": {Decision: applab.AcceptedRisk, Expires: "2099-01-01"},
				"r": {Decision: applab.Fixed}},
			// T8.1 is a device test: no finding does not make it pass.
			// A present root detection control does not pass it either.
			want: map[string]applab.ITUResult{"T1.2": applab.Pass, "T3.1": applab.Fail, "T8.1": applab.NotTested},
		},
		{
			name:   "tester overrides",
			rec:    map[string]applab.Recorded{"T3.3": {Result: applab.Fail}, "T1.2": {Result: applab.NA}},
			want:   map[string]applab.ITUResult{"T3.3": applab.Fail, "T1.2": applab.NA},
			source: map[string]string{"T3.3": "tester", "T1.2": "tester"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows := applab.Matrix(rules, res, tc.tri, tc.rec, "2026-06-01")
			if len(rows) != len(applab.Tests()) {
				t.Fatalf("%d rows, want %d", len(rows), len(applab.Tests()))
			}
			got := map[string]applab.TestRow{}
			for _, r := range rows {
				got[r.ID] = r
			}
			for id, want := range tc.want {
				if got[id].Result != want {
					t.Errorf("%s = %q, want %q", id, got[id].Result, want)
				}
			}
			if r := got["T1.4"]; len(r.Findings) != 0 || len(r.Library) != 1 {
				t.Errorf("T1.4: findings %v, library %v; want the library's finding apart", r.Findings, r.Library)
			}
			for id, want := range tc.source {
				if got[id].Source != want {
					t.Errorf("%s source = %q, want %q", id, got[id].Source, want)
				}
			}
		})
	}
	c := applab.Summary(applab.Matrix(rules, res, nil, nil, "2026-06-01"))
	if c.Fail != 4 || c.Pass != 1 || c.Fail+c.Pass+c.NA+c.NotTested != len(applab.Tests()) {
		t.Errorf("summary %+v", c)
	}
}

func TestTrendSVG(t *testing.T) {
	if applab.TrendSVG(nil) != "" {
		t.Error("chart without versions")
	}
	vs := []applab.Version{
		{VersionName: `1.0<script>`, VersionCode: 1, ScanID: 1, Counts: applab.Counts{Critical: 2, High: 5}},
		{VersionName: "2.0", VersionCode: 2, ScanID: 0}, // not scanned: left out
		{VersionName: "3.0", VersionCode: 3, ScanID: 3, Counts: applab.Counts{High: 1}},
	}
	svg := string(applab.TrendSVG(vs))
	if strings.Contains(svg, "<script>") || !strings.Contains(svg, "1.0&lt;script&gt;") {
		t.Error("version label not escaped")
	}
	if strings.Contains(svg, "2.0 (2)") || !strings.Contains(svg, "3.0 (3)") {
		t.Error("wrong versions drawn")
	}
	if n := strings.Count(svg, "<polyline"); n != 4 {
		t.Errorf("%d series, want 4", n)
	}
	// The highest count (5 high) is the top of the axis.
	if !strings.Contains(svg, `text-anchor="end">5</text>`) {
		t.Errorf("axis maximum missing: %s", svg)
	}
}
