package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// switchModule is a test module with navigation entries.
type switchModule struct {
	routes []Route
	nav    []NavItem
}

func (m switchModule) Routes() []Route { return m.routes }
func (m switchModule) Nav() []NavItem  { return m.nav }

// newSwitchHarness is a server with organisation pages and navigation,
// and user 5, org admin of 10 and viewer of 20.
func newSwitchHarness(t *testing.T) (*harness, *http.Cookie) {
	t.Helper()
	h := &harness{t: t, store: newFakeStore(), audit: &fakeAudit{}, clock: newClock()}
	rd, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	sess := NewSessions(h.store, false, h.clock.Now)
	signin := Route{Pattern: "POST /test/signin", Policy: Public(), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := sess.Start(w, r, 5); err != nil {
			ServerError(w, r, "start", err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})}
	page := func(w http.ResponseWriter, r *http.Request) {
		rd.execute(w, r, http.StatusOK, rd.raw, View{Title: "Page", Data: ""})
	}
	mod := switchModule{
		routes: []Route{
			signin,
			{Pattern: "GET /orgs/{org}", Policy: OrgRole(RoleViewer), Handler: http.HandlerFunc(page)},
			{Pattern: "GET /orgs/{org}/members", Policy: OrgAdmin(), Handler: http.HandlerFunc(page)},
			{Pattern: "GET /orgs/{org}/apps", Policy: OrgRole(RoleViewer), Handler: http.HandlerFunc(page)},
			{Pattern: "GET /discussions", Policy: SignedIn(), Handler: http.HandlerFunc(page)},
		},
		nav: []NavItem{
			{Label: "Organisation", Path: "/orgs/{org}", Policy: OrgRole(RoleViewer), Order: 1},
			{Label: "Members", Path: "/orgs/{org}/members", Policy: OrgRole(RoleOrgAdmin), Order: 2},
			{Label: "App lab", Path: "/orgs/{org}/apps", Policy: OrgRole(RoleViewer), Order: 3},
			{Label: "Discussions", Path: "/discussions", Policy: SignedIn(), Order: 4},
		},
	}
	h.store.addUser(Principal{User: User{ID: 5, Email: "two@example.org"}, Memberships: []Membership{
		{OrgID: 10, OrgName: "Regulator A", Role: RoleOrgAdmin}, {OrgID: 20, OrgName: "Bank <B>", Role: RoleViewer}}})
	h.srv, err = New(Config{}, Deps{Sessions: sess, Audit: h.audit, Renderer: rd}, mod)
	if err != nil {
		t.Fatal(err)
	}
	return h, h.signIn(5)
}

func orgCookieOf(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == insecureOrgCookie {
			return c
		}
	}
	return nil
}

func navHrefs(body string) []string {
	i := strings.Index(body, `id="nav-main"`)
	if i < 0 {
		return nil
	}
	nav, _, _ := strings.Cut(body[i:], "</nav>")
	var out []string
	for _, part := range strings.Split(nav, `href="`)[1:] {
		href, _, _ := strings.Cut(part, `"`)
		out = append(out, href)
	}
	return out
}

