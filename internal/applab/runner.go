package applab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/dfslab/dfslab/internal/apk"
	"github.com/dfslab/dfslab/internal/appscan"
	"github.com/dfslab/dfslab/internal/blob"
	"github.com/dfslab/dfslab/internal/db"
)

// Queue schedules the scan of an uploaded file. Enqueue runs inside the
// transaction that stores the upload, so the scan row and its job commit
// together. The platform's job queue (internal/jobs, River) implements it
// with a job whose handler calls [Lab.Process]; [Runner] is the
// in-process implementation over the scan rows themselves.
type Queue interface {
	Enqueue(ctx context.Context, tx *db.Tx, scanID int64) error
}

// waker is a Queue that wants to hear when a transaction that enqueued
// work has committed.
type waker interface{ Wake() }

// ErrPermanent marks a scan failure that a retry cannot fix (the file is
// not an app the scanner can read); a job queue must not retry it.
var ErrPermanent = errors.New("applab: scan failed permanently")

// Lab runs scans: it is the job handler, whatever queue calls it.
type Lab struct {
	store   *Store
	scanner *appscan.Scanner
	log     *slog.Logger
	// heartbeat is how often a running scan proves it is alive.
	heartbeat time.Duration
	// Spool copies the file to a temporary file in TempDir ("" for the
	// system's) before the scan instead of reading it from the database
	// chunk by chunk as the scanner asks; see docs/performance.md for
	// the measurements behind the default.
	Spool   bool
	TempDir string
}

// open gives the file with key sum for the scan, in bounded memory: the
// blob's own reader, or a temporary copy. done releases it.
func (l *Lab) open(ctx context.Context, sum string) (io.ReaderAt, int64, func(), error) {
	r, err := l.store.Blob(ctx, sum)
	if err != nil {
		return nil, 0, nil, err
	}
	if !l.Spool {
		return r, r.Size(), func() {}, nil
	}
	// The platform's temporary name pattern, so that a copy left by a
	// killed worker is cleaned up like an interrupted upload.
	f, err := blob.CreateTemp(l.TempDir)
	if err != nil {
		return nil, 0, nil, err
	}
	done := func() {
		f.Close()
		os.Remove(f.Name())
	}
	if _, err := io.CopyBuffer(f, r, make([]byte, 256<<10)); err != nil {
		done()
		return nil, 0, nil, fmt.Errorf("applab: copy the file: %w", err)
	}
	return f, r.Size(), done, nil
}

// NewLab returns the scan handler over store; scanner nil means every
// rule with default limits.
func NewLab(store *Store, scanner *appscan.Scanner, log *slog.Logger) *Lab {
	if scanner == nil {
		scanner = appscan.NewScanner(appscan.Options{})
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Lab{store: store, scanner: scanner, log: log, heartbeat: 10 * time.Second}
}

// Process scans the file of scan id and stores the result. It is
// idempotent: a scan already done is left as it is, so a job retried after
// a crash that happened after the commit does nothing. Errors wrapping
// ErrPermanent mean the scan was marked failed and must not be retried.
func (l *Lab) Process(ctx context.Context, id int64, progress func(percent int, msg string)) error {
	sc, err := l.store.ScanByID(ctx, id)
	if err != nil {
		return err
	}
	if sc.State == Done || sc.State == Failed {
		return nil
	}
	if progress == nil {
		progress = func(int, string) {}
	}
	// The scan row's heartbeat, from here to the end: every interval the
	// latest progress is reported again, and while the rules run (which
	// report none) it creeps forward. Without it a long read or decode
	// would pass for a dead process: the page would call the scan
	// interrupted, and the in-process runner would take it over.
	var (
		mu    sync.Mutex
		pct   int
		msg   string
		creep bool
	)
	report := func(p int, m string, rules bool) {
		mu.Lock()
		defer mu.Unlock()
		pct, msg, creep = p, m, rules
		progress(p, m)
	}
	hctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(l.heartbeat)
		defer t.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-t.C:
			}
			mu.Lock()
			if creep {
				pct = min(pct+5, 90)
			}
			progress(pct, msg)
			mu.Unlock()
		}
	})
	defer func() {
		stop()
		wg.Wait()
	}()
	report(5, "reading the uploaded file", false)
	src, size, done, err := l.open(ctx, sc.SHA256)
	if err != nil {
		return fmt.Errorf("applab: file of scan %d: %w", id, err)
	}
	defer done()
	report(15, "opening the app", false)
	app, err := apk.OpenReader(ctx, src, size)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		reason := "the file could not be read as an Android app: " + err.Error()
		if ferr := l.store.Fail(ctx, id, reason); ferr != nil {
			return ferr
		}
		return fmt.Errorf("%w: %s", ErrPermanent, reason)
	}
	report(40, "running the rules", true)
	res, err := l.scanner.ScanApp(ctx, app)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		reason := "the scan failed: " + err.Error()
		if ferr := l.store.Fail(ctx, id, reason); ferr != nil {
			return ferr
		}
		return fmt.Errorf("%w: %s", ErrPermanent, reason)
	}
	res.Target.Path = sc.FileName
	res.Target.Size = sc.Size
	res.Target.SHA256 = sc.SHA256
	report(95, "saving the report", false)
	if _, err := l.store.Complete(ctx, id, res); err != nil {
		return err
	}
	l.log.Info("applab: scan done", "scan", id, "package", res.App.Package, "findings", len(res.Findings))
	return nil
}

