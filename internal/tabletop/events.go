package tabletop

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/dfslab/dfslab/internal/db"
)

// Event is a change of an exercise as the live stream announces it. Its
// data names what changed (an inject's title, a group, a state) but never
// carries text that only some may read in full: clients fetch the page or
// the API again for that, under the same checks as any request.
type Event struct {
	ID         int64
	ExerciseID int64
	Kind       string // state, inject, draft, answer, score, hint, note, lobby
	// Staff events are for facilitators and observers only (observer
	// notes); the others are for everyone, or only for the players of
	// Groups when that is not empty (facilitators and observers see all).
	Staff  bool
	Groups []int64
	Wall   time.Time
	Data   json.RawMessage
}

// Viewer is who a stream is for.
type Viewer struct {
	Role    ExerciseRole
	GroupID int64
}

// Sees reports whether v may receive e: the same rule as the exercise
// page's, where players see what is addressed to their group and
// facilitators and observers see everything.
func (v Viewer) Sees(e Event) bool {
	if v.Role != RolePlayer {
		return true
	}
	return !e.Staff && (len(e.Groups) == 0 || slices.Contains(e.Groups, v.GroupID))
}

// notifyChannel is the PostgreSQL channel of the live events; the
// payload is the exercise ID.
const notifyChannel = "dfslab_tabletop"

// eventTx records an event of exercise exID in tx and signals it once tx
// commits: to this process's subscribers directly, and to the other
// servers of a PostgreSQL cluster through a notification. groups nil
// means every group.
func (s *Store) eventTx(ctx context.Context, tx *db.Tx, exID int64, kind string, staff bool, groups []int64, data map[string]any) error {
	if groups == nil {
		groups = []int64{}
	}
	gj, err := json.Marshal(groups)
	if err != nil {
		return err
	}
	if data == nil {
		data = map[string]any{}
	}
	data["kind"] = kind
	dj, err := json.Marshal(data)
	if err != nil {
		return err
	}
	audience := "all"
	if staff {
		audience = "staff"
	}
	if _, err := tx.Exec(ctx, "INSERT INTO tabletop_events (exercise_id, kind, audience, groups, at_wall, data) VALUES (?, ?, ?, ?, ?, ?)",
		exID, kind, audience, string(gj), s.nowUTC().UnixMicro(), string(dj)); err != nil {
		return fmt.Errorf("tabletop: event: %w", err)
	}
	if err := tx.Notify(ctx, notifyChannel, strconv.FormatInt(exID, 10)); err != nil {
		return err
	}
	if s.changed != nil {
		tx.AfterCommit(func() { s.changed(exID) })
	}
	return nil
}

// lobbyEventTx announces a change of who takes part, in which group and
// role: every participant's page and stream look again.
func (s *Store) lobbyEventTx(ctx context.Context, tx *db.Tx, exID int64, what string) error {
	return s.eventTx(ctx, tx, exID, "lobby", false, nil, map[string]any{"change": what})
}

// groupsFor lists the groups of exercise exID addressed by an inject for
// domains: those with one of the domains.
func groupsForTx(ctx context.Context, tx *db.Tx, exID int64, domains []string) ([]int64, error) {
	rows, err := tx.Query(ctx, "SELECT id, domains FROM tabletop_groups WHERE exercise_id = ?", exID)
	if err != nil {
		return nil, fmt.Errorf("tabletop: groups: %w", err)
	}
	defer rows.Close()
	out := []int64{}
	for rows.Next() {
		var id int64
		var raw string
		if err := rows.Scan(&id, &raw); err != nil {
			return nil, fmt.Errorf("tabletop: groups: %w", err)
		}
		var ds []string
		if err := jsonList(raw, &ds); err != nil {
			return nil, fmt.Errorf("tabletop: group %d: %w", id, err)
		}
		if slices.ContainsFunc(ds, func(d string) bool { return slices.Contains(domains, d) }) {
			out = append(out, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tabletop: groups: %w", err)
	}
	if len(out) == 0 {
		// Addressed to no group: only the staff would see it, and the
		// empty list must not read as "every group".
		out = []int64{-1}
	}
	return out, nil
}

// maxEventBatch bounds one read of the events: a client that missed more
// reads again from where the batch ended.
const maxEventBatch = 500

// EventsAfter lists up to maxEventBatch events of exercise id after event
// after, in order.
func (s *Store) EventsAfter(ctx context.Context, id, after int64) ([]Event, error) {
	rows, err := s.db.Query(ctx, `SELECT id, kind, audience, groups, at_wall, data FROM tabletop_events
		WHERE exercise_id = ? AND id > ? ORDER BY id LIMIT `+strconv.Itoa(maxEventBatch), id, after)
	if err != nil {
		return nil, fmt.Errorf("tabletop: events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		e := Event{ExerciseID: id}
		var audience, groups, data string
		var wall int64
		if err := rows.Scan(&e.ID, &e.Kind, &audience, &groups, &wall, &data); err != nil {
			return nil, fmt.Errorf("tabletop: events: %w", err)
		}
		if err := json.Unmarshal([]byte(groups), &e.Groups); err != nil {
			return nil, fmt.Errorf("tabletop: event %d: %w", e.ID, err)
		}
		e.Staff, e.Wall, e.Data = audience == "staff", time.UnixMicro(wall).UTC(), json.RawMessage(data)
		out = append(out, e)
	}
	return out, rows.Err()
}

// LastEvent is the ID of exercise id's newest event (0: none yet).
func (s *Store) LastEvent(ctx context.Context, id int64) (int64, error) {
	var last int64
	if err := s.db.QueryRow(ctx, "SELECT COALESCE(MAX(id), 0) FROM tabletop_events WHERE exercise_id = ?", id).Scan(&last); err != nil {
		return 0, fmt.Errorf("tabletop: last event: %w", err)
	}
	return last, nil
}

// NextDue is the wall-clock time at which the next scenario inject of a
// running exercise falls due; ok is false when none will (not running, or
// every inject released).
func (s *Store) NextDue(ctx context.Context, id int64) (time.Time, bool, error) {
	e, err := s.Exercise(ctx, id)
	if err != nil || e.Status != StatusRunning {
		return time.Time{}, false, err
	}
	rows, err := s.db.Query(ctx, "SELECT inject_id FROM tabletop_injects WHERE exercise_id = ? AND planned_ms IS NOT NULL", id)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("tabletop: released injects: %w", err)
	}
	released := map[string]bool{}
	for rows.Next() {
		var in string
		if err := rows.Scan(&in); err != nil {
			rows.Close()
			return time.Time{}, false, fmt.Errorf("tabletop: released injects: %w", err)
		}
		released[in] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return time.Time{}, false, fmt.Errorf("tabletop: released injects: %w", err)
	}
	for _, in := range e.Scenario.Injects {
		if !released[in.ID] {
			return e.wallAt(in.Offset), true, nil
		}
	}
	return time.Time{}, false, nil
}
