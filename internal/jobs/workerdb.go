package jobs

import (
	"errors"
	"fmt"
	"os"

	"github.com/dfslab/dfslab/internal/db"
)

// ErrWorkerDB is returned by [CheckWorkerDB] for a database a separate
// worker process must not use.
var ErrWorkerDB = errors.New("jobs: database not usable by a separate worker process")

// CheckWorkerDB decides, before the database is opened, whether a separate
// `dfslab worker` process may use the database named by dsn. PostgreSQL:
// always. SQLite: only an existing file (the one `dfslab serve` created; a
// mistyped path must not silently create an empty database whose queue no
// one fills) on a local file system, because SQLite's locking between
// processes relies on local file locks and shared memory (WAL) that network
// file systems do not provide faithfully.
func CheckWorkerDB(dsn string) error {
	if db.IsPostgres(dsn) {
		return nil
	}
	path := db.SQLitePath(dsn)
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: SQLite file %s does not exist; start `dfslab serve` first or name its database", ErrWorkerDB, path)
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrWorkerDB, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is not a regular file", ErrWorkerDB, path)
	}
	if fs, remote := networkFS(path); remote {
		return fmt.Errorf("%w: %s is on a network file system (%s); SQLite cannot share it between processes safely: run the workers inside `dfslab serve` or use PostgreSQL", ErrWorkerDB, path, fs)
	}
	return nil
}
