package tabletop_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/browsertest"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity/identitytest"
	"github.com/dfslab/dfslab/internal/tabletop"
)

// TestBrowserLiveTwoBrowsers runs an exercise with two people in two
// browsers, each page left open: the facilitator starts the exercise and
// releases an inject; the player's page shows it without reloading within
// 2 s; the player's final answer appears on the facilitator's console
// without reloading; the report lists both.
func TestBrowserLiveTwoBrowsers(t *testing.T) {
	facB := browsertest.New(t)
	playerB := browsertest.New(t)
	f := newFixture(t, dbtest.SQLite(t))
	w := identitytest.Seed(t, f.ids)
	// The server's clock is the real one: the page's clock and the hub's
	// timers run on it.
	s, err := tabletop.NewStore(f.d, refs(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	serveModule(t, facB, f, s, w, time.Now)
	playerB.Share(facB)

	macra := w.Orgs["macra"].ID
	fac := audit.WithActor(context.Background(), audit.Actor{UserID: w.Users["macra-analyst"], OrgID: macra, IP: "192.0.2.3"})
	e, err := s.CreateExercise(fac, macra, tabletop.NewExercise{Title: "Live drill", ScenarioKey: "payday-sim-swap@2026.1", Speed: 1})
	if err != nil {
		t.Fatal(err)
	}
	groups, err := s.Groups(f.ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	var pro int64
	for _, g := range groups {
		if g.Name == "Protection" {
			pro = g.ID
		}
	}
	// Mpamba's viewer plays for Mpamba, invited with its organisation.
	if err := s.InviteOrg(fac, e.ID, w.Orgs["p1"].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.InvitePerson(fac, e.ID, "p1-viewer@example.org", w.Orgs["p1"].ID, tabletop.RolePlayer, pro); err != nil {
		t.Fatal(err)
	}
	ex := fmt.Sprintf("/tabletop/exercises/%d", e.ID)

	// Both pages open; the player joins and waits.
	playerB.As("p1-viewer", ex, chromedp.Click("#join-submit"), chromedp.WaitVisible("#live-state"))
	facB.As("macra-analyst", ex, chromedp.Click("#start"), chromedp.WaitVisible("#release-I2"))
	// A mark on the player's window: a reload would lose it.
	playerB.Do(chromedp.Evaluate[chromedp.Void](`window.__stillOpen = true`), chromedp.WaitVisible("#released-I1"))

	facB.Do(chromedp.Click("#release-I2"), chromedp.WaitVisible("#released-I2"))
	released := time.Now()
	ctx, cancel := context.WithTimeout(playerB.Ctx, 2*time.Second)
	err = chromedp.Do(ctx, chromedp.WaitVisible("#released-I2"))
	cancel()
	if err != nil {
		t.Fatalf("the player's open page did not show the inject within 2 s: %v", err)
	}
	t.Logf("inject on the player's page %v after the facilitator's page showed it", time.Since(released).Round(time.Millisecond))
	still, err := chromedp.Run(playerB.Ctx, chromedp.Evaluate[bool](`window.__stillOpen === true`))
	if err != nil || !still {
		t.Fatalf("the player's page was reloaded (%v)", err)
	}
	if got := playerB.Text("#live-announce"); !strings.Contains(got, "New inject") {
		t.Errorf("screen readers are not told of the new inject: %q", got)
	}
	playerB.Shot("tabletop-live-player.png")

	// The player answers; the facilitator's console shows it unreloaded.
	facB.Do(chromedp.Evaluate[chromedp.Void](`window.__stillOpen = true`))
	playerB.Do(chromedp.SendKeys(`#released-I2 textarea[name="actions"]`, "Hold transfers to new payees after a SIM swap"),
		chromedp.SendKeys(`#released-I2 textarea[name="owner"]`, "Mpamba fraud desk"),
		chromedp.Click(`#released-I2 button[value="final"]`), chromedp.WaitVisible(`#released-I2 .badge`))
	ctx, cancel = context.WithTimeout(facB.Ctx, 5*time.Second)
	err = chromedp.Do(ctx, chromedp.WaitVisible(`#released-I2 .score-form`))
	cancel()
	if err != nil {
		t.Fatalf("the facilitator's console did not show the answer: %v", err)
	}
	if got := facB.Text("#released-I2 .answers"); !strings.Contains(got, "Hold transfers to new payees") {
		t.Errorf("the console shows %q", got)
	}
	if still, _ := chromedp.Run(facB.Ctx, chromedp.Evaluate[bool](`window.__stillOpen === true`)); !still {
		t.Error("the facilitator's page was reloaded")
	}
	facB.Shot("tabletop-live-console.png")

	// The report lists the inject and the answer.
	facB.Do(chromedp.Click("#end"), chromedp.WaitNotPresent("#end"))
	facB.As("macra-analyst", ex+"/report", chromedp.WaitVisible("#timeline"))
	if got := facB.Text("#timeline-I2"); !strings.Contains(got, "Hold transfers to new payees") {
		t.Errorf("the report's entry of I2: %q", got)
	}
}
