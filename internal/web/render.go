package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed templates/*.html
var layoutFS embed.FS

//go:embed static
var staticFS embed.FS

// View is what a handler hands to Render: the page title and the page's
// own data, reachable in its template as .Data.
type View struct {
	Title string
	Data  any
	// Flash is a one-line notice shown above the content (role="status").
	Flash string
}

// layoutData is the dot of every page template. The View's fields are
// copied rather than embedded: html/template looks fields up by name on
// every access, and a promoted field takes reflect's slow path.
type layoutData struct {
	Title     string
	Data      any
	Flash     string
	User      *User
	UserName  string // User.Name(), worked out once: a method call in a template is a reflective look-up
	Nav       []navLink
	NavHTML   template.HTML // Nav rendered, shared by every page with the same navigation (navCache)
	Path      string
	RequestID string
	SignIn    bool // a sign-in page exists
	SignOut   bool // a sign-out endpoint exists
	Status    int
	CSS       string  // versioned stylesheet URL, computed once
	Badges    []Badge // from the modules' Indicators, signed-in users only
	// BadgesHTML is Badges rendered; each distinct badge is rendered once
	// (badgeCache), as most pages show the same counts as the last one.
	BadgesHTML template.HTML
	// Orgs are the choices of the organisation switcher, shown to members
	// of more than one organisation; OrgName names the only one otherwise.
	Orgs    []orgChoice
	OrgName string
	// Next is the page to come back to after switching (the request's
	// path and query).
	Next string
}

type navLink struct {
	Label   string
	Href    string
	Current bool
}

// Renderer renders pages inside the shared layout. Templates are parsed
// once, at start-up; a render executes into a pooled buffer so that a
// template error never sends half a page.
type Renderer struct {
	layout    *template.Template
	errPage   *template.Template
	raw       *template.Template
	css       string
	assets    *assets
	nav       []NavItem
	exists    map[string]bool // registered route patterns
	bufs      sync.Pool
	chrome    *template.Template // "nav" and "badge", rendered once and cached
	navs      navCache
	badgeHTML badgeCache
	signIn    bool // a sign-in page exists
	signOut   bool // a sign-out endpoint exists

	indicators []Indicator
}

// NewRenderer parses the shared layout and indexes the shell's static
// assets plus those of the given static trees (see StaticTree).
func NewRenderer(trees ...StaticTree) (*Renderer, error) {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	a, err := newAssets(append([]StaticTree{{Prefix: "", FS: sub}}, trees...))
	if err != nil {
		return nil, err
	}
	rd := &Renderer{assets: a, exists: map[string]bool{}}
	if rd.css, err = a.url("css/app.css"); err != nil {
		return nil, err
	}
	rd.bufs.New = func() any { return new(bytes.Buffer) }
	rd.layout, err = template.New("layout").Funcs(rd.funcs()).ParseFS(layoutFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	rd.chrome, err = template.New("chrome").ParseFS(layoutFS, "templates/nav.html", "templates/badge.html")
	if err != nil {
		return nil, fmt.Errorf("parse navigation and badges: %w", err)
	}
	rd.errPage, err = rd.parse(layoutFS, "templates/error.html")
	if err != nil {
		return nil, err
	}
	rd.raw, err = rd.parse(layoutFS, "templates/raw.html")
	if err != nil {
		return nil, err
	}
	return rd, nil
}

func (rd *Renderer) funcs() template.FuncMap {
	return template.FuncMap{
		"asset": rd.assets.url,
		"date": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"roles": Roles,
	}
}

func (rd *Renderer) parse(fsys fs.FS, file string) (*template.Template, error) {
	t, err := rd.layout.Clone()
	if err != nil {
		return nil, err
	}
	t, err = t.ParseFS(fsys, file)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", file, err)
	}
	if t.Lookup("content") == nil {
		return nil, fmt.Errorf("%s defines no \"content\" template", file)
	}
	return t, nil
}

// Pages is a capability package's set of page templates.
type Pages struct {
	rd     *Renderer
	byName map[string]*template.Template
}

// Pages parses the page templates of a capability package: each file
// matched by the patterns defines {{define "content"}} (and may define
// "head" for extra <head> elements) and is rendered inside the layout
// under its base name.
func (rd *Renderer) Pages(fsys fs.FS, patterns ...string) (*Pages, error) {
	ps := &Pages{rd: rd, byName: map[string]*template.Template{}}
	for _, pat := range patterns {
		files, err := fs.Glob(fsys, pat)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			t, err := rd.parse(fsys, f)
			if err != nil {
				return nil, err
			}
			ps.byName[path.Base(f)] = t
		}
	}
	if len(ps.byName) == 0 {
		return nil, fmt.Errorf("no page templates match %q", patterns)
	}
	return ps, nil
}

// Render writes the page name with status inside the layout.
func (ps *Pages) Render(w http.ResponseWriter, r *http.Request, status int, name string, v View) {
	t := ps.byName[name]
	if t == nil {
		logf(r, "render: no page template %q", name)
		Error(w, r, http.StatusInternalServerError)
		return
	}
	ps.rd.execute(w, r, status, t, v)
}

func (rd *Renderer) execute(w http.ResponseWriter, r *http.Request, status int, t *template.Template, v View) {
	d := layoutData{Title: v.Title, Data: v.Data, Flash: v.Flash, Path: r.URL.Path, RequestID: RequestID(r.Context()), Status: status, CSS: rd.css,
		SignIn: rd.signIn, SignOut: rd.signOut}
	p := CurrentPrincipal(r.Context())
	if p != nil && p.IsToken() {
		p = nil
	}
	if p != nil {
		d.User, d.UserName = &p.User, p.User.Name()
		d.Badges = rd.badges(r, p)
	}
	cur, hasOrg := CurrentOrg(r)
	if hasOrg {
		if len(p.Memberships) == 1 {
			d.OrgName = cur.OrgName
		} else {
			d.Orgs = make([]orgChoice, len(p.Memberships))
			for i, m := range p.Memberships {
				d.Orgs[i] = orgChoice{ID: m.OrgID, Name: m.OrgName, Current: m.OrgID == cur.OrgID}
			}
			d.Next = r.URL.RequestURI()
		}
	}
	buf := rd.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		// A buffer grown by an exceptionally large page is dropped rather
		// than kept in the pool for every later small one.
		if buf.Cap() <= maxPooledBuf {
			rd.bufs.Put(buf)
		}
	}()
	var err error
	d.BadgesHTML, err = rd.badgesHTML(d.Badges)
	var nav navVariant
	if err == nil {
		nav, err = rd.navFor(p, r.URL.Path, cur.OrgID)
	}
	if err == nil {
		d.Nav, d.NavHTML = nav.links, nav.html
		err = t.ExecuteTemplate(buf, "layout", d)
	}
	if err != nil {
		logf(r, "render %s: %v", t.Name(), err)
		if t != rd.errPage {
			rd.renderError(w, r, http.StatusInternalServerError)
		} else {
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		}
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// maxPooledBuf is the largest render buffer kept for reuse.
const maxPooledBuf = 1 << 20

// errorView is the data of the generic error page: the status and the
// request ID, nothing from the failure itself.
type errorView struct {
	Status  int
	Message string
	Back    string // a page of this site to return to, or ""
}

func (rd *Renderer) renderError(w http.ResponseWriter, r *http.Request, status int) {
	msg := errorMessages[status]
	if msg == "" {
		msg = "The request could not be completed."
	}
	rd.renderErrorMessage(w, r, status, msg)
}

// renderErrorMessage is the error page with a message of the shell's own
// (never the text of an internal error).
func (rd *Renderer) renderErrorMessage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	rd.execute(w, r, status, rd.errPage, View{Title: http.StatusText(status), Data: errorView{Status: status, Message: msg}})
}

// renderErrorBack is renderErrorMessage with a link back to the page the
// request came from.
func (rd *Renderer) renderErrorBack(w http.ResponseWriter, r *http.Request, status int, msg, back string) {
	rd.execute(w, r, status, rd.errPage, View{Title: http.StatusText(status), Data: errorView{Status: status, Message: msg, Back: back}})
}

var errorMessages = map[int]string{
	http.StatusBadRequest:            "The request was not understood.",
	http.StatusUnauthorized:          "Please sign in to continue.",
	http.StatusForbidden:             "You are not allowed to do this.",
	http.StatusNotFound:              "There is nothing here.",
	http.StatusMethodNotAllowed:      "This address does not accept that kind of request.",
	http.StatusRequestEntityTooLarge: "What you sent is too large.",
	http.StatusTooManyRequests:       "Too many attempts. Please wait a moment and try again.",
	http.StatusInternalServerError:   "Something went wrong on our side. It has been logged.",
	http.StatusServiceUnavailable:    "The service is not available right now.",
}

// navFor returns the navigation p sees on the page at path cur, working
// in organisation orgID (0: none), rendered. The entries depend only on
// p's platform-admin flag and role in orgID, and the marked entry on cur,
// so each variant is built and rendered once and then shared: running the
// navigation through html/template on every request was the largest part
// of the layout's cost.
func (rd *Renderer) navFor(p *Principal, cur string, orgID int64) (navVariant, error) {
	key := navKey(p, orgID)
	set := rd.navs.get(key)
	if set == nil {
		var err error
		if set, err = rd.newNavSet(p, orgID); err != nil {
			return navVariant{}, err
		}
		rd.navs.put(key, set)
	}
	// Only the most specific matching entry is the current page (on
	// /orgs/1/members that is "Members", not also "Organisation").
	best := len(set.links)
	for i, l := range set.links {
		if isUnder(cur, l.Href) && (best == len(set.links) || len(l.Href) > len(set.links[best].Href)) {
			best = i
		}
	}
	return set.variants[best], nil
}

// navKey identifies everything navigation visibility depends on: the
// platform-admin flag, and the organisation worked in with the role there
// (one set of entries, whatever the number of memberships); "" is the
// anonymous visitor.
func navKey(p *Principal, orgID int64) string {
	if p == nil {
		return ""
	}
	var b strings.Builder
	if p.User.PlatformAdmin {
		b.WriteByte('A')
	} else {
		b.WriteByte('U')
	}
	if m, ok := p.membership(orgID); ok {
		b.WriteString(strconv.FormatInt(m.OrgID, 10))
		b.WriteByte(0)
		b.WriteString(string(m.Role))
	}
	return b.String()
}

// navSet is the navigation of one navKey: variants[i] marks entry i as
// the current page, variants[len(links)] marks none. Variants are
// read-only once built.
type navSet struct {
	links    []navLink
	variants []navVariant
}

type navVariant struct {
	links []navLink
	html  template.HTML
}

func (rd *Renderer) newNavSet(p *Principal, orgID int64) (*navSet, error) {
	set := &navSet{links: rd.navLinks(p, orgID)}
	var buf bytes.Buffer
	for i := 0; i <= len(set.links); i++ {
		v := navVariant{links: slices.Clone(set.links)}
		if i < len(v.links) {
			v.links[i].Current = true
		}
		buf.Reset()
		if err := rd.chrome.ExecuteTemplate(&buf, "nav", v.links); err != nil {
			return nil, fmt.Errorf("render navigation: %w", err)
		}
		v.html = template.HTML(buf.String())
		set.variants = append(set.variants, v)
	}
	return set, nil
}

// navLinks lists the navigation entries p may see working in
// organisation orgID, in order, none marked current. Entries of an
// organisation ({org}) are those of orgID only: a member of several
// organisations switches between them (currentorg.go) rather than getting
// a copy of every entry per organisation.
func (rd *Renderer) navLinks(p *Principal, orgID int64) []navLink {
	var out []navLink
	for _, it := range rd.nav {
		if strings.Contains(it.Path, "{org}") {
			m, ok := p.membership(orgID)
			if !ok {
				continue
			}
			if it.Policy.Access == AccessOrgRole && !m.Role.AtLeast(it.Policy.MinRole) {
				continue
			}
			out = append(out, navLink{Label: it.Label, Href: strings.ReplaceAll(it.Path, "{org}", strconv.FormatInt(m.OrgID, 10))})
			continue
		}
		if !navVisible(it.Policy, p) {
			continue
		}
		out = append(out, navLink{Label: it.Label, Href: it.Path})
	}
	return out
}

// navCacheMax bounds the navigation cache. There is one entry per
// distinct set of memberships, so few in practice; when it is full it
// starts over.
const navCacheMax = 1024

// navCache holds the rendered navigation per navKey.
type navCache struct {
	mu   sync.RWMutex
	sets map[string]*navSet
}

func (c *navCache) get(key string) *navSet {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.sets[key]
}

func (c *navCache) put(key string, set *navSet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sets == nil || len(c.sets) >= navCacheMax {
		c.sets = make(map[string]*navSet)
	}
	c.sets[key] = set
}

// reset forgets every entry (the navigation items changed).
func (c *navCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sets = nil
}

// isUnder reports whether path cur is href or below it.
func isUnder(cur, href string) bool {
	return cur == href || (href != "/" && strings.HasPrefix(cur, href+"/"))
}

func navVisible(pol Policy, p *Principal) bool {
	switch pol.Access {
	case AccessPublic:
		return true
	case AccessSignedIn:
		return p != nil
	case AccessPlatformAdmin:
		return p != nil && p.User.PlatformAdmin
	}
	return false
}

func (rd *Renderer) setRoutes(routes []Route, nav []NavItem) {
	for _, rt := range routes {
		rd.exists[rt.Pattern] = true
	}
	rd.nav = nil
	for _, it := range nav {
		// Navigation shows only what exists.
		if rd.exists["GET "+it.Path] {
			rd.nav = append(rd.nav, it)
		}
	}
	slices.SortStableFunc(rd.nav, func(a, b NavItem) int { return a.Order - b.Order })
	rd.signIn, rd.signOut = rd.exists["GET "+SignInPath], rd.exists["POST /signout"]
	rd.navs.reset()
}

// StaticTree is a tree of static files served under /static/Prefix/.
type StaticTree struct {
	Prefix string // "" for the shell's own files, else e.g. "authn"
	FS     fs.FS
}

type asset struct {
	data  []byte
	ctype string
	etag  string
}

// assets holds every static file in memory with its content hash, so that
// page URLs carry ?v=hash and browsers may cache them for a year.
type assets struct {
	files map[string]*asset
}

func newAssets(trees []StaticTree) (*assets, error) {
	a := &assets{files: map[string]*asset{}}
	for _, tr := range trees {
		err := fs.WalkDir(tr.FS, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(tr.FS, p)
			if err != nil {
				return err
			}
			name := p
			if tr.Prefix != "" {
				name = tr.Prefix + "/" + p
			}
			if _, dup := a.files[name]; dup {
				return fmt.Errorf("static file %s registered twice", name)
			}
			sum := sha256.Sum256(b)
			ct := mime.TypeByExtension(path.Ext(p))
			if ct == "" {
				ct = "application/octet-stream"
			}
			a.files[name] = &asset{data: b, ctype: ct, etag: hex.EncodeToString(sum[:8])}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("static tree %q: %w", tr.Prefix, err)
		}
	}
	return a, nil
}

// url is the template function "asset": the versioned URL of a static file.
func (a *assets) url(name string) (string, error) {
	f := a.files[name]
	if f == nil {
		return "", fmt.Errorf("no static file %q", name)
	}
	return "/static/" + name + "?v=" + f.etag, nil
}
