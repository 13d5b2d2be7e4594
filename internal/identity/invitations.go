package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
)

// An account belongs to a person, and joining an organisation is that
// person's decision. An organisation invites an e-mail address; the
// invitation binds only its own organisation's membership and comes with
// its own single-use link, whatever other organisations have done with the
// same address:
//
//   - the link enrols a new account (and adds this one membership) when
//     the address has no enrolled account;
//   - an enrolled account accepts it while signed in: in the app, when the
//     account existed at the time of the invitation (the inviter addressed
//     it), or with the link;
//   - the link never adds a passkey to an existing account.
//
// The inviter gets the same answer (a link) whether or not the address has
// an account, so invitations do not reveal who uses the platform.

// InvitationState is where an invitation stands.
type InvitationState string

const (
	InvitationPending  InvitationState = "pending"
	InvitationAccepted InvitationState = "accepted"
	InvitationDeclined InvitationState = "declined"
	InvitationRevoked  InvitationState = "revoked"
	// InvitationExpired is never stored: a pending invitation past its
	// expiry reads as expired.
	InvitationExpired InvitationState = "expired"
)

// Label is the English name shown in the UI.
func (st InvitationState) Label() string {
	switch st {
	case InvitationPending:
		return "Pending"
	case InvitationAccepted:
		return "Accepted"
	case InvitationDeclined:
		return "Declined"
	case InvitationRevoked:
		return "Withdrawn"
	case InvitationExpired:
		return "Expired"
	}
	return string(st)
}

// Invitation is an organisation's invitation of an e-mail address.
type Invitation struct {
	ID      int64
	OrgID   int64
	OrgName string
	Email   string
	Role    Role
	// InApp: the address had an enrolled account when it was invited, so
	// that account may accept in the app; otherwise only with the link.
	InApp     bool
	CreatedBy int64
	Created   time.Time
	Expires   time.Time
	State     InvitationState
	Decided   time.Time // accepted, declined or withdrawn
	UserID    int64     // the account that accepted
	// Token is the secret of the invitation's link, set only in the result
	// of [Store.Invite]: the one time it exists outside the person's hands.
	Token string
}

// Pending reports whether the invitation can still be accepted.
func (inv Invitation) Pending() bool { return inv.State == InvitationPending }

// maxPendingPerOrg bounds the open invitations of one organisation, so
// that a compromised admin account cannot fill the table.
const maxPendingPerOrg = 1000

