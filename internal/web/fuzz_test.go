package web

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzReturnPath checks that the path a step-up returns to, taken from
// the form and the Referer, is always a path on this site: never another
// host ("//evil", "/\evil", "https://evil").
func FuzzReturnPath(f *testing.F) {
	for _, s := range []string{"/orgs/1/members", "//evil.example/x", "/\\evil.example", "https://evil.example/", "", "/",
		"/%2F%2Fevil", "javascript:alert(1)", "/ok?next=//evil"} {
		f.Add(s, "http://example.com"+s)
	}
	f.Fuzz(func(t *testing.T, back, referer string) {
		r := httptest.NewRequest("POST", "/x", strings.NewReader(url.Values{"back": {back}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Referer", referer)
		got := refererPath(r)
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.HasPrefix(got, "/\\") {
			t.Fatalf("back=%q referer=%q: return path %q leaves the site", back, referer, got)
		}
		u, err := url.Parse(got)
		if err == nil && u.Host != "" {
			t.Fatalf("back=%q referer=%q: return path %q names host %q", back, referer, got, u.Host)
		}
	})
}

// FuzzClientIP checks that a forged X-Forwarded-For yields either a
// parsed IP address or the connection's address, never the raw header.
func FuzzClientIP(f *testing.F) {
	for _, s := range []string{"198.51.100.1", "1.1.1.1, 2.2.2.2", "::1", "garbage", "", "1.1.1.1,", " , "} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, xff string, trust bool) {
		s := &Server{cfg: Config{TrustProxy: trust}}
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "192.0.2.7:1234"
		r.Header.Set("X-Forwarded-For", xff)
		got := s.clientIP(r)
		if got == "192.0.2.7" {
			return
		}
		if !trust {
			t.Fatalf("untrusted X-Forwarded-For %q used: %q", xff, got)
		}
		if strings.ContainsAny(got, ", \t") || len(got) > 45 {
			t.Fatalf("X-Forwarded-For %q gave %q", xff, got)
		}
	})
}

// FuzzBearer checks the Authorization parser on arbitrary headers.
func FuzzBearer(f *testing.F) {
	for _, s := range []string{"Bearer dfs_abc", "bearer x", "Basic abc", "Bearer ", "Bearer  spaced ", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		r := httptest.NewRequest("GET", "/api/v1/me", nil)
		r.Header.Set("Authorization", h)
		tok, ok := bearer(r)
		if ok && (tok == "" || len(tok) > 512 || strings.TrimSpace(tok) != tok) {
			t.Fatalf("header %q: token %q accepted", h, tok)
		}
	})
}
