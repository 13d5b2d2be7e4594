package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
)

// Defaults of [Options].
const (
	DefaultSessionIdle     = 30 * time.Minute
	DefaultSessionAbsolute = 12 * time.Hour
	DefaultEnrolLinkTTL    = 24 * time.Hour
	DefaultInvitationTTL   = 7 * 24 * time.Hour
	DefaultRecoveryLinkTTL = 24 * time.Hour
	DefaultTouchEvery      = time.Minute
	StepUpWindow           = 5 * time.Minute // how fresh a verification sensitive actions need
)

// Options configure a [Store]. Zero fields take the defaults above.
type Options struct {
	Now             func() time.Time // clock; tests move it
	SecretKey       []byte           // 32 bytes encrypting TOTP secrets; nil: a per-instance key kept in the database
	SessionIdle     time.Duration
	SessionAbsolute time.Duration
	EnrolLinkTTL    time.Duration
	InvitationTTL   time.Duration
	RecoveryLinkTTL time.Duration
	// TouchEvery bounds how often a session's or token's last-used time is
	// written: the lookup on every request stays a read most of the time.
	TouchEvery time.Duration
	// Notifier tells people in the app about invitations, answers to them
	// and account recovery; nil tells no one (the audit log still records
	// everything).
	Notifier Notifier
	// Logger records notifications that could not be delivered; nil
	// discards.
	Logger *slog.Logger
}

// Notifier delivers in-app notifications (internal/collab's store is one):
// kind is a short lower-case word, text one line, link a path on this site.
type Notifier interface {
	Notify(ctx context.Context, userIDs []int64, kind, text, link string) error
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

// notify delivers a notification after the change it reports committed. A
// failure is logged, not returned: the change stands and its audit entry
// is the record; the notification only points people at it.
func (s *Store) notify(ctx context.Context, userIDs []int64, kind, text, link string) {
	if s.opts.Notifier == nil || len(userIDs) == 0 {
		return
	}
	if err := s.opts.Notifier.Notify(ctx, userIDs, kind, text, link); err != nil {
		s.opts.logger().ErrorContext(ctx, "notify", "kind", kind, "users", len(userIDs), "err", err)
	}
}

// Store is the identity store. Every method that changes data records an
// audit entry in the same transaction; the actor comes from the context
// (audit.WithActor).
type Store struct {
	db   *db.DB
	opts Options

	keyMu sync.Mutex
	key   []byte // TOTP encryption key, loaded on first use

	people peopleCache // People, per organisation
}

// hotRow runs a per-request single-row query. db.DB keeps it prepared.
func (s *Store) hotRow(ctx context.Context, q string, args ...any) *sql.Row {
	return s.db.QueryRow(ctx, q, args...)
}

// hotRows runs a per-request query. db.DB keeps it prepared.
func (s *Store) hotRows(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return s.db.Query(ctx, q, args...)
}

// NewStore returns a store on d.
func NewStore(d *db.DB, o Options) *Store {
	if o.Now == nil {
		o.Now = time.Now
	}
	def := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	def(&o.SessionIdle, DefaultSessionIdle)
	def(&o.SessionAbsolute, DefaultSessionAbsolute)
	def(&o.EnrolLinkTTL, DefaultEnrolLinkTTL)
	def(&o.InvitationTTL, DefaultInvitationTTL)
	def(&o.RecoveryLinkTTL, DefaultRecoveryLinkTTL)
	def(&o.TouchEvery, DefaultTouchEvery)
	s := &Store{db: d, opts: o}
	if len(o.SecretKey) > 0 {
		s.key = o.SecretKey
	}
	return s
}

// DB returns the database the store works on.
func (s *Store) DB() *db.DB { return s.db }

// Now is the store's clock, truncated to what the database keeps.
func (s *Store) Now() time.Time { return time.UnixMicro(s.opts.Now().UnixMicro()).UTC() }

// Options returns the effective options (with defaults filled in).
func (s *Store) Options() Options { return s.opts }

func (s *Store) audit(ctx context.Context, tx *db.Tx, e audit.Entry) error {
	e.Time = s.Now()
	_, err := audit.Append(ctx, tx, e)
	return err
}

// ---- helpers ---------------------------------------------------------------

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func fromNull(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func idStr(id int64) string { return strconv.FormatInt(id, 10) }

// newToken returns a random URL-safe secret with 256 bits of entropy.
func newToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// HashToken is how the store hashes link, session and API token secrets
// (SHA-256): these carry at least 160 random bits, so a fast hash is enough.
func HashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return fmt.Errorf("identity: %s: %w", what, err)
}

func normEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

func validEmail(e string) bool {
	at := strings.IndexByte(e, '@')
	return at > 0 && at < len(e)-1 && len(e) <= 254 && !strings.ContainsAny(e, " \t\r\n<>\"") &&
		strings.Count(e, "@") == 1
}

// cleanName accepts 1–max bytes of valid UTF-8 without control
// characters (C0, DEL, C1): names reach lists, logs and audit entries.
func cleanName(s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > max || !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || (r >= 0x7f && r <= 0x9f) }) {
		return "", fmt.Errorf("%w: name must be 1–%d printable characters", ErrInvalid, max)
	}
	return s, nil
}

func rowsAffected(r sql.Result) int64 {
	n, _ := r.RowsAffected()
	return n
}

func randRead(b []byte) { rand.Read(b) } // crypto/rand.Read never fails (Go ≥ 1.24)
