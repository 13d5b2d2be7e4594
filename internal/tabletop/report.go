package tabletop

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/db"
)

// Limits of the after-action report's text, refused (never cut) when
// exceeded.
const (
	MaxObjectiveNote = 2000
	MaxFinding       = 2000
	MaxAction        = 1000
	MaxLessons       = 10000
)

// Ratings of an objective.
var objectiveRatings = map[string]string{"met": "Met", "partly": "Partly met", "not-met": "Not met"}

// ErrNotTracked says that an improvement item could not be noted in the
// owner organisation's own tracking (the recommendation is not in its
// baseline, or it has no assessment under way); the item stays in the
// exercise's plan.
var ErrNotTracked = errors.New("tabletop: nothing to note it on")

// FollowUp takes improvement items to the owner organisation's own work:
// its adoption tracking (a comment on the baseline item of the
// recommendation) and its resilience self-assessment (a note on the
// question). Each returns the path of the page where the item now shows.
type FollowUp interface {
	Track(ctx context.Context, orgID int64, recommendation, text string) (string, error)
	NoteQuestion(ctx context.Context, orgID int64, question, text string) (string, error)
}

// Lessons publishes an anonymised lessons-learned note to the community
// discussions of a recommendation, returning its path.
type Lessons interface {
	PublishLessons(ctx context.Context, userID, orgID int64, recommendation, body string) (string, error)
}

// ObjectiveRating is whether a scenario objective was met.
type ObjectiveRating struct {
	Objective
	Rating string // met, partly, not-met; "" until rated
	Label  string
	Note   string
}

// Finding is a strength or a gap the facilitators record.
type Finding struct {
	ID   int64
	Kind string // strength, gap
	Text string
}

// Improvement is an item of the improvement plan.
type Improvement struct {
	ID             int64
	Action         string
	OwnerOrg       int64
	OwnerName      string
	Due            string // YYYY-MM-DD
	Recommendation string
	Question       string
	Status         string // open, done
	Tracked        string // path of the owner's tracking item, once sent
	Noted          string // path of the owner's assessment question, once sent
	Sent           time.Time
}

// Overdue reports whether an open item is past its due date on day today
// (YYYY-MM-DD).
func (i Improvement) Overdue(today string) bool { return i.Status == "open" && i.Due < today }

// reportEditorTx checks that the actor facilitates exercise id (at any
// stage: the report is written mostly after the end) and returns the
// exercise.
func (s *Store) reportEditorTx(ctx context.Context, tx *db.Tx, id int64) (Exercise, error) {
	p, err := s.partTx(ctx, tx, id)
	if err != nil {
		return Exercise{}, err
	}
	if p.role != RoleFacilitator {
		return Exercise{}, fmt.Errorf("%w: facilitators write the report", ErrNotAllowed)
	}
	return p.e, nil
}

func cleanWritten(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")) }

// RateObjective records whether objective objID of exercise id was met.
func (s *Store) RateObjective(ctx context.Context, id int64, objID, rating, note string) error {
	if _, ok := objectiveRatings[rating]; !ok {
		return fmt.Errorf("%w: choose met, partly met or not met", ErrInvalid)
	}
	if err := checkWritten("the note", note, MaxObjectiveNote, false); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		e, err := s.reportEditorTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(e.Scenario.Objectives, func(o Objective) bool { return o.ID == objID }) {
			return fmt.Errorf("objective %q: %w", objID, ErrNotFound)
		}
		now := s.nowUTC()
		if _, err := tx.Exec(ctx, `INSERT INTO tabletop_objectives (exercise_id, objective_id, rating, note, rated_by, rated_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (exercise_id, objective_id) DO UPDATE SET rating = excluded.rating, note = excluded.note, rated_by = excluded.rated_by, rated_at = excluded.rated_at`,
			id, objID, rating, cleanWritten(note), nullID(userOf(ctx)), now.UnixMicro()); err != nil {
			return fmt.Errorf("tabletop: objective: %w", err)
		}
		return appendAudit(ctx, tx, e.OrgID, "tabletop.report.objective", "tabletop_exercise", idStr(id), map[string]any{"objective": objID, "rating": rating})
	})
}

