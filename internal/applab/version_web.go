package applab

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/dfslab/dfslab/internal/appscan"
	"github.com/dfslab/dfslab/internal/appscan/report"
	"github.com/dfslab/dfslab/internal/web"
)

type appData struct {
	Org      Org
	App      App
	Versions []Version // newest first
	Trend    template.HTML
}

func (m *Module) app(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok {
		return
	}
	id, ok := pathID(r)
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	a, err := m.store.AppFor(r.Context(), o.ID, id)
	if err != nil {
		m.fail(w, r, "app", err)
		return
	}
	vs, err := m.store.Versions(r.Context(), a.ID)
	if err != nil {
		m.fail(w, r, "versions", err)
		return
	}
	rev := slices.Clone(vs)
	slices.Reverse(rev)
	m.render(w, r, http.StatusOK, "app.html", a.Package, appData{Org: o, App: a, Versions: rev, Trend: TrendSVG(vs)}, "")
}

// findingRow is a finding with its triage and catalogue links.
type findingRow struct {
	appscan.Finding
	Triage    Triage
	Effective Decision
	Expired   bool
	Recs      []string
}

// Place is where the finding is, for people (Class.method(…)).
func (r findingRow) Place() string { return report.Readable(r.Location) }

// RawPlace is where the finding is in full, with the JVM descriptor.
func (r findingRow) RawPlace() string { return report.Where(r.Location) }

type versionData struct {
	Org        Org
	Version    Version
	Own        bool // the organisation's own app
	Lab        bool // the organisation's lab test of another's app (else shared with it as its regulator)
	Owner      Org
	Result     *appscan.Result
	Summary    reportSummary
	Report     template.HTML
	Filter     findingFilter
	Groups     []findingGroup // the page's findings, by rule
	Matched    int            // findings the filter matched, over all pages
	AppCount   int            // findings in the app's own code
	LibCount   int            // findings in library code
	Pager      pager
	CanTriage  bool
	CanShare   bool
	Regulators []Org
	SharedWith []int64
	Decisions  []Decision
	Bulk       Triage // the bulk decision as typed, after a refusal
	Problem    string
	Today      string
	PDF        bool
}

// reportSummary is what the top of the report says about the build.
type reportSummary struct {
	Score       int
	Counts      Counts
	Size        string
	Signer      string // first signer certificate's subject ("" unsigned)
	Schemes     []string
	Verified    bool
	Permissions int
	Dangerous   []string
	SDKs        []appscan.SDK
}

func summarise(res *appscan.Result, counts Counts) reportSummary {
	s := reportSummary{Score: res.Score, Counts: counts, Size: report.HumanSize(res.Target.Size), Permissions: len(res.Permissions), SDKs: res.SDKs}
	if len(res.Certificates) > 0 {
		s.Signer = res.Certificates[0].Subject
	}
	s.Verified = len(res.Signing) > 0
	for _, st := range res.Signing {
		if st.Present {
			s.Schemes = append(s.Schemes, st.Scheme)
			if !st.Verified {
				s.Verified = false
			}
		}
	}
	if len(s.Schemes) == 0 {
		s.Verified = false
	}
	for _, p := range res.Permissions {
		if p.Dangerous {
			s.Dangerous = append(s.Dangerous, p.Name)
		}
	}
	return s
}

// pageRow is a triage row with the page it sits on, for the row template.
type pageRow struct {
	findingRow
	Page *versionData
}

// findingGroup is the findings of one rule on the page: one problem in
// many places reads as one, with its count.
type findingGroup struct {
	RuleID   string
	Title    string
	Severity appscan.Severity
	Total    int // findings of the rule the filter matched, on every page
	Rows     []pageRow
}

// findingsPage is how many findings one page of the report lists.
const findingsPage = 100

// findingFilter is the report's filter as given in the query.
type findingFilter struct {
	Severity string // appscan severity name, "" any
	Status   string // "open", a Decision, or "" any
	Rule     string
	MASVS    string // "STORAGE", "NETWORK", …
	Library  bool   // library code rather than the app's own
	Page     int    // 1-based

	sev    appscan.Severity
	status Decision

	// Options offered in the form: those present in the findings.
	Rules  []ruleOption
	Groups []string
}

