package app

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/collab"
)

// TestAmendmentReachesBaseline: in the wired platform an amendment
// accepted in the collaboration module shows on the regulator's upstream
// page as a change to take or leave, while the published version keeps
// the text it was published with (issue 13, point 7).
func TestAmendmentReachesBaseline(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		org := fmt.Sprintf("/orgs/%d", w.orgA)
		for _, c := range []struct{ user, path, body string }{
			{"analyst-a", org + "/baseline/adopt-remaining", ""},
			{"admin-a", org + "/baseline/publish", "notes=First"},
		} {
			if rec := w.do(http.MethodPost, c.path, c.body, w.session(c.user), ""); rec.Code != http.StatusSeeOther {
				t.Fatalf("%s %s: %d\n%.800s", c.user, c.path, rec.Code, rec.Body.String())
			}
		}
		cat, err := catalog.Default()
		if err != nil {
			t.Fatal(err)
		}
		rec0 := cat.Recommendations[0]
		const amended = "Release builds of DFS apps must not be debuggable (amended by the sector)."
		p, err := w.app.Collab.Propose(ctx, collab.Viewer{UserID: w.users["analyst-a"]}, collab.NewProposal{RecID: rec0.ID, OrgID: w.orgA,
			Statement: amended, Reason: "Say what an examiner checks."})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.app.Collab.Accept(ctx, collab.Viewer{UserID: w.users["padmin"], Admin: true}, p.ID); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			path     string
			want     []string
			unwanted string
		}{
			{org + "/baseline/upstream", []string{rec0.ID, template.HTMLEscapeString(amended), "1 change still needs a choice"}, ""},
			{org + "/baseline/v/1", []string{template.HTMLEscapeString(rec0.Statement)}, template.HTMLEscapeString(amended)},
		} {
			rec := w.do(http.MethodGet, c.path, "", w.session("viewer-a"), "")
			body := rec.Body.String()
			if rec.Code != http.StatusOK {
				t.Fatalf("%s: %d", c.path, rec.Code)
			}
			for _, s := range c.want {
				if !strings.Contains(body, s) {
					t.Errorf("%s lacks %q", c.path, s)
				}
			}
			if c.unwanted != "" && strings.Contains(body, c.unwanted) {
				t.Errorf("%s shows %q", c.path, c.unwanted)
			}
		}
	})
}
