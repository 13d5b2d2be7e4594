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

// API tokens look like "dfs_" + 8 characters (the prefix shown in lists) +
// "_" + 43 characters of secret. The "dfs_" marker lets secret scanners
// recognise leaked tokens.
const (
	tokenMarker = "dfs_"
	// MaxTokenLifetime caps token expiry: a forgotten token dies by itself.
	MaxTokenLifetime = 366 * 24 * time.Hour
)

// CreateAPIToken issues a personal API token and returns it in clear: the
// only time it exists outside the caller's hands.
func (s *Store) CreateAPIToken(ctx context.Context, userID int64, name string, scope Scope, expires time.Time) (string, APIToken, error) {
	if !scope.Valid() {
		return "", APIToken{}, fmt.Errorf("%w: scope must be read or write", ErrInvalid)
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = "API token"
	}
	name, err := cleanName(name, 100)
	if err != nil {
		return "", APIToken{}, err
	}
	now := s.Now()
	expires = time.UnixMicro(expires.UnixMicro()).UTC()
	if !expires.After(now) || expires.Sub(now) > MaxTokenLifetime {
		return "", APIToken{}, fmt.Errorf("%w: expiry must be in the future and within %d days", ErrInvalid, int(MaxTokenLifetime/(24*time.Hour)))
	}
	secret := newToken()
	prefix := tokenMarker + strings.ToLower(secret[:8])
	tok := prefix + "_" + secret[8:]
	t := APIToken{UserID: userID, Name: name, Prefix: prefix, Scope: scope, Created: now, Expires: expires}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var active bool
		if err := tx.QueryRow(ctx, "SELECT active FROM users WHERE id = ?", userID).Scan(&active); err != nil {
			return notFound(err, "user")
		}
		if !active {
			return ErrInactive
		}
		if err := tx.QueryRow(ctx, `INSERT INTO api_tokens (user_id, name, prefix, token_hash, scope, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			userID, name, prefix, hashToken(tok), string(scope), micros(now), micros(expires)).Scan(&t.ID); err != nil {
			return fmt.Errorf("identity: create token: %w", err)
		}
		return s.audit(ctx, tx, audit.Entry{Action: "api_token.create", ObjectType: "api_token", ObjectID: idStr(t.ID),
			Details: map[string]any{"user_id": userID, "name": name, "prefix": prefix, "scope": string(scope), "expires": expires.Format(time.RFC3339)}})
	})
	if err != nil {
		return "", APIToken{}, err
	}
	return tok, t, nil
}

const tokenCols = "t.id, t.user_id, t.name, t.prefix, t.scope, t.created_at, t.expires_at, t.last_used_at, t.revoked_at"

func tokenDest(t *APIToken, scope *string, created, expires *int64, used, revoked *sql.NullInt64) []any {
	return []any{&t.ID, &t.UserID, &t.Name, &t.Prefix, scope, created, expires, used, revoked}
}

// AuthenticateAPIToken checks a bearer token and returns it with its user.
// Unknown, revoked and expired tokens, and tokens of deactivated users, all
// fail with ErrTokenInvalid. The caller checks the scope (Scope.Allows).
func (s *Store) AuthenticateAPIToken(ctx context.Context, token string) (APIToken, User, error) {
	if !strings.HasPrefix(token, tokenMarker) || len(token) > 200 {
		return APIToken{}, User{}, ErrTokenInvalid
	}
	var t APIToken
	var u User
	var scope string
	var created, expires, ucreated int64
	var used, revoked, enrolled sql.NullInt64
	var email sql.NullString
	dest := append(tokenDest(&t, &scope, &created, &expires, &used, &revoked),
		&u.ID, &email, &u.DisplayName, &u.WebAuthnID, &u.Active, &u.PlatformAdmin, &ucreated, &enrolled)
	err := s.db.QueryRow(ctx, "SELECT "+tokenCols+", "+userCols+" FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?",
		hashToken(token)).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return APIToken{}, User{}, ErrTokenInvalid
	}
	if err != nil {
		return APIToken{}, User{}, fmt.Errorf("identity: token: %w", err)
	}
	t.Scope, t.Created, t.Expires, t.LastUsed, t.Revoked = Scope(scope), fromMicros(created), fromMicros(expires), fromNull(used), fromNull(revoked)
	u.Email, u.Created, u.Enrolled = email.String, fromMicros(ucreated), fromNull(enrolled)
	now := s.Now()
	if !t.Revoked.IsZero() || !now.Before(t.Expires) || !u.Active {
		return APIToken{}, User{}, ErrTokenInvalid
	}
	if t.LastUsed.IsZero() || now.Sub(t.LastUsed) >= s.opts.TouchEvery {
		if _, err := s.db.Exec(ctx, "UPDATE api_tokens SET last_used_at = ? WHERE id = ?", micros(now), t.ID); err != nil {
			return APIToken{}, User{}, fmt.Errorf("identity: touch token: %w", err)
		}
		t.LastUsed = now
	}
	return t, u, nil
}

// ListAPITokens returns the user's tokens, newest first, revoked ones
// included (they show as revoked).
func (s *Store) ListAPITokens(ctx context.Context, userID int64) ([]APIToken, error) {
	rows, err := s.db.Query(ctx, "SELECT "+tokenCols+" FROM api_tokens t WHERE t.user_id = ? ORDER BY t.id DESC", userID)
	if err != nil {
		return nil, fmt.Errorf("identity: list tokens: %w", err)
	}
	defer rows.Close()
	var out []APIToken
	for rows.Next() {
		var t APIToken
		var scope string
		var created, expires int64
		var used, revoked sql.NullInt64
		if err := rows.Scan(tokenDest(&t, &scope, &created, &expires, &used, &revoked)...); err != nil {
			return nil, err
		}
		t.Scope, t.Created, t.Expires, t.LastUsed, t.Revoked = Scope(scope), fromMicros(created), fromMicros(expires), fromNull(used), fromNull(revoked)
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeAPIToken revokes one of the user's own tokens.
func (s *Store) RevokeAPIToken(ctx context.Context, userID, tokenID int64) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		r, err := tx.Exec(ctx, "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL",
			micros(s.Now()), tokenID, userID)
		if err != nil {
			return fmt.Errorf("identity: revoke token: %w", err)
		}
		if rowsAffected(r) == 0 {
			return fmt.Errorf("token %d: %w", tokenID, ErrNotFound)
		}
		return s.audit(ctx, tx, audit.Entry{Action: "api_token.revoke", ObjectType: "api_token", ObjectID: idStr(tokenID),
			Details: map[string]any{"user_id": userID}})
	})
}
