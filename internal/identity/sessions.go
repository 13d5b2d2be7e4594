package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
)

const sessionLookupSQL = "SELECT " + sessionCols + ", " + userCols + " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?"

const sessionCols = "s.id, s.user_id, s.created_at, s.last_seen_at, s.expires_at, s.verified_at, s.ip, s.user_agent"

func scanSessionInto(s *Session, dest ...any) []any {
	return append([]any{&s.ID, &s.UserID, new(int64), new(int64), new(int64), new(int64), &s.IP, &s.UserAgent}, dest...)
}

func fillSessionTimes(s *Session, vals []any) {
	s.Created = fromMicros(*vals[2].(*int64))
	s.LastSeen = fromMicros(*vals[3].(*int64))
	s.Expires = fromMicros(*vals[4].(*int64))
	s.Verified = fromMicros(*vals[5].(*int64))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// CreateSession starts a session for an active user who has just signed in
// with method ("passkey", "passkey+totp", "recovery", …) and returns the
// token for the cookie. The session counts as verified now (step-up).
func (s *Store) CreateSession(ctx context.Context, userID int64, meta SessionMeta, method string) (string, Session, error) {
	tok := newToken()
	now := s.Now()
	sess := Session{UserID: userID, Created: now, LastSeen: now, Expires: now.Add(s.opts.SessionAbsolute), Verified: now,
		IP: truncate(meta.IP, 64), UserAgent: truncate(meta.UserAgent, 512)}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		return s.insertSession(ctx, tx, tok, &sess, "session.create", map[string]any{"method": method})
	})
	if err != nil {
		return "", Session{}, err
	}
	return tok, sess, nil
}

func (s *Store) insertSession(ctx context.Context, tx *db.Tx, tok string, sess *Session, action string, details map[string]any) error {
	var active bool
	if err := tx.QueryRow(ctx, "SELECT active FROM users WHERE id = ?", sess.UserID).Scan(&active); err != nil {
		return notFound(err, "user")
	}
	if !active {
		return ErrInactive
	}
	err := tx.QueryRow(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, verified_at, ip, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		HashToken(tok), sess.UserID, micros(sess.Created), micros(sess.LastSeen), micros(sess.Expires), micros(sess.Verified),
		sess.IP, sess.UserAgent).Scan(&sess.ID)
	if err != nil {
		return fmt.Errorf("identity: create session: %w", err)
	}
	details["user_id"] = sess.UserID
	return s.audit(ctx, tx, audit.Entry{Action: action, ObjectType: "session", ObjectID: idStr(sess.ID), ActorUserID: sess.UserID,
		Details: details})
}

// Authenticate is the per-request session check: it returns the session
// and its user for a cookie token, or ErrSessionInvalid when the token is
// unknown, revoked, idle for longer than Options.SessionIdle, past its
// absolute expiry, or its user is deactivated. It refreshes the last-seen
// time at most every Options.TouchEvery, so most requests only read.
func (s *Store) Authenticate(ctx context.Context, token string) (Session, User, error) {
	sess, u, err := s.Session(ctx, token)
	if err != nil {
		return sess, u, err
	}
	if err := s.touch(ctx, &sess); err != nil {
		return Session{}, User{}, err
	}
	return sess, u, nil
}

// touch refreshes the session's last-seen time when it is older than
// Options.TouchEvery.
func (s *Store) touch(ctx context.Context, sess *Session) error {
	if now := s.Now(); now.Sub(sess.LastSeen) >= s.opts.TouchEvery {
		if err := s.TouchSession(ctx, sess.ID); err != nil {
			return err
		}
		sess.LastSeen = now
	}
	return nil
}

// sessionMembersSQL is the session lookup joined with the user's
// memberships: one row per membership (by organisation name, as
// [Store.Memberships]), or a single row with NULL organisation columns for
// a user without any.
const sessionMembersSQL = "SELECT " + sessionCols + ", " + userCols + ", o.id, o.name, o.type, o.country, o.require_totp, o.created_at, o.licensee_type, m.role, m.created_at" +
	" FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN memberships m ON m.user_id = u.id LEFT JOIN orgs o ON o.id = m.org_id" +
	" WHERE s.token_hash = ? ORDER BY o.name_key, o.id"

