package app

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity"
)

// clock is a settable clock for sessions, links and rate limits.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// world is a wired platform with two organisations and one user per role:
// subjects act from organisation A ("own"); organisation B is "other".
type world struct {
	t      testing.TB
	app    *App
	clock  *clock
	orgA   int64
	orgB   int64
	users  map[string]int64  // by name, e.g. "viewer-a"
	tokens map[string]string // "read", "write": API tokens of admin-a
	// sessions are the reusable session cookies (see session).
	sessions map[string]*http.Cookie
	addr     int
}

const testBaseURL = "http://localhost:8080"

func newWorld(t testing.TB) *world {
	t.Helper()
	return newWorldOn(t, dbtest.SQLite(t))
}

// eachDB runs fn on a fresh world on SQLite and, when configured, on
// PostgreSQL: the shell must behave the same on both.
func eachDB(t *testing.T, fn func(t *testing.T, w *world)) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) { fn(t, newWorldOn(t, d)) })
}

func newWorldOn(t testing.TB, d *db.DB) *world {
	t.Helper()
	// The platform's background work (live-event listeners) ends with
	// the test, before the database closes.
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	w := &world{t: t, clock: &clock{t: time.Now().UTC().Truncate(time.Second)}, users: map[string]int64{}, tokens: map[string]string{}}
	a, err := New(ctx, d, Config{BaseURL: testBaseURL, Now: w.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	w.app = a
	ids := a.Identity
	oa, err := ids.CreateOrg(ctx, identity.NewOrg{Name: "Regulator A", Type: identity.OrgTelecomRegulator, Country: "MW"})
	if err != nil {
		t.Fatal(err)
	}
	ob, err := ids.CreateOrg(ctx, identity.NewOrg{Name: "Provider B", Type: identity.OrgDFSProvider, Country: "LS"})
	if err != nil {
		t.Fatal(err)
	}
	w.orgA, w.orgB = oa.ID, ob.ID
	for _, m := range []struct {
		name string
		org  int64
		role identity.Role
	}{
		{"viewer-a", oa.ID, identity.RoleViewer}, {"analyst-a", oa.ID, identity.RoleAnalyst}, {"admin-a", oa.ID, identity.RoleOrgAdmin},
		{"target-a", oa.ID, identity.RoleViewer},
		{"viewer-b", ob.ID, identity.RoleViewer}, {"admin-b", ob.ID, identity.RoleOrgAdmin}, {"target-b", ob.ID, identity.RoleViewer},
	} {
		inv, err := ids.Invite(ctx, m.org, m.name+"@example.org", m.role)
		if err != nil {
			t.Fatalf("invite %s: %v", m.name, err)
		}
		w.users[m.name] = w.enrol(inv.Token, m.name)
	}
	tok, _, err := ids.EnrolLink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.users["padmin"] = w.enrol(tok, "padmin")
	for _, s := range []identity.Scope{identity.ScopeRead, identity.ScopeWrite} {
		tok, _, err := ids.CreateAPIToken(ctx, w.users["admin-a"], "test "+string(s), s, w.clock.Now().Add(30*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		w.tokens[string(s)] = tok
	}
	return w
}

// enrol redeems a link with a stand-in passkey (the authorisation tests do
// not run WebAuthn ceremonies; internal/authn tests those).
func (w *world) enrol(token, name string) int64 {
	w.t.Helper()
	cred := make([]byte, 32)
	rand.Read(cred)
	u, err := w.app.Identity.RedeemEnrolment(context.Background(), token, identity.Enrolment{
		DisplayName: name, Email: name + "@example.org",
		Passkey: identity.Passkey{CredentialID: cred, PublicKey: []byte{0xa5}, Name: "test key"},
	})
	if err != nil {
		w.t.Fatalf("enrol %s: %v", name, err)
	}
	return u.ID
}

// cookie starts a fresh session for the user and returns its cookie.
func (w *world) cookie(name string) *http.Cookie {
	w.t.Helper()
	tok, _, err := w.app.Identity.CreateSession(context.Background(), w.users[name], identity.SessionMeta{IP: "192.0.2.1"}, "test")
	if err != nil {
		w.t.Fatalf("session for %s: %v", name, err)
	}
	return &http.Cookie{Name: w.app.Sessions.CookieName(), Value: tok}
}

// session returns a session cookie of the user that is reused for every
// call on this world (one sign-in per subject, not per request).
func (w *world) session(name string) *http.Cookie {
	if c, ok := w.sessions[name]; ok {
		return c
	}
	if w.sessions == nil {
		w.sessions = map[string]*http.Cookie{}
	}
	c := w.cookie(name)
	w.sessions[name] = c
	return c
}

// do sends a request from a fresh client address (so that the
// per-address back-off of one request does not bleed into the next).
func (w *world) do(method, target, body string, cookie *http.Cookie, bearer string) *httptest.ResponseRecorder {
	var r *http.Request
	if body != "" || method == http.MethodPost {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	w.addr++
	r.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:40000", w.addr>>16&255, w.addr>>8&255, w.addr&255)
	if cookie != nil {
		r.AddCookie(cookie)
	}
	if bearer != "" {
		r.Header.Set("Authorization", "Bearer "+bearer)
	}
	rec := httptest.NewRecorder()
	w.app.Server.ServeHTTP(rec, r)
	return rec
}

func newPost(target, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.RemoteAddr = "198.51.100.9:5000"
	return r
}

func recorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

// sqliteWorlds returns a factory of identical SQLite worlds: the first is
// built from scratch, the others are copies of a snapshot of it (VACUUM
// INTO), which is much faster than enrolling everyone again.
func sqliteWorlds(t *testing.T) func() *world {
	var first *world
	var snapshot string
	return func() *world {
		t.Helper()
		if first == nil {
			first = newWorldOn(t, dbtest.SQLite(t))
			snapshot = filepath.Join(t.TempDir(), "snapshot.db")
			if _, err := first.app.DB.Exec(context.Background(), "VACUUM INTO ?", snapshot); err != nil {
				t.Fatalf("snapshot: %v", err)
			}
			return first
		}
		b, err := os.ReadFile(snapshot)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "copy.db")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		d, err := db.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		w := &world{t: t, clock: &clock{t: first.clock.Now()}, orgA: first.orgA, orgB: first.orgB,
			users: first.users, tokens: first.tokens}
		if w.app, err = New(context.Background(), d, Config{BaseURL: testBaseURL, Now: w.clock.Now}); err != nil {
			t.Fatal(err)
		}
		return w
	}
}
