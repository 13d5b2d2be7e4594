package applab_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/dfslab/dfslab/internal/applab"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/jobs"
)

// Issue 9, finding 9: a scan whose process was killed showed "running"
// until the queue took it back. Once its heartbeat is a minute old, its
// page and status say it was interrupted and will be retried; when the
// queue takes the job back, the scan is queued again, or failed when that
// was its last attempt.
func TestInterruptedScan(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newServer(t, d, 20<<20, nil)
		ctx := context.Background()
		id := scanID(t, s.upload("p1-analyst", s.org("p1", "/apps/upload"), nil, "v1.apk", build(t, "org.test.pay", 1, true, false)))
		page := s.org("p1", fmt.Sprintf("/apps/scans/%d", id))
		status := page + "/status.json"
		must(t, s.store.Start(ctx, id)) // a worker took it, at s.now

		tests := []struct {
			after       time.Duration
			interrupted bool
		}{
			{0, false},
			{applab.StaleAfter - time.Second, false},
			{applab.StaleAfter + time.Second, true},
		}
		start := s.now
		for _, tt := range tests {
			s.now = start.Add(tt.after)
			w := s.get("p1-viewer", status)
			s.expect(w, 200, `"state": "running"`)
			if got := strings.Contains(w.Body.String(), `"interrupted": true`) && strings.Contains(w.Body.String(), `"message": "interrupted, will retry"`); got != tt.interrupted {
				t.Errorf("%s after the last heartbeat: status says interrupted %v, want %v:\n%s", tt.after, got, tt.interrupted, w.Body)
			}
			w = s.get("p1-viewer", page)
			s.expect(w, 200)
			if got := strings.Contains(w.Body.String(), `id="scan-state">interrupted<`); got != tt.interrupted {
				t.Errorf("%s after the last heartbeat: page says interrupted %v, want %v", tt.after, got, tt.interrupted)
			}
		}

		// The queue took the job back with attempts left: queued again.
		job := &jobs.Job[applab.ScanJob]{JobRow: &rivertype.JobRow{ID: 1, Attempt: 1, MaxAttempts: 2}, Args: applab.ScanJob{ScanID: id}}
		must(t, applab.Interrupted(s.lab, ctx, job, false))
		sc, err := s.store.ScanByID(ctx, id)
		must(t, err)
		if sc.State != applab.Queued || sc.Message != "interrupted, will retry" || sc.Interrupted(s.now) {
			t.Errorf("scan taken back for a retry: %+v", sc)
		}
		s.expect(s.get("p1-viewer", status), 200, `"state": "queued"`, `"message": "interrupted, will retry"`)

		// The retry's process died too, on the last attempt: failed.
		must(t, s.store.Start(ctx, id))
		job.Attempt = 2
		must(t, applab.Interrupted(s.lab, ctx, job, true))
		s.expect(s.get("p1-viewer", status), 200, `"state": "failed"`, "interrupted 2 times")
	})
}