type ruleOption struct{ ID, Title string }

// Severities lists the severity names, most severe first.
func (findingFilter) Severities() []string {
	return []string{"critical", "high", "medium", "low", "info"}
}

// Statuses lists the triage states a filter can ask for.
func (findingFilter) Statuses() []Decision {
	return []Decision{Open, FalsePositive, AcceptedRisk, Fixed}
}

// Query is the decision as a filter value ("open" for Open).
func (d Decision) Query() string {
	if d == Open {
		return "open"
	}
	return string(d)
}

// parseFilter reads the query; problem names a value it did not know
// (that part of the filter is then dropped).
func parseFilter(q url.Values) (f findingFilter, problem string) {
	f.Rule = strings.TrimSpace(q.Get("rule"))
	f.MASVS = strings.ToUpper(strings.TrimSpace(q.Get("masvs")))
	f.Library = q.Get("scope") == "library"
	if v := q.Get("severity"); v != "" {
		sev, err := appscan.ParseSeverity(v)
		if err != nil {
			problem = fmt.Sprintf("There is no severity %q; choose one from the list.", v)
		} else {
			f.Severity, f.sev = sev.String(), sev
		}
	}
	switch v := q.Get("status"); v {
	case "":
	case "open":
		f.Status, f.status = v, Open
	case string(FalsePositive), string(AcceptedRisk), string(Fixed):
		f.Status, f.status = v, Decision(v)
	default:
		problem = fmt.Sprintf("There is no triage status %q; choose one from the list.", v)
	}
	if p := q.Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			problem = "The page number must be a whole number from 1."
		} else {
			f.Page = n
		}
	}
	f.Page = max(f.Page, 1)
	return f, problem
}

func masvsGroup(control string) string {
	g, _, _ := strings.Cut(strings.TrimPrefix(control, "MASVS-"), "-")
	return g
}

func (f findingFilter) match(r findingRow) bool {
	if r.InLibrary != f.Library {
		return false
	}
	if f.Severity != "" && r.Severity != f.sev {
		return false
	}
	if f.Status != "" && r.Effective != f.status {
		return false
	}
	if f.Rule != "" && r.RuleID != f.Rule {
		return false
	}
	if f.MASVS != "" && !slices.ContainsFunc(r.MASVS, func(c string) bool { return masvsGroup(c) == f.MASVS }) {
		return false
	}
	return true
}

// Query is the filter as a query string, without the page (for links
// that change only the page, and the form's hidden "back").
func (f findingFilter) Query() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("severity", f.Severity)
	set("status", f.Status)
	set("rule", f.Rule)
	set("masvs", f.MASVS)
	if f.Library {
		q.Set("scope", "library")
	}
	return q
}

// pager is the report's page links.
type pager struct {
	Page, Pages int
	Prev, Next  string // "" none
}

func newPager(base string, q url.Values, page, total int) pager {
	p := pager{Page: page, Pages: max((total+findingsPage-1)/findingsPage, 1)}
	link := func(n int) string {
		q := maps.Clone(q)
		if n > 1 {
			q.Set("page", strconv.Itoa(n))
		}
		if e := q.Encode(); e != "" {
			return base + "?" + e + "#findings-title"
		}
		return base + "#findings-title"
	}
	if page > 1 {
		p.Prev = link(min(page-1, p.Pages))
	}
	if page < p.Pages {
		p.Next = link(page + 1)
	}
	return p
}

func (m *Module) loadVersion(w http.ResponseWriter, r *http.Request) (Org, Version, Access, bool) {
	o, ok := m.org(w, r)
	if !ok {
		return Org{}, Version{}, NoAccess, false
	}
	id, ok := pathID(r)
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return Org{}, Version{}, NoAccess, false
	}
	v, acc, err := m.store.VersionFor(r.Context(), o, id)
	if err != nil {
		m.fail(w, r, "version", err)
		return Org{}, Version{}, NoAccess, false
	}
	if v.ScanID == 0 {
		web.Error(w, r, http.StatusNotFound)
		return Org{}, Version{}, NoAccess, false
	}
	return o, v, acc, true
}

