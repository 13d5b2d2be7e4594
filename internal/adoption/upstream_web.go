package adoption

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/dfslab/dfslab/internal/web"
)

// upstreamPage is how many upstream changes a page lists: a catalogue
// release can change, add and withdraw dozens of items at once.
const upstreamPage = 50

type upstreamData struct {
	Org     Org
	Changes []UpstreamChange // the page
	Total   int              // after the filter
	Pending int              // changed or withdrawn items without a choice, over all pages
	Kind    string           // filter: "", changed, new, withdrawn
	CanEdit bool
	Prev    string
	Next    string
	Problem string
	Field   string
}

// upstream lists what changed in the catalogue since the latest version
// (changed texts, new recommendations, withdrawn items) for the
// regulators to take or leave per item.
func (m *Module) upstream(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok {
		return
	}
	flash := ""
	if n := r.URL.Query().Get("chosen"); n != "" {
		if k, err := strconv.Atoi(n); err == nil {
			flash = fmt.Sprintf("Choice recorded on %d upstream changes.", k)
			if k == 1 {
				flash = "Choice recorded."
			}
		}
	}
	m.renderUpstream(w, r, o, http.StatusOK, "", "", flash)
}

func (m *Module) renderUpstream(w http.ResponseWriter, r *http.Request, o Org, status int, problem, field, flash string) {
	q := r.URL.Query()
	kind := q.Get("kind")
	if kind != "" && kind != "changed" && kind != "new" && kind != "withdrawn" {
		kind = ""
	}
	off := 0
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			web.Error(w, r, http.StatusBadRequest)
			return
		}
		off = n
	}
	all, err := m.store.Upstream(r.Context(), o)
	if err != nil {
		m.fail(w, r, "upstream", err)
		return
	}
	d := upstreamData{Org: o, Kind: kind, CanEdit: web.PathRole(r).AtLeast(web.RoleAnalyst), Problem: problem, Field: field}
	var shown []UpstreamChange
	for _, c := range all {
		if c.Pending() {
			d.Pending++
		}
		if kind == "" || c.Kind == kind {
			shown = append(shown, c)
		}
	}
	d.Total = len(shown)
	if off < len(shown) {
		d.Changes = shown[off:min(off+upstreamPage, len(shown))]
	}
	page := func(n int) string {
		v := url.Values{"offset": {strconv.Itoa(n)}}
		if kind != "" {
			v.Set("kind", kind)
		}
		return orgPath(o, "/baseline/upstream?"+v.Encode())
	}
	if off > 0 {
		d.Prev = page(max(off-upstreamPage, 0))
	}
	if off+upstreamPage < len(shown) {
		d.Next = page(off + upstreamPage)
	}
	m.render(w, r, status, "upstream.html", "Upstream changes · "+o.Country, d, flash)
}

// chooseUpstream takes or leaves one upstream change (rec_id), or every
// change still without a choice (no rec_id).
func (m *Module) chooseUpstream(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	n, err := m.store.ChooseUpstream(r.Context(), o, r.PostFormValue("rec_id"), Choice(r.PostFormValue("choice")))
	var ie *InvalidError
	if errors.As(err, &ie) {
		m.renderUpstream(w, r, o, http.StatusBadRequest, ie.Problem, ie.Field, "")
		return
	}
	if err != nil {
		m.fail(w, r, "upstream choice", err)
		return
	}
	http.Redirect(w, r, orgPath(o, fmt.Sprintf("/baseline/upstream?chosen=%d", n)), http.StatusSeeOther)
}
