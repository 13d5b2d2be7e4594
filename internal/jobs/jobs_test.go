package jobs

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
)

func quietLog() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// migrated gives a database with River's schema and the test tables.
func migrated(t *testing.T, d *db.DB) {
	t.Helper()
	if err := Migrate(context.Background(), d, quietLog()); err != nil {
		t.Fatal(err)
	}
	createTestTables(t, d)
}

// newQueue builds a queue over d; Concurrency 0 gives an insert-only one.
func newQueue(t *testing.T, d *db.DB, ws *Workers, concurrency int) *Queue {
	t.Helper()
	q, err := New(d, ws, Config{Concurrency: concurrency, JobTimeout: 30 * time.Second, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		q.Stop(ctx)
	})
	return q
}

// waitFor polls the job's status until cond holds.
func waitFor(t *testing.T, q *Queue, id int64, within time.Duration, what string, cond func(Status) bool) Status {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		s, err := q.Status(context.Background(), id)
		if err != nil {
			t.Fatalf("status of job %d: %v", id, err)
		}
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d: not %s after %s: %+v", id, what, within, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func count(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMigrateIsIdempotent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		for range 2 {
			if err := Migrate(ctx, d, quietLog()); err != nil {
				t.Fatal(err)
			}
		}
		if n := count(t, d, "SELECT COUNT(*) FROM river_job"); n != 0 {
			t.Errorf("river_job has %d rows, want an empty table", n)
		}
		var versions int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM river_migration").Scan(&versions); err != nil || versions == 0 {
			t.Errorf("river_migration: %d versions, %v", versions, err)
		}
	})
}

// scanArgs stands for a capability's job that must be queued once per
// subject: unique by ScanID only.
type scanArgs struct {
	ScanID int64  `json:"scan_id" river:"unique"`
	Note   string `json:"note"`
}

func (scanArgs) Kind() string { return "jobs_test_scan" }

func TestEnqueueFollowsTheCallersTransaction(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		migrated(t, d)
		ctx := context.Background()
		q := newQueue(t, d, nil, 0)

		var rolledBack Enqueued
		boom := errors.New("handler failed after enqueue")
		err := d.InTx(ctx, func(tx *db.Tx) error {
			var err error
			if rolledBack, err = q.Enqueue(ctx, tx, scanArgs{ScanID: 1}, nil); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx: %v", err)
		}
		if _, err := q.Status(ctx, rolledBack.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("job of a rolled-back transaction: %v, want ErrNotFound", err)
		}

		var committed Enqueued
		if err := d.InTx(ctx, func(tx *db.Tx) error {
			var err error
			committed, err = q.Enqueue(ctx, tx, scanArgs{ScanID: 2}, nil)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		s, err := q.Status(ctx, committed.ID)
		if err != nil {
			t.Fatal(err)
		}
		if s.State != Queued || s.Kind != "jobs_test_scan" || s.Attempt != 0 || s.MaxAttempts != DefaultMaxAttempts {
			t.Errorf("committed job: %+v", s)
		}
	})
}

func TestUniqueJobsByKey(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		migrated(t, d)
		ctx := context.Background()
		q := newQueue(t, d, nil, 0)
		unique := &EnqueueOpts{Unique: true}
		first, err := q.Enqueue(ctx, nil, scanArgs{ScanID: 7, Note: "upload"}, unique)
		if err != nil {
			t.Fatal(err)
		}
		// Same key, other non-key field: the same job.
		again, err := q.Enqueue(ctx, nil, scanArgs{ScanID: 7, Note: "retry button"}, unique)
		if err != nil {
			t.Fatal(err)
		}
		if first.Duplicate || !again.Duplicate || again.ID != first.ID {
			t.Errorf("first %+v, again %+v: want the second to be a duplicate of the first", first, again)
		}
		other, err := q.Enqueue(ctx, nil, scanArgs{ScanID: 8}, unique)
		if err != nil {
			t.Fatal(err)
		}
		if other.Duplicate || other.ID == first.ID {
			t.Errorf("another key: %+v", other)
		}
		// Without Unique, the same args make a second job.
		plain, err := q.Enqueue(ctx, nil, scanArgs{ScanID: 7}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if plain.Duplicate || plain.ID == first.ID {
			t.Errorf("non-unique enqueue: %+v", plain)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM river_job"); n != 3 {
			t.Errorf("%d jobs, want 3", n)
		}
	})
}

