package jobs

import (
	"context"
	"errors"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
)

// Issue 9, finding 9: a job whose process was killed stayed "running"
// until River's rescuer took it back after the job timeout plus a margin
// (35 minutes by default). With a 30-minute timeout, the job must now be
// finished by another process within a minute of the kill, and a live job
// must not be taken from its process in the meantime.
func TestKilledWorkersJobIsTakenBackWithinAMinute(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		migrated(t, d)
		ctx := context.Background()
		dsn := dsnOf(t, d)
		const (
			timeout = 30 * time.Minute
			beat    = 500 * time.Millisecond // interrupted after 3 s
		)
		victim := startChild(t, dsn, 1, timeout, beat)
		q := newQueue(t, d, nil, 0)
		j, err := q.Enqueue(ctx, nil, crashArgs{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		waitAttempts(t, d, j.ID, 1)
		// A second process works beside the victim; over twice the
		// interruption delay, the victim's hung but live attempt keeps
		// its job.
		survivor := startChild(t, dsn, 1, timeout, beat)
		time.Sleep(2 * staleBeats * beat)
		if s, err := q.Status(ctx, j.ID); err != nil || s.State != Running || s.Attempt != 1 || s.Interrupted {
			t.Fatalf("live job: %+v, %v; want running at its first attempt, not interrupted", s, err)
		}

		if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		victim.cmd.Wait()
		killed := time.Now()
		s := waitFor(t, q, j.ID, time.Minute, "done", func(s Status) bool { return s.State == Done || s.State == Failed })
		t.Logf("done %s after the kill", time.Since(killed).Round(100*time.Millisecond))
		survivor.stop(t)
		if s.State != Done || s.Attempt != 2 || s.Retries != 1 {
			t.Errorf("taken-back job: %+v, want done at the second attempt", s)
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

// waitAttempts waits until job id's handler has recorded n attempts: a
// job is running from its fetch, its handler a moment later.
func waitAttempts(t *testing.T, d *db.DB, id int64, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for count(t, d, "SELECT COUNT(*) FROM jobs_test_attempts WHERE job_id = ?", id) < n {
		if time.Now().After(deadline) {
			t.Fatalf("job %d: attempt %d did not start within 30 s", id, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type holdArgs struct{}

func (holdArgs) Kind() string { return "jobs_test_hold" }

// interruption is what an OnInterrupt hook was told.
type interruption struct {
	id, attempt int64
	final       bool
}

// TestInterruptedJobsAreTakenBack looks at a live job from a clock an hour
// ahead, as a process would see one that stopped beating an hour ago: the
// job is reported interrupted, taken back once (retried, or failed when
// out of attempts), the hook of its kind is told, and the live attempt,
// which no longer holds its job, is cancelled at its next beat.
func TestInterruptedJobsAreTakenBack(t *testing.T) {
	tests := []struct {
		name        string
		maxAttempts int
		want        State
		wantFinal   bool
	}{
		{"attempts left", 3, Queued, false},
		{"last attempt", 1, Failed, true},
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		migrated(t, d)
		ctx := context.Background()
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				started := make(chan struct{}, 1)
				cancelled := make(chan error, 1)
				ws := NewWorkers()
				Handle(ws, func(ctx context.Context, j *Job[holdArgs]) error {
					if j.Attempt > 1 {
						return nil
					}
					started <- struct{}{}
					<-ctx.Done()
					cancelled <- context.Cause(ctx)
					return ctx.Err()
				})
				var (
					mu   sync.Mutex
					told []interruption
				)
				OnInterrupt(ws, func(ctx context.Context, j *Job[holdArgs], final bool) error {
					mu.Lock()
					defer mu.Unlock()
					told = append(told, interruption{j.ID, int64(j.Attempt), final})
					return nil
				})
				// q only looks: the test drives its checks, with its own
				// clock. runner runs the handler.
				const beat = 250 * time.Millisecond
				q, err := New(d, ws, Config{Heartbeat: beat, Logger: quietLog()})
				if err != nil {
					t.Fatal(err)
				}
				runner, err := New(d, ws, Config{Concurrency: 1, JobTimeout: time.Minute, Heartbeat: beat, Logger: quietLog()})
				if err != nil {
					t.Fatal(err)
				}
				if err := runner.Start(ctx); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() {
					sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
					defer cancel()
					runner.Stop(sctx)
				})
				j, err := runner.Enqueue(ctx, nil, holdArgs{}, &EnqueueOpts{MaxAttempts: tt.maxAttempts})
				if err != nil {
					t.Fatal(err)
				}
				select {
				case <-started:
				case <-time.After(30 * time.Second):
					t.Fatal("handler did not start within 30 s")
				}

				// Seen now, the live job is neither interrupted nor taken.
				if s, err := q.Status(ctx, j.ID); err != nil || s.State != Running || s.Interrupted {
					t.Fatalf("live job: %+v, %v", s, err)
				}
				if n, err := q.rescueInterrupted(ctx, time.Now()); err != nil || n != 0 {
					t.Fatalf("rescueInterrupted now: %d, %v; want nothing taken", n, err)
				}

				later := time.Now().Add(time.Hour)
				if s, err := q.status(ctx, j.ID, later); err != nil || s.State != Running || !s.Interrupted {
					t.Fatalf("job an hour later: %+v, %v; want running and interrupted", s, err)
				}
				if n, err := q.rescueInterrupted(ctx, later); err != nil || n != 1 {
					t.Fatalf("rescueInterrupted an hour later: %d, %v; want 1", n, err)
				}
				// Taken back once: a second look finds nothing to do.
				if n, err := q.rescueInterrupted(ctx, later); err != nil || n != 0 {
					t.Errorf("second rescueInterrupted: %d, %v; want 0", n, err)
				}
				mu.Lock()
				got := told
				mu.Unlock()
				if len(got) != 1 || got[0] != (interruption{j.ID, 1, tt.wantFinal}) {
					t.Errorf("hook told %+v, want once for job %d, attempt 1, final %v", got, j.ID, tt.wantFinal)
				}

				select {
				case cause := <-cancelled:
					if !errors.Is(cause, errLostJob) {
						t.Errorf("live attempt cancelled with %v, want errLostJob", cause)
					}
				case <-time.After(30 * time.Second):
					t.Fatal("the attempt that lost its job was not cancelled within 30 s")
				}
				if tt.want == Failed {
					s, err := q.Status(ctx, j.ID)
					if err != nil || s.State != Failed || !strings.Contains(s.Reason, "interrupted") {
						t.Errorf("job out of attempts: %+v, %v; want failed as interrupted", s, err)
					}
					return
				}
				// Queued again with River's back-off, then run by the
				// running queue; the cancelled attempt changed nothing.
				s := waitFor(t, q, j.ID, 60*time.Second, "done", func(s Status) bool { return s.State == Done || s.State == Failed })
				if s.State != Done || s.Attempt != 2 || s.Retries != 1 {
					t.Errorf("taken-back job: %+v, want done at the second attempt", s)
				}
			})
		}
	})
}

func TestInterrupted(t *testing.T) {
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	horizon := start.Add(time.Minute)
	running := func(attempt int) *rivertype.JobRow {
		return &rivertype.JobRow{State: rivertype.JobStateRunning, Attempt: attempt, AttemptedAt: &start}
	}
	tests := []struct {
		name    string
		row     *rivertype.JobRow
		h       heartbeat
		ok      bool
		horizon time.Time
		want    bool
	}{
		{"recent beat", running(2), heartbeat{2, horizon.Add(time.Second)}, true, horizon, false},
		{"stale beat", running(2), heartbeat{2, horizon.Add(-time.Second)}, true, horizon, true},
		{"beat of an earlier attempt, old start", running(2), heartbeat{1, horizon.Add(time.Second)}, true, horizon, true},
		{"no beat, old start", running(1), heartbeat{}, false, horizon, true},
		{"no beat, recent start", running(1), heartbeat{}, false, start.Add(-time.Second), false},
		{"not running", &rivertype.JobRow{State: rivertype.JobStateRetryable, Attempt: 1, AttemptedAt: &start}, heartbeat{}, false, horizon, false},
	}
	for _, tt := range tests {
		if got := interrupted(tt.row, tt.h, tt.ok, tt.horizon); got != tt.want {
			t.Errorf("%s: interrupted = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestNewRefusesANegativeHeartbeat(t *testing.T) {
	if _, err := New(dbtest.SQLite(t), NewWorkers(), Config{Concurrency: 1, Heartbeat: -time.Second}); err == nil {
		t.Error("New accepted a negative heartbeat")
	}
}
