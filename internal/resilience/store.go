package resilience

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/blob"
	"github.com/dfslab/dfslab/internal/db"
)

// Errors of the store; handlers map them to statuses with errors.Is.
var (
	ErrNotFound = errors.New("resilience: not found")
	// ErrStale refuses a write based on an answer someone changed since
	// (409: the page shows the newer answer, nothing is overwritten).
	ErrStale = errors.New("resilience: changed by someone else meanwhile")
	// ErrSubmitted refuses changes to a signed-off assessment (409).
	ErrSubmitted = errors.New("resilience: the assessment is signed off")
	// ErrIncomplete refuses signing off with unanswered questions.
	ErrIncomplete = errors.New("resilience: questions are unanswered")
	// ErrConflict refuses importing a model version that exists.
	ErrConflict = errors.New("resilience: exists already")
)

// Limits of free text, refused (never cut) when exceeded.
const (
	MaxTitle    = 200
	MaxComment  = 2000
	MaxNAReason = 500
)

// Org is the organisation a request acts for, as the toolkit needs it.
type Org struct {
	ID        int64
	Name      string
	Country   string
	Regulator bool // a telecom regulator or central bank
}

// Status is where an assessment stands.
type Status string

const (
	StatusDraft     Status = "draft"
	StatusSubmitted Status = "submitted"
)

// Assessment is one self-assessment of an organisation.
type Assessment struct {
	ID          int64
	OrgID       int64
	Title       string
	ModelKey    string
	Variant     string
	Profile     Profile
	Risk        RiskLevel
	Status      Status
	CampaignID  int64
	PreviousID  int64
	CreatedBy   int64
	Created     time.Time
	SubmittedBy int64
	Submitted   time.Time
}

// Submitted reports whether the assessment is signed off.
func (a Assessment) IsSubmitted() bool { return a.Status == StatusSubmitted }

// StoredAnswer is an answer with its concurrency version and author.
type StoredAnswer struct {
	Answer
	Version   int       `json:"version"`
	UpdatedBy int64     `json:"updated_by,omitempty"`
	Updated   time.Time `json:"updated"`
}

// Store keeps models, assessments, answers, evidence and campaigns.
type Store struct {
	db    *db.DB
	blobs *blob.Store
	now   func() time.Time
	known Known

	builtin []*Model

	mu       sync.Mutex
	imported map[string]*Model // parsed imported models by key
}

// NewStore returns a store on d; known checks recommendation IDs of
// imported models (nil accepts any well-formed ID).
func NewStore(d *db.DB, blobs *blob.Store, known Known, now func() time.Time) (*Store, error) {
	if now == nil {
		now = time.Now
	}
	b, err := BuiltinModels(known)
	if err != nil {
		return nil, err
	}
	return &Store{db: d, blobs: blobs, now: now, known: known, builtin: b, imported: map[string]*Model{}}, nil
}

func (s *Store) nowUTC() time.Time { return time.UnixMicro(s.now().UnixMicro()).UTC() }

func appendAudit(ctx context.Context, tx *db.Tx, orgID int64, action, objType, objID string, details map[string]any, concerned ...int64) error {
	_, err := audit.Append(ctx, tx, audit.Entry{OrgID: orgID, Action: action, ObjectType: objType, ObjectID: objID,
		Details: details, Concerned: concerned})
	return err
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func idStr(id int64) string { return fmt.Sprint(id) }

// checkText refuses (never cuts) text over max bytes, invalid UTF-8 and
// control characters other than newline and tab.
func checkText(name, s string, max int) error {
	switch {
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalid, name)
	case len(s) > max:
		return fmt.Errorf("%w: %s is longer than %d characters", ErrInvalid, name, max)
	case strings.ContainsFunc(s, func(r rune) bool {
		return (r < 0x20 && r != '\n' && r != '\t' && r != '\r') || (r >= 0x7f && r <= 0x9f)
	}):
		return fmt.Errorf("%w: %s contains control characters", ErrInvalid, name)
	}
	return nil
}