// Invite invites email to orgID with role and returns the invitation with
// its link token. An earlier pending invitation of the same address by the
// same organisation is withdrawn (its link stops working). Inviting a
// current member, or one whose membership is suspended, is ErrConflict.
// When the address belongs to an enrolled account, that account is told in
// the app (Options.Notifier).
func (s *Store) Invite(ctx context.Context, orgID int64, email string, role Role) (Invitation, error) {
	email = normEmail(email)
	if !validEmail(email) {
		return Invitation{}, fmt.Errorf("%w: %q is not an e-mail address", ErrInvalid, email)
	}
	if !role.Valid() {
		return Invitation{}, fmt.Errorf("%w: unknown role %q", ErrInvalid, role)
	}
	var inv Invitation
	var notifyUser int64
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		org, err := scanOrg(tx.QueryRow(ctx, "SELECT "+orgCols+" FROM orgs WHERE id = ?", orgID))
		if err != nil {
			return notFound(err, "org")
		}
		var member int
		if err := tx.QueryRow(ctx, `SELECT
			(SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = ? AND u.email = ?) +
			(SELECT COUNT(*) FROM membership_suspensions m JOIN users u ON u.id = m.user_id WHERE m.org_id = ? AND u.email = ?)`,
			orgID, email, orgID, email).Scan(&member); err != nil {
			return fmt.Errorf("identity: invite: %w", err)
		}
		if member > 0 {
			return fmt.Errorf("%s is already a member: %w", email, ErrConflict)
		}
		if err := s.withdrawPending(ctx, tx, orgID, email, "reinvited"); err != nil {
			return err
		}
		var open int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM invitations WHERE org_id = ? AND state = 'pending' AND expires_at > ?",
			orgID, micros(s.Now())).Scan(&open); err != nil {
			return fmt.Errorf("identity: invite: %w", err)
		}
		if open >= maxPendingPerOrg {
			return fmt.Errorf("%w: %d open invitations; withdraw some first", ErrInvalid, open)
		}
		var uid sql.NullInt64
		err = tx.QueryRow(ctx, "SELECT id FROM users WHERE email = ? AND enrolled_at IS NOT NULL AND active = ?", email, true).Scan(&uid)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("identity: invite: %w", err)
		}
		tok, l, err := s.insertLink(ctx, tx, LinkInvitation, orgID, 0, s.opts.InvitationTTL)
		if err != nil {
			return err
		}
		a := audit.ActorFrom(ctx)
		inv = Invitation{OrgID: orgID, OrgName: org.Name, Email: email, Role: role, InApp: uid.Valid, CreatedBy: a.UserID,
			Created: l.Created, Expires: l.Expires, State: InvitationPending, Token: tok}
		if err := tx.QueryRow(ctx, `INSERT INTO invitations (org_id, email, role, link_id, in_app, created_by, created_at, expires_at, state)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending') RETURNING id`,
			orgID, email, string(role), l.ID, inv.InApp, nullID(a.UserID), micros(inv.Created), micros(inv.Expires)).Scan(&inv.ID); err != nil {
			return fmt.Errorf("identity: invite: %w", err)
		}
		notifyUser = uid.Int64
		// Whether the address has an account is not recorded here: the
		// inviting organisation's audit view must not reveal it either.
		return s.audit(ctx, tx, audit.Entry{Action: "invitation.create", ObjectType: "invitation", ObjectID: idStr(inv.ID), OrgID: orgID,
			Details: map[string]any{"email": email, "role": string(role), "expires": inv.Expires.Format(time.RFC3339)}})
	})
	if err != nil {
		return Invitation{}, err
	}
	if notifyUser != 0 {
		s.notify(ctx, []int64{notifyUser}, "invitation",
			fmt.Sprintf("%s invites you to join as %s.", inv.OrgName, inv.Role.Label()), "/invitations")
	}
	return inv, nil
}

// withdrawPending withdraws orgID's pending invitations of email and
// spends their links.
func (s *Store) withdrawPending(ctx context.Context, tx *db.Tx, orgID int64, email, reason string) error {
	rows, err := tx.Query(ctx, "SELECT id, link_id FROM invitations WHERE org_id = ? AND email = ? AND state = 'pending'", orgID, email)
	if err != nil {
		return fmt.Errorf("identity: withdraw invitations: %w", err)
	}
	type pair struct{ id, link int64 }
	var old []pair
	for rows.Next() {
		var p pair
		if err := rows.Scan(&p.id, &p.link); err != nil {
			rows.Close()
			return fmt.Errorf("identity: withdraw invitations: %w", err)
		}
		old = append(old, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("identity: withdraw invitations: %w", err)
	}
	now := micros(s.Now())
	for _, p := range old {
		if err := s.decide(ctx, tx, p.id, p.link, InvitationRevoked, 0, now); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, audit.Entry{Action: "invitation.revoke", ObjectType: "invitation", ObjectID: idStr(p.id), OrgID: orgID,
			Details: map[string]any{"email": email, "reason": reason}}); err != nil {
			return err
		}
	}
	return nil
}

// decide moves a pending invitation to st and spends its link, so that
// the link cannot be used afterwards whatever st is.
func (s *Store) decide(ctx context.Context, tx *db.Tx, id, linkID int64, st InvitationState, userID, now int64) error {
	r, err := tx.Exec(ctx, "UPDATE invitations SET state = ?, decided_at = ?, user_id = ? WHERE id = ? AND state = 'pending'",
		string(st), now, nullID(userID), id)
	if err != nil {
		return fmt.Errorf("identity: invitation: %w", err)
	}
	if rowsAffected(r) != 1 {
		return fmt.Errorf("invitation %d: %w", id, ErrLinkUsed)
	}
	if _, err := tx.Exec(ctx, "UPDATE links SET used_at = ? WHERE id = ? AND used_at IS NULL", now, linkID); err != nil {
		return fmt.Errorf("identity: invitation link: %w", err)
	}
	return nil
}

