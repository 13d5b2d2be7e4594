package adoption_test

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
)

// TestParamsWeb: the regulator sets PAY-002's hold in the draft form; a
// value out of range or not a number is refused with 400 naming the
// parameter and its range, keeping (escaped) what was typed; the
// published version, its roadmap, exports, the public summary and the
// provider's item page state 24 hours with the default and range; other
// organisations cannot set values.
func TestParamsWeb(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newServer(t, d, nil)
		draft := s.org("macra", "/baseline/draft/PAY-002")
		form := func(hold string) url.Values {
			return url.Values{"decision": {"adopted"}, "seen": {"0"}, "params_set": {"1"}, "param_hold": {hold}}
		}

		// The form offers the field with the default and range.
		s.expect(s.get("macra-analyst", draft), 200, `name="param_hold"`, "Catalogue default 48 hours; range 24–72 hours.")

		// Refusals: nothing saved, the typed text kept and escaped.
		s.expect(s.post("macra-analyst", draft, form("96")), 400,
			"Hold after a SIM swap must be a whole number from 24–72 hours; 96 is outside that range.", `value="96"`, `aria-invalid="true"`)
		w := s.post("macra-analyst", draft, form(`2"><script>alert(1)</script>`))
		s.expect(w, 400, "Hold after a SIM swap must be a whole number of hours from 24–72 hours", `value="2&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"`)
		if strings.Contains(w.Body.String(), "<script>alert(1)") {
			t.Fatal("typed text not escaped")
		}
		s.expect(s.get("macra-analyst", s.org("macra", "/baseline")), 200, "189 of 189 recommendations have no decision")

		// Other organisations: a provider, another country's regulator,
		// a viewer of the regulator.
		s.expect(s.post("p1-admin", s.org("p1", "/baseline/draft/PAY-002"), form("24")), 404)
		s.expect(s.post("ca-admin", draft, form("24")), 404)
		s.expect(s.get("ca-admin", draft), 404)
		s.expect(s.post("macra-viewer", draft, form("24")), 403)

		s.expect(s.post("macra-analyst", draft, form("24")), 303)
		s.expect(s.get("rbm-analyst", s.org("rbm", "/baseline/draft/PAY-002")), 200, `value="24"`)
		s.expect(s.post("macra-analyst", s.org("macra", "/baseline/adopt-remaining"), nil), 303)
		s.expect(s.post("rbm-admin", s.org("rbm", "/baseline/publish"), url.Values{"notes": {"With values."}}), 303)

		const line = `Hold after a SIM swap: <strong>24 hours</strong> <span class="muted">(catalogue default 48 hours, range 24–72 hours)</span>`
		s.expect(s.get("p1-viewer", s.org("p1", "/baseline/v/1")), 200, "for 24 hours after a SIM swap", line)
		s.expect(s.get("p1-viewer", s.org("p1", "/baseline/v/1/roadmap")), 200, line)
		s.expect(s.get("p1-viewer", s.org("p1", "/tracking/PAY-002")), 200, "for 24 hours after a SIM swap", line)
		s.expect(s.get("p1-viewer", s.org("p1", "/baseline/v/1/baseline.md")), 200,
			"- Hold after a SIM swap: 24 hours (catalogue default 48 hours, range 24–72 hours)")
		s.expect(s.get("p1-viewer", s.org("p1", "/baseline/v/1/baseline.csv")), 200,
			"PAY-002,Hold risky actions right after a SIM swap,Adopted,", "for 24 hours after a SIM swap",
			`,"Hold after a SIM swap: 24 hours (catalogue default 48 hours, range 24–72 hours)"`)

		w = s.get("p1-viewer", s.org("p1", "/baseline/v/1/profile.oscal.json"))
		s.expect(w, 200)
		var doc struct {
			Profile struct {
				Imports []struct {
					IncludeControls []struct {
						WithIDs []string `json:"with-ids"`
					} `json:"include-controls"`
				} `json:"imports"`
				Modify struct {
					SetParameters []struct {
						ParamID string   `json:"param-id"`
						Values  []string `json:"values"`
					} `json:"set-parameters"`
				} `json:"modify"`
			} `json:"profile"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, sp := range doc.Profile.Modify.SetParameters {
			got[sp.ParamID] = strings.Join(sp.Values, ",")
		}
		if got["pay-002_prm_hold"] != "24" || got["chn-002_prm_otp_validity"] != "5" {
			t.Errorf("set-parameters %v, want pay-002_prm_hold 24 and chn-002_prm_otp_validity 5", got)
		}
		if len(doc.Profile.Imports) != 1 || len(doc.Profile.Imports[0].IncludeControls[0].WithIDs) != 189 {
			t.Errorf("imports: %+v", doc.Profile.Imports)
		}
		// Another country's regulator has no version 1 of its own.
		s.expect(s.get("ca-admin", s.org("ca", "/baseline/v/1/profile.oscal.json")), 404)
		s.expect(s.get("ca-admin", s.org("macra", "/baseline/v/1/baseline.csv")), 404)

		must(t, s.store.SetPublicSummary(s.as("macra-admin"), s.orgs["macra"], true))
		// The summary shows 50 items a page: read every page.
		var all strings.Builder
		for off := 0; off < 200; off += 50 {
			w := s.get("", "/public/baselines/MW?offset="+strconv.Itoa(off))
			s.expect(w, 200)
			all.WriteString(w.Body.String())
		}
		for _, want := range []string{"for 24 hours after a SIM swap", line} {
			if !strings.Contains(all.String(), want) {
				t.Errorf("public summary lacks %q", want)
			}
		}

		// A release with a new default: the upstream page says old → new
		// and quotes upstream with the version's own 24 hours.
		s.store.SetCatalogSource(&source{cat: catalogEditing(t, func(r *catalog.Recommendation) bool {
			if r.ID == "PAY-002" {
				r.Parameters[0].Default = 36
			}
			return true
		})})
		s.expect(s.get("macra-viewer", s.org("macra", "/baseline/upstream")), 200, `id="up-PAY-002"`,
			"<li>Hold after a SIM swap: catalogue default 48 hours → 36 hours</li>", "for 24 hours after a SIM swap")
	})
}
