// Package orgpages serves the organisation pages: the platform
// administrators' list of organisations, each organisation's overview,
// and its members page where org admins invite by single-use link, change
// roles, issue recovery links and deactivate members.
package orgpages

import (
	"context"
	"embed"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/web"
)

// Store is what the pages need from the identity store. Every write it
// makes is audited in its own transaction.
type Store interface {
	ListOrgs(ctx context.Context) ([]identity.Org, error)
	CreateOrg(ctx context.Context, n identity.NewOrg) (identity.Org, error)
	Org(ctx context.Context, id int64) (identity.Org, error)
	UpdateOrg(ctx context.Context, o identity.Org) (identity.Org, error)
	ListMembers(ctx context.Context, orgID int64) ([]identity.Member, error)
	People(ctx context.Context, orgID int64) ([]identity.Person, error)
	Memberships(ctx context.Context, userID int64) ([]identity.Membership, error)
	Invite(ctx context.Context, orgID int64, email string, role identity.Role) (identity.Invitation, error)
	SetRole(ctx context.Context, orgID, userID int64, role identity.Role) error
	SetActive(ctx context.Context, userID int64, active bool) error
	RemoveMember(ctx context.Context, orgID, userID int64) error
	IssueRecoveryLink(ctx context.Context, orgID, userID int64) (string, identity.Link, error)
}

//go:embed templates/*.html
var templateFS embed.FS

// Pages is the organisation module.
type Pages struct {
	store   Store
	baseURL string
	pages   *web.Pages
	log     *slog.Logger
}

