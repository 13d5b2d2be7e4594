// Package catalogweb serves the recommendations catalogue in the platform:
// faceted browsing and full-text search, one printable page per
// recommendation with everything linked, and audited exports.
package catalogweb

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/dfslab/dfslab/internal/appscan"
	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// StaticFS holds the module's stylesheet, served under /static/catalog/.
func StaticFS() fs.FS {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	return sub
}

// Recorder writes an audit entry; the platform passes the audit log.
type Recorder interface {
	Record(ctx context.Context, action, objectType, objectID string, details map[string]any) error
}

// Extras renders further sections of a recommendation page (the
// discussion, implementation notes and amendment proposals of the
// collaboration module). It gets the request so it can answer for the
// caller; the HTML it returns is trusted and must be escaped by it.
type Extras interface {
	RecommendationExtras(r *http.Request, rec *catalog.Recommendation) (template.HTML, error)
}

// Standing is where a recommendation stands for the reader: its
// decision in the latest baseline of their organisation's country, and
// their organisation's own tracking of it. Empty fields are not shown.
type Standing struct {
	Country      string
	Baseline     string // "v3"; "" when the country has published none
	BaselineHref string
	Decision     string // in words, e.g. "Adopted"; "" when the baseline leaves it out
	Deadline     string // YYYY-MM-DD
	Org          string
	Tracking     string // the status in words; "" when the organisation does not track it
	TrackingHref string
	Target       string // target date
	Overdue      bool
}

// Standings tells where a recommendation stands for the caller of r; ok
// is false when there is nothing to say (no organisation).
type Standings interface {
	RecommendationStanding(r *http.Request, recID string) (s Standing, ok bool, err error)
}

// Source supplies the catalogue to show when it can change while the
// server runs: the embedded base with accepted amendments laid over it
// (catalog.Catalog.Amend). Without a Source the module shows the
// catalogue it was built with.
type Source interface {
	Current(ctx context.Context) (*catalog.Catalog, *catalog.Index, error)
}

// Module is the catalogue's web module.
type Module struct {
	cat    *catalog.Catalog
	ix     *catalog.Index
	pages  *web.Pages
	public bool
	audit  Recorder
	rules  map[string]appscan.RuleMeta
	extras Extras
	src    Source
	stand  Standings
}

// SetExtras adds sections to every recommendation page; call it before
// serving.
func (m *Module) SetExtras(e Extras) { m.extras = e }

// SetStandings shows on each recommendation page where it stands in the
// reader's baseline and tracking; call it before serving.
func (m *Module) SetStandings(s Standings) { m.stand = s }

// SetSource makes pages and exports show the catalogue s supplies; call
// it before serving.
func (m *Module) SetSource(s Source) { m.src = s }

// current is the catalogue and index to answer a request with.
func (m *Module) current(ctx context.Context) (*catalog.Catalog, *catalog.Index, error) {
	if m.src == nil {
		return m.cat, m.ix, nil
	}
	return m.src.Current(ctx)
}

