package tabletop

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/web"
)

//go:embed reports/*
var reportFS embed.FS

// reportRoutes are the after-action report of an exercise and the
// organisations' exercise history. The report is the participants':
// facilitators and observers read it at any time, players once the
// exercise has ended; facilitators write it.
func (m *Module) reportRoutes() []web.Route {
	h := func(f http.HandlerFunc) http.Handler { return f }
	const rp = "/tabletop/exercises/{id}/report"
	signed := web.SignedIn()
	return []web.Route{
		{Pattern: "GET " + rp, Policy: signed, Handler: h(m.report)},
		{Pattern: "GET " + rp + "/document.html", Policy: signed, Handler: h(m.reportHTML)},
		{Pattern: "GET " + rp + "/report.pdf", Policy: signed, Handler: h(m.reportPDF), Long: true},
		{Pattern: "POST " + rp + "/objectives/{key}", Policy: signed, Handler: m.reportAction("rated#objectives-title", m.rateObjective)},
		{Pattern: "POST " + rp + "/findings", Policy: signed, Handler: m.reportAction("finding#findings-title", m.addFinding)},
		{Pattern: "POST " + rp + "/findings/{eid}/delete", Policy: signed, Handler: m.reportAction("deleted#findings-title", onItem(
			func(ctx context.Context, exID, id int64, _ *http.Request) error {
				return m.store.DeleteFinding(ctx, exID, id)
			}))},
		{Pattern: "POST " + rp + "/improvements", Policy: signed, Handler: m.reportAction("item#plan-title", m.addImprovement)},
		{Pattern: "POST " + rp + "/improvements/{eid}/status", Policy: signed, Handler: m.reportAction("status#plan-title", onItem(m.improvementStatus))},
		{Pattern: "POST " + rp + "/improvements/{eid}/send", Policy: signed, Handler: m.reportAction("sent#plan-title", onItem(m.sendImprovement))},
		{Pattern: "POST " + rp + "/improvements/{eid}/delete", Policy: signed, Handler: m.reportAction("deleted#plan-title", onItem(
			func(ctx context.Context, exID, id int64, _ *http.Request) error {
				return m.store.DeleteImprovement(ctx, exID, id)
			}))},
		{Pattern: "POST " + rp + "/lessons", Policy: signed, Handler: m.reportAction("published#lessons-title", m.publishLessons)},

		{Pattern: "GET /orgs/{org}/tabletop/history", Policy: web.OrgRole(web.RoleViewer), Handler: h(m.history)},
		{Pattern: "POST /orgs/{org}/tabletop/improvements/{id}/status", Policy: web.OrgRole(web.RoleAnalyst), Handler: h(m.ownedStatus)},
	}
}

func reportPath(id int64, rest string) string { return exercisePath(id, "/report"+rest) }

// loadReport resolves the exercise for its report: 404 without a part,
// 403 for a player before the end.
func (m *Module) loadReport(w http.ResponseWriter, r *http.Request) (Exercise, Access, bool) {
	e, a, ok := m.loadExercise(w, r)
	if !ok {
		return Exercise{}, Access{}, false
	}
	if a.Participant == nil {
		web.Error(w, r, http.StatusNotFound)
		return Exercise{}, Access{}, false
	}
	if a.Participant.Role == RolePlayer && e.Status != StatusEnded {
		web.Error(w, r, http.StatusForbidden)
		return Exercise{}, Access{}, false
	}
	return e, a, true
}

type reportData struct {
	R           Report
	Edit        bool
	Ended       bool
	PDF         bool
	Problem     string
	Kept        reportKept
	Today       string
	Ratings     []option
	Owners      []option
	Recs        []linkOption
	Questions   []linkOption
	LessonsText string
	Generated   time.Time
	CSS         template.CSS
}

type linkOption struct{ ID, Text string }

