package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/dfslab/dfslab/internal/db"
)

// progressKey carries the running job's reporter in its handler's context.
type progressKey struct{}

type reporter struct {
	db *db.DB
	id int64
}

// progressMiddleware gives every handler a reporter for its job.
type progressMiddleware struct {
	river.MiddlewareDefaults
	db *db.DB
}

func (m *progressMiddleware) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	return doInner(context.WithValue(ctx, progressKey{}, reporter{db: m.db, id: job.ID}))
}

// ErrNoJob is returned by [SetProgress] outside a job handler.
var ErrNoJob = errors.New("jobs: no job in context")

// SetProgress records the running job's progress for the pages that poll
// [Queue.Status]: percent is clamped to 0…100, message is short text for a
// person ("decoding resources"). ctx must be the handler's context. A retry
// starts from what the dead attempt last reported until it reports anew.
func SetProgress(ctx context.Context, percent int, message string) error {
	r, ok := ctx.Value(progressKey{}).(reporter)
	if !ok {
		return ErrNoJob
	}
	percent = min(max(percent, 0), 100)
	if len(message) > maxMessage {
		message = message[:maxMessage]
		for !utf8.ValidString(message) { // do not split a character
			message = message[:len(message)-1]
		}
	}
	_, err := r.db.Exec(ctx, `INSERT INTO job_progress (job_id, percent, message, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (job_id) DO UPDATE SET percent = excluded.percent, message = excluded.message, updated_at = excluded.updated_at`,
		r.id, percent, message, time.Now().UnixMicro())
	if err != nil {
		return fmt.Errorf("jobs: progress of job %d: %w", r.id, err)
	}
	return nil
}

// maxMessage bounds a progress message in bytes.
const maxMessage = 500

type progress struct {
	percent int
	message string
}

func readProgress(ctx context.Context, d *db.DB, id int64) (progress, error) {
	var p progress
	err := d.QueryRow(ctx, "SELECT percent, message FROM job_progress WHERE job_id = ?", id).Scan(&p.percent, &p.message)
	if errors.Is(err, sql.ErrNoRows) {
		return progress{}, nil
	}
	if err != nil {
		return progress{}, fmt.Errorf("jobs: progress of job %d: %w", id, err)
	}
	return p, nil
}