// New returns the module. baseURL prefixes the single-use links shown to
// org admins (identity.LinkURL).
func New(store Store, rd *web.Renderer, baseURL string, log *slog.Logger) (*Pages, error) {
	ps, err := rd.Pages(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Pages{store: store, baseURL: baseURL, pages: ps, log: log}, nil
}

// Routes lists the organisation pages with their policies. Changes to
// membership need a recent verification (step-up).
func (p *Pages) Routes() []web.Route {
	admin := web.OrgAdmin()
	sensitive := web.OrgAdmin().WithStepUp()
	return []web.Route{
		{Pattern: "GET /orgs", Policy: web.PlatformAdmin(), Handler: http.HandlerFunc(p.list)},
		{Pattern: "POST /orgs", Policy: web.PlatformAdmin(), Handler: http.HandlerFunc(p.create)},
		{Pattern: "GET /orgs/{org}", Policy: web.Policy{Access: web.AccessOrgRole, MinRole: web.RoleViewer, PlatformAdminOverride: true}, Handler: http.HandlerFunc(p.overview)},
		{Pattern: "POST /orgs/{org}/settings", Policy: sensitive, Handler: http.HandlerFunc(p.settings)},
		{Pattern: "GET /orgs/{org}/members", Policy: admin, Handler: http.HandlerFunc(p.members)},
		{Pattern: "POST /orgs/{org}/invitations", Policy: sensitive, Handler: http.HandlerFunc(p.invite)},
		{Pattern: "POST /orgs/{org}/members/{user}/role", Policy: sensitive, Handler: http.HandlerFunc(p.setRole)},
		{Pattern: "POST /orgs/{org}/members/{user}/deactivate", Policy: sensitive, Handler: http.HandlerFunc(p.deactivate)},
		{Pattern: "POST /orgs/{org}/members/{user}/reactivate", Policy: sensitive, Handler: http.HandlerFunc(p.reactivate)},
		{Pattern: "POST /orgs/{org}/members/{user}/recovery-link", Policy: sensitive, Handler: http.HandlerFunc(p.recoveryLink)},
	}
}

// Nav lists the navigation entries.
func (p *Pages) Nav() []web.NavItem {
	return []web.NavItem{
		{Label: "Organisation", Path: "/orgs/{org}", Policy: web.OrgRole(web.RoleViewer), Order: 10},
		{Label: "Members", Path: "/orgs/{org}/members", Policy: web.OrgRole(web.RoleOrgAdmin), Order: 11},
		{Label: "Organisations", Path: "/orgs", Policy: web.PlatformAdmin(), Order: 20},
	}
}

type listData struct {
	Orgs    []identity.Org
	Types   []identity.OrgType
	Form    identity.NewOrg
	Problem string
}

func (p *Pages) list(w http.ResponseWriter, r *http.Request) {
	p.renderList(w, r, http.StatusOK, identity.NewOrg{}, "")
}

func (p *Pages) renderList(w http.ResponseWriter, r *http.Request, status int, form identity.NewOrg, problem string) {
	orgs, err := p.store.ListOrgs(r.Context())
	if err != nil {
		web.ServerError(w, r, "list orgs", err)
		return
	}
	noStore(w)
	p.pages.Render(w, r, status, "orgs.html", web.View{Title: "Organisations",
		Data: listData{Orgs: orgs, Types: identity.OrgTypes(), Form: form, Problem: problem}})
}

func (p *Pages) create(w http.ResponseWriter, r *http.Request) {
	if !web.ParseForm(w, r) {
		return
	}
	n := identity.NewOrg{
		Name:    strings.TrimSpace(r.PostFormValue("name")),
		Type:    identity.OrgType(r.PostFormValue("type")),
		Country: strings.TrimSpace(r.PostFormValue("country")),
	}
	o, err := p.store.CreateOrg(r.Context(), n)
	switch {
	case errors.Is(err, identity.ErrInvalid):
		p.renderList(w, r, http.StatusBadRequest, n, "Give a name, a type and a two-letter ISO 3166 country code (for example MW).")
		return
	case errors.Is(err, identity.ErrConflict):
		p.renderList(w, r, http.StatusConflict, n, "An organisation with this name exists already.")
		return
	case err != nil:
		web.ServerError(w, r, "create org", err)
		return
	}
	http.Redirect(w, r, "/orgs/"+strconv.FormatInt(o.ID, 10)+"?created=1", http.StatusSeeOther)
}

type overviewData struct {
	Org       identity.Org
	TypeLabel string // Org.Type.Label()
	Members   []memberRow
	CanManage bool
	HasAudit  bool
}

// memberRow is one line of the overview's people list, worked out here
// rather than in the template: method calls and nested field look-ups in
// a range loop are the expensive part of html/template.
type memberRow struct {
	Name    string // display name, else e-mail address
	Role    string // role label
	Off     bool   // deactivated
	Invited bool   // active but not enrolled yet
}

func memberRows(ps []identity.Person) []memberRow {
	rows := make([]memberRow, len(ps))
	for i, p := range ps {
		rows[i] = memberRow{Name: p.Name(), Role: p.Role.Label(), Off: !p.Active, Invited: p.Active && !p.Enrolled}
	}
	return rows
}

func (p *Pages) overview(w http.ResponseWriter, r *http.Request) {
	org, ok := p.org(w, r)
	if !ok {
		return
	}
	pr := web.CurrentPrincipal(r.Context())
	role, _ := pr.Role(org.ID)
	d := overviewData{Org: org, TypeLabel: org.Type.Label(), CanManage: role.AtLeast(web.RoleOrgAdmin) || pr.User.PlatformAdmin}
	ps, err := p.store.People(r.Context(), org.ID)
	if err != nil {
		web.ServerError(w, r, "list members", err)
		return
	}
	d.Members = memberRows(ps)
	v := web.View{Title: org.Name, Data: d}
	switch r.URL.Query().Get("done") {
	case "settings":
		v.Flash = "Settings saved."
	}
	if r.URL.Query().Get("created") == "1" {
		v.Flash = "Organisation created. Invite its first org admin from the members page."
	}
	noStore(w)
	p.pages.Render(w, r, http.StatusOK, "org.html", v)
}

func (p *Pages) settings(w http.ResponseWriter, r *http.Request) {
	org, ok := p.org(w, r)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	org.RequireTOTP = r.PostFormValue("require_totp") == "on"
	if _, err := p.store.UpdateOrg(r.Context(), org); err != nil {
		web.ServerError(w, r, "update org", err)
		return
	}
	http.Redirect(w, r, orgPath(org.ID)+"?done=settings", http.StatusSeeOther)
}

type membersData struct {
	Org     identity.Org
	Members []identity.Member
	Roles   []identity.Role
	Self    int64
	Invite  inviteForm
	// Shown once, right after it was made.
	Link     string
	LinkFor  string
	LinkKind string
	Problem  string
}

type inviteForm struct {
	Email string
	Role  identity.Role
}

func (p *Pages) members(w http.ResponseWriter, r *http.Request) {
	flash := map[string]string{
		"role":       "Role changed.",
		"deactivate": "Member deactivated; their sessions have ended.",
		"remove":     "Member removed from this organisation.",
		"reactivate": "Member reactivated.",
	}[r.URL.Query().Get("done")]
	p.renderMembers(w, r, http.StatusOK, membersData{Invite: inviteForm{Role: identity.RoleViewer}}, flash)
}

func (p *Pages) renderMembers(w http.ResponseWriter, r *http.Request, status int, d membersData, flash string) {
	org, ok := p.org(w, r)
	if !ok {
		return
	}
	ms, err := p.store.ListMembers(r.Context(), org.ID)
	if err != nil {
		web.ServerError(w, r, "list members", err)
		return
	}
	d.Org, d.Members, d.Roles = org, ms, identity.Roles()
	d.Self = web.CurrentPrincipal(r.Context()).User.ID
	noStore(w)
	p.pages.Render(w, r, status, "members.html", web.View{Title: "Members · " + org.Name, Data: d, Flash: flash})
}

func (p *Pages) invite(w http.ResponseWriter, r *http.Request) {
	orgID, _ := web.PathOrg(r)
	if !web.ParseForm(w, r) {
		return
	}
	f := inviteForm{Email: strings.TrimSpace(r.PostFormValue("email")), Role: identity.Role(r.PostFormValue("role"))}
	inv, err := p.store.Invite(r.Context(), orgID, f.Email, f.Role)
	switch {
	case errors.Is(err, identity.ErrInvalid):
		p.renderMembers(w, r, http.StatusBadRequest, membersData{Invite: f, Problem: "Give an e-mail address and a role."}, "")
		return
	case errors.Is(err, identity.ErrConflict):
		p.renderMembers(w, r, http.StatusConflict, membersData{Invite: f, Problem: "This person is already a member."}, "")
		return
	case errors.Is(err, identity.ErrNotFound):
		web.Error(w, r, http.StatusNotFound)
		return
	case err != nil:
		web.ServerError(w, r, "invite", err)
		return
	}
	d := membersData{Invite: inviteForm{Role: identity.RoleViewer}, LinkFor: inv.User.Email}
	flash := inv.User.Email + " is now a member."
	if inv.Token != "" {
		d.Link, d.LinkKind = identity.LinkURL(p.baseURL, identity.LinkInvitation, inv.Token), "invitation"
		flash = "Invitation created. Send the link below to " + inv.User.Email + " over a channel you trust; it works once."
	}
	p.renderMembers(w, r, http.StatusOK, d, flash)
}

func (p *Pages) setRole(w http.ResponseWriter, r *http.Request) {
	orgID, uid, ok := p.member(w, r)
	if !ok {
		return
	}
	role := identity.Role(r.PostFormValue("role"))
	if !role.Valid() {
		web.Error(w, r, http.StatusBadRequest)
		return
	}
	err := p.store.SetRole(r.Context(), orgID, uid, role)
	if errors.Is(err, identity.ErrLastAdmin) {
		p.renderMembers(w, r, http.StatusConflict, membersData{Problem: "An organisation must keep at least one org admin."}, "")
		return
	}
	if !p.done(w, r, "set role", err) {
		return
	}
	http.Redirect(w, r, orgPath(orgID)+"/members?done=role", http.StatusSeeOther)
}

// deactivate ends a member's access. A user who belongs to this
// organisation only is deactivated (all sessions end at once); one who
// also belongs elsewhere only loses this membership, so that one
// organisation's admin cannot lock a person out of another organisation.
// Platform administrators may deactivate anyone.
func (p *Pages) deactivate(w http.ResponseWriter, r *http.Request) {
	orgID, uid, ok := p.member(w, r)
	if !ok {
		return
	}
	pr := web.CurrentPrincipal(r.Context())
	if uid == pr.User.ID {
		p.renderMembers(w, r, http.StatusConflict, membersData{Problem: "You cannot deactivate yourself."}, "")
		return
	}
	ctx := r.Context()
	ms, err := p.store.Memberships(ctx, uid)
	if err != nil {
		web.ServerError(w, r, "memberships", err)
		return
	}
	if lastAdmin(ctx, p.store, orgID, uid) {
		p.renderMembers(w, r, http.StatusConflict, membersData{Problem: "An organisation must keep at least one org admin."}, "")
		return
	}
	elsewhere := false
	for _, m := range ms {
		if m.Org.ID != orgID {
			elsewhere = true
		}
	}
	if elsewhere && !pr.User.PlatformAdmin {
		err := p.store.RemoveMember(ctx, orgID, uid)
		if errors.Is(err, identity.ErrLastAdmin) {
			p.renderMembers(w, r, http.StatusConflict, membersData{Problem: "An organisation must keep at least one org admin."}, "")
			return
		}
		if !p.done(w, r, "remove member", err) {
			return
		}
		http.Redirect(w, r, orgPath(orgID)+"/members?done=remove", http.StatusSeeOther)
		return
	}
	if !p.done(w, r, "deactivate", p.store.SetActive(ctx, uid, false)) {
		return
	}
	http.Redirect(w, r, orgPath(orgID)+"/members?done=deactivate", http.StatusSeeOther)
}

// lastAdmin reports whether uid is the only active org admin of orgID.
func lastAdmin(ctx context.Context, s Store, orgID, uid int64) bool {
	ms, err := s.ListMembers(ctx, orgID)
	if err != nil {
		return false
	}
	isAdmin, others := false, 0
	for _, m := range ms {
		if m.Role != identity.RoleOrgAdmin || !m.User.Active {
			continue
		}
		if m.User.ID == uid {
			isAdmin = true
		} else {
			others++
		}
	}
	return isAdmin && others == 0
}

func (p *Pages) reactivate(w http.ResponseWriter, r *http.Request) {
	orgID, uid, ok := p.member(w, r)
	if !ok {
		return
	}
	if !p.done(w, r, "reactivate", p.store.SetActive(r.Context(), uid, true)) {
		return
	}
	http.Redirect(w, r, orgPath(orgID)+"/members?done=reactivate", http.StatusSeeOther)
}

func (p *Pages) recoveryLink(w http.ResponseWriter, r *http.Request) {
	orgID, uid, ok := p.member(w, r)
	if !ok {
		return
	}
	tok, _, err := p.store.IssueRecoveryLink(r.Context(), orgID, uid)
	if !p.done(w, r, "recovery link", err) {
		return
	}
	var email string
	if ms, err := p.store.ListMembers(r.Context(), orgID); err == nil {
		for _, m := range ms {
			if m.User.ID == uid {
				email = m.User.Email
			}
		}
	}
	d := membersData{Invite: inviteForm{Role: identity.RoleViewer}, LinkFor: email, LinkKind: "recovery",
		Link: identity.LinkURL(p.baseURL, identity.LinkRecovery, tok)}
	p.renderMembers(w, r, http.StatusOK, d, "Recovery link created. Hand it to "+email+" in person or over a channel you trust; it works once.")
}

// org loads the organisation of the path (the policy already checked
// the caller's access to it). A member's session lookup has read it
// already, in this request; only platform administrators who are not
// members cost a query.
func (p *Pages) org(w http.ResponseWriter, r *http.Request) (identity.Org, bool) {
	id, ok := web.PathOrg(r)
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return identity.Org{}, false
	}
	if pr := web.CurrentPrincipal(r.Context()); pr != nil {
		for _, m := range pr.Memberships {
			if o, ok := m.Detail.(identity.Org); ok && m.OrgID == id && o.ID == id {
				return o, true
			}
		}
	}
	o, err := p.store.Org(r.Context(), id)
	if errors.Is(err, identity.ErrNotFound) {
		web.Error(w, r, http.StatusNotFound)
		return identity.Org{}, false
	}
	if err != nil {
		web.ServerError(w, r, "load org", err)
		return identity.Org{}, false
	}
	return o, true
}