// New returns the module. With public set (the --public-catalogue flag),
// browsing and exports need no sign-in; otherwise they need a session.
func New(cat *catalog.Catalog, rd *web.Renderer, public bool, audit Recorder) (*Module, error) {
	ps, err := rd.Pages(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	rules := map[string]appscan.RuleMeta{}
	for _, r := range appscan.Rules() {
		rules[r.ID] = r
	}
	return &Module{cat: cat, ix: catalog.NewIndex(cat), pages: ps, public: public, audit: audit, rules: rules}, nil
}

func (m *Module) policy() web.Policy {
	if m.public {
		return web.Public()
	}
	return web.SignedIn()
}

// Routes lists the catalogue pages.
func (m *Module) Routes() []web.Route {
	p := m.policy()
	return []web.Route{
		{Pattern: "GET /catalogue", Policy: p, Handler: http.HandlerFunc(m.list)},
		{Pattern: "GET /catalogue/{id}", Policy: p, Handler: http.HandlerFunc(m.detail)},
		{Pattern: "GET /catalogue/releases", Policy: p, Handler: http.HandlerFunc(m.releases)},
		{Pattern: "GET /catalogue/export/{format}", Policy: p, Handler: http.HandlerFunc(m.export)},
	}
}

// Nav adds the catalogue to the main navigation.
func (m *Module) Nav() []web.NavItem {
	return []web.NavItem{{Label: "Recommendations", Path: "/catalogue", Policy: m.policy(), Order: 5}}
}

// facet is one filter group of the list page.
type facet struct {
	Param  string // query parameter
	Label  string
	Counts []catalog.FacetCount
}

type listData struct {
	Query   string
	Facets  []facet
	Hits    []catalog.Hit
	Total   int
	Filters []activeFilter
	Version string
	Layers  []catalog.Term
	Rule    string
	// Names maps taxonomy keys (layer, stakeholder, priority) to display names.
	Names map[string]string
}

type activeFilter struct {
	Label     string
	RemoveURL string
}

var facetOrder = []struct{ key, param, label string }{
	{"layer", "layer", "Layer"},
	{"stakeholder", "stakeholder", "Who must act"},
	{"threat", "threat", "Threat category (X.1150)"},
	{"dimension", "dimension", "Security dimension (X.805)"},
	{"book", "book", "Source book"},
	{"check", "check", "How it is checked"},
	{"priority", "priority", "Priority"},
}

// maxQueryLen bounds the free text; longer input is cut, not refused, so a
// pasted paragraph still searches.
const maxQueryLen = 200

func (m *Module) queryFrom(v url.Values) catalog.Query {
	text := strings.TrimSpace(v.Get("q"))
	if len(text) > maxQueryLen {
		text = text[:maxQueryLen]
	}
	return catalog.Query{
		Text:         text,
		Layers:       known(v["layer"], m.cat.Layers),
		Stakeholders: known(v["stakeholder"], m.cat.Stakeholders),
		Threats:      known(v["threat"], m.cat.Threats),
		Dimensions:   known(v["dimension"], m.cat.Dimensions),
		Books:        known(v["book"], m.cat.Books),
		Checks:       known(v["check"], catalog.CheckTerms()),
		Priorities:   known(v["priority"], m.cat.Priorities),
		ScanRule:     m.knownRule(v.Get("rule")),
	}
}

// known keeps only values of the taxonomy, so a crafted URL cannot put
// arbitrary text into the page or the filter chips.
func known(vals []string, terms []catalog.Term) []string {
	var out []string
	for _, v := range vals {
		for _, t := range terms {
			if t.Key == v && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	return out
}

func (m *Module) knownRule(id string) string {
	if _, ok := m.rules[id]; ok {
		return id
	}
	return ""
}

func (m *Module) list(w http.ResponseWriter, r *http.Request) {
	cat, ix, err := m.current(r.Context())
	if err != nil {
		web.ServerError(w, r, "current catalogue", err)
		return
	}
	v := r.URL.Query()
	q := m.queryFrom(v)
	res := ix.Search(q)
	d := listData{Query: q.Text, Hits: res.Hits, Total: len(cat.Recommendations), Version: cat.Version,
		Layers: m.cat.Layers, Rule: q.ScanRule, Names: termNames(cat.Layers, cat.Stakeholders, cat.Priorities)}
	for _, f := range facetOrder {
		d.Facets = append(d.Facets, facet{Param: f.param, Label: f.label, Counts: res.Facets[f.key]})
		for _, c := range res.Facets[f.key] {
			if c.Selected {
				d.Filters = append(d.Filters, activeFilter{Label: f.label + ": " + c.Term.Name, RemoveURL: without(v, f.param, c.Term.Key)})
			}
		}
	}
	if q.ScanRule != "" {
		d.Filters = append(d.Filters, activeFilter{Label: "Scanner rule: " + q.ScanRule, RemoveURL: without(v, "rule", q.ScanRule)})
	}
	title := "DFS security recommendations"
	if q.Text != "" {
		title = fmt.Sprintf("Search: %s", q.Text)
	}
	m.pages.Render(w, r, http.StatusOK, "list.html", web.View{Title: title, Data: d})
}

// releasesData is the release-notes page: what changed in each catalogue
// release, and the items the releases withdrew with their replacements.
type releasesData struct {
	Version   string
	Releases  []catalog.Release
	Withdrawn []catalog.Recommendation
}

func (m *Module) releases(w http.ResponseWriter, r *http.Request) {
	cat, _, err := m.current(r.Context())
	if err != nil {
		web.ServerError(w, r, "current catalogue", err)
		return
	}
	m.pages.Render(w, r, http.StatusOK, "releases.html", web.View{Title: "Catalogue releases",
		Data: releasesData{Version: cat.Version, Releases: cat.Releases, Withdrawn: cat.Withdrawn}})
}

// without returns the list URL with one filter value removed.
func without(v url.Values, param, value string) string {
	c := url.Values{}
	for k, vals := range v {
		for _, x := range vals {
			if k == param && x == value {
				continue
			}
			c.Add(k, x)
		}
	}
	if len(c) == 0 {
		return "/catalogue"
	}
	return "/catalogue?" + c.Encode()
}

type ruleView struct {
	ID, Title, Severity string
}

type sourceView struct {
	Key, Title, URL string
}

// paramView is one parameter as the page shows it.
type paramView struct {
	Name, Label, Default, Range string
}

type detailData struct {
	Rec          *catalog.Recommendation
	Layer        catalog.Term
	Dimensions   []catalog.Term
	Priority     catalog.Term
	Book         catalog.Term
	Stakeholders []catalog.Term
	Threats      []catalog.Term
	Sources      []sourceView
	Rules        []ruleView
	Checks       []string
	Parameters   []paramView
	ReplacedBy   *catalog.Recommendation // the live item that took a withdrawn one over
	Replaces     []*catalog.Recommendation
	Related      []*catalog.Recommendation
	Version      string
	Extras       template.HTML
	Standing     Standing
	HasStanding  bool
}

func term(terms []catalog.Term, key string) catalog.Term {
	for _, t := range terms {
		if t.Key == key {
			return t
		}
	}
	return catalog.Term{Key: key, Name: key}
}

func (m *Module) detail(w http.ResponseWriter, r *http.Request) {
	cat, _, err := m.current(r.Context())
	if err != nil {
		web.ServerError(w, r, "current catalogue", err)
		return
	}
	rec, err := cat.Get(strings.ToUpper(r.PathValue("id")))
	if errors.Is(err, catalog.ErrNotFound) {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	if err != nil {
		web.ServerError(w, r, "catalogue lookup", err)
		return
	}
	d := detailData{Rec: rec, Layer: term(m.cat.Layers, rec.Layer), Priority: term(m.cat.Priorities, rec.Priority),
		Book: term(m.cat.Books, rec.Book), Version: cat.Version}
	for _, k := range rec.Dimensions {
		d.Dimensions = append(d.Dimensions, term(m.cat.Dimensions, k))
	}
	for _, k := range rec.Checks {
		d.Checks = append(d.Checks, term(catalog.CheckTerms(), string(k)).Name)
	}
	for _, p := range rec.Parameters {
		d.Parameters = append(d.Parameters, paramView{Name: p.Name, Label: p.Label, Default: p.Format(p.Default), Range: p.Range()})
	}
	if rec.IsWithdrawn() {
		d.ReplacedBy, _ = cat.Get(rec.ReplacedBy)
	}
	for i := range cat.Withdrawn {
		if cat.Withdrawn[i].ReplacedBy == rec.ID {
			d.Replaces = append(d.Replaces, &cat.Withdrawn[i])
		}
	}
	for _, s := range rec.Stakeholders {
		d.Stakeholders = append(d.Stakeholders, term(m.cat.Stakeholders, s))
	}
	for _, t := range rec.Threats {
		d.Threats = append(d.Threats, term(m.cat.Threats, t))
	}
	for _, key := range rec.Sources {
		for _, s := range m.cat.Sources {
			if s.Key == key {
				d.Sources = append(d.Sources, sourceView{Key: s.Key, Title: s.Title, URL: s.URL})
			}
		}
	}
	for _, id := range rec.ScanRules {
		rv := ruleView{ID: id}
		if meta, ok := m.rules[id]; ok {
			rv.Title, rv.Severity = meta.Title, meta.Severity.String()
		}
		d.Rules = append(d.Rules, rv)
	}
	d.Related = related(cat, rec, 5)
	if m.stand != nil {
		if d.Standing, d.HasStanding, err = m.stand.RecommendationStanding(r, rec.ID); err != nil {
			web.ServerError(w, r, "recommendation standing", err)
			return
		}
	}
	if m.extras != nil {
		if d.Extras, err = m.extras.RecommendationExtras(r, rec); err != nil {
			web.ServerError(w, r, "recommendation extras", err)
			return
		}
	}
	m.pages.Render(w, r, http.StatusOK, "detail.html", web.View{Title: rec.ID + " " + rec.Title, Data: d})
}

// related picks the recommendations that share the most threat categories
// and the same layer, so a reader can move across a topic.
func related(cat *catalog.Catalog, rec *catalog.Recommendation, n int) []*catalog.Recommendation {
	type scored struct {
		r *catalog.Recommendation
		s int
	}
	var all []scored
	for i := range cat.Recommendations {
		o := &cat.Recommendations[i]
		if o.ID == rec.ID {
			continue
		}
		s := 0
		for _, t := range o.Threats {
			if slices.Contains(rec.Threats, t) {
				s += 2
			}
		}
		if o.Layer == rec.Layer {
			s++
		}
		if s >= 3 {
			all = append(all, scored{o, s})
		}
	}
	slices.SortStableFunc(all, func(a, b scored) int { return b.s - a.s })
	var out []*catalog.Recommendation
	for i := 0; i < len(all) && i < n; i++ {
		out = append(out, all[i].r)
	}
	return out
}

var exportTypes = map[string]struct{ format, mime, ext string }{
	"json":  {catalog.FormatJSON, "application/json", "json"},
	"csv":   {catalog.FormatCSV, "text/csv; charset=utf-8", "csv"},
	"oscal": {catalog.FormatOSCAL, "application/json", "oscal.json"},
}

func (m *Module) export(w http.ResponseWriter, r *http.Request) {
	et, ok := exportTypes[r.PathValue("format")]
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	cat, _, err := m.current(r.Context())
	if err != nil {
		web.ServerError(w, r, "current catalogue", err)
		return
	}
	if m.audit != nil {
		if p := web.CurrentPrincipal(r.Context()); p != nil {
			if err := m.audit.Record(r.Context(), "catalog.export", "catalog", cat.Version, map[string]any{"format": et.format}); err != nil {
				web.ServerError(w, r, "audit catalogue export", err)
				return
			}
		}
	}
	w.Header().Set("Content-Type", et.mime)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="dfslab-catalogue-%s.%s"`, cat.Version, et.ext))
	if err := cat.Export(w, et.format); err != nil {
		web.ServerError(w, r, "catalogue export", err)
	}
}

// termNames maps the keys of the given taxonomies to their display names.
func termNames(lists ...[]catalog.Term) map[string]string {
	out := map[string]string{}
	for _, l := range lists {
		for _, t := range l {
			out[t.Key] = t.Name
		}
	}
	return out
}
