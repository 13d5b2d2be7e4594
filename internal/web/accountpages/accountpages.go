// Package accountpages serves the platform administrators' account pages:
// every account on the instance, searchable and paged, and for each its
// memberships, where it was set up, and the account-wide actions that no
// organisation may take: suspending or reinstating the account and issuing
// a recovery link for any account (a platform administrator's only by
// another platform administrator).
package accountpages

import (
	"context"
	"embed"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/web"
)

// Store is what the pages need from the identity store; it enforces the
// rules itself (platform administrator as actor, not on oneself, last
// platform administrator).
type Store interface {
	SearchUsers(ctx context.Context, q string, limit, offset int) (identity.AccountPage, error)
	User(ctx context.Context, id int64) (identity.User, error)
	Memberships(ctx context.Context, userID int64) ([]identity.Membership, error)
	SuspendedMemberships(ctx context.Context, userID int64) ([]identity.Membership, error)
	EnrolledOrg(ctx context.Context, userID int64) (int64, error)
	Org(ctx context.Context, id int64) (identity.Org, error)
	SetActive(ctx context.Context, userID int64, active bool) error
	IssueRecoveryLink(ctx context.Context, orgID, userID int64) (identity.RecoveryLink, error)
}

//go:embed templates/*.html
var templateFS embed.FS

// Pages is the account administration module.
type Pages struct {
	store   Store
	baseURL string
	pages   *web.Pages
}