// reportKept is a refused form's input, shown again.
type reportKept struct {
	Objective, ObjectiveNote string
	FindingKind, Finding     string
	Action, Owner, Due       string
	Recommendation, Question string
	Lessons, LessonsRec      string
}

func (m *Module) reportData(r *http.Request, e Exercise, a Access) (reportData, error) {
	rep, err := m.store.Report(r.Context(), e.ID)
	if err != nil {
		return reportData{}, err
	}
	d := reportData{R: rep, Edit: a.Facilitates(), Ended: e.Status == StatusEnded, PDF: m.pdf != nil,
		Today: m.store.nowUTC().Format(time.DateOnly), Generated: m.store.nowUTC()}
	for _, v := range []string{"met", "partly", "not-met"} {
		d.Ratings = append(d.Ratings, option{Value: v, Label: objectiveRatings[v]})
	}
	for _, o := range rep.Orgs {
		d.Owners = append(d.Owners, option{Value: strconv.FormatInt(o.OrgID, 10), Label: o.Name})
	}
	// What the scenario's expected actions link to, offered first.
	seenR, seenQ := map[string]bool{}, map[string]bool{}
	for _, in := range e.Scenario.Injects {
		for _, acts := range in.Expected {
			for _, act := range acts {
				for _, id := range act.Recommendations {
					if !seenR[id] {
						seenR[id] = true
						t, _ := m.links.recommendation(id)
						d.Recs = append(d.Recs, linkOption{ID: id, Text: t})
					}
				}
				for _, id := range act.Questions {
					if !seenQ[id] {
						seenQ[id] = true
						t, _ := m.links.question(id)
						d.Questions = append(d.Questions, linkOption{ID: id, Text: t})
					}
				}
			}
		}
	}
	d.LessonsText = LessonsDraft(rep)
	return d, nil
}

func (m *Module) report(w http.ResponseWriter, r *http.Request) {
	flash := map[string]string{
		"rated": "Objective rated.", "finding": "Finding recorded.", "deleted": "Removed.", "item": "Improvement item added.",
		"status": "Status saved.", "sent": "Sent to the owner organisation's tracking.", "published": "Lessons learned published, without names.",
	}[r.URL.Query().Get("done")]
	m.renderReport(w, r, http.StatusOK, "", flash, reportKept{})
}

func (m *Module) renderReport(w http.ResponseWriter, r *http.Request, status int, problem, flash string, kept reportKept) {
	e, a, ok := m.loadReport(w, r)
	if !ok {
		return
	}
	d, err := m.reportData(r, e, a)
	if err != nil {
		m.fail(w, r, "report", err)
		return
	}
	d.Problem, d.Kept = problem, kept
	if kept.Lessons != "" {
		d.LessonsText = kept.Lessons
	}
	m.render(w, r, status, "report.html", "After-action report: "+e.Title, d, flash)
}

// reportDocument renders the report as one self-contained HTML document
// (styles inline): the printable download and the PDF's source.
func (m *Module) reportDocument(w http.ResponseWriter, r *http.Request) ([]byte, Exercise, bool) {
	e, a, ok := m.loadReport(w, r)
	if !ok {
		return nil, Exercise{}, false
	}
	d, err := m.reportData(r, e, a)
	if err != nil {
		m.fail(w, r, "report", err)
		return nil, Exercise{}, false
	}
	d.Edit = false
	d.CSS = m.reportCSS
	var buf bytes.Buffer
	if err := m.reportTmpl.Execute(&buf, d); err != nil {
		web.ServerError(w, r, "report document", err)
		return nil, Exercise{}, false
	}
	return buf.Bytes(), e, true
}

func (m *Module) reportHTML(w http.ResponseWriter, r *http.Request) {
	doc, e, ok := m.reportDocument(w, r)
	if !ok {
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "private, no-store")
	if r.URL.Query().Get("download") != "" {
		h.Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(fmt.Sprintf("after-action-report-%d.html", e.ID)))
	}
	_, _ = w.Write(doc) // the status is sent; a failed write means the client left
}

