package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	admin   = Principal{User: User{ID: 1, Email: "root@example.org", PlatformAdmin: true}}
	orgA    = Principal{User: User{ID: 2, Email: "a-admin@example.org"}, Memberships: []Membership{{OrgID: 10, OrgName: "Regulator A", Role: RoleOrgAdmin}}}
	viewerA = Principal{User: User{ID: 3, Email: "a-viewer@example.org"}, Memberships: []Membership{{OrgID: 10, OrgName: "Regulator A", Role: RoleViewer}}}
	orgB    = Principal{User: User{ID: 4, Email: "b-admin@example.org"}, Memberships: []Membership{{OrgID: 20, OrgName: "Bank B", Role: RoleOrgAdmin}}}
)

func seeded(h *harness) *harness {
	for _, p := range []Principal{admin, orgA, viewerA, orgB} {
		h.store.addUser(p)
	}
	return h
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	for _, tls := range []bool{false, true} {
		h := seeded(newHarness(t, Config{TLS: tls},
			Route{Pattern: "GET /page", Policy: SignedIn(), Handler: http.HandlerFunc(ok)},
			Route{Pattern: "POST /form", Policy: SignedIn(), Handler: http.HandlerFunc(ok)},
			Route{Pattern: "GET /api/v1/thing", Policy: Token(ScopeRead), Handler: http.HandlerFunc(ok)},
			Route{Pattern: "GET /boom", Policy: Public(), Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })},
		))
		c := h.signIn(2)
		reqs := []struct {
			method, target, body string
			cookie               *http.Cookie
			hdr                  map[string]string
		}{
			{"GET", "/", "", nil, nil},
			{"GET", "/", "", c, nil},
			{"GET", "/page", "", nil, nil},
			{"GET", "/page", "", c, nil},
			{"GET", "/nowhere", "", nil, nil},
			{"GET", "/static/css/app.css", "", nil, nil},
			{"GET", "/healthz", "", nil, nil},
			{"GET", "/readyz", "", nil, nil},
			{"GET", "/metrics", "", nil, nil},
			{"GET", "/api/v1/thing", "", nil, nil},
			{"GET", "/boom", "", nil, nil},
			{"POST", "/form", "a=b", c, map[string]string{"Sec-Fetch-Site": "cross-site"}},
			{"POST", "/form", strings.Repeat("a", DefaultMaxBody+1), c, nil},
		}
		for _, rq := range reqs {
			rec := h.do(rq.method, rq.target, rq.body, rq.cookie, rq.hdr)
			hd := rec.Header()
			name := rq.method + " " + rq.target
			for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
				if csp := hd.Get("Content-Security-Policy"); !strings.Contains(csp, want) || strings.Contains(csp, "unsafe-inline") {
					t.Errorf("%s (tls=%v): CSP %q lacks %q or allows inline", name, tls, csp, want)
				}
			}
			if hd.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s: no nosniff", name)
			}
			if rp := hd.Get("Referrer-Policy"); rp != "same-origin" && rp != "no-referrer" {
				t.Errorf("%s: referrer policy %q", name, rp)
			}
			if hd.Get("X-Request-Id") == "" {
				t.Errorf("%s: no request ID", name)
			}
			if got := hd.Get("Strict-Transport-Security") != ""; got != tls {
				t.Errorf("%s: HSTS present=%v, want %v", name, got, tls)
			}
		}
	}
}

func TestCrossOriginPostRefusedAndAudited(t *testing.T) {
	ran := 0
	h := seeded(newHarness(t, Config{}, Route{Pattern: "POST /form", Policy: SignedIn(),
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ran++; ok(w, r) })}))
	c := h.signIn(2)
	for _, hdr := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site"},
		{"Sec-Fetch-Site": "same-site"},
		{"Origin": "https://attacker.example"},
	} {
		before := len(h.audit.actions())
		rec := h.do("POST", "/form", "x=1", c, hdr)
		if rec.Code != http.StatusForbidden {
			t.Errorf("%v: status %d, want 403", hdr, rec.Code)
		}
		acts := h.audit.actions()
		if len(acts) != before+1 || acts[len(acts)-1] != "web.csrf_refused" {
			t.Errorf("%v: audit %v, want a web.csrf_refused entry", hdr, acts)
		}
	}
	if ran != 0 {
		t.Fatalf("handler ran %d times for cross-origin posts", ran)
	}
	h.audit.mu.Lock()
	ev := h.audit.events[0]
	h.audit.mu.Unlock()
	if ev.IP != "192.0.2.10" || ev.RequestID == "" || ev.ObjectID != "POST /form" {
		t.Errorf("audit entry lacks context: %+v", ev)
	}
	// Same-origin posts (browser or not) go through.
	for _, hdr := range []map[string]string{{"Sec-Fetch-Site": "same-origin"}, {"Origin": "http://example.com"}, nil} {
		if rec := h.do("POST", "/form", "x=1", c, hdr); rec.Code != http.StatusOK {
			t.Errorf("same-origin %v: status %d", hdr, rec.Code)
		}
	}
}

