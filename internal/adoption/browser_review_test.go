package adoption_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/dfslab/dfslab/internal/browsertest"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/web/webtest"
)

// TestBrowserSupervision drives the supervisory pages in headless
// Chromium at a phone's width: the regulator opens a reporting period by
// keyboard, a provider that has not submitted shows as missing, the
// regulator returns a report with a finding, the provider resubmits and
// the regulator accepts.
func TestBrowserSupervision(t *testing.T) {
	b := browsertest.New(t)
	s := newServer(t, dbtest.SQLite(t), nil)
	b.Serve(s.srv, func(user string) *http.Cookie {
		return &http.Cookie{Name: s.cookie, Value: webtest.Cookie(s.users[user])}
	})
	f := s.fixture
	f.publish()
	rec := s.cat.Recommendations[0].ID
	phone := chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile)
	fits := func(what string) {
		t.Helper()
		wide, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
		if err != nil || wide {
			t.Errorf("%s is wider than a phone: %v %v", what, wide, err)
		}
	}

	// The regulator opens a period, typing only (Enter sends the form).
	b.As("macra-analyst", s.org("macra", "/sector"), phone,
		chromedp.SetValue("#period-due", "2026-06-30"),
		chromedp.SendKeys("#period-label", "Q2 2026"+kb.Enter), chromedp.WaitVisible("#roster"))
	fits("the sector view with a period")
	if got := b.Text("#roster"); !strings.Contains(got, "Mpamba Money") || !strings.Contains(got, "Airtel Money MW") || !strings.Contains(got, "Not yet submitted") {
		t.Fatalf("roster: %q", got)
	}

	b.As("p1-admin", s.org("p1", "/submissions"), chromedp.Click("#confirm"), chromedp.Click("#submit-report"), chromedp.WaitVisible("#signed-by"))
	subs, err := f.store.Submissions(f.as("p1-admin"), f.orgs["p1"])
	if err != nil || len(subs) != 1 {
		t.Fatalf("submissions: %v, %v", subs, err)
	}
	// After the due date, the operator that did not submit is missing.
	f.now = time.Date(2026, 7, 2, 9, 0, 0, 0, time.UTC)
	b.As("rbm-viewer", s.org("rbm", "/sector?state=missing"), phone, chromedp.WaitVisible("#roster"))
	if got := b.Text("#roster"); !strings.Contains(got, "Airtel Money MW") || !strings.Contains(got, "Missing") || strings.Contains(got, "Mpamba Money") {
		t.Fatalf("missing filter: %q", got)
	}

	// The regulator returns the report with a finding.
	b.As("macra-analyst", s.org("macra", fmt.Sprintf("/sector/submissions/%d", subs[0].ID)), phone,
		chromedp.SendKeys("#finding-"+rec, "No evidence of release-build checks."),
		chromedp.Click("#outcome-returned"), chromedp.Click("#review-submit"), chromedp.WaitVisible("#review-outcome"))
	fits("a report under review")
	if got := b.Text("#review-outcome"); !strings.Contains(got, "Returned with findings") {
		t.Fatalf("after returning: %q", got)
	}
	b.As("p1-viewer", s.org("p1", fmt.Sprintf("/submissions/%d", subs[0].ID)), phone, chromedp.WaitVisible("#review-outcome"))
	if got := b.Text("#snapshot-table"); !strings.Contains(got, "No evidence of release-build checks.") {
		t.Fatalf("the provider does not see the finding: %q", got)
	}

	// The provider fixes and resubmits; the regulator accepts.
	b.As("p1-analyst", s.org("p1", "/tracking/"+rec),
		chromedp.SetValue("#status", "implemented"), chromedp.Click("#save-item"), chromedp.WaitVisible("#flash"))
	b.As("p1-admin", s.org("p1", "/submissions"), chromedp.Click("#confirm"), chromedp.Click("#submit-report"), chromedp.WaitVisible("#signed-by"))
	subs, _ = f.store.Submissions(f.as("p1-admin"), f.orgs["p1"])
	b.As("rbm-analyst", s.org("rbm", fmt.Sprintf("/sector/submissions/%d", subs[0].ID)), phone,
		chromedp.Click("#outcome-accepted"), chromedp.Click("#review-submit"), chromedp.WaitVisible("#review-outcome"))
	if got := b.Text("#review-outcome"); !strings.Contains(got, "Accepted") {
		t.Fatalf("after accepting: %q", got)
	}
	b.As("macra-viewer", s.org("macra", fmt.Sprintf("/sector/providers/%d", f.orgs["p1"].ID)), phone, chromedp.WaitVisible("#provider-reports"))
	fits("a provider's page")
}
