package authn

import (
	"context"
	"errors"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
)

// Errors a Store reports; handlers map them to statuses with errors.Is.
var (
	ErrNotFound = errors.New("authn: not found")
	// ErrLinkUsed means a single-use link was consumed before, or expired.
	ErrLinkUsed = errors.New("authn: link already used or expired")
	// ErrLastSignInMethod refuses removing the only way left to sign in.
	ErrLastSignInMethod = errors.New("authn: last sign-in method")
	// ErrTOTPWrong refuses a wrong TOTP code.
	ErrTOTPWrong = errors.New("authn: wrong TOTP code")
	// ErrTOTPReused refuses a TOTP code of a time step used before.
	ErrTOTPReused = errors.New("authn: TOTP time step already used")
	// ErrTOTPRequired refuses turning TOTP off where the organisation requires it.
	ErrTOTPRequired = errors.New("authn: organisation requires TOTP")
	// ErrTokenInvalid refuses an unknown, expired or revoked API token, or
	// one of a deactivated user.
	ErrTokenInvalid = errors.New("authn: invalid API token")
	// ErrInvalid refuses input the store does not take (a name with
	// control characters, say): the person gets a 400 and can correct it.
	ErrInvalid = errors.New("authn: invalid input")
	// ErrAccountExists refuses enrolling through an invitation link whose
	// address has an account: that person signs in and accepts instead.
	ErrAccountExists = errors.New("authn: an account with this address exists")
	// ErrOtherAddress refuses accepting an invitation addressed to another
	// e-mail address than the signed-in account's.
	ErrOtherAddress = errors.New("authn: invitation for another address")
)

// Account is the subset of a user that authentication needs.
type Account struct {
	ID          int64
	Email       string
	DisplayName string
	Active      bool
	// Handle is the WebAuthn user handle: random, opaque, never the
	// e-mail address, because authenticators may show or sync it.
	Handle        []byte
	PlatformAdmin bool
	// TOTPEnabled is true once a TOTP secret was confirmed.
	TOTPEnabled bool
	// TOTPRequired is true when one of the user's organisations requires
	// TOTP of all its members.
	TOTPRequired bool
}

