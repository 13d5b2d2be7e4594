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
		if r.HasCheck(catalog.CheckStatic) && r.Layer != "app" {
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
	return brokenFSWith(t, recs, nil)
}

// brokenFSWith also replaces taxonomy.yaml or releases.yaml, by name.
func brokenFSWith(t *testing.T, recs string, files map[string]string) fs.FS {
	t.Helper()
	m := fstest.MapFS{"recommendations/x.yaml": {Data: []byte(recs)}}
	for _, name := range []string{"taxonomy.yaml", "releases.yaml"} {
		if s, ok := files[name]; ok {
			m[name] = &fstest.MapFile{Data: []byte(s)}
			continue
		}
		b, err := fs.ReadFile(catalog.DataFS(), name)
		if err != nil {
			t.Fatal(err)
		}
		m[name] = &fstest.MapFile{Data: b}
	}
	return m
}

const validRec = `
- id: GOV-900
  title: T
  statement: S
  rationale: R
  priority: standard
  stakeholders: [central_bank]
  layer: governance
  dimensions: [availability]
  threats: [malware]
  audit_question: Q?
  evidence: [E]
  book: resilience
  sources: [S-XRES]
  checks: [review]
`

// otherRec is a second valid item, for the rules that relate two items.
const otherRec = `
- id: GOV-901
  title: T2
  statement: S2
  rationale: R
  priority: standard
  stakeholders: [central_bank]
  layer: governance
  dimensions: []
  threats: [malware]
  audit_question: Q?
  evidence: [E]
  book: resilience
  sources: [S-XRES]
  checks: [review]
`

