package authn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/identity"
)

// IdentityStore adapts the identity store to Store. The identity store
// keeps the rules (single use, TOTP step reuse, last sign-in method) and
// writes the audit entries of its changes in the same transaction, taking
// the actor from the context (audit.WithActor, set by the web shell).
func IdentityStore(ids *identity.Store) Store { return idStore{ids} }

type idStore struct{ ids *identity.Store }

// withActor makes m the audit actor of ctx where the request has none
// yet: during sign-in the shell only knows an anonymous caller, while the
// flow already knows whose passkey, code or link it is.
func withActor(ctx context.Context, m Meta) context.Context {
	a := audit.ActorFrom(ctx)
	if a.UserID != 0 || m.ActorID == 0 {
		return ctx
	}
	a.UserID = m.ActorID
	if a.IP == "" {
		a.IP = m.IP
	}
	if a.RequestID == "" {
		a.RequestID = m.RequestID
	}
	return audit.WithActor(ctx, a)
}

// mapErr turns identity errors into the ones handlers test for.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, identity.ErrNotFound), errors.Is(err, identity.ErrLinkNotFound),
		errors.Is(err, identity.ErrRecoveryInvalid), errors.Is(err, identity.ErrTOTPNotEnabled):
		return fmt.Errorf("%w (%w)", ErrNotFound, err)
	case errors.Is(err, identity.ErrLinkUsed), errors.Is(err, identity.ErrLinkExpired):
		return fmt.Errorf("%w (%w)", ErrLinkUsed, err)
	case errors.Is(err, identity.ErrLastSignIn):
		return fmt.Errorf("%w (%w)", ErrLastSignInMethod, err)
	case errors.Is(err, identity.ErrTOTPInvalid):
		return fmt.Errorf("%w (%w)", ErrTOTPWrong, err)
	case errors.Is(err, identity.ErrTOTPReused):
		return fmt.Errorf("%w (%w)", ErrTOTPReused, err)
	case errors.Is(err, identity.ErrTokenInvalid):
		return fmt.Errorf("%w (%w)", ErrTokenInvalid, err)
	case errors.Is(err, identity.ErrInvalid):
		return fmt.Errorf("%w (%w)", ErrInvalid, err)
	}
	return err
}

func (s idStore) account(ctx context.Context, u identity.User) (Account, error) {
	acc := Account{ID: u.ID, Email: u.Email, DisplayName: u.DisplayName, Active: u.Active,
		PlatformAdmin: u.PlatformAdmin, Handle: u.WebAuthnID}
	st, err := s.ids.TOTP(ctx, u.ID)
	if err != nil {
		return Account{}, err
	}
	acc.TOTPEnabled = st.Enabled
	if acc.TOTPRequired, err = s.ids.TOTPRequired(ctx, u.ID); err != nil {
		return Account{}, err
	}
	return acc, nil
}

func (s idStore) Account(ctx context.Context, id int64) (Account, error) {
	u, err := s.ids.User(ctx, id)
	if err != nil {
		return Account{}, mapErr(err)
	}
	return s.account(ctx, u)
}

func (s idStore) AccountByHandle(ctx context.Context, h []byte) (Account, error) {
	u, err := s.ids.UserByWebAuthnID(ctx, h)
	if err != nil {
		return Account{}, mapErr(err)
	}
	return s.account(ctx, u)
}

func (s idStore) AccountByEmail(ctx context.Context, email string) (Account, error) {
	u, err := s.ids.UserByEmail(ctx, email)
	if err != nil {
		return Account{}, mapErr(err)
	}
	return s.account(ctx, u)
}