// ---- models -----------------------------------------------------------------

// Models lists the built-in models, then the imported ones by key.
func (s *Store) Models(ctx context.Context) ([]*Model, error) {
	out := append([]*Model(nil), s.builtin...)
	rows, err := s.db.Query(ctx, "SELECT model_id, version FROM resilience_models ORDER BY model_id, imported_at")
	if err != nil {
		return nil, fmt.Errorf("resilience: models: %w", err)
	}
	var keys []string
	for rows.Next() {
		var id, v string
		if err := rows.Scan(&id, &v); err != nil {
			rows.Close()
			return nil, fmt.Errorf("resilience: models: %w", err)
		}
		keys = append(keys, id+"@"+v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("resilience: models: %w", err)
	}
	for _, k := range keys {
		m, err := s.Model(ctx, k)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// Model returns the model version with key (id@version).
func (s *Store) Model(ctx context.Context, key string) (*Model, error) {
	for _, m := range s.builtin {
		if m.Key() == key {
			return m, nil
		}
	}
	s.mu.Lock()
	m, ok := s.imported[key]
	s.mu.Unlock()
	if ok {
		return m, nil
	}
	id, version, _ := strings.Cut(key, "@")
	var src string
	err := s.db.QueryRow(ctx, "SELECT source FROM resilience_models WHERE model_id = ? AND version = ?", id, version).Scan(&src)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("model %q: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("resilience: model: %w", err)
	}
	// Recommendation IDs were checked at import; a later catalogue
	// change must not make a stored model unreadable.
	m, err = ParseModel([]byte(src), nil)
	if err != nil {
		return nil, fmt.Errorf("resilience: stored model %s: %w", key, err)
	}
	s.mu.Lock()
	s.imported[key] = m
	s.mu.Unlock()
	return m, nil
}

// ModelSource returns the YAML text of a model version (for export).
func (s *Store) ModelSource(ctx context.Context, key string) ([]byte, error) {
	id, version, _ := strings.Cut(key, "@")
	for _, m := range s.builtin {
		if m.Key() == key {
			if data, ok := BuiltinSource(id); ok {
				return data, nil
			}
		}
	}
	var src string
	err := s.db.QueryRow(ctx, "SELECT source FROM resilience_models WHERE model_id = ? AND version = ?", id, version).Scan(&src)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("model %q: %w", key, ErrNotFound)
	}
	return []byte(src), err
}

// ImportModel validates and stores a model document (platform
// administrators). A version that exists, built in or imported, is
// ErrConflict: a model version never changes once assessments use it.
func (s *Store) ImportModel(ctx context.Context, data []byte) (*Model, error) {
	m, err := ParseModel(data, s.known)
	if err != nil {
		return nil, err
	}
	if _, err := s.Model(ctx, m.Key()); err == nil {
		return nil, fmt.Errorf("model %s: %w", m.Key(), ErrConflict)
	}
	sum := sha256.Sum256(data)
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO resilience_models (model_id, version, title, source, imported_by, imported_at) VALUES (?, ?, ?, ?, ?, ?)",
			m.ID, m.Version, m.Title, string(data), nullID(audit.ActorFrom(ctx).UserID), s.nowUTC().UnixMicro())
		if db.IsUniqueViolation(err) {
			return fmt.Errorf("model %s: %w", m.Key(), ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("resilience: import model: %w", err)
		}
		questions := 0
		for _, d := range m.Domains {
			questions += len(d.Questions)
		}
		return appendAudit(ctx, tx, 0, "resilience.model.import", "resilience_model", m.Key(),
			map[string]any{"title": m.Title, "domains": len(m.Domains), "questions": questions, "sha256": hex.EncodeToString(sum[:])})
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// ---- assessments ------------------------------------------------------------

// NewAssessment is the input of [Store.CreateAssessment].
type NewAssessment struct {
	Title      string
	ModelKey   string
	Variant    string // "" : the model's first variant
	Profile    Profile
	CampaignID int64
}

const assessmentCols = `id, org_id, title, model_key, variant, profile, risk_level, status, campaign_id, previous_id,
	created_by, created_at, submitted_by, submitted_at`

func scanAssessment(r interface{ Scan(...any) error }) (Assessment, error) {
	var a Assessment
	var profile, risk, status string
	var camp, prev, by, subBy, subAt sql.NullInt64
	var created int64
	if err := r.Scan(&a.ID, &a.OrgID, &a.Title, &a.ModelKey, &a.Variant, &profile, &risk, &status, &camp, &prev,
		&by, &created, &subBy, &subAt); err != nil {
		return Assessment{}, err
	}
	if err := json.Unmarshal([]byte(profile), &a.Profile); err != nil {
		return Assessment{}, fmt.Errorf("resilience: profile of assessment %d: %w", a.ID, err)
	}
	a.Risk, a.Status = RiskLevel(risk), Status(status)
	a.CampaignID, a.PreviousID, a.CreatedBy, a.SubmittedBy = camp.Int64, prev.Int64, by.Int64, subBy.Int64
	a.Created = time.UnixMicro(created).UTC()
	if subAt.Valid {
		a.Submitted = time.UnixMicro(subAt.Int64).UTC()
	}
	return a, nil
}

// CreateAssessment starts an assessment of org. When the organisation has
// signed off an assessment of the same model before, the new one starts
// from its answers (questions that still exist), and the comparison shows
// what moved.
func (s *Store) CreateAssessment(ctx context.Context, org Org, n NewAssessment) (Assessment, error) {
	n.Title = strings.TrimSpace(n.Title)
	if n.Title == "" {
		return Assessment{}, fmt.Errorf("%w: give the assessment a title", ErrInvalid)
	}
	if err := checkText("title", n.Title, MaxTitle); err != nil {
		return Assessment{}, err
	}
	if err := n.Profile.Validate(); err != nil {
		return Assessment{}, err
	}
	m, err := s.Model(ctx, n.ModelKey)
	if err != nil {
		return Assessment{}, err
	}
	if n.Variant == "" {
		n.Variant = m.DefaultVariant()
	}
	if m.Variant(n.Variant) == nil {
		return Assessment{}, fmt.Errorf("%w: model %s has no variant %q", ErrInvalid, m.Key(), n.Variant)
	}
	profile, err := json.Marshal(n.Profile)
	if err != nil {
		return Assessment{}, err
	}
	now := s.nowUTC()
	actor := audit.ActorFrom(ctx).UserID
	a := Assessment{OrgID: org.ID, Title: n.Title, ModelKey: m.Key(), Variant: n.Variant, Profile: n.Profile,
		Risk: n.Profile.RiskLevel(), Status: StatusDraft, CampaignID: n.CampaignID, CreatedBy: actor, Created: now}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var regulator int64
		if n.CampaignID != 0 {
			c, err := campaignTx(ctx, tx, n.CampaignID)
			if err != nil {
				return err
			}
			if c.Country != org.Country || c.ModelKey != m.Key() || c.Variant != n.Variant {
				return fmt.Errorf("%w: campaign %d is for another country or model", ErrInvalid, n.CampaignID)
			}
			if !c.Open() {
				return fmt.Errorf("%w: campaign %d is closed", ErrInvalid, n.CampaignID)
			}
			var n2 int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM resilience_assessments WHERE campaign_id = ? AND org_id = ?", c.ID, org.ID).Scan(&n2); err != nil {
				return fmt.Errorf("resilience: create assessment: %w", err)
			}
			if n2 > 0 {
				return fmt.Errorf("an assessment for campaign %d: %w", c.ID, ErrConflict)
			}
			regulator = c.OrgID
		}
		// The latest signed-off assessment of the same model (any version).
		var prev sql.NullInt64
		err := tx.QueryRow(ctx, `SELECT id FROM resilience_assessments WHERE org_id = ? AND status = 'submitted'
			AND (model_key = ? OR model_key LIKE ?) ORDER BY submitted_at DESC, id DESC LIMIT 1`,
			org.ID, m.Key(), m.ID+"@%").Scan(&prev)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("resilience: previous assessment: %w", err)
		}
		a.PreviousID = prev.Int64
		if err := tx.QueryRow(ctx, `INSERT INTO resilience_assessments (org_id, title, model_key, variant, entity_type, profile, risk_level,
			status, campaign_id, previous_id, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'draft', ?, ?, ?, ?) RETURNING id`,
			org.ID, a.Title, a.ModelKey, a.Variant, string(a.Profile.EntityType), string(profile), string(a.Risk),
			nullID(a.CampaignID), nullID(a.PreviousID), nullID(actor), now.UnixMicro()).Scan(&a.ID); err != nil {
			return fmt.Errorf("resilience: create assessment: %w", err)
		}
		carried := 0
		if a.PreviousID != 0 {
			rows, err := tx.Query(ctx, "SELECT question_id, level, na, na_reason, comment FROM resilience_answers WHERE assessment_id = ?", a.PreviousID)
			if err != nil {
				return fmt.Errorf("resilience: carry answers: %w", err)
			}
			var prevAnswers []Answer
			for rows.Next() {
				var an Answer
				var level sql.NullInt64
				if err := rows.Scan(&an.QuestionID, &level, &an.NA, &an.NAReason, &an.Comment); err != nil {
					rows.Close()
					return fmt.Errorf("resilience: carry answers: %w", err)
				}
				if level.Valid {
					l := int(level.Int64)
					an.Level = &l
				}
				prevAnswers = append(prevAnswers, an)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("resilience: carry answers: %w", err)
			}
			for _, an := range prevAnswers {
				if m.Question(an.QuestionID) == nil {
					continue
				}
				if _, err := tx.Exec(ctx, `INSERT INTO resilience_answers (assessment_id, question_id, level, na, na_reason, comment, version, updated_by, updated_at)
					VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)`, a.ID, an.QuestionID, levelArg(an.Level), an.NA, an.NAReason, an.Comment, nullID(actor), now.UnixMicro()); err != nil {
					return fmt.Errorf("resilience: carry answers: %w", err)
				}
				carried++
			}
		}
		var concerned []int64
		if regulator != 0 {
			concerned = []int64{regulator}
		}
		return appendAudit(ctx, tx, org.ID, "resilience.assessment.create", "resilience_assessment", idStr(a.ID),
			map[string]any{"model": a.ModelKey, "variant": a.Variant, "entity_type": string(a.Profile.EntityType), "risk_level": string(a.Risk),
				"campaign": a.CampaignID, "previous": a.PreviousID, "answers_carried": carried}, concerned...)
	})
	if err != nil {
		return Assessment{}, err
	}
	return a, nil
}

