// Package orgpages serves the organisation pages: the platform
// administrators' list of organisations, each organisation's overview,
// its members page where org admins invite by single-use link, change
// roles, suspend memberships and (for accounts enrolled through the
// organisation) issue recovery links, and the invitee's page where a
// signed-in person accepts or declines invitations.
//
// An account belongs to its person: an organisation acts on its
// memberships only. Account-wide actions (suspension, recovery of any
// account) are the platform administrators' (package accountpages).
package orgpages

import (
	"cmp"
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
	SetLicensee(ctx context.Context, orgID int64, t identity.LicenseeType) (identity.Org, error)
	ListMembers(ctx context.Context, orgID int64) ([]identity.Member, error)
	People(ctx context.Context, orgID int64) ([]identity.Person, error)
	Memberships(ctx context.Context, userID int64) ([]identity.Membership, error)
	Member(ctx context.Context, orgID, userID int64) (identity.Member, error)
	Invite(ctx context.Context, orgID int64, email string, role identity.Role) (identity.Invitation, error)
	OrgInvitations(ctx context.Context, orgID int64) ([]identity.Invitation, error)
	RevokeInvitation(ctx context.Context, orgID, id int64) error
	InvitationsFor(ctx context.Context, userID int64) ([]identity.Invitation, error)
	AcceptInvitation(ctx context.Context, userID, id int64) (identity.Invitation, error)
	DeclineInvitation(ctx context.Context, userID, id int64) (identity.Invitation, error)
	SetRole(ctx context.Context, orgID, userID int64, role identity.Role) error
	SuspendMember(ctx context.Context, orgID, userID int64) error
	ReinstateMember(ctx context.Context, orgID, userID int64) error
	RemoveMember(ctx context.Context, orgID, userID int64) error
	IssueRecoveryLink(ctx context.Context, orgID, userID int64) (identity.RecoveryLink, error)
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
		// The licensee type decides an organisation's obligations under its
		// national baseline: an organisation choosing its own would choose
		// its own obligations, so only platform administrators set it.
		// It lives in the platform administrators' area, not under the
		// organisation's pages, which its members reach.
		{Pattern: "POST /admin/orgs/{id}/licensee", Policy: web.PlatformAdmin().WithStepUp(), Handler: http.HandlerFunc(p.setLicensee)},
		{Pattern: "GET /orgs/{org}/members", Policy: admin, Handler: http.HandlerFunc(p.members)},
		{Pattern: "POST /orgs/{org}/invitations", Policy: sensitive, Handler: http.HandlerFunc(p.invite)},
		{Pattern: "POST /orgs/{org}/invitations/{inv}/revoke", Policy: sensitive, Handler: http.HandlerFunc(p.revokeInvitation)},
		{Pattern: "POST /orgs/{org}/members/{user}/role", Policy: sensitive, Handler: http.HandlerFunc(p.setRole)},
		{Pattern: "POST /orgs/{org}/members/{user}/deactivate", Policy: sensitive, Handler: http.HandlerFunc(p.deactivate)},
		{Pattern: "POST /orgs/{org}/members/{user}/reactivate", Policy: sensitive, Handler: http.HandlerFunc(p.reactivate)},
		{Pattern: "POST /orgs/{org}/members/{user}/remove", Policy: sensitive, Handler: http.HandlerFunc(p.remove)},
		{Pattern: "POST /orgs/{org}/members/{user}/recovery-link", Policy: sensitive, Handler: http.HandlerFunc(p.recoveryLink)},

		{Pattern: "GET /invitations", Policy: web.SignedIn(), Handler: http.HandlerFunc(p.invitations)},
		{Pattern: "POST /invitations/{inv}/accept", Policy: web.SignedIn(), Handler: http.HandlerFunc(p.answer(true))},
		{Pattern: "POST /invitations/{inv}/decline", Policy: web.SignedIn(), Handler: http.HandlerFunc(p.answer(false))},
	}
}

// Nav lists the navigation entries.
func (p *Pages) Nav() []web.NavItem {
	return []web.NavItem{
		{Label: "Organisation", Path: "/orgs/{org}", Policy: web.OrgRole(web.RoleViewer), Order: 10},
		{Label: "Members", Path: "/orgs/{org}/members", Policy: web.OrgRole(web.RoleOrgAdmin), Order: 11},
		{Label: "Organisations", Path: "/orgs", Policy: web.PlatformAdmin(), Order: 20},
		{Label: "Invitations", Path: "/invitations", Policy: web.SignedIn(), Order: 85},
	}
}

