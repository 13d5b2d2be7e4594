package web

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// Role is a user's role in one organisation. Roles are ordered:
// viewer < analyst < org admin.
type Role string

// The organisation roles, weakest first.
const (
	RoleViewer   Role = "viewer"
	RoleAnalyst  Role = "analyst"
	RoleOrgAdmin Role = "org_admin"
)

func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleAnalyst:
		return 2
	case RoleOrgAdmin:
		return 3
	}
	return 0
}

// AtLeast reports whether r grants everything min grants. An unknown role
// grants nothing, so a typo in the database never widens access.
func (r Role) AtLeast(min Role) bool { return r.rank() > 0 && r.rank() >= min.rank() }

// Label is the role's name for people.
func (r Role) Label() string {
	switch r {
	case RoleViewer:
		return "Viewer"
	case RoleAnalyst:
		return "Analyst"
	case RoleOrgAdmin:
		return "Organisation admin"
	}
	return string(r)
}

// Roles lists the organisation roles, weakest first.
func Roles() []Role { return []Role{RoleViewer, RoleAnalyst, RoleOrgAdmin} }

// Scope is the scope of a personal API token.
type Scope string

// API token scopes: write includes read.
const (
	ScopeRead  Scope = "read"
	ScopeWrite Scope = "write"
)

// Allows reports whether a token of scope s may be used where need is required.
func (s Scope) Allows(need Scope) bool {
	switch s {
	case ScopeWrite:
		return need == ScopeRead || need == ScopeWrite
	case ScopeRead:
		return need == ScopeRead
	}
	return false
}

// User is the signed-in person as the shell sees it.
type User struct {
	ID            int64
	Email         string
	DisplayName   string
	PlatformAdmin bool
}

// Name is what the layout shows for the user.
func (u User) Name() string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Email
}

// Membership is the user's role in one organisation.
type Membership struct {
	OrgID   int64
	OrgName string
	Role    Role
	// Detail is the application's own record of the organisation, read
	// with the session (an identity.Org in the app), so that a page about
	// the organisation need not read it again in the same request. Nil
	// when the session store does not provide it.
	Detail any
}

// Session is the server-side session behind the cookie.
type Session struct {
	ID         string // stable identifier (not the cookie secret)
	CreatedAt  time.Time
	LastSeen   time.Time
	ExpiresAt  time.Time // absolute expiry
	VerifiedAt time.Time // last passkey/TOTP verification, for step-up
}

// Principal is who is making the request: a user with a browser session,
// or a user acting through a personal API token (never both).
type Principal struct {
	User        User
	Memberships []Membership
	Session     *Session // set for browser sessions
	TokenID     int64    // set for API tokens
	TokenScope  Scope    // set for API tokens
	// TOTPSetupRequired is set by the session lookup when one of the
	// user's organisations requires TOTP and the user has none yet: the
	// shell then admits the session only to routes marked TOTPSetup.
	TOTPSetupRequired bool
}

// Role returns the principal's role in the organisation orgID.
func (p *Principal) Role(orgID int64) (Role, bool) {
	if p == nil {
		return "", false
	}
	for _, m := range p.Memberships {
		if m.OrgID == orgID {
			return m.Role, true
		}
	}
	return "", false
}

// IsToken reports whether the principal authenticated with an API token.
func (p *Principal) IsToken() bool { return p != nil && p.TokenScope != "" }

type ctxKey int

const requestInfoKey ctxKey = 0

// requestInfo is the per-request state the middleware shares with
// handlers. It is allocated once per request and filled in place so that
// later stages (the policy check) can publish the principal to earlier
// ones (the access log) without another context copy.
type requestInfo struct {
	id        string
	ip        string
	start     time.Time
	principal *Principal
	route     *Route
	orgID     int64 // organisation named in the path, once authorised
	srv       *Server
	sw        *statusWriter // the response, for the admission slot
}

func info(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(requestInfoKey).(*requestInfo)
	if ri == nil {
		return &requestInfo{}
	}
	return ri
}

// CurrentPrincipal returns who is making the request, or nil for an
// anonymous request.
func CurrentPrincipal(ctx context.Context) *Principal { return info(ctx).principal }

// CurrentUser returns the signed-in user, or false for an anonymous request.
func CurrentUser(ctx context.Context) (User, bool) {
	p := info(ctx).principal
	if p == nil {
		return User{}, false
	}
	return p.User, true
}

// RequestID returns the request's ID, as logged and shown on error pages.
func RequestID(ctx context.Context) string { return info(ctx).id }

// ClientIP returns the client's address (see Config.TrustProxy).
func ClientIP(r *http.Request) string { return info(r.Context()).ip }

// PathOrg returns the organisation named in the request path ({org}),
// checked by the route's policy. ok is false on routes without one.
func PathOrg(r *http.Request) (orgID int64, ok bool) {
	id := info(r.Context()).orgID
	return id, id != 0
}

// PathRole is the caller's role in the organisation of the {org} path
// wildcard ("" when the caller is not a member or the path has none).
func PathRole(r *http.Request) Role {
	id, ok := PathOrg(r)
	if !ok {
		return ""
	}
	role, _ := CurrentPrincipal(r.Context()).Role(id)
	return role
}

// WithPrincipal returns a context carrying p; for tests of handlers that
// run outside the server.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	ri := *info(ctx)
	ri.principal = p
	return context.WithValue(ctx, requestInfoKey, &ri)
}

// PathID is the positive integer of the path wildcard name (an object's
// ID); ok is false for anything else, which handlers answer with 404.
func PathID(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id, err == nil && id > 0
}