func TestOversizedBodies(t *testing.T) {
	h := seeded(newHarness(t, Config{MaxBody: 1000},
		Route{Pattern: "POST /form", Policy: Public(), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if ParseForm(w, r) {
				ok(w, r)
			}
		})},
		Route{Pattern: "POST /upload", Policy: Public(), MaxBody: 5000, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if ParseForm(w, r) {
				ok(w, r)
			}
		})},
	))
	if rec := h.do("POST", "/form", "a="+strings.Repeat("x", 500), nil, nil); rec.Code != http.StatusOK {
		t.Errorf("small body: %d", rec.Code)
	}
	if rec := h.do("POST", "/form", "a="+strings.Repeat("x", 1000), nil, nil); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("declared oversized body: %d, want 413", rec.Code)
	}
	// A body without Content-Length (chunked) is cut by MaxBytesReader.
	req := strings.NewReader("a=" + strings.Repeat("x", 2000))
	r := newRequest("POST", "/form", req)
	r.ContentLength = -1
	rec := serve(h, r)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("streamed oversized body: %d, want 413", rec.Code)
	}
	if rec := h.do("POST", "/upload", "a="+strings.Repeat("x", 3000), nil, nil); rec.Code != http.StatusOK {
		t.Errorf("route limit not applied: %d", rec.Code)
	}
}

func TestSessionCookieAndTimeouts(t *testing.T) {
	for _, secure := range []bool{false, true} {
		h := seeded(newHarness(t, Config{TLS: secure}, Route{Pattern: "GET /page", Policy: SignedIn(), Handler: http.HandlerFunc(ok)}))
		c := h.signIn(2)
		wantName := "dfslab_session"
		if secure {
			wantName = "__Host-dfslab_session"
		}
		if c.Name != wantName || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure != secure || c.Domain != "" {
			t.Errorf("cookie %+v: want %s, HttpOnly, Lax, Path=/, Secure=%v, host-only", c, wantName, secure)
		}
		if c.MaxAge != int(AbsoluteTimeout/time.Second) {
			t.Errorf("cookie max-age %d, want %d", c.MaxAge, int(AbsoluteTimeout/time.Second))
		}
		page := func() int { return h.do("GET", "/page", "", c, nil).Code }

		// Idle: activity every 29 minutes keeps it; 31 minutes idle ends it.
		for i := 0; i < 3; i++ {
			h.clock.Advance(29 * time.Minute)
			if got := page(); got != http.StatusOK {
				t.Fatalf("after %d×29 min of activity: %d, want 200", i+1, got)
			}
		}
		h.clock.Advance(31 * time.Minute)
		rec := h.do("GET", "/page", "", c, nil)
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), SignInPath) {
			t.Fatalf("after 31 min idle: %d %q, want redirect to sign-in", rec.Code, rec.Header().Get("Location"))
		}
		if !clearsCookie(rec, wantName) {
			t.Error("expired session cookie not cleared")
		}
		if page() != http.StatusSeeOther {
			t.Fatal("expired session came back")
		}

		// Absolute: a session kept busy ends 12 h after sign-in.
		c = h.signIn(2)
		for elapsed := time.Duration(0); elapsed < AbsoluteTimeout-20*time.Minute; elapsed += 20 * time.Minute {
			h.clock.Advance(20 * time.Minute)
			if got := page(); got != http.StatusOK {
				t.Fatalf("busy session refused after %v: %d", elapsed+20*time.Minute, got)
			}
		}
		h.clock.Advance(20 * time.Minute)
		if got := page(); got != http.StatusSeeOther {
			t.Fatalf("busy session 12 h after sign-in: %d, want 303", got)
		}
	}
}