const invCols = "i.id, i.org_id, o.name, i.email, i.role, i.in_app, i.created_by, i.created_at, i.expires_at, i.state, i.decided_at, i.user_id"

func (s *Store) scanInvitation(r interface{ Scan(...any) error }) (Invitation, error) {
	var inv Invitation
	var role, st string
	var by, decided, uid sql.NullInt64
	var created, expires int64
	if err := r.Scan(&inv.ID, &inv.OrgID, &inv.OrgName, &inv.Email, &role, &inv.InApp, &by, &created, &expires, &st, &decided, &uid); err != nil {
		return Invitation{}, err
	}
	inv.Role, inv.State, inv.CreatedBy, inv.UserID = Role(role), InvitationState(st), by.Int64, uid.Int64
	inv.Created, inv.Expires, inv.Decided = fromMicros(created), fromMicros(expires), fromNull(decided)
	if inv.State == InvitationPending && !s.Now().Before(inv.Expires) {
		inv.State = InvitationExpired
	}
	return inv, nil
}

func (s *Store) listInvitations(ctx context.Context, where string, args ...any) ([]Invitation, error) {
	rows, err := s.db.Query(ctx, "SELECT "+invCols+" FROM invitations i JOIN orgs o ON o.id = i.org_id WHERE "+where+" ORDER BY i.created_at DESC, i.id DESC", args...)
	if err != nil {
		return nil, fmt.Errorf("identity: invitations: %w", err)
	}
	defer rows.Close()
	var out []Invitation
	for rows.Next() {
		inv, err := s.scanInvitation(rows)
		if err != nil {
			return nil, fmt.Errorf("identity: invitations: %w", err)
		}
		out = append(out, inv)
	}
	return out, rows.Err()
}

// OrgInvitations lists an organisation's open invitations (pending, or
// expired within the last 30 days so that the admin sees which to renew),
// newest first.
func (s *Store) OrgInvitations(ctx context.Context, orgID int64) ([]Invitation, error) {
	since := micros(s.Now().Add(-30 * 24 * time.Hour))
	return s.listInvitations(ctx, "i.org_id = ? AND i.state = 'pending' AND i.expires_at > ?", orgID, since)
}

// RevokeInvitation withdraws a pending invitation of orgID; its link stops
// working. An invitation of another organisation is ErrNotFound.
func (s *Store) RevokeInvitation(ctx context.Context, orgID, id int64) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var link int64
		var email string
		err := tx.QueryRow(ctx, "SELECT link_id, email FROM invitations WHERE id = ? AND org_id = ? AND state = 'pending'", id, orgID).Scan(&link, &email)
		if err != nil {
			return notFound(err, "invitation")
		}
		if err := s.decide(ctx, tx, id, link, InvitationRevoked, 0, micros(s.Now())); err != nil {
			return err
		}
		return s.audit(ctx, tx, audit.Entry{Action: "invitation.revoke", ObjectType: "invitation", ObjectID: idStr(id), OrgID: orgID,
			Details: map[string]any{"email": email, "reason": "withdrawn"}})
	})
}

// InvitationsFor lists the pending invitations that userID may accept in
// the app: those addressed to the account's e-mail address while the
// account was enrolled.
func (s *Store) InvitationsFor(ctx context.Context, userID int64) ([]Invitation, error) {
	u, err := s.User(ctx, userID)
	if err != nil {
		return nil, err
	}
	if u.Email == "" || !u.IsEnrolled() {
		return nil, nil
	}
	return s.listInvitations(ctx, "i.email = ? AND i.in_app = ? AND i.state = 'pending' AND i.expires_at > ? AND i.created_at >= ?",
		u.Email, true, micros(s.Now()), micros(u.Enrolled))
}

