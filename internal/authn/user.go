package authn

import (
	"context"
	"fmt"

	"github.com/go-webauthn/webauthn/webauthn"
)

// waUser adapts an account and its passkeys to webauthn.User.
type waUser struct {
	acc      Account
	passkeys []Passkey
}

var _ webauthn.User = (*waUser)(nil)

func (u *waUser) WebAuthnID() []byte          { return u.acc.Handle }
func (u *waUser) WebAuthnName() string        { return u.acc.Email }
func (u *waUser) WebAuthnDisplayName() string { return displayName(u.acc) }
func (u *waUser) WebAuthnCredentials() []webauthn.Credential {
	cs := make([]webauthn.Credential, len(u.passkeys))
	for i, p := range u.passkeys {
		cs[i] = p.Credential
	}
	return cs
}

func displayName(a Account) string {
	if a.DisplayName != "" {
		return a.DisplayName
	}
	return a.Email
}

// loadUser returns the account with its passkeys.
func (s *Service) loadUser(ctx context.Context, userID int64) (*waUser, error) {
	acc, err := s.cfg.Store.Account(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("authn: account %d: %w", userID, err)
	}
	pk, err := s.cfg.Store.Passkeys(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("authn: passkeys of %d: %w", userID, err)
	}
	return &waUser{acc: acc, passkeys: pk}, nil
}