// AuthenticateMember is [Store.Authenticate] that also returns the user's
// memberships, as [Store.Memberships] would, in the same query: the web
// shell needs both on every request, and one round trip instead of two
// matters on the hot path. Memberships are read afresh on every call, so a
// role change or a removal takes effect on the next request.
func (s *Store) AuthenticateMember(ctx context.Context, token string) (Session, User, []Membership, error) {
	if token == "" {
		return Session{}, User{}, nil, ErrSessionInvalid
	}
	rows, err := s.db.Query(ctx, sessionMembersSQL, HashToken(token))
	if err != nil {
		return Session{}, User{}, nil, fmt.Errorf("identity: session: %w", err)
	}
	defer rows.Close()
	var (
		sess     Session
		u        User
		ms       []Membership
		email    sql.NullString
		ucreated int64
		enrolled sql.NullInt64
		orgID    sql.NullInt64
		oname    sql.NullString
		otype    sql.NullString
		ocountry sql.NullString
		ototp    sql.NullBool
		ocreated sql.NullInt64
		olic     sql.NullString
		role     sql.NullString
		mcreated sql.NullInt64
		found    bool
	)
	vals := scanSessionInto(&sess, &u.ID, &email, &u.DisplayName, &u.WebAuthnID, &u.Active, &u.PlatformAdmin, &ucreated, &enrolled,
		&orgID, &oname, &otype, &ocountry, &ototp, &ocreated, &olic, &role, &mcreated)
	for rows.Next() {
		if err := rows.Scan(vals...); err != nil {
			return Session{}, User{}, nil, fmt.Errorf("identity: session: %w", err)
		}
		found = true
		if orgID.Valid {
			ms = append(ms, Membership{
				Org: Org{ID: orgID.Int64, Name: oname.String, Type: OrgType(otype.String), Country: ocountry.String,
					RequireTOTP: ototp.Bool, Licensee: LicenseeType(olic.String), Created: fromMicros(ocreated.Int64)},
				UserID: u.ID, Role: Role(role.String), Created: fromMicros(mcreated.Int64),
			})
		}
	}
	if err := rows.Err(); err != nil {
		return Session{}, User{}, nil, fmt.Errorf("identity: session: %w", err)
	}
	rows.Close() // the connection goes back to the pool before any write below
	if !found {
		return Session{}, User{}, nil, ErrSessionInvalid
	}
	fillSessionTimes(&sess, vals)
	u.Email, u.Created, u.Enrolled = email.String, fromMicros(ucreated), fromNull(enrolled)
	if err := s.checkSession(ctx, sess, u); err != nil {
		return Session{}, User{}, nil, err
	}
	if err := s.touch(ctx, &sess); err != nil {
		return Session{}, User{}, nil, err
	}
	return sess, u, ms, nil
}

// checkSession returns ErrSessionInvalid, deleting the session, when it is
// past its idle or absolute expiry or its user is deactivated.
func (s *Store) checkSession(ctx context.Context, sess Session, u User) error {
	now := s.Now()
	if !u.Active || !now.Before(sess.Expires) || now.Sub(sess.LastSeen) >= s.opts.SessionIdle {
		// Expired rows are deleted on sight; PurgeExpiredSessions handles
		// the ones never presented again.
		s.db.Exec(ctx, "DELETE FROM sessions WHERE id = ?", sess.ID)
		return ErrSessionInvalid
	}
	return nil
}

// TouchSession records activity on a session now (not audited).
func (s *Store) TouchSession(ctx context.Context, sessionID int64) error {
	if _, err := s.db.Exec(ctx, "UPDATE sessions SET last_seen_at = ? WHERE id = ?", micros(s.Now()), sessionID); err != nil {
		return fmt.Errorf("identity: touch session: %w", err)
	}
	return nil
}

// Session is Authenticate without the last-seen update, for callers that
// throttle touches themselves.
func (s *Store) Session(ctx context.Context, token string) (Session, User, error) {
	if token == "" {
		return Session{}, User{}, ErrSessionInvalid
	}
	var sess Session
	var u User
	var email sql.NullString
	var ucreated int64
	var enrolled sql.NullInt64
	vals := scanSessionInto(&sess, &u.ID, &email, &u.DisplayName, &u.WebAuthnID, &u.Active, &u.PlatformAdmin, &ucreated, &enrolled)
	err := s.hotRow(ctx, sessionLookupSQL, HashToken(token)).Scan(vals...)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, User{}, ErrSessionInvalid
	}
	if err != nil {
		return Session{}, User{}, fmt.Errorf("identity: session: %w", err)
	}
	fillSessionTimes(&sess, vals)
	u.Email, u.Created, u.Enrolled = email.String, fromMicros(ucreated), fromNull(enrolled)
	if err := s.checkSession(ctx, sess, u); err != nil {
		return Session{}, User{}, err
	}
	return sess, u, nil
}

// RenewSession replaces a session's token (after a privilege change) and
// returns the new one. The absolute expiry stays that of the original
// session, so renewal never extends it.
func (s *Store) RenewSession(ctx context.Context, token string) (string, Session, error) {
	old, _, err := s.Authenticate(ctx, token)
	if err != nil {
		return "", Session{}, err
	}
	tok := newToken()
	now := s.Now()
	sess := old
	sess.ID, sess.LastSeen = 0, now
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		r, err := tx.Exec(ctx, "DELETE FROM sessions WHERE id = ?", old.ID)
		if err != nil {
			return fmt.Errorf("identity: renew session: %w", err)
		}
		if rowsAffected(r) != 1 {
			return ErrSessionInvalid // revoked concurrently
		}
		return s.insertSession(ctx, tx, tok, &sess, "session.renew", map[string]any{"old_session": old.ID})
	})
	if err != nil {
		return "", Session{}, err
	}
	return tok, sess, nil
}

