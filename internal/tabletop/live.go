package tabletop

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/db"
)

// ExerciseTime is how far the exercise clock has run at now: it runs at
// the exercise's speed while running and stands still otherwise. It is
// worked out from the stored clock, so a restarted server resumes at the
// same exercise time.
func (e Exercise) ExerciseTime(now time.Time) time.Duration {
	t := time.Duration(e.ClockMS) * time.Millisecond
	if e.Status == StatusRunning && !e.ClockAt.IsZero() {
		t += time.Duration(float64(now.Sub(e.ClockAt)) * e.Speed)
	}
	return max(t, 0)
}

// wallAt is the wall-clock time at which a running exercise's clock
// reaches exercise time t.
func (e Exercise) wallAt(t time.Duration) time.Time {
	return e.ClockAt.Add(time.Duration(float64(t-time.Duration(e.ClockMS)*time.Millisecond) / e.Speed))
}

// Released is an inject as released in an exercise.
type Released struct {
	ID       int64
	InjectID string // the scenario's; "adhoc-N" for ad-hoc injects
	Channel  Channel
	From     string
	Title    string
	Content  string
	Domains  []string // target domain groups (scenario injects)
	GroupID  int64    // an ad-hoc inject's target group; 0: all
	Planned  time.Duration
	AdHoc    bool
	At       time.Duration // exercise time of the release
	Wall     time.Time
	By       int64 // 0: the exercise clock
}

// For reports whether a participant of group g (nil: no group) is
// addressed by the inject.
func (r Released) For(g *Group) bool {
	if r.AdHoc {
		return r.GroupID == 0 || (g != nil && g.ID == r.GroupID)
	}
	return g != nil && slices.ContainsFunc(g.Domains, func(d string) bool { return slices.Contains(r.Domains, d) })
}

// transition moves exercise id from one of the states from to state to,
// keeping the clock consistent.
func (s *Store) transition(ctx context.Context, id int64, action string, to Status, from ...Status) (Exercise, error) {
	var out Exercise
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		owner, err := facilitatorTx(ctx, tx, id)
		if err != nil {
			return err
		}
		e, err := s.exerciseIn(ctx, tx, id)
		if err != nil {
			return fmt.Errorf("tabletop: exercise: %w", err)
		}
		if !slices.Contains(from, e.Status) {
			return fmt.Errorf("%w: the exercise is %s", ErrInvalid, strings.ToLower(e.Status.Label()))
		}
		now := s.nowUTC()
		// Injects that fell due before a pause or the end are released
		// at their own time first.
		if e.Status == StatusRunning {
			if err := s.releaseDueTx(ctx, tx, e, owner, now); err != nil {
				return err
			}
		}
		elapsed := e.ExerciseTime(now)
		q := "UPDATE tabletop_exercises SET status = ?, clock_ms = ?, clock_at = ?"
		args := []any{string(to), elapsed.Milliseconds(), now.UnixMicro()}
		switch to {
		case StatusRunning:
			if e.Status == StatusSetup {
				q += ", started_at = ?"
				args = append(args, now.UnixMicro())
			}
		case StatusEnded:
			q += ", ended_at = ?"
			args = append(args, now.UnixMicro())
		}
		if _, err := tx.Exec(ctx, q+" WHERE id = ?", append(args, id)...); err != nil {
			return fmt.Errorf("tabletop: %s: %w", action, err)
		}
		e.Status, e.ClockMS, e.ClockAt = to, elapsed.Milliseconds(), now
		out = e
		if err := logTx(ctx, tx, id, "state", elapsed, now, userOf(ctx), 0, stateText[action]); err != nil {
			return err
		}
		if err := s.eventTx(ctx, tx, id, "state", false, nil, map[string]any{"status": string(to), "clock_ms": elapsed.Milliseconds(),
			"clock_at": now.UnixMilli(), "speed": e.Speed}); err != nil {
			return err
		}
		return appendAudit(ctx, tx, owner, "tabletop.exercise."+action, "tabletop_exercise", idStr(id),
			map[string]any{"exercise_time_ms": elapsed.Milliseconds()})
	})
	return out, err
}

