package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"time"

	"github.com/dfslab/dfslab/internal/applab"
	"github.com/dfslab/dfslab/internal/appscan"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/jobs"
)

// registerJobs is the one place where the capability packages' job
// handlers are registered, so that `dfslab serve` (in-process workers) and
// `dfslab worker` run the same set.
// concurrency is how many jobs the queue runs at once: each scan gets its
// share of the cores, so that N parallel scans do not each start one
// goroutine per core and oversubscribe the machine.
func registerJobs(ws *jobs.Workers, d *db.DB, log *slog.Logger, concurrency int) {
	applab.RegisterJobs(ws, d, appscan.NewScanner(appscan.Options{Logger: log, Workers: scanWorkers(runtime.GOMAXPROCS(0), concurrency)}), log)
}

// scanWorkers divides the cores among the jobs that run at once.
func scanWorkers(cores, concurrency int) int {
	if concurrency < 1 {
		concurrency = 1
	}
	return max(1, cores/concurrency)
}

// workerConfig is the configuration of `dfslab worker`; flags have
// environment twins like those of serve.
type workerConfig struct {
	dsn, logFormat, logLevel string
	// secretKeyFile names serve's secret key: the worker's audit entries
	// (a scan done or failed) join the same keyed chain.
	secretKeyFile           string
	concurrency             int
	jobTimeout, stopTimeout time.Duration
}

// workerFlags defines the worker's flags with their defaults; their
// environment twins are applied after parsing (applyEnv).
func workerFlags(fs *flag.FlagSet, c *workerConfig) {
	fs.StringVar(&c.dsn, "db", "", "database: the SQLite file of dfslab serve (default "+db.DefaultPath+") or postgres://… (DFSLAB_DB)")
	fs.IntVar(&c.concurrency, "concurrency", runtime.NumCPU(), "jobs run at once (DFSLAB_CONCURRENCY)")
	fs.DurationVar(&c.jobTimeout, "job-timeout", jobs.DefaultJobTimeout, "a job's handler is cancelled after this long (a job whose process died is queued again once it has missed a minute of heartbeats, whatever this says) (DFSLAB_JOB_TIMEOUT)")
	fs.DurationVar(&c.stopTimeout, "stop-timeout", 5*time.Minute, "on SIGTERM, how long running jobs may finish before they are cancelled and queued again (DFSLAB_STOP_TIMEOUT)")
	fs.StringVar(&c.secretKeyFile, "secret-key-file", "", "the same key as dfslab serve: "+secretKeyUsage)
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json (DFSLAB_LOG_FORMAT)")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn, error (DFSLAB_LOG_LEVEL)")
}

const workerUsage = `usage: dfslab worker [flags]

Runs background jobs (app scans) and nothing else; migrates the job tables on
start and, on SIGTERM, lets running jobs finish (--stop-timeout).

On PostgreSQL any number of worker processes, on any hosts, share the queue.
On SQLite, 'dfslab serve' runs the workers itself and that is the normal
set-up; a separate worker is still allowed on the same host, against the
database file serve created, to keep scans in their own process. It is
refused for a file that does not exist and on network file systems, where
SQLite's locks between processes are not reliable.

flags:`

func runWorker(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c workerConfig
	fs := flag.NewFlagSet("dfslab worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	workerFlags(fs, &c)
	fs.Usage = func() {
		fmt.Fprintln(stderr, workerUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "dfslab worker: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if err := applyEnv(fs); err != nil {
		fmt.Fprintln(stderr, "dfslab worker:", err)
		return 2
	}
	if c.concurrency < 1 {
		fmt.Fprintf(stderr, "dfslab worker: --concurrency %d: want at least 1\n", c.concurrency)
		return 2
	}
	if c.jobTimeout <= 0 {
		fmt.Fprintf(stderr, "dfslab worker: --job-timeout %s: want a positive duration\n", c.jobTimeout)
		return 2
	}
	log, err := serveLogger(stderr, c.logFormat, c.logLevel)
	if err != nil {
		fmt.Fprintln(stderr, "dfslab worker:", err)
		return 2
	}
	if err := jobs.CheckWorkerDB(c.dsn); err != nil {
		fmt.Fprintln(stderr, "dfslab worker:", err)
		return 2
	}
	if err := work(ctx, c, log); err != nil {
		log.Error("worker failed", "err", err)
		return 1
	}
	return 0
}

func work(ctx context.Context, c workerConfig, log *slog.Logger) error {
	key, warning, err := loadSecretKey(c.secretKeyFile)
	if err != nil {
		return err
	}
	if warning != "" {
		log.Warn(warning)
	}
	keys, err := auditKeys(key)
	if err != nil {
		return err
	}
	d, err := db.Open(ctx, c.dsn, keys)
	if err != nil {
		return err
	}
	defer d.Close()
	q, err := startJobs(ctx, d, jobs.Config{Concurrency: c.concurrency, JobTimeout: c.jobTimeout, Logger: log})
	if err != nil {
		return err
	}
	if !q.Runs() {
		log.Warn("no job handlers are registered: this worker has nothing to run")
	}
	log.Info("dfslab worker running", "db", d.Dialect().String(), "concurrency", c.concurrency)
	// A worker spools no uploads itself, but may share the host's
	// temporary directory with a serve that crashed.
	go tempHousekeeping(ctx, 30*time.Minute, log)
	<-ctx.Done()
	return stopJobs(q, c.stopTimeout, log)
}

// startJobs migrates River's tables and starts the job queue with the
// handlers of registerJobs; serve and worker share it.
func startJobs(ctx context.Context, d *db.DB, cfg jobs.Config) (*jobs.Queue, error) {
	if err := jobs.Migrate(ctx, d, cfg.Logger); err != nil {
		return nil, err
	}
	ws := jobs.NewWorkers()
	registerJobs(ws, d, cfg.Logger, cfg.Concurrency)
	q, err := jobs.New(d, ws, cfg)
	if err != nil {
		return nil, err
	}
	if err := q.Start(ctx); err != nil {
		return nil, err
	}
	return q, nil
}

// stopJobs lets running jobs finish for up to timeout, then cancels them
// (they are queued again for the next start).
func stopJobs(q *jobs.Queue, timeout time.Duration, log *slog.Logger) error {
	if q.Runs() {
		log.Info("stopping background jobs", "grace", timeout)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return q.Stop(ctx)
}