// findingRows returns the triage rows of the app's own findings and, apart,
// those of library code, each most severe first. Library findings can be
// triaged too, but they are not the provider's to fix in place, so they do
// not sit among the app's.
func (m *Module) findingRows(res *appscan.Result, tri map[string]Triage) (own, lib []findingRow) {
	today := m.today()
	for _, f := range res.Findings {
		t := tri[f.Fingerprint]
		row := findingRow{Finding: f, Triage: t, Effective: t.Effective(today), Recs: m.cfg.Catalog.ForScanRule(f.RuleID)}
		row.Expired = t.Decision == AcceptedRisk && row.Effective == Open
		if f.InLibrary {
			lib = append(lib, row)
		} else {
			own = append(own, row)
		}
	}
	bySeverity := func(a, b findingRow) int { return int(b.Severity) - int(a.Severity) }
	slices.SortStableFunc(own, bySeverity)
	slices.SortStableFunc(lib, bySeverity)
	return own, lib
}

func (m *Module) document(res *appscan.Result) *report.Document {
	d := &report.Document{Tool: report.DefaultTool(m.cfg.Version), Results: []*appscan.Result{res}, Rules: m.rules}
	d.Finalize()
	return d
}

func (m *Module) version(w http.ResponseWriter, r *http.Request) {
	o, v, acc, ok := m.loadVersion(w, r)
	if !ok {
		return
	}
	m.renderVersion(w, r, o, v, acc, http.StatusOK, "", map[string]string{"triaged": "Decision recorded.", "shared": "Audit shared with the regulator."}[r.URL.Query().Get("done")])
}

func (m *Module) renderVersion(w http.ResponseWriter, r *http.Request, o Org, v Version, acc Access, status int, problem, flash string) {
	m.renderVersionBulk(w, r, o, v, acc, status, problem, flash, Triage{})
}

func (m *Module) renderVersionBulk(w http.ResponseWriter, r *http.Request, o Org, v Version, acc Access, status int, problem, flash string, bulk Triage) {
	ctx := r.Context()
	res, err := m.store.Result(ctx, v.ScanID)
	if err != nil {
		m.fail(w, r, "result", err)
		return
	}
	tri, err := m.store.TriageOf(ctx, v.AppID)
	if err != nil {
		m.fail(w, r, "triage", err)
		return
	}
	var body bytes.Buffer
	if err := report.WriteHTMLBody(&body, m.document(res)); err != nil {
		m.fail(w, r, "report", err)
		return
	}
	// A triage post re-renders with the filter it came from (its "back").
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		if u, err := url.Parse(r.PostFormValue("back")); err == nil {
			q = u.Query()
		}
	}
	filter, fproblem := parseFilter(q)
	if fproblem != "" && problem == "" {
		problem, status = fproblem, http.StatusBadRequest
	}
	d := versionData{Org: o, Version: v, Own: acc == Owner, Lab: acc == LabTest, Result: res, Report: template.HTML(body.String()), // the report's own templates escape
		Summary: summarise(res, v.Counts), Decisions: []Decision{Open, FalsePositive, AcceptedRisk, Fixed}, Problem: problem,
		Today: m.today(), Bulk: bulk, PDF: m.cfg.PDF != nil}
	own, lib := m.findingRows(res, tri)
	d.AppCount, d.LibCount = len(own), len(lib)
	scope := own
	if filter.Library {
		scope = lib
	}
	rules, groups := map[string]bool{}, map[string]bool{}
	var matched []findingRow
	for _, row := range scope {
		if !rules[row.RuleID] {
			rules[row.RuleID] = true
			filter.Rules = append(filter.Rules, ruleOption{row.RuleID, row.Title})
		}
		for _, c := range row.MASVS {
			groups[masvsGroup(c)] = true
		}
		if filter.match(row) {
			matched = append(matched, row)
		}
	}
	slices.SortFunc(filter.Rules, func(a, b ruleOption) int { return strings.Compare(a.ID, b.ID) })
	filter.Groups = slices.Sorted(maps.Keys(groups))
	// Most severe first, then by rule, so that a rule's findings sit
	// together; then by where they are.
	slices.SortStableFunc(matched, func(a, b findingRow) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), strings.Compare(a.RuleID, b.RuleID))
	})
	perRule := map[string]int{}
	for _, row := range matched {
		perRule[row.RuleID]++
	}
	d.Matched = len(matched)
	d.Pager = newPager(orgPath(o, "/apps/versions/"+strconv.FormatInt(v.ID, 10)), filter.Query(), filter.Page, len(matched))
	from := min((filter.Page-1)*findingsPage, len(matched))
	for _, row := range matched[from:min(from+findingsPage, len(matched))] {
		if n := len(d.Groups); n == 0 || d.Groups[n-1].RuleID != row.RuleID {
			d.Groups = append(d.Groups, findingGroup{RuleID: row.RuleID, Title: row.Title, Severity: row.Severity, Total: perRule[row.RuleID]})
		}
		g := &d.Groups[len(d.Groups)-1]
		g.Rows = append(g.Rows, pageRow{row, &d})
	}
	d.Filter = filter
	if d.Owner, err = m.store.Org(ctx, v.OrgID); err != nil {
		m.fail(w, r, "owner", err)
		return
	}
	if acc == Owner {
		d.CanTriage = web.PathRole(r).AtLeast(web.RoleAnalyst)
		d.CanShare = web.PathRole(r).AtLeast(web.RoleOrgAdmin)
		if d.Regulators, err = m.store.Regulators(ctx, o); err != nil {
			m.fail(w, r, "regulators", err)
			return
		}
		if d.SharedWith, err = m.store.SharedWith(ctx, v.ID); err != nil {
			m.fail(w, r, "shares", err)
			return
		}
	}
	m.render(w, r, status, "version.html", v.Package+" "+v.Label(), &d, flash)
}

