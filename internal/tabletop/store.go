package tabletop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
)

// Errors of the store; handlers map them to statuses with errors.Is.
var (
	ErrNotFound = errors.New("tabletop: not found")
	ErrInvalid  = errors.New("tabletop: invalid input")
	// ErrStale refuses a save based on a revision someone else changed
	// since (409: the page keeps the text typed, nothing is overwritten).
	ErrStale = errors.New("tabletop: changed by someone else meanwhile")
	// ErrConflict refuses a second scenario with the same id and version
	// in one organisation's library.
	ErrConflict = errors.New("tabletop: exists already")
)

// Store keeps the organisations' scenario libraries.
type Store struct {
	db      *db.DB
	refs    Refs
	now     func() time.Time
	builtin []*Scenario
	// changed is told, after the commit, of every exercise whose live
	// events changed (set once by NewHub, before any request).
	changed func(exerciseID int64)
	// scenarios holds the parsed scenario of each exercise: every view of
	// an exercise reads it, a live exercise's pages dozens of times a
	// minute, and parsing the YAML was a fifth of a page's time.
	scenarios scenarioCache
}

// scenarioCache maps an exercise to its parsed scenario. An exercise's
// scenario text never changes after its creation, so the ID is the key;
// the cache is emptied when it holds maxCachedScenarios, which keeps it
// bounded without bookkeeping.
type scenarioCache struct {
	mu sync.Mutex
	m  map[int64]*Scenario
}

const maxCachedScenarios = 512

// get returns the scenario of exercise id, parsing src when it is not
// cached. Callers only read the scenario.
func (c *scenarioCache) get(id int64, src string) (*Scenario, error) {
	c.mu.Lock()
	sc := c.m[id]
	c.mu.Unlock()
	if sc != nil {
		return sc, nil
	}
	sc, err := ParseScenario([]byte(src), Refs{})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedScenarios {
		c.m = make(map[int64]*Scenario)
	}
	c.m[id] = sc
	c.mu.Unlock()
	return sc, nil
}

// NewStore returns a store on d; refs checks the links of imported and
// edited scenarios.
func NewStore(d *db.DB, refs Refs, now func() time.Time) (*Store, error) {
	if now == nil {
		now = time.Now
	}
	b, err := BuiltinScenarios(refs)
	if err != nil {
		return nil, err
	}
	return &Store{db: d, refs: refs, now: now, builtin: b}, nil
}

func (s *Store) nowUTC() time.Time { return time.UnixMicro(s.now().UnixMicro()).UTC() }

func appendAudit(ctx context.Context, tx *db.Tx, orgID int64, action, objType, objID string, details map[string]any, concerned ...int64) error {
	_, err := audit.Append(ctx, tx, audit.Entry{OrgID: orgID, Action: action, ObjectType: objType, ObjectID: objID,
		Details: details, Concerned: concerned})
	return err
}

// userOf is the signed-in person acting (0: none).
func userOf(ctx context.Context) int64 { return audit.ActorFrom(ctx).UserID }

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func idStr(id int64) string { return strconv.FormatInt(id, 10) }

func digest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Builtin lists the built-in scenarios.
func (s *Store) Builtin() []*Scenario { return s.builtin }

// BuiltinScenario returns the built-in scenario with key (id@version).
func (s *Store) BuiltinScenario(key string) (*Scenario, error) {
	for _, sc := range s.builtin {
		if sc.Key() == key {
			return sc, nil
		}
	}
	return nil, fmt.Errorf("scenario %q: %w", key, ErrNotFound)
}

// BuiltinScenarioSource returns the YAML text of a built-in scenario.
func (s *Store) BuiltinScenarioSource(key string) ([]byte, error) {
	sc, err := s.BuiltinScenario(key)
	if err != nil {
		return nil, err
	}
	data, ok := BuiltinSource(sc.ID)
	if !ok {
		return nil, fmt.Errorf("scenario %q: %w", key, ErrNotFound)
	}
	return data, nil
}

// Stored is a scenario of an organisation's library.
type Stored struct {
	ID        int64
	OrgID     int64
	Scenario  *Scenario
	Source    string
	BasedOn   string
	Rev       int
	CreatedBy int64
	Created   time.Time
	UpdatedBy int64
	Updated   time.Time
}

const storedCols = "id, org_id, source, based_on, rev, created_by, created_at, updated_by, updated_at"

