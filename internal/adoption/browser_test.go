package adoption_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/pdf"
	"github.com/dfslab/dfslab/internal/testenv"
)

// TestBrowserJourney drives the pages in headless Chromium (the site's
// CSP, real forms, a real file upload): the regulators publish a
// baseline, a provider updates an item with evidence and submits, the
// regulator sees the heat map. With DFSLAB_SCREENSHOTS=DIR it saves the
// screenshots used in the documentation.
func TestBrowserJourney(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	chromium := pdf.ChromiumPath()
	if chromium == "" {
		testenv.Missing(t, "headless Chromium (set DFSLAB_CHROMIUM)")
	}
	s := newServer(t, dbtest.SQLite(t), nil)
	// A sign-in stand-in: /test-login/NAME sets the session cookie of the
	// fixture user (the real sign-in is internal/authn's business).
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if name, ok := strings.CutPrefix(r.URL.Path, "/test-login/"); ok {
			http.SetCookie(w, &http.Cookie{Name: s.cookie, Value: strconv.FormatInt(s.users[name], 10), Path: "/"})
			http.Redirect(w, r, r.URL.Query().Get("next"), http.StatusSeeOther)
			return
		}
		s.srv.ServeHTTP(w, r)
	})
	ts := httptest.NewServer(h)
	defer ts.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	shots := os.Getenv("DFSLAB_SCREENSHOTS")
	shot := func(name string) {
		if shots == "" {
			return
		}
		b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 gives PNG, below JPEG
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(shots, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	as := func(user, path string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		all := append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(ts.URL + "/test-login/" + user + "?next=" + path)}, steps...)
		if err := chromedp.Do(ctx, all...); err != nil {
			body, _ := chromedp.Run(ctx, chromedp.Text("main"))
			t.Fatalf("as %s on %s: %v\npage: %.1500s", user, path, err, body)
		}
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return v
	}
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
