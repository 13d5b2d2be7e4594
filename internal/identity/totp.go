package identity

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"database/sql"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
)

// TOTP parameters: RFC 6238 defaults that every authenticator app supports.
const (
	TOTPPeriod = 30 * time.Second
	TOTPDigits = 6
	totpSkew   = 1 // accept the previous and next step for clock drift
)

// totpCode computes the RFC 6238 code (HMAC-SHA1, dynamic truncation) for
// a time step.
func totpCode(secret []byte, step int64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	m := hmac.New(sha1.New, secret)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	s := strconv.FormatUint(uint64(v%1_000_000), 10)
	return strings.Repeat("0", TOTPDigits-len(s)) + s
}

// matchTOTP returns the time step whose code equals code, or 0.
func matchTOTP(secret []byte, code string, now time.Time) int64 {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != TOTPDigits {
		return 0
	}
	cur := now.Unix() / int64(TOTPPeriod/time.Second)
	var found int64
	for st := cur - totpSkew; st <= cur+totpSkew; st++ {
		// Check every candidate step so timing does not reveal which matched.
		if subtle.ConstantTimeCompare([]byte(totpCode(secret, st)), []byte(code)) == 1 && found == 0 {
			found = st
		}
	}
	return found
}

// TOTPSecretBase32 encodes a secret the way authenticator apps expect it in
// otpauth:// URIs.
func TOTPSecretBase32(secret []byte) string {
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
}

// encKey returns the key that encrypts TOTP secrets: Options.SecretKey, or
// a random per-instance key created in the database on first use. The
// latter keeps secrets out of the totp table and out of logs, but a full
// database copy holds both; production sets DFSLAB_SECRET_KEY.
func (s *Store) encKey(ctx context.Context) ([]byte, error) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	if s.key != nil {
		return s.key, nil
	}
	k := make([]byte, 32)
	randRead(k)
	if _, err := s.db.Exec(ctx, "INSERT INTO instance_keys (name, key, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
		"totp", k, micros(s.Now())); err != nil {
		return nil, fmt.Errorf("identity: create instance key: %w", err)
	}
	if err := s.db.QueryRow(ctx, "SELECT key FROM instance_keys WHERE name = ?", "totp").Scan(&k); err != nil {
		return nil, fmt.Errorf("identity: load instance key: %w", err)
	}
	if len(k) != 32 {
		return nil, errors.New("identity: instance key has the wrong size")
	}
	s.key = k
	return k, nil
}

func (s *Store) aead(ctx context.Context) (cipher.AEAD, error) {
	k, err := s.encKey(ctx)
	if err != nil {
		return nil, err
	}
	if len(k) != 32 {
		return nil, fmt.Errorf("%w: secret key must be 32 bytes", ErrInvalid)
	}
	b, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// The user id is additional data: a ciphertext copied to another user's
// row does not decrypt.
func totpAD(userID int64) []byte { return []byte("dfslab-totp:" + idStr(userID)) }

func (s *Store) seal(ctx context.Context, userID int64, secret []byte) ([]byte, error) {
	g, err := s.aead(ctx)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, g.NonceSize())
	randRead(nonce)
	return g.Seal(nonce, nonce, secret, totpAD(userID)), nil
}

func (s *Store) open(ctx context.Context, userID int64, box []byte) ([]byte, error) {
	g, err := s.aead(ctx)
	if err != nil {
		return nil, err
	}
	if len(box) < g.NonceSize() {
		return nil, errors.New("identity: TOTP secret is corrupt")
	}
	out, err := g.Open(nil, box[:g.NonceSize()], box[g.NonceSize():], totpAD(userID))
	if err != nil {
		return nil, errors.New("identity: TOTP secret does not decrypt (wrong DFSLAB_SECRET_KEY?)")
	}
	return out, nil
}

// StartTOTP creates a new pending TOTP secret for the user (20 random
// bytes, RFC 4226's recommended size) and returns it so that the caller can
// show the QR code. TOTP stays off until [Store.ConfirmTOTP] succeeds. An
// enabled TOTP must be disabled first.
func (s *Store) StartTOTP(ctx context.Context, userID int64) ([]byte, error) {
	secret := make([]byte, 20)
	randRead(secret)
	if err := s.SetPendingTOTP(ctx, userID, secret); err != nil {
		return nil, err
	}
	return secret, nil
}

