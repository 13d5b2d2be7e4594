package adoption

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/web"
)

// The public summary is read without signing in, so its cost is bounded
// twice: each address gets publicPerMinute pages a minute, and the
// aggregates of a country are computed at most once per publicTTL (the
// published flag is still read on every request, so that withdrawing the
// page takes effect at once on every node).
const (
	publicPerMinute = 60
	publicTTL       = time.Minute
	publicMaxAddrs  = 10000
	publicPage      = 50
)

// addrLimiter counts requests per address in fixed one-minute windows.
type addrLimiter struct {
	mu   sync.Mutex
	now  func() time.Time
	hits map[string]addrWindow
}

type addrWindow struct {
	start time.Time
	n     int
}

// allow reports whether addr may make another request now, and if not,
// how long until it may.
func (l *addrLimiter) allow(addr string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.hits == nil {
		l.hits = map[string]addrWindow{}
	}
	w, ok := l.hits[addr]
	if !ok || now.Sub(w.start) >= time.Minute {
		if !ok && len(l.hits) >= publicMaxAddrs {
			for k, v := range l.hits {
				if now.Sub(v.start) >= time.Minute {
					delete(l.hits, k)
				}
			}
			if len(l.hits) >= publicMaxAddrs {
				// Memory stays bounded; under such a flood an unknown
				// address waits for the windows to end.
				return false, time.Minute
			}
		}
		w = addrWindow{start: now}
	}
	if w.n >= publicPerMinute {
		return false, time.Minute - now.Sub(w.start)
	}
	w.n++
	l.hits[addr] = w
	return true, 0
}

// summaryCache keeps each country's computed public summary for publicTTL.
type summaryCache struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]cachedSummary
}

type cachedSummary struct {
	at time.Time
	ps PublicSummary
}

func (c *summaryCache) get(country string) (PublicSummary, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[country]
	if !ok || c.now().Sub(e.at) >= publicTTL {
		return PublicSummary{}, false
	}
	return e.ps, true
}

func (c *summaryCache) put(country string, ps PublicSummary) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]cachedSummary{}
	}
	c.m[country] = cachedSummary{at: c.now(), ps: ps}
}

func (c *summaryCache) drop(country string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, country)
}

// limitPublic answers 429 when an anonymous caller's address is over its
// budget. Signed-in readers are known to the platform and are bounded
// like every other page (the shell's admission limit).
func (m *Module) limitPublic(w http.ResponseWriter, r *http.Request) bool {
	if web.CurrentPrincipal(r.Context()) != nil {
		return true
	}
	if ok, wait := m.publicLimit.allow(audit.ActorFrom(r.Context()).IP); !ok {
		web.TooManyRequests(w, r, wait)
		return false
	}
	return true
}

// renderPublic renders a public page: cacheable by shared caches when
// nobody is signed in (the layout then names no one).
func (m *Module) renderPublic(w http.ResponseWriter, r *http.Request, page, title string, data any) {
	h := w.Header()
	h.Set("Vary", "Cookie")
	if web.CurrentPrincipal(r.Context()) == nil {
		h.Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(publicTTL.Seconds())))
	} else {
		h.Set("Cache-Control", "private, no-store")
	}
	m.pages.Render(w, r, http.StatusOK, page, web.View{Title: title, Data: data})
}

type publicListData struct{ Countries []string }

func (m *Module) publicList(w http.ResponseWriter, r *http.Request) {
	if !m.limitPublic(w, r) {
		return
	}
	cs, err := m.store.PublicCountries(r.Context())
	if err != nil {
		web.ServerError(w, r, "public summaries", err)
		return
	}
	m.renderPublic(w, r, "public_list.html", "National DFS security baselines", publicListData{Countries: cs})
}

type publicData struct {
	Summary PublicSummary
	Rows    []versionRow // the page of items
	Offset  int
	Prev    string
	Next    string
	Min     int
}