// MarkVerified records a fresh passkey or TOTP verification in the session
// (step-up for sensitive actions; see Session.VerifiedWithin).
func (s *Store) MarkVerified(ctx context.Context, sessionID int64, method string) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var userID int64
		if err := tx.QueryRow(ctx, "SELECT user_id FROM sessions WHERE id = ?", sessionID).Scan(&userID); err != nil {
			return notFound(err, "session")
		}
		if _, err := tx.Exec(ctx, "UPDATE sessions SET verified_at = ? WHERE id = ?", micros(s.Now()), sessionID); err != nil {
			return fmt.Errorf("identity: step-up: %w", err)
		}
		return s.audit(ctx, tx, audit.Entry{Action: "session.stepup", ObjectType: "session", ObjectID: idStr(sessionID),
			Details: map[string]any{"user_id": userID, "method": method}})
	})
}

// ListSessions returns the user's live sessions, most recently seen first.
func (s *Store) ListSessions(ctx context.Context, userID int64) ([]Session, error) {
	now := s.Now()
	rows, err := s.db.Query(ctx, "SELECT "+sessionCols+" FROM sessions s WHERE s.user_id = ? AND s.expires_at > ? AND s.last_seen_at > ? ORDER BY s.last_seen_at DESC, s.id DESC",
		userID, micros(now), micros(now.Add(-s.opts.SessionIdle)))
	if err != nil {
		return nil, fmt.Errorf("identity: list sessions: %w", err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var sess Session
		vals := scanSessionInto(&sess)
		if err := rows.Scan(vals...); err != nil {
			return nil, err
		}
		fillSessionTimes(&sess, vals)
		out = append(out, sess)
	}
	return out, rows.Err()
}

// RevokeSession ends one of the user's own sessions.
func (s *Store) RevokeSession(ctx context.Context, userID, sessionID int64) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		r, err := tx.Exec(ctx, "DELETE FROM sessions WHERE id = ? AND user_id = ?", sessionID, userID)
		if err != nil {
			return fmt.Errorf("identity: revoke session: %w", err)
		}
		if rowsAffected(r) == 0 {
			return fmt.Errorf("session %d: %w", sessionID, ErrNotFound)
		}
		return s.audit(ctx, tx, audit.Entry{Action: "session.revoke", ObjectType: "session", ObjectID: idStr(sessionID),
			Details: map[string]any{"user_id": userID}})
	})
}

// EndSession ends the session of a cookie token (sign-out). Unknown tokens
// are not an error: signing out twice is harmless.
func (s *Store) EndSession(ctx context.Context, token string) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var id, userID int64
		err := tx.QueryRow(ctx, "SELECT id, user_id FROM sessions WHERE token_hash = ?", HashToken(token)).Scan(&id, &userID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("identity: end session: %w", err)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM sessions WHERE id = ?", id); err != nil {
			return fmt.Errorf("identity: end session: %w", err)
		}
		return s.audit(ctx, tx, audit.Entry{Action: "session.end", ObjectType: "session", ObjectID: idStr(id),
			ActorUserID: userID, Details: map[string]any{"user_id": userID}})
	})
}

// EndSessionID ends a session by id (sign-out, renewal by the web shell).
// An unknown id is not an error.
func (s *Store) EndSessionID(ctx context.Context, sessionID int64) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var userID int64
		err := tx.QueryRow(ctx, "SELECT user_id FROM sessions WHERE id = ?", sessionID).Scan(&userID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("identity: end session: %w", err)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM sessions WHERE id = ?", sessionID); err != nil {
			return fmt.Errorf("identity: end session: %w", err)
		}
		return s.audit(ctx, tx, audit.Entry{Action: "session.end", ObjectType: "session", ObjectID: idStr(sessionID),
			ActorUserID: userID, Details: map[string]any{"user_id": userID}})
	})
}

// RevokeAllSessions ends every session of the user except exceptID (0:
// all), and returns how many ended.
func (s *Store) RevokeAllSessions(ctx context.Context, userID, exceptID int64) (int, error) {
	var n int64
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		r, err := tx.Exec(ctx, "DELETE FROM sessions WHERE user_id = ? AND id <> ?", userID, exceptID)
		if err != nil {
			return fmt.Errorf("identity: revoke sessions: %w", err)
		}
		n = rowsAffected(r)
		return s.audit(ctx, tx, audit.Entry{Action: "session.revoke_all", ObjectType: "user", ObjectID: idStr(userID),
			Details: map[string]any{"ended": n, "kept": exceptID}})
	})
	return int(n), err
}

// PurgeExpiredSessions deletes sessions past their idle or absolute expiry
// (housekeeping, not audited: it changes nothing anyone could still use).
func (s *Store) PurgeExpiredSessions(ctx context.Context) (int, error) {
	now := s.Now()
	r, err := s.db.Exec(ctx, "DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?",
		micros(now), micros(now.Add(-s.opts.SessionIdle)))
	if err != nil {
		return 0, fmt.Errorf("identity: purge sessions: %w", err)
	}
	return int(rowsAffected(r)), nil
}
