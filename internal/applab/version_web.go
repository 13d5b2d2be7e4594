package applab

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"

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

type versionData struct {
	Org        Org
	Version    Version
	Own        bool // the organisation's own app
	Lab        bool // the organisation's lab test of another's app (else shared with it as its regulator)
	Owner      Org
	Result     *appscan.Result
	Report     template.HTML
	Findings   []findingRow // the app's own code
	Library    []findingRow // the code of known libraries, listed apart
	CanTriage  bool
	CanShare   bool
	Regulators []Org
	SharedWith []int64
	Decisions  []Decision
	Problem    string
	Today      string
}

// pageRow is a triage row with the page it sits on, for the row template
// shared by the app's findings and the library's.
type pageRow struct {
	findingRow
	Page *versionData
}

// Rows returns the app's own rows, or with lib those of library code.
func (d *versionData) Rows(lib bool) []pageRow {
	rows := d.Findings
	if lib {
		rows = d.Library
	}
	out := make([]pageRow, len(rows))
	for i, r := range rows {
		out[i] = pageRow{r, d}
	}
	return out
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
	d := versionData{Org: o, Version: v, Own: acc == Owner, Lab: acc == LabTest, Result: res, Report: template.HTML(body.String()), // the report's own templates escape
		Decisions: []Decision{Open, FalsePositive, AcceptedRisk, Fixed}, Problem: problem, Today: m.today()}
	d.Findings, d.Library = m.findingRows(res, tri)
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

func (m *Module) triage(w http.ResponseWriter, r *http.Request) {
	o, v, acc, ok := m.loadVersion(w, r)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	if acc != Owner {
		web.Error(w, r, http.StatusForbidden)
		return
	}
	t := Triage{Fingerprint: r.PostFormValue("fingerprint"), Decision: Decision(r.PostFormValue("decision")),
		Reason: r.PostFormValue("reason"), Expires: r.PostFormValue("expires")}
	err := m.store.SetTriage(r.Context(), v, userID(r), t)
	var ie *InvalidError
	if errors.As(err, &ie) {
		m.renderVersion(w, r, o, v, acc, http.StatusBadRequest, "The decision was not recorded: "+ie.Problem+".", "")
		return
	}
	if err != nil {
		m.fail(w, r, "triage", err)
		return
	}
	http.Redirect(w, r, orgPath(o, fmt.Sprintf("/apps/versions/%d?done=triaged#f-%s", v.ID, url.PathEscape(t.Fingerprint))), http.StatusSeeOther)
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
	http.Redirect(w, r, orgPath(o, fmt.Sprintf("/apps/versions/%d?done=shared", v.ID)), http.StatusSeeOther)
}
