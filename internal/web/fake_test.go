package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock shared by the session manager and limiter.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// fakeStore is an in-memory SessionStore.
type fakeStore struct {
	mu       sync.Mutex
	users    map[int64]*Principal // template principals by user ID
	sessions map[string]*fakeSession
	tokens   map[string]*Principal
	revoked  []string
}

type fakeSession struct {
	userID int64
	s      Session
}

func newFakeStore() *fakeStore {
	return &fakeStore{users: map[int64]*Principal{}, sessions: map[string]*fakeSession{}, tokens: map[string]*Principal{}}
}

func (f *fakeStore) addUser(p Principal) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[p.User.ID] = &p
}

func (f *fakeStore) addToken(tok string, userID int64, scope Scope) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := *f.users[userID]
	p.TokenID, p.TokenScope = 1, scope
	f.tokens[tok] = &p
}

func randToken() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (f *fakeStore) CreateSession(ctx context.Context, s NewSession) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	tok := randToken()
	f.sessions[tok] = &fakeSession{userID: s.UserID, s: Session{ID: "s-" + tok[:8], CreatedAt: s.Created,
		LastSeen: s.Created, ExpiresAt: s.ExpiresAt, VerifiedAt: s.Created}}
	return tok, nil
}

func (f *fakeStore) LookupSession(ctx context.Context, tok string) (*Principal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fs := f.sessions[tok]
	if fs == nil {
		return nil, ErrNoSession
	}
	p := *f.users[fs.userID]
	s := fs.s
	p.Session = &s
	return &p, nil
}

func (f *fakeStore) find(id string) *fakeSession {
	for _, s := range f.sessions {
		if s.s.ID == id {
			return s
		}
	}
	return nil
}

func (f *fakeStore) TouchSession(ctx context.Context, id string, now time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s := f.find(id); s != nil {
		s.s.LastSeen = now
		return nil
	}
	return ErrNoSession
}

func (f *fakeStore) MarkSessionVerified(ctx context.Context, id string, now time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s := f.find(id); s != nil {
		s.s.VerifiedAt = now
		return nil
	}
	return ErrNoSession
}

func (f *fakeStore) RenewSession(ctx context.Context, tok string) (string, time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.sessions[tok]
	if s == nil {
		return "", time.Time{}, ErrNoSession
	}
	delete(f.sessions, tok)
	n := randToken()
	f.sessions[n] = s
	return n, s.s.ExpiresAt, nil
}

func (f *fakeStore) EndSession(ctx context.Context, tok string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s := f.sessions[tok]; s != nil {
		delete(f.sessions, tok)
		f.revoked = append(f.revoked, s.s.ID)
	}
	return nil
}

func (f *fakeStore) LookupToken(ctx context.Context, tok string) (*Principal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.tokens[tok]
	if p == nil {
		return nil, ErrNoSession
	}
	cp := *p
	return &cp, nil
}

// fakeAudit collects events.
type fakeAudit struct {
	mu     sync.Mutex
	events []AuditEvent
}

func (a *fakeAudit) Record(ctx context.Context, e AuditEvent) error {
	a.mu.Lock()
	a.events = append(a.events, e)
	a.mu.Unlock()
	return nil
}

func (a *fakeAudit) actions() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, e := range a.events {
		out = append(out, e.Action)
	}
	return out
}

// harness is a server over fakes with a test module.
type harness struct {
	t     testing.TB
	srv   *Server
	store *fakeStore
	audit *fakeAudit
	clock *fakeClock
	lim   *Limiter
}

type testModule []Route

func (m testModule) Routes() []Route { return m }

func newHarness(t testing.TB, cfg Config, routes ...Route) *harness {
	t.Helper()
	h := &harness{t: t, store: newFakeStore(), audit: &fakeAudit{}, clock: newClock()}
	rd, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	h.lim = NewLimiter(LimiterConfig{Free: 3, Base: time.Second, MaxDelay: 30 * time.Second}, h.clock.Now)
	sess := NewSessions(h.store, cfg.TLS, h.clock.Now)
	// A sign-in route for the tests: signs in the user named by ?uid=.
	signin := Route{Pattern: "POST /test/signin", Policy: Public(), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		uid, _ := strconv.ParseInt(r.URL.Query().Get("uid"), 10, 64)
		if err := sess.Start(w, r, uid); err != nil {
			ServerError(w, r, "start", err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})}
	h.srv, err = New(cfg, Deps{Sessions: sess, Audit: h.audit, Limiter: h.lim, Renderer: rd},
		testModule(append(routes, signin)))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// do runs a request; cookie may be nil.
func (h *harness) do(method, target string, body string, cookie *http.Cookie, hdr map[string]string) *httptest.ResponseRecorder {
	h.t.Helper()
	var req *http.Request
	if body != "" {
		req = httptest.NewRequest(method, target, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	req.RemoteAddr = "192.0.2.10:4000"
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	rec := httptest.NewRecorder()
	h.srv.ServeHTTP(rec, req)
	return rec
}

// signIn returns the session cookie of a fresh session for uid.
func (h *harness) signIn(uid int64) *http.Cookie {
	h.t.Helper()
	rec := h.do("POST", "/test/signin?uid="+strconv.FormatInt(uid, 10), "", nil, nil)
	if rec.Code != http.StatusNoContent {
		h.t.Fatalf("sign in %d: status %d", uid, rec.Code)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == h.srv.sessions.CookieName() {
			return c
		}
	}
	h.t.Fatal("sign in set no session cookie")
	return nil
}

func ok(w http.ResponseWriter, r *http.Request) { w.Write([]byte("handler ran")) }

func newRequest(method, target string, body io.Reader) *http.Request {
	r := httptest.NewRequest(method, target, body)
	r.RemoteAddr = "192.0.2.10:4000"
	if body != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return r
}

func serve(h *harness, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.srv.ServeHTTP(rec, r)
	return rec
}
