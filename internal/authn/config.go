// Package authn implements the authentication flows of the platform:
// passkeys (WebAuthn, discoverable credentials, username-less sign-in),
// TOTP as a second factor, single-use recovery codes, step-up
// re-verification, enrolment and account recovery from single-use links,
// the "my account" pages, personal API tokens and GET /api/v1/me.
//
// The package owns the ceremonies and their pages; it persists nothing
// itself. Identity data lives behind the Store interface (IdentityStore
// adapts the identity package's store) and page layout, cookies and rate
// limits behind the Shell interface (web.Shell implements it). Challenges
// live server-side between the two halves of a ceremony, bound to a
// pre-authentication cookie, single use, for at most CeremonyTTL.
package authn

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// Durations fixed by the specification.
const (
	// CeremonyTTL bounds how long a WebAuthn challenge or a pending
	// second-factor step stays usable.
	CeremonyTTL = 5 * time.Minute
	// StepUpWindow is how recent the last verification of a session must
	// be for a sensitive action.
	StepUpWindow = 5 * time.Minute
)

// NewWebAuthn derives the relying party from the public base URL of the
// platform (--base-url): the RP ID is its host name without port, the only
// accepted origin is scheme://host[:port]. Deriving both from one value
// keeps a deployment from accepting assertions made for another site.
func NewWebAuthn(baseURL, displayName string) (*webauthn.WebAuthn, error) {
	rpID, origin, err := relyingParty(baseURL)
	if err != nil {
		return nil, err
	}
	if displayName == "" {
		displayName = "DFS Security Lab"
	}
	requireUV := protocol.VerificationRequired
	cfg := &webauthn.Config{
		RPID:                  rpID,
		RPDisplayName:         displayName,
		RPOrigins:             []string{origin},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			// Discoverable credentials make username-less sign-in possible.
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			RequireResidentKey: protocol.ResidentKeyRequired(),
			// A passkey with user verification is two factors in one;
			// without it the platform would be weaker than a bank app.
			UserVerification: requireUV,
		},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: true, Timeout: CeremonyTTL, TimeoutUVD: CeremonyTTL},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: CeremonyTTL, TimeoutUVD: CeremonyTTL},
		},
	}
	w, err := webauthn.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("authn: webauthn config: %w", err)
	}
	return w, nil
}

// relyingParty returns the RP ID and origin for baseURL.
func relyingParty(baseURL string) (rpID, origin string, err error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return "", "", fmt.Errorf("authn: base URL: %w", err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", "", fmt.Errorf("authn: base URL %q: scheme must be http or https", baseURL)
	}
	host := u.Hostname()
	if host == "" {
		return "", "", errors.New("authn: base URL has no host")
	}
	// Browsers only allow WebAuthn on plain HTTP for localhost.
	if u.Scheme == "http" && !isLoopbackHost(host) {
		return "", "", fmt.Errorf("authn: base URL %q: passkeys need https except on localhost", baseURL)
	}
	if net.ParseIP(host) != nil && !isLoopbackHost(host) {
		return "", "", fmt.Errorf("authn: base URL %q: passkeys need a domain name, not an IP address", baseURL)
	}
	return strings.ToLower(host), u.Scheme + "://" + strings.ToLower(u.Host), nil
}

func isLoopbackHost(h string) bool {
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