// SetPendingTOTP stores secret (encrypted) as the user's pending TOTP
// secret, replacing an earlier pending one. It is refused with ErrConflict
// while TOTP is enabled.
func (s *Store) SetPendingTOTP(ctx context.Context, userID int64, secret []byte) error {
	if len(secret) == 0 {
		return fmt.Errorf("%w: empty TOTP secret", ErrInvalid)
	}
	box, err := s.seal(ctx, userID, secret)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var enabled bool
		err := tx.QueryRow(ctx, "SELECT enabled FROM totp WHERE user_id = ?", userID).Scan(&enabled)
		switch {
		case err == nil && enabled:
			return fmt.Errorf("TOTP already enabled: %w", ErrConflict)
		case err == nil:
			_, err = tx.Exec(ctx, "UPDATE totp SET secret_enc = ?, last_step = 0, created_at = ? WHERE user_id = ?", box, micros(s.Now()), userID)
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.Exec(ctx, "INSERT INTO totp (user_id, secret_enc, enabled, last_step, created_at) VALUES (?, ?, ?, 0, ?)",
				userID, box, false, micros(s.Now()))
			if err != nil && isForeignKey(err) {
				return fmt.Errorf("user %d: %w", userID, ErrNotFound)
			}
		}
		if err != nil {
			return fmt.Errorf("identity: start TOTP: %w", err)
		}
		return s.audit(ctx, tx, audit.Entry{Action: "totp.start", ObjectType: "user", ObjectID: idStr(userID)})
	})
}

// TOTPSecret returns the user's stored TOTP secret (pending or enabled),
// whether it is enabled, and the last accepted time step, for callers that
// check codes themselves (then UseTOTPStep). ErrNotFound if there is none.
func (s *Store) TOTPSecret(ctx context.Context, userID int64) (secret []byte, enabled bool, lastStep int64, err error) {
	var box []byte
	if err := s.db.QueryRow(ctx, "SELECT secret_enc, enabled, last_step FROM totp WHERE user_id = ?", userID).Scan(&box, &enabled, &lastStep); err != nil {
		return nil, false, 0, notFound(err, "TOTP")
	}
	secret, err = s.open(ctx, userID, box)
	return secret, enabled, lastStep, err
}

// UseTOTPStep records that a code of time step was accepted. A step at or
// before the last accepted one is refused with ErrTOTPReused; the
// conditional UPDATE makes two racing uses of one code end with one
// winner. enable confirms a pending secret (ErrTOTPNotEnabled when there is
// none); without it TOTP must already be enabled.
func (s *Store) UseTOTPStep(ctx context.Context, userID, step int64, enable bool) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var enabled bool
		err := tx.QueryRow(ctx, "SELECT enabled FROM totp WHERE user_id = ?", userID).Scan(&enabled)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && enabled == enable) {
			return ErrTOTPNotEnabled
		}
		if err != nil {
			return fmt.Errorf("identity: TOTP: %w", err)
		}
		q := "UPDATE totp SET last_step = ? WHERE user_id = ? AND last_step < ?"
		args := []any{step, userID, step}
		action := "totp.verify"
		if enable {
			q = "UPDATE totp SET last_step = ?, enabled = ?, enabled_at = ? WHERE user_id = ? AND last_step < ?"
			args = []any{step, true, micros(s.Now()), userID, step}
			action = "totp.enable"
		}
		r, err := tx.Exec(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("identity: TOTP: %w", err)
		}
		if rowsAffected(r) != 1 {
			return ErrTOTPReused
		}
		return s.audit(ctx, tx, audit.Entry{Action: action, ObjectType: "user", ObjectID: idStr(userID)})
	})
}

// PendingTOTPSecret returns the secret of a TOTP enrolment that has not been
// confirmed yet (to show the QR code again). Enabled secrets are never
// returned.
func (s *Store) PendingTOTPSecret(ctx context.Context, userID int64) ([]byte, error) {
	var box []byte
	var enabled bool
	if err := s.db.QueryRow(ctx, "SELECT secret_enc, enabled FROM totp WHERE user_id = ?", userID).Scan(&box, &enabled); err != nil {
		return nil, notFound(err, "pending TOTP")
	}
	if enabled {
		return nil, fmt.Errorf("pending TOTP: %w", ErrNotFound)
	}
	return s.open(ctx, userID, box)
}

