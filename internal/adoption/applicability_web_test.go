package adoption_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/db/dbtest"
)

// TestApplicabilityPages: the draft form offers the licensee types with
// the catalogue's default checked, refuses an empty set with the problem
// shown and the editor's text kept, and the published version filters by
// licensee type.
func TestApplicabilityPages(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), nil)
	form := s.get("macra-analyst", s.org("macra", "/baseline/draft/TEL-005"))
	s.expect(form, 200, `id="applies-mno" checked`, `id="applies-bank" checked`, `id="applies-dfs_provider" checked`,
		"The catalogue's default for this recommendation is checked.")
	if strings.Contains(form.Body.String(), `id="applies-regulator" checked`) {
		t.Fatal("regulator checked by default for TEL-005")
	}
	s.expect(s.post("macra-analyst", s.org("macra", "/baseline/draft/TEL-005"), url.Values{"decision": {"adapted"}, "local_text": {"Within 5 minutes."},
		"applies_to_set": {"1"}, "seen": {"0"}}), 400, "Choose at least one licensee type", "Within 5 minutes.", `id="applies-to" class="field-problem"`)
	s.expect(s.post("macra-analyst", s.org("macra", "/baseline/draft/TEL-005"), url.Values{"decision": {"adapted"}, "local_text": {"Within 5 minutes."},
		"applies_to_set": {"1"}, "applies_to": {"mno", "bank"}, "seen": {"0"}}), 303)
	s.expect(s.get("macra-viewer", s.org("macra", "/baseline")), 200, "Mobile network operator, Bank</td>")
	long := strings.Repeat("a", 8001)
	s.expect(s.post("macra-analyst", s.org("macra", "/baseline/draft/APP-001"), url.Values{"decision": {"adapted"}, "local_text": {long}, "seen": {"0"}}),
		400, "8001 characters long; the limit is 8000", long)
	s.expect(s.post("macra-analyst", s.org("macra", "/baseline/adopt-remaining"), nil), 303)
	s.expect(s.get("macra-viewer", s.org("macra", "/baseline")), 200, `DFS provider / e-money issuer, Bank <span class="muted">(default)</span>`)
	s.expect(s.post("macra-admin", s.org("macra", "/baseline/publish"), url.Values{"notes": {strings.Repeat("n", 4001)}}), 400, "the limit is 4000")
	s.expect(s.post("macra-admin", s.org("macra", "/baseline/publish"), nil), 303)

	all := s.get("p1-viewer", s.org("p1", "/baseline/v/1"))
	s.expect(all, 200, "TEL-005", "APP-001", "DFS provider / e-money issuer, Bank", "to Mpamba Money (DFS provider / e-money issuer)")
	banks := s.get("p1-viewer", s.org("p1", "/baseline/v/1?for=mno"))
	s.expect(banks, 200, "TEL-005", `<option value="mno" selected>`)
	if strings.Contains(banks.Body.String(), `id="APP-001"`) {
		t.Fatal("the operators' view of the version lists an app item")
	}
	// The operator's tracking has TEL-005, the provider's does not.
	s.expect(s.get("p2-viewer", s.org("p2", "/tracking")), 200, "TEL-005", "items for a Mobile network operator")
	if strings.Contains(s.get("p1-viewer", s.org("p1", "/tracking")).Body.String(), "TEL-005") {
		t.Fatal("the DFS provider tracks TEL-005, which the regulator applied to operators and banks")
	}
}
