package authn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/web"
)

const (
	testBaseURL = "https://dfslab.example"
	testOrigin  = "https://dfslab.example"
	testRPID    = "dfslab.example"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeLimiter delays keys listed in blocked and counts failures.
type fakeLimiter struct {
	mu       sync.Mutex
	blocked  map[string]bool
	failures map[string]int
}

func (l *fakeLimiter) AccountWait(_ *http.Request, key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.blocked[key] {
		return 30 * time.Second
	}
	return 0
}
func (l *fakeLimiter) Failure(_ *http.Request, key string) {
	l.mu.Lock()
	l.failures[key]++
	l.mu.Unlock()
}
func (l *fakeLimiter) Success(_ *http.Request, key string) {
	l.mu.Lock()
	delete(l.failures, key)
	l.mu.Unlock()
}

// testShell stands in for the web shell: a bare layout, plain error
// pages and sessions kept in the memStore behind a "sess" cookie.
type testShell struct {
	t testing.TB
	b backend
}

func (s *testShell) RenderPage(w http.ResponseWriter, r *http.Request, status int, title string, body template.HTML) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><title>%s</title><main>%s</main>", template.HTMLEscapeString(title), body)
}

func (s *testShell) Error(w http.ResponseWriter, r *http.Request, status int) {
	http.Error(w, http.StatusText(status), status)
}

func (s *testShell) StartSession(w http.ResponseWriter, r *http.Request, uid int64) error {
	if c, err := r.Cookie("sess"); err == nil {
		s.b.endSession(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: "sess", Value: s.b.startSession(s.t, uid), Path: "/", HttpOnly: true, Secure: true})
	return nil
}

func (s *testShell) MarkVerified(r *http.Request) error {
	p := web.CurrentPrincipal(r.Context())
	if p == nil || p.Session == nil {
		return ErrNotFound
	}
	return s.b.markVerified(p.Session.ID)
}

func (s *testShell) EndSession(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie("sess"); err == nil {
		s.b.endSession(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: "sess", Path: "/", MaxAge: -1})
	return nil
}

type harness struct {
	t       testing.TB
	b       backend
	st      Store
	clock   *fakeClock
	limiter *fakeLimiter
	svc     *Service
	srv     *httptest.Server
}

// eachBackend runs fn once per backend; newH makes a fresh harness
// (with its own database) each time it is called.
func eachBackend(t *testing.T, fn func(t *testing.T, newH func(t *testing.T) *harness)) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			fn(t, func(t *testing.T) *harness {
				t.Helper()
				clock := &fakeClock{t: time.Now()}
				return newHarness(t, be.new(t, clock), clock)
			})
		})
	}
}

func newHarness(t testing.TB, b backend, clock *fakeClock) *harness {
	t.Helper()
	h := &harness{
		t: t, b: b, st: b.store(), clock: clock,
		limiter: &fakeLimiter{blocked: map[string]bool{}, failures: map[string]int{}},
	}
	svc, err := New(Config{
		BaseURL: testBaseURL, Store: h.st, Shell: &testShell{t: t, b: b},
		Limiter: h.limiter, Now: clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.svc = svc
	mux := http.NewServeMux()
	for _, rt := range svc.Routes() {
		mux.Handle(rt.Pattern, h.wrap(rt))
	}
	// A write endpoint of the API, to prove read tokens are refused there.
	mux.Handle("POST /api/v1/test-write", svc.RequireToken(web.ScopeWrite, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})))
	h.srv = httptest.NewTLSServer(mux)
	t.Cleanup(h.srv.Close)
	return h
}