// TOTP returns the user's TOTP state.
func (s *Store) TOTP(ctx context.Context, userID int64) (TOTPStatus, error) {
	var enabled bool
	var created int64
	var since sql.NullInt64
	err := s.db.QueryRow(ctx, "SELECT enabled, created_at, enabled_at FROM totp WHERE user_id = ?", userID).Scan(&enabled, &created, &since)
	if errors.Is(err, sql.ErrNoRows) {
		return TOTPStatus{}, nil
	}
	if err != nil {
		return TOTPStatus{}, fmt.Errorf("identity: TOTP status: %w", err)
	}
	if enabled {
		return TOTPStatus{Enabled: true, Since: fromNull(since)}, nil
	}
	return TOTPStatus{Pending: true, Since: fromMicros(created)}, nil
}

// ConfirmTOTP enables a pending TOTP secret when code is right. The step of
// that code counts as used.
func (s *Store) ConfirmTOTP(ctx context.Context, userID int64, code string) error {
	return s.checkTOTP(ctx, userID, code, true)
}

// VerifyTOTP checks a code against the enabled secret. A code (time step)
// that was already accepted once is refused with ErrTOTPReused, also when
// two requests race. Failures are audited.
func (s *Store) VerifyTOTP(ctx context.Context, userID int64, code string) error {
	return s.checkTOTP(ctx, userID, code, false)
}

func (s *Store) checkTOTP(ctx context.Context, userID int64, code string, confirm bool) error {
	secret, enabled, last, err := s.TOTPSecret(ctx, userID)
	if errors.Is(err, ErrNotFound) || (err == nil && enabled == confirm) {
		return ErrTOTPNotEnabled
	}
	if err != nil {
		return err
	}
	step := matchTOTP(secret, code, s.Now())
	switch {
	case step == 0:
		err = ErrTOTPInvalid
	case step <= last:
		err = ErrTOTPReused
	default:
		err = s.UseTOTPStep(ctx, userID, step, confirm)
	}
	if errors.Is(err, ErrTOTPInvalid) || errors.Is(err, ErrTOTPReused) {
		action := "totp.fail"
		if errors.Is(err, ErrTOTPReused) {
			action = "totp.reuse"
		}
		if _, aerr := s.record(ctx, audit.Entry{Action: action, ObjectType: "user", ObjectID: idStr(userID)}); aerr != nil {
			return errors.Join(err, aerr)
		}
	}
	return err
}

func (s *Store) record(ctx context.Context, e audit.Entry) (audit.Entry, error) {
	e.Time = s.Now()
	return audit.Record(ctx, s.db, e)
}

// DisableTOTP turns TOTP off and deletes its secret. It is refused with
// ErrForbidden while an organisation of the user requires TOTP.
func (s *Store) DisableTOTP(ctx context.Context, userID int64) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var req int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM memberships m JOIN orgs o ON o.id = m.org_id WHERE m.user_id = ? AND o.require_totp = ?",
			userID, true).Scan(&req); err != nil {
			return fmt.Errorf("identity: disable TOTP: %w", err)
		}
		if req > 0 {
			return fmt.Errorf("an organisation of the user requires TOTP: %w", ErrForbidden)
		}
		r, err := tx.Exec(ctx, "DELETE FROM totp WHERE user_id = ?", userID)
		if err != nil {
			return fmt.Errorf("identity: disable TOTP: %w", err)
		}
		if rowsAffected(r) == 0 {
			return ErrTOTPNotEnabled
		}
		return s.audit(ctx, tx, audit.Entry{Action: "totp.disable", ObjectType: "user", ObjectID: idStr(userID)})
	})
}

// ---- recovery codes ----------------------------------------------------------

// RecoveryCodeCount is how many codes a user gets at a time.
const RecoveryCodeCount = 10

// Recovery codes use an alphabet without look-alikes (no 0/o, 1/l/i).
const recoveryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

