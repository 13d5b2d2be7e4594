// Package jobs runs the platform's background jobs (app scans, exports) on
// River, in the platform database of either dialect.
//
// Capability packages declare a job as an args struct (a stable Kind and
// JSON fields), register a handler on [Workers], and enqueue with
// [Queue.Enqueue] inside their own transaction, so the row that asks for the
// work and the job commit together or not at all. A handler reports its
// progress with [SetProgress]; pages read [Queue.Status] (queued, running
// with percent and message, done, or failed with the reason, and how many
// attempts failed).
//
// Delivery is at least once, never lost. While a handler runs, its process
// records a heartbeat of the attempt every [Config.Heartbeat] (10 s). A job
// whose process dies (crash, SIGKILL, power loss) stays "running" in the
// table, and [Queue.Status] reports it Interrupted once its attempt has
// missed six beats; every process that runs jobs then takes it back within
// about one more interval, through River's own rescue query: queued again
// with River's back-off, or failed when out of attempts (handlers can follow
// with [OnInterrupt]). River's rescuer, which goes only by a job's age
// ([Config.RescueAfter]), remains the last resort. Handlers must therefore
// be idempotent: a retry finds what the dead attempt left behind. Two
// processes never hold the same job at once: fetching locks the row (FOR
// UPDATE SKIP LOCKED on PostgreSQL, the single write lock on SQLite), and a
// live attempt whose job was taken back (it could not beat for a minute) is
// cancelled at its next beat. Jobs that must not be queued twice for the
// same subject (one scan per upload) are enqueued with [EnqueueOpts.Unique]
// and the key fields tagged `river:"unique"`.
//
// Where workers run:
//   - `dfslab serve` runs them in-process; that is the norm on SQLite.
//   - `dfslab worker` runs only workers. On PostgreSQL any number of worker
//     processes on any number of hosts share the queue. On SQLite a worker
//     process is allowed on the same host as serve, against the existing
//     database file (see [CheckWorkerDB]): SQLite's file locks coordinate
//     processes of one machine, and a separate process keeps a scan that
//     exhausts memory away from the web server. It is refused on network
//     file systems, whose locks SQLite cannot rely on, and for a file that
//     does not exist (a mistyped path would otherwise create an empty
//     database whose queue nobody fills).
package jobs

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"github.com/dfslab/dfslab/internal/db"
)

// Args is the payload of a job: a struct with JSON fields and a Kind, a
// stable name that must never change once jobs of it were enqueued.
type Args = river.JobArgs

// Job is one attempt at a job as its handler sees it: Args decoded, ID,
// Attempt (1 on the first run).
type Job[T Args] = river.Job[T]

// Permanent marks a handler's error as final: the job fails with err as its
// reason and is not retried (an upload that is not an APK will not become
// one on the next attempt).
func Permanent(err error) error { return river.JobCancel(err) }

// Workers is the set of handlers a process can run, one per job kind.
type Workers struct {
	w     *river.Workers
	kinds []string
	// onInterrupt holds the [OnInterrupt] hooks by kind.
	onInterrupt map[string]func(ctx context.Context, row *rivertype.JobRow, final bool) error
}

// NewWorkers returns an empty set.
func NewWorkers() *Workers {
	return &Workers{w: river.NewWorkers(), onInterrupt: map[string]func(context.Context, *rivertype.JobRow, bool) error{}}
}

// Handle registers fn as the handler of the jobs of kind T. It panics when
// the kind is registered twice, as that is a wiring mistake found at start.
func Handle[T Args](ws *Workers, fn func(ctx context.Context, j *Job[T]) error) {
	river.AddWorker(ws.w, river.WorkFunc(fn))
	ws.kinds = append(ws.kinds, (*new(T)).Kind())
}

// Kinds lists the registered job kinds in registration order.
func (ws *Workers) Kinds() []string { return slices.Clone(ws.kinds) }