func (m *Module) reportPDF(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := m.loadReport(w, r); !ok {
		return
	}
	if m.pdf == nil {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	doc, e, ok := m.reportDocument(w, r)
	if !ok {
		return
	}
	out, err := m.pdf(r.Context(), doc)
	if err != nil {
		web.ServerError(w, r, "report pdf", err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(fmt.Sprintf("after-action-report-%d.pdf", e.ID)))
	h.Set("Cache-Control", "private, no-store")
	_, _ = w.Write(out) // the status is sent; a failed write means the client left
}

// reportFailed answers a refused report action: the page with the
// problem and what was typed for bad input, 403 for a participant who
// does not facilitate.
func (m *Module) reportFailed(w http.ResponseWriter, r *http.Request, err error, kept reportKept) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, ErrNotAllowed):
		web.Error(w, r, http.StatusForbidden)
	case errors.Is(err, ErrNotFound):
		web.Error(w, r, http.StatusNotFound)
	case errors.Is(err, ErrInvalid), errors.Is(err, ErrNotTracked):
		m.renderReport(w, r, http.StatusBadRequest, problemOf(err), "", kept)
	case errors.Is(err, ErrConflict):
		m.renderReport(w, r, http.StatusConflict, "The lessons learned are published already.", "", kept)
	default:
		m.fail(w, r, "report", err)
	}
	return true
}

// reportForm loads the exercise of a report action and parses its form:
// 404 without a part, 403 for a part other than facilitator, before the
// input is looked at.
func (m *Module) reportForm(w http.ResponseWriter, r *http.Request) (Exercise, bool) {
	e, a, ok := m.loadExercise(w, r)
	if !ok || !web.ParseForm(w, r) {
		return Exercise{}, false
	}
	if a.Participant == nil {
		web.Error(w, r, http.StatusNotFound)
		return Exercise{}, false
	}
	if !a.Facilitates() {
		web.Error(w, r, http.StatusForbidden)
		return Exercise{}, false
	}
	return e, true
}

// reportAction answers a report form: the exercise's facilitators only
// (reportForm), then do; refused input shows the report again with what
// do kept of it, success the report at done ("flash#anchor").
func (m *Module) reportAction(done string, do func(r *http.Request, exID int64) (reportKept, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		e, ok := m.reportForm(w, r)
		if !ok {
			return
		}
		kept, err := do(r, e.ID)
		if m.reportFailed(w, r, err, kept) {
			return
		}
		http.Redirect(w, r, reportPath(e.ID, "?done="+done), http.StatusSeeOther)
	}
}

// onItem is a reportAction's do for one finding or improvement item, the
// {eid} of the path.
func onItem(op func(ctx context.Context, exID, itemID int64, r *http.Request) error) func(*http.Request, int64) (reportKept, error) {
	return func(r *http.Request, exID int64) (reportKept, error) {
		id, ok := web.PathID(r, "eid")
		if !ok {
			return reportKept{}, fmt.Errorf("item %q: %w", r.PathValue("eid"), ErrNotFound)
		}
		return reportKept{}, op(r.Context(), exID, id, r)
	}
}

func (m *Module) rateObjective(r *http.Request, exID int64) (reportKept, error) {
	key, note := r.PathValue("key"), r.PostFormValue("note")
	return reportKept{Objective: key, ObjectiveNote: note}, m.store.RateObjective(r.Context(), exID, key, r.PostFormValue("rating"), note)
}

func (m *Module) addFinding(r *http.Request, exID int64) (reportKept, error) {
	kind, text := r.PostFormValue("kind"), r.PostFormValue("text")
	return reportKept{FindingKind: kind, Finding: text}, m.store.AddFinding(r.Context(), exID, kind, text)
}

