package tabletop

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dfslab/dfslab/internal/db"
)

// Limits of what people write during a run, refused (never cut) when
// exceeded.
const (
	MaxAnswerField = 4000
	MaxScoreNote   = 1000
	MaxHint        = 1000
	MaxNote        = 2000
	MaxScore       = 3
)

// Answer is a group's answer to a released inject: a draft its players
// edit together until one of them makes it final.
type Answer struct {
	ID        int64
	InjectRef int64 // the released inject (Released.ID)
	GroupID   int64
	Actions   string // what do we do
	Owner     string // who owns it
	Gap       string // what gap does this expose
	Version   int64
	EditedBy  string
	Edited    time.Time
	Final     time.Time // zero while a draft
	FinalAt   time.Duration
	FinalBy   string
	Scored    bool
	Score     int
	ScoreNote string
}

// IsFinal reports whether the group has made the answer final.
func (a Answer) IsFinal() bool { return !a.Final.IsZero() }

// AnswerInput is a save of a group's answer.
type AnswerInput struct {
	Version             int64 // the version the edit started from; 0 for a new answer
	Actions, Owner, Gap string
	Final               bool
}

// part is the actor's part in an exercise, read in a transaction.
type part struct {
	e     Exercise
	role  ExerciseRole
	org   int64 // the organisation they take part for
	group int64
}

func (s *Store) partTx(ctx context.Context, tx *db.Tx, id int64) (part, error) {
	var p part
	var role string
	var group, joined sql.NullInt64
	err := tx.QueryRow(ctx, "SELECT role, org_id, group_id, joined_at FROM tabletop_participants WHERE exercise_id = ? AND user_id = ?", id, userOf(ctx)).
		Scan(&role, &p.org, &group, &joined)
	if errors.Is(err, sql.ErrNoRows) {
		return part{}, fmt.Errorf("exercise %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return part{}, fmt.Errorf("tabletop: participant: %w", err)
	}
	if !joined.Valid {
		return part{}, fmt.Errorf("%w: join the exercise first", ErrNotAllowed)
	}
	p.role, p.group = ExerciseRole(role), group.Int64
	if p.e, err = s.exerciseIn(ctx, tx, id); err != nil {
		return part{}, fmt.Errorf("tabletop: exercise: %w", err)
	}
	return p, nil
}

// logTx writes an entry of the decision log.
func logTx(ctx context.Context, tx *db.Tx, exID int64, kind string, at time.Duration, wall time.Time, actor, group int64, text string) error {
	if _, err := tx.Exec(ctx, "INSERT INTO tabletop_log (exercise_id, kind, at_ms, at_wall, actor, group_id, text) VALUES (?, ?, ?, ?, ?, ?, ?)",
		exID, kind, at.Milliseconds(), wall.UnixMicro(), nullID(actor), nullID(group), text); err != nil {
		return fmt.Errorf("tabletop: decision log: %w", err)
	}
	return nil
}

// checkWritten checks free text people write: newlines and tabs allowed,
// other control characters not.
func checkWritten(name, s string, maxLen int, required bool) error {
	switch {
	case required && strings.TrimSpace(s) == "":
		return fmt.Errorf("%w: write %s", ErrInvalid, name)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalid, name)
	case len(s) > maxLen:
		return fmt.Errorf("%w: %s is longer than %d characters (%d)", ErrInvalid, name, maxLen, len(s))
	case strings.ContainsFunc(s, func(r rune) bool {
		return (r < 0x20 && r != '\n' && r != '\t' && r != '\r') || (r >= 0x7f && r <= 0x9f)
	}):
		return fmt.Errorf("%w: %s contains control characters", ErrInvalid, name)
	}
	return nil
}

func groupTx(ctx context.Context, tx *db.Tx, exID, groupID int64) (Group, error) {
	var g Group
	var doms string
	err := tx.QueryRow(ctx, "SELECT id, name, domains, position FROM tabletop_groups WHERE id = ? AND exercise_id = ?", groupID, exID).Scan(&g.ID, &g.Name, &doms, &g.Position)
	if errors.Is(err, sql.ErrNoRows) {
		return Group{}, fmt.Errorf("%w: no such group in this exercise", ErrInvalid)
	}
	if err != nil {
		return Group{}, fmt.Errorf("tabletop: group: %w", err)
	}
	if err := jsonList(doms, &g.Domains); err != nil {
		return Group{}, fmt.Errorf("tabletop: group %d: %w", g.ID, err)
	}
	return g, nil
}

