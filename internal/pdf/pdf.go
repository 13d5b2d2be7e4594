// Package pdf prints the platform's self-contained HTML documents (a
// national baseline, an app audit report) to PDF with headless Chromium.
//
// Each document gets a browser process of its own with a fresh profile:
// exports are rare, and nothing of one document can leak into the next.
package pdf

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Renderer turns a self-contained HTML document into PDF. The modules
// take one and offer no PDF export when it is nil.
type Renderer func(ctx context.Context, html []byte) ([]byte, error)

// Timeout bounds one document, browser start included.
const Timeout = 60 * time.Second

// ChromiumPath finds headless Chromium: $DFSLAB_CHROMIUM, else chromium,
// chromium-browser, google-chrome or google-chrome-stable on PATH; "" when
// there is none.
func ChromiumPath() string {
	if p := os.Getenv("DFSLAB_CHROMIUM"); p != "" {
		return p
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// Chromium returns a Renderer that prints with the headless Chromium at
// path, on A4 with backgrounds.
func Chromium(path string) Renderer {
	return func(ctx context.Context, html []byte) ([]byte, error) {
		ctx, cancel := context.WithTimeout(ctx, Timeout)
		defer cancel()
		dir, err := os.MkdirTemp("", "dfslab-pdf-")
		if err != nil {
			return nil, fmt.Errorf("pdf: profile folder: %w", err)
		}
		defer os.RemoveAll(dir)
		opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(dir))
		actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
		defer acancel()
		bctx, bcancel := chromedp.NewContext(actx)
		defer bcancel()
		if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
			return nil, fmt.Errorf("pdf: start Chromium: %w", err)
		}
		tree, err := chromedp.Call(bctx, page.GetFrameTree, cdp.Empty{})
		if err != nil {
			return nil, fmt.Errorf("pdf: frame tree: %w", err)
		}
		if _, err := chromedp.Call(bctx, page.SetDocumentContent, page.SetDocumentContentParams{FrameID: tree.FrameTree.Frame.ID, HTML: string(html)}); err != nil {
			return nil, fmt.Errorf("pdf: load document: %w", err)
		}
		out, err := chromedp.Run(bctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4), chromedp.PDFPrintBackground()))
		if err != nil {
			return nil, fmt.Errorf("pdf: print: %w", err)
		}
		return out, nil
	}
}
