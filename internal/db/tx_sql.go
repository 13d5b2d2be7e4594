package db

import "database/sql"

// SQLTx returns the underlying database/sql transaction, for a library that
// must write in the caller's transaction with its own queries: the job queue
// (internal/jobs) inserts its job row this way, so the caller's rows and the
// job commit or roll back together. Its queries are not rebound.
func (t *Tx) SQLTx() *sql.Tx { return t.tx }