func newRecoveryCode() string {
	// 12 characters from 31: ~59 bits, grouped "xxxx-xxxx-xxxx" for typing.
	b := make([]byte, 12)
	randRead(b)
	var sb strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		// Bias of 256 mod 31 is negligible for codes that are single use
		// and rate limited.
		sb.WriteByte(recoveryAlphabet[int(c)%len(recoveryAlphabet)])
	}
	return sb.String()
}

func hashRecoveryCode(userID int64, code string) []byte {
	c := strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(code)))
	return HashToken("dfslab-recovery:" + idStr(userID) + ":" + c)
}

// NewRecoveryCodes replaces the user's recovery codes with fresh ones and
// returns them: the only time they exist in clear.
func (s *Store) NewRecoveryCodes(ctx context.Context, userID int64) ([]string, error) {
	codes := make([]string, RecoveryCodeCount)
	hashes := make([][]byte, RecoveryCodeCount)
	for i := range codes {
		codes[i] = newRecoveryCode()
		hashes[i] = hashRecoveryCode(userID, codes[i])
	}
	if err := s.ReplaceRecoveryCodeHashes(ctx, userID, hashes); err != nil {
		return nil, err
	}
	return codes, nil
}

// ReplaceRecoveryCodeHashes replaces the user's recovery codes with the
// given hashes, for callers that generate and hash codes themselves.
func (s *Store) ReplaceRecoveryCodeHashes(ctx context.Context, userID int64, hashes [][]byte) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM recovery_codes WHERE user_id = ?", userID); err != nil {
			return fmt.Errorf("identity: recovery codes: %w", err)
		}
		now := micros(s.Now())
		for _, h := range hashes {
			if len(h) < 16 {
				return fmt.Errorf("%w: recovery code hash too short", ErrInvalid)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES (?, ?, ?)", userID, h, now); err != nil {
				if isForeignKey(err) {
					return fmt.Errorf("user %d: %w", userID, ErrNotFound)
				}
				return fmt.Errorf("identity: recovery codes: %w", err)
			}
		}
		return s.audit(ctx, tx, audit.Entry{Action: "recovery_codes.generate", ObjectType: "user", ObjectID: idStr(userID),
			Details: map[string]any{"count": len(hashes)}})
	})
}

// UseRecoveryCode spends one recovery code made by NewRecoveryCodes. A
// wrong or already used code fails with ErrRecoveryInvalid (and is audited).
func (s *Store) UseRecoveryCode(ctx context.Context, userID int64, code string) error {
	return s.UseRecoveryCodeHash(ctx, userID, hashRecoveryCode(userID, code))
}

// UseRecoveryCodeHash spends the recovery code with this hash.
func (s *Store) UseRecoveryCodeHash(ctx context.Context, userID int64, hash []byte) error {
	bad := false
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		r, err := tx.Exec(ctx, "UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL",
			micros(s.Now()), userID, hash)
		if err != nil {
			return fmt.Errorf("identity: recovery code: %w", err)
		}
		if rowsAffected(r) != 1 {
			bad = true
			return ErrRecoveryInvalid
		}
		return s.audit(ctx, tx, audit.Entry{Action: "recovery_code.use", ObjectType: "user", ObjectID: idStr(userID)})
	})
	if bad {
		if _, aerr := s.record(ctx, audit.Entry{Action: "recovery_code.fail", ObjectType: "user", ObjectID: idStr(userID)}); aerr != nil {
			return errors.Join(err, aerr)
		}
	}
	return err
}

// RecoveryCodesLeft counts the user's unused recovery codes.
func (s *Store) RecoveryCodesLeft(ctx context.Context, userID int64) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL", userID).Scan(&n)
	return n, err
}

// ParseSecretKey reads a 32-byte key given as 64 hex digits or as base64
// (standard or URL alphabet, padded or not), e.g. from DFSLAB_SECRET_KEY
// (generate one with `openssl rand -base64 32`). Changing the key makes
// stored TOTP secrets unreadable: users then enrol TOTP again.
func ParseSecretKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 64 {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, fmt.Errorf("%w: secret key must be 32 bytes as 64 hex digits or base64", ErrInvalid)
}