func TestSignInRenewsSession(t *testing.T) {
	h := seeded(newHarness(t, Config{}))
	old := h.signIn(2)
	rec := h.do("POST", "/test/signin?uid=2", "", old, nil)
	if rec.Code != http.StatusNoContent {
		t.Fatal(rec.Code)
	}
	if len(h.store.revoked) != 1 {
		t.Fatalf("signing in again revoked %v, want the previous session", h.store.revoked)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Value == old.Value {
			t.Fatal("session secret reused across sign-ins")
		}
	}
}

func TestRateLimitBacksOffWithoutLockingOutRealUser(t *testing.T) {
	// The handler plays a passkey sign-in: "good" succeeds, anything else
	// is a failed assertion.
	h := seeded(newHarness(t, Config{}, Route{Pattern: "POST /signin/finish", Policy: Public(), RateLimited: true,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("a") == "good" {
				AuthSuccess(r, "2")
				w.WriteHeader(http.StatusNoContent)
				return
			}
			AuthFailure(r, "2")
			Error(w, r, http.StatusUnauthorized)
		})}))
	attack := func() *http.Request {
		r := newRequest("POST", "/signin/finish?a=bad", nil)
		r.RemoteAddr = "203.0.113.66:5555"
		return r
	}
	var statuses []int
	for i := 0; i < 6; i++ {
		statuses = append(statuses, serve(h, attack()).Code)
	}
	if !slices.Equal(statuses[:3], []int{401, 401, 401}) || statuses[4] != http.StatusTooManyRequests {
		t.Fatalf("attacker statuses %v: want 3 free failures, then 429", statuses)
	}
	rec := serve(h, attack())
	ra := rec.Header().Get("Retry-After")
	if rec.Code != http.StatusTooManyRequests || ra == "" || ra == "0" {
		t.Fatalf("429 without Retry-After: %d %q", rec.Code, ra)
	}
	if !slices.Contains(h.audit.actions(), "web.rate_limited") {
		t.Error("rate limiting not audited")
	}
	// The real user, from their own address, signs in at once.
	r := newRequest("POST", "/signin/finish?a=good", nil)
	r.RemoteAddr = "198.51.100.7:1234"
	if got := serve(h, r).Code; got != http.StatusNoContent {
		t.Fatalf("real user blocked by another address's failures: %d", got)
	}
	// Back-off, not lock-out: after the delay the attacker's address may
	// try again.
	h.clock.Advance(time.Minute)
	if got := serve(h, attack()).Code; got != http.StatusUnauthorized {
		t.Fatalf("after the back-off: %d, want another attempt (401)", got)
	}
}

