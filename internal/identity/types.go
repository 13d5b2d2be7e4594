package identity

import (
	"errors"
	"time"
)

// Errors returned by the store. Callers map them to HTTP statuses with
// errors.Is; messages never contain secrets.
var (
	ErrNotFound   = errors.New("identity: not found")
	ErrConflict   = errors.New("identity: already exists")
	ErrInvalid    = errors.New("identity: invalid input")
	ErrForbidden  = errors.New("identity: not allowed")
	ErrInactive   = errors.New("identity: user is deactivated")
	ErrLastSignIn = errors.New("identity: removal would leave no way to sign in")
	ErrLastAdmin  = errors.New("identity: an organisation must keep at least one org admin")

	ErrLinkNotFound = errors.New("identity: unknown link")
	ErrLinkUsed     = errors.New("identity: link already used")
	ErrLinkExpired  = errors.New("identity: link expired")

	ErrTOTPNotEnabled  = errors.New("identity: TOTP is not enabled")
	ErrTOTPInvalid     = errors.New("identity: wrong TOTP code")
	ErrTOTPReused      = errors.New("identity: TOTP code already used")
	ErrRecoveryInvalid = errors.New("identity: wrong or used recovery code")

	ErrSessionInvalid = errors.New("identity: no valid session") // unknown, revoked, expired or user inactive
	ErrTokenInvalid   = errors.New("identity: no valid API token")
)

// OrgType is the kind of organisation.
type OrgType string

const (
	OrgTelecomRegulator OrgType = "telecom_regulator"
	OrgCentralBank      OrgType = "central_bank"
	OrgDFSProvider      OrgType = "dfs_provider"
	OrgMNO              OrgType = "mno"
	OrgCERT             OrgType = "cert"
	OrgOther            OrgType = "other"
)

// OrgTypes lists every organisation type in display order.
func OrgTypes() []OrgType {
	return []OrgType{OrgTelecomRegulator, OrgCentralBank, OrgDFSProvider, OrgMNO, OrgCERT, OrgOther}
}

// Valid reports whether t is a known type.
func (t OrgType) Valid() bool {
	for _, k := range OrgTypes() {
		if t == k {
			return true
		}
	}
	return false
}

// Label is the English name shown in the UI.
func (t OrgType) Label() string {
	switch t {
	case OrgTelecomRegulator:
		return "Telecom regulator"
	case OrgCentralBank:
		return "Central bank"
	case OrgDFSProvider:
		return "DFS provider"
	case OrgMNO:
		return "Mobile network operator"
	case OrgCERT:
		return "CERT / CSIRT"
	case OrgOther:
		return "Other"
	}
	return string(t)
}

// LicenseeType is what an organisation is licensed (or mandated) as,
// which decides the baseline items that apply to it. It is separate from
// OrgType: a bank or a payment switch has no organisation type of its
// own, and an MNO running mobile money may hold an e-money licence.
type LicenseeType string

// The licensee types. LicenseeNone is an organisation outside the
// licensing regime (a CERT, a researcher): no baseline item applies to it.
const (
	LicenseeNone          LicenseeType = ""
	LicenseeMNO           LicenseeType = "mno"
	LicenseeDFSProvider   LicenseeType = "dfs_provider"
	LicenseeBank          LicenseeType = "bank"
	LicenseePaymentSwitch LicenseeType = "payment_switch"
	LicenseeThirdParty    LicenseeType = "third_party"
	LicenseeRegulator     LicenseeType = "regulator"
)

// LicenseeTypes lists the licensee types in display order (without
// LicenseeNone).
func LicenseeTypes() []LicenseeType {
	return []LicenseeType{LicenseeMNO, LicenseeDFSProvider, LicenseeBank, LicenseePaymentSwitch, LicenseeThirdParty, LicenseeRegulator}
}

// Valid reports whether t is a known licensee type or LicenseeNone.
func (t LicenseeType) Valid() bool {
	if t == LicenseeNone {
		return true
	}
	for _, k := range LicenseeTypes() {
		if t == k {
			return true
		}
	}
	return false
}

// Label is the English name shown in the UI.
func (t LicenseeType) Label() string {
	switch t {
	case LicenseeNone:
		return "Not a licensee"
	case LicenseeMNO:
		return "Mobile network operator"
	case LicenseeDFSProvider:
		return "DFS provider / e-money issuer"
	case LicenseeBank:
		return "Bank"
	case LicenseePaymentSwitch:
		return "Payment switch"
	case LicenseeThirdParty:
		return "Third party / cloud provider"
	case LicenseeRegulator:
		return "Regulator"
	}
	return string(t)
}

// DefaultLicensee is the licensee type an organisation of type t gets
// unless a platform administrator says otherwise (migration 0004 applies
// the same rule to existing organisations).
func DefaultLicensee(t OrgType) LicenseeType {
	switch t {
	case OrgTelecomRegulator, OrgCentralBank:
		return LicenseeRegulator
	case OrgDFSProvider:
		return LicenseeDFSProvider
	case OrgMNO:
		return LicenseeMNO
	}
	return LicenseeNone
}

// Org is an organisation (tenant).
type Org struct {
	ID          int64
	Name        string
	Type        OrgType
	Country     string // ISO 3166-1 alpha-2, upper case
	RequireTOTP bool   // every member must have TOTP enabled
	Licensee    LicenseeType
	Created     time.Time
}

// Role is a user's role in one organisation. Roles are ordered:
// viewer < analyst < org_admin.
type Role string

const (
	RoleViewer   Role = "viewer"
	RoleAnalyst  Role = "analyst"
	RoleOrgAdmin Role = "org_admin"
)