// withParam gives validRec one parameter; tests break it field by field.
var withParam = strings.Replace(validRec, "statement: S", `statement: Hold for {hold}.
  parameters:
    - {name: hold, label: Hold, default: 48, unit: hours, min: 24, max: 72}`, 1)

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
		{"unknown dimension", strings.Replace(validRec, "[availability]", "[luck]", 1), `unknown X.805 dimension "luck"`},
		{"dimension twice", strings.Replace(validRec, "[availability]", "[availability, availability]", 1), `X.805 dimension "availability" listed twice`},
		{"governance without dimension", strings.Replace(validRec, "[availability]", "[]", 1), ""},
		{"app without dimension", strings.NewReplacer("GOV-900", "APP-900", "layer: governance", "layer: app", "[availability]", "[]").Replace(validRec), "no X.805 dimension"},
		{"unknown priority", strings.Replace(validRec, "priority: standard", "priority: urgent", 1), `unknown priority "urgent"`},
		{"no priority", strings.Replace(validRec, "  priority: standard\n", "", 1), `unknown priority ""`},
		{"agent stakeholder", strings.Replace(validRec, "[central_bank]", "[agent, payment_switch]", 1), ""},
		{"same statement", validRec + strings.NewReplacer("GOV-901", "GOV-902", "statement: S2", "statement: \"s.\"").Replace(otherRec), "GOV-902: same statement as GOV-900"},
		{"stronger without must", strings.Replace(validRec, "checks: [review]", "checks: [review]\n  stronger_than_source: true", 1), "says no \"must\""},
		{"two checks", strings.Replace(validRec, "checks: [review]", "checks: [dynamic, review]", 1), ""},
		{"check twice", strings.Replace(validRec, "checks: [review]", "checks: [review, review]", 1), `check "review" listed twice`},
		{"no check", strings.Replace(validRec, "checks: [review]", "checks: []", 1), "no check"},
		{"valid parameter", withParam, ""},
		{"parameter without default", strings.Replace(withParam, "default: 48, ", "", 1), `parameter "hold" has no default`},
		{"parameter without range", strings.Replace(withParam, "min: 24, ", "", 1), `parameter "hold" has no min`},
		{"default out of range", strings.Replace(withParam, "default: 48", "default: 96", 1), "default 96 outside its range 24–72"},
		{"unknown unit", strings.Replace(withParam, "unit: hours", "unit: fortnights", 1), `unknown unit "fortnights"`},
		{"placeholder without parameter", strings.Replace(withParam, "{hold}", "{hold} or {wait}", 1), "statement uses {wait}, which is no parameter"},
		{"parameter not in statement", strings.Replace(withParam, "Hold for {hold}.", "Hold.", 1), `parameter "hold" does not appear in the statement`},
		{"misspelt parameter field", strings.Replace(withParam, "label: Hold", "lable: Hold", 1), `unknown parameter field "lable"`},
		{"withdrawn into live", validRec + strings.Replace(otherRec, "checks: [review]", "checks: [review]\n  withdrawn: \"2026.2\"\n  replaced_by: GOV-900", 1), ""},
		{"withdrawn without replacement", validRec + strings.Replace(otherRec, "checks: [review]", "checks: [review]\n  withdrawn: \"2026.2\"", 1), "GOV-901: withdrawn without replaced_by"},
		{"replaced by withdrawn", validRec + strings.Replace(otherRec, "checks: [review]", "checks: [review]\n  withdrawn: \"2026.2\"\n  replaced_by: GOV-901", 1), "replaced_by GOV-901, which is not a live recommendation"},
		{"replaced by unknown", validRec + strings.Replace(otherRec, "checks: [review]", "checks: [review]\n  withdrawn: \"2026.2\"\n  replaced_by: GOV-999", 1), "replaced_by GOV-999, which is not a live recommendation"},
		{"withdrawn in unknown release", validRec + strings.Replace(otherRec, "checks: [review]", "checks: [review]\n  withdrawn: \"2031.1\"\n  replaced_by: GOV-900", 1), `withdrawn in "2031.1", which is no release`},
		{"live refers to withdrawn", strings.Replace(validRec, "rationale: R", "rationale: See GOV-901.", 1) + strings.Replace(otherRec, "checks: [review]", "checks: [review]\n  withdrawn: \"2026.2\"\n  replaced_by: GOV-900", 1), "GOV-900: refers to withdrawn GOV-901"},
		{"live refers to unknown", strings.Replace(validRec, "rationale: R", "rationale: See GOV-977.", 1), "GOV-900: refers to unknown GOV-977"},
		{"replaced_by on live", strings.Replace(validRec, "checks: [review]", "checks: [review]\n  replaced_by: GOV-900", 1), "replaced_by set on a live recommendation"},
		{"dangling source", strings.Replace(validRec, "[S-XRES]", "[S-NOPE]", 1), `unknown source "S-NOPE"`},
		{"empty statement", strings.Replace(validRec, "statement: S", "statement: \"\"", 1), "statement is empty"},
		{"static without rule", strings.Replace(validRec, "checks: [review]", "checks: [static]", 1), "names no scan rule"},
		{"rules without static", strings.Replace(validRec, "checks: [review]", "checks: [review]\n  scan_rules: [DFS-MAN-001]", 1), "names scan rules but is not statically checkable"},
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

func TestLoadRejectsBrokenTaxonomyAndReleases(t *testing.T) {
	tax, err := fs.ReadFile(catalog.DataFS(), "taxonomy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rel, err := fs.ReadFile(catalog.DataFS(), "releases.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"source without url", map[string]string{"taxonomy.yaml": strings.Replace(string(tax),
			`url: "https://itu.gitbook.io/dfs-security-assurance-framework/"`, `url: ""`, 1)}, `source S-SAF-GB: needs a public https URL`},
		{"source with http url", map[string]string{"taxonomy.yaml": strings.Replace(string(tax),
			`url: "https://www.rfc-editor.org/rfc/rfc9116"`, `url: "http://www.rfc-editor.org/rfc/rfc9116"`, 1)}, `source S-RFC9116: needs a public https URL`},
		{"newest release not the version", map[string]string{"releases.yaml": strings.Replace(string(rel), `version: "2026.2"`, `version: "2026.3"`, 1)},
			`the newest release in releases.yaml is "2026.3", the taxonomy says "2026.2"`},
		{"releases out of order", map[string]string{"releases.yaml": strings.Replace(string(rel), `date: "2026-11-26"`, `date: "2026-12-31"`, 1)},
			"release 2026.1: releases.yaml lists the newest first"},
		{"no releases", map[string]string{"releases.yaml": "[]"}, "releases.yaml lists no release"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := catalog.LoadFS(brokenFSWith(t, validRec, tt.files))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}
