package adoption

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/dfslab/dfslab/internal/web"
)

type providerData struct {
	Org      Org
	Provider Provider
	CanEdit  bool
	Body     string // a refused note as typed
	Problem  string
	Prev     string
	Next     string

	Waivers       []Waiver
	Items         []string // the items a waiver can name
	Today         string
	WaiverForm    Waiver // a refused waiver as typed
	WaiverProblem string
	WaiverField   string
}

// providerPage shows a provider of the regulator's country: its reports
// and the regulator's enforcement notes.
func (m *Module) providerPage(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok {
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
	flash := ""
	if r.URL.Query().Get("done") == "note" {
		flash = "Note added. Only your organisation can read it."
	}
	if f := map[string]string{"waiver": "Waiver granted; the provider sees it.", "revoked": "Waiver revoked."}[r.URL.Query().Get("done")]; f != "" {
		flash = f
	}
	m.renderProvider(w, r, o, off, http.StatusOK, "", "", flash)
}

func (m *Module) renderProvider(w http.ResponseWriter, r *http.Request, o Org, off, status int, body, problem, flash string) {
	m.renderProviderWith(w, r, o, off, status, body, problem, flash, Waiver{}, "", "")
}

func (m *Module) renderProviderWith(w http.ResponseWriter, r *http.Request, o Org, off, status int, body, problem, flash string, wf Waiver, wproblem, wfield string) {
	id, ok := pathID(r)
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	p, err := m.store.Provider(r.Context(), o, id, off)
	if err != nil {
		m.fail(w, r, "provider", err)
		return
	}
	d := providerData{Org: o, Provider: p, CanEdit: web.PathRole(r).AtLeast(web.RoleAnalyst), Body: body, Problem: problem,
		Today: m.store.today(), WaiverForm: wf, WaiverProblem: wproblem, WaiverField: wfield}
	if d.Waivers, err = m.store.Waivers(r.Context(), o, id); err != nil {
		m.fail(w, r, "waivers", err)
		return
	}
	if v, err := m.store.Latest(r.Context(), o.Country); err == nil {
		for _, it := range v.Items {
			if it.Decision.Applies() && it.AppliesToLicensee(p.Org.Licensee) {
				d.Items = append(d.Items, it.RecID)
			}
		}
	} else if !errors.Is(err, ErrNoBaseline) && !errors.Is(err, ErrNotFound) {
		m.fail(w, r, "baseline", err)
		return
	}
	page := func(n int) string {
		return orgPath(o, fmt.Sprintf("/sector/providers/%d?offset=%d#notes-title", id, n))
	}
	if p.Offset > 0 {
		d.Prev = page(max(p.Offset-notesPage, 0))
	}
	if p.Offset+len(p.Notes) < p.Total {
		d.Next = page(p.Offset + notesPage)
	}
	m.render(w, r, status, "provider.html", p.Org.Name+" · "+o.Country, d, flash)
}

func (m *Module) addNote(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	id, ok := pathID(r)
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	body := r.PostFormValue("body")
	_, err := m.store.AddNote(r.Context(), o, id, body)
	var ie *InvalidError
	if errors.As(err, &ie) {
		m.renderProvider(w, r, o, 0, http.StatusBadRequest, body, ie.Problem, "")
		return
	}
	if err != nil {
		m.fail(w, r, "add note", err)
		return
	}
	http.Redirect(w, r, orgPath(o, fmt.Sprintf("/sector/providers/%d?done=note#notes-title", id)), http.StatusSeeOther)
}

func (m *Module) grantWaiver(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	id, ok := pathID(r)
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	wf := Waiver{RecID: r.PostFormValue("rec_id"), Reason: r.PostFormValue("reason"), Expires: r.PostFormValue("expires")}
	_, err := m.store.GrantWaiver(r.Context(), o, id, wf.RecID, wf.Reason, wf.Expires)
	var ie *InvalidError
	if errors.As(err, &ie) {
		m.renderProviderWith(w, r, o, 0, http.StatusBadRequest, "", "", "", wf, ie.Problem, ie.Field)
		return
	}
	if errors.Is(err, ErrNoBaseline) {
		m.renderProviderWith(w, r, o, 0, http.StatusBadRequest, "", "", "", wf, "There is no published baseline to waive an item of.", "rec_id")
		return
	}
	if err != nil {
		m.fail(w, r, "grant waiver", err)
		return
	}
	http.Redirect(w, r, orgPath(o, fmt.Sprintf("/sector/providers/%d?done=waiver#waivers-title", id)), http.StatusSeeOther)
}

func (m *Module) revokeWaiver(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	wid, ok := pathID(r)
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	wv, err := m.store.RevokeWaiver(r.Context(), o, wid)
	var ie *InvalidError
	if errors.As(err, &ie) {
		// The provider page of the waiver: its {id} is the provider's.
		r.SetPathValue("id", strconv.FormatInt(wv.OrgID, 10))
		m.renderProviderWith(w, r, o, 0, http.StatusBadRequest, "", "", "", Waiver{}, ie.Problem, ie.Field)
		return
	}
	if err != nil {
		m.fail(w, r, "revoke waiver", err)
		return
	}
	http.Redirect(w, r, orgPath(o, fmt.Sprintf("/sector/providers/%d?done=revoked#waivers-title", wv.OrgID)), http.StatusSeeOther)
}