// AddFinding records a strength or a gap.
func (s *Store) AddFinding(ctx context.Context, id int64, kind, text string) error {
	if kind != "strength" && kind != "gap" {
		return fmt.Errorf("%w: a finding is a strength or a gap", ErrInvalid)
	}
	if err := checkWritten("the "+kind, text, MaxFinding, true); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		e, err := s.reportEditorTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO tabletop_findings (exercise_id, kind, text, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
			id, kind, cleanWritten(text), nullID(userOf(ctx)), s.nowUTC().UnixMicro()); err != nil {
			return fmt.Errorf("tabletop: finding: %w", err)
		}
		return appendAudit(ctx, tx, e.OrgID, "tabletop.report.finding", "tabletop_exercise", idStr(id), map[string]any{"kind": kind, "sha256": digest([]byte(text))})
	})
}

// DeleteFinding removes a finding of exercise id.
func (s *Store) DeleteFinding(ctx context.Context, id, findingID int64) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		e, err := s.reportEditorTx(ctx, tx, id)
		if err != nil {
			return err
		}
		res, err := tx.Exec(ctx, "DELETE FROM tabletop_findings WHERE id = ? AND exercise_id = ?", findingID, id)
		if err != nil {
			return fmt.Errorf("tabletop: finding: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(fmt.Errorf("finding %d: %w", findingID, ErrNotFound), err)
		}
		return appendAudit(ctx, tx, e.OrgID, "tabletop.report.finding_delete", "tabletop_exercise", idStr(id), map[string]any{"finding": findingID})
	})
}

// NewImprovement is an item added to the improvement plan.
type NewImprovement struct {
	Action         string
	OwnerOrg       int64
	Due            string
	Recommendation string
	Question       string
}

