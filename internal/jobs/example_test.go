package jobs_test

import (
	"context"
	"fmt"

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
	d, err := db.Open(ctx, "dfslab-data/dfslab.db")
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

	s, err := q.Status(ctx, job.ID)
	if err != nil {
		panic(err)
	}
	fmt.Println(s.State, s.Percent, s.Message, s.Retries, s.Reason)
}
