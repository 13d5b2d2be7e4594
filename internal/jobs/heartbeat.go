package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	"github.com/dfslab/dfslab/internal/db"
)

// Heartbeats. River's own rescuer knows only how long a job has been
// running, so it must wait for the job timeout (and a margin) before it
// may assume the process died: a scan interrupted by kill -9 stayed
// "running" for 35 minutes. Instead, every attempt records a heartbeat
// while its handler runs; a running job whose current attempt has not
// beaten for [staleBeats] intervals is taken for interrupted, and any
// process that runs jobs puts it back in the queue through River's own
// rescue query (retryable with River's back-off, or discarded when out of
// attempts). River's rescuer stays as the last resort.

// DefaultHeartbeat is the default of [Config.Heartbeat].
const DefaultHeartbeat = 10 * time.Second

// staleBeats is how many heartbeat intervals an attempt may miss before it
// is taken for interrupted: enough to ride out a busy database (SQLite's
// write lock, a PostgreSQL fail-over) without a second run of a live job.
const staleBeats = 6

// interruptedError is the error recorded on a job rescued here; people
// read it as the reason of the retry.
const interruptedError = "interrupted: the process running it stopped (no heartbeat for %s)"

// errLostJob ends a handler whose attempt is no longer the job's running
// one (it was taken for interrupted and rescued, or cancelled), or that
// could not record a heartbeat for so long that other processes will take
// it for interrupted: stopping it is what keeps a job from running twice.
var errLostJob = errors.New("jobs: this attempt lost its job: its heartbeat was missed for too long")

// heartbeatMiddleware records the heartbeats of every attempt.
type heartbeatMiddleware struct {
	river.MiddlewareDefaults
	db       *db.DB
	interval time.Duration
	log      *slog.Logger
}

func (m *heartbeatMiddleware) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	// The first beat comes before the handler, so that an attempt without
	// one is only ever the short moment between fetch and start.
	if err := beat(ctx, m.db, job.ID, job.Attempt, true); err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	wg.Go(func() { m.keepBeating(ctx, cancel, job) })
	err := doInner(ctx)
	cancel(nil)
	wg.Wait()
	return err
}

// keepBeating beats every interval until ctx ends. It cancels the
// handler when the beat finds that the job moved on without this attempt,
// and when no beat has succeeded for staleBeats-1 intervals, before the
// other processes' limit.
func (m *heartbeatMiddleware) keepBeating(ctx context.Context, cancel context.CancelCauseFunc, job *rivertype.JobRow) {
	t := time.NewTicker(m.interval)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := beat(ctx, m.db, job.ID, job.Attempt, false)
		switch {
		case err == nil:
			last = time.Now()
		case errors.Is(err, errLostJob):
			m.log.Warn("jobs: attempt no longer holds its job; cancelling it", "job", job.ID, "kind", job.Kind, "attempt", job.Attempt)
			cancel(err)
			return
		case ctx.Err() != nil:
			return
		default:
			m.log.Warn("jobs: heartbeat", "job", job.ID, "kind", job.Kind, "attempt", job.Attempt, "err", err)
			if time.Since(last) >= (staleBeats-1)*m.interval {
				cancel(fmt.Errorf("%w: %w", errLostJob, err))
				return
			}
		}
	}
}

