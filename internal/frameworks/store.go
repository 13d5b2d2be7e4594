// Package frameworks keeps other security frameworks on the platform (a
// central bank's own cyber guideline, read by internal/catalog/framework)
// and the mappings between their controls and the catalogue's
// recommendations: platform administrators import and edit, members
// browse, and each recommendation page lists the controls that map to it.
//
// Every write is audited inside its own transaction (internal/audit).
package frameworks

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/catalog/framework"
	"github.com/dfslab/dfslab/internal/db"
)

// Errors of the store; test with errors.Is.
var (
	ErrNotFound = errors.New("frameworks: not found")
	// ErrInvalid: the input was refused; the error is an *InputError
	// whose message can be shown to the user.
	ErrInvalid = errors.New("frameworks: invalid input")
)

// InputError explains why input was refused, in words for the user.
type InputError struct{ Msg string }

func (e *InputError) Error() string        { return "frameworks: " + e.Msg }
func (e *InputError) Is(target error) bool { return target == ErrInvalid }

// MaxNote bounds the note of a mapping edited on the platform.
const MaxNote = 2000

// Framework is one imported version of a framework.
type Framework struct {
	ID         int64
	Key        string // the framework's id in the file
	Revision   int    // 1 for the first import of Key, then 2, 3, …
	Title      string
	Version    string
	Publisher  string
	Format     string
	Filename   string
	SHA256     string
	ImportedBy int64 // user; 0 for the command line
	// ImporterName is the display name of ImportedBy ("" for the command
	// line).
	ImporterName string
	ImportedAt   time.Time
	Controls     int // number of controls
	Mappings     int // number of mappings
}

// Control is a control of an imported framework with its mappings.
type Control struct {
	ID          int64
	FrameworkID int64
	Key         string // the control's id in the framework
	Title       string
	Text        string
	Group       string
	Mappings    []Mapping
}

// Mapping links a control to a recommendation.
type Mapping struct {
	ID        int64
	ControlID int64
	RecID     string
	Relation  framework.Relation
	Note      string
	UpdatedBy int64
	UpdatedAt time.Time
}

// MappedControl is a control, with its framework, that maps to a given
// recommendation. Framework.Controls and Framework.Mappings are not set.
type MappedControl struct {
	Framework Framework
	Control   Control // without Mappings
	Mapping   Mapping
}

// Store reads and writes frameworks.
type Store struct {
	db    *db.DB
	known framework.Known
	now   func() time.Time
}

// NewStore returns a store over d. known tells which recommendation IDs
// exist, for mappings edited on the platform; now is the clock (nil:
// time.Now).
func NewStore(d *db.DB, known framework.Known, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: d, known: known, now: now}
}

