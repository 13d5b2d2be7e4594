package pdf_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/pdf"
	"github.com/dfslab/dfslab/internal/testenv"
)

func chromium(t *testing.T) string {
	t.Helper()
	p := pdf.ChromiumPath()
	if p == "" {
		testenv.Missing(t, "headless Chromium (apt-get install chromium, or set DFSLAB_CHROMIUM)")
	}
	return p
}

func TestChromiumPrintsTheDocument(t *testing.T) {
	render := pdf.Chromium(chromium(t))
	// Enough text for two A4 pages: the PDF must hold the whole document.
	doc := "<!doctype html><html><head><style>p{font:12pt serif}</style></head><body><h1>Baseline MW 2026-1</h1>" +
		strings.Repeat("<p>Operators block SS7 messages that come from outside their network.</p>", 120) + "</body></html>"
	out, err := render(context.Background(), []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %.20q", out)
	}
	// Every page object is a "/Type /Page" dictionary; the page tree is
	// "/Type /Pages". The document is long enough for at least two pages.
	if n := bytes.Count(out, []byte("/Type /Page")) - bytes.Count(out, []byte("/Type /Pages")); n < 2 {
		t.Errorf("%d pages, want at least 2", n)
	}
}

func TestChromiumHonoursCancellation(t *testing.T) {
	render := pdf.Chromium(chromium(t))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if out, err := render(ctx, []byte("<p>x</p>")); err == nil {
		t.Fatalf("cancelled context printed %d bytes", len(out))
	}
}

func TestMissingBrowserIsAnError(t *testing.T) {
	render := pdf.Chromium("/nonexistent/chromium")
	if _, err := render(context.Background(), []byte("<p>x</p>")); err == nil || !strings.Contains(err.Error(), "pdf:") {
		t.Fatalf("error %v, want a pdf: error", err)
	}
}
