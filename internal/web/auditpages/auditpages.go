// Package auditpages lets administrators browse and filter the audit log:
// platform administrators see every entry, org admins the entries about
// their organisation, made by its members acting for it, or naming it
// among the organisations an entry concerns (an action of another
// organisation on one of its members).
package auditpages

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/web"
)

// PageSize is how many entries a page shows.
const PageSize = 50

// Log lists audit entries (audit.List over the database).
type Log interface {
	List(ctx context.Context, f audit.Filter) ([]audit.Entry, error)
}

// Users resolves actors for display and the actor filter.
type Users interface {
	User(ctx context.Context, id int64) (identity.User, error)
	UserByEmail(ctx context.Context, email string) (identity.User, error)
	Org(ctx context.Context, id int64) (identity.Org, error)
}

//go:embed templates/*.html
var templateFS embed.FS

// Pages is the audit module.
type Pages struct {
	log   Log
	users Users
	pages *web.Pages
}

// New returns the module.
func New(log Log, users Users, rd *web.Renderer) (*Pages, error) {
	ps, err := rd.Pages(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	return &Pages{log: log, users: users, pages: ps}, nil
}

// Routes lists the audit pages.
func (p *Pages) Routes() []web.Route {
	return []web.Route{
		{Pattern: "GET /audit", Policy: web.PlatformAdmin(), Handler: http.HandlerFunc(p.all)},
		{Pattern: "GET /orgs/{org}/audit", Policy: web.OrgAdmin(), Handler: http.HandlerFunc(p.org)},
	}
}

// Nav lists the navigation entries.
func (p *Pages) Nav() []web.NavItem {
	return []web.NavItem{
		{Label: "Audit log", Path: "/audit", Policy: web.PlatformAdmin(), Order: 80},
	}
}

// form is the filter as typed, echoed back into the form.
type form struct {
	Action, Actor, ObjectType, ObjectID, Since, Until, Org string
}

type row struct {
	audit.Entry
	Actor   string
	Details string
	// Concerns names the other organisations the entry concerns (platform
	// view), or is "this organisation" in an organisation's view when the
	// entry is there only because it concerns it: the actor acted for
	// another organisation. An organisation's view never names the other
	// organisations: which others a person belongs to is not its business.
	Concerns string
}

type data struct {
	Heading  string
	Action   string // form action path
	Form     form
	AllOrgs  bool
	Rows     []row
	Next     string // URL of the next (older) page, "" on the last
	Problem  string
	Filtered bool
}

func (p *Pages) all(w http.ResponseWriter, r *http.Request) {
	p.serve(w, r, 0, "Audit log", "/audit")
}

func (p *Pages) org(w http.ResponseWriter, r *http.Request) {
	orgID, _ := web.PathOrg(r)
	o, err := p.users.Org(r.Context(), orgID)
	if errors.Is(err, identity.ErrNotFound) {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	if err != nil {
		web.ServerError(w, r, "load org", err)
		return
	}
	p.serve(w, r, orgID, "Audit log · "+o.Name, "/orgs/"+strconv.FormatInt(orgID, 10)+"/audit")
}

// serve lists entries; orgID > 0 confines them to that organisation no
// matter what the query says.
func (p *Pages) serve(w http.ResponseWriter, r *http.Request, orgID int64, heading, action string) {
	q := r.URL.Query()
	f := form{
		Action: strings.TrimSpace(q.Get("action")), Actor: strings.TrimSpace(q.Get("actor")),
		ObjectType: strings.TrimSpace(q.Get("object_type")), ObjectID: strings.TrimSpace(q.Get("object_id")),
		Since: q.Get("since"), Until: q.Get("until"), Org: strings.TrimSpace(q.Get("org")),
	}
	d := data{Heading: heading, Action: action, Form: f, AllOrgs: orgID == 0}
	filt, problem, err := p.filter(r.Context(), f, orgID)
	if err != nil {
		web.ServerError(w, r, "audit filter", err)
		return
	}
	d.Filtered = filt != (audit.Filter{OrgID: orgID})
	if b, err := strconv.ParseInt(q.Get("before"), 10, 64); err == nil && b > 0 {
		filt.BeforeSeq = b
	}
	filt.Limit = PageSize + 1
	status := http.StatusOK
	if problem != "" {
		d.Problem, status = problem, http.StatusBadRequest
	} else {
		es, err := p.log.List(r.Context(), filt)
		if err != nil {
			web.ServerError(w, r, "audit list", err)
			return
		}
		if len(es) > PageSize {
			es = es[:PageSize]
			nq := url.Values{}
			for k, v := range q {
				if k != "before" {
					nq[k] = v
				}
			}
			nq.Set("before", strconv.FormatInt(es[len(es)-1].Seq, 10))
			d.Next = action + "?" + nq.Encode()
		}
		d.Rows = p.rows(r.Context(), es, orgID)
	}
	w.Header().Set("Cache-Control", "no-store")
	p.pages.Render(w, r, status, "audit.html", web.View{Title: heading, Data: d})
}

// filter turns the form into an audit.Filter, or a message for the user.
func (p *Pages) filter(ctx context.Context, f form, orgID int64) (audit.Filter, string, error) {
	filt := audit.Filter{OrgID: orgID, Action: f.Action, ObjectType: f.ObjectType, ObjectID: f.ObjectID}
	if orgID == 0 && f.Org != "" {
		id, err := strconv.ParseInt(f.Org, 10, 64)
		if err != nil || id <= 0 {
			return filt, "Organisation must be a number (its ID).", nil
		}
		filt.OrgID = id
	}
	if f.Actor != "" {
		if id, err := strconv.ParseInt(f.Actor, 10, 64); err == nil && id > 0 {
			filt.ActorUserID = id
		} else {
			u, err := p.users.UserByEmail(ctx, f.Actor)
			switch {
			case errors.Is(err, identity.ErrNotFound):
				return filt, "No user has that e-mail address.", nil
			case err != nil:
				return filt, "", err
			}
			filt.ActorUserID = u.ID
		}
	}
	for _, v := range []struct {
		in  string
		out *time.Time
		add time.Duration
	}{{f.Since, &filt.Since, 0}, {f.Until, &filt.Until, 24 * time.Hour}} {
		if v.in == "" {
			continue
		}
		t, err := time.Parse("2006-01-02", v.in)
		if err != nil {
			return filt, "Dates are written YYYY-MM-DD.", nil
		}
		// "Until" is inclusive for people: the whole day counts.
		*v.out = t.Add(v.add)
	}
	return filt, "", nil
}

// rows resolves actor and organisation names, each once per page. orgID
// is the organisation whose view this is, 0 for the platform view.
func (p *Pages) rows(ctx context.Context, es []audit.Entry, orgID int64) []row {
	names := map[int64]string{}
	orgs := map[int64]string{}
	orgName := func(id int64) string {
		n, ok := orgs[id]
		if !ok {
			n = "organisation " + strconv.FormatInt(id, 10)
			if o, err := p.users.Org(ctx, id); err == nil {
				n = o.Name
			}
			orgs[id] = n
		}
		return n
	}
	out := make([]row, len(es))
	for i, e := range es {
		out[i].Entry = e
		switch {
		case orgID != 0 && e.OrgID != orgID && e.ActorOrgID != orgID:
			out[i].Concerns = "this organisation"
		case orgID == 0 && len(e.Concerned) > 0:
			ns := make([]string, len(e.Concerned))
			for j, id := range e.Concerned {
				ns[j] = orgName(id)
			}
			out[i].Concerns = strings.Join(ns, ", ")
		}
		if e.ActorUserID != 0 {
			n, ok := names[e.ActorUserID]
			if !ok {
				n = "user " + strconv.FormatInt(e.ActorUserID, 10)
				if u, err := p.users.User(ctx, e.ActorUserID); err == nil {
					if u.Email != "" {
						n = u.Email
					} else if u.DisplayName != "" {
						n = u.DisplayName
					}
				}
				names[e.ActorUserID] = n
			}
			out[i].Actor = n
		}
		if len(e.Details) > 0 {
			if b, err := json.Marshal(e.Details); err == nil {
				out[i].Details = string(b)
			}
		}
	}
	return out
}
