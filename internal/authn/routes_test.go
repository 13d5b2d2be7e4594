package authn

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/web"
)

// The route table is where the shell learns which endpoints are
// throttled, which paths carry secrets and what a member who must still
// set up TOTP may reach; a route added without the right marks would
// silently weaken all three.
func TestRouteDeclarations(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	h := newHarness(t, backends[0].new(t, clock), clock)
	// Endpoints that check something guessable (a passkey response, a TOTP
	// or recovery code, a link token) are throttled per address.
	limited := []string{
		"POST /signin/begin", "POST /signin/finish", "POST /signin/totp",
		"GET /enrol/{token}", "POST /enrol/{token}/begin", "POST /enrol/{token}/finish",
		"POST /recover", "GET /recover/{token}", "POST /recover/{token}/begin", "POST /recover/{token}/finish",
		"POST /account/step-up/begin", "POST /account/step-up/finish", "POST /account/step-up/totp",
		"POST /account/totp/confirm",
	}
	setup := []string{
		"POST /signout", "GET /account/step-up", "POST /account/step-up/begin", "POST /account/step-up/finish",
		"POST /account/step-up/totp", "GET /account/totp", "POST /account/totp/setup", "POST /account/totp/confirm",
	}
	seen := map[string]bool{}
	for _, rt := range h.svc.Routes() {
		seen[rt.Pattern] = true
		if slices.Contains(limited, rt.Pattern) && !rt.RateLimited {
			t.Errorf("%s: guessable, but not RateLimited", rt.Pattern)
		}
		if hasToken := strings.Contains(rt.Pattern, "{token}"); hasToken != rt.SecretPath {
			t.Errorf("%s: SecretPath %v, want %v", rt.Pattern, rt.SecretPath, hasToken)
		}
		if want := slices.Contains(setup, rt.Pattern); rt.TOTPSetup != want {
			t.Errorf("%s: TOTPSetup %v, want %v", rt.Pattern, rt.TOTPSetup, want)
		}
		if rt.Policy.Access == web.AccessToken && rt.TOTPSetup {
			t.Errorf("%s: an API route marked TOTPSetup", rt.Pattern)
		}
	}
	for _, p := range append(limited, setup...) {
		if !seen[p] {
			t.Errorf("%s: listed here but not a route (update the test)", p)
		}
	}
}