func scanStored(r interface{ Scan(...any) error }) (Stored, error) {
	var st Stored
	var by, upBy sql.NullInt64
	var created, updated int64
	if err := r.Scan(&st.ID, &st.OrgID, &st.Source, &st.BasedOn, &st.Rev, &by, &created, &upBy, &updated); err != nil {
		return Stored{}, err
	}
	st.CreatedBy, st.UpdatedBy = by.Int64, upBy.Int64
	st.Created, st.Updated = time.UnixMicro(created).UTC(), time.UnixMicro(updated).UTC()
	// Links were checked when the scenario was saved; a later catalogue
	// change must not make a stored scenario unreadable.
	sc, err := ParseScenario([]byte(st.Source), Refs{})
	if err != nil {
		return Stored{}, fmt.Errorf("tabletop: stored scenario %d: %w", st.ID, err)
	}
	st.Scenario = sc
	return st, nil
}

// Library lists an organisation's scenarios by title.
func (s *Store) Library(ctx context.Context, orgID int64) ([]Stored, error) {
	rows, err := s.db.Query(ctx, "SELECT "+storedCols+" FROM tabletop_scenarios WHERE org_id = ? ORDER BY title, version, id", orgID)
	if err != nil {
		return nil, fmt.Errorf("tabletop: library: %w", err)
	}
	defer rows.Close()
	var out []Stored
	for rows.Next() {
		st, err := scanStored(rows)
		if err != nil {
			return nil, fmt.Errorf("tabletop: library: %w", err)
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// Scenario returns scenario id of the organisation's library; another
// organisation's scenario is ErrNotFound.
func (s *Store) Scenario(ctx context.Context, orgID, id int64) (Stored, error) {
	st, err := scanStored(s.db.QueryRow(ctx, "SELECT "+storedCols+" FROM tabletop_scenarios WHERE id = ? AND org_id = ?", id, orgID))
	if errors.Is(err, sql.ErrNoRows) {
		return Stored{}, fmt.Errorf("scenario %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Stored{}, fmt.Errorf("tabletop: scenario: %w", err)
	}
	return st, nil
}

// Import validates a scenario document and adds it to the organisation's
// library. A problem is a *ValidationError; the same id and version in
// the library is ErrConflict.
func (s *Store) Import(ctx context.Context, orgID int64, data []byte) (Stored, error) {
	return s.insert(ctx, orgID, data, "", "tabletop.scenario.import")
}

// Clone copies a built-in scenario (from = its key) or one of the
// library's (fromID) into the library under a new version, so that the
// copy can be edited without touching the original.
func (s *Store) Clone(ctx context.Context, orgID int64, from string, fromID int64) (Stored, error) {
	var src []byte
	var sc *Scenario
	if fromID != 0 {
		st, err := s.Scenario(ctx, orgID, fromID)
		if err != nil {
			return Stored{}, err
		}
		src, sc = []byte(st.Source), st.Scenario
	} else {
		b, err := s.BuiltinScenario(from)
		if err != nil {
			return Stored{}, err
		}
		if src, err = s.BuiltinScenarioSource(from); err != nil {
			return Stored{}, err
		}
		sc = b
	}
	taken := map[string]bool{}
	rows, err := s.db.Query(ctx, "SELECT version FROM tabletop_scenarios WHERE org_id = ? AND scenario_id = ?", orgID, sc.ID)
	if err != nil {
		return Stored{}, fmt.Errorf("tabletop: clone: %w", err)
	}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return Stored{}, fmt.Errorf("tabletop: clone: %w", err)
		}
		taken[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Stored{}, fmt.Errorf("tabletop: clone: %w", err)
	}
	base, _, _ := strings.Cut(sc.Version, "-copy")
	version := base + "-copy"
	for n := 2; taken[version]; n++ {
		version = base + "-copy" + strconv.Itoa(n)
	}
	if !idPattern.MatchString(version) {
		return Stored{}, fmt.Errorf("%w: the version %q is too long to add “-copy”; shorten it first", ErrInvalid, sc.Version)
	}
	out, err := withVersion(src, version)
	if err != nil {
		return Stored{}, err
	}
	return s.insert(ctx, orgID, out, sc.Key(), "tabletop.scenario.clone")
}

// withVersion rewrites the top-level version line of a scenario document,
// keeping every other line (and comment) as it is.
func withVersion(src []byte, version string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil || len(doc.Content) != 1 {
		return nil, fmt.Errorf("%w: the scenario cannot be read", ErrInvalid)
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value != "version" {
			continue
		}
		if k.Column != 1 || v.Line != k.Line {
			break
		}
		lines := bytes.Split(src, []byte("\n"))
		lines[k.Line-1] = []byte("version: " + strconv.Quote(version))
		return bytes.Join(lines, []byte("\n")), nil
	}
	return nil, fmt.Errorf("%w: write the version on one line (version: \"…\") to clone the scenario", ErrInvalid)
}

func (s *Store) insert(ctx context.Context, orgID int64, data []byte, basedOn, action string) (Stored, error) {
	sc, err := ParseScenario(data, s.refs)
	if err != nil {
		return Stored{}, err
	}
	now := s.nowUTC()
	actor := audit.ActorFrom(ctx).UserID
	st := Stored{OrgID: orgID, Scenario: sc, Source: string(data), BasedOn: basedOn, Rev: 1, CreatedBy: actor, Created: now, UpdatedBy: actor, Updated: now}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO tabletop_scenarios (org_id, scenario_id, version, title, source, based_on, rev, created_by, created_at, updated_by, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?) RETURNING id`,
			orgID, sc.ID, sc.Version, sc.Title, st.Source, basedOn, nullID(actor), now.UnixMicro(), nullID(actor), now.UnixMicro()).Scan(&st.ID)
		if db.IsUniqueViolation(err) {
			return fmt.Errorf("scenario %s: %w", sc.Key(), ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("tabletop: save scenario: %w", err)
		}
		return appendAudit(ctx, tx, orgID, action, "tabletop_scenario", idStr(st.ID),
			map[string]any{"scenario": sc.Key(), "based_on": basedOn, "injects": len(sc.Injects), "sha256": digest(data)})
	})
	if err != nil {
		return Stored{}, err
	}
	return st, nil
}

// Save replaces the text of a library scenario. rev is the revision the
// editor started from: a save over someone else's is ErrStale.
func (s *Store) Save(ctx context.Context, orgID, id int64, data []byte, rev int) (Stored, error) {
	sc, err := ParseScenario(data, s.refs)
	if err != nil {
		return Stored{}, err
	}
	now := s.nowUTC()
	actor := audit.ActorFrom(ctx).UserID
	var st Stored
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		st, err = scanStored(tx.QueryRow(ctx, "SELECT "+storedCols+" FROM tabletop_scenarios WHERE id = ? AND org_id = ?", id, orgID))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("scenario %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("tabletop: save scenario: %w", err)
		}
		if st.Rev != rev {
			return ErrStale
		}
		_, err = tx.Exec(ctx, `UPDATE tabletop_scenarios SET scenario_id = ?, version = ?, title = ?, source = ?, rev = rev + 1, updated_by = ?, updated_at = ?
			WHERE id = ?`, sc.ID, sc.Version, sc.Title, string(data), nullID(actor), now.UnixMicro(), id)
		if db.IsUniqueViolation(err) {
			return fmt.Errorf("scenario %s: %w", sc.Key(), ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("tabletop: save scenario: %w", err)
		}
		st.Scenario, st.Source, st.Rev, st.UpdatedBy, st.Updated = sc, string(data), st.Rev+1, actor, now
		return appendAudit(ctx, tx, orgID, "tabletop.scenario.update", "tabletop_scenario", idStr(id),
			map[string]any{"scenario": sc.Key(), "rev": st.Rev, "injects": len(sc.Injects), "sha256": digest(data)})
	})
	if errors.Is(err, ErrStale) {
		// The caller shows the newer text beside the one typed.
		cur, cerr := s.Scenario(ctx, orgID, id)
		if cerr != nil {
			return Stored{}, cerr
		}
		return cur, ErrStale
	}
	if err != nil {
		return Stored{}, err
	}
	return st, nil
}

// Delete removes a scenario from the library. Exercises keep the text of
// the scenario they were created from.
func (s *Store) Delete(ctx context.Context, orgID, id int64) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var key, title string
		err := tx.QueryRow(ctx, "SELECT scenario_id || '@' || version, title FROM tabletop_scenarios WHERE id = ? AND org_id = ?", id, orgID).Scan(&key, &title)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("scenario %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("tabletop: delete scenario: %w", err)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM tabletop_scenarios WHERE id = ?", id); err != nil {
			return fmt.Errorf("tabletop: delete scenario: %w", err)
		}
		return appendAudit(ctx, tx, orgID, "tabletop.scenario.delete", "tabletop_scenario", idStr(id), map[string]any{"scenario": key, "title": title})
	})
}

// OrgName returns the name of an organisation, ErrNotFound when there is
// none with id.
func (s *Store) OrgName(ctx context.Context, id int64) (string, error) {
	var name string
	err := s.db.QueryRow(ctx, "SELECT name FROM orgs WHERE id = ?", id).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("organisation %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("tabletop: organisation: %w", err)
	}
	return name, nil
}