// New returns the module; baseURL prefixes recovery links.
func New(store Store, rd *web.Renderer, baseURL string) (*Pages, error) {
	ps, err := rd.Pages(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	return &Pages{store: store, baseURL: baseURL, pages: ps}, nil
}

// pageSize is how many accounts the list shows at a time.
const pageSize = 50

// Routes lists the pages; changes need a fresh verification (step-up).
func (p *Pages) Routes() []web.Route {
	pa := web.PlatformAdmin()
	up := web.PlatformAdmin().WithStepUp()
	return []web.Route{
		{Pattern: "GET /admin/users", Policy: pa, Handler: http.HandlerFunc(p.list)},
		{Pattern: "GET /admin/users/{user}", Policy: pa, Handler: http.HandlerFunc(p.show)},
		{Pattern: "POST /admin/users/{user}/suspend", Policy: up, Handler: p.setActive(false)},
		{Pattern: "POST /admin/users/{user}/reinstate", Policy: up, Handler: p.setActive(true)},
		{Pattern: "POST /admin/users/{user}/recovery-link", Policy: up, Handler: http.HandlerFunc(p.recoveryLink)},
	}
}

// Nav lists the navigation entry.
func (p *Pages) Nav() []web.NavItem {
	return []web.NavItem{{Label: "Accounts", Path: "/admin/users", Policy: web.PlatformAdmin(), Order: 21}}
}

type listData struct {
	Q          string
	Page       identity.AccountPage
	From, To   int
	Prev, Next string
}

func (p *Pages) list(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > 254 {
		q = q[:254]
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	res, err := p.store.SearchUsers(r.Context(), q, pageSize, (page-1)*pageSize)
	if err != nil {
		web.ServerError(w, r, "search users", err)
		return
	}
	d := listData{Q: q, Page: res, From: (page-1)*pageSize + 1, To: (page-1)*pageSize + len(res.Users)}
	link := func(n int) string {
		v := url.Values{"page": {strconv.Itoa(n)}}
		if q != "" {
			v.Set("q", q)
		}
		return "/admin/users?" + v.Encode()
	}
	if page > 1 {
		d.Prev = link(page - 1)
	}
	if d.To < res.Total {
		d.Next = link(page + 1)
	}
	w.Header().Set("Cache-Control", "no-store")
	p.pages.Render(w, r, http.StatusOK, "users.html", web.View{Title: "Accounts", Data: d})
}

type showData struct {
	User      identity.User
	Orgs      []identity.Membership
	Suspended []identity.Membership
	Via       string // organisation the account was set up through
	Self      bool
	Link      string // a recovery link, shown once
	Problem   string
}

func (p *Pages) show(w http.ResponseWriter, r *http.Request) {
	flash := map[string]string{
		"suspend":   "Account suspended: its sessions ended and its API tokens were revoked.",
		"reinstate": "Account reinstated. Its API tokens stay revoked; the person creates new ones.",
	}[r.URL.Query().Get("done")]
	p.render(w, r, http.StatusOK, showData{}, flash)
}

func (p *Pages) render(w http.ResponseWriter, r *http.Request, status int, d showData, flash string) {
	uid, ok := pathUser(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	u, err := p.store.User(ctx, uid)
	if errors.Is(err, identity.ErrNotFound) {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	if err != nil {
		web.ServerError(w, r, "user", err)
		return
	}
	d.User = u
	d.Self = u.ID == web.CurrentPrincipal(ctx).User.ID
	if d.Orgs, err = p.store.Memberships(ctx, uid); err != nil {
		web.ServerError(w, r, "memberships", err)
		return
	}
	if d.Suspended, err = p.store.SuspendedMemberships(ctx, uid); err != nil {
		web.ServerError(w, r, "memberships", err)
		return
	}
	if via, err := p.store.EnrolledOrg(ctx, uid); err == nil && via != 0 {
		if o, err := p.store.Org(ctx, via); err == nil {
			d.Via = o.Name
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	p.pages.Render(w, r, status, "user.html", web.View{Title: "Account · " + u.Email, Data: d, Flash: flash})
}

func (p *Pages) setActive(active bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		uid, ok := pathUser(w, r)
		if !ok || !web.ParseForm(w, r) {
			return
		}
		err := p.store.SetActive(r.Context(), uid, active)
		switch {
		case errors.Is(err, identity.ErrNotFound):
			web.Error(w, r, http.StatusNotFound)
			return
		case errors.Is(err, identity.ErrLastAdmin):
			p.render(w, r, http.StatusConflict, showData{Problem: "This is the last active platform administrator: make another one first."}, "")
			return
		case errors.Is(err, identity.ErrForbidden):
			p.render(w, r, http.StatusForbidden, showData{Problem: "You cannot suspend or reinstate your own account."}, "")
			return
		case err != nil:
			web.ServerError(w, r, "set active", err)
			return
		}
		done := "suspend"
		if active {
			done = "reinstate"
		}
		http.Redirect(w, r, "/admin/users/"+strconv.FormatInt(uid, 10)+"?done="+done, http.StatusSeeOther)
	}
}

func (p *Pages) recoveryLink(w http.ResponseWriter, r *http.Request) {
	uid, ok := pathUser(w, r)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	rl, err := p.store.IssueRecoveryLink(r.Context(), 0, uid)
	switch {
	case errors.Is(err, identity.ErrNotFound):
		web.Error(w, r, http.StatusNotFound)
		return
	case errors.Is(err, identity.ErrForbidden):
		p.render(w, r, http.StatusForbidden, showData{Problem: "You cannot issue a recovery link for your own account: ask another platform administrator."}, "")
		return
	case errors.Is(err, identity.ErrInactive):
		p.render(w, r, http.StatusConflict, showData{Problem: "The account is suspended: reinstate it first."}, "")
		return
	case err != nil:
		web.ServerError(w, r, "recovery link", err)
		return
	}
	p.render(w, r, http.StatusOK, showData{Link: identity.LinkURL(p.baseURL, identity.LinkRecovery, rl.Token)},
		"Recovery link created. Hand it over in person or over a channel you trust; it works once. The person and the admins of each of their organisations have been notified.")
}

func pathUser(w http.ResponseWriter, r *http.Request) (int64, bool) {
	uid, err := strconv.ParseInt(r.PathValue("user"), 10, 64)
	if err != nil || uid <= 0 {
		web.Error(w, r, http.StatusNotFound)
		return 0, false
	}
	return uid, true
}
