package applab_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/pdf"
	"github.com/dfslab/dfslab/internal/testenv"
)

// TestBrowserJourney drives the lab in headless Chromium (the site's CSP,
// the page's own script, real forms and a real file upload): a provider
// uploads, watches the progress, opens the report, triages a finding,
// records a device test and shares the audit; the regulator sees the
// market. With DFSLAB_SCREENSHOTS=DIR it saves the screenshots used in
// the documentation.
func TestBrowserJourney(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	chromium := pdf.ChromiumPath()
	if chromium == "" {
		testenv.Missing(t, "headless Chromium (set DFSLAB_CHROMIUM)")
	}
	s := newServer(t, dbtest.SQLite(t), 20<<20, nil)
	s.now = time.Now().UTC()
	// Scans run in the background, as in `dfslab serve`.
	rctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	s.run.Poll = 50 * time.Millisecond
	wg.Go(func() { s.run.Run(rctx, 1) })
	defer wg.Wait()
	defer stop()
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
		b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 gives PNG
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
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			body, _ := chromedp.Run(ctx, chromedp.Text("main"))
			t.Fatalf("%v\npage: %.1500s", err, body)
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

	dir := t.TempDir()
	for i, debuggable := range []bool{true, false} {
		file := filepath.Join(dir, "mpamba-"+strconv.Itoa(i+1)+".apk")
		if err := os.WriteFile(file, build(t, "mw.mpamba.wallet", i+1, debuggable, true), 0o644); err != nil {
			t.Fatal(err)
		}
		as("p1-analyst", s.org("p1", "/apps"),
			chromedp.SetUploadFiles("#file", []string{file}), chromedp.Click("#upload-submit"),
			// The page's script polls the status and reveals the link.
			chromedp.WaitVisible("#scan-report"))
		if got := text("#scan-state"); got != "done" {
			t.Fatalf("scan state %q", got)
		}
	}
	shot("applab-scan.png")
	do(chromedp.Click("#scan-report"), chromedp.WaitVisible("#findings-table"))
	if got := text("#findings-table"); !strings.Contains(got, "DFS-MAN-004") || strings.Contains(got, "DFS-MAN-001") {
		t.Fatalf("findings of version 2: %q", got)
	}
	do(chromedp.Click("#findings-table details summary"),
		chromedp.SetValue("#findings-table select[name=decision]", "accepted_risk"),
		chromedp.SendKeys("#findings-table input[name=reason]", "Cleartext only to the on-device test server."),
		chromedp.SetValue("#findings-table input[name=expires]", s.now.AddDate(0, 3, 0).Format(time.DateOnly)),
		chromedp.Click("#findings-table button"), chromedp.WaitVisible("#flash"))
	if got := text("#findings-table"); !strings.Contains(got, "Accepted risk") {
		t.Fatalf("after triage: %q", got)
	}
	shot("applab-report.png")

	do(chromedp.Click("#diff-link"), chromedp.WaitVisible("#diff-base"))
	if got := text("#diff-base"); !strings.Contains(got, "1 fixed") {
		t.Fatalf("diff: %q", got)
	}
	do(chromedp.Navigate(ts.URL+s.org("p1", "/apps")), chromedp.Click("#apps-table a"), chromedp.WaitVisible("#trend svg"))
	shot("applab-app.png")

	do(chromedp.Click("#versions-table a"), chromedp.Click("#audit-link"), chromedp.WaitVisible("#record-form"),
		chromedp.SetValue("#test", "T3.3"), chromedp.SetValue("#result", "fail"),
		chromedp.SendKeys("#notes", "Traffic readable through a proxy with a user-installed CA."),
		chromedp.Click("#record-submit"), chromedp.WaitVisible("#flash"))
	if got := text("#t-T3\\.3"); !strings.Contains(got, "user-installed CA") {
		t.Fatalf("T3.3 row: %q", got)
	}
	shot("applab-audit.png")

	as("p1-admin", s.org("p1", "/apps"), chromedp.Click("#apps-table a"), chromedp.Click("#versions-table a"),
		chromedp.WaitVisible("#share-form"), chromedp.Click("#share-submit"), chromedp.WaitVisible("#flash"))
	as("macra-viewer", s.org("macra", "/market"), chromedp.WaitVisible("#market-table"))
	if got := text("#market-table"); !strings.Contains(got, "Mpamba Money") || !strings.Contains(got, "mw.mpamba.wallet") {
		t.Fatalf("market: %q", got)
	}
	shot("applab-market.png")
}