type progressArgs struct{}

func (progressArgs) Kind() string { return "jobs_test_progress" }

type failArgs struct{ Permanent bool }

func (failArgs) Kind() string { return "jobs_test_fail" }

func TestProgressDoneAndFailed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		migrated(t, d)
		ctx := context.Background()
		release := make(chan struct{})
		ws := NewWorkers()
		Handle(ws, func(ctx context.Context, j *Job[progressArgs]) error {
			if err := SetProgress(ctx, 40, "decoding resources"); err != nil {
				return err
			}
			<-release
			return SetProgress(ctx, 90, "writing the report")
		})
		Handle(ws, func(ctx context.Context, j *Job[failArgs]) error {
			err := errors.New("not an APK: no AndroidManifest.xml")
			if j.Args.Permanent {
				return Permanent(err)
			}
			return err
		})
		q := newQueue(t, d, ws, 2)

		p, err := q.Enqueue(ctx, nil, progressArgs{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		s := waitFor(t, q, p.ID, 20*time.Second, "running at 40%", func(s Status) bool { return s.State == Running && s.Percent == 40 })
		if s.Message != "decoding resources" || s.Attempt != 1 || s.Retries != 0 {
			t.Errorf("running job: %+v", s)
		}
		close(release)
		s = waitFor(t, q, p.ID, 20*time.Second, "done", func(s Status) bool { return s.State == Done })
		if s.Percent != 100 || s.Reason != "" || s.FinishedAt.IsZero() {
			t.Errorf("done job: %+v", s)
		}

		f, err := q.Enqueue(ctx, nil, failArgs{Permanent: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		s = waitFor(t, q, f.ID, 20*time.Second, "failed", func(s Status) bool { return s.State == Failed })
		if !strings.Contains(s.Reason, "not an APK") || s.Attempt != 1 || s.Retries != 1 || s.FinishedAt.IsZero() {
			t.Errorf("permanently failed job: %+v", s)
		}

		// A plain error is retried: the job waits as queued with its reason.
		r, err := q.Enqueue(ctx, nil, failArgs{}, &EnqueueOpts{MaxAttempts: 3})
		if err != nil {
			t.Fatal(err)
		}
		s = waitFor(t, q, r.ID, 20*time.Second, "waiting for a retry", func(s Status) bool { return s.Retries == 1 })
		if s.State != Queued || !strings.Contains(s.Reason, "not an APK") || s.MaxAttempts != 3 {
			t.Errorf("retryable job: %+v", s)
		}

		if err := SetProgress(ctx, 10, "outside"); !errors.Is(err, ErrNoJob) {
			t.Errorf("SetProgress outside a job: %v, want ErrNoJob", err)
		}
		if _, err := q.Status(ctx, 1<<40); !errors.Is(err, ErrNotFound) {
			t.Errorf("Status of an unknown job: %v, want ErrNotFound", err)
		}
	})
}

func TestGracefulStopWaitsForRunningJobs(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		migrated(t, d)
		ctx := context.Background()
		q, err := New(d, testWorkers(d), Config{Concurrency: 2, Logger: quietLog()})
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		j, err := q.Enqueue(ctx, nil, recordArgs{SleepMS: 700}, nil)
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, q, j.ID, 20*time.Second, "running", func(s Status) bool { return s.State == Running })
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := q.Stop(sctx); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		// Stop returned only after the job finished and was recorded done.
		if n := count(t, d, "SELECT COUNT(*) FROM jobs_test_done WHERE job_id = ?", j.ID); n != 1 {
			t.Errorf("job finished %d times before Stop returned, want 1", n)
		}
		s, err := q.Status(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if s.State != Done {
			t.Errorf("after Stop: %+v, want done", s)
		}
	})
}