// toPasskey rebuilds the library's credential from the stored record and
// overlays the fields the store keeps current (counter, flags).
func toPasskey(p identity.Passkey) Passkey {
	var c webauthn.Credential
	if len(p.Record) > 0 {
		_ = json.Unmarshal(p.Record, &c) // a bad record still leaves the mirrored fields below
	}
	c.ID, c.PublicKey, c.AttestationType = p.CredentialID, p.PublicKey, p.AttestationType
	c.Authenticator.AAGUID, c.Authenticator.SignCount = p.AAGUID, p.SignCount
	c.Authenticator.Attachment = protocol.AuthenticatorAttachment(p.Attachment)
	c.Flags.UserVerified, c.Flags.BackupEligible, c.Flags.BackupState = p.UserVerified, p.BackupEligible, p.BackupState
	c.Transport = c.Transport[:0]
	for _, t := range p.Transports {
		c.Transport = append(c.Transport, protocol.AuthenticatorTransport(t))
	}
	return Passkey{Credential: c, Name: p.Name, CreatedAt: p.Created, LastUsedAt: p.LastUsed}
}

func fromPasskey(p Passkey) (identity.Passkey, error) {
	c := p.Credential
	rec, err := json.Marshal(c)
	if err != nil {
		return identity.Passkey{}, fmt.Errorf("authn: credential record: %w", err)
	}
	out := identity.Passkey{
		CredentialID: c.ID, PublicKey: c.PublicKey, AttestationType: c.AttestationType,
		AAGUID: c.Authenticator.AAGUID, SignCount: c.Authenticator.SignCount,
		Attachment:   string(c.Authenticator.Attachment),
		UserVerified: c.Flags.UserVerified, BackupEligible: c.Flags.BackupEligible, BackupState: c.Flags.BackupState,
		Name: p.Name, Created: p.CreatedAt, Record: rec,
	}
	for _, t := range c.Transport {
		out.Transports = append(out.Transports, string(t))
	}
	return out, nil
}

func (s idStore) Passkeys(ctx context.Context, uid int64) ([]Passkey, error) {
	ps, err := s.ids.ListPasskeys(ctx, uid)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]Passkey, len(ps))
	for i, p := range ps {
		out[i] = toPasskey(p)
	}
	return out, nil
}

func (s idStore) AddPasskey(ctx context.Context, m Meta, uid int64, p Passkey) error {
	ctx = withActor(ctx, m)
	ip, err := fromPasskey(p)
	if err != nil {
		return err
	}
	_, err = s.ids.AddPasskey(ctx, uid, ip)
	return mapErr(err)
}

func (s idStore) PasskeyUsed(ctx context.Context, m Meta, uid int64, c webauthn.Credential, _ time.Time) error {
	ctx = withActor(ctx, m)
	rec, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("authn: credential record: %w", err)
	}
	p, err := s.ids.PasskeyByCredentialID(ctx, c.ID)
	if err != nil {
		return mapErr(err)
	}
	if p.UserID != uid {
		return ErrNotFound
	}
	_, err = s.ids.UsePasskey(ctx, c.ID, identity.PasskeyUse{
		SignCount: c.Authenticator.SignCount, BackupState: c.Flags.BackupState, UserVerified: c.Flags.UserVerified, Record: rec,
	})
	return mapErr(err)
}

// ownPasskey finds the user's passkey by credential ID.
func (s idStore) ownPasskey(ctx context.Context, uid int64, credID []byte) (identity.Passkey, error) {
	p, err := s.ids.PasskeyByCredentialID(ctx, credID)
	if err != nil {
		return identity.Passkey{}, mapErr(err)
	}
	if p.UserID != uid {
		return identity.Passkey{}, ErrNotFound
	}
	return p, nil
}

func (s idStore) RenamePasskey(ctx context.Context, m Meta, uid int64, credID []byte, name string) error {
	ctx = withActor(ctx, m)
	p, err := s.ownPasskey(ctx, uid, credID)
	if err != nil {
		return err
	}
	return mapErr(s.ids.RenamePasskey(ctx, uid, p.ID, name))
}

func (s idStore) RemovePasskey(ctx context.Context, m Meta, uid int64, credID []byte) error {
	ctx = withActor(ctx, m)
	p, err := s.ownPasskey(ctx, uid, credID)
	if err != nil {
		return err
	}
	return mapErr(s.ids.RemovePasskey(ctx, uid, p.ID))
}