// InvitationByLink returns the invitation whose link token hashes to
// tokenHash while it can be used, and whether its address belongs to an
// enrolled account (then the link asks the person to sign in and accept
// rather than to enrol).
func (s *Store) InvitationByLink(ctx context.Context, tokenHash []byte) (inv Invitation, accountExists bool, err error) {
	l, err := s.checkLink(ctx, s.db, tokenHash, []LinkKind{LinkInvitation})
	if err != nil {
		return Invitation{}, false, err
	}
	inv, err = s.scanInvitation(s.db.QueryRow(ctx, "SELECT "+invCols+" FROM invitations i JOIN orgs o ON o.id = i.org_id WHERE i.link_id = ?", l.ID))
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Invitation{}, false, ErrLinkNotFound
		}
		return Invitation{}, false, fmt.Errorf("identity: invitation: %w", err)
	}
	if !inv.Pending() {
		return inv, false, ErrLinkUsed
	}
	var n int
	if err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM users WHERE email = ? AND enrolled_at IS NOT NULL", inv.Email).Scan(&n); err != nil {
		return Invitation{}, false, fmt.Errorf("identity: invitation: %w", err)
	}
	return inv, n > 0, nil
}

// AcceptInvitation accepts, for the signed-in userID, an invitation listed
// by [Store.InvitationsFor]; anything else is ErrNotFound.
func (s *Store) AcceptInvitation(ctx context.Context, userID, id int64) (Invitation, error) {
	return s.answer(ctx, userID, "i.id = ? AND i.in_app = ?", []any{id, true}, true, true)
}

// DeclineInvitation declines an invitation listed by [Store.InvitationsFor].
func (s *Store) DeclineInvitation(ctx context.Context, userID, id int64) (Invitation, error) {
	return s.answer(ctx, userID, "i.id = ? AND i.in_app = ?", []any{id, true}, true, false)
}

// AcceptInvitationLink accepts, for the signed-in userID, the invitation
// of a link: the person holds the secret the organisation handed out. The
// invitation must be addressed to the account's e-mail address
// (ErrForbidden otherwise), so that a forwarded link cannot bring another
// person in.
func (s *Store) AcceptInvitationLink(ctx context.Context, userID int64, tokenHash []byte) (Invitation, error) {
	return s.answer(ctx, userID, "i.link_id = (SELECT id FROM links WHERE token_hash = ? AND kind = 'invitation')", []any{tokenHash}, false, true)
}

// answer accepts or declines one pending invitation for userID.
// enrolledBefore requires the invitation to postdate the account's
// enrolment (in-app answers).
func (s *Store) answer(ctx context.Context, userID int64, where string, args []any, enrolledBefore, accept bool) (Invitation, error) {
	var inv Invitation
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		u, err := scanUser(tx.QueryRow(ctx, "SELECT "+userCols+" FROM users u WHERE u.id = ?", userID))
		if err != nil {
			return notFound(err, "user")
		}
		if !u.Active {
			return ErrInactive
		}
		var linkID int64
		row := tx.QueryRow(ctx, "SELECT "+invCols+", i.link_id FROM invitations i JOIN orgs o ON o.id = i.org_id WHERE "+where, args...)
		inv, err = s.scanInvitation(scanPlus{row, &linkID})
		if err != nil {
			return notFound(err, "invitation")
		}
		switch {
		case inv.Email != u.Email || !u.IsEnrolled():
			if enrolledBefore {
				return fmt.Errorf("invitation %d: %w", inv.ID, ErrNotFound)
			}
			return fmt.Errorf("invitation for another address: %w", ErrForbidden)
		case enrolledBefore && inv.Created.Before(u.Enrolled):
			return fmt.Errorf("invitation %d: %w", inv.ID, ErrNotFound)
		case inv.State == InvitationExpired:
			return ErrLinkExpired
		case !inv.Pending():
			return ErrLinkUsed
		}
		return s.answerTx(ctx, tx, &inv, linkID, u, accept)
	})
	if err != nil {
		return Invitation{}, err
	}
	s.notifyAnswer(ctx, inv)
	return inv, nil
}