// AddImprovement adds an item to exercise id's improvement plan. Its
// owner is one of the exercise's organisations; its links are checked
// against the catalogue and the resilience model.
func (s *Store) AddImprovement(ctx context.Context, id int64, n NewImprovement) (Improvement, error) {
	if err := checkWritten("the action", n.Action, MaxAction, true); err != nil {
		return Improvement{}, err
	}
	if _, err := time.Parse(time.DateOnly, n.Due); err != nil {
		return Improvement{}, fmt.Errorf("%w: give the due date as YYYY-MM-DD", ErrInvalid)
	}
	n.Recommendation, n.Question = strings.TrimSpace(n.Recommendation), strings.TrimSpace(n.Question)
	if n.Recommendation != "" && (s.refs.Recommendation == nil || !s.refs.Recommendation(n.Recommendation)) {
		return Improvement{}, fmt.Errorf("%w: the catalogue has no recommendation %q", ErrInvalid, n.Recommendation)
	}
	if n.Question != "" && (s.refs.Question == nil || !s.refs.Question(n.Question)) {
		return Improvement{}, fmt.Errorf("%w: the resilience model has no question %q", ErrInvalid, n.Question)
	}
	var out Improvement
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		e, err := s.reportEditorTx(ctx, tx, id)
		if err != nil {
			return err
		}
		var name string
		err = tx.QueryRow(ctx, "SELECT o.name FROM tabletop_orgs t JOIN orgs o ON o.id = t.org_id WHERE t.exercise_id = ? AND t.org_id = ?", id, n.OwnerOrg).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: choose an organisation of the exercise as the owner", ErrInvalid)
		}
		if err != nil {
			return fmt.Errorf("tabletop: improvement owner: %w", err)
		}
		now := s.nowUTC().UnixMicro()
		out = Improvement{Action: cleanWritten(n.Action), OwnerOrg: n.OwnerOrg, OwnerName: name, Due: n.Due, Recommendation: n.Recommendation, Question: n.Question, Status: "open"}
		if err := tx.QueryRow(ctx, `INSERT INTO tabletop_improvements (exercise_id, action, owner_org, due, recommendation, question, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, id, out.Action, n.OwnerOrg, n.Due, n.Recommendation, n.Question, nullID(userOf(ctx)), now, now).Scan(&out.ID); err != nil {
			return fmt.Errorf("tabletop: improvement: %w", err)
		}
		return appendAudit(ctx, tx, e.OrgID, "tabletop.report.improvement", "tabletop_exercise", idStr(id),
			map[string]any{"improvement": out.ID, "owner": n.OwnerOrg, "due": n.Due, "recommendation": n.Recommendation, "question": n.Question}, n.OwnerOrg)
	})
	return out, err
}

// SetImprovementStatus marks an item open or done. The exercise's
// facilitators and the owner organisation's members both may (the owner
// reports its follow-up); memberOrgs are the actor's organisations.
func (s *Store) SetImprovementStatus(ctx context.Context, id, itemID int64, status string, memberOrgs []int64) error {
	if status != "open" && status != "done" {
		return fmt.Errorf("%w: an item is open or done", ErrInvalid)
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var owner, facOrg int64
		err := tx.QueryRow(ctx, `SELECT i.owner_org, e.org_id FROM tabletop_improvements i JOIN tabletop_exercises e ON e.id = i.exercise_id
			WHERE i.id = ? AND i.exercise_id = ?`, itemID, id).Scan(&owner, &facOrg)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("improvement %d: %w", itemID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("tabletop: improvement: %w", err)
		}
		if !slices.Contains(memberOrgs, owner) {
			if _, err := s.reportEditorTx(ctx, tx, id); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, "UPDATE tabletop_improvements SET status = ?, updated_at = ? WHERE id = ?", status, s.nowUTC().UnixMicro(), itemID); err != nil {
			return fmt.Errorf("tabletop: improvement: %w", err)
		}
		return appendAudit(ctx, tx, facOrg, "tabletop.report.improvement_status", "tabletop_exercise", idStr(id),
			map[string]any{"improvement": itemID, "status": status}, owner)
	})
}

// DeleteImprovement removes an item not sent yet.
func (s *Store) DeleteImprovement(ctx context.Context, id, itemID int64) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		e, err := s.reportEditorTx(ctx, tx, id)
		if err != nil {
			return err
		}
		var sent sql.NullInt64
		err = tx.QueryRow(ctx, "SELECT sent_at FROM tabletop_improvements WHERE id = ? AND exercise_id = ?", itemID, id).Scan(&sent)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("improvement %d: %w", itemID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("tabletop: improvement: %w", err)
		}
		if sent.Valid {
			return fmt.Errorf("%w: the item was sent to its owner; mark it done instead", ErrInvalid)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM tabletop_improvements WHERE id = ?", itemID); err != nil {
			return fmt.Errorf("tabletop: improvement: %w", err)
		}
		return appendAudit(ctx, tx, e.OrgID, "tabletop.report.improvement_delete", "tabletop_exercise", idStr(id), map[string]any{"improvement": itemID})
	})
}

// Improvements lists exercise id's improvement plan in order.
func (s *Store) Improvements(ctx context.Context, id int64) ([]Improvement, error) {
	return s.improvements(ctx, "i.exercise_id = ?", id)
}

func (s *Store) improvements(ctx context.Context, where string, args ...any) ([]Improvement, error) {
	rows, err := s.db.Query(ctx, `SELECT i.id, i.action, i.owner_org, o.name, i.due, i.recommendation, i.question, i.status, i.tracked, i.noted, i.sent_at
		FROM tabletop_improvements i JOIN orgs o ON o.id = i.owner_org WHERE `+where+` ORDER BY i.due, i.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("tabletop: improvements: %w", err)
	}
	defer rows.Close()
	var out []Improvement
	for rows.Next() {
		var i Improvement
		var sent sql.NullInt64
		if err := rows.Scan(&i.ID, &i.Action, &i.OwnerOrg, &i.OwnerName, &i.Due, &i.Recommendation, &i.Question, &i.Status, &i.Tracked, &i.Noted, &sent); err != nil {
			return nil, fmt.Errorf("tabletop: improvements: %w", err)
		}
		if sent.Valid {
			i.Sent = time.UnixMicro(sent.Int64).UTC()
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// SendImprovement takes item itemID to its owner's own tracking through
// f: a comment on the baseline item of its recommendation, a note on its
// resilience question. What was reached is recorded; when neither could
// be, the error says why (ErrNotTracked) and nothing changes.
func (s *Store) SendImprovement(ctx context.Context, id, itemID int64, f FollowUp) (Improvement, error) {
	var it Improvement
	var ex Exercise
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		e, err := s.reportEditorTx(ctx, tx, id)
		if err != nil {
			return err
		}
		ex = e
		return nil
	})
	if err != nil {
		return Improvement{}, err
	}
	items, err := s.Improvements(ctx, id)
	if err != nil {
		return Improvement{}, err
	}
	i := slices.IndexFunc(items, func(x Improvement) bool { return x.ID == itemID })
	if i < 0 {
		return Improvement{}, fmt.Errorf("improvement %d: %w", itemID, ErrNotFound)
	}
	it = items[i]
	if it.Recommendation == "" && it.Question == "" {
		return it, fmt.Errorf("%w: link the item to a recommendation or a resilience question first", ErrNotTracked)
	}
	text := fmt.Sprintf("Improvement item from the tabletop exercise %q (run by %s): %s. Due %s.", ex.Title, ex.OrgName, it.Action, it.Due)
	var problems []error
	tracked, noted := it.Tracked, it.Noted
	if it.Recommendation != "" && tracked == "" {
		p, err := f.Track(ctx, it.OwnerOrg, it.Recommendation, text)
		switch {
		case errors.Is(err, ErrNotTracked):
			problems = append(problems, err)
		case err != nil:
			return it, err
		default:
			tracked = p
		}
	}
	if it.Question != "" && noted == "" {
		p, err := f.NoteQuestion(ctx, it.OwnerOrg, it.Question, text)
		switch {
		case errors.Is(err, ErrNotTracked):
			problems = append(problems, err)
		case err != nil:
			return it, err
		default:
			noted = p
		}
	}
	if tracked == it.Tracked && noted == it.Noted {
		return it, errors.Join(problems...)
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		now := s.nowUTC().UnixMicro()
		if _, err := tx.Exec(ctx, "UPDATE tabletop_improvements SET tracked = ?, noted = ?, sent_at = ?, updated_at = ? WHERE id = ?", tracked, noted, now, now, itemID); err != nil {
			return fmt.Errorf("tabletop: improvement: %w", err)
		}
		return appendAudit(ctx, tx, ex.OrgID, "tabletop.report.improvement_send", "tabletop_exercise", idStr(id),
			map[string]any{"improvement": itemID, "owner": it.OwnerOrg, "tracked": tracked, "noted": noted}, it.OwnerOrg)
	})
	if err != nil {
		return it, err
	}
	it.Tracked, it.Noted, it.Sent = tracked, noted, s.nowUTC()
	return it, errors.Join(problems...)
}