func (s idStore) PeekLink(ctx context.Context, h []byte) (Link, error) {
	l, err := s.ids.PeekLinkHash(ctx, h)
	if err != nil {
		return Link{}, mapErr(err)
	}
	out := Link{UserID: l.UserID, ExpiresAt: l.Expires}
	switch l.Kind {
	case identity.LinkEnrolAdmin:
		out.Kind = LinkEnrolFirstAdmin
	case identity.LinkInvitation:
		out.Kind = LinkInvitation
	case identity.LinkRecovery:
		out.Kind = LinkRecovery
	default:
		return Link{}, ErrNotFound
	}
	if l.Kind == identity.LinkInvitation {
		inv, exists, err := s.ids.InvitationByLink(ctx, h)
		if err != nil {
			return Link{}, mapErr(err)
		}
		out.Email, out.OrgName, out.Role, out.AccountExists = inv.Email, inv.OrgName, inv.Role.Label(), exists
		return out, nil
	}
	if l.UserID != 0 {
		u, err := s.ids.User(ctx, l.UserID)
		if err != nil {
			return Link{}, mapErr(err)
		}
		out.Email = u.Email
	}
	return out, nil
}

func (s idStore) AcceptInvitation(ctx context.Context, m Meta, uid int64, h []byte) (int64, error) {
	ctx = withActor(ctx, m)
	inv, err := s.ids.AcceptInvitationLink(ctx, uid, h)
	switch {
	case errors.Is(err, identity.ErrForbidden):
		return 0, fmt.Errorf("%w (%w)", ErrOtherAddress, err)
	case errors.Is(err, identity.ErrConflict):
		return 0, fmt.Errorf("%w (%w)", ErrLinkUsed, err)
	}
	return inv.OrgID, mapErr(err)
}

func (s idStore) CompleteEnrolment(ctx context.Context, m Meta, h []byte, e Enrolment) (int64, error) {
	ctx = withActor(ctx, m)
	p, err := fromPasskey(e.Passkey)
	if err != nil {
		return 0, err
	}
	u, err := s.ids.RedeemEnrolmentHash(ctx, h, identity.Enrolment{
		DisplayName: e.DisplayName, Email: e.Email, WebAuthnID: e.Handle, Passkey: p,
	})
	if errors.Is(err, identity.ErrConflict) {
		return 0, fmt.Errorf("%w (%w)", ErrAccountExists, err)
	}
	return u.ID, mapErr(err)
}

func (s idStore) CompleteRecovery(ctx context.Context, m Meta, h []byte, pk Passkey) (int64, error) {
	ctx = withActor(ctx, m)
	p, err := fromPasskey(pk)
	if err != nil {
		return 0, err
	}
	u, err := s.ids.RedeemRecoveryHash(ctx, h, p)
	return u.ID, mapErr(err)
}

func (s idStore) StartTOTP(ctx context.Context, m Meta, uid int64) (string, error) {
	ctx = withActor(ctx, m)
	sec, err := s.ids.StartTOTP(ctx, uid)
	if err != nil {
		return "", mapErr(err)
	}
	return identity.TOTPSecretBase32(sec), nil
}

func (s idStore) PendingTOTP(ctx context.Context, uid int64) (string, error) {
	sec, err := s.ids.PendingTOTPSecret(ctx, uid)
	if err != nil {
		return "", mapErr(err)
	}
	return identity.TOTPSecretBase32(sec), nil
}

func (s idStore) VerifyTOTP(ctx context.Context, m Meta, uid int64, code string, confirm bool) error {
	ctx = withActor(ctx, m)
	if confirm {
		return mapErr(s.ids.ConfirmTOTP(ctx, uid, code))
	}
	return mapErr(s.ids.VerifyTOTP(ctx, uid, code))
}