// stateText is how the decision log words a change of state.
var stateText = map[string]string{
	"start": "Exercise started", "pause": "Exercise paused", "resume": "Exercise resumed", "end": "Exercise ended",
}

func injectText(id, title, how string) string {
	return fmt.Sprintf("Inject %s released %s: %s", id, how, title)
}

// Start starts the exercise clock.
func (s *Store) Start(ctx context.Context, id int64) (Exercise, error) {
	return s.transition(ctx, id, "start", StatusRunning, StatusSetup)
}

// Pause stops the exercise clock.
func (s *Store) Pause(ctx context.Context, id int64) (Exercise, error) {
	return s.transition(ctx, id, "pause", StatusPaused, StatusRunning)
}

// Resume lets the exercise clock run again from where it stopped.
func (s *Store) Resume(ctx context.Context, id int64) (Exercise, error) {
	return s.transition(ctx, id, "resume", StatusRunning, StatusPaused)
}

// End ends the exercise; its clock stops for good.
func (s *Store) End(ctx context.Context, id int64) (Exercise, error) {
	return s.transition(ctx, id, "end", StatusEnded, StatusRunning, StatusPaused)
}

// ReleaseDue releases the scenario injects whose time has come on a
// running exercise's clock. Every reader calls it (pages, and the live
// updates later), so that nothing depends on a process having been up
// at the moment an inject fell due; the unique key makes concurrent
// calls release each inject once.
func (s *Store) ReleaseDue(ctx context.Context, id int64) error {
	e, err := s.Exercise(ctx, id)
	if err != nil || e.Status != StatusRunning {
		return err
	}
	now := s.nowUTC()
	elapsed := e.ExerciseTime(now)
	rows, err := s.db.Query(ctx, "SELECT inject_id FROM tabletop_injects WHERE exercise_id = ? AND planned_ms IS NOT NULL", id)
	if err != nil {
		return fmt.Errorf("tabletop: released injects: %w", err)
	}
	released := map[string]bool{}
	for rows.Next() {
		var in string
		if err := rows.Scan(&in); err != nil {
			rows.Close()
			return fmt.Errorf("tabletop: released injects: %w", err)
		}
		released[in] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("tabletop: released injects: %w", err)
	}
	// Readers call this on every view: write only when an inject is due.
	if !slices.ContainsFunc(e.Scenario.Injects, func(in *Inject) bool { return in.Offset <= elapsed && !released[in.ID] }) {
		return nil
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		// Read the clock again under the write lock: a pause committed
		// since must not see injects released after it.
		e, err := s.exerciseIn(ctx, tx, id)
		if err != nil {
			return fmt.Errorf("tabletop: exercise: %w", err)
		}
		if e.Status != StatusRunning {
			return nil
		}
		return s.releaseDueTx(ctx, tx, e, e.OrgID, s.nowUTC())
	})
}

func (s *Store) releaseDueTx(ctx context.Context, tx *db.Tx, e Exercise, owner int64, now time.Time) error {
	elapsed := e.ExerciseTime(now)
	for _, in := range e.Scenario.Injects {
		if in.Offset > elapsed {
			break
		}
		// Released at the moment it fell due, even when noticed later.
		n, err := insertInject(ctx, tx, e.ID, in, in.Offset, e.wallAt(in.Offset), 0)
		if err != nil {
			return err
		}
		if n > 0 {
			if err := logTx(ctx, tx, e.ID, "inject", in.Offset, e.wallAt(in.Offset), 0, 0, injectText(in.ID, in.Title, "by the clock")); err != nil {
				return err
			}
			if err := s.injectEventTx(ctx, tx, e.ID, in); err != nil {
				return err
			}
			if err := appendAudit(ctx, tx, owner, "tabletop.inject.release", "tabletop_exercise", idStr(e.ID),
				map[string]any{"inject": in.ID, "by": "clock", "exercise_time_ms": in.Offset.Milliseconds()}); err != nil {
				return err
			}
		}
	}
	return nil
}