// Config tunes a [Queue]. The zero value is usable: an insert-only queue.
type Config struct {
	// Concurrency is how many jobs this process runs at once; 0 makes an
	// insert-only queue that enqueues and reads state but runs nothing (as
	// does a set of workers without handlers).
	Concurrency int
	// JobTimeout cancels a handler's context after this long (default 30
	// minutes). It cannot be turned off: River's rescuer leaves a job
	// without a timeout running forever after its process died.
	JobTimeout time.Duration
	// RescueAfter is how long a job may stay running before River's
	// rescuer takes it for the victim of a dead process and schedules it
	// again, whatever its heartbeat: the last resort behind heartbeats. It
	// must exceed JobTimeout, so that a live handler has been told to stop
	// first; default JobTimeout plus 5 minutes. Tests set a few seconds.
	RescueAfter time.Duration
	// Heartbeat is how often a running attempt records that its process
	// is alive (default 10 s); one that missed six is taken for
	// interrupted. Every process sharing a database must use the same
	// value, so it is no flag; tests set less than a second.
	Heartbeat time.Duration
	// MaxAttempts bounds the runs of a job, failed ones and rescued ones
	// included (default 5).
	MaxAttempts int
	// PollInterval is how often idle workers look for jobs that another
	// process enqueued (default 200 ms). Jobs enqueued without a transaction
	// by this process wake its own workers at once.
	PollInterval time.Duration
	// Logger receives River's and the queue's logs (default slog.Default).
	Logger *slog.Logger
}

// Queue enqueues jobs, runs the registered handlers (when Concurrency > 0)
// and reports job state.
type Queue struct {
	db     *db.DB
	client *river.Client[*sql.Tx]
	exec   riverdriver.Executor
	log    *slog.Logger
	runs   bool

	heartbeat, staleAfter time.Duration
	retry                 river.ClientRetryPolicy
	onInterrupt           map[string]func(ctx context.Context, row *rivertype.JobRow, final bool) error

	mu     sync.Mutex
	cancel context.CancelFunc // stops the housekeeping goroutine
	done   chan struct{}
}

// Defaults of [Config].
const (
	DefaultJobTimeout   = 30 * time.Minute
	DefaultMaxAttempts  = 5
	DefaultPollInterval = 200 * time.Millisecond
	rescueMargin        = 5 * time.Minute
	// fetchCooldown is the shortest pause between two fetches of a process.
	// River's default (100 ms) caps a process at Concurrency jobs per 100 ms
	// and adds up to that to every job's latency; a fetch is one small
	// indexed UPDATE, cheap at this rate.
	fetchCooldown      = 20 * time.Millisecond
	progressGCInterval = time.Hour
)

// New builds a queue over d. River's schema must be in place ([Migrate]).
// ws may be nil for an insert-only queue.
func New(d *db.DB, ws *Workers, cfg Config) (*Queue, error) {
	if cfg.Concurrency < 0 {
		return nil, fmt.Errorf("jobs: concurrency %d is negative", cfg.Concurrency)
	}
	if cfg.Concurrency > 0 && ws == nil {
		return nil, errors.New("jobs: a queue that runs jobs needs workers")
	}
	runs := cfg.Concurrency > 0 && len(ws.kinds) > 0
	log := cmp.Or(cfg.Logger, slog.Default())
	timeout := cmp.Or(cfg.JobTimeout, DefaultJobTimeout)
	if timeout < 0 {
		return nil, fmt.Errorf("jobs: JobTimeout %s: a job without a timeout is never rescued after a crash", timeout)
	}
	rescue := cmp.Or(cfg.RescueAfter, timeout+rescueMargin)
	if rescue <= timeout {
		return nil, fmt.Errorf("jobs: RescueAfter %s must exceed JobTimeout %s, or running jobs would be run twice", rescue, timeout)
	}
	beat := cmp.Or(cfg.Heartbeat, DefaultHeartbeat)
	if beat < 0 {
		return nil, fmt.Errorf("jobs: Heartbeat %s is negative", beat)
	}
	rc := &river.Config{
		JobTimeout:           timeout,
		RescueStuckJobsAfter: rescue,
		MaxAttempts:          cmp.Or(cfg.MaxAttempts, DefaultMaxAttempts),
		FetchPollInterval:    cmp.Or(cfg.PollInterval, DefaultPollInterval),
		FetchCooldown:        fetchCooldown,
		Logger:               log,
		Middleware: []rivertype.Middleware{
			&heartbeatMiddleware{db: d, interval: beat, log: log},
			&progressMiddleware{db: d},
		},
	}
	if ws != nil {
		rc.Workers = ws.w
	}
	if runs {
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Concurrency}}
	}
	var drv riverdriver.Driver[*sql.Tx]
	switch d.Dialect() {
	case db.SQLite:
		drv = riversqlite.New(d.SQL())
	case db.Postgres:
		// database/sql has no LISTEN: workers poll (PollInterval), which is
		// cheap next to the scans they run.
		drv = riverdatabasesql.New(d.SQL())
		rc.PollOnly = true
	default:
		return nil, fmt.Errorf("jobs: unsupported dialect %s", d.Dialect())
	}
	c, err := river.NewClient(drv, rc)
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	q := &Queue{db: d, client: c, exec: drv.GetExecutor(), log: log, runs: runs,
		heartbeat: beat, staleAfter: staleBeats * beat, retry: &river.DefaultClientRetryPolicy{}}
	if ws != nil {
		q.onInterrupt = ws.onInterrupt
	}
	return q, nil
}

