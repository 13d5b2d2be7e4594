package identity

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
)

const passkeyCols = `id, user_id, credential_id, public_key, attestation_type, aaguid, sign_count, transports,
	attachment, user_verified, backup_eligible, backup_state, name, created_at, last_used_at, record`

func scanPasskey(r interface{ Scan(...any) error }) (Passkey, error) {
	var p Passkey
	var signCount, created int64
	var transports string
	var used sql.NullInt64
	if err := r.Scan(&p.ID, &p.UserID, &p.CredentialID, &p.PublicKey, &p.AttestationType, &p.AAGUID, &signCount, &transports,
		&p.Attachment, &p.UserVerified, &p.BackupEligible, &p.BackupState, &p.Name, &created, &used, &p.Record); err != nil {
		return Passkey{}, err
	}
	p.SignCount = uint32(signCount)
	if transports != "" {
		p.Transports = strings.Split(transports, ",")
	}
	p.Created, p.LastUsed = fromMicros(created), fromNull(used)
	return p, nil
}

func (s *Store) insertPasskey(ctx context.Context, tx *db.Tx, userID int64, p Passkey) (Passkey, error) {
	if len(p.CredentialID) == 0 || len(p.CredentialID) > 1023 || len(p.PublicKey) == 0 {
		return Passkey{}, fmt.Errorf("%w: passkey needs a credential id (1–1023 bytes) and a public key", ErrInvalid)
	}
	p.Name = strings.TrimSpace(p.Name)
	if p.Name == "" {
		p.Name = "Passkey"
	}
	name, err := cleanName(p.Name, 100)
	if err != nil {
		return Passkey{}, err
	}
	p.Name, p.UserID, p.Created = name, userID, s.Now()
	for _, t := range p.Transports {
		if strings.Contains(t, ",") {
			return Passkey{}, fmt.Errorf("%w: transport %q", ErrInvalid, t)
		}
	}
	err = tx.QueryRow(ctx, `INSERT INTO passkeys (user_id, credential_id, public_key, attestation_type, aaguid, sign_count,
		transports, attachment, user_verified, backup_eligible, backup_state, name, created_at, record)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		userID, p.CredentialID, p.PublicKey, p.AttestationType, p.AAGUID, int64(p.SignCount), strings.Join(p.Transports, ","),
		p.Attachment, p.UserVerified, p.BackupEligible, p.BackupState, p.Name, micros(p.Created), p.Record).Scan(&p.ID)
	if db.IsUniqueViolation(err) {
		return Passkey{}, fmt.Errorf("passkey: %w", ErrConflict)
	}
	if err != nil {
		return Passkey{}, fmt.Errorf("identity: add passkey: %w", err)
	}
	return p, s.audit(ctx, tx, audit.Entry{Action: "passkey.add", ObjectType: "passkey", ObjectID: idStr(p.ID),
		Details: map[string]any{"user_id": userID, "name": p.Name, "backup_eligible": p.BackupEligible}})
}

// AddPasskey registers another passkey for a user (the caller has checked
// step-up). A pending user becomes enrolled.
func (s *Store) AddPasskey(ctx context.Context, userID int64, p Passkey) (Passkey, error) {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if p, err = s.insertPasskey(ctx, tx, userID, p); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE users SET enrolled_at = COALESCE(enrolled_at, ?) WHERE id = ?", micros(p.Created), userID)
		return err
	})
	if err != nil {
		return Passkey{}, err
	}
	return p, nil
}

// ListPasskeys returns a user's passkeys, oldest first.
func (s *Store) ListPasskeys(ctx context.Context, userID int64) ([]Passkey, error) {
	rows, err := s.db.Query(ctx, "SELECT "+passkeyCols+" FROM passkeys WHERE user_id = ? ORDER BY id", userID)
	if err != nil {
		return nil, fmt.Errorf("identity: list passkeys: %w", err)
	}
	defer rows.Close()
	var out []Passkey
	for rows.Next() {
		p, err := scanPasskey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// PasskeyByCredentialID returns the passkey with a WebAuthn credential id.
func (s *Store) PasskeyByCredentialID(ctx context.Context, credID []byte) (Passkey, error) {
	p, err := scanPasskey(s.db.QueryRow(ctx, "SELECT "+passkeyCols+" FROM passkeys WHERE credential_id = ?", credID))
	if err != nil {
		return Passkey{}, notFound(err, "passkey")
	}
	return p, nil
}

// UsePasskey records a successful assertion: new signature counter, backup
// state and last-used time. (Counter regressions are judged by the WebAuthn
// library before this is called.)
func (s *Store) UsePasskey(ctx context.Context, credID []byte, use PasskeyUse) (Passkey, error) {
	var p Passkey
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		p, err = scanPasskey(tx.QueryRow(ctx, "SELECT "+passkeyCols+" FROM passkeys WHERE credential_id = ?", credID))
		if err != nil {
			return notFound(err, "passkey")
		}
		p.SignCount, p.BackupState, p.UserVerified, p.LastUsed = use.SignCount, use.BackupState, use.UserVerified, s.Now()
		if use.Record != nil {
			p.Record = use.Record
		}
		if _, err := tx.Exec(ctx, "UPDATE passkeys SET sign_count = ?, backup_state = ?, user_verified = ?, last_used_at = ?, record = ? WHERE id = ?",
			int64(p.SignCount), p.BackupState, p.UserVerified, micros(p.LastUsed), p.Record, p.ID); err != nil {
			return fmt.Errorf("identity: use passkey: %w", err)
		}
		return s.audit(ctx, tx, audit.Entry{Action: "passkey.use", ObjectType: "passkey", ObjectID: idStr(p.ID),
			ActorUserID: p.UserID, Details: map[string]any{"user_id": p.UserID}})
	})
	if err != nil {
		return Passkey{}, err
	}
	return p, nil
}

// RenamePasskey renames one of the user's own passkeys.
func (s *Store) RenamePasskey(ctx context.Context, userID, passkeyID int64, name string) error {
	name, err := cleanName(name, 100)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		r, err := tx.Exec(ctx, "UPDATE passkeys SET name = ? WHERE id = ? AND user_id = ?", name, passkeyID, userID)
		if err != nil {
			return fmt.Errorf("identity: rename passkey: %w", err)
		}
		if rowsAffected(r) == 0 {
			return fmt.Errorf("passkey %d: %w", passkeyID, ErrNotFound)
		}
		return s.audit(ctx, tx, audit.Entry{Action: "passkey.rename", ObjectType: "passkey", ObjectID: idStr(passkeyID),
			Details: map[string]any{"user_id": userID, "name": name}})
	})
}

// signInMethodsWithout counts the ways userID could still get in if
// passkey exceptID were gone: each other passkey counts; so does TOTP
// together with an unused recovery code, because recovery by code
// (confirmed with TOTP) lets the user register a new passkey.
func signInMethodsWithout(ctx context.Context, tx *db.Tx, userID, exceptID int64) (int, error) {
	var passkeys, totp, codes int
	if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM passkeys WHERE user_id = ? AND id <> ?", userID, exceptID).Scan(&passkeys); err != nil {
		return 0, err
	}
	if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM totp WHERE user_id = ? AND enabled = ?", userID, true).Scan(&totp); err != nil {
		return 0, err
	}
	if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL", userID).Scan(&codes); err != nil {
		return 0, err
	}
	n := passkeys
	if totp > 0 && codes > 0 {
		n++
	}
	return n, nil
}

// RemovePasskey removes one of the user's own passkeys. Removing the last
// one is refused with ErrLastSignIn unless TOTP is enabled and an unused
// recovery code remains (see signInMethodsWithout).
func (s *Store) RemovePasskey(ctx context.Context, userID, passkeyID int64) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var name string
		if err := tx.QueryRow(ctx, "SELECT name FROM passkeys WHERE id = ? AND user_id = ?", passkeyID, userID).Scan(&name); err != nil {
			return notFound(err, "passkey")
		}
		left, err := signInMethodsWithout(ctx, tx, userID, passkeyID)
		if err != nil {
			return fmt.Errorf("identity: remove passkey: %w", err)
		}
		if left == 0 {
			return ErrLastSignIn
		}
		if _, err := tx.Exec(ctx, "DELETE FROM passkeys WHERE id = ? AND user_id = ?", passkeyID, userID); err != nil {
			return fmt.Errorf("identity: remove passkey: %w", err)
		}
		return s.audit(ctx, tx, audit.Entry{Action: "passkey.remove", ObjectType: "passkey", ObjectID: idStr(passkeyID),
			Details: map[string]any{"user_id": userID, "name": name}})
	})
}
