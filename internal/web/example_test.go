package web_test

import (
	"fmt"
	"net/http"
	"testing/fstest"

	"github.com/dfslab/dfslab/internal/web"
)

// notes is a capability module: it declares its routes with their
// policies, renders its pages inside the shared layout, and adds itself to
// the navigation of the users it admits.
type notes struct{ pages *web.Pages }

func (n notes) Routes() []web.Route {
	return []web.Route{
		{Pattern: "GET /orgs/{org}/notes", Policy: web.OrgRole(web.RoleViewer), Handler: http.HandlerFunc(n.list)},
		{Pattern: "POST /orgs/{org}/notes", Policy: web.OrgRole(web.RoleAnalyst), Handler: http.HandlerFunc(n.add)},
		{Pattern: "POST /orgs/{org}/notes/{id}/delete", Policy: web.OrgRole(web.RoleAnalyst).WithStepUp(), Handler: http.HandlerFunc(n.add)},
		{Pattern: "GET /api/v1/notes", Policy: web.Token(web.ScopeRead), Handler: http.HandlerFunc(n.add)},
	}
}

func (n notes) Nav() []web.NavItem {
	return []web.NavItem{{Label: "Notes", Path: "/orgs/{org}/notes", Policy: web.OrgRole(web.RoleViewer), Order: 30}}
}

func (n notes) list(w http.ResponseWriter, r *http.Request) {
	org, _ := web.PathOrg(r) // checked by the policy before the handler runs
	n.pages.Render(w, r, http.StatusOK, "notes.html", web.View{Title: "Notes", Data: org})
}

func (n notes) add(w http.ResponseWriter, r *http.Request) {
	if !web.ParseForm(w, r) { // 413 for oversized bodies, 400 for malformed ones
		return
	}
	http.Redirect(w, r, r.URL.Path, http.StatusSeeOther)
}

func Example_module() {
	rd, err := web.NewRenderer()
	if err != nil {
		panic(err)
	}
	tmpl := fstest.MapFS{"templates/notes.html": {Data: []byte(`{{define "content"}}<h1>Notes of {{.Data}}</h1>{{end}}`)}}
	pages, err := rd.Pages(tmpl, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, rt := range (notes{pages}).Routes() {
		fmt.Printf("%-36s %s\n", rt.Pattern, rt.Policy)
	}
	// Output:
	// GET /orgs/{org}/notes                org-role>=viewer
	// POST /orgs/{org}/notes               org-role>=analyst
	// POST /orgs/{org}/notes/{id}/delete   org-role>=analyst+step-up
	// GET /api/v1/notes                    token:read
}