// Runs reports whether this queue runs jobs, rather than only enqueueing.
func (q *Queue) Runs() bool { return q.runs }

// Start runs the workers until [Queue.Stop]; it returns at once. Jobs do not
// inherit ctx's cancellation: a stop signal is for Stop to handle, so that
// running jobs may finish. Start is a no-op for an insert-only queue.
func (q *Queue) Start(ctx context.Context) error {
	if !q.runs {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	hctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	q.mu.Lock()
	q.cancel, q.done = cancel, done
	q.mu.Unlock()
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		wg.Go(func() { q.watchInterrupted(hctx) })
		q.housekeeping(hctx)
		wg.Wait()
	}()
	return nil
}

// Stop stops fetching jobs and waits for the running ones to finish. When
// ctx ends first, the running jobs' contexts are cancelled (their handlers
// should return promptly; River schedules them again) and Stop returns
// ctx's error once they have returned.
func (q *Queue) Stop(ctx context.Context) error {
	if !q.runs {
		return nil
	}
	q.mu.Lock()
	cancel, done := q.cancel, q.done
	q.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	err := q.client.Stop(ctx)
	if err == nil || !errors.Is(err, ctx.Err()) {
		return err
	}
	// Hard stop: bounded, so a handler that ignores its context cannot hold
	// the process forever.
	hctx, hcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer hcancel()
	if herr := q.client.StopAndCancel(hctx); herr != nil {
		q.log.Warn("jobs: hard stop", "err", herr)
	}
	return fmt.Errorf("jobs: stop: running jobs cancelled: %w", err)
}

// EnqueueOpts are per-job options of [Queue.Enqueue].
type EnqueueOpts struct {
	// Unique makes the job unique by its args' fields tagged
	// `river:"unique"` (all fields when none is tagged) among jobs that are
	// not failed: enqueueing it again returns the existing job.
	Unique bool
	// At schedules the job for later (zero: now).
	At time.Time
	// MaxAttempts overrides Config.MaxAttempts for this job.
	MaxAttempts int
}

// Enqueued is the result of [Queue.Enqueue].
type Enqueued struct {
	ID int64
	// Duplicate reports that a unique job with the same key existed and
	// nothing was enqueued; ID is that job's.
	Duplicate bool
}

// Enqueue adds a job. With a transaction, the job is inserted in it and is
// visible to workers only once it commits; a rollback removes it with the
// caller's other rows. With tx nil, it is inserted on its own and this
// process's workers are woken at once.
func (q *Queue) Enqueue(ctx context.Context, tx *db.Tx, args Args, opts *EnqueueOpts) (Enqueued, error) {
	var ro *river.InsertOpts
	if opts != nil {
		ro = &river.InsertOpts{MaxAttempts: opts.MaxAttempts, ScheduledAt: opts.At}
		if opts.Unique {
			ro.UniqueOpts = river.UniqueOpts{ByArgs: true}
		}
	}
	var (
		res *rivertype.JobInsertResult
		err error
	)
	if tx != nil {
		res, err = q.client.InsertTx(ctx, tx.SQLTx(), args, ro)
	} else {
		res, err = q.client.Insert(ctx, args, ro)
	}
	if err != nil {
		return Enqueued{}, fmt.Errorf("jobs: enqueue %s: %w", args.Kind(), err)
	}
	return Enqueued{ID: res.Job.ID, Duplicate: res.UniqueSkippedAsDuplicate}, nil
}

