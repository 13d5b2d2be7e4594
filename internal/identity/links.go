package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
)

// LinkURL is the address of a single-use link under baseURL (no trailing
// slash needed). Enrolment and invitations use /enrol/TOKEN, recovery
// /recover/TOKEN; internal/authn serves both paths.
func LinkURL(baseURL string, kind LinkKind, token string) string {
	base := strings.TrimRight(baseURL, "/")
	if kind == LinkRecovery {
		return base + "/recover/" + token
	}
	return base + "/enrol/" + token
}

func (s *Store) insertLink(ctx context.Context, tx *db.Tx, kind LinkKind, orgID, userID int64, ttl time.Duration) (string, Link, error) {
	return s.insertLinkConcerned(ctx, tx, kind, orgID, userID, ttl, nil)
}

// insertLinkConcerned is insertLink whose audit entry also goes under the
// organisations concerned (those of the account a recovery link is for).
func (s *Store) insertLinkConcerned(ctx context.Context, tx *db.Tx, kind LinkKind, orgID, userID int64, ttl time.Duration, concerned []int64) (string, Link, error) {
	tok := newToken()
	a := audit.ActorFrom(ctx)
	now := s.Now()
	l := Link{Kind: kind, OrgID: orgID, UserID: userID, CreatedBy: a.UserID, Created: now, Expires: now.Add(ttl)}
	err := tx.QueryRow(ctx, `INSERT INTO links (token_hash, kind, org_id, user_id, created_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		HashToken(tok), string(kind), nullID(orgID), nullID(userID), nullID(a.UserID), micros(l.Created), micros(l.Expires)).Scan(&l.ID)
	if err != nil {
		return "", Link{}, fmt.Errorf("identity: create link: %w", err)
	}
	err = s.audit(ctx, tx, audit.Entry{Action: "link.create", ObjectType: "link", ObjectID: idStr(l.ID), OrgID: orgID, Concerned: concerned,
		Details: map[string]any{"kind": string(kind), "user_id": userID, "expires": l.Expires.Format(time.RFC3339)}})
	return tok, l, err
}

// EnrolLink issues a link that enrols a new platform administrator (the
// first one at start-up, or another via `dfslab admin enrol-link`). It is
// valid for Options.EnrolLinkTTL (24 h).
func (s *Store) EnrolLink(ctx context.Context) (token string, l Link, err error) {
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		token, l, err = s.insertLink(ctx, tx, LinkEnrolAdmin, 0, 0, s.opts.EnrolLinkTTL)
		return err
	})
	return token, l, err
}

// RecoveryLink is the result of [Store.IssueRecoveryLink].
type RecoveryLink struct {
	Token string // the link's secret, shown once
	Link  Link
	User  User
	// Orgs are the organisations the account belongs to; each was told
	// (audit entry and, for their org admins, a notification).
	Orgs []int64
}

// IssueRecoveryLink issues a recovery link for userID. An account belongs
// to its person, so few may do this:
//
//   - orgID != 0: an admin of orgID (the caller checks the role) for a
//     member of orgID whose account was enrolled through orgID's own
//     invitation, and never for a platform administrator;
//   - orgID == 0: a platform administrator (checked here from the actor in
//     ctx) for anyone but themselves, or the operator CLI (no actor).
//
// Anything else is ErrForbidden, without saying which rule refused. The
// recovery is recorded under every organisation of the account, and their
// org admins and the person are notified.
func (s *Store) IssueRecoveryLink(ctx context.Context, orgID, userID int64) (RecoveryLink, error) {
	var rl RecoveryLink
	actor := audit.ActorFrom(ctx).UserID
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		u, err := scanUser(tx.QueryRow(ctx, "SELECT "+userCols+" FROM users u WHERE u.id = ?", userID))
		if err != nil {
			return notFound(err, "user")
		}
		var enrolledOrg sql.NullInt64
		if err := tx.QueryRow(ctx, "SELECT enrolled_org_id FROM users WHERE id = ?", userID).Scan(&enrolledOrg); err != nil {
			return fmt.Errorf("identity: recovery link: %w", err)
		}
		if orgID != 0 {
			var n int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM memberships WHERE user_id = ? AND org_id = ?", userID, orgID).Scan(&n); err != nil {
				return fmt.Errorf("identity: recovery link: %w", err)
			}
			if n == 0 {
				return fmt.Errorf("user %d: %w", userID, ErrNotFound)
			}
			if u.PlatformAdmin || !enrolledOrg.Valid || enrolledOrg.Int64 != orgID || actor == userID {
				return fmt.Errorf("recovery of user %d by org %d: %w", userID, orgID, ErrForbidden)
			}
		} else if actor != 0 {
			var admin, active bool
			if err := tx.QueryRow(ctx, "SELECT platform_admin, active FROM users WHERE id = ?", actor).Scan(&admin, &active); err != nil {
				return fmt.Errorf("recovery by user %d: %w", actor, ErrForbidden)
			}
			if !admin || !active || actor == userID {
				return fmt.Errorf("recovery of user %d by user %d: %w", userID, actor, ErrForbidden)
			}
		}
		if !u.Active {
			return ErrInactive
		}
		if rl.Orgs, err = orgsOf(ctx, tx, userID); err != nil {
			return err
		}
		rl.Token, rl.Link, err = s.insertLinkConcerned(ctx, tx, LinkRecovery, orgID, userID, s.opts.RecoveryLinkTTL, rl.Orgs)
		rl.User = u
		return err
	})
	if err != nil {
		return RecoveryLink{}, err
	}
	s.notifyRecovery(ctx, rl.User, rl.Orgs, "A recovery link was issued for the account of %s; if this is unexpected, tell your platform administrator.")
	return rl, nil
}

// notifyRecovery tells the person and the org admins of each of their
// organisations that their account is being or was recovered.
func (s *Store) notifyRecovery(ctx context.Context, u User, orgs []int64, format string) {
	who := u.Email
	if who == "" {
		who = u.DisplayName
	}
	text := fmt.Sprintf(format, who)
	s.notify(ctx, []int64{u.ID}, "account", text, "/account/passkeys")
	for _, o := range orgs {
		admins, err := s.orgAdmins(ctx, o)
		if err != nil {
			s.opts.logger().ErrorContext(ctx, "recovery: org admins", "org", o, "err", err)
			continue
		}
		admins = slices.DeleteFunc(admins, func(id int64) bool { return id == u.ID })
		s.notify(ctx, admins, "account", text, fmt.Sprintf("/orgs/%d/members", o))
	}
}

const linkCols = "id, kind, org_id, user_id, created_by, created_at, expires_at, used_at"

func scanLink(r interface{ Scan(...any) error }) (Link, error) {
	var l Link
	var kind string
	var org, user, by, used sql.NullInt64
	var created, expires int64
	if err := r.Scan(&l.ID, &kind, &org, &user, &by, &created, &expires, &used); err != nil {
		return Link{}, err
	}
	l.Kind, l.OrgID, l.UserID, l.CreatedBy = LinkKind(kind), org.Int64, user.Int64, by.Int64
	l.Created, l.Expires, l.Used = fromMicros(created), fromMicros(expires), fromNull(used)
	return l, nil
}

// PeekLink returns the link for token if it can still be used, without
// using it: enrolment pages show it and start the passkey ceremony, and
// only the Redeem* call at the end consumes it. kinds, if given, restricts
// the accepted kinds.
func (s *Store) PeekLink(ctx context.Context, token string, kinds ...LinkKind) (Link, error) {
	return s.checkLink(ctx, s.db, HashToken(token), kinds)
}

// PeekLinkHash is PeekLink for callers that hash the token themselves
// (with HashToken).
func (s *Store) PeekLinkHash(ctx context.Context, tokenHash []byte, kinds ...LinkKind) (Link, error) {
	return s.checkLink(ctx, s.db, tokenHash, kinds)
}

func (s *Store) checkLink(ctx context.Context, q db.Querier, tokenHash []byte, kinds []LinkKind) (Link, error) {
	l, err := scanLink(q.QueryRow(ctx, "SELECT "+linkCols+" FROM links WHERE token_hash = ?", tokenHash))
	if errors.Is(err, sql.ErrNoRows) {
		return Link{}, ErrLinkNotFound
	}
	if err != nil {
		return Link{}, fmt.Errorf("identity: link: %w", err)
	}
	if len(kinds) > 0 && !containsKind(kinds, l.Kind) {
		return Link{}, ErrLinkNotFound
	}
	if !l.Used.IsZero() {
		return l, ErrLinkUsed
	}
	if !s.Now().Before(l.Expires) {
		return l, ErrLinkExpired
	}
	return l, nil
}

func containsKind(ks []LinkKind, k LinkKind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// consumeLink marks the link used inside tx. The conditional UPDATE makes
// two concurrent redemptions of one link end with exactly one winner.
func (s *Store) consumeLink(ctx context.Context, tx *db.Tx, tokenHash []byte, kinds ...LinkKind) (Link, error) {
	l, err := s.checkLink(ctx, tx, tokenHash, kinds)
	if err != nil {
		return l, err
	}
	now := s.Now()
	r, err := tx.Exec(ctx, "UPDATE links SET used_at = ? WHERE id = ? AND used_at IS NULL AND expires_at > ?", micros(now), l.ID, micros(now))
	if err != nil {
		return l, fmt.Errorf("identity: use link: %w", err)
	}
	if rowsAffected(r) != 1 {
		return l, ErrLinkUsed
	}
	l.Used = now
	return l, s.audit(ctx, tx, audit.Entry{Action: "link.use", ObjectType: "link", ObjectID: idStr(l.ID), OrgID: l.OrgID,
		Details: map[string]any{"kind": string(l.Kind), "user_id": l.UserID}})
}

// Enrolment is what a person submits on the enrolment page.
type Enrolment struct {
	DisplayName string
	Email       string // first-admin links only; invitations carry the address already
	// WebAuthnID is the user handle the passkey was registered with, for a
	// first-admin link whose user does not exist yet (nil: a random one).
	// Invited users already have one (User.WebAuthnID); it is kept.
	WebAuthnID []byte
	Passkey    Passkey
}

// RedeemEnrolment uses an enrolment or invitation link: it names the user,
// stores the first passkey and marks the user enrolled, all in one
// transaction. A link works once; a second call fails with ErrLinkUsed.
func (s *Store) RedeemEnrolment(ctx context.Context, token string, e Enrolment) (User, error) {
	return s.RedeemEnrolmentHash(ctx, HashToken(token), e)
}

// RedeemEnrolmentHash is RedeemEnrolment by token hash.
func (s *Store) RedeemEnrolmentHash(ctx context.Context, tokenHash []byte, e Enrolment) (User, error) {
	if len(e.WebAuthnID) > 64 {
		return User{}, fmt.Errorf("%w: WebAuthn user handle longer than 64 bytes", ErrInvalid)
	}
	name, err := cleanName(e.DisplayName, 100)
	if err != nil {
		return User{}, err
	}
	email := normEmail(e.Email)
	if email != "" && !validEmail(email) {
		return User{}, fmt.Errorf("%w: %q is not an e-mail address", ErrInvalid, e.Email)
	}
	var u User
	var inv Invitation
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		l, err := s.consumeLink(ctx, tx, tokenHash, LinkEnrolAdmin, LinkInvitation)
		if err != nil {
			return err
		}
		if l.Kind == LinkEnrolAdmin {
			u, err = s.insertUser(ctx, tx, email, name, true, true, e.WebAuthnID)
			if err != nil {
				return err
			}
		} else if u, inv, err = s.enrolInvited(ctx, tx, l, name, e.WebAuthnID); err != nil {
			return err
		}
		if _, err := s.insertPasskey(ctx, tx, u.ID, e.Passkey); err != nil {
			return err
		}
		return s.audit(ctx, tx, audit.Entry{Action: "user.enrol", ObjectType: "user", ObjectID: idStr(u.ID), OrgID: l.OrgID,
			ActorUserID: u.ID, Details: map[string]any{"link": l.ID, "kind": string(l.Kind)}})
	})
	if err != nil {
		return User{}, err
	}
	if inv.ID != 0 {
		s.notifyAnswer(ctx, inv)
	}
	return u, nil
}

// enrolInvited creates the account of an invitation link inside tx, with
// the one membership the invitation names. The address must not belong to
// an enrolled account (ErrConflict): that person signs in and accepts
// instead, and the link never adds a passkey to an account. A row left by
// the earlier invitation model (a user never enrolled, without
// memberships) is taken over with the handle of the new passkey.
func (s *Store) enrolInvited(ctx context.Context, tx *db.Tx, l Link, name string, handle []byte) (User, Invitation, error) {
	var inv Invitation
	var linkID int64
	inv, err := s.scanInvitation(scanPlus{tx.QueryRow(ctx, "SELECT "+invCols+", i.link_id FROM invitations i JOIN orgs o ON o.id = i.org_id WHERE i.link_id = ?", l.ID), &linkID})
	if err != nil {
		return User{}, Invitation{}, notFound(err, "invitation")
	}
	if !inv.Pending() {
		return User{}, Invitation{}, ErrLinkUsed
	}
	if len(handle) == 0 {
		handle = newWebAuthnID()
	}
	now := s.Now()
	u, err := scanUser(tx.QueryRow(ctx, "SELECT "+userCols+" FROM users u WHERE u.email = ?", inv.Email))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if u, err = s.insertUser(ctx, tx, inv.Email, name, false, true, handle); err != nil {
			return User{}, Invitation{}, err
		}
	case err != nil:
		return User{}, Invitation{}, fmt.Errorf("identity: enrol: %w", err)
	case u.IsEnrolled():
		return User{}, Invitation{}, fmt.Errorf("%s has an account: sign in to accept: %w", inv.Email, ErrConflict)
	case !u.Active:
		return User{}, Invitation{}, ErrInactive
	default:
		orgs, err := orgsOf(ctx, tx, u.ID)
		if err != nil {
			return User{}, Invitation{}, err
		}
		if len(orgs) > 0 {
			// Not reachable through the store's own writes; refuse rather
			// than hand someone else's memberships to this link's holder.
			return User{}, Invitation{}, fmt.Errorf("user %d has memberships but no enrolment: %w", u.ID, ErrConflict)
		}
		if _, err := tx.Exec(ctx, "UPDATE users SET display_name = ?, webauthn_id = ?, enrolled_at = ? WHERE id = ?",
			name, handle, micros(now), u.ID); err != nil {
			return User{}, Invitation{}, fmt.Errorf("identity: enrol: %w", err)
		}
		u.DisplayName, u.WebAuthnID, u.Enrolled = name, handle, now
	}
	if _, err := tx.Exec(ctx, "UPDATE users SET enrolled_org_id = ? WHERE id = ?", inv.OrgID, u.ID); err != nil {
		return User{}, Invitation{}, fmt.Errorf("identity: enrol: %w", err)
	}
	// The link is spent already (consumeLink); decide spends it again
	// harmlessly and records the answer.
	if err := s.answerTx(ctx, tx, &inv, linkID, u, true); err != nil {
		return User{}, Invitation{}, err
	}
	return u, inv, nil
}

// RedeemRecovery uses a recovery link: it adds a new passkey for the
// link's user and ends all of that user's sessions (whoever held the lost
// authenticator is signed out).
func (s *Store) RedeemRecovery(ctx context.Context, token string, pk Passkey) (User, error) {
	return s.RedeemRecoveryHash(ctx, HashToken(token), pk)
}

// RedeemRecoveryHash is RedeemRecovery by token hash.
func (s *Store) RedeemRecoveryHash(ctx context.Context, tokenHash []byte, pk Passkey) (User, error) {
	var u User
	var orgs []int64
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		l, err := s.consumeLink(ctx, tx, tokenHash, LinkRecovery)
		if err != nil {
			return err
		}
		u, err = scanUser(tx.QueryRow(ctx, "SELECT "+userCols+" FROM users u WHERE u.id = ?", l.UserID))
		if err != nil {
			return notFound(err, "user")
		}
		if !u.Active {
			return ErrInactive
		}
		if _, err := s.insertPasskey(ctx, tx, u.ID, pk); err != nil {
			return err
		}
		r, err := tx.Exec(ctx, "DELETE FROM sessions WHERE user_id = ?", u.ID)
		if err != nil {
			return fmt.Errorf("identity: end sessions: %w", err)
		}
		if orgs, err = orgsOf(ctx, tx, u.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, audit.Entry{Action: "user.recover", ObjectType: "user", ObjectID: idStr(u.ID), OrgID: l.OrgID,
			ActorUserID: u.ID, Concerned: orgs, Details: map[string]any{"link": l.ID, "method": "link", "sessions_ended": rowsAffected(r)}})
	})
	if err != nil {
		return User{}, err
	}
	s.notifyRecovery(ctx, u, orgs, "The account of %s was recovered with a recovery link: a new passkey was added and every session ended.")
	return u, nil
}