func (m *Module) addImprovement(r *http.Request, exID int64) (reportKept, error) {
	kept := reportKept{Action: r.PostFormValue("action"), Owner: r.PostFormValue("owner"), Due: r.PostFormValue("due"),
		Recommendation: r.PostFormValue("recommendation"), Question: r.PostFormValue("question")}
	_, err := m.store.AddImprovement(r.Context(), exID, NewImprovement{Action: kept.Action, OwnerOrg: formID(r, "owner"), Due: kept.Due,
		Recommendation: kept.Recommendation, Question: kept.Question})
	return kept, err
}

// improvementStatus: through the exercise's page only its facilitators
// change an item's status; the owner organisation does from its history
// page (ownedStatus).
func (m *Module) improvementStatus(ctx context.Context, exID, itemID int64, r *http.Request) error {
	return m.store.SetImprovementStatus(ctx, exID, itemID, r.PostFormValue("status"), nil)
}

func (m *Module) sendImprovement(ctx context.Context, exID, itemID int64, _ *http.Request) error {
	if m.follow == nil {
		return fmt.Errorf("%w: this server does not connect the report to adoption tracking", ErrInvalid)
	}
	_, err := m.store.SendImprovement(ctx, exID, itemID, m.follow)
	return err
}

func (m *Module) publishLessons(r *http.Request, exID int64) (reportKept, error) {
	kept := reportKept{Lessons: r.PostFormValue("body"), LessonsRec: r.PostFormValue("recommendation")}
	if m.lessons == nil {
		return kept, fmt.Errorf("%w: this server does not connect the report to the community discussions", ErrInvalid)
	}
	_, err := m.store.PublishLessons(r.Context(), exID, kept.LessonsRec, kept.Lessons, m.lessons)
	return kept, err
}

// ---- history --------------------------------------------------------------------

type historyData struct {
	OrgID     int64
	OrgName   string
	Country   string
	Regulator bool
	Sections  []historySection
	Items     []OwnedImprovement
	CanEdit   bool
	Today     string
	Exercises int
	OpenItems int
	LateItems int
	// The page of items shown: From-To of Total, with links.
	From, To, Total int
	Prev, Next      string
}

// historyPage is how many improvement items the history page lists at once.
const historyPage = 50

// historySection is one table of exercises on the history page.
type historySection struct {
	ID, Title, Note string
	Rows            []historyView
}

type historyView struct {
	HistoryRow
	StatusLabel string
}

func views(rows []HistoryRow) []historyView {
	out := make([]historyView, 0, len(rows))
	for _, h := range rows {
		out = append(out, historyView{HistoryRow: h, StatusLabel: h.Status.Label()})
	}
	return out
}

func (m *Module) history(w http.ResponseWriter, r *http.Request) {
	orgID, _ := web.PathOrg(r)
	ctx := r.Context()
	o, err := m.store.orgInfo(ctx, orgID)
	if err != nil {
		m.fail(w, r, "organisation", err)
		return
	}
	today := m.store.nowUTC().Format(time.DateOnly)
	d := historyData{OrgID: orgID, OrgName: o.name, Country: o.country, Regulator: o.regulator, CanEdit: canEdit(r), Today: today}
	own, err := m.store.History(ctx, []int64{orgID}, today)
	if err != nil {
		m.fail(w, r, "history", err)
		return
	}
	d.Sections = append(d.Sections, historySection{ID: "own-exercises", Title: "Exercises " + o.name + " took part in", Rows: views(own)})
	d.Exercises = len(own)
	if o.regulator {
		// A regulator follows the exercises of its country's sector: the
		// items of every organisation of the country.
		ids, err := m.store.countryOrgs(ctx, o.country)
		if err != nil {
			m.fail(w, r, "history", err)
			return
		}
		all, err := m.store.History(ctx, ids, today)
		if err != nil {
			m.fail(w, r, "history", err)
			return
		}
		d.Sections = append(d.Sections, historySection{ID: "country-exercises", Title: "Exercises in " + o.country, Rows: views(all),
			Note: "Every exercise an organisation of " + o.country + " took part in; the item counts are those of the organisations of " + o.country + "."})
	}
	items, err := m.store.OwnedImprovements(ctx, orgID)
	if err != nil {
		m.fail(w, r, "improvements", err)
		return
	}
	for _, i := range items {
		if i.Status == "open" {
			d.OpenItems++
			if i.Overdue(today) {
				d.LateItems++
			}
		}
	}
	// Open and overdue first.
	slices.SortStableFunc(items, func(a, b OwnedImprovement) int {
		rank := func(i OwnedImprovement) int {
			switch {
			case i.Overdue(today):
				return 0
			case i.Status == "open":
				return 1
			}
			return 2
		}
		return rank(a) - rank(b)
	})
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	from := min((page-1)*historyPage, len(items))
	to := min(from+historyPage, len(items))
	d.Items, d.From, d.To, d.Total = items[from:to], from+1, to, len(items)
	link := func(n int) string { return orgPath(orgID, fmt.Sprintf("/history?page=%d#items-title", n)) }
	if page > 1 {
		d.Prev = link(page - 1)
	}
	if to < len(items) {
		d.Next = link(page + 1)
	}
	m.render(w, r, http.StatusOK, "history.html", "Exercise history", d, map[string]string{"status": "Status saved."}[r.URL.Query().Get("done")])
}