// Roles lists the roles from least to most privileged.
func Roles() []Role { return []Role{RoleViewer, RoleAnalyst, RoleOrgAdmin} }

// Rank orders roles (0 for an unknown role).
func (r Role) Rank() int {
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

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r.Rank() > 0 }

// AtLeast reports whether r grants everything min grants.
func (r Role) AtLeast(min Role) bool { return r.Valid() && r.Rank() >= min.Rank() }

// Label is the English name shown in the UI.
func (r Role) Label() string {
	switch r {
	case RoleViewer:
		return "Viewer"
	case RoleAnalyst:
		return "Analyst"
	case RoleOrgAdmin:
		return "Org admin"
	}
	return string(r)
}

// User is a person with an account. There are no passwords.
type User struct {
	ID            int64
	Email         string // lower case; may be empty for the first admin
	DisplayName   string
	WebAuthnID    []byte // random user handle given to authenticators (64 bytes)
	Active        bool
	PlatformAdmin bool
	Created       time.Time
	Enrolled      time.Time // zero until the first passkey was registered
}

// IsEnrolled reports whether the user has completed enrolment.
func (u User) IsEnrolled() bool { return !u.Enrolled.IsZero() }

// Membership is a user's role in an organisation, seen from the user.
type Membership struct {
	Org     Org
	UserID  int64
	Role    Role
	Created time.Time
}

// Member is a user's role in an organisation, seen from the organisation.
type Member struct {
	User    User
	OrgID   int64
	Role    Role
	Created time.Time
	// Suspended: the organisation suspended this membership; it grants
	// nothing until reinstated.
	Suspended bool
	// EnrolledOrgID is the organisation whose invitation created the
	// account (0: none known). Only that organisation's admins may issue
	// the account a recovery link.
	EnrolledOrgID int64
}

// EnrolledHere reports whether the account was created through this
// organisation's invitation.
func (m Member) EnrolledHere() bool { return m.EnrolledOrgID != 0 && m.EnrolledOrgID == m.OrgID }

// LinkKind is what a single-use link is for.
type LinkKind string

const (
	LinkEnrolAdmin LinkKind = "enrol_admin" // first (or another) platform administrator
	LinkInvitation LinkKind = "invitation"  // enrolment of an invited member
	LinkRecovery   LinkKind = "recovery"    // register a new passkey after losing access
)

// Link is a single-use, expiring link. Only a hash of its token is stored;
// the token itself exists once, in the URL handed to the person.
type Link struct {
	ID        int64
	Kind      LinkKind
	OrgID     int64 // invitation, recovery: the organisation that issued it
	UserID    int64 // invitation, recovery: the user it is for; 0 for LinkEnrolAdmin
	CreatedBy int64 // 0 when issued by the CLI or at start-up
	Created   time.Time
	Expires   time.Time
	Used      time.Time // zero while unused
}

// Passkey is a WebAuthn credential of a user. Field names follow the
// WebAuthn specification so that internal/authn can map them 1:1 to the
// go-webauthn Credential.
type Passkey struct {
	ID              int64
	UserID          int64
	CredentialID    []byte
	PublicKey       []byte // COSE key
	AttestationType string
	AAGUID          []byte
	SignCount       uint32
	Transports      []string // "usb", "nfc", "ble", "internal", "hybrid"
	Attachment      string   // "platform", "cross-platform" or ""
	UserVerified    bool
	BackupEligible  bool
	BackupState     bool
	Name            string
	Created         time.Time
	LastUsed        time.Time // zero if never used to sign in
	// Record is the WebAuthn library's whole credential record (opaque to
	// this package), kept so that fields not mirrored above survive.
	Record []byte
}

// PasskeyUse is what a successful assertion updates.
type PasskeyUse struct {
	SignCount    uint32
	BackupState  bool
	UserVerified bool
	Record       []byte // new credential record; nil keeps the stored one
}

// TOTPStatus is the TOTP state of a user (never the secret).
type TOTPStatus struct {
	Enabled bool
	Pending bool // secret stored, waiting for the verification code
	Since   time.Time
}

// SessionMeta describes the client that starts a session.
type SessionMeta struct {
	IP        string
	UserAgent string
}

// Session is a server-side sign-in session. Its token is only ever held by
// the browser cookie; the database stores its SHA-256.
type Session struct {
	ID        int64
	UserID    int64
	Created   time.Time
	LastSeen  time.Time
	Expires   time.Time // absolute expiry
	Verified  time.Time // last passkey/TOTP verification, for step-up
	IP        string
	UserAgent string
}

// VerifiedWithin reports whether the session was (re-)verified within d of
// now: the step-up check for sensitive actions.
func (s Session) VerifiedWithin(now time.Time, d time.Duration) bool {
	return !s.Verified.IsZero() && now.Sub(s.Verified) <= d
}

// Scope is what an API token may do. Write implies read.
type Scope string

const (
	ScopeRead  Scope = "read"
	ScopeWrite Scope = "write"
)

// Valid reports whether s is a known scope.
func (s Scope) Valid() bool { return s == ScopeRead || s == ScopeWrite }

// Allows reports whether a token of scope s may do what need requires.
func (s Scope) Allows(need Scope) bool {
	switch need {
	case ScopeRead:
		return s == ScopeRead || s == ScopeWrite
	case ScopeWrite:
		return s == ScopeWrite
	}
	return false
}

// APIToken is a personal API token. Only Prefix (for recognition in lists)
// and a SHA-256 of the whole token are stored.
type APIToken struct {
	ID       int64
	UserID   int64
	Name     string
	Prefix   string
	Scope    Scope
	Created  time.Time
	Expires  time.Time
	LastUsed time.Time // zero if never used
	Revoked  time.Time // zero while valid
}