// SaveAnswer saves the actor's group's answer to released inject ref of
// exercise id: a draft, or the final answer. Only players of a group the
// inject addresses answer, while the exercise runs or is paused. A save
// that started from a version someone else replaced since is refused
// with ErrStale, and nothing is written.
func (s *Store) SaveAnswer(ctx context.Context, id, ref int64, in AnswerInput) (Answer, error) {
	for _, f := range []struct{ name, v string }{{"what you do", in.Actions}, {"who owns it", in.Owner}, {"the gap", in.Gap}} {
		if err := checkWritten(f.name, f.v, MaxAnswerField, in.Final && f.name == "what you do"); err != nil {
			return Answer{}, err
		}
	}
	norm := func(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")) }
	in.Actions, in.Owner, in.Gap = norm(in.Actions), norm(in.Owner), norm(in.Gap)
	var out Answer
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		p, err := s.partTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if p.role != RolePlayer {
			return fmt.Errorf("%w: only players answer", ErrNotAllowed)
		}
		if p.group == 0 {
			return fmt.Errorf("%w: you are in no group yet", ErrNotAllowed)
		}
		if p.e.Status != StatusRunning && p.e.Status != StatusPaused {
			return fmt.Errorf("%w: answers are given while the exercise runs", ErrInvalid)
		}
		g, err := groupTx(ctx, tx, id, p.group)
		if err != nil {
			return err
		}
		rel, err := releasedTx(ctx, tx, id, ref)
		if err != nil {
			return err
		}
		if !rel.For(&g) {
			return fmt.Errorf("inject %d: %w", ref, ErrNotFound) // players do not see it
		}
		now := s.nowUTC()
		at := p.e.ExerciseTime(now)
		actor := userOf(ctx)
		var final any
		var finalMS any
		if in.Final {
			final, finalMS = now.UnixMicro(), at.Milliseconds()
		}
		var cur struct {
			id, version int64
			final       sql.NullInt64
		}
		err = tx.QueryRow(ctx, "SELECT id, version, final_at FROM tabletop_answers WHERE inject_ref = ? AND group_id = ?", ref, g.ID).Scan(&cur.id, &cur.version, &cur.final)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if in.Version != 0 {
				return ErrStale
			}
			// Two first saves at once: the unique key keeps one.
			res, err := tx.Exec(ctx, `INSERT INTO tabletop_answers (exercise_id, inject_ref, group_id, actions, owner, gap, version, edited_by, edited_at, final_ms, final_at, final_by)
				VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?) ON CONFLICT (inject_ref, group_id) DO NOTHING`,
				id, ref, g.ID, in.Actions, in.Owner, in.Gap, actor, now.UnixMicro(), finalMS, final, nullIf(in.Final, actor))
			if err != nil {
				return fmt.Errorf("tabletop: answer: %w", err)
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				return errors.Join(ErrStale, err)
			}
			cur.version = 0
		case err != nil:
			return fmt.Errorf("tabletop: answer: %w", err)
		case cur.final.Valid:
			return fmt.Errorf("your group's answer is final already: %w", ErrConflict)
		case cur.version != in.Version:
			return ErrStale
		default:
			res, err := tx.Exec(ctx, `UPDATE tabletop_answers SET actions = ?, owner = ?, gap = ?, version = version + 1, edited_by = ?, edited_at = ?,
				final_ms = ?, final_at = ?, final_by = ? WHERE id = ? AND version = ? AND final_at IS NULL`,
				in.Actions, in.Owner, in.Gap, actor, now.UnixMicro(), finalMS, final, nullIf(in.Final, actor), cur.id, in.Version)
			if err != nil {
				return fmt.Errorf("tabletop: answer: %w", err)
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				return errors.Join(ErrStale, err)
			}
		}
		out = Answer{InjectRef: ref, GroupID: g.ID, Actions: in.Actions, Owner: in.Owner, Gap: in.Gap, Version: cur.version + 1, Edited: now}
		action, kind := "tabletop.answer.draft", "draft"
		if in.Final {
			kind = "answer"
			out.Final, out.FinalAt, action = now, at, "tabletop.answer.final"
			if err := logTx(ctx, tx, id, "answer", at, now, actor, g.ID,
				fmt.Sprintf("%s answered %s (%s): %s", g.Name, rel.InjectID, rel.Title, in.Actions)); err != nil {
				return err
			}
		}
		if err := s.eventTx(ctx, tx, id, kind, false, []int64{g.ID}, map[string]any{"inject": rel.InjectID, "ref": ref, "group": g.ID, "version": out.Version}); err != nil {
			return err
		}
		return appendAudit(ctx, tx, p.e.OrgID, action, "tabletop_exercise", idStr(id),
			map[string]any{"inject": rel.InjectID, "group": g.ID, "version": out.Version, "exercise_time_ms": at.Milliseconds(),
				"sha256": digest([]byte(in.Actions + "\x00" + in.Owner + "\x00" + in.Gap))}, p.org)
	})
	if err != nil {
		return Answer{}, err
	}
	return out, nil
}