// beat records that attempt of job id is alive. The first beat of an
// attempt replaces what an earlier attempt left; later ones update only
// while the job is still running at this attempt, and report errLostJob
// otherwise.
func beat(ctx context.Context, d *db.DB, id int64, attempt int, first bool) error {
	now := time.Now().UnixMicro()
	if first {
		if _, err := d.Exec(ctx, `INSERT INTO job_heartbeat (job_id, attempt, beat_at) VALUES (?, ?, ?)
			ON CONFLICT (job_id) DO UPDATE SET attempt = excluded.attempt, beat_at = excluded.beat_at`, id, attempt, now); err != nil {
			return fmt.Errorf("jobs: heartbeat of job %d: %w", id, err)
		}
		return nil
	}
	res, err := d.Exec(ctx, `UPDATE job_heartbeat SET beat_at = ? WHERE job_id = ? AND attempt = ?
		AND EXISTS (SELECT 1 FROM river_job j WHERE j.id = ? AND j.state = 'running' AND j.attempt = ?)`,
		now, id, attempt, id, attempt)
	if err != nil {
		return fmt.Errorf("jobs: heartbeat of job %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return errLostJob
	}
	return nil
}

// heartbeat is an attempt's latest beat.
type heartbeat struct {
	attempt int
	at      time.Time
}

func readHeartbeat(ctx context.Context, d *db.DB, id int64) (heartbeat, bool, error) {
	var (
		h  heartbeat
		at int64
	)
	err := d.QueryRow(ctx, "SELECT attempt, beat_at FROM job_heartbeat WHERE job_id = ?", id).Scan(&h.attempt, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return heartbeat{}, false, nil
	}
	if err != nil {
		return heartbeat{}, false, fmt.Errorf("jobs: heartbeat of job %d: %w", id, err)
	}
	h.at = time.UnixMicro(at)
	return h, true, nil
}

// interrupted reports whether row, a running job, has gone without a
// heartbeat of its current attempt since before horizon: its latest beat,
// or, when the attempt never beat, its start.
func interrupted(row *rivertype.JobRow, h heartbeat, ok bool, horizon time.Time) bool {
	if row.State != rivertype.JobStateRunning {
		return false
	}
	if ok && h.attempt == row.Attempt {
		return h.at.Before(horizon)
	}
	return row.AttemptedAt != nil && row.AttemptedAt.Before(horizon)
}

// OnInterrupt registers fn to be told when a job of kind T was found
// interrupted and taken back: queued for another attempt (final false) or
// given up, out of attempts (final true). It lets a capability that mirrors
// its jobs in its own records (a scan's row) follow; it runs once, in the
// process that took the job back, after that is committed, and its error
// is only logged. j is the interrupted attempt as its handler saw it.
func OnInterrupt[T Args](ws *Workers, fn func(ctx context.Context, j *Job[T], final bool) error) {
	kind := (*new(T)).Kind()
	if _, dup := ws.onInterrupt[kind]; dup {
		panic("jobs: OnInterrupt registered twice for " + kind)
	}
	ws.onInterrupt[kind] = func(ctx context.Context, row *rivertype.JobRow, final bool) error {
		var args T
		if err := json.Unmarshal(row.EncodedArgs, &args); err != nil {
			return fmt.Errorf("jobs: args of job %d: %w", row.ID, err)
		}
		return fn(ctx, &Job[T]{JobRow: row, Args: args}, final)
	}
}

// watchInterrupted takes back interrupted jobs every heartbeat interval
// (with jitter, so that the processes of a cluster do not all query at the
// same moment) until ctx ends.
func (q *Queue) watchInterrupted(ctx context.Context) {
	for {
		wait := q.heartbeat/2 + rand.N(q.heartbeat)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		if _, err := q.rescueInterrupted(ctx, time.Now()); err != nil && ctx.Err() == nil {
			q.log.Warn("jobs: take back interrupted jobs", "err", err)
		}
	}
}

// rescued is a job taken back by [Queue.rescueInterrupted].
type rescued struct {
	row   *rivertype.JobRow // as it was, running
	state rivertype.JobState
}

// rescueInterrupted puts the running jobs whose current attempt stopped
// beating before now-staleAfter back in the queue, and returns how many it
// took back. It goes through River's rescue query, which changes a job
// only while it is still running and was attempted before the horizon, so
// a job that another process rescued and started again in the meantime
// is left alone: each interrupted attempt is taken back once.
func (q *Queue) rescueInterrupted(ctx context.Context, now time.Time) (int, error) {
	horizon := now.Add(-q.staleAfter)
	ids, err := q.suspects(ctx, horizon)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	now = now.UTC()
	params := &riverdriver.JobRescueManyParams{StuckHorizon: horizon}
	var taken []rescued
	for _, id := range ids {
		row, err := q.client.JobGet(ctx, id)
		if errors.Is(err, river.ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("jobs: interrupted job %d: %w", id, err)
		}
		h, ok, err := readHeartbeat(ctx, q.db, id)
		if err != nil {
			return 0, err
		}
		if !interrupted(row, h, ok, horizon) {
			continue
		}
		state, scheduled, finalized := q.rescueDecision(row, now)
		errData, err := json.Marshal(rivertype.AttemptError{At: now, Attempt: row.Attempt,
			Error: fmt.Sprintf(interruptedError, q.staleAfter)})
		if err != nil {
			return 0, fmt.Errorf("jobs: interrupted job %d: %w", id, err)
		}
		params.ID = append(params.ID, row.ID)
		params.Error = append(params.Error, errData)
		params.FinalizedAt = append(params.FinalizedAt, finalized)
		params.ScheduledAt = append(params.ScheduledAt, scheduled)
		params.State = append(params.State, string(state))
		taken = append(taken, rescued{row: row, state: state})
	}
	if len(taken) == 0 {
		return 0, nil
	}
	if _, err := q.exec.JobRescueMany(ctx, params); err != nil {
		return 0, fmt.Errorf("jobs: take back interrupted jobs: %w", err)
	}
	n := 0
	for _, r := range taken {
		// The rescue query reports nothing per job: the error it appended
		// (this process's time to the nanosecond) tells whether this
		// process's update is the one that applied.
		row, err := q.client.JobGet(ctx, r.row.ID)
		if err != nil {
			if !errors.Is(err, river.ErrNotFound) {
				q.log.Warn("jobs: interrupted job", "job", r.row.ID, "err", err)
			}
			continue
		}
		if k := len(row.Errors); k == 0 || !row.Errors[k-1].At.Equal(now) || row.Errors[k-1].Attempt != r.row.Attempt {
			continue
		}
		n++
		final := r.state != rivertype.JobStateRetryable
		q.log.Warn("jobs: took back an interrupted job", "job", row.ID, "kind", row.Kind, "attempt", r.row.Attempt,
			"state", string(r.state), "no_heartbeat_for", q.staleAfter)
		if hook := q.onInterrupt[row.Kind]; hook != nil {
			if err := hook(ctx, r.row, final); err != nil {
				q.log.Warn("jobs: interrupted job's hook", "job", row.ID, "kind", row.Kind, "err", err)
			}
		}
	}
	return n, nil
}

// suspects lists the running jobs that may be interrupted: without a beat
// of their current attempt since horizon, as far as one query tells.
func (q *Queue) suspects(ctx context.Context, horizon time.Time) ([]int64, error) {
	rows, err := q.db.Query(ctx, `SELECT j.id FROM river_job j LEFT JOIN job_heartbeat h ON h.job_id = j.id
		WHERE j.state = 'running' AND (h.job_id IS NULL OR h.attempt <> j.attempt OR h.beat_at < ?)
		ORDER BY j.id`, horizon.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("jobs: running jobs: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("jobs: running jobs: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("jobs: running jobs: %w", err)
	}
	return ids, nil
}

// rescueDecision is what River's rescuer would do with row: cancelled when
// a cancellation was asked for while it ran, retryable at River's back-off
// while attempts remain, discarded otherwise.
func (q *Queue) rescueDecision(row *rivertype.JobRow, now time.Time) (state rivertype.JobState, scheduled time.Time, finalized *time.Time) {
	var md struct {
		CancelAttemptedAt time.Time `json:"cancel_attempted_at"`
	}
	if json.Unmarshal(row.Metadata, &md) == nil && !md.CancelAttemptedAt.IsZero() {
		return rivertype.JobStateCancelled, row.ScheduledAt, &now
	}
	if row.Attempt < row.MaxAttempts {
		return rivertype.JobStateRetryable, q.retry.NextRetry(row), nil
	}
	return rivertype.JobStateDiscarded, row.ScheduledAt, &now
}
