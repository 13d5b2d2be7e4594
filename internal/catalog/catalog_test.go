package catalog_test

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/dfslab/dfslab/internal/appscan"
	"github.com/dfslab/dfslab/internal/catalog"
)

func load(t *testing.T) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCatalogSizeAndCoverage(t *testing.T) {
	c := load(t)
	if n := len(c.Recommendations); n < 150 {
		t.Errorf("catalogue has %d recommendations, want at least 150", n)
	}
	if n := len(c.Threats); n != 17 {
		t.Errorf("X.1150 defines 17 threat categories, taxonomy has %d", n)
	}
	perThreat := map[string]int{}
	perLayer := map[string]int{}
	perStakeholder := map[string]int{}
	for _, r := range c.Recommendations {
		for _, th := range r.Threats {
			perThreat[th]++
		}
		perLayer[r.Layer]++
		for _, s := range r.Stakeholders {
			perStakeholder[s]++
		}
	}
	for _, th := range c.Threats {
		if perThreat[th.Key] < 3 {
			t.Errorf("threat category %q is covered by %d recommendations, want at least 3", th.Key, perThreat[th.Key])
		}
	}
	for _, l := range c.Layers {
		if perLayer[l.Key] == 0 {
			t.Errorf("layer %q has no recommendation", l.Key)
		}
	}
	for _, s := range c.Stakeholders {
		if perStakeholder[s.Key] == 0 {
			t.Errorf("stakeholder %q must act on no recommendation", s.Key)
		}
	}
}

// The catalogue and the scanner must agree: every scanner rule checks at
// least one recommendation, every rule a recommendation names exists, and
// every recommendation marked statically checkable names a rule (the last
// part is enforced by Load itself).
func TestScanRuleLinks(t *testing.T) {
	c := load(t)
	rules := map[string]bool{}
	for _, r := range appscan.Rules() {
		rules[r.ID] = true
	}
	idx := c.ScanRuleIndex()
	for id := range rules {
		if len(idx[id]) == 0 {
			t.Errorf("scanner rule %s maps to no recommendation", id)
		}
	}
	for id, recs := range idx {
		if !rules[id] {
			t.Errorf("recommendations %v name scanner rule %s, which does not exist", recs, id)
		}
	}
	for _, r := range c.Recommendations {
		if r.Check == catalog.CheckStatic && r.Layer != "app" {
			t.Errorf("%s: only app-layer recommendations can be checked by the app scanner", r.ID)
		}
	}
}

func TestGet(t *testing.T) {
	c := load(t)
	r, err := c.Get("APP-001")
	if err != nil || r.ID != "APP-001" {
		t.Fatalf("Get(APP-001) = %v, %v", r, err)
	}
	if _, err := c.Get("APP-999"); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("Get(APP-999) error = %v, want ErrNotFound", err)
	}
	if got := c.ForScanRule("DFS-MAN-001"); len(got) == 0 || got[0] != "APP-001" {
		t.Fatalf("ForScanRule(DFS-MAN-001) = %v", got)
	}
}

// brokenFS is the real catalogue with one recommendations file replaced.
func brokenFS(t *testing.T, recs string) fs.FS {
	t.Helper()
	tax, err := fs.ReadFile(catalog.DataFS(), "taxonomy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return fstest.MapFS{
		"taxonomy.yaml":          {Data: tax},
		"recommendations/x.yaml": {Data: []byte(recs)},
	}
}

const validRec = `
- id: GOV-900
  title: T
  statement: S
  rationale: R
  stakeholders: [central_bank]
  layer: governance
  dimension: availability
  threats: [malware]
  audit_question: Q?
  evidence: [E]
  book: resilience
  sources: [S-XRES]
  check: review
`

func TestLoadRejectsBrokenCatalogues(t *testing.T) {
	tests := []struct {
		name, recs, want string
	}{
		{"valid", validRec, ""},
		{"duplicate id", validRec + strings.Replace(validRec, "title: T", "title: U", 1), "duplicate ID"},
		{"bad id", strings.Replace(validRec, "GOV-900", "GOV-9", 1), "ID must look like"},
		{"wrong prefix", strings.Replace(validRec, "GOV-900", "APP-900", 1), "wants the ID prefix GOV-"},
		{"unknown layer", strings.Replace(validRec, "layer: governance", "layer: moon", 1), `unknown layer "moon"`},
		{"unknown threat", strings.Replace(validRec, "[malware]", "[gremlins]", 1), `unknown threat category "gremlins"`},
		{"unknown stakeholder", strings.Replace(validRec, "[central_bank]", "[wizard]", 1), `unknown stakeholder "wizard"`},
		{"unknown dimension", strings.Replace(validRec, "dimension: availability", "dimension: luck", 1), `unknown X.805 dimension`},
		{"dangling source", strings.Replace(validRec, "[S-XRES]", "[S-NOPE]", 1), `unknown source "S-NOPE"`},
		{"empty statement", strings.Replace(validRec, "statement: S", "statement: \"\"", 1), "statement is empty"},
		{"static without rule", strings.Replace(validRec, "check: review", "check: static", 1), "names no scan rule"},
		{"rules without static", strings.Replace(validRec, "check: review", "check: review\n  scan_rules: [DFS-MAN-001]", 1), "names scan rules but check"},
		{"misspelt field", strings.Replace(validRec, "rationale: R", "rationle: R", 1), "field rationle not found"},
		{"not yaml", "- id: [", "recommendations/x.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := catalog.LoadFS(brokenFS(t, tt.recs))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("valid catalogue refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}