// answerTx records the answer of u to inv inside tx; on acceptance it adds
// the one membership the invitation names.
func (s *Store) answerTx(ctx context.Context, tx *db.Tx, inv *Invitation, linkID int64, u User, accept bool) error {
	now := s.Now()
	st, action := InvitationDeclined, "invitation.decline"
	if accept {
		st, action = InvitationAccepted, "invitation.accept"
		var member int
		if err := tx.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM memberships WHERE org_id = ? AND user_id = ?) +
			(SELECT COUNT(*) FROM membership_suspensions WHERE org_id = ? AND user_id = ?)`,
			inv.OrgID, u.ID, inv.OrgID, u.ID).Scan(&member); err != nil {
			return fmt.Errorf("identity: accept invitation: %w", err)
		}
		if member > 0 {
			return fmt.Errorf("already a member: %w", ErrConflict)
		}
		if err := s.addMember(ctx, tx, inv.OrgID, u.ID, inv.Role); err != nil {
			return err
		}
	}
	if err := s.decide(ctx, tx, inv.ID, linkID, st, u.ID, micros(now)); err != nil {
		return err
	}
	inv.State, inv.Decided, inv.UserID = st, now, u.ID
	// Under the inviting organisation (its object) and every organisation
	// of the person: each sees in its own audit view that the person
	// joined another one.
	concerned, err := orgsOf(ctx, tx, u.ID)
	if err != nil {
		return err
	}
	return s.audit(ctx, tx, audit.Entry{Action: action, ObjectType: "invitation", ObjectID: idStr(inv.ID), OrgID: inv.OrgID,
		ActorUserID: u.ID, Concerned: concerned, Details: map[string]any{"email": inv.Email, "role": string(inv.Role), "user_id": u.ID}})
}

// notifyAnswer tells the inviting organisation's admins how the person
// answered, and through which organisation the account was enrolled, so
// that an admin can tell a person they know from an account someone else
// set up under that address.
func (s *Store) notifyAnswer(ctx context.Context, inv Invitation) {
	admins, err := s.orgAdmins(ctx, inv.OrgID)
	if err != nil {
		s.opts.logger().ErrorContext(ctx, "invitation answer: org admins", "err", err)
		return
	}
	verb := "declined"
	if inv.State == InvitationAccepted {
		verb = "accepted"
	}
	text := fmt.Sprintf("%s %s the invitation to %s.", inv.Email, verb, inv.OrgName)
	if inv.State == InvitationAccepted {
		if via, err := s.enrolledThrough(ctx, inv.UserID); err == nil && via != "" && via != inv.OrgName {
			text = fmt.Sprintf("%s accepted the invitation to %s (account set up through %s).", inv.Email, inv.OrgName, via)
		}
	}
	s.notify(ctx, admins, "invitation", text, fmt.Sprintf("/orgs/%d/members", inv.OrgID))
}

// enrolledThrough names the organisation whose invitation created the
// account, "" if none.
func (s *Store) enrolledThrough(ctx context.Context, userID int64) (string, error) {
	var name sql.NullString
	err := s.db.QueryRow(ctx, "SELECT o.name FROM users u LEFT JOIN orgs o ON o.id = u.enrolled_org_id WHERE u.id = ?", userID).Scan(&name)
	return name.String, err
}

// orgAdmins lists the active org admins of orgID.
func (s *Store) orgAdmins(ctx context.Context, orgID int64) ([]int64, error) {
	return queryIDs(ctx, s.db, "SELECT m.user_id FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = ? AND m.role = ? AND u.active = ?",
		orgID, string(RoleOrgAdmin), true)
}

// orgsOf lists every organisation userID belongs to, suspended
// memberships included.
func orgsOf(ctx context.Context, q db.Querier, userID int64) ([]int64, error) {
	return queryIDs(ctx, q, "SELECT org_id FROM memberships WHERE user_id = ? UNION SELECT org_id FROM membership_suspensions WHERE user_id = ? ORDER BY 1", userID, userID)
}

func queryIDs(ctx context.Context, q db.Querier, query string, args ...any) ([]int64, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("identity: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// scanPlus scans a row with extra trailing columns.
type scanPlus struct {
	r     interface{ Scan(...any) error }
	extra *int64
}

func (p scanPlus) Scan(dest ...any) error { return p.r.Scan(append(dest, p.extra)...) }