func TestErrorPagesLeakNothing(t *testing.T) {
	const secret = `pq: syntax error at or near "SELECT password FROM users"`
	h := seeded(newHarness(t, Config{},
		Route{Pattern: "GET /panic", Policy: Public(), Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(secret) })},
		Route{Pattern: "GET /fail", Policy: Public(), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ServerError(w, r, "query", &url.Error{Op: "Get", URL: "/x", Err: errString(secret)})
		})},
		Route{Pattern: "GET /api/v1/fail", Policy: Public(), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ServerError(w, r, "query", errString(secret))
		})},
	))
	for _, target := range []string{"/panic", "/fail", "/api/v1/fail"} {
		rec := h.do("GET", target, "", nil, nil)
		body := rec.Body.String()
		if rec.Code != http.StatusInternalServerError {
			t.Errorf("%s: %d, want 500", target, rec.Code)
		}
		for _, leak := range []string{"SELECT", "syntax error", "goroutine", "panic", ".go:", "users"} {
			if strings.Contains(body, leak) {
				t.Errorf("%s: error page leaks %q:\n%s", target, leak, body)
			}
		}
		if target != "/api/v1/fail" && !strings.Contains(body, rec.Header().Get("X-Request-Id")) {
			t.Errorf("%s: error page does not show the request ID", target)
		}
	}
	rec := h.do("GET", "/no/such/page", "", nil, nil)
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "There is nothing here") {
		t.Errorf("404 page: %d", rec.Code)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestPolicyEnforcement(t *testing.T) {
	routes := []Route{
		{Pattern: "GET /signed", Policy: SignedIn(), Handler: http.HandlerFunc(ok)},
		{Pattern: "GET /admin", Policy: PlatformAdmin(), Handler: http.HandlerFunc(ok)},
		{Pattern: "GET /orgs/{org}/view", Policy: OrgRole(RoleViewer), Handler: http.HandlerFunc(ok)},
		{Pattern: "GET /orgs/{org}/analyse", Policy: OrgRole(RoleAnalyst), Handler: http.HandlerFunc(ok)},
		{Pattern: "GET /orgs/{org}/manage", Policy: OrgAdmin(), Handler: http.HandlerFunc(ok)},
		{Pattern: "POST /orgs/{org}/manage", Policy: OrgAdmin().WithStepUp(), Handler: http.HandlerFunc(ok)},
		{Pattern: "GET /api/v1/read", Policy: Token(ScopeRead), Handler: http.HandlerFunc(ok)},
		{Pattern: "POST /api/v1/write", Policy: Token(ScopeWrite), Handler: http.HandlerFunc(ok)},
	}
	h := seeded(newHarness(t, Config{}, routes...))
	h.store.addToken("tok-read", 2, ScopeRead)
	h.store.addToken("tok-write", 2, ScopeWrite)
	cookies := map[string]*http.Cookie{"anon": nil, "admin": h.signIn(1), "orgA": h.signIn(2), "viewerA": h.signIn(3), "orgB": h.signIn(4)}
	cases := []struct {
		who, method, target string
		want                int
	}{
		{"anon", "GET", "/signed", 303},
		{"viewerA", "GET", "/signed", 200},
		{"anon", "GET", "/admin", 303},
		{"orgA", "GET", "/admin", 403},
		{"admin", "GET", "/admin", 200},
		{"viewerA", "GET", "/orgs/10/view", 200},
		{"viewerA", "GET", "/orgs/10/analyse", 403},
		{"orgA", "GET", "/orgs/10/analyse", 200},
		{"orgB", "GET", "/orgs/10/view", 404},
		{"orgB", "GET", "/orgs/abc/view", 404},
		{"admin", "GET", "/orgs/10/view", 404},
		{"admin", "GET", "/orgs/10/manage", 200},
		{"viewerA", "GET", "/orgs/10/manage", 403},
		{"orgB", "GET", "/orgs/10/manage", 404},
		{"orgA", "POST", "/orgs/10/manage", 200},
		{"anon", "POST", "/orgs/10/manage", 401},
		{"anon", "GET", "/api/v1/read", 401},
		{"orgA", "GET", "/api/v1/read", 401},
		{"tok-read", "GET", "/api/v1/read", 200},
		{"tok-read", "POST", "/api/v1/write", 403},
		{"tok-write", "POST", "/api/v1/write", 200},
		{"tok-write", "GET", "/api/v1/read", 200},
		{"tok-bogus", "GET", "/api/v1/read", 401},
		// Tokens do not open browser pages.
		{"tok-write", "GET", "/signed", 303},
	}
	for _, c := range cases {
		var hdr map[string]string
		if strings.HasPrefix(c.who, "tok-") {
			hdr = map[string]string{"Authorization": "Bearer " + c.who}
		}
		rec := h.do(c.method, c.target, "", cookies[c.who], hdr)
		if rec.Code != c.want {
			t.Errorf("%s %s %s: %d, want %d", c.who, c.method, c.target, rec.Code, c.want)
		}
		if c.want != 200 && strings.Contains(rec.Body.String(), "handler ran") {
			t.Errorf("%s %s %s: handler ran", c.who, c.method, c.target)
		}
	}
}

func TestStepUpRequiresRecentVerification(t *testing.T) {
	var sess *Sessions
	h := seeded(newHarness(t, Config{},
		Route{Pattern: "POST /orgs/{org}/manage", Policy: OrgAdmin().WithStepUp(), Handler: http.HandlerFunc(ok)},
		Route{Pattern: "POST /verify", Policy: SignedIn(), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := sess.MarkVerified(r); err != nil {
				ServerError(w, r, "verify", err)
			}
		})}))
	sess = h.srv.Sessions()
	c := h.signIn(2)
	h.clock.Advance(StepUpWindow - time.Second)
	if got := h.do("POST", "/orgs/10/manage", "x=1", c, nil).Code; got != 200 {
		t.Fatalf("within the window: %d", got)
	}
	h.clock.Advance(2 * time.Second)
	// The form is kept for after the step-up (issue 14, bug 6): the
	// step-up leads to a page that sends it again, typed values and all.
	rec := h.do("POST", "/orgs/10/manage", "back=/orgs/10/members&name=R%C3%A9sum%C3%A9+%3Cb%3E", c, nil)
	loc := rec.Header().Get("Location")
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(loc, StepUpPath+"?next=%2Fresume%2F") {
		t.Fatalf("stale verification: %d %q, want redirect to step-up, then to the kept form", rec.Code, loc)
	}
	next, _ := url.QueryUnescape(strings.TrimPrefix(loc, StepUpPath+"?next="))
	if got := h.do("POST", "/verify", "", c, nil).Code; got != 200 {
		t.Fatal(got)
	}
	other := h.signIn(2) // another session of the same person
	if got := h.do("GET", next, "", other, nil).Code; got != http.StatusGone {
		t.Fatalf("another session took the kept form: %d", got)
	}
	page := h.do("GET", next, "", c, nil)
	if got := page.Code; got != http.StatusGone {
		t.Fatalf("a kept form survived an attempt by another session: %d", got)
	}
	if got := h.do("POST", "/orgs/10/manage", "x=1", c, nil).Code; got != 200 {
		t.Fatalf("after verification: %d", got)
	}
}

