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
	m.renderProvider(w, r, o, off, http.StatusOK, "", "", flash)
}

func (m *Module) renderProvider(w http.ResponseWriter, r *http.Request, o Org, off, status int, body, problem, flash string) {
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
	d := providerData{Org: o, Provider: p, CanEdit: web.PathRole(r).AtLeast(web.RoleAnalyst), Body: body, Problem: problem}
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
