package applab

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/dfslab/dfslab/internal/appscan"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/jobs"
)

// ScanJob is the background job that scans one upload. Unique by scan:
// enqueueing the same scan twice queues one job.
type ScanJob struct {
	ScanID int64 `json:"scan_id" river:"unique"`
}

// Kind is the job's stable name.
func (ScanJob) Kind() string { return "applab.scan" }

// JobQueue is the Queue over the platform's job queue (River): the job is
// inserted in the upload's transaction.
type JobQueue struct{ Q *jobs.Queue }

// Enqueue implements Queue.
func (q JobQueue) Enqueue(ctx context.Context, tx *db.Tx, scanID int64) error {
	_, err := q.Q.Enqueue(ctx, tx, ScanJob{ScanID: scanID}, &jobs.EnqueueOpts{Unique: true})
	return err
}

// RegisterJobs registers the scan handler on ws, for `dfslab serve` and
// `dfslab worker` alike. The scan row mirrors the job (state, attempts,
// progress, heartbeat, interruption) so that pages need not know the
// queue.
func RegisterJobs(ws *jobs.Workers, d *db.DB, scanner *appscan.Scanner, log *slog.Logger) {
	lab := NewLab(NewStore(d, nil), scanner, log)
	jobs.Handle(ws, lab.handle)
	jobs.OnInterrupt(ws, lab.interrupted)
}

// interruptedMessage is what a scan shows from the moment its process is
// found gone until another process starts it again.
const interruptedMessage = "interrupted, will retry"

// interrupted follows the queue taking back a scan whose process died:
// queued again, or failed when that was its last attempt (no handler runs
// to say so).
func (l *Lab) interrupted(ctx context.Context, j *jobs.Job[ScanJob], final bool) error {
	id := j.Args.ScanID
	if final {
		return l.store.Fail(ctx, id, fmt.Sprintf("the scan was interrupted %d times (its process stopped); upload the file again to retry", j.Attempt))
	}
	return l.store.Requeue(ctx, id, interruptedMessage)
}

func (l *Lab) handle(ctx context.Context, j *jobs.Job[ScanJob]) error {
	id := j.Args.ScanID
	if err := l.store.Start(ctx, id); err != nil {
		if errors.Is(err, ErrNotFound) {
			// The upload is gone (or already finished): nothing to do.
			return nil
		}
		return err
	}
	err := l.Process(ctx, id, func(p int, msg string) {
		// Both: the row for the lab's pages, the job for the queue's.
		if perr := l.store.Progress(ctx, id, p, msg); perr != nil {
			l.log.Warn("applab: progress", "scan", id, "err", perr)
		}
		if perr := jobs.SetProgress(ctx, p, msg); perr != nil {
			l.log.Warn("applab: job progress", "scan", id, "err", perr)
		}
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrPermanent):
		return jobs.Permanent(err)
	case j.Attempt >= j.MaxAttempts:
		if ferr := l.store.Fail(context.WithoutCancel(ctx), id, "the scan failed "+fmt.Sprint(j.Attempt)+" times; see the server log"); ferr != nil {
			l.log.Error("applab: mark scan failed", "scan", id, "err", ferr)
		}
		return err
	default:
		if rerr := l.store.Requeue(context.WithoutCancel(ctx), id, "waiting for a retry"); rerr != nil {
			l.log.Error("applab: requeue scan", "scan", id, "err", rerr)
		}
		return err
	}
}
