package catalog_test

import (
	"slices"
	"strings"
	"testing"
)

// The factual corrections of release 2026.2 (issue 13), each checked for
// the fact that was wrong and the fact that replaced it.
func TestReviewCorrections(t *testing.T) {
	c := load(t)
	text := func(id string) string {
		r, err := c.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		return r.Statement + "\n" + r.Rationale
	}
	sources := func(id string) []string {
		r, _ := c.Get(id)
		return r.Sources
	}
	tests := []struct {
		id            string
		has, hasNot   []string
		source, notSo string
	}{
		{id: "PAY-021", has: []string{"398 days", "1 September 2020", "200 days", "15 March 2026"}, hasNot: []string{"at most 825"}, source: "S-CABF"},
		{id: "APP-039", has: []string{"22 October 2033", "do not apply to APK signing certificates"}, hasNot: []string{"must not exceed 825"}, source: "S-PLAY-SIGN"},
		{id: "APP-030", has: []string{"Keystore", "operator"}, source: "S-MASTG", notSo: "S-SIM-GB"},
		{id: "GOV-014", has: []string{"risk management, governance, testing, training and awareness, protection, incident response"}, hasNot: []string{"detection"}, source: "S-CRT"},
		{id: "TEL-011", has: []string{"FS.19", "category 1, 2 and 3"}, hasNot: []string{"FS.11 and FS.21"}, source: "S-GSMA-FS19"},
		{id: "TEL-010", has: []string{"SMS firewall", "does not by itself stop"}},
		{id: "APP-011", has: []string{"unauthenticated server response"}, hasNot: []string{"showed balances altered in transit"}},
		{id: "APP-038", has: []string{"Android 7.0", "Janus", "only verify the v1 signature"}, source: "S-JANUS"},
		{id: "APP-018", has: []string{"must target SDK 28 or higher; once they do"}, source: "S-AND-TASKS"},
		{id: "GOV-019", has: []string{"Y.2740"}, source: "S-Y2740"},
		{id: "CHN-009", source: "S-SAF-2020", notSo: "S-AUDIT"},
	}
	for _, tt := range tests {
		s := text(tt.id)
		for _, w := range tt.has {
			if !strings.Contains(s, w) {
				t.Errorf("%s does not say %q", tt.id, w)
			}
		}
		for _, w := range tt.hasNot {
			if strings.Contains(s, w) {
				t.Errorf("%s still says %q", tt.id, w)
			}
		}
		if tt.source != "" && !slices.Contains(sources(tt.id), tt.source) {
			t.Errorf("%s does not cite %s", tt.id, tt.source)
		}
		if tt.notSo != "" && slices.Contains(sources(tt.id), tt.notSo) {
			t.Errorf("%s still cites %s", tt.id, tt.notSo)
		}
	}
	chn009, _ := c.Get("CHN-009")
	for _, ref := range chn009.References {
		if ref.Ref == "C3" {
			t.Errorf("CHN-009 still cites control C3")
		}
	}
}

// The topics the review found missing each have an item, named here.
func TestNewRecommendationsOf2026_2(t *testing.T) {
	c := load(t)
	newIDs := []string{
		"TEL-026", "TEL-027", "TEL-028", "TEL-029", "TEL-030", "TEL-031", "TEL-032", "TEL-034",
		"CHN-016", "CHN-017", "CHN-018", "APP-061", "GOV-021", "GOV-022", "GOV-023", "GOV-024",
		"PAY-036", "PAY-037", "PAY-038", "PAY-039", "PAY-040", "PAY-041", "PAY-042", "PAY-043", "PAY-044",
		"PAY-045", "PAY-046", "PAY-047", "PAY-049", "PAY-050", "PAY-051",
	}
	if len(newIDs) < 25 {
		t.Fatalf("only %d new items", len(newIDs))
	}
	for _, id := range newIDs {
		r, err := c.Get(id)
		if err != nil || r.IsWithdrawn() {
			t.Errorf("new item %s: %v", id, err)
		}
	}
	// Each FS.11 category item names MAP operations of its category.
	ops := map[string][]string{
		"TEL-026": {"category 1", "anyTimeInterrogation"},
		"TEL-027": {"category 2", "provideSubscriberInfo", "insertSubscriberData"},
		"TEL-028": {"category 3", "updateLocation", "sendAuthenticationInfo"},
		"TEL-029": {"FS.19", "Update-Location"},
		"TEL-030": {"FS.20", "GTP"},
		"TEL-031": {"SEPP", "N32"},
		"PAY-037": {"ISO/IEC 30107-3", "national identity"},
	}
	for id, words := range ops {
		r, _ := c.Get(id)
		for _, w := range words {
			if !strings.Contains(r.Statement, w) {
				t.Errorf("%s statement lacks %q", id, w)
			}
		}
	}
	// Agents and the payment switch now have items of their own.
	for _, st := range []string{"agent", "payment_switch"} {
		n := 0
		for _, r := range c.Recommendations {
			if slices.Contains(r.Stakeholders, st) {
				n++
			}
		}
		if n < 5 {
			t.Errorf("stakeholder %s acts on %d items, want at least 5", st, n)
		}
	}
	// Items taken from OWASP MASTG credit it.
	for _, id := range []string{"APP-018", "APP-038", "APP-043"} {
		r, _ := c.Get(id)
		if !slices.Contains(r.Sources, "S-MASTG") {
			t.Errorf("%s does not credit OWASP MASTG", id)
		}
	}
	// An item filed under the OWASP MAS book credits MAS, not the ITU
	// best-practice book, which does not cover its topic.
	for _, r := range c.Recommendations {
		if r.Book == "owasp_mas" && (!slices.ContainsFunc(r.Sources, func(s string) bool { return s == "S-MASTG" || s == "S-MASVS" }) || slices.Contains(r.Sources, "S-APPBP")) {
			t.Errorf("%s: filed under OWASP MAS with sources %v", r.ID, r.Sources)
		}
	}
	for _, id := range []string{"APP-015", "APP-019", "APP-028", "APP-044"} {
		if r, _ := c.Get(id); r.Book != "owasp_mas" {
			t.Errorf("%s comes from MASTG, not the ITU book, but is filed under %s", id, r.Book)
		}
	}
	for _, s := range c.Sources {
		if !strings.HasPrefix(s.URL, "https://") {
			t.Errorf("source %s has no URL", s.Key)
		}
	}
}
