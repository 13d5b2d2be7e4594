package applab_test

import (
	"context"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/applab"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/jobs"
)

// TestJobQueue: uploads enqueued on the platform's job queue (River) in
// the upload's transaction are each scanned exactly once.
func TestJobQueue(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		must(t, jobs.Migrate(ctx, d, nil))
		ws := jobs.NewWorkers()
		applab.RegisterJobs(ws, d, nil, nil)
		q, err := jobs.New(d, ws, jobs.Config{Concurrency: 2, PollInterval: 20 * time.Millisecond})
		must(t, err)
		must(t, q.Start(ctx))
		t.Cleanup(func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			q.Stop(sctx)
		})
		jq := applab.JobQueue{Q: q}
		var ids []int64
		for i := range 4 {
			up, err := applab.ReadApp(bytesReader(build(t, "org.test.pay", i+1, i%2 == 0, false)), "a.apk", 10<<20, t.TempDir())
			must(t, err)
			sc, err := f.store.NewScan(f.as("p1-analyst"), f.orgs["p1"], f.orgs["p1"], f.users["p1-analyst"], up, "a.apk", jq.Enqueue)
			must(t, err)
			must(t, up.Close())
			ids = append(ids, sc.ID)
		}
		// Not a timing assertion: a generous bound so that a lost job
		// fails the test instead of hanging it.
		deadline := time.Now().Add(60 * time.Second)
		for _, id := range ids {
			for {
				sc, err := f.store.ScanByID(ctx, id)
				must(t, err)
				if sc.State == applab.Done {
					if sc.Attempts != 1 || sc.VersionID == 0 {
						t.Errorf("scan %d: %+v", id, sc)
					}
					break
				}
				if sc.State == applab.Failed || time.Now().After(deadline) {
					t.Fatalf("scan %d: %+v", id, sc)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		if n := f.count("applab_versions"); n != 4 {
			t.Errorf("%d versions, want 4", n)
		}
	})
}
