package e2e

import (
	"flag"
	"fmt"
	"github.com/dfslab/dfslab/internal/browsertest"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

var updateDocs = flag.Bool("update-docs", false, "write screenshots to docs/screenshots instead of e2e/testdata")

// The page creates a discoverable credential and then signs in with it,
// username-less. It proves that the browser, its flags and the virtual
// authenticator work on this machine before the platform's own flows rely
// on them.
const harnessPage = `<!doctype html><title>harness</title><p id=out>pending</p><script src="/h.js"></script>`

const harnessJS = `
(async () => {
  const out = document.getElementById('out');
  try {
    const rnd = n => crypto.getRandomValues(new Uint8Array(n));
    const cred = await navigator.credentials.create({publicKey: {
      challenge: rnd(32), rp: {name: 'dfslab test', id: 'localhost'},
      user: {id: rnd(16), name: 'a@example.org', displayName: 'A'},
      pubKeyCredParams: [{type: 'public-key', alg: -7}],
      authenticatorSelection: {residentKey: 'required', userVerification: 'required'}}});
    const got = await navigator.credentials.get({publicKey: {challenge: rnd(32), rpId: 'localhost', userVerification: 'required'}});
    out.textContent = (got.id === cred.id) ? 'ok' : 'mismatch';
  } catch (e) { out.textContent = 'error: ' + e.name + ': ' + e.message; }
})();`

func TestVirtualAuthenticatorHarness(t *testing.T) {
	ctx := browsertest.New(t).Ctx
	addVirtualAuthenticator(t, ctx)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, harnessPage) })
	mux.HandleFunc("GET /h.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, harnessJS)
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	// WebAuthn refuses IP addresses as RP IDs; localhost is a secure context.
	url := "http://localhost:" + strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:") + "/"

	err = chromedp.Do(ctx,
		chromedp.Navigate(url),
		chromedp.Poll[chromedp.Void](`document.getElementById('out').textContent !== 'pending'`),
	)
	if err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text("#out"))
	if err != nil {
		t.Fatal(err)
	}
	if text != "ok" {
		t.Fatalf("virtual authenticator round trip: %s", text)
	}
}