// validCountry accepts two capital letters only, so that a crafted path
// reaches no query and no page.
func validCountry(c string) bool {
	return len(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z'
}

func (m *Module) publicSummary(w http.ResponseWriter, r *http.Request) {
	if !m.limitPublic(w, r) {
		return
	}
	country := r.PathValue("country")
	if !validCountry(country) {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	off := 0
	if v := r.URL.Query().Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			web.Error(w, r, http.StatusBadRequest)
			return
		}
		off = n
	}
	// The flag is read every time; the aggregates come from the cache.
	st, err := publicState(r.Context(), m.store.db, country)
	if err != nil {
		web.ServerError(w, r, "public summary", err)
		return
	}
	if !st.Published {
		m.publicCache.drop(country)
		web.Error(w, r, http.StatusNotFound)
		return
	}
	ps, ok := m.publicCache.get(country)
	if !ok {
		ps, err = m.store.PublicSummary(r.Context(), country)
		if errors.Is(err, ErrNotFound) {
			web.Error(w, r, http.StatusNotFound)
			return
		}
		if err != nil {
			web.ServerError(w, r, "public summary", err)
			return
		}
		m.publicCache.put(country, ps)
	}
	d := publicData{Summary: ps, Offset: min(off, len(ps.Rows)), Min: MinAggregate}
	d.Rows = ps.Rows[d.Offset:min(d.Offset+publicPage, len(ps.Rows))]
	page := func(n int) string { return fmt.Sprintf("/public/baselines/%s?offset=%d#items-title", country, n) }
	if d.Offset > 0 {
		d.Prev = page(max(d.Offset-publicPage, 0))
	}
	if d.Offset+publicPage < len(ps.Rows) {
		d.Next = page(d.Offset + publicPage)
	}
	m.renderPublic(w, r, "public.html", "National DFS security baseline · "+country, d)
}

// ---- the regulators' settings of reports and the public page ---------------

type baselineSettingsData struct {
	Org        Org
	Roles      []string
	RolesText  string // as typed, kept when refused
	Public     PublicState
	CanEdit    bool // analysts and admins set the roles
	CanPublish bool // admins publish the public page
	Problem    string
	Field      string
}

func (m *Module) baselineSettings(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok {
		return
	}
	flash := map[string]string{"roles": "Attestation roles saved.", "public": "Public summary updated."}[r.URL.Query().Get("done")]
	m.renderBaselineSettings(w, r, o, http.StatusOK, nil, "", "", flash)
}

func (m *Module) renderBaselineSettings(w http.ResponseWriter, r *http.Request, o Org, status int, typed *string, problem, field, flash string) {
	if !o.IsRegulator() {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	roles, err := m.store.AttestRoles(r.Context(), o.Country)
	if err != nil {
		m.fail(w, r, "attestation roles", err)
		return
	}
	st, err := m.store.PublicSummaryState(r.Context(), o)
	if err != nil {
		m.fail(w, r, "public summary", err)
		return
	}
	ro := web.PathRole(r)
	d := baselineSettingsData{Org: o, Roles: roles, Public: st, CanEdit: ro.AtLeast(web.RoleAnalyst), CanPublish: ro.AtLeast(web.RoleOrgAdmin),
		Problem: problem, Field: field}
	if typed != nil {
		d.RolesText = *typed
	} else {
		for i, ro := range roles {
			if i > 0 {
				d.RolesText += "\n"
			}
			d.RolesText += ro
		}
	}
	m.render(w, r, status, "baseline_settings.html", "Reports and public page · "+o.Country, d, flash)
}

func (m *Module) setAttestRoles(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	text := r.PostFormValue("roles")
	_, err := m.store.SetAttestRoles(r.Context(), o, text)
	var ie *InvalidError
	if errors.As(err, &ie) {
		m.renderBaselineSettings(w, r, o, http.StatusBadRequest, &text, ie.Problem, ie.Field, "")
		return
	}
	if err != nil {
		m.fail(w, r, "attestation roles", err)
		return
	}
	http.Redirect(w, r, orgPath(o, "/baseline/settings?done=roles"), http.StatusSeeOther)
}

func (m *Module) setPublic(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	if !o.IsRegulator() {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	on, ok := onOff(r)
	if !ok {
		m.renderBaselineSettings(w, r, o, http.StatusBadRequest, nil, "Choose to publish or to withdraw the public summary (field \"on\").", "on", "")
		return
	}
	err := m.store.SetPublicSummary(r.Context(), o, on)
	var ie *InvalidError
	if errors.As(err, &ie) {
		m.renderBaselineSettings(w, r, o, http.StatusBadRequest, nil, ie.Problem, ie.Field, "")
		return
	}
	if err != nil {
		m.fail(w, r, "public summary", err)
		return
	}
	m.publicCache.drop(o.Country)
	http.Redirect(w, r, orgPath(o, "/baseline/settings?done=public"), http.StatusSeeOther)
}