// LessonsDraft is an anonymised first draft of the lessons learned: the
// objectives and how far each was met, the gaps and the improvement
// actions, without organisations or people.
func LessonsDraft(r Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Lessons learned from a tabletop exercise on the scenario %q.\n", r.Exercise.Scenario.Title)
	for _, o := range r.Objectives {
		if o.Rating != "" {
			fmt.Fprintf(&b, "\n- %s: %s", o.Text, strings.ToLower(o.Label))
		}
	}
	if len(r.Gaps) > 0 {
		b.WriteString("\n\nGaps found:")
		for _, g := range r.Gaps {
			fmt.Fprintf(&b, "\n- %s", g.Text)
		}
	}
	if len(r.Improvements) > 0 {
		b.WriteString("\n\nWhat we will improve:")
		for _, i := range r.Improvements {
			fmt.Fprintf(&b, "\n- %s", i.Action)
		}
	}
	return b.String()
}

// PublishLessons publishes the anonymised lessons learned of exercise id
// once, through l. The text must not name any organisation or person of
// the exercise (checked case-insensitively against their names and
// e-mail addresses); the note is shown without its author's
// organisation.
func (s *Store) PublishLessons(ctx context.Context, id int64, recommendation, body string, l Lessons) (string, error) {
	if err := checkWritten("the lessons learned", body, MaxLessons, true); err != nil {
		return "", err
	}
	if s.refs.Recommendation == nil || !s.refs.Recommendation(recommendation) {
		return "", fmt.Errorf("%w: choose the recommendation the lessons are about", ErrInvalid)
	}
	var ex Exercise
	var authorOrg int64 // the organisation the facilitator takes part for
	if err := s.db.InTx(ctx, func(tx *db.Tx) error {
		p, err := s.partTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if p.role != RoleFacilitator {
			return fmt.Errorf("%w: facilitators publish the lessons", ErrNotAllowed)
		}
		ex, authorOrg = p.e, p.org
		return nil
	}); err != nil {
		return "", err
	}
	if ex.Status != StatusEnded {
		return "", fmt.Errorf("%w: publish the lessons once the exercise has ended", ErrInvalid)
	}
	var done string
	if err := s.db.QueryRow(ctx, "SELECT lessons FROM tabletop_exercises WHERE id = ?", id).Scan(&done); err != nil {
		return "", fmt.Errorf("tabletop: lessons: %w", err)
	}
	if done != "" {
		return done, fmt.Errorf("the lessons learned are published already: %w", ErrConflict)
	}
	names, err := s.namesIn(ctx, id)
	if err != nil {
		return "", err
	}
	low := strings.ToLower(body)
	for _, n := range names {
		if len(n) >= 3 && strings.Contains(low, strings.ToLower(n)) {
			return "", fmt.Errorf("%w: the text names %q, which the lessons must not (no organisation or person)", ErrInvalid, n)
		}
	}
	path, err := l.PublishLessons(ctx, userOf(ctx), authorOrg, recommendation, cleanWritten(body))
	if err != nil {
		return "", err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE tabletop_exercises SET lessons = ? WHERE id = ?", path, id); err != nil {
			return fmt.Errorf("tabletop: lessons: %w", err)
		}
		return appendAudit(ctx, tx, ex.OrgID, "tabletop.report.lessons", "tabletop_exercise", idStr(id), map[string]any{"recommendation": recommendation, "note": path})
	})
	return path, err
}

