package authn

import (
	"net/http"

	"github.com/dfslab/dfslab/internal/web"
)

var _ web.Module = (*Service)(nil)

// Routes returns every authentication route with its policy. Routes a
// guesser could hammer are RateLimited (the shell's per-address back-off);
// guesses against one account are slowed by Config.Limiter as well.
func (s *Service) Routes() []web.Route {
	pub := web.Public()
	in := web.SignedIn()
	up := web.SignedIn().WithStepUp()
	rt := func(pattern string, p web.Policy, h http.HandlerFunc, limited bool) web.Route {
		return web.Route{Pattern: pattern, Policy: p, Handler: h, RateLimited: limited}
	}
	// secret marks routes whose path carries a live single-use link token:
	// the shell keeps it out of logs and audit entries.
	secret := func(r web.Route) web.Route { r.SecretPath = true; return r }
	// setup marks what a member of an organisation that requires TOTP may
	// still reach before setting it up: the set-up itself, the step-up it
	// needs, and sign-out. The shell redirects everything else.
	setup := func(r web.Route) web.Route { r.TOTPSetup = true; return r }
	return []web.Route{
		rt("GET /signin", pub, s.signInPage, false),
		rt("POST /signin/begin", pub, s.signInBegin, true),
		rt("POST /signin/finish", pub, s.signInFinish, true),
		rt("GET /signin/totp", pub, s.signInTOTPPage, false),
		rt("POST /signin/totp", pub, s.signInTOTP, true),
		setup(rt("POST /signout", in, s.signOut, false)),

		secret(rt("GET /enrol/{token}", pub, s.enrolPage, true)),
		secret(rt("POST /enrol/{token}/begin", pub, s.linkBegin(kindEnrol, LinkEnrolFirstAdmin, LinkInvitation), true)),
		secret(rt("POST /enrol/{token}/finish", pub, s.linkFinish(kindEnrol), true)),
		secret(rt("POST /enrol/{token}/accept", in, s.acceptInvitation, true)),
		rt("GET /recover", pub, s.recoverPage, false),
		rt("POST /recover", pub, s.recoverWithCode, true),
		secret(rt("GET /recover/{token}", pub, s.recoverLinkPage, true)),
		secret(rt("POST /recover/{token}/begin", pub, s.linkBegin(kindRecover, LinkRecovery), true)),
		secret(rt("POST /recover/{token}/finish", pub, s.linkFinish(kindRecover), true)),

		setup(rt("GET "+web.StepUpPath, in, s.stepUpPage, false)),
		setup(rt("POST "+web.StepUpPath+"/begin", in, s.stepUpBegin, true)),
		setup(rt("POST "+web.StepUpPath+"/finish", in, s.stepUpFinish, true)),
		setup(rt("POST "+web.StepUpPath+"/totp", in, s.stepUpTOTP, true)),

		rt("GET /account", in, s.accountPage, false),
		rt("GET /account/passkeys", in, s.passkeysPage, false),
		rt("POST /account/passkeys/begin", up, s.addPasskeyBegin, true),
		rt("POST /account/passkeys/finish", up, s.addPasskeyFinish, true),
		rt("POST /account/passkeys/{id}/rename", in, s.renamePasskey, false),
		rt("POST /account/passkeys/{id}/delete", up, s.removePasskey, false),
		setup(rt("GET "+web.TOTPSetupPath, in, s.totpPage, false)),
		setup(rt("POST "+web.TOTPSetupPath+"/setup", up, s.totpSetup, false)),
		setup(rt("POST "+web.TOTPSetupPath+"/confirm", in, s.totpConfirm, true)),
		rt("POST /account/totp/disable", up, s.totpDisable, false),
		rt("GET /account/recovery-codes", in, s.recoveryCodesPage, false),
		rt("POST /account/recovery-codes", up, s.recoveryCodesCreate, false),
		rt("GET /account/sessions", in, s.sessionsPage, false),
		rt("POST /account/sessions/{id}/revoke", in, s.revokeSession, false),
		rt("GET /account/tokens", in, s.tokensPage, false),
		rt("POST /account/tokens", up, s.createToken, false),
		rt("POST /account/tokens/{id}/revoke", in, s.revokeToken, false),

		{Pattern: "GET /api/v1/me", Policy: web.Token(web.ScopeRead), Handler: s.RequireToken(web.ScopeRead, http.HandlerFunc(s.me))},
	}
}

// Nav returns the navigation entries of the account pages.
func (s *Service) Nav() []web.NavItem {
	return []web.NavItem{{Label: "My account", Path: "/account", Policy: web.SignedIn(), Order: 90}}
}