// TestStepUpKeepsTheForm: a form post interrupted by a step-up is sent
// again afterwards with what was typed, once, for that session only.
func TestStepUpKeepsTheForm(t *testing.T) {
	h := seeded(newHarness(t, Config{},
		Route{Pattern: "POST /orgs/{org}/manage", Policy: OrgAdmin().WithStepUp(), Handler: http.HandlerFunc(ok)}))
	c := h.signIn(2)
	h.clock.Advance(StepUpWindow + time.Second)
	rec := h.do("POST", "/orgs/10/manage", "name=R%C3%A9sum%C3%A9+%3Cb%3E&role=analyst", c, nil)
	next, _ := url.QueryUnescape(strings.TrimPrefix(rec.Header().Get("Location"), StepUpPath+"?next="))
	if !strings.HasPrefix(next, ResumePath) {
		t.Fatalf("step-up does not lead to the kept form: %q", rec.Header().Get("Location"))
	}
	page := h.do("GET", next, "", c, nil)
	body := page.Body.String()
	for _, want := range []string{`action="/orgs/10/manage"`, `name="name" value="Résumé &lt;b&gt;"`, `name="role" value="analyst"`, "js/resume.js"} {
		if !strings.Contains(body, want) {
			t.Errorf("resume page lacks %q:\n%s", want, body)
		}
	}
	if page.Code != http.StatusOK {
		t.Fatalf("resume page: %d", page.Code)
	}
	if again := h.do("GET", next, "", c, nil).Code; again != http.StatusGone {
		t.Fatalf("a kept form was offered twice: %d", again)
	}
}

