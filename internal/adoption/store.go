// Package adoption turns the recommendations catalogue into national
// baselines and follows their implementation: the regulators of a
// jurisdiction (telecom regulator and central bank, as co-owners) decide
// per recommendation and publish numbered, immutable versions; each DFS
// provider and mobile network operator of that jurisdiction tracks every
// applicable item with owner, target date, evidence and history; and
// submits signed-off snapshots, which are all a regulator ever sees of a
// provider (the sector view).
package adoption

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/blob"
	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/identity"
)

// Errors of the store; handlers map them to statuses with errors.Is.
var (
	ErrNotFound = errors.New("adoption: not found")
	ErrInvalid  = errors.New("adoption: invalid input")
	// ErrStale: the item changed since the caller read it (see StaleError).
	ErrStale = errors.New("adoption: changed by someone else")
	// ErrIncomplete: the draft cannot be published yet.
	ErrIncomplete = errors.New("adoption: draft incomplete")
	// ErrUnchanged: the draft says exactly what the latest published
	// version says; publishing it would only add a number.
	ErrUnchanged = errors.New("adoption: nothing changed since the latest version")
	// ErrNoBaseline: the jurisdiction has no published baseline.
	ErrNoBaseline = errors.New("adoption: no published baseline")
	// ErrWrongOrg: the organisation's type has no part in this (a
	// provider publishing a baseline, a regulator tracking items).
	ErrWrongOrg = errors.New("adoption: not for this kind of organisation")
)

// InvalidError says which field of a form is wrong and why, in words for
// the person who filled it in.
type InvalidError struct{ Field, Problem string }

func (e *InvalidError) Error() string   { return "adoption: " + e.Field + ": " + e.Problem }
func (e *InvalidError) Is(t error) bool { return t == ErrInvalid }

func invalid(field, problem string) error { return &InvalidError{field, problem} }

// StaleError is a refused write: the item is at Version, last changed by
// By at At.
type StaleError struct {
	By      string
	At      time.Time
	Version int
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("This item was changed by %s at %s after you opened it. Reload the page to see the current state, then apply your change again.",
		e.By, e.At.UTC().Format("2006-01-02 15:04 UTC"))
}
func (e *StaleError) Is(t error) bool { return t == ErrStale }

// Org is an organisation as this package sees it.
type Org struct {
	ID       int64
	Name     string
	Type     identity.OrgType
	Country  string
	Licensee Licensee // decides the baseline items that apply to it
}

// IsRegulator reports whether the organisation builds baselines.
func (o Org) IsRegulator() bool {
	return o.Type == identity.OrgTelecomRegulator || o.Type == identity.OrgCentralBank
}

// IsProvider reports whether the organisation implements baselines and
// reports on them to its regulators: any licensee but a regulator.
func (o Org) IsProvider() bool {
	return o.Licensee != identity.LicenseeNone && o.Licensee != identity.LicenseeRegulator
}

// Tracks reports whether the organisation tracks baseline items: the
// providers, and the regulators for the items they must act on
// themselves (their commitments, which providers see).
func (o Org) Tracks() bool { return o.Licensee != identity.LicenseeNone }

// providerLicensees is the SQL list of the licensee types that report
// (IsProvider).
const providerLicensees = "('mno', 'dfs_provider', 'bank', 'payment_switch', 'third_party')"

// Store keeps baselines, tracking and submissions. Every write runs in one
// transaction with its audit entry (actor from audit.WithActor).
type Store struct {
	db    *db.DB
	blobs *blob.Store
	cat   *catalog.Catalog
	src   CatalogSource // nil: new versions take their texts from cat
	now   func() time.Time
}

// NewStore returns the store over d (migrated) for catalogue cat; now is
// the clock (nil: time.Now).
func NewStore(d *db.DB, cat *catalog.Catalog, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: d, blobs: blob.NewStore(d, now), cat: cat, now: now}
}

// Catalog returns the catalogue the store works with.
func (s *Store) Catalog() *catalog.Catalog { return s.cat }

func (s *Store) nowUTC() time.Time { return time.UnixMicro(s.now().UnixMicro()).UTC() }

// today is the date the overdue rule compares target dates with.
func (s *Store) today() string { return s.now().UTC().Format(time.DateOnly) }

// Org loads an organisation.
func (s *Store) Org(ctx context.Context, id int64) (Org, error) {
	var o Org
	err := s.db.QueryRow(ctx, "SELECT id, name, type, country, licensee_type FROM orgs WHERE id = ?", id).Scan(&o.ID, &o.Name, &o.Type, &o.Country, &o.Licensee)
	if errors.Is(err, sql.ErrNoRows) {
		return Org{}, ErrNotFound
	}
	if err != nil {
		return Org{}, fmt.Errorf("adoption: org: %w", err)
	}
	return o, nil
}

// Member is a person who can own items.
type Member struct {
	ID   int64
	Name string
}

// Members lists the active members of an organisation (item owners).
func (s *Store) Members(ctx context.Context, orgID int64) ([]Member, error) {
	rows, err := s.db.Query(ctx, `SELECT u.id, u.display_name, COALESCE(u.email, '') FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.org_id = ? AND u.active ORDER BY u.display_name, u.email`, orgID)
	if err != nil {
		return nil, fmt.Errorf("adoption: members: %w", err)
	}
	defer rows.Close()
	var out []Member
	for rows.Next() {
		var m Member
		var dn, em string
		if err := rows.Scan(&m.ID, &dn, &em); err != nil {
			return nil, err
		}
		m.Name = personName(dn, em)
		out = append(out, m)
	}
	return out, rows.Err()
}

func personName(display, email string) string {
	if display != "" {
		return display
	}
	if email != "" {
		return email
	}
	return "a former user"
}

// userName is the display name of user id, for history and stale errors.
func userName(ctx context.Context, q db.Querier, id sql.NullInt64) string {
	if !id.Valid {
		return "the system"
	}
	var dn, em string
	if err := q.QueryRow(ctx, "SELECT display_name, COALESCE(email, '') FROM users WHERE id = ?", id.Int64).Scan(&dn, &em); err != nil {
		return "a former user"
	}
	return personName(dn, em)
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func idStr(id int64) string { return fmt.Sprint(id) }

// checkText trims s and refuses it, naming the limit, when it is longer
// than max characters: text someone wrote is never cut short unseen.
// what names the field in the message ("The reason").
func checkText(field, what, s string, max int) (string, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if n := utf8.RuneCountInString(s); n > max {
		return s, invalid(field, fmt.Sprintf("%s is %d characters long; the limit is %d. Shorten it and save again; nothing was saved.", what, n, max))
	}
	return s, nil
}

// cleanText trims s and bounds its length (in bytes, at a rune boundary);
// for names the platform derives (file names), never for text people write.
func cleanText(s string, max int) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if len(s) <= max {
		return s
	}
	for max > 0 && !utf8RuneStart(s[max]) {
		max--
	}
	return s[:max]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// appendAudit writes the audit entry of a write inside its transaction.
func appendAudit(ctx context.Context, tx *db.Tx, orgID int64, action, objType, objID string, details map[string]any) error {
	_, err := audit.Append(ctx, tx, audit.Entry{OrgID: orgID, Action: action, ObjectType: objType, ObjectID: objID, Details: details})
	return err
}

// actorID is the user acting in ctx (0: none).
func actorID(ctx context.Context) int64 { return audit.ActorFrom(ctx).UserID }
