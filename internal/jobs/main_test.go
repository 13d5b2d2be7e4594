package jobs

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/testenv"
)

// The test binary doubles as a worker process: with childEnv set it runs
// the test workers against the database named there until SIGTERM, like
// `dfslab worker` would, so the tests can run several real processes and
// kill one of them.
const (
	childEnv            = "DFSLAB_JOBS_TEST_CHILD_DSN"
	childConcurrencyEnv = "DFSLAB_JOBS_TEST_CHILD_CONCURRENCY"
	childTimeoutEnv     = "DFSLAB_JOBS_TEST_CHILD_TIMEOUT"
	childHeartbeatEnv   = "DFSLAB_JOBS_TEST_CHILD_HEARTBEAT"
	childReady          = "jobs-test-child-ready"
)

func TestMain(m *testing.M) {
	if dsn := os.Getenv(childEnv); dsn != "" {
		os.Exit(runChild(dsn))
	}
	os.Exit(m.Run())
}

// A child's jobs time out after the duration in childTimeoutEnv and are
// rescued by River after twice that: short (a second) where a test waits
// for River's rescuer, which takes a job back only once its timeout has
// passed too; long where a slow machine must not turn a timeout into a
// retry, or where the heartbeats (childHeartbeatEnv, the default when
// empty) must do the work.

func runChild(dsn string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := db.Open(ctx, dsn)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	defer d.Close()
	if err := Migrate(ctx, d, log); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	n, _ := strconv.Atoi(os.Getenv(childConcurrencyEnv))
	timeout, err := time.ParseDuration(os.Getenv(childTimeoutEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	var beat time.Duration
	if s := os.Getenv(childHeartbeatEnv); s != "" {
		if beat, err = time.ParseDuration(s); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			return 1
		}
	}
	q, err := New(d, testWorkers(d), Config{Concurrency: max(n, 1), JobTimeout: timeout, RescueAfter: 2 * timeout,
		Heartbeat: beat, Logger: log})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	if err := q.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	fmt.Println(childReady)
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := q.Stop(sctx); err != nil {
		fmt.Fprintln(os.Stderr, "child: stop:", err)
		return 1
	}
	return 0
}

// recordArgs is a job that records each run and, once, its completion in
// a table whose UNIQUE constraint fails a second completion.
type recordArgs struct {
	N       int `json:"n"`
	SleepMS int `json:"sleep_ms"`
}

func (recordArgs) Kind() string { return "jobs_test_record" }

// crashArgs is a job whose first attempt hangs until its process dies; a
// later attempt completes.
type crashArgs struct{}

func (crashArgs) Kind() string { return "jobs_test_crash" }

func createTestTables(t testing.TB, d *db.DB) {
	t.Helper()
	for _, stmt := range []string{
		"CREATE TABLE jobs_test_attempts (job_id BIGINT NOT NULL, attempt INTEGER NOT NULL, pid INTEGER NOT NULL)",
		"CREATE TABLE jobs_test_done (job_id BIGINT NOT NULL UNIQUE, pid INTEGER NOT NULL)",
	} {
		if _, err := d.Exec(context.Background(), stmt); err != nil {
			t.Fatal(err)
		}
	}
}

func testWorkers(d *db.DB) *Workers {
	ws := NewWorkers()
	pid := os.Getpid()
	// The attempt is recorded on its own, before the work, so that a second
	// run is counted even when its completion is refused.
	attempt := func(ctx context.Context, id int64, n int) error {
		_, err := d.Exec(ctx, "INSERT INTO jobs_test_attempts (job_id, attempt, pid) VALUES (?, ?, ?)", id, n, pid)
		return err
	}
	done := func(ctx context.Context, id int64) error {
		_, err := d.Exec(ctx, "INSERT INTO jobs_test_done (job_id, pid) VALUES (?, ?)", id, pid)
		return err
	}
	Handle(ws, func(ctx context.Context, j *Job[recordArgs]) error {
		if err := attempt(ctx, j.ID, j.Attempt); err != nil {
			return err
		}
		select {
		case <-time.After(time.Duration(j.Args.SleepMS) * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
		return done(ctx, j.ID)
	})
	Handle(ws, func(ctx context.Context, j *Job[crashArgs]) error {
		if err := attempt(ctx, j.ID, j.Attempt); err != nil {
			return err
		}
		if j.Attempt == 1 {
			// Hung for good, deaf to its timeout, until the test kills
			// this process: only the rescuer can get the job back.
			<-make(chan struct{})
		}
		return done(ctx, j.ID)
	})
	return ws
}

// child is a worker process started from the test binary.
type child struct {
	cmd    *exec.Cmd
	stderr *os.File
}

// startChild starts a worker process on the test's database and waits until
// its workers run. heartbeat 0 means the default.
func startChild(t *testing.T, dsn string, concurrency int, timeout, heartbeat time.Duration) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dsn, childConcurrencyEnv+"="+strconv.Itoa(concurrency),
		childTimeoutEnv+"="+timeout.String())
	if heartbeat > 0 {
		cmd.Env = append(cmd.Env, childHeartbeatEnv+"="+heartbeat.String())
	}
	errf, err := os.CreateTemp(t.TempDir(), "child-stderr")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = errf
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, stderr: errf}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		if t.Failed() {
			b, _ := os.ReadFile(errf.Name())
			t.Logf("worker %d stderr:\n%s", cmd.Process.Pid, b)
		}
	})
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == childReady {
				ready <- nil
				io.Copy(io.Discard, out)
				return
			}
		}
		ready <- fmt.Errorf("worker exited before it was ready: %v", sc.Err())
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("worker not ready after 60 s")
	}
	return c
}

// stop sends SIGTERM and waits for a clean exit.
func (c *child) stop(t *testing.T) {
	t.Helper()
	c.cmd.Process.Signal(syscall.SIGTERM)
	if err := c.cmd.Wait(); err != nil {
		t.Errorf("worker %d: %v", c.cmd.Process.Pid, err)
	}
}

// dsnOf names d for another process: the SQLite file, or the test server's
// DSN with d's schema on the search path.
func dsnOf(t *testing.T, d *db.DB) string {
	t.Helper()
	if d.Dialect() == db.SQLite {
		return d.Path()
	}
	var schema string
	if err := d.QueryRow(context.Background(), "SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(testenv.Env(t, dbtest.PostgresEnv))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
