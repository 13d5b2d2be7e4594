package adoption_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dfslab/dfslab/internal/browsertest"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/web/webtest"
)

// TestBrowserParams sets a parameter value in headless Chromium at a
// phone's width: the regulator types a hold of 96 hours, is refused with
// the range and keeps what was typed, corrects it to 24; a provider then
// reads the published version with the value and the catalogue's
// default and range, on a page that fits the phone.
func TestBrowserParams(t *testing.T) {
	b := browsertest.New(t)
	s := newServer(t, dbtest.SQLite(t), nil)
	b.Serve(s.srv, func(user string) *http.Cookie {
		return &http.Cookie{Name: s.cookie, Value: webtest.Cookie(s.users[user])}
	})
	f := s.fixture
	phone := chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile)
	fits := func(what string) {
		t.Helper()
		wide, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
		if err != nil || wide {
			t.Errorf("%s is wider than a phone: %v %v", what, wide, err)
		}
	}

	draft := s.org("macra", "/baseline/draft/PAY-002")
	// The field's max keeps a browser from sending 96; without it (an
	// older browser, a script) the server refuses it.
	b.As("macra-analyst", draft, phone, chromedp.RemoveAttribute("#param_hold", "max"), chromedp.SendKeys("#param_hold", "96"),
		chromedp.Click("#save-decision"), chromedp.WaitVisible("#form-problem"))
	if got := b.Text("#form-problem"); !strings.Contains(got, "Hold after a SIM swap must be a whole number from 24–72 hours") {
		t.Fatalf("refusal of 96 hours: %q", got)
	}
	kept, err := chromedp.Run(b.Ctx, chromedp.Value("#param_hold"))
	must(t, err)
	if kept != "96" {
		t.Fatalf("the form kept %q, want 96", kept)
	}
	fits("the refused draft form")
	b.As("macra-analyst", draft, phone, chromedp.Clear("#param_hold"), chromedp.SendKeys("#param_hold", "24"),
		chromedp.Click("#save-decision"), chromedp.WaitVisible("#draft-table"))
	if got := b.Text("#PAY-002"); !strings.Contains(got, "Hold after a SIM swap: 24 hours") {
		t.Fatalf("draft row of PAY-002: %q", got)
	}

	_, err = f.store.AdoptRemaining(f.as("macra-analyst"), f.orgs["macra"])
	must(t, err)
	_, err = f.store.Publish(f.as("rbm-admin"), f.orgs["rbm"], "With our own hold.")
	must(t, err)
	b.As("p1-viewer", s.org("p1", "/baseline/v/1"), phone, chromedp.WaitVisible("#params-PAY-002"))
	if got := b.Text("#params-PAY-002"); got != "Hold after a SIM swap: 24 hours (catalogue default 48 hours, range 24–72 hours)" {
		t.Fatalf("published values: %q", got)
	}
	if got := b.Text("#PAY-002"); !strings.Contains(got, "for 24 hours after a SIM swap") {
		t.Fatalf("published PAY-002: %q", got)
	}
	fits("the published version with values")
	b.Shot("adoption-params.png")
}
