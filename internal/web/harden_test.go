package web

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestSecretPathsNeverLogged(t *testing.T) {
	const secret = "Zq7SECRETlinkTOKEN4kX9"
	var logs syncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	page := func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("token") == "fail" {
			AuthFailure(r, "")
			ServerError(w, r, "look up link", errors.New("no such link"))
			return
		}
		ok(w, r)
	}
	h := seeded(newHarness(t, Config{Logger: log, MetricsPublic: true},
		Route{Pattern: "GET /enrol/{token}", Policy: Public(), Handler: http.HandlerFunc(page), RateLimited: true, SecretPath: true},
		Route{Pattern: "POST /enrol/{token}/begin", Policy: Public(), Handler: http.HandlerFunc(ok), RateLimited: true, SecretPath: true},
		Route{Pattern: "GET /orgs/{org}/view", Policy: OrgRole(RoleViewer), Handler: http.HandlerFunc(ok)},
	))
	reqs := []struct {
		method, target string
		hdr            map[string]string
		want           int
	}{
		{"GET", "/enrol/" + secret, nil, 200},
		{"POST", "/enrol/" + secret + "/begin", nil, 200},
		{"GET", "/enrol/" + secret + "/nonsense", nil, 404}, // no route: caught by pattern
		{"PUT", "/enrol/" + secret, nil, 404},               // only the catch-all matches
		{"GET", "/enrol//" + secret, nil, 307},              // the mux cleans the path
		{"GET", "/ENROL/" + secret, nil, 404},               // case differs: still a secret
		{"POST", "/enrol/" + secret + "/begin", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
	}
	for _, rq := range reqs {
		if rec := h.do(rq.method, rq.target, "", nil, rq.hdr); rec.Code != rq.want {
			t.Errorf("%s %s: %d, want %d", rq.method, rq.target, rec.Code, rq.want)
		}
	}
	// Trip the back-off: the 429 is audited with the path.
	for range 4 {
		h.do("GET", "/enrol/fail", "", nil, nil)
	}
	if rec := h.do("GET", "/enrol/"+secret, "", nil, nil); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("after failures: %d, want 429", rec.Code)
	}
	metrics := h.do("GET", "/metrics", "", nil, nil).Body.String()

	if !strings.Contains(logs.String(), `"path":"/enrol/{token}"`) {
		t.Errorf("access log does not show the redacted path:\n%s", logs.String())
	}
	h.do("GET", "/orgs/10/view", "", nil, nil)
	if !strings.Contains(logs.String(), `"path":"/orgs/10/view"`) {
		t.Errorf("paths of other routes are redacted too:\n%s", logs.String())
	}
	h.audit.mu.Lock()
	audit := fmt.Sprintf("%+v", h.audit.events)
	n := len(h.audit.events)
	h.audit.mu.Unlock()
	if n < 2 {
		t.Fatalf("want audit entries for the refused and throttled requests, got %s", audit)
	}
	for what, text := range map[string]string{"log": logs.String(), "audit": audit, "metrics": metrics} {
		if strings.Contains(strings.ToLower(text), strings.ToLower(secret)) {
			t.Errorf("%s shows the secret:\n%s", what, text)
		}
	}
}

