package appscan

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestRuleMetadata checks that every rule is complete enough for reports,
// SARIF and the generated docs, and that IDs are unique and stable-looking.
func TestRuleMetadata(t *testing.T) {
	rs := Rules()
	if len(rs) < 80 {
		t.Fatalf("%d rules, want at least 80", len(rs))
	}
	if !slices.IsSortedFunc(rs, func(a, b RuleMeta) int { return strings.Compare(a.ID, b.ID) }) {
		t.Error("Rules() not sorted by ID")
	}
	idRE := regexp.MustCompile(`^DFS-(MAN|NET|CODE|CRYPTO|SECRET|SIGN|NATIVE|RES|ZIP|PRIV)-\d{3}$`)
	masvsRE := regexp.MustCompile(`^MASVS-(STORAGE|CRYPTO|AUTH|NETWORK|PLATFORM|CODE|RESILIENCE|PRIVACY)-\d$`)
	owaspRE := regexp.MustCompile(`^M([1-9]|10)$`)
	ituRE := regexp.MustCompile(`^T\d\.[\dx]$`)
	// The category names reports and SARIF carry, by ID group: written out
	// here rather than taken from categoryOf, which sets them.
	wantCat := map[string]Category{
		"MAN": "manifest", "NET": "network", "CODE": "code", "CRYPTO": "crypto", "SECRET": "secrets",
		"SIGN": "signing", "NATIVE": "native", "RES": "resilience", "ZIP": "container", "PRIV": "privacy",
	}
	seen := map[string]bool{}
	titles := map[string]string{}
	byCat := map[Category]int{}
	for _, r := range rs {
		if seen[r.ID] {
			t.Errorf("duplicate ID %s", r.ID)
		}
		seen[r.ID] = true
		if !idRE.MatchString(r.ID) {
			t.Errorf("%s: ID does not follow DFS-<GROUP>-NNN", r.ID)
		}
		if prev, ok := titles[r.Title]; ok {
			t.Errorf("%s and %s share the title %q", prev, r.ID, r.Title)
		}
		titles[r.Title] = r.ID
		byCat[r.Category]++
		_, rest, _ := strings.Cut(r.ID, "-")
		group, _, _ := strings.Cut(rest, "-")
		if r.Category != wantCat[group] || r.Category == "" {
			t.Errorf("%s: category %q, want %q", r.ID, r.Category, wantCat[group])
		}
		for name, text := range map[string]string{"title": r.Title, "description": r.Description, "remediation": r.Remediation} {
			if len(strings.TrimSpace(text)) < 10 {
				t.Errorf("%s: %s too short: %q", r.ID, name, text)
			}
		}
		if r.Severity < Info || r.Severity > Critical {
			t.Errorf("%s: severity %d", r.ID, r.Severity)
		}
		switch r.Confidence {
		case ConfidenceHigh, ConfidenceMedium, ConfidenceLow:
		default:
			t.Errorf("%s: confidence %q", r.ID, r.Confidence)
		}
		m := r.Mappings
		for _, x := range m.MASVS {
			if !masvsRE.MatchString(x) {
				t.Errorf("%s: MASVS %q", r.ID, x)
			}
		}
		for _, x := range append(slices.Clone(m.OWASPMobile2016), m.OWASPMobile2024...) {
			if !owaspRE.MatchString(x) {
				t.Errorf("%s: OWASP category %q", r.ID, x)
			}
		}
		for _, x := range m.ITUTest {
			if !ituRE.MatchString(x) {
				t.Errorf("%s: ITU test %q", r.ID, x)
			}
		}
		for _, c := range m.CWE {
			if c <= 0 {
				t.Errorf("%s: CWE %d", r.ID, c)
			}
		}
	}
	// Spot checks against the public definitions: MITRE's CWE-489 (active
	// debug code), CWE-319 (cleartext transmission), CWE-327 (broken or risky
	// cryptographic algorithm) and the MASVS control each belongs to.
	for _, want := range []struct {
		id    string
		masvs string
		cwe   int
	}{
		{"DFS-MAN-001", "MASVS-RESILIENCE-4", 489},
		{"DFS-MAN-004", "MASVS-NETWORK-1", 319},
		{"DFS-CRYPTO-004", "MASVS-CRYPTO-1", 327},
	} {
		i := slices.IndexFunc(rs, func(r RuleMeta) bool { return r.ID == want.id })
		if i < 0 {
			t.Errorf("%s missing", want.id)
			continue
		}
		if m := rs[i].Mappings; !slices.Contains(m.MASVS, want.masvs) || !slices.Contains(m.CWE, want.cwe) {
			t.Errorf("%s: mappings %v / CWE %v, want %s and CWE-%d", want.id, m.MASVS, m.CWE, want.masvs, want.cwe)
		}
	}
	// The ITU lab tests the scanner can check statically are all covered.
	for _, itu := range []string{"T1.1", "T1.2", "T1.3", "T1.4", "T2.1", "T3.1", "T3.2", "T3.3", "T4.1", "T5.1", "T8.1", "T9.1"} {
		if !slices.ContainsFunc(rs, func(r RuleMeta) bool { return slices.Contains(r.Mappings.ITUTest, itu) }) {
			t.Errorf("no rule maps to ITU test %s", itu)
		}
	}
	t.Logf("%d rules: %v", len(rs), byCat)
}