func TestNavigationShowsOnlyWhatExistsAndIsAllowed(t *testing.T) {
	nav := navModule{
		routes: []Route{
			{Pattern: "GET /orgs", Policy: PlatformAdmin(), Handler: http.HandlerFunc(ok)},
			{Pattern: "GET /orgs/{org}", Policy: OrgRole(RoleViewer), Handler: http.HandlerFunc(ok)},
			{Pattern: "GET /orgs/{org}/members", Policy: OrgAdmin(), Handler: http.HandlerFunc(ok)},
		},
		items: []NavItem{
			{Label: "Organisations", Path: "/orgs", Policy: PlatformAdmin()},
			{Label: "My organisation", Path: "/orgs/{org}", Policy: OrgRole(RoleViewer)},
			{Label: "Members", Path: "/orgs/{org}/members", Policy: OrgRole(RoleOrgAdmin)},
			{Label: "Catalogue", Path: "/catalogue", Policy: Public()}, // no such route
		},
	}
	h := seeded(&harness{t: t, store: newFakeStore(), audit: &fakeAudit{}, clock: newClock()})
	rd, _ := NewRenderer()
	sess := NewSessions(h.store, false, h.clock.Now)
	srv, err := New(Config{}, Deps{Sessions: sess, Renderer: rd}, nav, testModule{{Pattern: "POST /test/signin", Policy: Public(),
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			uid := int64(len(r.URL.Query().Get("uid")))
			if err := sess.Start(w, r, uid); err != nil {
				t.Error(err)
			}
		})}})
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	login := func(uid int) *http.Cookie {
		rec := h.do("POST", "/test/signin?uid="+strings.Repeat("x", uid), "", nil, nil)
		return rec.Result().Cookies()[0]
	}
	cases := []struct {
		cookie  *http.Cookie
		want    []string
		notWant []string
	}{
		{nil, nil, []string{`href="/orgs"`, "Catalogue", "My organisation"}},
		{login(1), []string{`href="/orgs"`}, []string{"My organisation", "Catalogue", `href="/audit"`}}, // no audit route here
		{login(2), []string{`href="/orgs/10"`, `href="/orgs/10/members"`}, []string{`href="/orgs"`, `href="/audit"`}},
		{login(3), []string{`href="/orgs/10"`}, []string{`href="/orgs/10/members"`, `href="/audit"`}},
	}
	for i, c := range cases {
		body := h.do("GET", "/", "", c.cookie, nil).Body.String()
		nav := body
		if a, b := strings.Index(body, `<nav`), strings.Index(body, `</nav>`); a >= 0 && b > a {
			nav = body[a:b]
		} else {
			nav = ""
		}
		for _, w := range c.want {
			if !strings.Contains(nav, w) {
				t.Errorf("case %d: nav lacks %s:\n%s", i, w, nav)
			}
		}
		for _, w := range c.notWant {
			if strings.Contains(nav, w) {
				t.Errorf("case %d: nav shows %s:\n%s", i, w, nav)
			}
		}
	}
}

type navModule struct {
	routes []Route
	items  []NavItem
}

func (m navModule) Routes() []Route { return m.routes }
func (m navModule) Nav() []NavItem  { return m.items }

func TestRouteValidation(t *testing.T) {
	bad := []Route{
		{Pattern: "/x", Policy: Public(), Handler: http.HandlerFunc(ok)},
		{Pattern: "GET /x", Handler: http.HandlerFunc(ok)},
		{Pattern: "GET /x", Policy: OrgRole(RoleViewer), Handler: http.HandlerFunc(ok)},
		{Pattern: "GET /orgs/{org}", Policy: OrgRole("owner"), Handler: http.HandlerFunc(ok)},
		{Pattern: "GET /api/x", Policy: Token("admin"), Handler: http.HandlerFunc(ok)},
		{Pattern: "GET /x", Policy: Public()},
		{Pattern: "GET /x", Policy: SignedIn(), Static: true, Handler: http.HandlerFunc(ok)},
		{Pattern: "POST /x", Policy: SignedIn(), Long: true, Handler: http.HandlerFunc(ok)},
	}
	for _, rt := range bad {
		rd, _ := NewRenderer()
		if _, err := New(Config{}, Deps{Sessions: NewSessions(newFakeStore(), false, nil), Renderer: rd}, testModule{rt}); err == nil {
			t.Errorf("route %+v accepted", rt)
		}
	}
	rd, _ := NewRenderer()
	dup := testModule{{Pattern: "GET /x", Policy: Public(), Handler: http.HandlerFunc(ok)}, {Pattern: "GET /x", Policy: Public(), Handler: http.HandlerFunc(ok)}}
	if _, err := New(Config{}, Deps{Sessions: NewSessions(newFakeStore(), false, nil), Renderer: rd}, dup); err == nil {
		t.Error("duplicate route accepted")
	}
}

func clearsCookie(rec interface{ Result() *http.Response }, name string) bool {
	for _, c := range rec.Result().Cookies() {
		if c.Name == name && c.MaxAge < 0 {
			return true
		}
	}
	return false
}

func TestRefusalFloodDoesNotFloodTheAuditLog(t *testing.T) {
	h := seeded(newHarness(t, Config{}, Route{Pattern: "POST /form", Policy: Public(), Handler: http.HandlerFunc(ok)}))
	for i := 0; i < 200; i++ {
		if got := h.do("POST", "/form", "x=1", nil, map[string]string{"Sec-Fetch-Site": "cross-site"}).Code; got != http.StatusForbidden {
			t.Fatalf("request %d: %d, want 403", i, got)
		}
	}
	if n := len(h.audit.actions()); n == 0 || n > 10 {
		t.Fatalf("%d audit entries for 200 refusals from one address; want a few", n)
	}
}