func TestRedactPath(t *testing.T) {
	s := &Server{}
	for _, p := range []string{"/enrol/{token}", "/recover/{token}/begin", "/files/{org}/{path...}"} {
		sp, ok := newSecretPattern(p)
		if !ok {
			t.Fatalf("%s: no wildcard found", p)
		}
		s.secrets = append(s.secrets, sp)
	}
	for _, c := range []struct{ in, want string }{
		{"/enrol/abc", "/enrol/{token}"},
		{"/enrol/abc/finish", "/enrol/{token}/finish"},
		{"/enrol/abc/", "/enrol/{token}"},
		{"/a/../enrol/abc", "/enrol/{token}"},
		{"/recover/abc", "/recover/{token}"},
		{"/recover/abc/begin", "/recover/{token}/begin"},
		{"/recover/abc/other", "/recover/{token}/other"},
		{"/files/3/a/b/c", "/files/{org}/{path...}"},
		{"/enrol", "/enrol"},
		{"/enrolment/abc", "/enrolment/abc"},
		{"/orgs/1/members", "/orgs/1/members"},
		{"/", "/"},
	} {
		if got := s.redactPath(c.in); got != c.want {
			t.Errorf("redactPath(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestTokenRefusalsAuditedAndSlowed(t *testing.T) {
	const valid = "dfs_GOODPFX1_abcdefghijklmnopqrstuvwxyz234567"
	h := seeded(newHarness(t, Config{},
		Route{Pattern: "GET /api/v1/read", Policy: Token(ScopeRead), Handler: http.HandlerFunc(ok)},
		Route{Pattern: "POST /api/v1/write", Policy: Token(ScopeWrite), Handler: http.HandlerFunc(ok)},
	))
	h.store.addToken(valid, 2, ScopeRead)
	bearerHdr := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
	fromOther := func(method, target, tok string) int {
		r := newRequest(method, target, nil)
		r.RemoteAddr = "198.51.100.7:5000"
		r.Header.Set("Authorization", "Bearer "+tok)
		return serve(h, r).Code
	}

	// A valid token beyond its scope: audited with the token's ID, and it
	// does not slow the address down.
	for range 6 {
		if got := fromOther("POST", "/api/v1/write", valid); got != http.StatusForbidden {
			t.Fatalf("read token on write route: %d, want 403", got)
		}
	}
	if got := fromOther("GET", "/api/v1/read", valid); got != http.StatusOK {
		t.Fatalf("valid token after scope refusals: %d, want 200", got)
	}
	h.audit.mu.Lock()
	first := h.audit.events[0]
	h.audit.mu.Unlock()
	if first.Action != "api.token_refused" || first.ObjectID != "1" || first.Details["reason"] != "scope" || first.ActorUserID != 2 {
		t.Errorf("scope refusal audited as %+v", first)
	}

	// Wrong tokens: each is audited with its public prefix only, and the
	// address backs off after the free attempts (3 in the harness; the
	// fourth failure sets the first delay).
	guesses := []string{
		"dfs_GUESSPF1_secretsecretsecretsecretsecret0",
		"dfs_GUESSPF2_secretsecretsecretsecretsecret1",
		"not-even-a-platform-token-but-secret",
		"dfs_GUESSPF4_secretsecretsecretsecretsecret3",
	}
	before := len(h.audit.actions())
	for _, g := range guesses {
		if got := h.do("GET", "/api/v1/read", "", nil, bearerHdr(g)).Code; got != http.StatusUnauthorized {
			t.Fatalf("guess %q: %d, want 401", g, got)
		}
	}
	h.audit.mu.Lock()
	refused := append([]AuditEvent(nil), h.audit.events[before:]...)
	h.audit.mu.Unlock()
	if len(refused) != len(guesses) {
		t.Fatalf("audited %d of %d wrong tokens: %+v", len(refused), len(guesses), refused)
	}
	for i, ev := range refused {
		if ev.Action != "api.token_refused" || ev.Details["reason"] != "invalid" || ev.IP != "192.0.2.10" {
			t.Errorf("refusal %d audited as %+v", i, ev)
		}
		if s := fmt.Sprintf("%+v", ev); strings.Contains(s, "secret") {
			t.Errorf("refusal %d records the token's secret: %s", i, s)
		}
	}
	if refused[0].Details["prefix"] != "GUESSPF1" || refused[2].Details["prefix"] != nil {
		t.Errorf("prefixes recorded: %v, %v; want GUESSPF1 and none", refused[0].Details["prefix"], refused[2].Details["prefix"])
	}
	// The fifth guess from the address waits, before any lookup; so does
	// the valid token from that address, while another address is served.
	rec := h.do("GET", "/api/v1/read", "", nil, bearerHdr("dfs_GUESSPF3_secretsecretsecretsecretsecret2"))
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("guess after the free attempts: %d (Retry-After %q), want 429", rec.Code, rec.Header().Get("Retry-After"))
	}
	if got := fromOther("GET", "/api/v1/read", valid); got != http.StatusOK {
		t.Errorf("valid token from another address: %d, want 200", got)
	}
	h.clock.Advance(h.lim.cfg.MaxDelay)
	if got := h.do("GET", "/api/v1/read", "", nil, bearerHdr(valid)).Code; got != http.StatusOK {
		t.Errorf("valid token once the back-off passed: %d, want 200", got)
	}
	// A request without a token is not a guess.
	before = len(h.audit.actions())
	if got := fromOther("GET", "/api/v1/read", ""); got != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", got)
	}
	if len(h.audit.actions()) != before {
		t.Errorf("a request without a token was audited")
	}
}

func TestTokenPrefix(t *testing.T) {
	for _, c := range []struct{ tok, want string }{
		{"dfs_ABCD2345_abcdefghijklmnopqrstuvwxyz234567", "ABCD2345"},
		{"dfs_ABCD2345_short", ""},
		{"dfs_abcdefghijklmnopqrstuvwxyz234567", ""},
		{"xyz_ABCD2345_abcdefghijklmnopqrstuvwxyz234567", ""},
		{"dfs__abcdefghijklmnopqrstuvwxyz234567", ""},
		{"dfs_AB-D2345_abcdefghijklmnopqrstuvwxyz234567", ""},
		{"", ""},
	} {
		if got := tokenPrefix(c.tok); got != c.want {
			t.Errorf("tokenPrefix(%q) = %q, want %q", c.tok, got, c.want)
		}
	}
}

func TestTOTPSetupRequiredOnEveryPage(t *testing.T) {
	routes := []Route{
		{Pattern: "GET /page", Policy: SignedIn(), Handler: http.HandlerFunc(ok)},
		{Pattern: "POST /form", Policy: SignedIn(), Handler: http.HandlerFunc(ok)},
		{Pattern: "GET /public", Policy: Public(), Handler: http.HandlerFunc(ok)},
		{Pattern: "GET /orgs/{org}/view", Policy: OrgRole(RoleViewer), Handler: http.HandlerFunc(ok)},
		{Pattern: "GET " + TOTPSetupPath, Policy: SignedIn(), Handler: http.HandlerFunc(ok), TOTPSetup: true},
		{Pattern: "POST /signout", Policy: SignedIn(), Handler: http.HandlerFunc(ok), TOTPSetup: true},
	}
	h := seeded(newHarness(t, Config{}, routes...))
	pending := viewerA
	pending.User.ID = 5
	pending.TOTPSetupRequired = true
	h.store.addUser(pending)
	cases := []struct {
		uid            int64
		method, target string
		want           int
		location       string
	}{
		{5, "GET", "/page", 303, TOTPSetupPath},
		{5, "POST", "/form", 303, TOTPSetupPath},
		{5, "GET", "/public", 303, TOTPSetupPath},
		{5, "GET", "/", 303, TOTPSetupPath},
		{5, "GET", "/nowhere", 303, TOTPSetupPath},
		{5, "GET", "/orgs/10/view", 303, TOTPSetupPath},
		{5, "GET", TOTPSetupPath, 200, ""},
		{5, "POST", "/signout", 200, ""},
		{5, "GET", "/static/css/app.css", 200, ""},
		{5, "GET", "/healthz", 200, ""},
		{3, "GET", "/page", 200, ""},
		{3, "GET", "/orgs/10/view", 200, ""},
		{0, "GET", "/page", 303, SignInPath + "?next=%2Fpage"},
		{0, "GET", "/public", 200, ""},
	}
	cookies := map[int64]*http.Cookie{3: h.signIn(3), 5: h.signIn(5)}
	for _, c := range cases {
		rec := h.do(c.method, c.target, "", cookies[c.uid], nil)
		if rec.Code != c.want || rec.Header().Get("Location") != c.location {
			t.Errorf("user %d %s %s: %d to %q, want %d to %q", c.uid, c.method, c.target, rec.Code, rec.Header().Get("Location"), c.want, c.location)
		}
		if c.want != 200 && strings.Contains(rec.Body.String(), "handler ran") {
			t.Errorf("user %d %s %s: handler ran", c.uid, c.method, c.target)
		}
	}
}

// FuzzRedactPath: whatever follows /enrol/ or /recover/ in a request path,
// the logged path never shows the segment in the token's place, and paths
// outside the secret routes are left alone.
func FuzzRedactPath(f *testing.F) {
	for _, seed := range [][2]string{
		{"/enrol/", "abc"}, {"/recover/", "tok/begin"}, {"/enrol//", "x"}, {"/ENROL/", "x"},
		{"/a/../enrol/", "tok"}, {"/orgs/", "1/members"}, {"", ""}, {"/enrol/", "%2F.."},
	} {
		f.Add(seed[0], seed[1])
	}
	s := &Server{}
	for _, p := range []string{"/enrol/{token}", "/recover/{token}"} {
		sp, _ := newSecretPattern(p)
		s.secrets = append(s.secrets, sp)
	}
	f.Fuzz(func(t *testing.T, prefix, rest string) {
		p := prefix + rest
		got := s.redactPath(p)
		for _, route := range []string{"/enrol/", "/recover/"} {
			if !strings.HasPrefix(p, route) {
				continue
			}
			tok, _, _ := strings.Cut(strings.TrimPrefix(p, route), "/")
			if len(tok) >= 8 && tok != strings.Trim(tok, "./") {
				continue // dot segments move the token elsewhere; cleaning handles them
			}
			if len(tok) >= 8 && strings.Contains(got, tok) {
				t.Fatalf("redactPath(%q) = %q shows the token %q", p, got, tok)
			}
		}
		if !strings.Contains(strings.ToLower(p), "enrol") && !strings.Contains(strings.ToLower(p), "recover") && got != p {
			t.Fatalf("redactPath(%q) = %q changed a path of no secret route", p, got)
		}
	})
}

// BenchmarkValidTokenRequest is the API fast path: a valid token from an
// address without failures costs one limiter read, no write, no audit.
func BenchmarkValidTokenRequest(b *testing.B) {
	h := seeded(newHarness(b, Config{}, Route{Pattern: "GET /api/v1/read", Policy: Token(ScopeRead), Handler: http.HandlerFunc(ok)}))
	const tok = "dfs_GOODPFX1_abcdefghijklmnopqrstuvwxyz234567"
	h.store.addToken(tok, 2, ScopeRead)
	r := newRequest("GET", "/api/v1/read", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	b.ReportAllocs()
	for b.Loop() {
		if rec := serve(h, r); rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
	if n := len(h.audit.actions()); n != 0 || h.lim.Len() != 0 {
		b.Fatalf("valid tokens left %d audit entries and %d limiter keys", n, h.lim.Len())
	}
}