type listData struct {
	Orgs      []identity.Org
	Types     []identity.OrgType
	Licensees []identity.LicenseeType
	Form      identity.NewOrg
	Problem   string
}

func (p *Pages) list(w http.ResponseWriter, r *http.Request) {
	p.renderList(w, r, http.StatusOK, identity.NewOrg{}, "")
}

func (p *Pages) listFlash(r *http.Request) string {
	if r.URL.Query().Get("done") == "licensee" {
		return "Licensee type saved."
	}
	return ""
}

func (p *Pages) renderList(w http.ResponseWriter, r *http.Request, status int, form identity.NewOrg, problem string) {
	orgs, err := p.store.ListOrgs(r.Context())
	if err != nil {
		web.ServerError(w, r, "list orgs", err)
		return
	}
	noStore(w)
	p.pages.Render(w, r, status, "orgs.html", web.View{Title: "Organisations", Flash: p.listFlash(r),
		Data: listData{Orgs: orgs, Types: identity.OrgTypes(), Licensees: identity.LicenseeTypes(), Form: form, Problem: problem}})
}

func (p *Pages) create(w http.ResponseWriter, r *http.Request) {
	if !web.ParseForm(w, r) {
		return
	}
	n := identity.NewOrg{
		Name:    strings.TrimSpace(r.PostFormValue("name")),
		Type:    identity.OrgType(r.PostFormValue("type")),
		Country: strings.TrimSpace(r.PostFormValue("country")),
		// Empty: the default of the type (identity.DefaultLicensee).
		Licensee: identity.LicenseeType(r.PostFormValue("licensee_type")),
	}
	o, err := p.store.CreateOrg(r.Context(), n)
	switch {
	case errors.Is(err, identity.ErrInvalid):
		p.renderList(w, r, http.StatusBadRequest, n, "Give a name, a type, a licensee type from the list and a two-letter ISO 3166 country code (for example MW).")
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
		rows[i] = memberRow{Name: p.Name(), Role: p.Role.Label(), Off: !p.Active || p.Suspended, Invited: p.Active && !p.Enrolled}
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
	if r.URL.Query().Get("joined") == "1" {
		v.Flash = "Welcome: you are now a member of " + org.Name + "."
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

// setLicensee sets what the organisation is licensed as, from the
// platform administrators' list of organisations.
func (p *Pages) setLicensee(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	if _, err := p.store.Org(r.Context(), id); errors.Is(err, identity.ErrNotFound) {
		web.Error(w, r, http.StatusNotFound)
		return
	} else if err != nil {
		web.ServerError(w, r, "load org", err)
		return
	}
	if !web.ParseForm(w, r) {
		return
	}
	vals, sent := r.PostForm["licensee_type"]
	lt := identity.LicenseeType(r.PostFormValue("licensee_type"))
	if !sent || len(vals) != 1 || !lt.Valid() {
		p.renderList(w, r, http.StatusBadRequest, identity.NewOrg{}, "Choose a licensee type from the list.")
		return
	}
	o, err := p.store.SetLicensee(r.Context(), id, lt)
	if errors.Is(err, identity.ErrNotFound) {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	if err != nil {
		web.ServerError(w, r, "set licensee type", err)
		return
	}
	http.Redirect(w, r, "/orgs?done=licensee#org-"+strconv.FormatInt(o.ID, 10), http.StatusSeeOther)
}

type membersData struct {
	Org         identity.Org
	Members     []memberLine
	Invitations []identity.Invitation
	Roles       []identity.Role
	Self        int64
	Invite      inviteForm
	// Shown once, right after it was made.
	Link     string
	LinkFor  string
	LinkKind string
	Problem  string
	// The page of members shown, of Total, and the links to the others.
	Page, Total int
	Prev, Next  string
}

// membersPage is how many members a page lists.
const membersPage = 50

// memberLine is a member with what the viewer may do to them.
type memberLine struct {
	identity.Member
	// CanRecover: the account was enrolled through this organisation (or
	// the viewer is a platform administrator), so a recovery link may be
	// issued here.
	CanRecover bool
	// Via names the organisation the account was enrolled through when it
	// is another one (the person joined by accepting an invitation).
	Via string
}

type inviteForm struct {
	Email string
	Role  identity.Role
}

func (p *Pages) members(w http.ResponseWriter, r *http.Request) {
	flash := map[string]string{
		"role":       "Role changed.",
		"deactivate": "Membership suspended: they can no longer see or do anything in this organisation.",
		"remove":     "Member removed from this organisation.",
		"reactivate": "Membership reinstated.",
		"revoke":     "Invitation withdrawn; its link no longer works.",
	}[r.URL.Query().Get("done")]
	p.renderMembers(w, r, http.StatusOK, membersData{Invite: inviteForm{Role: identity.RoleViewer}}, flash)
}

func (p *Pages) renderMembers(w http.ResponseWriter, r *http.Request, status int, d membersData, flash string) {
	org, ok := p.org(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	ms, err := p.store.ListMembers(ctx, org.ID)
	if err != nil {
		web.ServerError(w, r, "list members", err)
		return
	}
	if d.Invitations, err = p.store.OrgInvitations(ctx, org.ID); err != nil {
		web.ServerError(w, r, "list invitations", err)
		return
	}
	pr := web.CurrentPrincipal(ctx)
	names := map[int64]string{}
	d.Page, d.Total = 1, len(ms)
	if s := r.URL.Query().Get("page"); s != "" && r.Method == http.MethodGet {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			status, d.Problem = http.StatusBadRequest, cmp.Or(d.Problem, "The page number must be a whole number from 1.")
		} else {
			d.Page = min(n, max((len(ms)+membersPage-1)/membersPage, 1))
		}
	}
	base := orgPath(org.ID) + "/members"
	if d.Page > 1 {
		d.Prev = base
		if d.Page > 2 {
			d.Prev += "?page=" + strconv.Itoa(d.Page-1)
		}
	}
	if d.Page*membersPage < len(ms) {
		d.Next = base + "?page=" + strconv.Itoa(d.Page+1)
	}
	ms = ms[(d.Page-1)*membersPage : min(d.Page*membersPage, len(ms))]
	d.Members = make([]memberLine, len(ms))
	for i, m := range ms {
		l := memberLine{Member: m, CanRecover: (m.EnrolledHere() && !m.User.PlatformAdmin) || pr.User.PlatformAdmin}
		if m.EnrolledOrgID != 0 && m.EnrolledOrgID != org.ID {
			if _, seen := names[m.EnrolledOrgID]; !seen {
				if o, err := p.store.Org(ctx, m.EnrolledOrgID); err == nil {
					names[m.EnrolledOrgID] = o.Name
				}
			}
			l.Via = names[m.EnrolledOrgID]
		}
		d.Members[i] = l
	}
	d.Org, d.Roles = org, identity.Roles()
	d.Self = pr.User.ID
	noStore(w)
	p.pages.Render(w, r, status, "members.html", web.View{Title: "Members · " + org.Name, Data: d, Flash: flash})
}

// invite creates an invitation. The answer is the same whether or not
// the address has an account: a link to hand over (an existing account is
// also told in the app), so that inviting cannot probe who is enrolled.
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
		p.renderMembers(w, r, http.StatusConflict, membersData{Invite: f, Problem: "This person is already a member (perhaps suspended: reinstate them below)."}, "")
		return
	case errors.Is(err, identity.ErrNotFound):
		web.Error(w, r, http.StatusNotFound)
		return
	case err != nil:
		web.ServerError(w, r, "invite", err)
		return
	}
	d := membersData{Invite: inviteForm{Role: identity.RoleViewer}, LinkFor: inv.Email, LinkKind: "invitation",
		Link: identity.LinkURL(p.baseURL, identity.LinkInvitation, inv.Token)}
	flash := "Invitation created. Send the link below to " + inv.Email + " over a channel you trust; it works once. " +
		"If the address already has an account, they can also accept while signed in."
	p.renderMembers(w, r, http.StatusOK, d, flash)
}

func (p *Pages) revokeInvitation(w http.ResponseWriter, r *http.Request) {
	orgID, _ := web.PathOrg(r)
	id, err := strconv.ParseInt(r.PathValue("inv"), 10, 64)
	if err != nil || id <= 0 {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	if !web.ParseForm(w, r) {
		return
	}
	if !p.done(w, r, "revoke invitation", p.store.RevokeInvitation(r.Context(), orgID, id)) {
		return
	}
	http.Redirect(w, r, orgPath(orgID)+"/members?done=revoke", http.StatusSeeOther)
}

func (p *Pages) setRole(w http.ResponseWriter, r *http.Request) {
	orgID, m, ok := p.member(w, r)
	if !ok {
		return
	}
	role := identity.Role(r.PostFormValue("role"))
	if !role.Valid() {
		web.Error(w, r, http.StatusBadRequest)
		return
	}
	if m.Suspended {
		p.renderMembers(w, r, http.StatusConflict, membersData{Problem: "Reinstate the membership before changing its role."}, "")
		return
	}
	err := p.store.SetRole(r.Context(), orgID, m.User.ID, role)
	if errors.Is(err, identity.ErrLastAdmin) {
		p.renderMembers(w, r, http.StatusConflict, membersData{Problem: "An organisation must keep at least one org admin."}, "")
		return
	}
	if !p.done(w, r, "set role", err) {
		return
	}
	http.Redirect(w, r, orgPath(orgID)+"/members?done=role", http.StatusSeeOther)
}

// deactivate suspends a membership: the person loses access to this
// organisation only; their account, sessions elsewhere and other
// memberships are not this organisation's to change.
func (p *Pages) deactivate(w http.ResponseWriter, r *http.Request) {
	orgID, m, ok := p.member(w, r)
	if !ok {
		return
	}
	if m.User.ID == web.CurrentPrincipal(r.Context()).User.ID {
		p.renderMembers(w, r, http.StatusConflict, membersData{Problem: "You cannot suspend your own membership."}, "")
		return
	}
	if m.Suspended {
		http.Redirect(w, r, orgPath(orgID)+"/members?done=deactivate", http.StatusSeeOther)
		return
	}
	err := p.store.SuspendMember(r.Context(), orgID, m.User.ID)
	if errors.Is(err, identity.ErrLastAdmin) {
		p.renderMembers(w, r, http.StatusConflict, membersData{Problem: "An organisation must keep at least one org admin."}, "")
		return
	}
	if !p.done(w, r, "suspend member", err) {
		return
	}
	http.Redirect(w, r, orgPath(orgID)+"/members?done=deactivate", http.StatusSeeOther)
}

func (p *Pages) reactivate(w http.ResponseWriter, r *http.Request) {
	orgID, m, ok := p.member(w, r)
	if !ok {
		return
	}
	if m.Suspended {
		if !p.done(w, r, "reinstate member", p.store.ReinstateMember(r.Context(), orgID, m.User.ID)) {
			return
		}
	}
	http.Redirect(w, r, orgPath(orgID)+"/members?done=reactivate", http.StatusSeeOther)
}

func (p *Pages) remove(w http.ResponseWriter, r *http.Request) {
	orgID, m, ok := p.member(w, r)
	if !ok {
		return
	}
	if m.User.ID == web.CurrentPrincipal(r.Context()).User.ID {
		p.renderMembers(w, r, http.StatusConflict, membersData{Problem: "You cannot remove yourself."}, "")
		return
	}
	err := p.store.RemoveMember(r.Context(), orgID, m.User.ID)
	if errors.Is(err, identity.ErrLastAdmin) {
		p.renderMembers(w, r, http.StatusConflict, membersData{Problem: "An organisation must keep at least one org admin."}, "")
		return
	}
	if !p.done(w, r, "remove member", err) {
		return
	}
	http.Redirect(w, r, orgPath(orgID)+"/members?done=remove", http.StatusSeeOther)
}

// recoveryLink issues a recovery link. An org admin may do so only for an
// account enrolled through this organisation (never a platform
// administrator's); platform administrators act under the platform rule.
// The store enforces both; a refusal reads the same for every reason.
func (p *Pages) recoveryLink(w http.ResponseWriter, r *http.Request) {
	orgID, m, ok := p.member(w, r)
	if !ok {
		return
	}
	issuer := orgID
	if web.CurrentPrincipal(r.Context()).User.PlatformAdmin {
		issuer = 0
	}
	rl, err := p.store.IssueRecoveryLink(r.Context(), issuer, m.User.ID)
	if errors.Is(err, identity.ErrForbidden) || errors.Is(err, identity.ErrInactive) {
		p.renderMembers(w, r, http.StatusForbidden, membersData{Invite: inviteForm{Role: identity.RoleViewer},
			Problem: "This organisation cannot issue a recovery link for " + m.User.Email + ": the account was not set up through this organisation's invitation. " +
				"Ask a platform administrator, or the organisation the account was set up through."}, "")
		return
	}
	if !p.done(w, r, "recovery link", err) {
		return
	}
	d := membersData{Invite: inviteForm{Role: identity.RoleViewer}, LinkFor: m.User.Email, LinkKind: "recovery",
		Link: identity.LinkURL(p.baseURL, identity.LinkRecovery, rl.Token)}
	p.renderMembers(w, r, http.StatusOK, d, "Recovery link created. Hand it to "+m.User.Email+" in person or over a channel you trust; it works once. "+
		"The person and the admins of each of their organisations have been notified.")
}

type invitationsData struct {
	Invitations []identity.Invitation
	Problem     string
}

// invitations lists what the signed-in person may accept in the app.
func (p *Pages) invitations(w http.ResponseWriter, r *http.Request) {
	flash := map[string]string{"declined": "Invitation declined."}[r.URL.Query().Get("done")]
	p.renderInvitations(w, r, http.StatusOK, "", flash)
}

func (p *Pages) renderInvitations(w http.ResponseWriter, r *http.Request, status int, problem, flash string) {
	pr := web.CurrentPrincipal(r.Context())
	invs, err := p.store.InvitationsFor(r.Context(), pr.User.ID)
	if err != nil {
		web.ServerError(w, r, "invitations", err)
		return
	}
	noStore(w)
	p.pages.Render(w, r, status, "invitations.html", web.View{Title: "Invitations",
		Data: invitationsData{Invitations: invs, Problem: problem}, Flash: flash})
}

// answer accepts or declines one of the signed-in person's invitations;
// anyone else's reads as not found.
func (p *Pages) answer(accept bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("inv"), 10, 64)
		if err != nil || id <= 0 {
			web.Error(w, r, http.StatusNotFound)
			return
		}
		if !web.ParseForm(w, r) {
			return
		}
		uid := web.CurrentPrincipal(r.Context()).User.ID
		var inv identity.Invitation
		if accept {
			inv, err = p.store.AcceptInvitation(r.Context(), uid, id)
		} else {
			inv, err = p.store.DeclineInvitation(r.Context(), uid, id)
		}
		switch {
		case errors.Is(err, identity.ErrLinkUsed), errors.Is(err, identity.ErrLinkExpired):
			p.renderInvitations(w, r, http.StatusConflict, "This invitation was withdrawn, answered or has expired.", "")
			return
		case errors.Is(err, identity.ErrConflict):
			p.renderInvitations(w, r, http.StatusConflict, "You are a member of this organisation already.", "")
			return
		case !p.done(w, r, "answer invitation", err):
			return
		}
		if accept {
			http.Redirect(w, r, orgPath(inv.OrgID)+"?joined=1", http.StatusSeeOther)
			return
		}
		http.Redirect(w, r, "/invitations?done=declined", http.StatusSeeOther)
	}
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

// member resolves the {user} of the path to a member (suspended or not)
// of the path's organisation; anyone else is 404, so an org admin cannot
// act on users of other organisations by changing the number.
func (p *Pages) member(w http.ResponseWriter, r *http.Request) (orgID int64, m identity.Member, ok bool) {
	orgID, _ = web.PathOrg(r)
	uid, err := strconv.ParseInt(r.PathValue("user"), 10, 64)
	if err != nil || uid <= 0 {
		web.Error(w, r, http.StatusNotFound)
		return 0, identity.Member{}, false
	}
	if !web.ParseForm(w, r) {
		return 0, identity.Member{}, false
	}
	m, err = p.store.Member(r.Context(), orgID, uid)
	if errors.Is(err, identity.ErrNotFound) {
		web.Error(w, r, http.StatusNotFound)
		return 0, identity.Member{}, false
	}
	if err != nil {
		web.ServerError(w, r, "member", err)
		return 0, identity.Member{}, false
	}
	return orgID, m, true
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
	case errors.Is(err, identity.ErrForbidden):
		web.Error(w, r, http.StatusForbidden)
	default:
		web.ServerError(w, r, what, err)
	}
	return false
}

func orgPath(id int64) string { return "/orgs/" + strconv.FormatInt(id, 10) }

func noStore(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-store") }