func TestStopCancelsJobsWhenItsContextEnds(t *testing.T) {
	d := dbtest.SQLite(t)
	migrated(t, d)
	ctx := context.Background()
	q, err := New(d, testWorkers(d), Config{Concurrency: 1, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	j, err := q.Enqueue(ctx, nil, recordArgs{SleepMS: 60_000}, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, q, j.ID, 20*time.Second, "running", func(s Status) bool { return s.State == Running })
	sctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := q.Stop(sctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop: %v, want the deadline", err)
	}
	s, err := q.Status(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The cancelled attempt goes back to the queue for a later process.
	if s.State != Queued {
		t.Errorf("after a hard stop: %+v, want queued again", s)
	}
	if n := count(t, d, "SELECT COUNT(*) FROM jobs_test_done"); n != 0 {
		t.Errorf("a cancelled job completed %d times", n)
	}
}

func TestTwoWorkerProcessesRunEachJobOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		migrated(t, d)
		ctx := context.Background()
		dsn := dsnOf(t, d)
		a := startChild(t, dsn, 2, time.Minute, 0)
		b := startChild(t, dsn, 2, time.Minute, 0)
		q := newQueue(t, d, nil, 0) // this process only enqueues

		const jobs = 20
		ids := make([]int64, jobs)
		for i := range ids {
			// 150 ms each, two at a time per process: one process alone
			// would need 1.5 s, so both take their share.
			err := d.InTx(ctx, func(tx *db.Tx) error {
				e, err := q.Enqueue(ctx, tx, recordArgs{N: i, SleepMS: 150}, nil)
				ids[i] = e.ID
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range ids {
			s := waitFor(t, q, id, 60*time.Second, "done", func(s Status) bool { return s.State == Done || s.State == Failed })
			if s.State != Done || s.Attempt != 1 || s.Retries != 0 {
				t.Errorf("job %d: %+v, want done at the first attempt", id, s)
			}
		}
		a.stop(t)
		b.stop(t)

		if n := count(t, d, "SELECT COUNT(*) FROM jobs_test_done"); n != jobs {
			t.Errorf("%d jobs completed, want %d", n, jobs)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM jobs_test_attempts"); n != jobs {
			t.Errorf("%d runs for %d jobs: some job ran more than once", n, jobs)
		}
		pids := map[int]int{}
		rows, err := d.Query(ctx, "SELECT pid, COUNT(*) FROM jobs_test_done GROUP BY pid")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var pid, n int
			if err := rows.Scan(&pid, &n); err != nil {
				t.Fatal(err)
			}
			pids[pid] = n
		}
		if pids[a.cmd.Process.Pid] == 0 || pids[b.cmd.Process.Pid] == 0 {
			t.Errorf("jobs per process %v: want both processes %d and %d to work", pids, a.cmd.Process.Pid, b.cmd.Process.Pid)
		}
	})
}

func TestKilledWorkersJobIsRescuedAndCompletes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		migrated(t, d)
		ctx := context.Background()
		dsn := dsnOf(t, d)
		victim := startChild(t, dsn, 1, time.Minute, 0)
		q := newQueue(t, d, nil, 0)
		j, err := q.Enqueue(ctx, nil, crashArgs{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		// Running is set when the job is fetched; wait for the handler
		// itself, which records its attempt and then hangs.
		deadline := time.Now().Add(30 * time.Second)
		for count(t, d, "SELECT COUNT(*) FROM jobs_test_attempts WHERE job_id = ?", j.ID) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("the first attempt did not start within 30 s")
			}
			time.Sleep(20 * time.Millisecond)
		}
		if s, err := q.Status(ctx, j.ID); err != nil || s.State != Running {
			t.Fatalf("before the kill: %+v, %v; want running", s, err)
		}
		if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		victim.cmd.Wait()
		// A restarted worker finds the job stuck in "running"; once the dead
		// process's leadership lapses, its rescuer schedules the job again.
		// The rescuer applies its own process's timeouts: short here.
		survivor := startChild(t, dsn, 1, 2*time.Second, 0)
		s := waitFor(t, q, j.ID, 90*time.Second, "done", func(s Status) bool { return s.State == Done || s.State == Failed })
		survivor.stop(t)
		if s.State != Done || s.Attempt != 2 || s.Retries != 1 {
			t.Errorf("rescued job: %+v, want done at the second attempt", s)
		}
		var pid int
		if err := d.QueryRow(ctx, "SELECT pid FROM jobs_test_done WHERE job_id = ?", j.ID).Scan(&pid); err != nil {
			t.Fatal(err)
		}
		if pid != survivor.cmd.Process.Pid {
			t.Errorf("completed by %d, want the survivor %d", pid, survivor.cmd.Process.Pid)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM jobs_test_attempts WHERE job_id = ?", j.ID); n != 2 {
			t.Errorf("%d runs, want 2 (the killed one and the retry)", n)
		}
	})
}

