package app

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/web"
)

// logSink captures the server's log lines.
type logSink struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *logSink) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *logSink) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestLinkTokensStayOutOfLogsAuditAndMetrics(t *testing.T) {
	ctx := context.Background()
	var logs logSink
	d := dbtest.SQLite(t)
	a, err := New(ctx, d, Config{BaseURL: testBaseURL, MetricsPublic: true,
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := a.Identity.EnrolLink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const unknown = "UnknownRecoveryToken0123456789abcdef"
	send := func(method, target, body string, hdr map[string]string) int {
		r := httptest.NewRequest(method, target, strings.NewReader(body))
		r.RemoteAddr = "203.0.113.5:4000"
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		a.Server.ServeHTTP(rec, r)
		return rec.Code
	}
	if got := send("GET", "/enrol/"+tok, "", nil); got != http.StatusOK {
		t.Fatalf("enrolment page: %d", got)
	}
	send("POST", "/enrol/"+tok+"/begin", `{"display_name":"x"}`, map[string]string{"Content-Type": "application/json"})
	send("POST", "/enrol/"+tok+"/finish", "{}", map[string]string{"Content-Type": "application/json"})
	send("GET", "/enrol/"+tok+"/elsewhere", "", nil)
	send("DELETE", "/enrol/"+tok, "", nil)
	if got := send("POST", "/enrol/"+tok+"/finish", "{}", map[string]string{"Sec-Fetch-Site": "cross-site"}); got != http.StatusForbidden {
		t.Errorf("cross-site post: %d, want 403", got)
	}
	// Unknown recovery links until the address is throttled (a 429 is
	// audited with its path).
	throttled := false
	for range 12 {
		if send("GET", "/recover/"+unknown, "", nil) == http.StatusTooManyRequests {
			throttled = true
			break
		}
	}
	if !throttled {
		t.Error("guessing recovery links was never throttled")
	}
	r := httptest.NewRequest("GET", "/metrics", nil)
	r.RemoteAddr = "127.0.0.1:4000"
	mrec := httptest.NewRecorder()
	a.Server.ServeHTTP(mrec, r)
	metrics := mrec.Body.String()
	entries, err := audit.List(ctx, d, audit.Filter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	auditText := fmt.Sprintf("%+v", entries)
	if !strings.Contains(auditText, "web.csrf_refused") || !strings.Contains(auditText, "web.rate_limited") {
		t.Fatalf("refusals not audited: %s", auditText)
	}
	if !strings.Contains(logs.String(), "/enrol/{token}") || !strings.Contains(logs.String(), "/recover/{token}") {
		t.Fatalf("access log lacks the redacted paths:\n%s", logs.String())
	}
	for what, text := range map[string]string{"log": logs.String(), "audit": auditText, "metrics": metrics} {
		for _, secret := range []string{tok, unknown} {
			if strings.Contains(text, secret) {
				t.Errorf("%s contains a link token:\n%s", what, text)
			}
		}
	}
}

func TestAPITokenRefusalsThroughServer(t *testing.T) { eachDB(t, testAPITokenRefusalsThroughServer) }

func testAPITokenRefusalsThroughServer(t *testing.T, w *world) {
	ctx := context.Background()
	const addr = "203.0.113.77:5000"
	call := func(remote, tok string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/api/v1/me", nil)
		r.RemoteAddr = remote
		r.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		w.app.Server.ServeHTTP(rec, r)
		return rec
	}
	// Wrong tokens shaped like real ones: 401 until the address has used
	// its free attempts (5), then 429 before any lookup.
	var codes []int
	for i := range 8 {
		codes = append(codes, call(addr, fmt.Sprintf("dfs_GUESS%03d_thisisthesecretpartofthetoken%03d", i, i)).Code)
	}
	want := []int{401, 401, 401, 401, 401, 401, 429, 429}
	if fmt.Sprint(codes) != fmt.Sprint(want) {
		t.Fatalf("guesses answered %v, want %v", codes, want)
	}
	// A valid token from another address is not slowed down; nor is the
	// guessing address once its back-off has passed.
	if got := call("203.0.113.78:5000", w.tokens["read"]).Code; got != http.StatusOK {
		t.Fatalf("valid token from another address: %d", got)
	}
	w.clock.Advance(2 * time.Minute)
	if got := call(addr, w.tokens["read"]).Code; got != http.StatusOK {
		t.Fatalf("valid token after the back-off: %d", got)
	}
	es, err := audit.List(ctx, w.app.DB, audit.Filter{Action: "api.token_refused", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) == 0 || len(es) > 6 {
		t.Fatalf("%d api.token_refused entries for 6 wrong tokens (the shell audits a few per address): %+v", len(es), es)
	}
	for _, e := range es {
		if e.IP != "203.0.113.77" || !strings.HasPrefix(fmt.Sprint(e.Details["prefix"]), "GUESS") || e.Details["reason"] != "invalid" {
			t.Errorf("refusal audited as %+v", e)
		}
		if s := fmt.Sprintf("%+v", e); strings.Contains(s, "thisisthesecret") {
			t.Errorf("audit entry holds the token's secret: %s", s)
		}
	}
}

// totpNow is the RFC 6238 code of secret at now (what an authenticator app shows).
func totpNow(secret []byte, now time.Time) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(now.Unix()/30))
	m := hmac.New(sha1.New, secret)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	return fmt.Sprintf("%06d", (binary.BigEndian.Uint32(sum[off:off+4])&0x7fffffff)%1_000_000)
}

func TestTOTPRequirementOnEveryPage(t *testing.T) { eachDB(t, testTOTPRequirementOnEveryPage) }

func testTOTPRequirementOnEveryPage(t *testing.T, w *world) {
	ctx := context.Background()
	viewer := w.cookie("viewer-a")
	// The viewer signed in before the requirement was switched on.
	if got := w.do("GET", orgURL(w.orgA, ""), "", viewer, "").Code; got != http.StatusOK {
		t.Fatalf("before the requirement: %d", got)
	}
	if got := w.do("POST", orgURL(w.orgA, "/settings"), "require_totp=on", w.cookie("admin-a"), "").Code; got != http.StatusSeeOther {
		t.Fatalf("switch the requirement on: %d", got)
	}
	for _, c := range []struct {
		method, target string
		redirected     bool
	}{
		{"GET", "/", true},
		{"GET", orgURL(w.orgA, ""), true},
		{"GET", orgURL(w.orgA, "/members"), true},
		{"GET", "/account", true},
		{"GET", "/account/tokens", true},
		{"POST", "/account/tokens", true},
		{"GET", "/catalogue", true},
		{"GET", "/no/such/page", true},
		{"GET", web.TOTPSetupPath, false},
		{"GET", web.StepUpPath, false},
		{"GET", "/static/css/app.css", false},
		{"GET", "/healthz", false},
	} {
		rec := w.do(c.method, c.target, "", viewer, "")
		got := rec.Code == http.StatusSeeOther && rec.Header().Get("Location") == web.TOTPSetupPath
		if got != c.redirected {
			t.Errorf("%s %s: %d to %q; redirected to set-up = %v, want %v", c.method, c.target, rec.Code, rec.Header().Get("Location"), got, c.redirected)
		}
	}
	// Members of other organisations, platform administrators and API
	// tokens are not affected.
	if got := w.do("GET", orgURL(w.orgB, ""), "", w.cookie("viewer-b"), "").Code; got != http.StatusOK {
		t.Errorf("member of another organisation: %d", got)
	}
	if got := w.do("GET", "/api/v1/me", "", nil, w.tokens["read"]).Code; got != http.StatusOK {
		t.Errorf("API token of a member without TOTP: %d", got)
	}
	// Once TOTP is on, the pages open again; sign-out works throughout.
	secret, err := w.app.Identity.StartTOTP(ctx, w.users["viewer-a"])
	if err != nil {
		t.Fatal(err)
	}
	if err := w.app.Identity.ConfirmTOTP(ctx, w.users["viewer-a"], totpNow(secret, w.clock.Now())); err != nil {
		t.Fatal(err)
	}
	if got := w.do("GET", orgURL(w.orgA, ""), "", viewer, "").Code; got != http.StatusOK {
		t.Errorf("after setting up TOTP: %d", got)
	}
	other := w.cookie("analyst-a")
	rec := w.do("POST", "/signout", "", other, "")
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") == web.TOTPSetupPath {
		t.Errorf("sign-out of a member without TOTP: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	if rec := w.do("GET", "/account", "", other, ""); !strings.HasPrefix(rec.Header().Get("Location"), web.SignInPath) {
		t.Errorf("after sign-out: %d to %q, want the sign-in page", rec.Code, rec.Header().Get("Location"))
	}
}

func TestSecretKeyEncryptsTOTPSecrets(t *testing.T) {
	ctx := context.Background()
	d := dbtest.SQLite(t)
	key := bytes.Repeat([]byte{7}, 32)
	a, err := New(ctx, d, Config{BaseURL: testBaseURL, SecretKey: key})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := a.Identity.EnrolLink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u, err := a.Identity.RedeemEnrolment(ctx, tok, identity.Enrolment{DisplayName: "root", Email: "root@example.org",
		Passkey: identity.Passkey{CredentialID: []byte("credential-0123456789"), PublicKey: []byte{0xa5}, Name: "key"}})
	if err != nil {
		t.Fatal(err)
	}
	secret, err := a.Identity.StartTOTP(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The configured key opens the stored secret; the database's own key
	// (what a store without Options.SecretKey uses) does not.
	if got, err := identity.NewStore(d, identity.Options{SecretKey: key}).PendingTOTPSecret(ctx, u.ID); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("with the configured key: %x, %v", got, err)
	}
	if got, err := identity.NewStore(d, identity.Options{}).PendingTOTPSecret(ctx, u.ID); err == nil {
		t.Fatalf("the secret opened without the configured key: %x", got)
	}
}

// inlineCode finds what the Content-Security-Policy (script-src 'self';
// style-src 'self') would block: script elements without src, style
// elements and attributes, event handler attributes, javascript: URLs.
var (
	htmlTag    = regexp.MustCompile(`(?is)<[a-z][a-z0-9-]*(?:\s[^>]*)?>`)
	inlineAttr = regexp.MustCompile(`(?is)\s(?:on[a-z]+|style)\s*=|=\s*["']?\s*javascript:`)
)

func inlineCode(body string) []string {
	var out []string
	for _, tag := range htmlTag.FindAllString(body, -1) {
		lower := strings.ToLower(tag)
		switch {
		case strings.HasPrefix(lower, "<script") && !strings.Contains(lower, " src="):
			out = append(out, tag)
		case strings.HasPrefix(lower, "<style"):
			out = append(out, tag)
		case inlineAttr.MatchString(tag):
			out = append(out, tag)
		}
	}
	return out
}

func TestInlineCodeDetector(t *testing.T) {
	for _, c := range []struct {
		html string
		bad  bool
	}{
		{`<script src="/static/js/app.js?v=1" defer></script>`, false},
		{`<p class="on">Settings are on=off</p><a href="/x">x</a>`, false},
		{`<script>alert(1)</script>`, true},
		{`<div style="color:red">`, true},
		{`<button onclick="go()">`, true},
		{`<a href="javascript:go()">`, true},
		{`<style>p{}</style>`, true},
	} {
		if got := len(inlineCode(c.html)) > 0; got != c.bad {
			t.Errorf("%s: flagged %v, want %v", c.html, got, c.bad)
		}
	}
}

// Every page the platform renders runs under a CSP without 'unsafe-inline':
// inline script, style or handlers would silently not work. This walks
// every GET route as each kind of signed-in user.
func TestPagesHaveNoInlineScriptOrStyle(t *testing.T) {
	w := newWorld(t)
	pages := 0
	for _, rt := range w.app.Server.Routes() {
		if rt.Method() != http.MethodGet || rt.Static {
			continue
		}
		for _, who := range []string{"", "viewer-a", "admin-a", "padmin"} {
			var c *http.Cookie
			if who != "" {
				c = w.session(who)
			}
			_, target := w.request(rt.Pattern, true)
			rec := w.do(http.MethodGet, target, "", c, "")
			if !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
				continue
			}
			csp := rec.Header().Get("Content-Security-Policy")
			if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "style-src 'self'") || strings.Contains(csp, "unsafe-inline") {
				t.Errorf("%s as %q: CSP %q", target, who, csp)
			}
			pages++
			if bad := inlineCode(rec.Body.String()); len(bad) > 0 {
				t.Errorf("%s as %q (%d): inline code the CSP blocks: %q", target, who, rec.Code, bad)
			}
		}
	}
	if pages < 40 {
		t.Fatalf("only %d HTML pages checked", pages)
	}
	t.Logf("%d HTML pages checked", pages)
}