func TestRenewReplacesSecretWithoutExtending(t *testing.T) {
	var sess *Sessions
	h := seeded(newHarness(t, Config{},
		Route{Pattern: "GET /page", Policy: SignedIn(), Handler: http.HandlerFunc(ok)},
		Route{Pattern: "POST /renew", Policy: SignedIn(), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := sess.Renew(w, r); err != nil {
				ServerError(w, r, "renew", err)
			}
		})}))
	sess = h.srv.Sessions()
	old := h.signIn(2)
	h.clock.Advance(20 * time.Minute)
	h.do("GET", "/page", "", old, nil)
	h.clock.Advance(20 * time.Minute)
	rec := h.do("POST", "/renew", "", old, nil)
	var fresh *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == old.Name {
			fresh = c
		}
	}
	if rec.Code != 200 || fresh == nil || fresh.Value == old.Value {
		t.Fatalf("renew: %d, cookie %+v", rec.Code, fresh)
	}
	if want := int((AbsoluteTimeout - 40*time.Minute) / time.Second); fresh.MaxAge != want {
		t.Errorf("renewed cookie max-age %d, want %d (absolute expiry kept)", fresh.MaxAge, want)
	}
	if got := h.do("GET", "/page", "", old, nil).Code; got != http.StatusSeeOther {
		t.Errorf("old secret after renewal: %d, want 303", got)
	}
	if got := h.do("GET", "/page", "", fresh, nil).Code; got != 200 {
		t.Errorf("new secret: %d", got)
	}
}

func TestMetricsOnlyForLoopbackUnlessPublic(t *testing.T) {
	for _, public := range []bool{false, true} {
		h := seeded(newHarness(t, Config{MetricsPublic: public}))
		h.do("GET", "/", "", nil, nil)
		for _, addr := range []string{"127.0.0.1:9", "[::1]:9", "203.0.113.9:9"} {
			r := newRequest("GET", "/metrics", nil)
			r.RemoteAddr = addr
			rec := serve(h, r)
			want := http.StatusOK
			if !public && addr == "203.0.113.9:9" {
				want = http.StatusNotFound
			}
			if rec.Code != want {
				t.Errorf("public=%v from %s: %d, want %d", public, addr, rec.Code, want)
			}
			if want == 200 && !strings.Contains(rec.Body.String(), `dfslab_http_requests_total{code="2xx",route="GET /{$}"} 1`) {
				t.Errorf("metrics lack the request count:\n%.500s", rec.Body.String())
			}
		}
	}
}

// TestTooLargeInThePage: an upload announced over the route's limit gets
// a 413 page of the signed-in person's site (header, not "signed out"),
// naming the limit, with a way back to the form (issue 14, bug 5).
func TestTooLargeInThePage(t *testing.T) {
	h := seeded(newHarness(t, Config{},
		Route{Pattern: "POST /orgs/{org}/upload", Policy: OrgRole(RoleViewer), MaxBody: 10<<20 + 64<<10, Handler: http.HandlerFunc(ok)}))
	c := h.signIn(orgA.User.ID)
	r := newRequest("POST", "/orgs/10/upload", strings.NewReader("x"))
	r.ContentLength = 11 << 20
	r.Header.Set("Referer", "http://example.com/orgs/1/tracking/APP-001")
	r.AddCookie(c)
	rec := serve(h, r)
	body := rec.Body.String()
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d", rec.Code)
	}
	for _, want := range []string{"limit of 10 MB", `href="/orgs/1/tracking/APP-001"`, orgA.User.Email} {
		if !strings.Contains(body, want) {
			t.Errorf("413 page lacks %q:\n%s", want, body)
		}
	}
	// Anonymous callers learn nothing about the route's limit.
	r = newRequest("POST", "/orgs/10/upload", strings.NewReader("x"))
	r.ContentLength = 11 << 20
	if rec := serve(h, r); rec.Code == http.StatusRequestEntityTooLarge {
		t.Errorf("anonymous oversized upload: 413 before authentication")
	}
}
