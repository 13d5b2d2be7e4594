package applab_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dfslab/dfslab/internal/browsertest"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/web/webtest"
)

// TestBrowserJourney drives the lab in headless Chromium (the site's CSP,
// the page's own script, real forms and a real file upload): a provider
// uploads, watches the progress, opens the report, triages a finding,
// records a device test and shares the audit; the regulator sees the
// market. With DFSLAB_SCREENSHOTS=DIR it saves the screenshots used in
// the documentation.
func TestBrowserJourney(t *testing.T) {
	b := browsertest.New(t)
	s := newServer(t, dbtest.SQLite(t), 20<<20, nil)
	s.now = time.Now().UTC()
	// Scans run in the background, as in `dfslab serve`.
	rctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	s.run.Poll = 50 * time.Millisecond
	wg.Go(func() { s.run.Run(rctx, 1) })
	defer wg.Wait()
	defer stop()
	b.Serve(s.srv, func(user string) *http.Cookie {
		return &http.Cookie{Name: s.cookie, Value: webtest.Cookie(s.users[user])}
	})
	as, do, text, shot := b.As, b.Do, b.Text, b.Shot

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
	do(chromedp.Click("#scan-report"), chromedp.WaitVisible("#findings"))
	if got := text("#findings"); !strings.Contains(got, "DFS-MAN-004") || strings.Contains(got, "DFS-MAN-001") {
		t.Fatalf("findings of version 2: %q", got)
	}
	// A decision on the selected findings (the bulk form).
	do(chromedp.Click(`#findings input[form="bulk-triage"]`),
		chromedp.SetValue("#bulk-decision", "accepted_risk"),
		chromedp.SendKeys("#bulk-reason", "Cleartext only to the on-device test server."),
		chromedp.SetValue("#bulk-expires", s.now.AddDate(0, 3, 0).Format(time.DateOnly)),
		chromedp.Click("#bulk-submit"), chromedp.WaitVisible("#flash"))
	if got := text("#findings"); !strings.Contains(got, "Accepted risk") {
		t.Fatalf("after triage: %q", got)
	}
	shot("applab-report.png")

	do(chromedp.Click("#diff-link"), chromedp.WaitVisible("#diff-base"))
	if got := text("#diff-base"); !strings.Contains(got, "1 fixed") {
		t.Fatalf("diff: %q", got)
	}
	do(chromedp.Navigate(b.URL+s.org("p1", "/apps")), chromedp.Click("#apps-table a"), chromedp.WaitVisible("#trend svg"))
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
