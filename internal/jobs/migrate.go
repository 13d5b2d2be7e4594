package jobs

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/dfslab/dfslab/internal/db"
)

// migrateLockKey is the PostgreSQL advisory lock that serialises River's
// migrations when several processes start at once ("river" in ASCII).
const migrateLockKey = 0x7269766572

// Migrate applies River's pending migrations for d's dialect; it is
// idempotent and safe when several processes start at once. `dfslab serve`
// and `dfslab worker` call it after [db.Open] (which creates the platform's
// own tables, job_progress included).
func Migrate(ctx context.Context, d *db.DB, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	cfg := &rivermigrate.Config{Logger: log}
	switch d.Dialect() {
	case db.SQLite:
		m, err := rivermigrate.New(riversqlite.New(d.SQL()), cfg)
		if err != nil {
			return fmt.Errorf("jobs: migrate: %w", err)
		}
		// One transaction holding SQLite's write lock from BEGIN (the pool
		// opens IMMEDIATE transactions): a second process waits, then finds
		// every version applied. SQLite's DDL is transactional, so the
		// single transaction River discourages for PostgreSQL is sound here.
		tx, err := d.SQL().BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("jobs: migrate: %w", err)
		}
		defer tx.Rollback()
		//lint:ignore SA1019 one transaction is what serialises processes on SQLite (see above)
		if _, err := m.MigrateTx(ctx, tx, rivermigrate.DirectionUp, nil); err != nil {
			return fmt.Errorf("jobs: migrate: %w", err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("jobs: migrate: commit: %w", err)
		}
		return nil
	case db.Postgres:
		m, err := rivermigrate.New(riverdatabasesql.New(d.SQL()), cfg)
		if err != nil {
			return fmt.Errorf("jobs: migrate: %w", err)
		}
		// River runs its PostgreSQL migrations one transaction each (it
		// deprecates the single-transaction form for them), so processes are
		// serialised with a session advisory lock held on a connection of
		// its own rather than by one enclosing transaction.
		conn, err := d.SQL().Conn(ctx)
		if err != nil {
			return fmt.Errorf("jobs: migrate: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", int64(migrateLockKey)); err != nil {
			return fmt.Errorf("jobs: migrate: lock: %w", err)
		}
		// Unlock on a fresh context: the caller's may be cancelled already.
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(migrateLockKey))
		if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return fmt.Errorf("jobs: migrate: %w", err)
		}
		return nil
	}
	return fmt.Errorf("jobs: migrate: unsupported dialect %s", d.Dialect())
}
