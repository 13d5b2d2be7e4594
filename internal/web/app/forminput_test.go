package app

import (
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/web"
)

// TestEveryRouteRefusesControlCharacters sends every route of the fully
// wired server, as a caller it admits, a form field and a query parameter
// holding a control character: the shell answers 400 naming the field
// before any handler runs (security issue 9, finding 7: a token name with
// a control character answered 500). Multipart bodies are the handlers'
// to check and are not sent here.
func TestEveryRouteRefusesControlCharacters(t *testing.T) {
	w := newWorld(t)
	n := 0
	for _, rt := range w.app.Server.Routes() {
		if rt.Static {
			continue // assets, probes and metrics read no input
		}
		method, _ := w.request(rt.Pattern, true)
		var cookie *http.Cookie
		var bearer string
		switch rt.Policy.Access {
		case web.AccessToken:
			bearer = w.tokens["write"]
		case web.AccessPlatformAdmin:
			cookie = w.session("padmin")
		case web.AccessPublic:
		default:
			cookie = w.session("admin-a")
		}
		for _, in := range []struct{ query, body, field string }{
			{query: "?name=ci%01token", field: "name"},
			{query: "?q=ok", body: "name=ci%00token&scope=read", field: "name"},
			{body: "back=%2F&title=caf%E9", field: "title"},
		} {
			if in.body != "" && method == http.MethodGet {
				continue
			}
			_, target := w.request(rt.Pattern, true)
			rec := w.do(method, target+in.query, in.body, cookie, bearer)
			n++
			body := html.UnescapeString(rec.Body.String())
			named := strings.Contains(body, `"`+in.field+`"`) || strings.Contains(body, `\"`+in.field+`\"`) // page or JSON
			if rec.Code != http.StatusBadRequest || !named {
				t.Errorf("%s %s (body %q): %d, want 400 naming %q\n%.300s", method, target+in.query, in.body, rec.Code, in.field, body)
			}
		}
	}
	t.Logf("%d requests over %d routes", n, len(w.app.Server.Routes()))
}
