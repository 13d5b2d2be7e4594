package adoption_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dfslab/dfslab/internal/browsertest"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/web/webtest"
)

// TestBrowserJourney drives the pages in headless Chromium (the site's
// CSP, real forms, a real file upload): the regulators publish a
// baseline, a provider updates an item with evidence and submits, the
// regulator sees the heat map. With DFSLAB_SCREENSHOTS=DIR it saves the
// screenshots used in the documentation.
func TestBrowserJourney(t *testing.T) {
	b := browsertest.New(t)
	s := newServer(t, dbtest.SQLite(t), nil)
	b.Serve(s.srv, func(user string) *http.Cookie {
		return &http.Cookie{Name: s.cookie, Value: webtest.Cookie(s.users[user])}
	})
	as, text, shot := b.As, b.Text, b.Shot
	rec := s.cat.Recommendations[0].ID

	as("macra-analyst", s.org("macra", "/baseline/draft/"+rec),
		chromedp.Click("#decision-adapted"), chromedp.SendKeys("#local-text", "Providers licensed in Malawi ship release builds only."),
		chromedp.Click("#save-decision"), chromedp.WaitVisible("#flash"),
		chromedp.Click("#adopt-remaining"), chromedp.WaitNotPresent("#adopt-remaining"))
	as("macra-admin", s.org("macra", "/baseline"),
		chromedp.SendKeys("#publish-notes", "First national baseline."), chromedp.Click("#publish"), chromedp.WaitVisible("#version-title"))
	if got := text("#version-title"); !strings.Contains(got, "MW v1") {
		t.Fatalf("after publishing: %q", got)
	}
	shot("adoption-baseline.png")

	file := filepath.Join(t.TempDir(), "release-build-review.pdf")
	if err := os.WriteFile(file, []byte("%PDF-1.7\nrelease build review\n%%EOF\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	as("p1-analyst", s.org("p1", "/tracking/"+rec),
		chromedp.SetValue("#status", "implemented"), chromedp.SetValue("#target-date", "2026-06-30"),
		chromedp.Click("#save-item"), chromedp.WaitVisible("#flash"),
		chromedp.SetUploadFiles("#file", []string{file}), chromedp.Click("#upload"), chromedp.WaitVisible("#evidence-list a"))
	if got := text("#evidence-list"); !strings.Contains(got, "release-build-review.pdf") {
		t.Fatalf("evidence list: %q", got)
	}
	if got := text("#history-table"); !strings.Contains(got, "“Not started” → “Implemented”") {
		t.Fatalf("history: %q", got)
	}
	shot("adoption-item.png")
	as("p1-viewer", s.org("p1", "/tracking"), chromedp.WaitVisible("#tracking-table"))
	shot("adoption-tracking.png")

	as("p1-admin", s.org("p1", "/submissions"),
		chromedp.Click("#confirm"), chromedp.Click("#submit-report"), chromedp.WaitVisible("#signed-by"))
	if got := text("#signed-by"); got != "p1-admin" {
		t.Fatalf("signed off by %q", got)
	}

	as("macra-viewer", s.org("macra", "/sector"), chromedp.WaitVisible("#heat-threats"))
	if got := text("#heat-threats"); !strings.Contains(got, "Mpamba Money") {
		t.Fatalf("heat map: %q", got)
	}
	shot("adoption-sector.png")
}
