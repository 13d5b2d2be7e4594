package tabletop_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/browsertest"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity/identitytest"
	"github.com/dfslab/dfslab/internal/tabletop"
	"github.com/dfslab/dfslab/internal/web"
	"github.com/dfslab/dfslab/internal/web/webtest"
)

// TestBrowserSetUpAndRun drives the module in headless Chromium, by
// keyboard where a person would type: MACRA's analyst clones a scenario
// and saves it, sets up a regional exercise from it, invites Kenya's
// regulator, whose viewer joins; the facilitator starts the exercise
// and releases an inject by hand, which the player's page shows after a
// refresh; the player sends the group's answer, which the facilitator
// scores. Every page fits a phone's width.
func TestBrowserSetUpAndRun(t *testing.T) {
	b := browsertest.New(t)
	f := newFixture(t, dbtest.SQLite(t))
	w := identitytest.Seed(t, f.ids)
	serveModule(t, b, f, f.s, w, func() time.Time { return f.now })
	macra := w.Orgs["macra"].ID
	phone := chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile)
	fits := func(what string) {
		t.Helper()
		wide, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
		if err != nil || wide {
			t.Errorf("%s is wider than a phone: %v %v", what, wide, err)
		}
	}

	// Clone a built-in scenario and save it from the editor.
	b.As("macra-analyst", fmt.Sprintf("/orgs/%d/tabletop", macra), phone,
		chromedp.SetValue("#clone-from", "switch-ransomware@2026.1"), chromedp.Click("#clone-submit"), chromedp.WaitVisible("#scenario-source"))
	fits("the scenario editor")
	b.Do(chromedp.Click("#save-scenario"), chromedp.WaitVisible("#inject-I5"))
	fits("a scenario")

	// Set up the exercise by keyboard: type the title and press Enter.
	b.As("macra-analyst", fmt.Sprintf("/orgs/%d/tabletop", macra),
		chromedp.SetValue("#ex-scenario", "payday-sim-swap@2026.1"),
		chromedp.SendKeys("#ex-title", "Regional SIM-swap drill"+kb.Enter), chromedp.WaitVisible("#lobby-count"))
	fits("the exercise page")
	rows, err := f.s.ExercisesOf(f.ctx, macra, w.Users["macra-analyst"])
	if err != nil || len(rows) != 1 {
		t.Fatalf("exercises: %v %v", rows, err)
	}
	ex := fmt.Sprintf("/tabletop/exercises/%d", rows[0].ID)
	b.Do(chromedp.SetValue("#invite-org", fmt.Sprint(w.Orgs["ca"].ID)), chromedp.Click("#invite-org-form button"), chromedp.WaitVisible("#exercise-orgs li:nth-child(2)"))
	if got := b.Text("#exercise-orgs"); !strings.Contains(got, "Communications Authority of Kenya (KE)") {
		t.Fatalf("organisations: %q", got)
	}
	// Kenya's viewer joins; the facilitator puts them in Protection and starts.
	b.As("ca-viewer", ex, chromedp.Click("#join-submit"), chromedp.WaitVisible("#lobby-count"))
	b.As("macra-analyst", ex,
		chromedp.SetValue(fmt.Sprintf("#person-group-%d", w.Users["ca-viewer"]), "5"), chromedp.Submit(fmt.Sprintf("#person-group-%d", w.Users["ca-viewer"])),
		chromedp.WaitVisible("#flash"), chromedp.Click("#start"), chromedp.WaitVisible("#pause"))
	b.Do(chromedp.Click("#release-I3"), chromedp.WaitVisible("#released-I3"))
	fits("the facilitator console")
	b.As("ca-viewer", ex, phone, chromedp.WaitVisible("#released-I3"))
	if got := b.Text("#released-I3"); !strings.Contains(got, "Swap, new payee, cash-out within minutes") {
		t.Errorf("the player's feed: %q", got)
	}
	fits("the player's page")
	b.Shot("tabletop-player.png")

	// The player types the group's answer and sends it as final; the
	// facilitator scores it and sees it in the decision log.
	b.Do(chromedp.SendKeys(`#released-I3 textarea[name="actions"]`, "Block cash-out to new payees for 24h"),
		chromedp.SendKeys(`#released-I3 textarea[name="owner"]`, "DFS provider fraud team"),
		chromedp.Click(`#released-I3 button[value="final"]`), chromedp.WaitVisible(`#released-I3 .badge`))
	fits("the player's final answer")
	b.As("macra-analyst", ex, phone, chromedp.SetValue(`#released-I3 .score-form select`, "3"),
		chromedp.Click(`#released-I3 .score-form button`), chromedp.WaitVisible("#flash"))
	if got := b.Text("#log"); !strings.Contains(got, "answered I3") || !strings.Contains(got, "scored 3/3") {
		t.Errorf("the decision log: %q", got)
	}
	fits("the facilitator console with answers and the decision log")
}

// serveModule serves the module over store s to browser b, with a
// sign-in stand-in for the people of w and clock as the sessions' time.
func serveModule(t *testing.T, b *browsertest.Browser, f *fixture, s *tabletop.Store, w identitytest.World, clock func() time.Time) {
	t.Helper()
	rd, err := web.NewRenderer(web.StaticTree{Prefix: "tabletop", FS: tabletop.StaticFS()})
	if err != nil {
		t.Fatal(err)
	}
	mod, err := tabletop.New(t.Context(), s, rd, tabletop.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	ses := web.NewSessions(webtest.Sessions{IDs: f.ids, Now: clock}, false, clock)
	base, _ := url.Parse("http://localhost:8080")
	srv, err := web.New(web.Config{BaseURL: base}, web.Deps{Sessions: ses, Audit: webtest.Auditor{DB: f.d}, Limiter: web.NewLimiter(web.LimiterConfig{}, clock),
		Renderer: rd, Ready: f.d.Ping, WithActor: func(ctx context.Context, a web.Actor) context.Context {
			return audit.WithActor(ctx, audit.Actor{UserID: a.UserID, OrgID: a.OrgID, IP: a.IP, RequestID: a.RequestID})
		}}, mod)
	if err != nil {
		t.Fatal(err)
	}
	b.Serve(srv, func(user string) *http.Cookie {
		return &http.Cookie{Name: ses.CookieName(), Value: webtest.Cookie(w.Users[user])}
	})
}
