package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
	err = s.audit(ctx, tx, audit.Entry{Action: "link.create", ObjectType: "link", ObjectID: idStr(l.ID), OrgID: orgID,
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

// Invitation is the result of [Store.Invite].
type Invitation struct {
	User User
	Link Link
	// Token is the secret of the enrolment link, empty when the e-mail
	// belonged to an enrolled user who simply became a member.
	Token string
}

// Invite makes email a member of orgID with role. A new address gets a
// pending user and a single-use enrolment link (Options.InvitationTTL); an
// already enrolled user becomes a member at once and needs no link.
func (s *Store) Invite(ctx context.Context, orgID int64, email string, role Role) (Invitation, error) {
	email = normEmail(email)
	if !validEmail(email) {
		return Invitation{}, fmt.Errorf("%w: %q is not an e-mail address", ErrInvalid, email)
	}
	if !role.Valid() {
		return Invitation{}, fmt.Errorf("%w: unknown role %q", ErrInvalid, role)
	}
	var inv Invitation
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := scanOrg(tx.QueryRow(ctx, "SELECT "+orgCols+" FROM orgs WHERE id = ?", orgID)); err != nil {
			return notFound(err, "org")
		}
		u, err := scanUser(tx.QueryRow(ctx, "SELECT "+userCols+" FROM users u WHERE u.email = ?", email))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			u, err = s.insertUser(ctx, tx, email, "", false, false, nil)
			if err != nil {
				return err
			}
		case err != nil:
			return fmt.Errorf("identity: invite: %w", err)
		}
		inv.User = u
		var has int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM memberships WHERE org_id = ? AND user_id = ?", orgID, u.ID).Scan(&has); err != nil {
			return fmt.Errorf("identity: invite: %w", err)
		}
		if has == 0 {
			if err := s.addMember(ctx, tx, orgID, u.ID, role); err != nil {
				return err
			}
		} else if u.IsEnrolled() {
			return fmt.Errorf("%s is already a member: %w", email, ErrConflict)
		}
		if u.IsEnrolled() {
			return nil
		}
		inv.Token, inv.Link, err = s.insertLink(ctx, tx, LinkInvitation, orgID, u.ID, s.opts.InvitationTTL)
		return err
	})
	if err != nil {
		return Invitation{}, err
	}
	return inv, nil
}

// IssueRecoveryLink issues a recovery link for userID, a member of orgID
// (the org admin's organisation; the caller checks that the actor is its
// admin). orgID 0 skips the membership check, for platform administrators
// and the CLI. It is valid for Options.RecoveryLinkTTL.
func (s *Store) IssueRecoveryLink(ctx context.Context, orgID, userID int64) (token string, l Link, err error) {
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		q := "SELECT COUNT(*) FROM users WHERE id = ?"
		args := []any{userID}
		if orgID != 0 {
			q = "SELECT COUNT(*) FROM memberships WHERE user_id = ? AND org_id = ?"
			args = append(args, orgID)
		}
		var n int
		if err := tx.QueryRow(ctx, q, args...).Scan(&n); err != nil {
			return fmt.Errorf("identity: recovery link: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("user %d: %w", userID, ErrNotFound)
		}
		token, l, err = s.insertLink(ctx, tx, LinkRecovery, orgID, userID, s.opts.RecoveryLinkTTL)
		return err
	})
	return token, l, err
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
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		l, err := s.consumeLink(ctx, tx, tokenHash, LinkEnrolAdmin, LinkInvitation)
		if err != nil {
			return err
		}
		now := s.Now()
		if l.Kind == LinkEnrolAdmin {
			u, err = s.insertUser(ctx, tx, email, name, true, true, e.WebAuthnID)
			if err != nil {
				return err
			}
		} else {
			u, err = scanUser(tx.QueryRow(ctx, "SELECT "+userCols+" FROM users u WHERE u.id = ?", l.UserID))
			if err != nil {
				return notFound(err, "user")
			}
			if !u.Active {
				return ErrInactive
			}
			if _, err := tx.Exec(ctx, "UPDATE users SET display_name = ?, enrolled_at = COALESCE(enrolled_at, ?) WHERE id = ?",
				name, micros(now), u.ID); err != nil {
				return fmt.Errorf("identity: enrol: %w", err)
			}
			u.DisplayName = name
			if u.Enrolled.IsZero() {
				u.Enrolled = now
			}
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
	return u, nil
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
		return s.audit(ctx, tx, audit.Entry{Action: "user.recover", ObjectType: "user", ObjectID: idStr(u.ID), OrgID: l.OrgID,
			ActorUserID: u.ID, Details: map[string]any{"link": l.ID, "method": "link", "sessions_ended": rowsAffected(r)}})
	})
	if err != nil {
		return User{}, err
	}
	return u, nil
}