// State is where a job is in its life, as pages show it.
type State string

const (
	Queued  State = "queued"  // waiting for a worker, first run or a retry
	Running State = "running" // a worker holds it
	Done    State = "done"    // finished successfully
	Failed  State = "failed"  // will not run again; Status.Reason says why
)

// Status is a job's state and progress.
type Status struct {
	ID          int64
	Kind        string
	State       State
	Attempt     int // runs started so far
	MaxAttempts int
	// Retries counts failed attempts, crashes rescued included.
	Retries int
	// Reason is the last attempt's error: why a Failed job failed, or why
	// a Queued one is waiting for a retry.
	Reason  string
	Percent int
	Message string
	// Interrupted reports a Running job whose attempt stopped beating: its
	// process died, and the job is about to be queued again (or failed,
	// when it is out of attempts).
	Interrupted bool
	CreatedAt   time.Time
	FinishedAt  time.Time // zero until Done or Failed
}

// ErrNotFound is returned for a job id that does not exist (never did, or
// was cleaned up after its retention period).
var ErrNotFound = errors.New("jobs: job not found")

// Status reads a job's state and its latest progress.
func (q *Queue) Status(ctx context.Context, id int64) (Status, error) {
	return q.status(ctx, id, time.Now())
}

// status is Status as seen at now.
func (q *Queue) status(ctx context.Context, id int64, now time.Time) (Status, error) {
	row, err := q.client.JobGet(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return Status{}, ErrNotFound
	}
	if err != nil {
		return Status{}, fmt.Errorf("jobs: status %d: %w", id, err)
	}
	s := Status{
		ID:          row.ID,
		Kind:        row.Kind,
		State:       stateOf(row.State),
		Attempt:     row.Attempt,
		MaxAttempts: row.MaxAttempts,
		Retries:     len(row.Errors),
		CreatedAt:   row.CreatedAt,
	}
	if n := len(row.Errors); n > 0 {
		s.Reason = row.Errors[n-1].Error
	}
	if row.FinalizedAt != nil {
		s.FinishedAt = *row.FinalizedAt
	}
	if s.State == Done {
		s.Reason = "" // earlier attempts' errors are history, not a reason
	}
	p, err := readProgress(ctx, q.db, id)
	if err != nil {
		return Status{}, err
	}
	s.Percent, s.Message = p.percent, p.message
	if s.State == Done {
		s.Percent = 100
	}
	if s.State == Running {
		h, ok, err := readHeartbeat(ctx, q.db, id)
		if err != nil {
			return Status{}, err
		}
		s.Interrupted = interrupted(row, h, ok, now.Add(-q.staleAfter))
	}
	return s, nil
}

func stateOf(s rivertype.JobState) State {
	switch s {
	case rivertype.JobStateRunning:
		return Running
	case rivertype.JobStateCompleted:
		return Done
	case rivertype.JobStateCancelled, rivertype.JobStateDiscarded:
		return Failed
	}
	// available, scheduled, pending, retryable: waiting for a run.
	return Queued
}

// housekeeping deletes progress and heartbeat rows of jobs River has
// cleaned away.
func (q *Queue) housekeeping(ctx context.Context) {
	t := time.NewTicker(progressGCInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := q.purgeProgress(ctx); err != nil && ctx.Err() == nil {
				q.log.Warn("jobs: delete orphaned progress", "err", err)
			}
		}
	}
}

// purgeProgress deletes the progress and heartbeat rows whose job is gone.
func (q *Queue) purgeProgress(ctx context.Context) (int64, error) {
	var n int64
	for _, table := range []string{"job_progress", "job_heartbeat"} {
		res, err := q.db.Exec(ctx, `DELETE FROM `+table+`
			WHERE NOT EXISTS (SELECT 1 FROM river_job j WHERE j.id = `+table+`.job_id)`)
		if err != nil {
			return n, err
		}
		k, err := res.RowsAffected()
		if err != nil {
			return n, err
		}
		n += k
	}
	return n, nil
}