func (s idStore) DisableTOTP(ctx context.Context, m Meta, uid int64) error {
	ctx = withActor(ctx, m)
	err := s.ids.DisableTOTP(ctx, uid)
	if errors.Is(err, identity.ErrForbidden) {
		return fmt.Errorf("%w (%w)", ErrTOTPRequired, err)
	}
	return mapErr(err)
}

func (s idStore) ReplaceRecoveryCodes(ctx context.Context, m Meta, uid int64, hashes [][]byte) error {
	ctx = withActor(ctx, m)
	return mapErr(s.ids.ReplaceRecoveryCodeHashes(ctx, uid, hashes))
}

func (s idStore) RecoveryCodesLeft(ctx context.Context, uid int64) (int, error) {
	n, err := s.ids.RecoveryCodesLeft(ctx, uid)
	return n, mapErr(err)
}

func (s idStore) UseRecoveryCode(ctx context.Context, m Meta, uid int64, h []byte) error {
	ctx = withActor(ctx, m)
	return mapErr(s.ids.UseRecoveryCodeHash(ctx, uid, h))
}

func (s idStore) Sessions(ctx context.Context, uid int64) ([]Session, error) {
	ss, err := s.ids.ListSessions(ctx, uid)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]Session, len(ss))
	for i, x := range ss {
		out[i] = Session{ID: strconv.FormatInt(x.ID, 10), UserID: x.UserID, CreatedAt: x.Created, LastSeenAt: x.LastSeen,
			ExpiresAt: x.Expires, VerifiedAt: x.Verified, IP: x.IP, UserAgent: x.UserAgent}
	}
	return out, nil
}

func (s idStore) RevokeSession(ctx context.Context, m Meta, uid int64, id string) error {
	ctx = withActor(ctx, m)
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return ErrNotFound
	}
	return mapErr(s.ids.RevokeSession(ctx, uid, n))
}

func toToken(t identity.APIToken) Token {
	return Token{ID: t.ID, UserID: t.UserID, Name: t.Name, Prefix: t.Prefix, Scope: TokenScope(t.Scope),
		CreatedAt: t.Created, ExpiresAt: t.Expires, LastUsedAt: t.LastUsed, Revoked: !t.Revoked.IsZero()}
}

func (s idStore) CreateToken(ctx context.Context, m Meta, uid int64, name string, scope TokenScope, expires time.Time) (string, Token, error) {
	ctx = withActor(ctx, m)
	tok, t, err := s.ids.CreateAPIToken(ctx, uid, name, identity.Scope(scope), expires)
	if err != nil {
		return "", Token{}, mapErr(err)
	}
	return tok, toToken(t), nil
}

func (s idStore) Tokens(ctx context.Context, uid int64) ([]Token, error) {
	ts, err := s.ids.ListAPITokens(ctx, uid)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]Token, len(ts))
	for i, t := range ts {
		out[i] = toToken(t)
	}
	return out, nil
}

func (s idStore) RevokeToken(ctx context.Context, m Meta, uid, id int64) error {
	ctx = withActor(ctx, m)
	return mapErr(s.ids.RevokeAPIToken(ctx, uid, id))
}

func (s idStore) AuthenticateToken(ctx context.Context, tok string) (Token, Account, error) {
	t, u, err := s.ids.AuthenticateAPIToken(ctx, tok)
	if err != nil {
		return Token{}, Account{}, mapErr(err)
	}
	return toToken(t), Account{ID: u.ID, Email: u.Email, DisplayName: u.DisplayName, Active: u.Active,
		PlatformAdmin: u.PlatformAdmin, Handle: u.WebAuthnID}, nil
}

func (s idStore) Audit(ctx context.Context, m Meta, e AuditEvent) error {
	_, err := audit.Record(ctx, s.ids.DB(), audit.Entry{
		Time: s.ids.Now(), ActorUserID: m.ActorID, Action: e.Action, ObjectType: e.ObjectType, ObjectID: e.ObjectID,
		Details: e.Details, IP: m.IP, RequestID: m.RequestID,
	})
	return err
}
