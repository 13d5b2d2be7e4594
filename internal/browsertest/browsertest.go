// Package browsertest drives headless Chromium for the browser tests of
// the modules and of e2e: one place for the flags that keep the browser
// off the network, the sign-in stand-in, screenshots, and failures that
// show what the page said.
package browsertest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/dfslab/dfslab/internal/pdf"
	"github.com/dfslab/dfslab/internal/testenv"
)

// Timeout bounds one test's use of the browser.
const Timeout = 3 * time.Minute

// Browser is one headless Chromium with a fresh profile, ended with the
// test.
type Browser struct {
	t testing.TB
	// Ctx runs chromedp actions in the browser's tab.
	Ctx context.Context
	// URL is the base URL of the server started by Serve.
	URL string
}

// New starts Chromium (pdf.ChromiumPath; missing: skip, or fail under CI)
// with a 1280×900 window.
func New(t testing.TB) *Browser {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test")
	}
	path := pdf.ChromiumPath()
	if path == "" {
		testenv.Missing(t, "headless Chromium (apt-get install chromium, or set DFSLAB_CHROMIUM)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		// The machines that run the tests have no network beyond loopback;
		// these keep Chromium from trying.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-features", "MediaRouter,OptimizationHints,Translate"),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// The first Do starts the browser; it must run on a context without a
	// deadline, or the deadline would end the browser itself.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	tctx, cancel := context.WithTimeout(ctx, Timeout)
	t.Cleanup(cancel)
	return &Browser{t: t, Ctx: tctx}
}

// Serve starts h on a loopback test server for the browser, with a
// sign-in stand-in: /test-login/USER?next=PATH sets the cookie that login
// returns for USER and redirects to PATH. (Signing in for real is
// internal/authn's business and e2e's test.)
func (b *Browser) Serve(h http.Handler, login func(user string) *http.Cookie) {
	b.t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user, ok := strings.CutPrefix(r.URL.Path, "/test-login/"); ok {
			c := login(user)
			c.Path = "/"
			http.SetCookie(w, c)
			http.Redirect(w, r, r.URL.Query().Get("next"), http.StatusSeeOther)
			return
		}
		h.ServeHTTP(w, r)
	}))
	b.t.Cleanup(ts.Close)
	b.URL = ts.URL
}

// Share points b at the server other serves, so that two browsers (two
// people, each with their own cookies) use the same server.
func (b *Browser) Share(other *Browser) { b.URL = other.URL }

// As signs in as user, opens path and runs steps; a failure ends the test
// with the text of the page's main element.
func (b *Browser) As(user, path string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	all := append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(b.URL + "/test-login/" + user + "?next=" + path)}, steps...)
	if err := chromedp.Do(b.Ctx, all...); err != nil {
		b.t.Fatalf("as %s on %s: %v\npage: %.1500s", user, path, err, b.main())
	}
}

// Do runs steps on the current page, failing as As does.
func (b *Browser) Do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.Ctx, steps...); err != nil {
		b.t.Fatalf("%v\npage: %.1500s", err, b.main())
	}
}

// Text returns the text of the first element matching sel.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Text(sel))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return v
}

func (b *Browser) main() string {
	body, _ := chromedp.Run(b.Ctx, chromedp.Text("#main"))
	return body
}

// Shot saves a full-page PNG screenshot as name in the folder named by
// $DFSLAB_SCREENSHOTS; without it, it does nothing.
func (b *Browser) Shot(name string) {
	b.t.Helper()
	dir := os.Getenv("DFSLAB_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(100)) // quality 100 gives PNG, below JPEG
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// axeSource is axe-core's script, read once per process from the file
// $DFSLAB_AXE names (npm's axe-core package, axe.min.js; .ci/run fetches
// it). It is not in the repository: the project ships no third-party code.
func axeSource(t testing.TB) string {
	t.Helper()
	path := os.Getenv("DFSLAB_AXE")
	if path == "" {
		testenv.Missing(t, "axe-core (npm pack axe-core, then set DFSLAB_AXE to its axe.min.js)")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("axe-core: %v", err)
	}
	return string(b)
}

// Axe runs axe-core's WCAG 2 A and AA rules on the current page and
// returns its serious and critical violations, each as "rule: selectors"
// (empty: none).
func (b *Browser) Axe() []string {
	b.t.Helper()
	src := axeSource(b.t)
	// DevTools evaluation is not subject to the page's CSP, so the script
	// runs although the platform allows no inline or foreign script.
	if _, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](src+";\ntrue")); err != nil {
		b.t.Fatalf("injecting axe-core: %v", err)
	}
	out, err := chromedp.Run(b.Ctx, chromedp.Evaluate[[]string](`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
		.then(r => r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
			.map(v => v.id + " (" + v.impact + "): " + v.nodes.slice(0, 4).map(n => n.target.join(" ")).join(", ")))`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("running axe-core: %v", err)
	}
	return out
}

// Overflow returns the elements that stick out of the viewport on the
// right, when the page is wider than the window ("" when it is not).
func (b *Browser) Overflow() string {
	b.t.Helper()
	out, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`(() => {
		const se = document.scrollingElement, w = window.innerWidth;
		if (se.scrollWidth <= w) return "";
		const wide = [];
		for (const el of document.querySelectorAll("body *")) {
			const r = el.getBoundingClientRect();
			if (r.right > w + 1 && r.width > 0) {
				let inScroller = false;
				for (let p = el.parentElement; p; p = p.parentElement) {
					const o = getComputedStyle(p).overflowX;
					if (o === "auto" || o === "scroll" || o === "hidden") { inScroller = true; break; }
				}
				if (!inScroller) wide.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" ? "." + el.className.split(" ").join(".") : "") + " right=" + Math.round(r.right));
			}
		}
		return "scrollWidth " + se.scrollWidth + " > " + w + ": " + wide.slice(0, 6).join("; ");
	})()`))
	if err != nil {
		b.t.Fatalf("measuring the page: %v", err)
	}
	return out
}

// Viewport sets the window's size in CSS pixels for the pages that
// follow. An override set on the browser's first, blank tab stalls the
// next navigation, so a page of the server (Serve) is opened first.
func (b *Browser) Viewport(width, height int64) {
	b.t.Helper()
	if b.URL != "" {
		b.Do(chromedp.Navigate(b.URL + "/healthz"))
	}
	if _, err := chromedp.Call(b.Ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: width, Height: height, DeviceScaleFactor: 1}); err != nil {
		b.t.Fatalf("viewport %d×%d: %v", width, height, err)
	}
}
