package jobs_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/jobs"
)

// ScanArgs is how a capability package declares a job: a stable Kind and
// JSON fields. The tagged field is the key of a unique job: one scan job
// per upload, however often the upload is retried.
type ScanArgs struct {
	ScanID int64 `json:"scan_id" river:"unique"`
}

func (ScanArgs) Kind() string { return "appscan" }

// The handler is registered once at start (cmd/dfslab's registerJobs);
// the request handler enqueues in the transaction that stores the upload;
// the page polls Status.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "jobs-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	d, err := db.Open(ctx, filepath.Join(dir, "dfslab.db"))
	if err != nil {
		panic(err)
	}
	defer d.Close()
	if err := jobs.Migrate(ctx, d, nil); err != nil {
		panic(err)
	}

	ws := jobs.NewWorkers()
	jobs.Handle(ws, func(ctx context.Context, j *jobs.Job[ScanArgs]) error {
		jobs.SetProgress(ctx, 10, "unpacking")
		// … scan; a retry after a crash finds what this attempt left …
		jobs.SetProgress(ctx, 90, "writing the report")
		return nil
	})
	q, err := jobs.New(d, ws, jobs.Config{Concurrency: 2})
	if err != nil {
		panic(err)
	}
	q.Start(ctx)
	defer q.Stop(ctx)

	var job jobs.Enqueued
	err = d.InTx(ctx, func(tx *db.Tx) error {
		// INSERT INTO scans … (the row the job will work on), then:
		job, err = q.Enqueue(ctx, tx, ScanArgs{ScanID: 42}, &jobs.EnqueueOpts{Unique: true})
		return err
	})
	if err != nil {
		panic(err)
	}

	// A page would poll every second or so; the example waits for the end.
	var s jobs.Status
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if s, err = q.Status(ctx, job.ID); err != nil {
			panic(err)
		}
		if s.State == jobs.Done || s.State == jobs.Failed {
			break
		}
	}
	fmt.Println(s.State, s.Percent, s.Message, s.Retries)
	// Output: done 100 writing the report 0
}
