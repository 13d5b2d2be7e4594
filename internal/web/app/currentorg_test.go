package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/identity"
)

// TestOrgSwitcherAcrossOrganisations: on the wired platform, a member of
// both organisations gets one set of organisation entries, for the one
// chosen; a member of one cannot choose the other, and the remembered
// choice opens nothing.
func TestOrgSwitcherAcrossOrganisations(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if err := w.app.Identity.AddMember(ctx, w.orgB, w.users["admin-a"], identity.RoleViewer); err != nil {
		t.Fatal(err)
	}
	a, b := strconv.FormatInt(w.orgA, 10), strconv.FormatInt(w.orgB, 10)
	admin := w.cookie("admin-a")
	page := func(target string, cookies ...*http.Cookie) string {
		t.Helper()
		r := newGet(target)
		for _, c := range cookies {
			r.AddCookie(c)
		}
		rec := recorder()
		w.app.Server.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d", target, rec.Code)
		}
		body := rec.Body.String()
		nav, _, _ := strings.Cut(body[strings.Index(body, `id="nav-main"`):], "</nav>")
		return nav
	}
	nav := page("/discussions", admin)
	if strings.Count(nav, `href="/orgs/`) == 0 || strings.Contains(nav, "/orgs/"+a) == strings.Contains(nav, "/orgs/"+b) || strings.Contains(nav, " · ") {
		t.Errorf("navigation of a member of two organisations, before choosing:\n%s", nav)
	}

	// Choosing A then B, from a page of A.
	if rec := w.do("POST", "/current-org", "org="+a, admin, ""); rec.Code != http.StatusSeeOther {
		t.Fatalf("switch to A: %d", rec.Code)
	}
	rec := w.do("POST", "/current-org", "org="+b+"&next=%2Forgs%2F"+a+"%2Fapps", admin, "")
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/orgs/"+b+"/apps" {
		t.Fatalf("switch to B: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	var remembered *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == "dfslab_org" {
			remembered = c
		}
	}
	if remembered == nil || remembered.Value != b {
		t.Fatalf("choice not remembered: %+v", rec.Result().Cookies())
	}
	nav = page("/discussions", admin, remembered)
	if !strings.Contains(nav, `href="/orgs/`+b+`/apps"`) || strings.Contains(nav, "/orgs/"+a) || strings.Contains(nav, "/orgs/"+b+"/members") {
		t.Errorf("navigation with B chosen (a viewer there):\n%s", nav)
	}

	// viewer-a is not a member of B: no switching there, and a cookie
	// naming B opens none of B's pages.
	viewer := w.cookie("viewer-a")
	if rec := w.do("POST", "/current-org", "org="+b, viewer, ""); rec.Code != http.StatusNotFound || len(rec.Result().Cookies()) != 0 {
		t.Errorf("switch to a foreign organisation: %d, cookies %v", rec.Code, rec.Result().Cookies())
	}
	r := newGet("/orgs/" + b + "/apps")
	r.AddCookie(viewer)
	r.AddCookie(&http.Cookie{Name: "dfslab_org", Value: b})
	rec = recorder()
	w.app.Server.ServeHTTP(rec, r)
	if rec.Code != http.StatusNotFound {
		t.Errorf("foreign app lab with the organisation cookie: %d", rec.Code)
	}
}

func newGet(target string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.RemoteAddr = "198.51.100.9:5000"
	return r
}
