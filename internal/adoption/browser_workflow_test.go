package adoption_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/dfslab/dfslab/internal/browsertest"
	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/web"
	"github.com/dfslab/dfslab/internal/web/webtest"
)

// TestBrowserJointAndAttestation drives the joint approval of a baseline
// and the attestation of a report in headless Chromium at a phone's
// width: the telecom regulator requires joint approval and approves, the
// central bank's approval publishes; a provider's CISO attests a report
// by keyboard, is sent to the step-up first, and the form completes
// after it; the regulator sees the attestation checked against the
// report.
func TestBrowserJointAndAttestation(t *testing.T) {
	b := browsertest.New(t)
	s := newServer(t, dbtest.SQLite(t), nil)
	b.Serve(s.srv, func(user string) *http.Cookie {
		name, stale := strings.CutSuffix(user, ":stale")
		v := webtest.Cookie(s.users[name])
		if stale {
			v = webtest.StaleCookie(s.users[name])
		}
		return &http.Cookie{Name: s.cookie, Value: v}
	})
	f := s.fixture
	_, err := f.store.AdoptRemaining(f.as("macra-analyst"), f.orgs["macra"])
	must(t, err)
	phone := chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile)
	fits := func(what string) {
		t.Helper()
		wide, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
		if err != nil || wide {
			t.Errorf("%s is wider than a phone: %v %v", what, wide, err)
		}
	}

	// Joint approval: MACRA requires it and approves; the Reserve Bank's
	// approval of the same draft publishes version 1.
	b.As("macra-admin", s.org("macra", "/cooperation"), phone, chromedp.Click("#require-joint"), chromedp.WaitVisible("#flash"))
	if got := b.Text("#joint-state"); !strings.Contains(got, "joint") || strings.Contains(got, "not joint") {
		t.Fatalf("after requiring joint approval: %q", got)
	}
	fits("the cooperation page")
	b.As("macra-admin", s.org("macra", "/baseline"), phone,
		chromedp.SendKeys("#publish-notes", "Agreed by both."), chromedp.Click("#publish"), chromedp.WaitVisible("#approvals"))
	if got := b.Text("#approvals"); !strings.Contains(got, "MACRA: approved by macra-admin") {
		t.Fatalf("approvals after MACRA's: %q", got)
	}
	if _, err := f.store.Latest(t.Context(), "MW"); err == nil {
		t.Fatal("one approval published the joint baseline")
	}
	fits("the baseline page with an approval")
	b.As("rbm-admin", s.org("rbm", "/baseline"), phone, chromedp.Click("#publish"), chromedp.WaitVisible("#version-approvals"))
	if got := b.Text("#version-approvals"); !strings.Contains(got, "MACRA") || !strings.Contains(got, "Reserve Bank of Malawi") {
		t.Fatalf("version approvals: %q", got)
	}
	fits("the joint version")
	b.Shot("adoption-joint-version.png")

	// Attestation: the CISO types a name and confirms by keyboard; the
	// stale session goes to the step-up, which brings the form back.
	sub, err := f.store.Submit(f.as("p1-admin"), f.orgs["p1"], "We confirm.")
	must(t, err)
	report := s.org("p1", fmt.Sprintf("/submissions/%d", sub.ID))
	b.As("p1-viewer:stale", report, phone,
		chromedp.Clear("#attest-name"), chromedp.SendKeys("#attest-name", "Alinafe Banda"),
		chromedp.Click("#attest-confirm"), chromedp.SendKeys("#attest-name", kb.Enter), chromedp.WaitVisible("#error-title"))
	loc, err := chromedp.Run(b.Ctx, chromedp.Location())
	must(t, err)
	u, err := url.Parse(loc)
	must(t, err)
	next := u.Query().Get("next")
	if u.Path != web.StepUpPath || !strings.HasPrefix(next, web.ResumePath) {
		t.Fatalf("attesting without a fresh verification went to %q", loc)
	}
	// Verified now (the stand-in for the passkey or TOTP prompt): the
	// kept form is sent again by itself.
	b.As("p1-viewer", next, chromedp.WaitVisible("#attestations"))
	if got := b.Text("#attestations"); !strings.Contains(got, "Alinafe Banda") || !strings.Contains(got, "matches the report") {
		t.Fatalf("attestations after the step-up: %q", got)
	}
	fits("the attested report")
	b.As("rbm-viewer", s.org("rbm", fmt.Sprintf("/sector/submissions/%d", sub.ID)), phone, chromedp.WaitVisible("#attest-check"))
	if got := b.Text("#attest-check"); !strings.Contains(got, "Every required role attested this report") {
		t.Fatalf("the regulator's check: %q", got)
	}
	fits("the regulator's view of an attested report")
	b.Shot("adoption-attestation.png")

	// An accepted amendment shows as an upstream change, left by
	// keyboard; the public summary fits a phone too.
	amended, err := f.cat.Amend([]catalog.Amendment{{Revision: 1, RecID: f.cat.Recommendations[4].ID, Statement: "Amended for the test."}})
	must(t, err)
	f.store.SetCatalogSource(&source{cat: amended})
	leave := "#leave-" + f.cat.Recommendations[4].ID
	b.As("macra-analyst", s.org("macra", "/baseline/upstream"), phone, chromedp.Focus(leave), chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible("#flash"))
	if got := b.Text("#upstream-table"); !strings.Contains(got, "Left as published") {
		t.Fatalf("upstream after leaving: %q", got)
	}
	fits("the upstream changes")
	b.Shot("adoption-upstream.png")
	b.As("macra-admin", s.org("macra", "/baseline/settings"), phone, chromedp.Click("#toggle-public"), chromedp.WaitVisible("#public-link"))
	b.As("p2-viewer", "/public/baselines/MW", phone, chromedp.WaitVisible("#public-items"))
	fits("the public summary")
	b.Shot("adoption-public.png")
}
