package adoption

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/dfslab/dfslab/internal/web"
)

// rosterPage is the number of organisations per page of a period's
// roster: a country can license hundreds of agents' banks and
// third parties.
const rosterPage = 100

// periodForm is the open-a-period form as typed, kept when refused.
type periodForm struct {
	Label   string
	DueDate string
}

// sectorPeriods is the reporting-period part of the sector page.
type sectorPeriods struct {
	Periods []Period
	CanEdit bool
	Roster  *Roster // nil: no period yet
	Form    periodForm
	Problem string
	Field   string
	States  []PeriodState
	Prev    string // links to the neighbouring pages ("" none)
	Next    string
	First   int // 1-based number of the first row shown
	Last    int
}

// rosterQuery reads the period, state filter and offset of the sector
// page's query; ok is false (and a 400 sent) when one is malformed.
func rosterQuery(w http.ResponseWriter, r *http.Request) (id int64, st PeriodState, offset int, ok bool) {
	q := r.URL.Query()
	if v := q.Get("period"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			web.Error(w, r, http.StatusNotFound)
			return 0, "", 0, false
		}
		id = n
	}
	st, valid := parsePeriodState(q.Get("state"))
	if !valid {
		web.Error(w, r, http.StatusBadRequest)
		return 0, "", 0, false
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			web.Error(w, r, http.StatusBadRequest)
			return 0, "", 0, false
		}
		offset = n
	}
	return id, st, offset, true
}

// loadPeriods fills the period part of the sector page for period id (0:
// the current one).
func (m *Module) loadPeriods(w http.ResponseWriter, r *http.Request, o Org, id int64, st PeriodState, offset int) (sectorPeriods, bool) {
	sp := sectorPeriods{States: periodStates, CanEdit: web.PathRole(r).AtLeast(web.RoleAnalyst)}
	ps, err := m.store.Periods(r.Context(), o)
	if err != nil {
		m.fail(w, r, "periods", err)
		return sp, false
	}
	sp.Periods = ps
	if len(ps) == 0 {
		if id != 0 {
			web.Error(w, r, http.StatusNotFound)
			return sp, false
		}
		return sp, true
	}
	ro, err := m.store.Roster(r.Context(), o, id, st, offset, rosterPage)
	if err != nil {
		m.fail(w, r, "roster", err)
		return sp, false
	}
	sp.Roster = &ro
	page := func(off int) string {
		v := url.Values{"period": {strconv.FormatInt(ro.Period.ID, 10)}, "offset": {strconv.Itoa(off)}}
		if st != "" {
			v.Set("state", string(st))
		}
		return orgPath(o, "/sector?"+v.Encode()+"#roster-title")
	}
	if ro.Offset > 0 {
		sp.Prev = page(max(ro.Offset-rosterPage, 0))
	}
	if ro.Offset+len(ro.Rows) < ro.Matched {
		sp.Next = page(ro.Offset + rosterPage)
	}
	if len(ro.Rows) > 0 {
		sp.First, sp.Last = ro.Offset+1, ro.Offset+len(ro.Rows)
	}
	return sp, true
}

// renderSector draws the sector page with the period part sp.
func (m *Module) renderSector(w http.ResponseWriter, r *http.Request, o Org, status int, sp sectorPeriods, flash string) {
	sv, err := m.store.Sector(r.Context(), o)
	if err != nil {
		m.fail(w, r, "sector", err)
		return
	}
	d := sectorData{Org: o, View: sv, Trend: newTrendChart(sv), Rows: make([]sectorRowView, len(sv.Rows)), Periods: sp}
	for i, row := range sv.Rows {
		d.Rows[i] = sectorRowView{Latest: row.Latest, Threats: cellsHTML(row.ByThreat), Layers: cellsHTML(row.ByLayer), History: historyHTML(o.ID, row.History)}
	}
	m.render(w, r, status, "sector.html", "Sector view · "+o.Country, d, flash)
}