// TestOrgSwitcher: a member of two organisations sees one set of entries,
// for the organisation chosen; the choice is remembered in a cookie that
// grants nothing.
func TestOrgSwitcher(t *testing.T) {
	h, sess := newSwitchHarness(t)
	with := func(org string) []*http.Cookie {
		cs := []*http.Cookie{sess}
		if org != "" {
			cs = append(cs, &http.Cookie{Name: insecureOrgCookie, Value: org})
		}
		return cs
	}
	get := func(path string, cookies []*http.Cookie) (int, string, *http.Response) {
		t.Helper()
		r := newRequest("GET", path, nil)
		for _, c := range cookies {
			r.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, r)
		return rec.Code, rec.Body.String(), rec.Result()
	}
	post := func(form string, cookies []*http.Cookie) *http.Response {
		t.Helper()
		r := newRequest("POST", CurrentOrgPath, strings.NewReader(form))
		for _, c := range cookies {
			r.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, r)
		return rec.Result()
	}

	// No choice yet: the first organisation.
	_, body, _ := get("/discussions", with(""))
	if got := strings.Join(navHrefs(body), " "); got != "/orgs/10 /orgs/10/members /orgs/10/apps /discussions" {
		t.Errorf("navigation before any choice: %s", got)
	}
	if !strings.Contains(body, `<option value="10" selected>Regulator A</option>`) || !strings.Contains(body, `<option value="20">Bank &lt;B&gt;</option>`) {
		t.Errorf("switcher does not offer both organisations, escaped, with 10 chosen:\n%s", body)
	}
	if !strings.Contains(body, `name="next" value="/discussions"`) {
		t.Error("switcher does not come back to the page")
	}

	// Choosing 20 on a page of 10 that a viewer of 20 may not see: the
	// organisation page of 20, and the cookie remembers it.
	resp := post("org=20&next=/orgs/10/members", with(""))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/orgs/20" {
		t.Fatalf("switch to 20: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	c := orgCookieOf(resp)
	if c == nil || c.Value != "20" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge <= 0 {
		t.Fatalf("org cookie %+v", c)
	}
	// A section the new organisation's role allows is kept.
	if resp := post("org=20&next=/orgs/10/apps/versions/3", with("10")); resp.Header.Get("Location") != "/orgs/20/apps" {
		t.Errorf("switch from an app version: → %q, want /orgs/20/apps", resp.Header.Get("Location"))
	}
	// Pages outside organisations stay; other sites are not a destination.
	if resp := post("org=10&next=/discussions?page=2", with("20")); resp.Header.Get("Location") != "/discussions?page=2" {
		t.Errorf("switch on discussions: → %q", resp.Header.Get("Location"))
	}
	for _, next := range []string{"https://evil.example/", "//evil.example/x", `/\evil.example`} {
		if resp := post("org=10&next="+next, with("20")); resp.Header.Get("Location") != "/" {
			t.Errorf("switch with next=%s: → %q, want /", next, resp.Header.Get("Location"))
		}
	}

	// With 20 chosen: one set of entries, 20's, without Members (viewer).
	_, body, _ = get("/discussions", with("20"))
	if got := strings.Join(navHrefs(body), " "); got != "/orgs/20 /orgs/20/apps /discussions" {
		t.Errorf("navigation with 20 chosen: %s", got)
	}
	if strings.Contains(body, "/orgs/10") {
		t.Errorf("navigation still lists the other organisation:\n%s", body)
	}

	// The path wins over the cookie, and opening a page of an organisation
	// remembers it.
	code, body, resp := get("/orgs/10/members", with("20"))
	if code != 200 || !strings.Contains(strings.Join(navHrefs(body), " "), "/orgs/10/members") {
		t.Errorf("page of 10 with 20 chosen: %d %v", code, navHrefs(body))
	}
	if c := orgCookieOf(resp); c == nil || c.Value != "10" {
		t.Errorf("opening a page of 10 did not remember it: %+v", c)
	}
	if _, _, resp := get("/orgs/10", with("10")); orgCookieOf(resp) != nil {
		t.Error("the cookie is set again although it already names 10")
	}

	// Another organisation: refused, nothing remembered; a forged cookie
	// grants nothing and is ignored.
	resp = post("org=30&next=/", with("10"))
	if resp.StatusCode != http.StatusNotFound || orgCookieOf(resp) != nil {
		t.Errorf("switch to a foreign organisation: %d, cookie %+v", resp.StatusCode, orgCookieOf(resp))
	}
	if code, _, _ := get("/orgs/30", with("30")); code != http.StatusNotFound {
		t.Errorf("foreign organisation page with its ID in the cookie: %d", code)
	}
	_, body, _ = get("/discussions", with("30"))
	if got := strings.Join(navHrefs(body), " "); got != "/orgs/10 /orgs/10/members /orgs/10/apps /discussions" {
		t.Errorf("navigation with a forged cookie: %s", got)
	}
	for _, form := range []string{"", "org=x", "org=-1"} {
		if resp := post(form, with("")); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("switch with %q: %d, want 400", form, resp.StatusCode)
		}
	}
	// Signed out: no switching.
	if resp := post("org=10", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("switch signed out: %d", resp.StatusCode)
	}
}

// TestOrgNameSingleMembership: a member of one organisation gets its
// name, not a switcher.
func TestOrgNameSingleMembership(t *testing.T) {
	h := newHarness(t, Config{}, Route{Pattern: "GET /p", Policy: SignedIn(), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info(r.Context()).srv.rd.execute(w, r, http.StatusOK, info(r.Context()).srv.rd.raw, View{Title: "P"})
	})})
	h.store.addUser(orgA)
	rec := h.do("GET", "/p", "", h.signIn(orgA.User.ID), nil)
	body := rec.Body.String()
	if !strings.Contains(body, `id="org-name">Regulator A<`) || strings.Contains(body, "org-switch") {
		t.Errorf("single membership:\n%s", body)
	}
}
