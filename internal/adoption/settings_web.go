package adoption

import (
	"context"
	"errors"
	"net/http"

	"github.com/dfslab/dfslab/internal/web"
)

type cooperationData struct {
	Org         Org
	Arrangement Arrangement
	Own         RegulatorSetting
	CanEdit     bool // an org admin (the switches need a fresh verification)
	Shares      []Org
	Problem     string
}

// cooperation shows how the regulators of the country work together:
// who shares enforcement notes, and whether the baseline is joint.
func (m *Module) cooperation(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok {
		return
	}
	flash := map[string]string{"notes": "Sharing of enforcement notes saved.", "joint": "Joint approval setting saved; approvals given so far were voided."}[r.URL.Query().Get("done")]
	m.renderCooperation(w, r, o, http.StatusOK, "", flash)
}

func (m *Module) renderCooperation(w http.ResponseWriter, r *http.Request, o Org, status int, problem, flash string) {
	a, err := m.store.Arrangement(r.Context(), o)
	if err != nil {
		m.fail(w, r, "arrangement", err)
		return
	}
	d := cooperationData{Org: o, Arrangement: a, Own: a.Setting(o.ID), CanEdit: web.PathRole(r).AtLeast(web.RoleOrgAdmin), Problem: problem}
	for _, rs := range a.Regulators {
		if a.SharesNotesWith(o.ID, rs.Org.ID) {
			d.Shares = append(d.Shares, rs.Org)
		}
	}
	m.render(w, r, status, "cooperation.html", "Cooperation · "+o.Country, d, flash)
}

// onOff reads the form's "on" field: "1" or "0", nothing else.
func onOff(r *http.Request) (bool, bool) {
	switch r.PostFormValue("on") {
	case "1":
		return true, true
	case "0":
		return false, true
	}
	return false, false
}

func (m *Module) setShareNotes(w http.ResponseWriter, r *http.Request) {
	m.setCooperation(w, r, "notes", m.store.SetShareNotes)
}

func (m *Module) setJoint(w http.ResponseWriter, r *http.Request) {
	m.setCooperation(w, r, "joint", m.store.SetRequireJoint)
}

func (m *Module) setCooperation(w http.ResponseWriter, r *http.Request, done string, set func(ctx context.Context, reg Org, on bool) error) {
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
		m.renderCooperation(w, r, o, http.StatusBadRequest, "Choose on or off (field \"on\").", "")
		return
	}
	if err := set(r.Context(), o, on); err != nil {
		if errors.Is(err, ErrInvalid) {
			m.renderCooperation(w, r, o, http.StatusBadRequest, err.Error(), "")
			return
		}
		m.fail(w, r, "cooperation", err)
		return
	}
	http.Redirect(w, r, orgPath(o, "/cooperation?done="+done), http.StatusSeeOther)
}