func TestCheckWorkerDB(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "dfslab.db")
	if err := os.WriteFile(existing, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dsn  string
		want error
	}{
		{"postgres://dfslab@db.example/dfslab", nil},
		{existing, nil},
		{"sqlite:" + existing, nil},
		{filepath.Join(dir, "typo.db"), ErrWorkerDB},
		{dir, ErrWorkerDB},
	}
	for _, tt := range tests {
		if err := CheckWorkerDB(tt.dsn); !errors.Is(err, tt.want) {
			t.Errorf("CheckWorkerDB(%q) = %v, want %v", tt.dsn, err, tt.want)
		}
	}
}

func TestNewRefusesUnsafeConfigs(t *testing.T) {
	d := dbtest.SQLite(t)
	tests := []struct {
		name string
		ws   *Workers
		cfg  Config
	}{
		{"negative concurrency", NewWorkers(), Config{Concurrency: -1}},
		{"runner without workers", nil, Config{Concurrency: 1}},
		{"rescue before timeout", NewWorkers(), Config{Concurrency: 1, JobTimeout: time.Minute, RescueAfter: 30 * time.Second}},
		{"no timeout", NewWorkers(), Config{Concurrency: 1, JobTimeout: -1}},
	}
	for _, tt := range tests {
		if _, err := New(d, tt.ws, tt.cfg); err == nil {
			t.Errorf("%s: New accepted %+v", tt.name, tt.cfg)
		}
	}
}

func TestSetProgressBoundsItsInput(t *testing.T) {
	d := dbtest.SQLite(t)
	migrated(t, d)
	ctx := context.Background()
	long := "a" + strings.Repeat("é", maxMessage) // é is 2 bytes: the cut falls inside one
	tests := []struct {
		percent     int
		message     string
		wantPercent int
		wantMessage string
	}{
		{-5, "starting", 0, "starting"},
		{140, "overshoot", 100, "overshoot"},
		{55, long, 55, "a" + strings.Repeat("é", (maxMessage-1)/2)},
	}
	for _, tt := range tests {
		q := newQueue(t, d, nil, 0)
		e, err := q.Enqueue(ctx, nil, scanArgs{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		// Run the middleware's job context as a handler would see it.
		m := &progressMiddleware{db: d}
		row, err := q.client.JobGet(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Work(ctx, row, func(ctx context.Context) error { return SetProgress(ctx, tt.percent, tt.message) }); err != nil {
			t.Fatal(err)
		}
		s, err := q.Status(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if s.Percent != tt.wantPercent || s.Message != tt.wantMessage {
			t.Errorf("SetProgress(%d, %.20q…) stored %d, %.20q… (%d bytes); want %d, %d bytes",
				tt.percent, tt.message, s.Percent, s.Message, len(s.Message), tt.wantPercent, len(tt.wantMessage))
		}
	}
}

func TestPurgeProgressKeepsLiveJobs(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		migrated(t, d)
		ctx := context.Background()
		q := newQueue(t, d, nil, 0)
		live, err := q.Enqueue(ctx, nil, scanArgs{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		gone := live.ID + 1000 // a job River has cleaned away
		for _, id := range []int64{live.ID, gone} {
			if _, err := d.Exec(ctx, "INSERT INTO job_progress (job_id, percent, message, updated_at) VALUES (?, 50, 'half', 0)", id); err != nil {
				t.Fatal(err)
			}
		}
		n, err := q.purgeProgress(ctx)
		if err != nil || n != 1 {
			t.Fatalf("purgeProgress: %d rows, %v; want 1", n, err)
		}
		if s, err := q.Status(ctx, live.ID); err != nil || s.Percent != 50 {
			t.Errorf("live job after purge: %+v, %v", s, err)
		}
		if c := count(t, d, "SELECT COUNT(*) FROM job_progress WHERE job_id = ?", gone); c != 0 {
			t.Errorf("orphaned progress kept")
		}
	})
}