func (m *Module) ownedStatus(w http.ResponseWriter, r *http.Request) {
	orgID, _ := web.PathOrg(r)
	iid, ok := web.PathID(r, "id")
	if !ok || !web.ParseForm(w, r) {
		if !ok {
			web.Error(w, r, http.StatusNotFound)
		}
		return
	}
	err := m.store.SetOwnedStatus(r.Context(), orgID, iid, r.PostFormValue("status"))
	switch {
	case errors.Is(err, ErrNotFound):
		web.Error(w, r, http.StatusNotFound)
	case errors.Is(err, ErrInvalid):
		web.Error(w, r, http.StatusBadRequest)
	case err != nil:
		m.fail(w, r, "improvement status", err)
	default:
		http.Redirect(w, r, orgPath(orgID, "/history?done=status#items-title"), http.StatusSeeOther)
	}
}

// ---- report documents -------------------------------------------------------------

func parseReport() (*template.Template, template.CSS, error) {
	css, err := reportFS.ReadFile("reports/report.css")
	if err != nil {
		return nil, "", err
	}
	t, err := template.New("aar.html").Funcs(reportFuncs).ParseFS(reportFS, "reports/aar.html")
	if err != nil {
		return nil, "", err
	}
	return t, template.CSS(css), nil
}

var reportFuncs = template.FuncMap{
	"offset": func(d time.Duration) string { return "T+" + FormatOffset(d.Truncate(time.Second)) },
	"span":   func(d time.Duration) string { return FormatOffset(d.Truncate(time.Second)) },
	"date":   func(t time.Time) string { return t.Format("2 January 2006") },
	"stamp":  func(t time.Time) string { return t.Format("2 January 2006, 15:04 UTC") },
	"mean":   func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) },
	"lines":  func(s string) []string { return strings.Split(s, "\n") },
}

type orgInfo struct {
	name, country string
	regulator     bool
}

func (s *Store) orgInfo(ctx context.Context, id int64) (orgInfo, error) {
	var o orgInfo
	var typ string
	if err := s.db.QueryRow(ctx, "SELECT name, country, type FROM orgs WHERE id = ?", id).Scan(&o.name, &o.country, &typ); err != nil {
		return orgInfo{}, fmt.Errorf("tabletop: organisation: %w", err)
	}
	o.regulator = typ == "telecom_regulator" || typ == "central_bank"
	return o, nil
}

func (s *Store) countryOrgs(ctx context.Context, country string) ([]int64, error) {
	rows, err := s.db.Query(ctx, "SELECT id FROM orgs WHERE country = ?", country)
	if err != nil {
		return nil, fmt.Errorf("tabletop: organisations: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("tabletop: organisations: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