// Import stores f as the next revision of its framework, with its
// controls and mappings, in one audited transaction. data is the file f
// was read from (its hash is kept), filename its name as uploaded.
func (s *Store) Import(ctx context.Context, f *framework.Framework, data []byte, filename string) (Framework, error) {
	if len(filename) > 200 || !utf8.ValidString(filename) {
		filename = ""
	}
	sum := sha256.Sum256(data)
	out := Framework{Key: f.ID, Title: f.Title, Version: f.Version, Publisher: f.Publisher, Format: f.Format,
		Filename: filename, SHA256: hex.EncodeToString(sum[:]), ImportedBy: audit.ActorFrom(ctx).UserID,
		ImportedAt: time.UnixMicro(s.now().UnixMicro()).UTC(), Controls: len(f.Controls), Mappings: f.MappingCount()}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(revision), 0) + 1 FROM frameworks WHERE key = ?", f.ID).Scan(&out.Revision); err != nil {
			return fmt.Errorf("frameworks: next revision: %w", err)
		}
		err := tx.QueryRow(ctx, `INSERT INTO frameworks (key, revision, title, version, publisher, format, filename, sha256, imported_by, imported_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			out.Key, out.Revision, out.Title, out.Version, out.Publisher, out.Format, out.Filename, out.SHA256,
			nullID(out.ImportedBy), out.ImportedAt.UnixMicro()).Scan(&out.ID)
		if err != nil {
			return fmt.Errorf("frameworks: insert framework: %w", err)
		}
		for i, c := range f.Controls {
			var cid int64
			err := tx.QueryRow(ctx, `INSERT INTO framework_controls (framework_id, position, control_key, title, body, grp)
				VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, out.ID, i, c.ID, c.Title, c.Text, c.Group).Scan(&cid)
			if err != nil {
				return fmt.Errorf("frameworks: insert control %s: %w", c.ID, err)
			}
			for _, m := range c.Mappings {
				if _, err := tx.Exec(ctx, `INSERT INTO framework_mappings (control_id, rec_id, relation, note, updated_by, updated_at)
					VALUES (?, ?, ?, ?, ?, ?)`, cid, m.RecID, string(m.Relation), m.Note, nullID(out.ImportedBy), out.ImportedAt.UnixMicro()); err != nil {
					return fmt.Errorf("frameworks: insert mapping %s → %s: %w", c.ID, m.RecID, err)
				}
			}
		}
		_, err = audit.Append(ctx, tx, audit.Entry{Time: out.ImportedAt, Action: "framework.import", ObjectType: "framework",
			ObjectID: fmt.Sprint(out.ID), Details: map[string]any{"key": out.Key, "revision": out.Revision, "version": out.Version,
				"format": out.Format, "sha256": out.SHA256, "controls": out.Controls, "mappings": out.Mappings}})
		return err
	})
	if err != nil {
		return Framework{}, err
	}
	return out, nil
}

const frameworkCols = `f.id, f.key, f.revision, f.title, f.version, f.publisher, f.format, f.filename, f.sha256,
	COALESCE(f.imported_by, 0), COALESCE((SELECT u.display_name FROM users u WHERE u.id = f.imported_by), ''), f.imported_at,
	(SELECT COUNT(*) FROM framework_controls c WHERE c.framework_id = f.id),
	(SELECT COUNT(*) FROM framework_mappings m JOIN framework_controls c ON c.id = m.control_id WHERE c.framework_id = f.id)`

func scanFramework(sc interface{ Scan(...any) error }) (Framework, error) {
	var f Framework
	var at int64
	err := sc.Scan(&f.ID, &f.Key, &f.Revision, &f.Title, &f.Version, &f.Publisher, &f.Format, &f.Filename, &f.SHA256,
		&f.ImportedBy, &f.ImporterName, &at, &f.Controls, &f.Mappings)
	f.ImportedAt = time.UnixMicro(at).UTC()
	return f, err
}

