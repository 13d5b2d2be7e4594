package adoption

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/web"
)

// scheduleSave sets the draft's effective date and phases from the
// baseline page's form: rows phase_N_label and phase_N_months, N = 1…9;
// a row without a name is no phase.
func (m *Module) scheduleSave(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	if !o.IsRegulator() {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	sc := Schedule{EffectiveDate: r.PostFormValue("effective_date")}
	var bad string
	for n := 1; n <= maxPhases; n++ {
		label := r.PostFormValue(fmt.Sprintf("phase_%d_label", n))
		months := strings.TrimSpace(r.PostFormValue(fmt.Sprintf("phase_%d_months", n)))
		if strings.TrimSpace(label) == "" && months == "" {
			continue
		}
		mo, err := strconv.Atoi(months)
		if err != nil && bad == "" {
			bad = fmt.Sprintf("Phase %d: give the months after the effective date as a whole number.", n)
			mo = -1
		}
		sc.Phases = append(sc.Phases, Phase{Number: n, Label: label, Months: mo})
	}
	err := m.store.SetSchedule(r.Context(), o, sc)
	var ie *InvalidError
	switch {
	case bad != "":
		m.renderBaselineWith(w, r, o, http.StatusBadRequest, bad, "", &sc, "phases")
		return
	case errors.As(err, &ie):
		m.renderBaselineWith(w, r, o, http.StatusBadRequest, ie.Problem, "", &sc, ie.Field)
		return
	case err != nil:
		m.fail(w, r, "schedule", err)
		return
	}
	http.Redirect(w, r, orgPath(o, "/baseline?done=schedule#schedule-title"), http.StatusSeeOther)
}

// roadmapPhase is one phase of the roadmap view with its items.
type roadmapPhase struct {
	Phase Phase
	Rows  []roadmapRow
	Done  int // items of the viewer's organisation implemented or verified
}

type roadmapRow struct {
	RecID     string
	Title     string
	Deadline  string
	AppliesTo string
	Params    []ItemParam // the values the version set
	Status    Status      // the viewer's own status, when it tracks the item
	Tracked   bool
	Overdue   bool
}

type roadmapData struct {
	Org      Org
	Version  Version
	Phases   []roadmapPhase
	Own      bool // rows are the organisation's own applicable items
	Items    int
	Overdue  int
	Deadline int // items with a deadline
}

// roadmap shows a version's items by phase with their deadlines: for an
// organisation that tracks items, its own applicable items with its
// status; for others, every item that applies to someone.
func (m *Module) roadmap(w http.ResponseWriter, r *http.Request) {
	o, v, ok := m.loadVersion(w, r)
	if !ok {
		return
	}
	d := roadmapData{Org: o, Version: v, Own: o.Tracks()}
	state := map[string]Item{}
	if d.Own {
		// The organisation's statuses come from its tracking of the latest
		// version; an older version's roadmap shows them where the item is
		// still tracked.
		t, err := m.store.Items(r.Context(), o)
		if err != nil && !errors.Is(err, ErrNoBaseline) {
			m.fail(w, r, "items", err)
			return
		}
		for _, it := range t.Items {
			state[it.RecID] = it
		}
	}
	byPhase := map[int]*roadmapPhase{}
	var order []int
	phase := func(n int) *roadmapPhase {
		if p, ok := byPhase[n]; ok {
			return p
		}
		p := &roadmapPhase{Phase: Phase{Number: n, Label: "No phase"}}
		for _, ph := range v.Phases {
			if ph.Number == n {
				p.Phase = ph
			}
		}
		byPhase[n] = p
		order = append(order, n)
		return p
	}
	for _, ph := range v.Phases {
		phase(ph.Number)
	}
	today := m.store.today()
	for _, it := range v.Items {
		if !it.Decision.Applies() || (d.Own && !it.AppliesToLicensee(o.Licensee)) {
			continue
		}
		// The title as the version published it; a version published
		// before snapshots has none, and shows the catalogue's.
		row := roadmapRow{RecID: it.RecID, Title: it.Title, Deadline: it.Deadline, AppliesTo: it.AppliesTo.Label(), Params: it.Params}
		if rec, err := m.store.cat.Get(it.RecID); err == nil && row.Title == "" {
			row.Title = rec.Title
		} else if row.Title == "" {
			row.Title = it.RecID
		}
		p := phase(it.Phase)
		if st, ok := state[it.RecID]; ok {
			// A running waiver suspends the deadline.
			row.Status, row.Tracked, row.Overdue = st.Status, true, st.WaivedUntil == "" && overdue(st.Status, it.Deadline, st.TargetDate, today)
			if st.Status.Done() {
				p.Done++
			}
		}
		if row.Overdue {
			d.Overdue++
		}
		if row.Deadline != "" {
			d.Deadline++
		}
		d.Items++
		p.Rows = append(p.Rows, row)
	}
	// Phases in number order, "no phase" last.
	for _, n := range order {
		if n != 0 && len(byPhase[n].Rows) > 0 {
			d.Phases = append(d.Phases, *byPhase[n])
		}
	}
	if p, ok := byPhase[0]; ok && len(p.Rows) > 0 {
		d.Phases = append(d.Phases, *p)
	}
	title := "Roadmap · baseline " + o.Country + " " + v.Label()
	if d.Own && o.Licensee != identity.LicenseeNone {
		title += " · " + o.Licensee.Label()
	}
	m.render(w, r, http.StatusOK, "roadmap.html", title, d, "")
}