// Back is the report's address with the current filter and page, where
// a triage form returns.
func (d *versionData) Back() string {
	q := d.Filter.Query()
	if d.Filter.Page > 1 {
		q.Set("page", strconv.Itoa(d.Filter.Page))
	}
	u := "/orgs/" + strconv.FormatInt(d.Org.ID, 10) + "/apps/versions/" + strconv.FormatInt(d.Version.ID, 10)
	if e := q.Encode(); e != "" {
		u += "?" + e
	}
	return u
}

type diffData struct {
	Org                Org
	Version, Prev      Version
	HasPrev            bool
	Added, Fixed, Same []appscan.Finding
}

func (m *Module) diff(w http.ResponseWriter, r *http.Request) {
	o, v, acc, ok := m.loadVersion(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	cur, err := m.store.Result(ctx, v.ScanID)
	if err != nil {
		m.fail(w, r, "result", err)
		return
	}
	d := diffData{Org: o, Version: v}
	prev, err := m.store.Previous(ctx, v)
	if err == nil && acc == Regulator {
		// A regulator compares only with versions it may see itself.
		if _, _, aerr := m.store.VersionFor(ctx, o, prev.ID); aerr != nil {
			err = ErrNotFound
		}
	}
	switch {
	case errors.Is(err, ErrNotFound):
		d.Added = cur.Findings
	case err != nil:
		m.fail(w, r, "previous", err)
		return
	default:
		old, err := m.store.Result(ctx, prev.ScanID)
		if err != nil {
			m.fail(w, r, "previous result", err)
			return
		}
		d.Prev, d.HasPrev = prev, true
		d.Added, d.Fixed, d.Same = Diff(old.Findings, cur.Findings)
	}
	m.render(w, r, http.StatusOK, "diff.html", v.Package+" "+v.Label()+" · changes", d, "")
}

// triage records a decision on one finding (the row's form) or on every
// finding selected in the report (the bulk form), then goes back to the
// report as it was filtered.
func (m *Module) triage(w http.ResponseWriter, r *http.Request) {
	o, v, acc, ok := m.loadVersion(w, r)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	if acc != Owner {
		web.Error(w, r, http.StatusForbidden)
		return
	}
	fps := r.PostForm["fingerprint"]
	t := Triage{Decision: Decision(r.PostFormValue("decision")), Reason: r.PostFormValue("reason"), Expires: r.PostFormValue("expires")}
	err := m.store.SetTriageMany(r.Context(), v, userID(r), fps, t)
	var ie *InvalidError
	if errors.As(err, &ie) {
		bulk := Triage{}
		if r.PostFormValue("bulk") != "" {
			bulk = t
		}
		m.renderVersionBulk(w, r, o, v, acc, http.StatusBadRequest, "The decision was not recorded: "+ie.Problem+".", "", bulk)
		return
	}
	if err != nil {
		m.fail(w, r, "triage", err)
		return
	}
	base := orgPath(o, fmt.Sprintf("/apps/versions/%d", v.ID))
	back := base
	if b := r.PostFormValue("back"); b == base || strings.HasPrefix(b, base+"?") {
		back = b
	}
	sep := "?"
	if strings.Contains(back, "?") {
		sep = "&"
	}
	back += sep + "done=triaged"
	if len(fps) == 1 {
		back += "#f-" + url.PathEscape(fps[0])
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

func (m *Module) share(w http.ResponseWriter, r *http.Request) {
	o, v, acc, ok := m.loadVersion(w, r)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	if acc != Owner {
		web.Error(w, r, http.StatusForbidden)
		return
	}
	reg, _ := strconv.ParseInt(r.PostFormValue("regulator"), 10, 64)
	err := m.store.Share(r.Context(), v, o, reg, userID(r))
	var ie *InvalidError
	if errors.As(err, &ie) {
		m.renderVersion(w, r, o, v, acc, http.StatusBadRequest, "Not shared: "+ie.Problem+".", "")
		return
	}
	if err != nil {
		m.fail(w, r, "share", err)
		return
	}
	if m.notify != nil {
		// The audit is shared: telling the regulator is a courtesy, so a
		// failure is logged rather than undoing the share.
		text := fmt.Sprintf("%s shared the audit of %s %s with you.", o.Name, v.Package, v.Label())
		link := fmt.Sprintf("/orgs/%d/apps/versions/%d", reg, v.ID)
		if err := m.notify.NotifyOrg(r.Context(), reg, "applab.shared", text, link); err != nil {
			m.log.WarnContext(r.Context(), "notify the regulator of a shared audit", "err", err, "regulator", reg, "version", v.ID)
		}
	}
	http.Redirect(w, r, orgPath(o, fmt.Sprintf("/apps/versions/%d?done=shared", v.ID)), http.StatusSeeOther)
}

// reportFormats are the downloads of the scanner report.
var reportFormats = map[string]struct{ ctype, ext string }{
	"html":  {"text/html; charset=utf-8", ".html"},
	"json":  {"application/json", ".json"},
	"sarif": {"application/sarif+json", ".sarif"},
	"pdf":   {"application/pdf", ".pdf"},
}

// reportDownload serves the version's scanner report as a file: the
// standalone HTML document, its PDF print, the JSON result or SARIF for
// code-scanning tools. Each download is audited like the audit exports.
func (m *Module) reportDownload(format string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		o, v, _, ok := m.loadVersion(w, r)
		if !ok {
			return
		}
		if format == "pdf" && m.cfg.PDF == nil {
			web.Error(w, r, http.StatusNotFound)
			return
		}
		res, err := m.store.Result(r.Context(), v.ScanID)
		if err != nil {
			m.fail(w, r, "result", err)
			return
		}
		doc := m.document(res)
		var b bytes.Buffer
		switch format {
		case "html", "pdf":
			err = report.WriteHTML(&b, doc)
		case "json":
			err = report.WriteJSON(&b, doc)
		case "sarif":
			err = report.WriteSARIF(&b, doc)
		}
		if err == nil && format == "pdf" {
			var out []byte
			if out, err = m.cfg.PDF(r.Context(), b.Bytes()); err == nil {
				b.Reset()
				b.Write(out)
			}
		}
		if err != nil {
			m.fail(w, r, "report "+format, err)
			return
		}
		if err := m.store.RecordExport(r.Context(), v, o, "report-"+format); err != nil {
			m.fail(w, r, "report export", err)
			return
		}
		f := reportFormats[format]
		h := w.Header()
		h.Set("Content-Type", f.ctype)
		h.Set("Content-Disposition", `attachment; filename="`+strings.Replace(exportName(v, f.ext), "itu-audit-", "scan-report-", 1)+`"`)
		h.Set("Cache-Control", "no-store")
		w.Write(b.Bytes())
	}
}