func nullIf(ok bool, id int64) any {
	if !ok {
		return nil
	}
	return nullID(id)
}

func releasedTx(ctx context.Context, tx *db.Tx, exID, ref int64) (Released, error) {
	var r Released
	var ch, doms string
	var group, planned sql.NullInt64
	err := tx.QueryRow(ctx, "SELECT id, inject_id, channel, title, domains, group_id, planned_ms FROM tabletop_injects WHERE id = ? AND exercise_id = ?", ref, exID).
		Scan(&r.ID, &r.InjectID, &ch, &r.Title, &doms, &group, &planned)
	if errors.Is(err, sql.ErrNoRows) {
		return Released{}, fmt.Errorf("inject %d: %w", ref, ErrNotFound)
	}
	if err != nil {
		return Released{}, fmt.Errorf("tabletop: inject: %w", err)
	}
	if err := jsonList(doms, &r.Domains); err != nil {
		return Released{}, fmt.Errorf("tabletop: inject %d: %w", ref, err)
	}
	r.Channel, r.GroupID, r.AdHoc = Channel(ch), group.Int64, !planned.Valid
	return r, nil
}

// Answers lists the answers of exercise id (drafts and final), by
// inject and group. Callers filter what a player may see with
// [Answer.GroupID].
func (s *Store) Answers(ctx context.Context, id int64) ([]Answer, error) {
	rows, err := s.db.Query(ctx, `SELECT a.id, a.inject_ref, a.group_id, a.actions, a.owner, a.gap, a.version, COALESCE(ue.display_name, ''), a.edited_at,
			a.final_at, a.final_ms, COALESCE(uf.display_name, ''), a.score, COALESCE(a.score_note, '')
		FROM tabletop_answers a LEFT JOIN users ue ON ue.id = a.edited_by LEFT JOIN users uf ON uf.id = a.final_by
		WHERE a.exercise_id = ? ORDER BY a.inject_ref, a.group_id`, id)
	if err != nil {
		return nil, fmt.Errorf("tabletop: answers: %w", err)
	}
	defer rows.Close()
	var out []Answer
	for rows.Next() {
		var a Answer
		var edited int64
		var final, finalMS, score sql.NullInt64
		if err := rows.Scan(&a.ID, &a.InjectRef, &a.GroupID, &a.Actions, &a.Owner, &a.Gap, &a.Version, &a.EditedBy, &edited,
			&final, &finalMS, &a.FinalBy, &score, &a.ScoreNote); err != nil {
			return nil, fmt.Errorf("tabletop: answers: %w", err)
		}
		a.Edited = time.UnixMicro(edited).UTC()
		if final.Valid {
			a.Final, a.FinalAt = time.UnixMicro(final.Int64).UTC(), time.Duration(finalMS.Int64)*time.Millisecond
		}
		a.Scored, a.Score = score.Valid, int(score.Int64)
		out = append(out, a)
	}
	return out, rows.Err()
}

// ScoreAnswer scores a group's final answer against the expected actions
// (0 to 3, with a note). Facilitators score, also after the end (the
// debrief); a second score replaces the first, and both stay in the log.
func (s *Store) ScoreAnswer(ctx context.Context, id, answerID int64, score int, note string) error {
	if score < 0 || score > MaxScore {
		return fmt.Errorf("%w: a score is 0, 1, 2 or 3", ErrInvalid)
	}
	if err := checkWritten("the note", note, MaxScoreNote, false); err != nil {
		return err
	}
	note = strings.TrimSpace(strings.ReplaceAll(note, "\r\n", "\n"))
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		p, err := s.partTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if p.role != RoleFacilitator {
			return fmt.Errorf("%w: facilitators score", ErrNotAllowed)
		}
		var ref, group int64
		var final sql.NullInt64
		err = tx.QueryRow(ctx, "SELECT inject_ref, group_id, final_at FROM tabletop_answers WHERE id = ? AND exercise_id = ?", answerID, id).Scan(&ref, &group, &final)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("answer %d: %w", answerID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("tabletop: answer: %w", err)
		}
		if !final.Valid {
			return fmt.Errorf("%w: the group's answer is still a draft", ErrInvalid)
		}
		g, err := groupTx(ctx, tx, id, group)
		if err != nil {
			return err
		}
		rel, err := releasedTx(ctx, tx, id, ref)
		if err != nil {
			return err
		}
		now := s.nowUTC()
		if _, err := tx.Exec(ctx, "UPDATE tabletop_answers SET score = ?, score_note = ?, scored_by = ?, scored_at = ? WHERE id = ?",
			score, note, userOf(ctx), now.UnixMicro(), answerID); err != nil {
			return fmt.Errorf("tabletop: score: %w", err)
		}
		at := p.e.ExerciseTime(now)
		text := fmt.Sprintf("%s's answer to %s scored %d/%d", g.Name, rel.InjectID, score, MaxScore)
		if note != "" {
			text += ": " + note
		}
		if err := logTx(ctx, tx, id, "score", at, now, userOf(ctx), g.ID, text); err != nil {
			return err
		}
		if err := s.eventTx(ctx, tx, id, "score", false, []int64{g.ID}, map[string]any{"inject": rel.InjectID, "ref": ref, "group": g.ID}); err != nil {
			return err
		}
		return appendAudit(ctx, tx, p.e.OrgID, "tabletop.answer.score", "tabletop_exercise", idStr(id),
			map[string]any{"inject": rel.InjectID, "group": g.ID, "score": score})
	})
}

