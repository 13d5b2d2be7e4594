// Package identity holds organisations, users, memberships and everything
// a user signs in with: single-use links, passkeys, TOTP, recovery codes,
// sessions and API tokens. It stores; it does not speak HTTP or WebAuthn
// (internal/authn does, internal/web serves the pages).
//
// The rules live here, so that no handler can forget them:
//   - every write records an audit entry in its own transaction (actor, IP
//     and request id from audit.WithActor in the context); only the
//     last-seen stamps of sessions and API tokens are not audited;
//   - links are single use and expire; only a hash of their token is stored;
//   - the last passkey cannot be removed unless TOTP plus an unused recovery
//     code remain (ErrLastSignIn); the last org admin cannot be demoted or
//     removed (ErrLastAdmin);
//   - a TOTP code (time step) is accepted at most once (ErrTOTPReused);
//   - recovery codes are hashed and single use;
//   - sessions expire after 30 min idle and 12 h absolute;
//   - an account belongs to its person, a membership to an organisation:
//     organisations invite (one invitation, one link, one membership) and
//     the person accepts; they suspend or remove memberships, never the
//     account; a recovery link is issued by a platform administrator, or
//     by an admin of the organisation that enrolled the account (never for
//     a platform administrator), and is recorded under and notified to
//     every organisation of the account;
//   - suspending an account (platform administrators, operator CLI) ends
//     its sessions and revokes its API tokens in the same transaction;
//     reinstating brings neither back;
//   - API tokens are stored as prefix + SHA-256, scoped read or write,
//     expire, and stop working when their user is suspended.
//
// Main operations of [Store]:
//
//	organisations  CreateOrg, Org, OrgByName, ListOrgs, UpdateOrg
//	users          User, UserByEmail, UserByWebAuthnID, ListUsers, SearchUsers,
//	               CountUsers, SetDisplayName, SetActive, SetPlatformAdmin,
//	               EnrolledOrg
//	memberships    AddMember (operator only), SetRole, SuspendMember,
//	               ReinstateMember, RemoveMember, Role, Member, ListMembers,
//	               Memberships, SuspendedMemberships, TOTPRequired
//	invitations    Invite, OrgInvitations, RevokeInvitation, InvitationsFor,
//	               AcceptInvitation, DeclineInvitation, AcceptInvitationLink,
//	               InvitationByLink
//	links          EnrolLink, IssueRecoveryLink, PeekLink(Hash),
//	               RedeemEnrolment(Hash), RedeemRecovery(Hash), LinkURL
//	passkeys       AddPasskey, ListPasskeys, PasskeyByCredentialID,
//	               UsePasskey, RenamePasskey, RemovePasskey
//	TOTP           StartTOTP, PendingTOTPSecret, ConfirmTOTP, VerifyTOTP,
//	               TOTP, DisableTOTP; for callers that check codes
//	               themselves: SetPendingTOTP, TOTPSecret, UseTOTPStep
//	recovery codes NewRecoveryCodes, UseRecoveryCode, RecoveryCodesLeft;
//	               ReplaceRecoveryCodeHashes, UseRecoveryCodeHash
//	sessions       CreateSession, Authenticate (hot path: lookup + throttled
//	               touch), Session, TouchSession, RenewSession, MarkVerified,
//	               ListSessions, RevokeSession, EndSession, EndSessionID,
//	               RevokeAllSessions, PurgeExpiredSessions
//	API tokens     CreateAPIToken, AuthenticateAPIToken, ListAPITokens,
//	               RevokeAPIToken; InsertAPIToken, APITokenByPrefix,
//	               TouchAPIToken for callers that make their own tokens
//
// Secrets (link, session and API tokens) are stored as HashToken (SHA-256);
// recovery codes as a salted SHA-256; TOTP secrets with AES-256-GCM under
// Options.SecretKey or, when unset, a per-instance key kept in the
// database (which keeps secrets out of tables and logs, but not out of a
// full copy of the database).
//
// Errors are sentinel values (ErrNotFound, ErrConflict, ErrInvalid,
// ErrLinkUsed, ErrSessionInvalid, …) to test with errors.Is.
package identity