// namesIn lists the names and e-mail addresses of exercise id's
// organisations and participants (and the e-mail addresses' local parts).
func (s *Store) namesIn(ctx context.Context, id int64) ([]string, error) {
	rows, err := s.db.Query(ctx, `SELECT o.name FROM tabletop_orgs t JOIN orgs o ON o.id = t.org_id WHERE t.exercise_id = ?
		UNION SELECT o.name FROM tabletop_exercises e JOIN orgs o ON o.id = e.org_id WHERE e.id = ?
		UNION SELECT COALESCE(u.display_name, '') FROM tabletop_participants p JOIN users u ON u.id = p.user_id WHERE p.exercise_id = ?
		UNION SELECT COALESCE(u.email, '') FROM tabletop_participants p JOIN users u ON u.id = p.user_id WHERE p.exercise_id = ?`, id, id, id, id)
	if err != nil {
		return nil, fmt.Errorf("tabletop: names: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("tabletop: names: %w", err)
		}
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
			if local, _, ok := strings.Cut(n, "@"); ok {
				out = append(out, local)
			}
		}
	}
	return out, rows.Err()
}

// SetOwnedStatus marks item itemID of the owner organisation orgID open
// or done: the owner reports its follow-up.
func (s *Store) SetOwnedStatus(ctx context.Context, orgID, itemID int64, status string) error {
	var exID int64
	err := s.db.QueryRow(ctx, "SELECT exercise_id FROM tabletop_improvements WHERE id = ? AND owner_org = ?", itemID, orgID).Scan(&exID)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("improvement %d: %w", itemID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("tabletop: improvement: %w", err)
	}
	return s.SetImprovementStatus(ctx, exID, itemID, status, []int64{orgID})
}