// wrap does the shell's part for the tests: resolve the session cookie
// to a principal and refuse anonymous callers of signed-in routes. Step-up
// is deliberately not checked here: the handlers must enforce it too.
func (h *harness) wrap(rt web.Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("sess"); err == nil {
			if sess, ok := h.b.sessionByCookie(c.Value); ok {
				acc, err := h.st.Account(r.Context(), sess.UserID)
				if err == nil {
					p := &web.Principal{
						User:    web.User{ID: acc.ID, Email: acc.Email, DisplayName: acc.DisplayName},
						Session: &web.Session{ID: sess.ID, CreatedAt: sess.CreatedAt, VerifiedAt: sess.VerifiedAt},
					}
					r = r.WithContext(web.WithPrincipal(r.Context(), p))
				}
			}
		}
		if rt.Policy.Access == web.AccessSignedIn && web.CurrentPrincipal(r.Context()) == nil {
			http.Error(w, "sign in", http.StatusUnauthorized)
			return
		}
		rt.Handler.ServeHTTP(w, r)
	})
}

// auditSince returns the audit entries with action recorded after the
// first from entries.
func (h *harness) auditN() int { return len(h.b.audits(h.t)) }

func (h *harness) auditSince(from int, action string) []memAudit {
	var out []memAudit
	for _, a := range h.b.audits(h.t)[from:] {
		if a.Action == action {
			out = append(out, a)
		}
	}
	return out
}

type client struct {
	t    testing.TB
	h    *harness
	hc   *http.Client
	auth *softAuthenticator
}

func (h *harness) newClient() *client {
	jar, _ := cookiejar.New(nil)
	hc := *h.srv.Client()
	hc.Jar = jar
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &client{t: h.t, h: h, hc: &hc, auth: newSoftAuthenticator(testOrigin, testRPID)}
}

func (c *client) do(req *http.Request) (*http.Response, []byte) {
	c.t.Helper()
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

func (c *client) get(path string) (*http.Response, string) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.h.srv.URL+path, nil)
	res, b := c.do(req)
	return res, string(b)
}

func (c *client) postForm(path string, v url.Values) (*http.Response, string) {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.h.srv.URL+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, b := c.do(req)
	return res, string(b)
}

func (c *client) postJSON(path string, body any) (int, []byte) {
	c.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case []byte:
		raw = b
	default:
		raw, _ = json.Marshal(b)
	}
	req, _ := http.NewRequest("POST", c.h.srv.URL+path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	res, b := c.do(req)
	return res.StatusCode, b
}

// redirectOf returns the "redirect" of a ceremony answer.
func redirectOf(t testing.TB, body []byte) string {
	t.Helper()
	var v struct{ Redirect, Error string }
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("answer is not JSON: %s", body)
	}
	return v.Redirect
}

// register runs a registration ceremony against begin/finish.
func (c *client) register(begin, finish string, form map[string]string) (int, []byte, *softCredential) {
	c.t.Helper()
	st, opts := c.postJSON(begin, form)
	if st != http.StatusOK {
		return st, opts, nil
	}
	resp, cred, err := c.auth.create(opts)
	if err != nil {
		c.t.Fatal(err)
	}
	st, body := c.postJSON(finish, resp)
	return st, body, cred
}

// enrol uses an enrolment link and returns the new user's credential.
func (c *client) enrol(token string) *softCredential {
	c.t.Helper()
	st, body, cred := c.register("/enrol/"+token+"/begin", "/enrol/"+token+"/finish",
		map[string]string{"email": "first@example.org", "displayName": "Chikondi Banda", "passkeyName": "laptop"})
	if st != http.StatusOK {
		c.t.Fatalf("enrol: %d %s", st, body)
	}
	if got := redirectOf(c.t, body); got != "/account/recovery-codes?new=1" {
		c.t.Fatalf("enrol redirect = %q", got)
	}
	return cred
}

// beginSignIn returns the options of a new sign-in ceremony.
func (c *client) beginSignIn() []byte {
	c.t.Helper()
	st, opts := c.postJSON("/signin/begin", map[string]any{})
	if st != http.StatusOK {
		c.t.Fatalf("begin sign-in: %d %s", st, opts)
	}
	return opts
}

func (c *client) signIn() (int, []byte) {
	c.t.Helper()
	resp, err := c.auth.get(c.beginSignIn(), nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.postJSON("/signin/finish", resp)
}

func (c *client) signOut() {
	c.t.Helper()
	res, _ := c.postForm("/signout", nil)
	if res.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("signout: %d", res.StatusCode)
	}
}