// member resolves the {user} of the path to a member of the path's
// organisation; anyone else is 404, so an org admin cannot act on users of
// other organisations by changing the number.
func (p *Pages) member(w http.ResponseWriter, r *http.Request) (orgID, uid int64, ok bool) {
	orgID, _ = web.PathOrg(r)
	uid, err := strconv.ParseInt(r.PathValue("user"), 10, 64)
	if err != nil || uid <= 0 {
		web.Error(w, r, http.StatusNotFound)
		return 0, 0, false
	}
	if !web.ParseForm(w, r) {
		return 0, 0, false
	}
	ms, err := p.store.ListMembers(r.Context(), orgID)
	if err != nil {
		web.ServerError(w, r, "list members", err)
		return 0, 0, false
	}
	for _, m := range ms {
		if m.User.ID == uid {
			return orgID, uid, true
		}
	}
	web.Error(w, r, http.StatusNotFound)
	return 0, 0, false
}

// done maps a store error to a response; it returns true on success.
func (p *Pages) done(w http.ResponseWriter, r *http.Request, what string, err error) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, identity.ErrNotFound):
		web.Error(w, r, http.StatusNotFound)
	case errors.Is(err, identity.ErrInvalid):
		web.Error(w, r, http.StatusBadRequest)
	case errors.Is(err, identity.ErrLastAdmin), errors.Is(err, identity.ErrConflict):
		web.Error(w, r, http.StatusConflict)
	default:
		web.ServerError(w, r, what, err)
	}
	return false
}

func orgPath(id int64) string { return "/orgs/" + strconv.FormatInt(id, 10) }

func noStore(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-store") }
