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

// browserResolve reads p as a browser reads an href or a Location header
// on https://lab.example/ (the WHATWG URL parser's preprocessing): leading
// and trailing C0 controls and spaces are trimmed, tabs and newlines
// removed, and "\" taken as "/" in an http(s) URL. It is written apart
// from LocalPath so that the fuzz target checks one against the other.
func browserResolve(p string) (*url.URL, error) {
	p = strings.TrimFunc(p, func(r rune) bool { return r <= 0x20 })
	p = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(p)
	p = strings.ReplaceAll(p, "\\", "/")
	base, _ := url.Parse("https://lab.example/")
	return base.Parse(p)
}

// FuzzLocalPath: whatever LocalPath accepts, a browser resolves to this
// site (independent oracle: browserResolve), so no "back", "next" or link
// taken from input can send a person elsewhere (issue 15, bug 3).
func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/orgs/1", "//evil.example", "/\\evil.example", "/\t/evil.example", "/\n/evil.example",
		" //evil.example", "/%2F%2Fevil", "https://evil.example", "/ok?next=//evil", "/\x00/evil", "/a/../..//evil", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if !LocalPath(p) {
			return
		}
		u, err := browserResolve(p)
		if err != nil {
			t.Fatalf("LocalPath(%q) but a browser cannot parse it: %v", p, err)
		}
		if u.Host != "lab.example" || u.Scheme != "https" {
			t.Fatalf("LocalPath(%q) but a browser goes to %s", p, u)
		}
	})
}

func TestLocalPath(t *testing.T) {
	for p, want := range map[string]bool{
		"/orgs/1/members": true, "/": true, "/a?b=c#d": true,
		"": false, "orgs": false, "//evil.example": false, "/\\evil.example": false, "/\t/evil.example": false,
		"/\n/evil.example": false, "https://evil.example/": false, "javascript:alert(1)": false, "/\x7f": false,
	} {
		if got := LocalPath(p); got != want {
			t.Errorf("LocalPath(%q) = %v, want %v", p, got, want)
		}
	}
	// refererPath used to return "/\t/evil.example", which browsers read
	// as //evil.example.
	r := httptest.NewRequest("POST", "/x", strings.NewReader(url.Values{"back": {"/\t/evil.example"}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if got := refererPath(r); got != "/" {
		t.Errorf("refererPath with back=/\\t/evil.example = %q", got)
	}
}