// Passkey is one registered WebAuthn credential with its metadata.
type Passkey struct {
	Credential webauthn.Credential
	Name       string
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// LinkKind tells what a single-use link is for.
type LinkKind string

const (
	LinkEnrolFirstAdmin LinkKind = "enrol"
	LinkInvitation      LinkKind = "invitation"
	LinkRecovery        LinkKind = "recovery"
)

// Link is a single-use, expiring link as the store resolved it.
type Link struct {
	Kind LinkKind
	// UserID is zero for the first-admin enrolment link, whose user is
	// created when the link is used.
	UserID    int64
	Email     string
	ExpiresAt time.Time
	// Invitation links only: the inviting organisation, the role, and
	// whether the address belongs to an enrolled account (then the person
	// signs in and accepts; the link never adds a passkey to an account).
	OrgName       string
	Role          string
	AccountExists bool
}

// Enrolment is what a person chose on the enrolment page.
type Enrolment struct {
	Email       string // only used for a first-admin link
	DisplayName string
	Handle      []byte
	Passkey     Passkey
}

// Session is a server-side session as shown on the sessions page.
type Session struct {
	ID         string // opaque handle for revocation, never the cookie value
	UserID     int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	VerifiedAt time.Time
	IP         string
	UserAgent  string
}

// TokenScope is what an API token may do.
type TokenScope string

const (
	ScopeRead  TokenScope = "read"
	ScopeWrite TokenScope = "write"
)

// Token is a personal API token without its secret.
type Token struct {
	ID         int64
	UserID     int64
	Name       string
	Prefix     string
	Scope      TokenScope
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastUsedAt time.Time
	Revoked    bool
}

// Meta describes who acts from where; stores put it in the audit entry
// they write in the same transaction as the change.
type Meta struct {
	ActorID   int64
	IP        string
	RequestID string
	UserAgent string
}

// AuditEvent is an entry for events that change nothing in the store
// (failed sign-ins, refused requests): the store appends it alone.
type AuditEvent struct {
	Action     string
	ObjectType string
	ObjectID   string
	Details    map[string]any
}

// Store is what authentication needs from the identity store. Every write
// records its audit entry in the same transaction; methods that consume
// something single-use (links, recovery codes, TOTP steps) do so
// atomically, so two concurrent uses cannot both succeed.
type Store interface {
	Account(ctx context.Context, userID int64) (Account, error)
	AccountByHandle(ctx context.Context, handle []byte) (Account, error)
	AccountByEmail(ctx context.Context, email string) (Account, error)

	Passkeys(ctx context.Context, userID int64) ([]Passkey, error)
	AddPasskey(ctx context.Context, m Meta, userID int64, p Passkey) error
	// PasskeyUsed stores the new sign count, flags and last-used time.
	PasskeyUsed(ctx context.Context, m Meta, userID int64, c webauthn.Credential, at time.Time) error
	RenamePasskey(ctx context.Context, m Meta, userID int64, credID []byte, name string) error
	// RemovePasskey returns ErrLastSignInMethod for the last passkey
	// unless another sign-in method remains.
	RemovePasskey(ctx context.Context, m Meta, userID int64, credID []byte) error

	// PeekLink resolves an unused, unexpired link by the hash of its token.
	PeekLink(ctx context.Context, tokenHash []byte) (Link, error)
	// CompleteEnrolment consumes an enrolment or invitation link, creates
	// the user of a first-admin link (a platform administrator), sets the
	// display name and WebAuthn handle (unless the user has one) and adds
	// the first passkey, all in one transaction. It returns the user's ID.
	CompleteEnrolment(ctx context.Context, m Meta, tokenHash []byte, e Enrolment) (int64, error)
	// CompleteRecovery consumes a recovery link and adds a new passkey.
	CompleteRecovery(ctx context.Context, m Meta, tokenHash []byte, p Passkey) (int64, error)
	// AcceptInvitation accepts, for the signed-in userID, the invitation
	// of a link addressed to the account's e-mail address
	// (ErrOtherAddress otherwise) and returns the organisation joined.
	AcceptInvitation(ctx context.Context, m Meta, userID int64, tokenHash []byte) (orgID int64, err error)

	// StartTOTP stores a new pending TOTP secret and returns it (base32)
	// for the QR code; TOTP stays off until confirmed.
	StartTOTP(ctx context.Context, m Meta, userID int64) (secret string, err error)
	// PendingTOTP returns the pending (unconfirmed) secret, never an
	// enabled one.
	PendingTOTP(ctx context.Context, userID int64) (secret string, err error)
	// VerifyTOTP checks code against the enabled secret, or against the
	// pending one and enables it when confirm is true. It returns
	// ErrTOTPWrong, or ErrTOTPReused for a time step used before (also
	// when two requests race), and audits failures.
	VerifyTOTP(ctx context.Context, m Meta, userID int64, code string, confirm bool) error
	DisableTOTP(ctx context.Context, m Meta, userID int64) error

	ReplaceRecoveryCodes(ctx context.Context, m Meta, userID int64, hashes [][]byte) error
	RecoveryCodesLeft(ctx context.Context, userID int64) (int, error)
	// UseRecoveryCode consumes one unused code of the user with this hash
	// (HashRecoveryCode), or returns ErrNotFound.
	UseRecoveryCode(ctx context.Context, m Meta, userID int64, hash []byte) error

	Sessions(ctx context.Context, userID int64) ([]Session, error)
	RevokeSession(ctx context.Context, m Meta, userID int64, sessionID string) error

	// CreateToken issues an API token and returns it in clear, once.
	CreateToken(ctx context.Context, m Meta, userID int64, name string, scope TokenScope, expires time.Time) (string, Token, error)
	Tokens(ctx context.Context, userID int64) ([]Token, error)
	RevokeToken(ctx context.Context, m Meta, userID, tokenID int64) error
	// AuthenticateToken resolves a bearer token, or ErrTokenInvalid.
	AuthenticateToken(ctx context.Context, token string) (Token, Account, error)

	Audit(ctx context.Context, m Meta, e AuditEvent) error
}
