package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

func TestLoopbackAlias(t *testing.T) {
	for _, c := range []struct {
		host, base, scheme string
		want               bool
	}{
		{"127.0.0.1:8080", "localhost:8080", "http", true},
		{"[::1]:8080", "localhost:8080", "http", true},
		{"127.0.0.2:8080", "localhost:8080", "http", true},
		{"LOCALHOST:8080", "localhost:8080", "http", false}, // the same name
		{"localhost:8080", "localhost:8080", "http", false},
		{"127.0.0.1:9090", "localhost:8080", "http", false}, // another port: another server
		{"127.0.0.1", "localhost", "https", true},           // default ports
		{"127.0.0.1:443", "localhost", "https", true},
		{"127.0.0.1:80", "localhost", "https", false},
		{"lab.example.org", "localhost:8080", "http", false},
		{"127.0.0.1:8080", "lab.example.org:8080", "http", false}, // a public base URL is not a loopback name
		{"", "localhost:8080", "http", false},
	} {
		if got := loopbackAlias(c.host, c.base, c.scheme); got != c.want {
			t.Errorf("loopbackAlias(%q, %q, %q) = %v, want %v", c.host, c.base, c.scheme, got, c.want)
		}
	}
}

// TestCanonicalHost: a page opened at 127.0.0.1 while the base URL says
// localhost is sent to localhost, where passkeys work (issue 14, bug 4).
func TestCanonicalHost(t *testing.T) {
	base, _ := url.Parse("http://localhost:8080")
	h := newHarness(t, Config{BaseURL: base}, Route{Pattern: "GET /page", Policy: Public(), Handler: http.HandlerFunc(ok)},
		Route{Pattern: "POST /form", Policy: Public(), Handler: http.HandlerFunc(ok)})
	req := func(method, host, target string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "http://"+host+target, nil)
		r.RemoteAddr = "127.0.0.1:4000"
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, r)
		return rec
	}
	rec := req("GET", "127.0.0.1:8080", "/page?x=1")
	if rec.Code != http.StatusTemporaryRedirect || rec.Header().Get("Location") != "http://localhost:8080/page?x=1" {
		t.Fatalf("GET at 127.0.0.1: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if rec := req("POST", "127.0.0.1:8080", "/form"); rec.Code != http.StatusMisdirectedRequest {
		t.Fatalf("POST at 127.0.0.1: %d", rec.Code)
	}
	if rec := req("GET", "127.0.0.1:8080", "/healthz"); rec.Code != http.StatusOK {
		t.Fatalf("health check at 127.0.0.1: %d", rec.Code)
	}
	if rec := req("GET", "localhost:8080", "/page"); rec.Code != http.StatusOK {
		t.Fatalf("GET at the base host: %d", rec.Code)
	}
}
