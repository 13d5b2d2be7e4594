// Package e2e drives the platform in headless Chromium (chromedp) with the
// DevTools virtual authenticator standing in for a passkey.
package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/dfslab/dfslab/internal/pdf"
	"github.com/dfslab/dfslab/internal/testenv"
)

// chromiumPath finds the browser as the platform does (pdf.ChromiumPath:
// DFSLAB_CHROMIUM, set by .ci/run, else Chromium on the PATH). Missing
// means skip, or fail under CI.
func chromiumPath(t *testing.T) string {
	t.Helper()
	p := pdf.ChromiumPath()
	if p == "" {
		testenv.Missing(t, "Chromium is not installed (apt-get install chromium, or set DFSLAB_CHROMIUM)")
	}
	return p
}

// newBrowser starts a headless Chromium for one test, with the flags that
// keep it off the network (the machine has none) and a fresh profile.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
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
	tctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancelTimeout)
	return tctx
}

// addVirtualAuthenticator gives the page a platform authenticator that
// holds discoverable credentials and verifies the user without prompting.
func addVirtualAuthenticator(t *testing.T, ctx context.Context) webauthn.AuthenticatorID {
	t.Helper()
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("enabling WebAuthn domain: %v", err)
	}
	res, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol:                    webauthn.AuthenticatorProtocolCtap2,
			Ctap2version:                webauthn.Ctap2versionCtap21,
			Transport:                   webauthn.AuthenticatorTransportInternal,
			HasResidentKey:              true,
			HasUserVerification:         true,
			IsUserVerified:              true,
			AutomaticPresenceSimulation: true,
		},
	})
	if err != nil {
		t.Fatalf("adding virtual authenticator: %v", err)
	}
	return res.AuthenticatorID
}

// maxShotHeight caps a screenshot's height in CSS pixels: a long list (the
// catalogue has over a hundred entries) would otherwise make a picture of
// many megabytes that shows nothing more than its first screens.
const maxShotHeight = 2000

// screenshot saves a PNG of the page from its top, as tall as the page up
// to maxShotHeight, under e2e/testdata/screenshots (or docs/screenshots
// with `go test ./e2e -update-docs`).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	screenshotUpTo(t, ctx, name, maxShotHeight)
}

// screenshotUpTo is screenshot with another height cap.
func screenshotUpTo(t *testing.T, ctx context.Context, name string, maxHeight float64) {
	t.Helper()
	height, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.documentElement.scrollHeight`))
	if err != nil {
		t.Fatalf("screenshot %s: page height: %v", name, err)
	}
	width, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.documentElement.clientWidth`))
	if err != nil {
		t.Fatalf("screenshot %s: page width: %v", name, err)
	}
	res, err := chromedp.Call(ctx, cdppage.CaptureScreenshot, cdppage.CaptureScreenshotParams{
		Format:                cdppage.CaptureScreenshotFormatPng,
		CaptureBeyondViewport: new(true),
		FromSurface:           new(true),
		Clip:                  &cdppage.Viewport{X: 0, Y: 0, Width: width, Height: min(height, maxHeight), Scale: 1},
	})
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join("testdata", "screenshots")
	if *updateDocs {
		dir = filepath.Join("..", "docs", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), res.Data, 0o644); err != nil {
		t.Fatal(err)
	}
}
