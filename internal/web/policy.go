package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Access is the kind of caller a route admits.
type Access int

// The access kinds a Policy can declare.
const (
	// AccessPublic admits everyone, signed in or not.
	AccessPublic Access = iota + 1
	// AccessSignedIn admits any signed-in user (browser session).
	AccessSignedIn
	// AccessOrgRole admits members of the organisation named by the {org}
	// path wildcard whose role is at least Policy.MinRole.
	AccessOrgRole
	// AccessPlatformAdmin admits platform administrators only.
	AccessPlatformAdmin
	// AccessToken admits API callers with a bearer token of at least
	// Policy.Scope; browser sessions are not accepted.
	AccessToken
)

// StepUpWindow is how recent the last passkey or TOTP verification of the
// session must be for a route that requires step-up.
const StepUpWindow = 5 * time.Minute

// Paths the shell redirects to; the authentication package serves them.
const (
	SignInPath = "/signin"
	StepUpPath = "/account/step-up"
	// TOTPSetupPath is where a member of an organisation that requires
	// TOTP is sent, from every page, until they have set it up.
	TOTPSetupPath = "/account/totp"
)

// Policy declares who may call a route. It is data, not code, so that the
// authorisation matrix test can list it and a reviewer can read it.
type Policy struct {
	Access Access
	// MinRole is the weakest organisation role admitted (AccessOrgRole).
	MinRole Role
	// PlatformAdminOverride admits platform administrators to an
	// AccessOrgRole route of any organisation (organisation management).
	PlatformAdminOverride bool
	// Scope is the weakest API token scope admitted (AccessToken).
	Scope Scope
	// StepUp requires a passkey or TOTP verification within StepUpWindow.
	StepUp bool
}

// Public admits everyone.
func Public() Policy { return Policy{Access: AccessPublic} }

// SignedIn admits any signed-in user.
func SignedIn() Policy { return Policy{Access: AccessSignedIn} }

// OrgRole admits members with at least role min in the organisation of
// the {org} path wildcard.
func OrgRole(min Role) Policy { return Policy{Access: AccessOrgRole, MinRole: min} }

// OrgAdmin admits org admins of the {org} organisation and platform
// administrators.
func OrgAdmin() Policy {
	return Policy{Access: AccessOrgRole, MinRole: RoleOrgAdmin, PlatformAdminOverride: true}
}

// PlatformAdmin admits platform administrators only.
func PlatformAdmin() Policy { return Policy{Access: AccessPlatformAdmin} }

// Token admits API callers whose bearer token has at least scope s.
func Token(s Scope) Policy { return Policy{Access: AccessToken, Scope: s} }

// WithStepUp returns p requiring a recent verification.
func (p Policy) WithStepUp() Policy { p.StepUp = true; return p }

// String is the policy in the words of the matrix test and the docs.
func (p Policy) String() string {
	var s string
	switch p.Access {
	case AccessPublic:
		s = "public"
	case AccessSignedIn:
		s = "signed-in"
	case AccessOrgRole:
		s = "org-role>=" + string(p.MinRole)
		if p.PlatformAdminOverride {
			s += "|platform-admin"
		}
	case AccessPlatformAdmin:
		s = "platform-admin"
	case AccessToken:
		s = "token:" + string(p.Scope)
	default:
		s = fmt.Sprintf("invalid(%d)", p.Access)
	}
	if p.StepUp {
		s += "+step-up"
	}
	return s
}

// Route is one endpoint of the server.
type Route struct {
	// Pattern is a net/http ServeMux pattern with a method,
	// e.g. "POST /orgs/{org}/members/{user}/role".
	Pattern string
	Policy  Policy
	Handler http.Handler
	// MaxBody overrides Config.MaxBody for this route (uploads).
	MaxBody int64
	// RateLimited applies the per-address back-off of authentication
	// endpoints (see Limiter) before the handler runs.
	RateLimited bool
	// Static marks routes that need no session and no policy check beyond
	// Public: assets, health probes, metrics. Their successful requests are
	// logged at Debug.
	Static bool
	// SecretPath marks a route whose path wildcards carry a secret (a
	// single-use enrolment or recovery token): the access log, error logs
	// and the shell's audit entries show the pattern ("/enrol/{token}")
	// instead of the path, so that log readers cannot use a live link.
	SecretPath bool
	// Long marks a GET route whose handler mostly waits for something
	// outside this process (a PDF rendered by Chromium takes seconds): it
	// takes no page slot (see Config.MaxActive), so that a few exports
	// cannot hold up every other page.
	Long bool
	// TOTPSetup keeps the route reachable for a signed-in user who must
	// still set up TOTP (Principal.TOTPSetupRequired): the set-up pages,
	// the step-up they need, and sign-out. Every other page redirects to
	// TOTPSetupPath for that user.
	TOTPSetup bool
}

// Method returns the method of the pattern ("" when it has none).
func (rt Route) Method() string {
	m, _, ok := strings.Cut(rt.Pattern, " ")
	if !ok {
		return ""
	}
	return m
}

// Path returns the path part of the pattern.
func (rt Route) Path() string {
	_, p, ok := strings.Cut(rt.Pattern, " ")
	if !ok {
		return rt.Pattern
	}
	return p
}

func (rt Route) validate() error {
	if rt.Method() == "" && rt.Pattern != "/" { // "/" is the shell's catch-all 404
		return fmt.Errorf("route %q: pattern needs a method", rt.Pattern)
	}
	if rt.Handler == nil {
		return fmt.Errorf("route %q: no handler", rt.Pattern)
	}
	hasOrg := strings.Contains(rt.Path(), "{org}")
	switch rt.Policy.Access {
	case AccessPublic, AccessSignedIn, AccessPlatformAdmin:
	case AccessOrgRole:
		if !hasOrg {
			return fmt.Errorf("route %q: org-role policy needs an {org} wildcard", rt.Pattern)
		}
		if rt.Policy.MinRole.rank() == 0 {
			return fmt.Errorf("route %q: unknown role %q", rt.Pattern, rt.Policy.MinRole)
		}
	case AccessToken:
		if rt.Policy.Scope != ScopeRead && rt.Policy.Scope != ScopeWrite {
			return fmt.Errorf("route %q: unknown token scope %q", rt.Pattern, rt.Policy.Scope)
		}
		if rt.Policy.StepUp {
			return fmt.Errorf("route %q: API tokens cannot step up", rt.Pattern)
		}
	default:
		return fmt.Errorf("route %q: no policy declared", rt.Pattern)
	}
	if rt.Long && rt.Method() != http.MethodGet {
		return fmt.Errorf("route %q: only GET routes take page slots, so only they can be Long", rt.Pattern)
	}
	if rt.Static && rt.Policy.Access != AccessPublic {
		return fmt.Errorf("route %q: static routes skip the session, so they must be public", rt.Pattern)
	}
	if rt.Policy.StepUp && rt.Policy.Access == AccessPublic {
		return fmt.Errorf("route %q: step-up on a public route", rt.Pattern)
	}
	return nil
}

// A Module is a capability package plugged into the shell.
type Module interface {
	Routes() []Route
}

// A Navigator is a Module that contributes entries to the navigation.
type Navigator interface {
	Nav() []NavItem
}

// NavItem is one navigation entry. It is shown only to users whom its
// policy admits; a Path with {org} is shown once per organisation in
// which the user qualifies.
type NavItem struct {
	Label  string
	Path   string
	Policy Policy
	// Order sorts the entries (smaller first).
	Order int
}