func insertInject(ctx context.Context, tx *db.Tx, exID int64, in *Inject, at time.Duration, wall time.Time, by int64) (int64, error) {
	doms, err := json.Marshal(in.Groups)
	if err != nil {
		return 0, err
	}
	res, err := tx.Exec(ctx, `INSERT INTO tabletop_injects (exercise_id, inject_id, channel, sender, title, content, domains, planned_ms, released_ms, released_at, released_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (exercise_id, inject_id) DO NOTHING`,
		exID, in.ID, string(in.Channel), in.From, in.Title, in.Content, string(doms), in.Offset.Milliseconds(), at.Milliseconds(), wall.UnixMicro(), nullID(by))
	if err != nil {
		return 0, fmt.Errorf("tabletop: release inject: %w", err)
	}
	return res.RowsAffected()
}

// ReleaseNow releases a scenario inject by hand, ahead of its time.
func (s *Store) ReleaseNow(ctx context.Context, id int64, injectID string) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		owner, err := facilitatorTx(ctx, tx, id)
		if err != nil {
			return err
		}
		e, err := s.exerciseIn(ctx, tx, id)
		if err != nil {
			return fmt.Errorf("tabletop: exercise: %w", err)
		}
		if e.Status != StatusRunning && e.Status != StatusPaused {
			return fmt.Errorf("%w: start the exercise first", ErrInvalid)
		}
		in := e.Scenario.Inject(injectID)
		if in == nil {
			return fmt.Errorf("%w: the scenario has no inject %q", ErrInvalid, injectID)
		}
		now := s.nowUTC()
		at := e.ExerciseTime(now)
		n, err := insertInject(ctx, tx, id, in, at, now, userOf(ctx))
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("inject %s is released already: %w", injectID, ErrConflict)
		}
		if err := logTx(ctx, tx, id, "inject", at, now, userOf(ctx), 0, injectText(in.ID, in.Title, "by hand")); err != nil {
			return err
		}
		if err := s.injectEventTx(ctx, tx, id, in); err != nil {
			return err
		}
		return appendAudit(ctx, tx, owner, "tabletop.inject.release", "tabletop_exercise", idStr(id),
			map[string]any{"inject": injectID, "by": "hand", "exercise_time_ms": at.Milliseconds()})
	})
}

// AdHoc is an inject the facilitator writes during the exercise.
type AdHoc struct {
	Channel Channel
	From    string
	Title   string
	Content string
	GroupID int64 // 0: every group
}

