package authn

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/web"
)

// The tests in this file run the service inside the real web shell
// (sessions, policies, CSRF protection, limiter, layout, static files) on
// the identity store, the way dfslab serve wires it.

// shellSessions adapts the identity store to web.SessionStore for the
// test, like the app's wiring does.
type shellSessions struct{ ids *identity.Store }

func (s shellSessions) CreateSession(ctx context.Context, n web.NewSession) (string, error) {
	tok, _, err := s.ids.CreateSession(ctx, n.UserID, identity.SessionMeta{IP: n.IP, UserAgent: n.UserAgent}, "sign-in")
	return tok, err
}

func (s shellSessions) LookupSession(ctx context.Context, token string) (*web.Principal, error) {
	sess, u, err := s.ids.Authenticate(ctx, token)
	if errors.Is(err, identity.ErrSessionInvalid) {
		return nil, web.ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	return &web.Principal{
		User: web.User{ID: u.ID, Email: u.Email, DisplayName: u.DisplayName, PlatformAdmin: u.PlatformAdmin},
		Session: &web.Session{ID: strconv.FormatInt(sess.ID, 10), CreatedAt: sess.Created, LastSeen: sess.LastSeen,
			ExpiresAt: sess.Expires, VerifiedAt: sess.Verified},
	}, nil
}

func (s shellSessions) TouchSession(context.Context, string, time.Time) error { return nil }

func (s shellSessions) MarkSessionVerified(ctx context.Context, id string, _ time.Time) error {
	n, _ := strconv.ParseInt(id, 10, 64)
	return s.ids.MarkVerified(ctx, n, "step-up")
}

func (s shellSessions) RevokeSession(ctx context.Context, id string) error {
	n, _ := strconv.ParseInt(id, 10, 64)
	return s.ids.EndSessionID(ctx, n)
}

func (s shellSessions) RenewSession(ctx context.Context, token string) (string, time.Time, error) {
	tok, sess, err := s.ids.RenewSession(ctx, token)
	if errors.Is(err, identity.ErrSessionInvalid) {
		return "", time.Time{}, web.ErrNoSession
	}
	return tok, sess.Expires, err
}

func (s shellSessions) EndSession(ctx context.Context, token string) error {
	return s.ids.EndSession(ctx, token)
}

func (s shellSessions) LookupToken(ctx context.Context, token string) (*web.Principal, error) {
	t, u, err := s.ids.AuthenticateAPIToken(ctx, token)
	if errors.Is(err, identity.ErrTokenInvalid) {
		return nil, web.ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	return &web.Principal{User: web.User{ID: u.ID, Email: u.Email, DisplayName: u.DisplayName},
		TokenID: t.ID, TokenScope: web.Scope(t.Scope)}, nil
}

type shellAuditor struct{ d *db.DB }

func (a shellAuditor) Record(ctx context.Context, e web.AuditEvent) error {
	_, err := audit.Record(ctx, a.d, audit.Entry{ActorUserID: e.ActorUserID, Action: e.Action, ObjectType: e.ObjectType,
		ObjectID: e.ObjectID, Details: e.Details, IP: e.IP, RequestID: e.RequestID})
	return err
}

// newShellHarness wires the service into the real shell over SQLite.
func newShellHarness(t *testing.T) *harness {
	t.Helper()
	clock := &fakeClock{t: time.Now()}
	d := dbtest.SQLite(t)
	b := newIDBackend(t, d, clock)
	base, _ := url.Parse(testBaseURL)
	sessions := web.NewSessions(shellSessions{b.ids}, true, clock.Now)
	rd, err := web.NewRenderer(web.StaticTree{Prefix: "authn", FS: StaticFS()})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := New(Config{BaseURL: testBaseURL, Store: IdentityStore(b.ids), Shell: web.NewShell(rd, sessions),
		MarkVerified: sessions.MarkVerified, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Config{BaseURL: base, TLS: true, TrustProxy: true},
		web.Deps{Sessions: sessions, Audit: shellAuditor{d}, Limiter: web.NewLimiter(web.LimiterConfig{}, clock.Now),
			Renderer: rd, WithActor: func(ctx context.Context, a web.Actor) context.Context {
				return audit.WithActor(ctx, audit.Actor{UserID: a.UserID, OrgID: a.OrgID, IP: a.IP, RequestID: a.RequestID})
			}},
		svc)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, b: b, st: IdentityStore(b.ids), clock: clock, svc: svc, srv: httptest.NewTLSServer(srv)}
	t.Cleanup(h.srv.Close)
	return h
}

func TestInShell(t *testing.T) {
	h := newShellHarness(t)
	c := h.newClient()

	// The ceremony script is served by the shell, as JavaScript.
	res, js := c.get(StaticPrefix + "authn.js")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Type"), "javascript") || !strings.Contains(js, "navigator.credentials") {
		t.Fatalf("authn.js: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}

	c.enrol(h.b.enrolLink(t))
	res, page := c.get("/account")
	if res.StatusCode != http.StatusOK || !strings.Contains(page, `id="current-user"`) || !strings.Contains(page, "Chikondi Banda") {
		t.Fatalf("account page in the layout: %d", res.StatusCode)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP = %q", csp)
	}
	var sessionCookie bool
	for _, ck := range c.hc.Jar.Cookies(mustURL(h.srv.URL)) {
		sessionCookie = sessionCookie || ck.Name == "__Host-dfslab_session"
	}
	if !sessionCookie {
		t.Error("no __Host- session cookie after enrolment")
	}

	// Every page of the package works without inline script.
	for _, p := range []string{"/account", "/account/passkeys", "/account/totp", "/account/recovery-codes",
		"/account/sessions", "/account/tokens", "/account/step-up?next=/account", "/recover"} {
		res, body := c.get(p)
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", p, res.StatusCode)
		}
		for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(body, -1) {
			if !strings.Contains(tag, `src="/static/`) {
				t.Errorf("%s has inline script %s", p, tag)
			}
		}
		if n := strings.Count(body, `id="signout"`); n > 1 {
			t.Errorf("%s: %d elements with id=signout", p, n)
		}
	}

	// Step-up enforced by the shell's policy as well.
	h.clock.Add(StepUpWindow + time.Second)
	req, _ := http.NewRequest("POST", h.srv.URL+"/account/tokens", strings.NewReader(url.Values{"name": {"x"}, "scope": {"read"}, "days": {"3"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Referer", h.srv.URL+"/account/tokens")
	res, _ = c.do(req)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), web.StepUpPath+"?next=") {
		t.Fatalf("stale sensitive action: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	st, opts := c.postJSON(web.StepUpPath+"/begin", map[string]string{"next": "/account/tokens"})
	if st != http.StatusOK {
		t.Fatalf("step-up begin: %d %s", st, opts)
	}
	resp, _ := c.auth.get(opts, nil)
	if st, body := c.postJSON(web.StepUpPath+"/finish", resp); st != http.StatusOK {
		t.Fatalf("step-up finish: %d %s", st, body)
	}
	read := createToken(t, c, "ci", "read", 30)

	// The API through the shell: token 200, none 401.
	api := h.newClient()
	req, _ = http.NewRequest("GET", h.srv.URL+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+read)
	if res, body := api.do(req); res.StatusCode != http.StatusOK || !strings.Contains(string(body), "first@example.org") {
		t.Fatalf("GET /api/v1/me: %d %s", res.StatusCode, body)
	}
	req, _ = http.NewRequest("GET", h.srv.URL+"/api/v1/me", nil)
	if res, _ := api.do(req); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /api/v1/me without token: %d", res.StatusCode)
	}

	// A cross-site ceremony request is refused by the shell and audited.
	from := h.auditN()
	req, _ = http.NewRequest("POST", h.srv.URL+"/signin/begin", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://evil.test")
	if res, _ := c.do(req); res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site begin = %d, want 403", res.StatusCode)
	}
	if len(h.auditSince(from, "web.csrf_refused")) != 1 {
		t.Error("cross-site request not audited")
	}

	// Sign out through the layout's button, then sign in again.
	c.signOut()
	res, page = c.get("/signin")
	if res.StatusCode != http.StatusOK || !strings.Contains(page, `autocomplete="username webauthn"`) ||
		!strings.Contains(page, `src="`+StaticPrefix+`authn.js"`) {
		t.Fatalf("sign-in page: %d", res.StatusCode)
	}
	if res, _ := c.get("/account"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("account after sign-out = %d, want redirect to sign-in", res.StatusCode)
	}
	if st, body := c.signIn(); st != http.StatusOK {
		t.Fatalf("sign-in: %d %s", st, body)
	}
	if res, _ := c.get("/account"); res.StatusCode != http.StatusOK {
		t.Fatalf("account after sign-in = %d", res.StatusCode)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// TestInShellRateLimit: failed sign-ins from one address are slowed down
// (429 with Retry-After, audited) while a real user at another address
// still signs in with a passkey.
func TestInShellRateLimit(t *testing.T) {
	h := newShellHarness(t)
	victim := h.newClient()
	victim.enrol(h.b.enrolLink(t))
	victim.signOut()
	attacker := h.newClient()
	forged := func() int {
		req, _ := http.NewRequest("POST", h.srv.URL+"/signin/begin", strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", "203.0.113.9")
		res, opts := attacker.do(req)
		if res.StatusCode != http.StatusOK {
			return res.StatusCode
		}
		cred := victim.auth.creds[0]
		body, _ := attacker.auth.assert(&softCredential{id: cred.id, userHandle: cred.userHandle}, challengeOf(t, opts), 99, mustKey())
		req, _ = http.NewRequest("POST", h.srv.URL+"/signin/finish", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", "203.0.113.9")
		res, _ = attacker.do(req)
		return res.StatusCode
	}
	limited := false
	for i := 0; i < 20 && !limited; i++ {
		switch st := forged(); st {
		case http.StatusUnauthorized:
		case http.StatusTooManyRequests:
			limited = true
		default:
			t.Fatalf("forged sign-in %d: status %d", i, st)
		}
	}
	if !limited {
		t.Fatal("20 forged sign-ins from one address were never slowed down")
	}
	if len(h.auditSince(0, "web.rate_limited")) == 0 {
		t.Error("rate limiting not audited")
	}
	// The real user, elsewhere, is not locked out.
	req, _ := http.NewRequest("POST", h.srv.URL+"/signin/begin", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", "198.51.100.7")
	res, opts := victim.do(req)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("victim begin: %d", res.StatusCode)
	}
	resp, _ := victim.auth.get(opts, nil)
	req, _ = http.NewRequest("POST", h.srv.URL+"/signin/finish", strings.NewReader(string(resp)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", "198.51.100.7")
	if res, body := victim.do(req); res.StatusCode != http.StatusOK {
		t.Fatalf("victim sign-in during the attack: %d %s", res.StatusCode, body)
	}
}

func mustKey() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}
