package web

import (
	"net/http"
	"strings"
	"testing"
)

// TestNavigationCache renders the navigation of several principals in an
// order where a cache keyed too coarsely would hand one principal's links
// (or marked entry) to another.
func TestNavigationCache(t *testing.T) {
	rd, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	routes := []Route{
		{Pattern: "GET /orgs", Policy: PlatformAdmin(), Handler: http.HandlerFunc(ok)},
		{Pattern: "GET /orgs/{org}", Policy: OrgRole(RoleViewer), Handler: http.HandlerFunc(ok)},
		{Pattern: "GET /orgs/{org}/members", Policy: OrgAdmin(), Handler: http.HandlerFunc(ok)},
		{Pattern: "GET /library", Policy: Public(), Handler: http.HandlerFunc(ok)},
		{Pattern: "GET /account", Policy: SignedIn(), Handler: http.HandlerFunc(ok)},
	}
	rd.setRoutes(routes, []NavItem{
		{Label: "Account", Path: "/account", Policy: SignedIn(), Order: 30},
		{Label: "Organisations", Path: "/orgs", Policy: PlatformAdmin(), Order: 20},
		{Label: "Organisation", Path: "/orgs/{org}", Policy: OrgRole(RoleViewer), Order: 10},
		{Label: "Members", Path: "/orgs/{org}/members", Policy: OrgRole(RoleOrgAdmin), Order: 11},
		{Label: "Library", Path: "/library", Policy: Public(), Order: 1},
	})
	two := &Principal{User: User{ID: 5}, Memberships: []Membership{
		{OrgID: 10, OrgName: "Regulator A", Role: RoleOrgAdmin}, {OrgID: 20, OrgName: "Bank <B>", Role: RoleViewer}}}
	renamed := &Principal{User: User{ID: 6}, Memberships: []Membership{
		{OrgID: 10, OrgName: "Regulator A2", Role: RoleOrgAdmin}, {OrgID: 20, OrgName: "Bank <B>", Role: RoleViewer}}}
	padmin := &Principal{User: User{ID: 1, PlatformAdmin: true}}
	cases := []struct {
		name    string
		p       *Principal
		org     int64
		path    string
		links   string // Label=Href, "*" marks the current entry
		htmlHas []string
	}{
		{"anonymous", nil, 0, "/library/x", "*Library=/library", []string{`aria-current="page">Library</a>`}},
		{"admin of 10", &orgA, 10, "/orgs/10/members", "Library=/library Organisation=/orgs/10 *Members=/orgs/10/members Account=/account", nil},
		{"viewer of 10, same org", &viewerA, 10, "/orgs/10/members", "Library=/library *Organisation=/orgs/10 Account=/account", nil},
		{"admin of 10 again, other page", &orgA, 10, "/orgs/10", "Library=/library *Organisation=/orgs/10 Members=/orgs/10/members Account=/account", nil},
		{"admin of 10, no match", &orgA, 10, "/elsewhere", "Library=/library Organisation=/orgs/10 Members=/orgs/10/members Account=/account", nil},
		// A member of two organisations gets one set of entries, for the
		// organisation worked in, with that organisation's role.
		{"two organisations, in 20", two, 20, "/orgs/20", "Library=/library *Organisation=/orgs/20 Account=/account", nil},
		{"two organisations, in 10", two, 10, "/orgs/10/members", "Library=/library Organisation=/orgs/10 *Members=/orgs/10/members Account=/account", nil},
		{"organisation renamed", renamed, 10, "/orgs/10", "Library=/library *Organisation=/orgs/10 Members=/orgs/10/members Account=/account", nil},
		{"not a member of the organisation", two, 30, "/library", "*Library=/library Account=/account", nil},
		{"platform admin", padmin, 0, "/orgs", "Library=/library *Organisations=/orgs Account=/account", nil},
	}
	for _, c := range cases {
		for range 2 { // the second round is served from the cache
			v, err := rd.navFor(c.p, c.path, c.org)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			var got []string
			for _, l := range v.links {
				s := l.Label + "=" + l.Href
				if l.Current {
					s = "*" + s
				}
				got = append(got, s)
			}
			if g := strings.Join(got, " "); g != c.links {
				t.Errorf("%s: links\n %s\nwant\n %s", c.name, g, c.links)
			}
			html := string(v.html)
			if n := strings.Count(html, "<li>"); n != len(v.links) {
				t.Errorf("%s: %d list items for %d links", c.name, n, len(v.links))
			}
			if want := strings.Count(c.links, "*"); strings.Count(html, "aria-current") != want {
				t.Errorf("%s: html marks %d entries current, want %d:\n%s", c.name, strings.Count(html, "aria-current"), want, html)
			}
			for _, h := range c.htmlHas {
				if !strings.Contains(html, h) {
					t.Errorf("%s: html lacks %s:\n%s", c.name, h, html)
				}
			}
		}
	}
}

// TestBadgesRendered checks the cached badge markup: escaped, the count
// shown only when non-zero, and a changed count rendered anew rather than
// served from the cache.
func TestBadgesRendered(t *testing.T) {
	rd, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	b := Badge{ID: "bell", Label: "Alerts <new>", Href: "/alerts?x=1&y=2"}
	cases := []struct {
		count int
		want  string
	}{
		{0, "\n      " + `<a class="btn btn-quiet" href="/alerts?x=1&amp;y=2" id="bell">Alerts &lt;new&gt;</a>`},
		{3, "\n      " + `<a class="btn btn-quiet" href="/alerts?x=1&amp;y=2" id="bell">Alerts &lt;new&gt; <span class="badge" aria-label="3 unread">3</span></a>`},
		{0, "\n      " + `<a class="btn btn-quiet" href="/alerts?x=1&amp;y=2" id="bell">Alerts &lt;new&gt;</a>`},
	}
	for _, c := range cases {
		b.Count = c.count
		got, err := rd.badgesHTML([]Badge{b})
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != c.want {
			t.Errorf("count %d:\n got %q\nwant %q", c.count, got, c.want)
		}
	}
	two, _ := rd.badgesHTML([]Badge{b, {ID: "x", Label: "X", Href: "/x", Count: 1}})
	if strings.Count(string(two), "<a ") != 2 || !strings.Contains(string(two), `id="x">X <span`) {
		t.Errorf("two badges: %q", two)
	}
}