// sectorProblem redraws the sector page (current period) with a refused
// form's problem and what was typed.
func (m *Module) sectorProblem(w http.ResponseWriter, r *http.Request, o Org, ie *InvalidError, form periodForm) {
	sp, ok := m.loadPeriods(w, r, o, 0, "", 0)
	if !ok {
		return
	}
	sp.Form, sp.Problem, sp.Field = form, ie.Problem, ie.Field
	m.renderSector(w, r, o, http.StatusBadRequest, sp, "")
}

func (m *Module) openPeriod(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	if !o.IsRegulator() {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	form := periodForm{Label: r.PostFormValue("label"), DueDate: r.PostFormValue("due_date")}
	p, err := m.store.OpenPeriod(r.Context(), o, form.Label, form.DueDate)
	var ie *InvalidError
	if errors.As(err, &ie) {
		m.sectorProblem(w, r, o, ie, form)
		return
	}
	if err != nil {
		m.fail(w, r, "open period", err)
		return
	}
	m.notifyPeriod(r, o, p, false)
	http.Redirect(w, r, orgPath(o, fmt.Sprintf("/sector?period=%d&done=period#roster-title", p.ID)), http.StatusSeeOther)
}

func (m *Module) remind(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	id, ok := pathID(r)
	if !ok || !o.IsRegulator() {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	p, rcpt, err := m.store.Remind(r.Context(), o, id)
	var ie *InvalidError
	if errors.As(err, &ie) {
		sp, ok := m.loadPeriods(w, r, o, id, "", 0)
		if !ok {
			return
		}
		sp.Problem, sp.Field = ie.Problem, ie.Field
		m.renderSector(w, r, o, http.StatusBadRequest, sp, "")
		return
	}
	if err != nil {
		m.fail(w, r, "remind", err)
		return
	}
	m.send(r, o, p, rcpt, true)
	http.Redirect(w, r, orgPath(o, fmt.Sprintf("/sector?period=%d&done=remind#roster-title", p.ID)), http.StatusSeeOther)
}

// notifyPeriod tells every in-scope organisation that period p opened.
func (m *Module) notifyPeriod(r *http.Request, o Org, p Period, reminder bool) {
	if m.notify == nil {
		return
	}
	rcpt, err := m.store.PeriodRecipients(r.Context(), o, p.ID)
	if err != nil {
		m.log.WarnContext(r.Context(), "period notification failed", "country", o.Country, "period", p.ID, "request_id", web.RequestID(r.Context()), "err", err)
		return
	}
	m.send(r, o, p, rcpt, reminder)
}

// send notifies each recipient organisation's members, with a link to
// its own submissions page. The period is committed by then; a failed
// notice is logged, not reported as a failed write.
func (m *Module) send(r *http.Request, o Org, p Period, rcpt []Recipient, reminder bool) {
	if m.notify == nil {
		return
	}
	text := fmt.Sprintf("%s opened the reporting period %s: submit your report by %s.", o.Name, p.Label, p.DueDate)
	if reminder {
		text = fmt.Sprintf("Reminder from %s: your report for %s is due by %s and has not been submitted.", o.Name, p.Label, p.DueDate)
	}
	for _, rc := range rcpt {
		if err := m.notify.Notify(r.Context(), rc.Users, "report", text, fmt.Sprintf("/orgs/%d/submissions", rc.OrgID)); err != nil {
			m.log.WarnContext(r.Context(), "period notification failed", "country", o.Country, "period", p.ID, "org", rc.OrgID,
				"request_id", web.RequestID(r.Context()), "err", err)
		}
	}
}

// periodFlash is the message after a redirect.
func periodFlash(r *http.Request) string {
	return map[string]string{"period": "Reporting period opened; the providers in scope were notified.",
		"remind": "Reminder sent to the organisations that have not submitted."}[strings.TrimSpace(r.URL.Query().Get("done"))]
}