// Hint sends a hint to one group; facilitators send them while the
// exercise runs or is paused. The group's players see it.
func (s *Store) Hint(ctx context.Context, id, groupID int64, text string) error {
	if err := checkWritten("the hint", text, MaxHint, true); err != nil {
		return err
	}
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		p, err := s.partTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if p.role != RoleFacilitator {
			return fmt.Errorf("%w: facilitators send hints", ErrNotAllowed)
		}
		if p.e.Status != StatusRunning && p.e.Status != StatusPaused {
			return fmt.Errorf("%w: hints are sent while the exercise runs", ErrInvalid)
		}
		if groupID == 0 {
			return fmt.Errorf("%w: choose the group", ErrInvalid)
		}
		g, err := groupTx(ctx, tx, id, groupID)
		if err != nil {
			return err
		}
		now := s.nowUTC()
		if err := logTx(ctx, tx, id, "hint", p.e.ExerciseTime(now), now, userOf(ctx), g.ID, text); err != nil {
			return err
		}
		if err := s.eventTx(ctx, tx, id, "hint", false, []int64{g.ID}, map[string]any{"group": g.ID}); err != nil {
			return err
		}
		return appendAudit(ctx, tx, p.e.OrgID, "tabletop.hint", "tabletop_exercise", idStr(id), map[string]any{"group": g.ID, "sha256": digest([]byte(text))})
	})
}

// Note keeps an observer's note. Observers and facilitators write them,
// at any stage; players never see them.
func (s *Store) Note(ctx context.Context, id int64, text string) error {
	if err := checkWritten("the note", text, MaxNote, true); err != nil {
		return err
	}
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		p, err := s.partTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if p.role == RolePlayer {
			return fmt.Errorf("%w: observers and facilitators keep notes", ErrNotAllowed)
		}
		now := s.nowUTC()
		if err := logTx(ctx, tx, id, "note", p.e.ExerciseTime(now), now, userOf(ctx), 0, text); err != nil {
			return err
		}
		if err := s.eventTx(ctx, tx, id, "note", true, nil, nil); err != nil {
			return err
		}
		return appendAudit(ctx, tx, p.e.OrgID, "tabletop.note", "tabletop_exercise", idStr(id), map[string]any{"sha256": digest([]byte(text))}, p.org)
	})
}

// LogEntry is an entry of an exercise's decision log.
type LogEntry struct {
	ID      int64
	Kind    string // state, inject, answer, score, hint, note
	At      time.Duration
	Wall    time.Time
	Actor   string // "" for the exercise clock
	GroupID int64
	Text    string
}

// Log lists exercise id's decision log in order.
func (s *Store) Log(ctx context.Context, id int64) ([]LogEntry, error) {
	rows, err := s.db.Query(ctx, `SELECT l.id, l.kind, l.at_ms, l.at_wall, COALESCE(u.display_name, ''), COALESCE(l.group_id, 0), l.text
		FROM tabletop_log l LEFT JOIN users u ON u.id = l.actor WHERE l.exercise_id = ? ORDER BY l.id`, id)
	if err != nil {
		return nil, fmt.Errorf("tabletop: decision log: %w", err)
	}
	defer rows.Close()
	var out []LogEntry
	for rows.Next() {
		var l LogEntry
		var at, wall int64
		if err := rows.Scan(&l.ID, &l.Kind, &at, &wall, &l.Actor, &l.GroupID, &l.Text); err != nil {
			return nil, fmt.Errorf("tabletop: decision log: %w", err)
		}
		l.At, l.Wall = time.Duration(at)*time.Millisecond, time.UnixMicro(wall).UTC()
		out = append(out, l)
	}
	return out, rows.Err()
}

func jsonList(raw string, out *[]string) error { return json.Unmarshal([]byte(raw), out) }