func levelArg(l *int) any {
	if l == nil {
		return nil
	}
	return *l
}

// Assessment returns an assessment of orgID; another organisation's is
// ErrNotFound, like an unknown one.
func (s *Store) Assessment(ctx context.Context, orgID, id int64) (Assessment, error) {
	a, err := scanAssessment(s.db.QueryRow(ctx, "SELECT "+assessmentCols+" FROM resilience_assessments WHERE id = ? AND org_id = ?", id, orgID))
	if errors.Is(err, sql.ErrNoRows) {
		return Assessment{}, fmt.Errorf("assessment %d: %w", id, ErrNotFound)
	}
	return a, err
}

// Assessments lists orgID's assessments, newest first.
func (s *Store) Assessments(ctx context.Context, orgID int64) ([]Assessment, error) {
	rows, err := s.db.Query(ctx, "SELECT "+assessmentCols+" FROM resilience_assessments WHERE org_id = ? ORDER BY created_at DESC, id DESC", orgID)
	if err != nil {
		return nil, fmt.Errorf("resilience: assessments: %w", err)
	}
	defer rows.Close()
	var out []Assessment
	for rows.Next() {
		a, err := scanAssessment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Answers returns an assessment's answers by question ID (the caller has
// checked the organisation with [Store.Assessment]).
func (s *Store) Answers(ctx context.Context, assessmentID int64) (map[string]StoredAnswer, error) {
	return answers(ctx, s.db, assessmentID)
}

func answers(ctx context.Context, q db.Querier, assessmentID int64) (map[string]StoredAnswer, error) {
	rows, err := q.Query(ctx, `SELECT question_id, level, na, na_reason, comment, version, updated_by, updated_at
		FROM resilience_answers WHERE assessment_id = ?`, assessmentID)
	if err != nil {
		return nil, fmt.Errorf("resilience: answers: %w", err)
	}
	defer rows.Close()
	out := map[string]StoredAnswer{}
	for rows.Next() {
		var a StoredAnswer
		var level, by sql.NullInt64
		var at int64
		if err := rows.Scan(&a.QuestionID, &level, &a.NA, &a.NAReason, &a.Comment, &a.Version, &by, &at); err != nil {
			return nil, fmt.Errorf("resilience: answers: %w", err)
		}
		if level.Valid {
			l := int(level.Int64)
			a.Level = &l
		}
		a.UpdatedBy, a.Updated = by.Int64, time.UnixMicro(at).UTC()
		out[a.QuestionID] = a
	}
	return out, rows.Err()
}

// plain drops the bookkeeping of stored answers, for scoring.
func plain(as map[string]StoredAnswer) map[string]Answer {
	out := make(map[string]Answer, len(as))
	for k, a := range as {
		out[k] = a.Answer
	}
	return out
}

// SaveAnswer stores the answer to one question of a draft assessment of
// orgID. seen is the version of the answer the writer saw (0: none yet);
// if someone saved since, it is ErrStale and the current answer is
// returned, so that nobody's answer is overwritten silently.
func (s *Store) SaveAnswer(ctx context.Context, orgID, assessmentID int64, in Answer, seen int) (StoredAnswer, error) {
	in.NAReason = strings.TrimSpace(in.NAReason)
	in.Comment = strings.TrimSpace(strings.ReplaceAll(in.Comment, "\r\n", "\n"))
	if err := checkText("comment", in.Comment, MaxComment); err != nil {
		return StoredAnswer{}, err
	}
	if err := checkText("reason", in.NAReason, MaxNAReason); err != nil {
		return StoredAnswer{}, err
	}
	switch {
	case in.Level != nil && (*in.Level < MinLevel || *in.Level > MaxLevel):
		return StoredAnswer{}, fmt.Errorf("%w: level %d is outside %d–%d", ErrInvalid, *in.Level, MinLevel, MaxLevel)
	case in.NA && in.Level != nil:
		return StoredAnswer{}, fmt.Errorf("%w: an answer is either a level or not applicable", ErrInvalid)
	case in.NA && in.NAReason == "":
		return StoredAnswer{}, fmt.Errorf("%w: say why the question does not apply", ErrInvalid)
	case !in.NA:
		in.NAReason = ""
	}
	var out StoredAnswer
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		a, err := scanAssessment(tx.QueryRow(ctx, "SELECT "+assessmentCols+" FROM resilience_assessments WHERE id = ? AND org_id = ?", assessmentID, orgID))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("assessment %d: %w", assessmentID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if a.IsSubmitted() {
			return ErrSubmitted
		}
		m, err := s.Model(ctx, a.ModelKey)
		if err != nil {
			return err
		}
		q := m.Question(in.QuestionID)
		if q == nil || !q.Applies(a.Profile.EntityType) || m.Variant(a.Variant) == nil || !containsDomain(m.DomainsOf(a.Variant), q.Domain()) {
			return fmt.Errorf("%w: unknown question %q", ErrInvalid, in.QuestionID)
		}
		cur, err := answers(ctx, tx, assessmentID)
		if err != nil {
			return err
		}
		old, had := cur[in.QuestionID]
		if old.Version != seen {
			out = old
			return ErrStale
		}
		now := s.nowUTC()
		actor := audit.ActorFrom(ctx).UserID
		out = StoredAnswer{Answer: in, Version: old.Version + 1, UpdatedBy: actor, Updated: now}
		if had {
			_, err = tx.Exec(ctx, `UPDATE resilience_answers SET level = ?, na = ?, na_reason = ?, comment = ?, version = ?, updated_by = ?, updated_at = ?
				WHERE assessment_id = ? AND question_id = ? AND version = ?`, levelArg(in.Level), in.NA, in.NAReason, in.Comment, out.Version,
				nullID(actor), now.UnixMicro(), assessmentID, in.QuestionID, old.Version)
		} else {
			_, err = tx.Exec(ctx, `INSERT INTO resilience_answers (assessment_id, question_id, level, na, na_reason, comment, version, updated_by, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, assessmentID, in.QuestionID, levelArg(in.Level), in.NA, in.NAReason, in.Comment, out.Version,
				nullID(actor), now.UnixMicro())
		}
		if db.IsUniqueViolation(err) {
			return ErrStale // a concurrent first answer won
		}
		if err != nil {
			return fmt.Errorf("resilience: save answer: %w", err)
		}
		details := map[string]any{"question": in.QuestionID, "version": out.Version, "not_applicable": in.NA}
		if in.Level != nil {
			details["level"] = *in.Level
		}
		return appendAudit(ctx, tx, orgID, "resilience.answer", "resilience_assessment", idStr(assessmentID), details)
	})
	if errors.Is(err, ErrStale) {
		return out, err
	}
	if err != nil {
		return StoredAnswer{}, err
	}
	return out, nil
}

func containsDomain(ds []*Domain, d *Domain) bool {
	for _, x := range ds {
		if x == d {
			return true
		}
	}
	return false
}

// Snapshot is what a signed-off assessment holds for good.
type Snapshot struct {
	Assessment int64                   `json:"assessment"`
	Model      string                  `json:"model"`
	Variant    string                  `json:"variant"`
	Profile    Profile                 `json:"profile"`
	Answers    map[string]StoredAnswer `json:"answers"`
	Scorecard  Scorecard               `json:"scorecard"`
	SignedBy   int64                   `json:"signed_by"`
	SignedAt   time.Time               `json:"signed_at"`
}

// Submit signs off a draft assessment of orgID: every applicable question
// must be answered (ErrIncomplete). The answers and the scorecard are kept
// as an immutable snapshot whose SHA-256 the audit entry records; a
// campaign's regulator sees the entry in its own audit view.
func (s *Store) Submit(ctx context.Context, orgID, assessmentID int64) (Snapshot, error) {
	var snap Snapshot
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		a, err := scanAssessment(tx.QueryRow(ctx, "SELECT "+assessmentCols+" FROM resilience_assessments WHERE id = ? AND org_id = ?", assessmentID, orgID))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("assessment %d: %w", assessmentID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if a.IsSubmitted() {
			return ErrSubmitted
		}
		m, err := s.Model(ctx, a.ModelKey)
		if err != nil {
			return err
		}
		as, err := answers(ctx, tx, assessmentID)
		if err != nil {
			return err
		}
		var country string
		if err := tx.QueryRow(ctx, "SELECT country FROM orgs WHERE id = ?", orgID).Scan(&country); err != nil {
			return fmt.Errorf("resilience: submit: %w", err)
		}
		ov, err := targets(ctx, tx, country, a.ModelKey, a.Profile.EntityType)
		if err != nil {
			return err
		}
		sc := ScoreWith(m, a.Variant, a.Profile.EntityType, a.Risk, plain(as), ov)
		if !sc.Complete {
			return fmt.Errorf("%w: %d of %d answered", ErrIncomplete, sc.Answered, sc.Applicable)
		}
		now := s.nowUTC()
		actor := audit.ActorFrom(ctx).UserID
		snap = Snapshot{Assessment: a.ID, Model: a.ModelKey, Variant: a.Variant, Profile: a.Profile, Answers: as, Scorecard: sc, SignedBy: actor, SignedAt: now}
		data, err := json.Marshal(snap)
		if err != nil {
			return err
		}
		r, err := tx.Exec(ctx, `UPDATE resilience_assessments SET status = 'submitted', submitted_by = ?, submitted_at = ?, snapshot = ?
			WHERE id = ? AND status = 'draft'`, nullID(actor), now.UnixMicro(), string(data), a.ID)
		if err != nil {
			return fmt.Errorf("resilience: submit: %w", err)
		}
		if n, _ := r.RowsAffected(); n != 1 {
			return ErrSubmitted
		}
		if _, err := tx.Exec(ctx, "UPDATE resilience_assessments SET overall = ? WHERE id = ?", sc.Overall, a.ID); err != nil {
			return fmt.Errorf("resilience: submit: %w", err)
		}
		for _, d := range sc.Domains {
			if !d.Scored {
				continue
			}
			if _, err := tx.Exec(ctx, "INSERT INTO resilience_domain_scores (assessment_id, domain_id, score) VALUES (?, ?, ?)", a.ID, d.ID, d.Score); err != nil {
				return fmt.Errorf("resilience: submit: %w", err)
			}
		}
		var concerned []int64
		if a.CampaignID != 0 {
			if c, err := campaignTx(ctx, tx, a.CampaignID); err == nil {
				concerned = []int64{c.OrgID}
			}
		}
		sum := sha256.Sum256(data)
		return appendAudit(ctx, tx, orgID, "resilience.assessment.submit", "resilience_assessment", idStr(a.ID),
			map[string]any{"overall": sc.Overall, "level": sc.Level, "snapshot_sha256": hex.EncodeToString(sum[:]), "campaign": a.CampaignID}, concerned...)
	})
	return snap, err
}

// Snapshot returns the signed-off snapshot of an assessment of orgID.
func (s *Store) Snapshot(ctx context.Context, orgID, assessmentID int64) (Snapshot, error) {
	var data sql.NullString
	err := s.db.QueryRow(ctx, "SELECT snapshot FROM resilience_assessments WHERE id = ? AND org_id = ?", assessmentID, orgID).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !data.Valid) {
		return Snapshot{}, fmt.Errorf("snapshot of %d: %w", assessmentID, ErrNotFound)
	}
	if err != nil {
		return Snapshot{}, err
	}
	var snap Snapshot
	if err := json.Unmarshal([]byte(data.String), &snap); err != nil {
		return Snapshot{}, fmt.Errorf("resilience: snapshot of %d: %w", assessmentID, err)
	}
	return snap, nil
}

// Scorecard scores an assessment of orgID: from its snapshot once signed
// off, else (provisionally) from the current answers.
func (s *Store) Scorecard(ctx context.Context, orgID, assessmentID int64) (Assessment, *Model, Scorecard, error) {
	a, err := s.Assessment(ctx, orgID, assessmentID)
	if err != nil {
		return Assessment{}, nil, Scorecard{}, err
	}
	m, err := s.Model(ctx, a.ModelKey)
	if err != nil {
		return Assessment{}, nil, Scorecard{}, err
	}
	if a.IsSubmitted() {
		snap, err := s.Snapshot(ctx, orgID, assessmentID)
		if err != nil {
			return Assessment{}, nil, Scorecard{}, err
		}
		// Rescore to rebuild the question pointers the JSON does not
		// carry, with the targets the snapshot was signed off with.
		ov := Overrides{}
		for _, d := range snap.Scorecard.Domains {
			if d.Overridden {
				ov[d.ID] = d.Target
			}
		}
		return a, m, ScoreWith(m, a.Variant, a.Profile.EntityType, a.Risk, plain(snap.Answers), ov), nil
	}
	as, err := s.Answers(ctx, assessmentID)
	if err != nil {
		return Assessment{}, nil, Scorecard{}, err
	}
	o, err := s.OrgOf(ctx, orgID)
	if err != nil {
		return Assessment{}, nil, Scorecard{}, err
	}
	ov, err := s.Targets(ctx, o.Country, a.ModelKey, a.Profile.EntityType)
	if err != nil {
		return Assessment{}, nil, Scorecard{}, err
	}
	return a, m, ScoreWith(m, a.Variant, a.Profile.EntityType, a.Risk, plain(as), ov), nil
}

// Change is how one domain or question moved between two assessments.
type Change struct {
	ID     string
	Name   string
	Before float64
	After  float64
	Had    bool // the earlier assessment had this domain or answer
}

// Delta is After − Before.
func (c Change) Delta() float64 { return round2(c.After - c.Before) }

// Comparison is what moved between an assessment and its predecessor.
type Comparison struct {
	Previous  Assessment
	Domains   []Change
	Questions []Change // only those whose level changed
}

// Compare compares an assessment of orgID with the one it started from;
// ErrNotFound when it has none.
func (s *Store) Compare(ctx context.Context, orgID, assessmentID int64) (Comparison, error) {
	a, m, cur, err := s.Scorecard(ctx, orgID, assessmentID)
	if err != nil {
		return Comparison{}, err
	}
	if a.PreviousID == 0 {
		return Comparison{}, fmt.Errorf("no earlier assessment: %w", ErrNotFound)
	}
	prevA, prevM, prev, err := s.Scorecard(ctx, orgID, a.PreviousID)
	if err != nil {
		return Comparison{}, err
	}
	c := Comparison{Previous: prevA}
	before := map[string]DomainScore{}
	for _, d := range prev.Domains {
		before[d.ID] = d
	}
	for _, d := range cur.Domains {
		b, had := before[d.ID]
		c.Domains = append(c.Domains, Change{ID: d.ID, Name: d.Name, Before: b.Score, After: d.Score, Had: had && b.Scored})
	}
	curAns, err := s.answersOf(ctx, orgID, a)
	if err != nil {
		return Comparison{}, err
	}
	prevAns, err := s.answersOf(ctx, orgID, prevA)
	if err != nil {
		return Comparison{}, err
	}
	for _, d := range m.DomainsOf(a.Variant) {
		for _, q := range d.Questions {
			now, then := curAns[q.ID], prevAns[q.ID]
			if now.Level == nil || then.Level == nil || *now.Level == *then.Level || prevM.Question(q.ID) == nil {
				continue
			}
			c.Questions = append(c.Questions, Change{ID: q.ID, Name: q.Text, Before: float64(*then.Level), After: float64(*now.Level), Had: true})
		}
	}
	sort.SliceStable(c.Questions, func(i, j int) bool { return abs(c.Questions[i].Delta()) > abs(c.Questions[j].Delta()) })
	return c, nil
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func (s *Store) answersOf(ctx context.Context, orgID int64, a Assessment) (map[string]Answer, error) {
	if a.IsSubmitted() {
		snap, err := s.Snapshot(ctx, orgID, a.ID)
		if err != nil {
			return nil, err
		}
		return plain(snap.Answers), nil
	}
	as, err := s.Answers(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	return plain(as), nil
}

// OrgOf reads an organisation as the toolkit needs it.
func (s *Store) OrgOf(ctx context.Context, id int64) (Org, error) {
	var o Org
	var typ string
	err := s.db.QueryRow(ctx, "SELECT id, name, type, country FROM orgs WHERE id = ?", id).Scan(&o.ID, &o.Name, &typ, &o.Country)
	if errors.Is(err, sql.ErrNoRows) {
		return Org{}, fmt.Errorf("organisation %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Org{}, fmt.Errorf("resilience: organisation: %w", err)
	}
	o.Regulator = typ == "telecom_regulator" || typ == "central_bank"
	return o, nil
}

// AssessmentOrg returns the organisation an assessment belongs to, for
// the API, which names assessments without their organisation (the caller
// then checks the principal's role in it).
func (s *Store) AssessmentOrg(ctx context.Context, id int64) (int64, error) {
	var org int64
	err := s.db.QueryRow(ctx, "SELECT org_id FROM resilience_assessments WHERE id = ?", id).Scan(&org)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("assessment %d: %w", id, ErrNotFound)
	}
	return org, err
}