// Runner is the in-process queue: the scan rows are the queue, workers
// claim them one at a time (see Store.Claim), a scan whose worker died is
// claimed again once its heartbeat is stale, and a scan is given up after
// MaxAttempts.
type Runner struct {
	lab  *Lab
	wake chan struct{}
	// StaleAfter is how long a running scan may go without a heartbeat
	// before another worker takes it over.
	StaleAfter  time.Duration
	MaxAttempts int
	// Poll is how often idle workers look for scans queued by another
	// process.
	Poll time.Duration
}

// NewRunner returns a runner for lab.
func NewRunner(lab *Lab) *Runner {
	return &Runner{lab: lab, wake: make(chan struct{}, 1), StaleAfter: StaleAfter, MaxAttempts: 3, Poll: 2 * time.Second}
}

// Enqueue implements Queue: the row inserted in tx is the queue entry.
func (r *Runner) Enqueue(ctx context.Context, tx *db.Tx, scanID int64) error { return nil }

// Wake tells an idle worker that a scan was committed.
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run runs n workers until ctx ends, then waits for them. A scan cut
// short by the end of ctx stays running in the table and is claimed again
// after StaleAfter (or at once by the next start, see Requeue).
func (r *Runner) Run(ctx context.Context, n int) {
	var wg sync.WaitGroup
	for range max(n, 1) {
		wg.Go(func() { r.work(ctx) })
	}
	wg.Wait()
}

// RunOnce claims and processes one scan; false when none was waiting.
func (r *Runner) RunOnce(ctx context.Context) (bool, error) {
	st := r.lab.store
	sc, err := st.Claim(ctx, r.StaleAfter, r.MaxAttempts)
	if errors.Is(err, ErrNoWork) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	err = r.lab.Process(ctx, sc.ID, func(p int, msg string) {
		if perr := st.Progress(context.WithoutCancel(ctx), sc.ID, p, msg); perr != nil {
			r.lab.log.Warn("applab: progress", "scan", sc.ID, "err", perr)
		}
	})
	if err != nil && !errors.Is(err, ErrPermanent) && ctx.Err() == nil {
		// An unexpected failure (database, storage): fail with a generic
		// reason rather than retry forever; the log has the detail.
		r.lab.log.Error("applab: scan", "scan", sc.ID, "err", err)
		if ferr := st.Fail(context.WithoutCancel(ctx), sc.ID, "internal error while scanning; see the server log"); ferr != nil {
			r.lab.log.Error("applab: mark scan failed", "scan", sc.ID, "err", ferr)
		}
	}
	return true, nil
}

func (r *Runner) work(ctx context.Context) {
	for ctx.Err() == nil {
		did, err := r.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			r.lab.log.Warn("applab: claim", "err", err)
		}
		if did {
			continue
		}
		t := time.NewTimer(r.Poll)
		select {
		case <-ctx.Done():
		case <-r.wake:
		case <-t.C:
		}
		t.Stop()
	}
}
