package authn

import (
	"bytes"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/boombuler/barcode/qr"
)

func TestRelyingParty(t *testing.T) {
	tests := []struct {
		base, rpID, origin string
		wantErr            bool
	}{
		{"https://dfslab.example.org", "dfslab.example.org", "https://dfslab.example.org", false},
		{"https://DFSLab.Example.org:8443/some/path", "dfslab.example.org", "https://dfslab.example.org:8443", false},
		{"http://localhost:8080", "localhost", "http://localhost:8080", false},
		{"http://127.0.0.1:8080", "127.0.0.1", "http://127.0.0.1:8080", false},
		{"http://dfslab.example.org", "", "", true}, // passkeys need https off loopback
		{"https://192.0.2.10", "", "", true},        // and a domain name
		{"ftp://dfslab.example.org", "", "", true},
		{"https://", "", "", true},
		{"::not a url", "", "", true},
	}
	for _, tt := range tests {
		rpID, origin, err := relyingParty(tt.base)
		if (err != nil) != tt.wantErr || rpID != tt.rpID || origin != tt.origin {
			t.Errorf("relyingParty(%q) = %q, %q, %v; want %q, %q, err=%v", tt.base, rpID, origin, err, tt.rpID, tt.origin, tt.wantErr)
		}
	}
}

// TestQRSVG redraws the SVG's rects into a bitmap and compares it module by
// module with the QR code itself.
func TestQRSVG(t *testing.T) {
	text := TOTPURL("DFS Security Lab", "first@example.org", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
	svg, err := QRSVG(text)
	if err != nil {
		t.Fatal(err)
	}
	s := string(svg)
	if !strings.HasPrefix(s, "<svg ") || !strings.HasSuffix(s, "</svg>") || strings.Contains(s, "<script") {
		t.Fatalf("not a plain inline svg: %.80s", s)
	}
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		t.Fatal(err)
	}
	n := code.Bounds().Dx()
	got := make([][]bool, n)
	for i := range got {
		got[i] = make([]bool, n)
	}
	re := regexp.MustCompile(`<rect x="(\d+)" y="(\d+)" width="(\d+)" height="1"/>`)
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		x, _ := strconv.Atoi(m[1])
		y, _ := strconv.Atoi(m[2])
		w, _ := strconv.Atoi(m[3])
		for i := range w {
			got[y-4][x-4+i] = true // 4 modules of quiet zone
		}
	}
	for y := range n {
		for x := range n {
			if want := isDark(code.At(x, y)); got[y][x] != want {
				t.Fatalf("module (%d,%d) = %v, want %v", x, y, got[y][x], want)
			}
		}
	}
}

func TestTOTPURL(t *testing.T) {
	u, err := url.Parse(TOTPURL("DFS Lab", "a+b@example.org", "ABC"))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/DFS Lab:a+b@example.org" ||
		q.Get("secret") != "ABC" || q.Get("issuer") != "DFS Lab" || q.Get("digits") != "6" || q.Get("period") != "30" {
		t.Errorf("otpauth URL = %s", u)
	}
}

func TestMemoryCeremonies(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	clock := func() time.Time { return now }
	s := NewMemoryCeremonies(2, clock)
	ctx := t.Context()
	put := func(k string, ttl time.Duration) {
		if err := s.Put(ctx, k, Ceremony{Kind: kindSignIn, Expires: now.Add(ttl)}); err != nil {
			t.Fatal(err)
		}
	}
	put("a", time.Minute)
	if _, err := s.Take(ctx, "a"); err != nil {
		t.Fatalf("take: %v", err)
	}
	if _, err := s.Take(ctx, "a"); err != ErrNotFound {
		t.Fatalf("second take = %v, want ErrNotFound (single use)", err)
	}
	put("b", time.Minute)
	now = now.Add(2 * time.Minute)
	if _, err := s.Take(ctx, "b"); err != ErrNotFound {
		t.Fatalf("expired take = %v, want ErrNotFound", err)
	}
	// Bounded: a third entry evicts the one closest to expiry.
	put("c", time.Minute)
	put("d", 3*time.Minute)
	put("e", 2*time.Minute)
	if _, err := s.Take(ctx, "c"); err != ErrNotFound {
		t.Error("the entry closest to expiry was not evicted")
	}
	for _, k := range []string{"d", "e"} {
		if _, err := s.Take(ctx, k); err != nil {
			t.Errorf("take %s: %v", k, err)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"":                     "/fb",
		"/account":             "/account",
		"/orgs/3?tab=members":  "/orgs/3?tab=members",
		"//evil.test/x":        "/fb",
		"/\\evil.test":         "/fb",
		"https://evil.test/":   "/fb",
		"javascript:alert(1)":  "/fb",
		"/ok\r\nSet-Cookie: x": "/fb",
	} {
		if got := safeNext(in, "/fb"); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRecoveryCodes_Format(t *testing.T) {
	codes, hashes := NewRecoveryCodes(7)
	if len(codes) != RecoveryCodeCount || len(hashes) != RecoveryCodeCount {
		t.Fatalf("%d codes, %d hashes", len(codes), len(hashes))
	}
	seen := map[string]bool{}
	for i, c := range codes {
		if !regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$`).MatchString(c) {
			t.Errorf("code %q has the wrong form", c)
		}
		if seen[c] {
			t.Errorf("duplicate code %q", c)
		}
		seen[c] = true
		if !bytes.Equal(HashRecoveryCode(7, strings.ToUpper(strings.ReplaceAll(c, "-", " "))), hashes[i]) {
			t.Errorf("code %q typed loosely does not match its hash", c)
		}
		if bytes.Equal(HashRecoveryCode(8, c), hashes[i]) {
			t.Errorf("code %q hashes the same for another user", c)
		}
	}
	if NormaliseRecoveryCode("O1l-Io 0") != "011100" {
		t.Errorf("look-alikes not folded: %q", NormaliseRecoveryCode("O1l-Io 0"))
	}
}

// FuzzSafeNext: whatever the input, the redirect target stays on this site.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "//x", "/\\x", "http://x", "/a\nb", "/%2F%2Fx", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := safeNext(s, "/")
		u, err := url.Parse(got)
		if err != nil || u.Host != "" || u.Scheme != "" || !strings.HasPrefix(got, "/") ||
			strings.HasPrefix(got, "//") || strings.HasPrefix(got, "/\\") || strings.ContainsAny(got, "\r\n") {
			t.Fatalf("safeNext(%q) = %q leaves the site", s, got)
		}
	})
}

// FuzzSignInFinish sends arbitrary bodies to a pending sign-in: nothing
// may sign in, crash or answer 5xx.
func FuzzSignInFinish(f *testing.F) {
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"","signature":"","userHandle":"AA"}}`))
	f.Add([]byte(`{"id":`))
	f.Add(bytes.Repeat([]byte("["), 1000))
	h := newHarness(f, &memBackend{newMemStore(time.Now)}, &fakeClock{t: time.Now()})
	c := h.newClient()
	f.Fuzz(func(t *testing.T, body []byte) {
		c.t = t
		c.beginSignIn()
		st, _ := c.postJSON("/signin/finish", body)
		if st == http.StatusOK || st >= 500 {
			t.Fatalf("body %q: status %d", body, st)
		}
	})
}
