package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// CurrentOrgPath is where the organisation switcher posts.
const CurrentOrgPath = "/current-org"

// The organisation a member of several works in is remembered in a
// cookie of its own. It chooses what the navigation and the home page
// show, and grants nothing: every request is still authorised against the
// organisation its path names, and a value naming an organisation the
// user is not (or no longer) a member of is ignored. It is not the
// session cookie, so switching does not touch the session; the __Host-
// prefix and SameSite keep other sites from setting or sending it.
const (
	secureOrgCookie   = "__Host-dfslab_org"
	insecureOrgCookie = "dfslab_org"
	// orgCookieAge: the choice outlives sessions (people sign in again
	// and expect to be where they were).
	orgCookieAge = 365 * 24 * time.Hour
)

func (m *Sessions) orgCookieName() string {
	if m.secure {
		return secureOrgCookie
	}
	return insecureOrgCookie
}

func (m *Sessions) orgCookie(orgID int64) *http.Cookie {
	return &http.Cookie{
		Name: m.orgCookieName(), Value: strconv.FormatInt(orgID, 10), Path: "/",
		MaxAge: int(orgCookieAge.Seconds()), Secure: m.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	}
}

// CurrentOrg returns the membership the request works in: the
// organisation named in the path when the user is a member of it, else
// the one the switcher remembered if the user is still a member, else the
// first membership. ok is false for anonymous requests, API tokens and
// users without memberships.
func CurrentOrg(r *http.Request) (Membership, bool) {
	ri := info(r.Context())
	p := ri.principal
	if p == nil || p.IsToken() || len(p.Memberships) == 0 {
		return Membership{}, false
	}
	if m, ok := p.membership(ri.orgID); ok {
		return m, true
	}
	if ri.srv != nil {
		if c, err := r.Cookie(ri.srv.sessions.orgCookieName()); err == nil {
			if id, err := strconv.ParseInt(c.Value, 10, 64); err == nil {
				if m, ok := p.membership(id); ok {
					return m, true
				}
			}
		}
	}
	return p.Memberships[0], true
}

// rememberOrg makes orgID the remembered organisation when a member
// opens one of its pages (from a link, a bookmark), so that the pages
// outside any organisation that follow show the same one.
func (s *Server) rememberOrg(w http.ResponseWriter, r *http.Request, orgID int64) {
	if c, err := r.Cookie(s.sessions.orgCookieName()); err == nil && c.Value == strconv.FormatInt(orgID, 10) {
		return
	}
	http.SetCookie(w, s.sessions.orgCookie(orgID))
}

// membership returns p's membership of orgID (none for a nil p).
func (p *Principal) membership(orgID int64) (Membership, bool) {
	if p == nil || orgID == 0 {
		return Membership{}, false
	}
	for _, m := range p.Memberships {
		if m.OrgID == orgID {
			return m, true
		}
	}
	return Membership{}, false
}

// switchOrg remembers the organisation chosen in the switcher and goes
// back to the page it was chosen on: on a page of the previous
// organisation, the same section of the chosen one when the person may
// see it there, else the chosen organisation's page.
func (s *Server) switchOrg(w http.ResponseWriter, r *http.Request) {
	if !ParseForm(w, r) {
		return
	}
	p := CurrentPrincipal(r.Context())
	id, err := strconv.ParseInt(r.PostFormValue("org"), 10, 64)
	if err != nil || id <= 0 {
		s.rd.renderErrorBack(w, r, http.StatusBadRequest, "Choose one of your organisations.", backPath(r))
		return
	}
	m, ok := p.membership(id)
	if !ok {
		// Not a member: as for the organisation's pages, no hint whether
		// the ID is taken; and nothing is remembered.
		Error(w, r, http.StatusNotFound)
		return
	}
	http.SetCookie(w, s.sessions.orgCookie(m.OrgID))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, s.rd.pathInOrg(p, m, backPath(r)), http.StatusSeeOther)
}

// backPath is the form's "next" field when it is a path of this site,
// else "/".
func backPath(r *http.Request) string {
	if n := r.PostFormValue("next"); LocalPath(n) {
		return n
	}
	return "/"
}

// pathInOrg maps next, a page the person was on, to the matching page of
// the organisation m: /orgs/7/apps/versions/3 becomes /orgs/9/apps (the
// version is organisation 7's), or /orgs/9 when the section is not in
// m's navigation. Paths outside /orgs/{id} stay as they are.
func (rd *Renderer) pathInOrg(p *Principal, m Membership, next string) string {
	rest, ok := strings.CutPrefix(next, "/orgs/")
	if !ok {
		return next
	}
	idPart, rest, _ := strings.Cut(rest, "/")
	if _, err := strconv.ParseInt(idPart, 10, 64); err != nil {
		return next
	}
	base := "/orgs/" + strconv.FormatInt(m.OrgID, 10)
	section, _, _ := strings.Cut(rest, "/")
	section, _, _ = strings.Cut(section, "?")
	if section == "" {
		return base
	}
	want := base + "/" + section
	for _, l := range rd.navLinks(p, m.OrgID) {
		if l.Href == want {
			return want
		}
	}
	return base
}

// orgChoice is one entry of the organisation switcher.
type orgChoice struct {
	ID      int64
	Name    string
	Current bool
}