// ReleaseAdHoc releases an ad-hoc inject now.
func (s *Store) ReleaseAdHoc(ctx context.Context, id int64, a AdHoc) (Released, error) {
	if !a.Channel.Valid() {
		return Released{}, fmt.Errorf("%w: choose a channel", ErrInvalid)
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"sender (from)", a.From, maxFrom}, {"title", a.Title, maxTitleInject}} {
		if err := checkPlain(f.name, strings.TrimSpace(f.v), f.max); err != nil {
			return Released{}, err
		}
	}
	switch {
	case strings.TrimSpace(a.Content) == "":
		return Released{}, fmt.Errorf("%w: write the inject's text", ErrInvalid)
	case len(a.Content) > maxContent:
		return Released{}, fmt.Errorf("%w: the text is longer than %d characters (%d)", ErrInvalid, maxContent, len(a.Content))
	case strings.ContainsFunc(a.Content, func(r rune) bool {
		return (r < 0x20 && r != '\n' && r != '\t' && r != '\r') || (r >= 0x7f && r <= 0x9f)
	}):
		return Released{}, fmt.Errorf("%w: the text contains control characters", ErrInvalid)
	}
	var out Released
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		owner, err := facilitatorTx(ctx, tx, id)
		if err != nil {
			return err
		}
		e, err := s.exerciseIn(ctx, tx, id)
		if err != nil {
			return fmt.Errorf("tabletop: exercise: %w", err)
		}
		if e.Status != StatusRunning && e.Status != StatusPaused {
			return fmt.Errorf("%w: start the exercise first", ErrInvalid)
		}
		if err := checkGroupTx(ctx, tx, id, a.GroupID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM tabletop_injects WHERE exercise_id = ? AND planned_ms IS NULL", id).Scan(&n); err != nil {
			return fmt.Errorf("tabletop: ad-hoc inject: %w", err)
		}
		now := s.nowUTC()
		out = Released{InjectID: fmt.Sprintf("adhoc-%d", n+1), Channel: a.Channel, From: strings.TrimSpace(a.From), Title: strings.TrimSpace(a.Title),
			Content: strings.ReplaceAll(a.Content, "\r\n", "\n"), GroupID: a.GroupID, AdHoc: true, At: e.ExerciseTime(now), Wall: now, By: userOf(ctx)}
		if err := tx.QueryRow(ctx, `INSERT INTO tabletop_injects (exercise_id, inject_id, channel, sender, title, content, domains, group_id, released_ms, released_at, released_by)
			VALUES (?, ?, ?, ?, ?, ?, '[]', ?, ?, ?, ?) RETURNING id`, id, out.InjectID, string(out.Channel), out.From, out.Title, out.Content,
			nullID(a.GroupID), out.At.Milliseconds(), now.UnixMicro(), nullID(out.By)).Scan(&out.ID); err != nil {
			return fmt.Errorf("tabletop: ad-hoc inject: %w", err)
		}
		if err := logTx(ctx, tx, id, "inject", out.At, now, out.By, a.GroupID, injectText(out.InjectID, out.Title, "ad hoc")); err != nil {
			return err
		}
		var groups []int64
		if a.GroupID != 0 {
			groups = []int64{a.GroupID}
		}
		if err := s.eventTx(ctx, tx, id, "inject", false, groups, map[string]any{"inject": out.InjectID, "title": out.Title, "channel": string(out.Channel)}); err != nil {
			return err
		}
		return appendAudit(ctx, tx, owner, "tabletop.inject.adhoc", "tabletop_exercise", idStr(id),
			map[string]any{"inject": out.InjectID, "group": a.GroupID, "title": out.Title, "exercise_time_ms": out.At.Milliseconds()})
	})
	if err != nil {
		return Released{}, err
	}
	return out, nil
}

// ReleasedInjects lists the injects released in an exercise in the
// order of their release.
func (s *Store) ReleasedInjects(ctx context.Context, id int64) ([]Released, error) {
	rows, err := s.db.Query(ctx, `SELECT id, inject_id, channel, sender, title, content, domains, group_id, planned_ms, released_ms, released_at, released_by
		FROM tabletop_injects WHERE exercise_id = ? ORDER BY released_ms, id`, id)
	if err != nil {
		return nil, fmt.Errorf("tabletop: injects: %w", err)
	}
	defer rows.Close()
	var out []Released
	for rows.Next() {
		var r Released
		var ch, doms string
		var group, planned, by sql.NullInt64
		var at, wall int64
		if err := rows.Scan(&r.ID, &r.InjectID, &ch, &r.From, &r.Title, &r.Content, &doms, &group, &planned, &at, &wall, &by); err != nil {
			return nil, fmt.Errorf("tabletop: injects: %w", err)
		}
		if err := json.Unmarshal([]byte(doms), &r.Domains); err != nil {
			return nil, fmt.Errorf("tabletop: inject %d: %w", r.ID, err)
		}
		r.Channel, r.GroupID, r.AdHoc, r.By = Channel(ch), group.Int64, !planned.Valid, by.Int64
		r.Planned, r.At, r.Wall = time.Duration(planned.Int64)*time.Millisecond, time.Duration(at)*time.Millisecond, time.UnixMicro(wall).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// injectEventTx announces the release of a scenario inject to the groups
// it addresses.
func (s *Store) injectEventTx(ctx context.Context, tx *db.Tx, exID int64, in *Inject) error {
	groups, err := groupsForTx(ctx, tx, exID, in.Groups)
	if err != nil {
		return err
	}
	return s.eventTx(ctx, tx, exID, "inject", false, groups, map[string]any{"inject": in.ID, "title": in.Title, "channel": string(in.Channel)})
}
