// Package e2e drives the platform in headless Chromium (chromedp) with the
// DevTools virtual authenticator standing in for a passkey.
package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

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
