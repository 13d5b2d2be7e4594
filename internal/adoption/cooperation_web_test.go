package adoption_test

import (
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/adoption"
	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/web"
)

// TestCooperationPages: the regulators' pages for note sharing, joint
// approval, upstream changes and report settings refuse bad input with
// the field named and the text kept, escape what people typed, need the
// right role and a fresh verification where they should, and answer 404
// to providers and to another country's regulator.
func TestCooperationPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newServer(t, d, nil)
		f := s.fixture
		src := &source{cat: f.cat}
		f.store.SetCatalogSource(src)
		f.publish()
		p1 := f.orgs["p1"].ID

		// Note sharing, through the pages: only both switched on shares.
		_, err := f.store.AddNote(f.as("macra-analyst"), f.orgs["macra"], p1, "<b>Sanction</b> considered.")
		must(t, err)
		notes := s.org("rbm", fmt.Sprintf("/sector/providers/%d", p1))
		for _, c := range []struct {
			user, path string
			form       url.Values
			status     int
			contains   []string
		}{
			{"macra-admin", s.org("macra", "/cooperation/share-notes"), url.Values{"on": {"yes"}}, 400, []string{`field &#34;on&#34;`}},
			{"macra-analyst", s.org("macra", "/cooperation/share-notes"), url.Values{"on": {"1"}}, 403, nil},
			{"p1-admin", s.org("p1", "/cooperation/share-notes"), url.Values{"on": {"1"}}, 404, nil},
			{"macra-admin", s.org("macra", "/cooperation/share-notes"), url.Values{"on": {"1"}}, 303, nil},
			{"rbm-admin", s.org("rbm", "/cooperation/share-notes"), url.Values{"on": {"1"}}, 303, nil},
		} {
			w := s.post(c.user, c.path, c.form)
			s.expect(w, c.status, c.contains...)
		}
		if w := s.post("macra-admin:stale", s.org("macra", "/cooperation/joint"), url.Values{"on": {"1"}}); w.Code != 303 || !strings.HasPrefix(w.Header().Get("Location"), web.StepUpPath) {
			t.Fatalf("joint setting without a fresh verification: %d %s", w.Code, w.Header().Get("Location"))
		}
		page := s.get("rbm-viewer", notes)
		s.expect(page, 200, "&lt;b&gt;Sanction&lt;/b&gt; considered.", "(MACRA)", "read these notes (they share their notes with each other)")
		s.expect(s.get("rbm-viewer", s.org("rbm", "/cooperation")), 200, "Reserve Bank of Malawi reads the notes of MACRA")
		s.expect(s.get("p1-viewer", s.org("p1", "/cooperation")), 404)
		s.expect(s.get("ca-viewer", s.org("ca", fmt.Sprintf("/sector/providers/%d", p1))), 404)

		// Joint approval through the publish form.
		s.expect(s.post("macra-admin", s.org("macra", "/cooperation/joint"), url.Values{"on": {"1"}}), 303)
		recs := f.cat.Recommendations
		must(t, f.store.SetDraft(f.as("macra-analyst"), f.orgs["macra"], adoption.BaselineItem{RecID: recs[2].ID, Decision: adoption.NotApplicable, Reason: "No USSD."}))
		w := s.post("macra-admin", s.org("macra", "/baseline/publish"), url.Values{"notes": {"Joint <v2>"}})
		s.expect(w, 303)
		if loc := w.Header().Get("Location"); loc != s.org("macra", "/baseline?done=approved#approvals-title") {
			t.Fatalf("first approval redirects to %q", loc)
		}
		rbmUsers := fmt.Sprint([]int64{f.users["rbm-admin"], f.users["rbm-analyst"], f.users["rbm-viewer"]})
		if n := len(s.notices.sent); n == 0 || !strings.HasPrefix(s.notices.sent[n-1], rbmUsers+"|baseline|MACRA approved the draft of the MW baseline") ||
			!strings.HasSuffix(s.notices.sent[n-1], fmt.Sprintf("|/orgs/%d/baseline#approvals-title", f.orgs["rbm"].ID)) {
			t.Fatalf("notices after the first approval: %q", s.notices.sent)
		}
		s.expect(s.post("macra-admin", s.org("macra", "/baseline/publish"), url.Values{"notes": {"Again"}}), 409, "already approved")
		s.expect(s.get("rbm-admin", s.org("rbm", "/baseline")), 200, "MACRA: approved by macra-admin", "Approve and publish as version 2")
		long := strings.Repeat("n", 4001)
		s.expect(s.post("rbm-admin", s.org("rbm", "/baseline/publish"), url.Values{"notes": {long}}), 400, "limit is 4000", long)
		w = s.post("rbm-admin", s.org("rbm", "/baseline/publish"), nil)
		s.expect(w, 303)
		s.expect(s.get("p2-viewer", s.org("p2", "/baseline/v/2")), 200, "Joint baseline, approved by MACRA", "Reserve Bank of Malawi", "Joint &lt;v2&gt;",
			"as published with this version")
		s.expect(s.get("p2-viewer", s.org("p2", "/baseline/v/2/baseline.md")), 200, "Approved by Reserve Bank of Malawi (rbm-admin)", "Approved by MACRA (macra-admin)")

		// Upstream: an amendment with hostile text shows escaped; choices
		// need an analyst; bad choices are refused with the field named.
		amended, err := f.cat.Amend([]catalog.Amendment{{Revision: 1, RecID: recs[5].ID, Statement: "<img src=x onerror=alert(1)> new text"}})
		must(t, err)
		src.cat = amended
		up := s.org("macra", "/baseline/upstream")
		page = s.get("macra-viewer", up)
		s.expect(page, 200, "1 change still needs a choice", "&lt;img src=x onerror=alert(1)&gt; new text", template.HTMLEscapeString(recs[5].Statement))
		if strings.Contains(page.Body.String(), "<img src=x") {
			t.Fatal("upstream text not escaped")
		}
		s.expect(s.get("macra-viewer", s.org("macra", "/baseline")), 200, "1 upstream change since the latest version", "1 still to take or leave")
		// The provider's item keeps the text of the version it tracks.
		item := s.get("p1-viewer", s.org("p1", "/tracking/"+recs[5].ID))
		s.expect(item, 200, template.HTMLEscapeString(recs[5].Statement), "Issued and enforced by")
		if strings.Contains(item.Body.String(), "new text") {
			t.Fatal("the tracked item shows the amendment the baseline has not taken")
		}
		s.expect(s.post("macra-viewer", up, url.Values{"rec_id": {recs[5].ID}, "choice": {"take"}}), 403)
		s.expect(s.post("macra-analyst", up, url.Values{"rec_id": {recs[5].ID}, "choice": {"both"}}), 400, "Choose to take")
		s.expect(s.post("macra-analyst", up, url.Values{"rec_id": {recs[6].ID}, "choice": {"take"}}), 400, recs[6].ID+" has no upstream change")
		s.expect(s.post("p1-analyst", s.org("p1", "/baseline/upstream"), url.Values{"choice": {"take"}}), 404)
		s.expect(s.get("k1-viewer", s.org("k1", "/baseline/upstream")), 404)
		s.expect(s.get("macra-viewer", up+"?offset=-1"), 400)
		s.expect(s.post("rbm-analyst", s.org("rbm", "/baseline/upstream"), url.Values{"rec_id": {recs[5].ID}, "choice": {"leave"}}), 303)
		s.expect(s.get("macra-viewer", up+"?kind=changed"), 200, "Left as published", "rbm-analyst")

		// Report settings: roles refused with the text kept.
		settings := s.org("macra", "/baseline/attestation")
		bad := "CISO\n<i>CISO</i>\nciso"
		s.expect(s.post("macra-analyst", settings, url.Values{"roles": {bad}}), 400, "listed twice", "&lt;i&gt;CISO&lt;/i&gt;")
		s.expect(s.post("macra-viewer", settings, url.Values{"roles": {"CEO"}}), 403)
		s.expect(s.post("p1-admin", s.org("p1", "/baseline/attestation"), url.Values{"roles": {"CEO"}}), 404)
		s.expect(s.post("macra-analyst", settings, url.Values{"roles": {"CISO\nCEO"}}), 303)
		s.expect(s.get("rbm-viewer", s.org("rbm", "/baseline/settings")), 200, "CISO, CEO")
		s.expect(s.get("p1-viewer", s.org("p1", "/baseline/settings")), 404)
	})
}