func (s *Store) frameworks(ctx context.Context, where string, args ...any) ([]Framework, error) {
	rows, err := s.db.Query(ctx, "SELECT "+frameworkCols+" FROM frameworks f "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("frameworks: list: %w", err)
	}
	defer rows.Close()
	var out []Framework
	for rows.Next() {
		f, err := scanFramework(rows)
		if err != nil {
			return nil, fmt.Errorf("frameworks: list: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// latest restricts a query over frameworks f to the newest revision of
// each key.
const latest = `f.revision = (SELECT MAX(revision) FROM frameworks g WHERE g.key = f.key)`

// List returns the newest revision of every framework, by title.
func (s *Store) List(ctx context.Context) ([]Framework, error) {
	return s.frameworks(ctx, "WHERE "+latest+" ORDER BY f.title, f.key")
}

// Revisions returns every imported revision of the framework key, newest
// first.
func (s *Store) Revisions(ctx context.Context, key string) ([]Framework, error) {
	return s.frameworks(ctx, "WHERE f.key = ? ORDER BY f.revision DESC", key)
}

// Framework returns one imported revision.
func (s *Store) Framework(ctx context.Context, id int64) (Framework, error) {
	fs, err := s.frameworks(ctx, "WHERE f.id = ?", id)
	if err != nil {
		return Framework{}, err
	}
	if len(fs) == 0 {
		return Framework{}, ErrNotFound
	}
	return fs[0], nil
}

// Controls returns the controls of a framework revision in file order,
// with their mappings.
func (s *Store) Controls(ctx context.Context, frameworkID int64) ([]Control, error) {
	return s.controls(ctx, "c.framework_id = ?", frameworkID)
}

// Control returns one control with its mappings.
func (s *Store) Control(ctx context.Context, id int64) (Control, error) {
	cs, err := s.controls(ctx, "c.id = ?", id)
	if err != nil {
		return Control{}, err
	}
	if len(cs) == 0 {
		return Control{}, ErrNotFound
	}
	return cs[0], nil
}

func (s *Store) controls(ctx context.Context, where string, arg any) ([]Control, error) {
	rows, err := s.db.Query(ctx, `SELECT c.id, c.framework_id, c.control_key, c.title, c.body, c.grp,
		COALESCE(m.id, 0), COALESCE(m.rec_id, ''), COALESCE(m.relation, ''), COALESCE(m.note, ''), COALESCE(m.updated_by, 0), COALESCE(m.updated_at, 0)
		FROM framework_controls c LEFT JOIN framework_mappings m ON m.control_id = c.id
		WHERE `+where+` ORDER BY c.framework_id, c.position, m.rec_id`, arg)
	if err != nil {
		return nil, fmt.Errorf("frameworks: controls: %w", err)
	}
	defer rows.Close()
	var out []Control
	for rows.Next() {
		var c Control
		var m Mapping
		var rel string
		var at int64
		if err := rows.Scan(&c.ID, &c.FrameworkID, &c.Key, &c.Title, &c.Text, &c.Group,
			&m.ID, &m.RecID, &rel, &m.Note, &m.UpdatedBy, &at); err != nil {
			return nil, fmt.Errorf("frameworks: controls: %w", err)
		}
		if n := len(out); n == 0 || out[n-1].ID != c.ID {
			out = append(out, c)
		}
		if m.ID != 0 {
			m.ControlID, m.Relation, m.UpdatedAt = c.ID, framework.Relation(rel), time.UnixMicro(at).UTC()
			last := &out[len(out)-1]
			last.Mappings = append(last.Mappings, m)
		}
	}
	return out, rows.Err()
}

// ForRecommendation returns the controls of the newest revision of every
// framework that map to the recommendation recID.
func (s *Store) ForRecommendation(ctx context.Context, recID string) ([]MappedControl, error) {
	// No control and mapping counts here: they would be computed for
	// every row of every recommendation page.
	rows, err := s.db.Query(ctx, `SELECT f.id, f.key, f.revision, f.title, f.version, f.publisher, f.format, f.filename, f.sha256,
		COALESCE(f.imported_by, 0), f.imported_at,
		c.id, c.control_key, c.title, c.body, c.grp, m.id, m.relation, m.note
		FROM framework_mappings m
		JOIN framework_controls c ON c.id = m.control_id
		JOIN frameworks f ON f.id = c.framework_id
		WHERE m.rec_id = ? AND `+latest+`
		ORDER BY f.title, f.key, c.position`, recID)
	if err != nil {
		return nil, fmt.Errorf("frameworks: controls for %s: %w", recID, err)
	}
	defer rows.Close()
	var out []MappedControl
	for rows.Next() {
		var mc MappedControl
		var at int64
		var rel string
		f := &mc.Framework
		if err := rows.Scan(&f.ID, &f.Key, &f.Revision, &f.Title, &f.Version, &f.Publisher, &f.Format, &f.Filename, &f.SHA256,
			&f.ImportedBy, &at,
			&mc.Control.ID, &mc.Control.Key, &mc.Control.Title, &mc.Control.Text, &mc.Control.Group, &mc.Mapping.ID, &rel, &mc.Mapping.Note); err != nil {
			return nil, fmt.Errorf("frameworks: controls for %s: %w", recID, err)
		}
		f.ImportedAt = time.UnixMicro(at).UTC()
		mc.Control.FrameworkID = f.ID
		mc.Mapping.ControlID, mc.Mapping.RecID, mc.Mapping.Relation = mc.Control.ID, recID, framework.Relation(rel)
		out = append(out, mc)
	}
	return out, rows.Err()
}

// SetMapping maps a control to a recommendation, or changes the relation
// and note of the existing mapping between them.
func (s *Store) SetMapping(ctx context.Context, controlID int64, recID string, rel framework.Relation, note string) (Mapping, error) {
	recID = strings.ToUpper(strings.TrimSpace(recID))
	note = strings.TrimSpace(note)
	switch {
	case s.known == nil || !s.known(recID):
		return Mapping{}, &InputError{Msg: fmt.Sprintf("there is no recommendation %q", recID)}
	case !rel.Valid():
		return Mapping{}, &InputError{Msg: fmt.Sprintf("relation %q is not one of equivalent, subset, superset, related", rel)}
	case utf8.RuneCountInString(note) > MaxNote || !utf8.ValidString(note):
		return Mapping{}, &InputError{Msg: fmt.Sprintf("the note is longer than %d characters", MaxNote)}
	}
	m := Mapping{ControlID: controlID, RecID: recID, Relation: rel, Note: note, UpdatedBy: audit.ActorFrom(ctx).UserID,
		UpdatedAt: time.UnixMicro(s.now().UnixMicro()).UTC()}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var fid int64
		var ckey string
		err := tx.QueryRow(ctx, "SELECT framework_id, control_key FROM framework_controls WHERE id = ?", controlID).Scan(&fid, &ckey)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("frameworks: control: %w", err)
		}
		action := "framework.mapping.update"
		err = tx.QueryRow(ctx, "SELECT id FROM framework_mappings WHERE control_id = ? AND rec_id = ?", controlID, recID).Scan(&m.ID)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			action = "framework.mapping.create"
			var n int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM framework_mappings WHERE control_id = ?", controlID).Scan(&n); err != nil {
				return fmt.Errorf("frameworks: count mappings: %w", err)
			}
			if n >= framework.MaxMappings {
				return &InputError{Msg: fmt.Sprintf("a control maps to at most %d recommendations", framework.MaxMappings)}
			}
			err = tx.QueryRow(ctx, `INSERT INTO framework_mappings (control_id, rec_id, relation, note, updated_by, updated_at)
				VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, controlID, recID, string(rel), note, nullID(m.UpdatedBy), m.UpdatedAt.UnixMicro()).Scan(&m.ID)
		case err == nil:
			_, err = tx.Exec(ctx, "UPDATE framework_mappings SET relation = ?, note = ?, updated_by = ?, updated_at = ? WHERE id = ?",
				string(rel), note, nullID(m.UpdatedBy), m.UpdatedAt.UnixMicro(), m.ID)
		}
		if err != nil {
			return fmt.Errorf("frameworks: write mapping: %w", err)
		}
		_, err = audit.Append(ctx, tx, audit.Entry{Time: m.UpdatedAt, Action: action, ObjectType: "framework_mapping",
			ObjectID: fmt.Sprint(m.ID), Details: map[string]any{"framework_id": fid, "control": ckey, "rec": recID, "relation": string(rel)}})
		return err
	})
	if err != nil {
		return Mapping{}, err
	}
	return m, nil
}

// DeleteMapping removes a mapping and returns the control it belonged to.
func (s *Store) DeleteMapping(ctx context.Context, id int64) (controlID int64, err error) {
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var fid int64
		var ckey, rec string
		err := tx.QueryRow(ctx, `SELECT m.control_id, c.framework_id, c.control_key, m.rec_id FROM framework_mappings m
			JOIN framework_controls c ON c.id = m.control_id WHERE m.id = ?`, id).Scan(&controlID, &fid, &ckey, &rec)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("frameworks: mapping: %w", err)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM framework_mappings WHERE id = ?", id); err != nil {
			return fmt.Errorf("frameworks: delete mapping: %w", err)
		}
		_, err = audit.Append(ctx, tx, audit.Entry{Time: s.now(), Action: "framework.mapping.delete", ObjectType: "framework_mapping",
			ObjectID: fmt.Sprint(id), Details: map[string]any{"framework_id": fid, "control": ckey, "rec": rec}})
		return err
	})
	return controlID, err
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
