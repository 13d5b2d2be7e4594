// Package db opens the platform database (SQLite by default, PostgreSQL for
// deployments with several nodes) behind one database/sql code path, applies
// the embedded migrations of its dialect and runs transactions.
//
// Queries are written once with '?' placeholders; [DB] and [Tx] rebind them
// to PostgreSQL's $n form, so dialect differences stay in this package and
// in the two migration folders.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// Dialect is the SQL dialect of an open database.
type Dialect int

const (
	SQLite Dialect = iota + 1
	Postgres
)

func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return fmt.Sprintf("Dialect(%d)", int(d))
}

// DefaultPath is where the embedded SQLite database lives when no DSN is
// given, relative to the working directory.
const DefaultPath = "dfslab-data/dfslab.db"

// DB is an open database of either dialect.
type DB struct {
	sql     *sql.DB
	dialect Dialect
	path    string // SQLite file; empty for PostgreSQL
	stmts   *stmtCache
	writes  atomic.Uint64 // see Writes
	// auditKeys are the keys of the audit chain (see [WithAuditKeys]).
	auditKeys [][]byte
}

// Writes is a counter that changes after every write made through d (an
// Exec, a transaction of InTx, a Query of anything but SELECT or WITH),
// committed or not. Read caches use it to stay exact for this process's
// own writes: note Writes before the query and keep the result only while
// Writes still returns that value. It does not see writes of other
// processes (a second server, the command line), so such caches also need
// a short expiry.
func (d *DB) Writes() uint64 { return d.writes.Load() }

// An Option configures a database handle in [Open].
type Option func(*DB)

// WithAuditKeys gives the handle the keys that package audit chains its
// entries with: the first keys new entries, every one verifies entries
// written under it earlier (a key that was replaced). db only carries
// them, so that every transaction of the process reaches the same keys:
// a key passed along some code paths and not others would split the
// chain.
func WithAuditKeys(keys ...[]byte) Option {
	return func(d *DB) { d.auditKeys = keys }
}

// AuditKeys returns the keys given with [WithAuditKeys], current first.
func (d *DB) AuditKeys() [][]byte { return d.auditKeys }

// Open opens the database named by dsn and applies pending migrations.
//
// dsn is either a PostgreSQL URL (postgres://… or postgresql://…) or a
// SQLite file: a plain path, "sqlite:PATH" or "file:PATH". An empty dsn means
// [DefaultPath]; the folder of a SQLite file is created when missing.
func Open(ctx context.Context, dsn string, opts ...Option) (*DB, error) {
	d, err := open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	for _, o := range opts {
		o(d)
	}
	if err := d.Migrate(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func open(ctx context.Context, dsn string) (*DB, error) {
	if IsPostgres(dsn) {
		return openPostgres(ctx, dsn)
	}
	return openSQLite(ctx, dsn)
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	s, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("db: open postgres: %w", err)
	}
	s.SetMaxOpenConns(32)
	s.SetMaxIdleConns(16)
	if err := s.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("db: connect postgres: %w", err)
	}
	return &DB{sql: s, dialect: Postgres, stmts: new(stmtCache)}, nil
}

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// SQLitePath is the file a SQLite DSN names ([DefaultPath] for "").
func SQLitePath(dsn string) string {
	switch {
	case dsn == "":
		return DefaultPath
	case strings.HasPrefix(dsn, "sqlite://"):
		dsn = strings.TrimPrefix(dsn, "sqlite://")
	case strings.HasPrefix(dsn, "sqlite:"):
		dsn = strings.TrimPrefix(dsn, "sqlite:")
	case strings.HasPrefix(dsn, "file:"):
		dsn = strings.TrimPrefix(dsn, "file:")
	}
	if i := strings.IndexByte(dsn, '?'); i >= 0 {
		dsn = dsn[:i]
	}
	return dsn
}

func openSQLite(ctx context.Context, dsn string) (*DB, error) {
	path := SQLitePath(dsn)
	if path == "" || path == ":memory:" {
		return nil, errors.New("db: SQLite needs a file (in-memory databases are not shared between connections)")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("db: create folder for %s: %w", path, err)
	}
	// Every connection gets the same pragmas. WAL lets readers work while
	// one writer commits; synchronous(FULL) makes each commit durable even
	// against power loss (kill -9 alone would be survived with NORMAL too).
	// _txlock=immediate takes the write lock at BEGIN, so two writers queue
	// on busy_timeout instead of deadlocking when both upgrade a read lock.
	// busy_timeout comes first: the pragmas run in order on every new
	// connection, and switching to WAL needs the database lock, which a
	// node starting at the same moment may hold (without the timeout yet,
	// that open failed at once with SQLITE_BUSY).
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Set("_txlock", "immediate")
	s, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("db: open sqlite %s: %w", path, err)
	}
	// Bounded pool: 200 concurrent HTTP requests must not open 200 SQLite
	// connections, each with its own page cache.
	n := 4 * runtime.GOMAXPROCS(0)
	s.SetMaxOpenConns(n)
	s.SetMaxIdleConns(n)
	if err := pingSQLite(ctx, s); err != nil {
		s.Close()
		return nil, fmt.Errorf("db: open sqlite %s: %w", path, err)
	}
	return &DB{sql: s, dialect: SQLite, path: path, stmts: new(stmtCache)}, nil
}

// pingSQLite opens the first connection. Several processes starting on a
// new database at once race to turn it into WAL mode, and SQLite answers
// the losers SQLITE_BUSY at once, without its busy handler: they wait a
// moment and try again, for up to about ten seconds.
func pingSQLite(ctx context.Context, s *sql.DB) error {
	var err error
	for attempt := 1; attempt <= 50; attempt++ {
		if err = s.PingContext(ctx); err == nil || !isBusy(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(time.Duration(attempt) * 8 * time.Millisecond):
		}
	}
	return err
}

// isBusy reports whether err is SQLite's SQLITE_BUSY (any extended code).
func isBusy(err error) bool {
	var coded interface{ Code() int }
	return errors.As(err, &coded) && coded.Code()&0xff == 5
}

// Close closes the cached statements and the database.
func (d *DB) Close() error {
	return errors.Join(d.stmts.close(), d.sql.Close())
}

// Dialect reports the SQL dialect.
func (d *DB) Dialect() Dialect { return d.dialect }

// Path is the SQLite file, or "" for PostgreSQL.
func (d *DB) Path() string { return d.path }

// SQL returns the underlying pool for the rare caller that needs it (health
// checks, metrics). Its queries are not rebound.
func (d *DB) SQL() *sql.DB { return d.sql }

// Ping checks that the database answers (for /readyz).
func (d *DB) Ping(ctx context.Context) error { return d.sql.PingContext(ctx) }

// Rebind rewrites '?' placeholders for the dialect.
func (d *DB) Rebind(q string) string { return rebind(d.dialect, q) }

// Exec runs a statement outside a transaction, prepared once per DB (see
// [DB.Query]).
func (d *DB) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	q = d.Rebind(q)
	defer d.writes.Add(1)
	if st := d.stmts.get(ctx, d.sql, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return d.sql.ExecContext(ctx, q, args...)
}

// Query runs a query outside a transaction. Data statements (SELECT,
// INSERT, UPDATE, DELETE, WITH) are prepared on first use and the prepared
// statement is kept until [DB.Close], so the same SQL is not parsed again on
// every request.
func (d *DB) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	q = d.Rebind(q)
	if !readOnly(q) {
		defer d.writes.Add(1)
	}
	if st := d.stmts.get(ctx, d.sql, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return d.sql.QueryContext(ctx, q, args...)
}

// QueryRow runs a query that returns at most one row, prepared once per DB
// (see [DB.Query]).
func (d *DB) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	q = d.Rebind(q)
	if !readOnly(q) {
		defer d.writes.Add(1)
	}
	if st := d.stmts.get(ctx, d.sql, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return d.sql.QueryRowContext(ctx, q, args...)
}

// Prepare prepares a rebound statement on the pool that the caller owns and
// closes. [DB.Query] and friends already reuse prepared statements; this is
// for the rare caller that needs a *sql.Stmt of its own.
func (d *DB) Prepare(ctx context.Context, q string) (*sql.Stmt, error) {
	return d.sql.PrepareContext(ctx, d.Rebind(q))
}

// Querier is what both [DB] and [Tx] offer, for code that runs either inside
// or outside a transaction.
type Querier interface {
	Exec(ctx context.Context, q string, args ...any) (sql.Result, error)
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
	Dialect() Dialect
}

// Tx is a transaction whose queries are rebound like those of [DB].
type Tx struct {
	tx      *sql.Tx
	dialect Dialect
	stmts   *stmtCache // the DB's: a statement prepared outside a transaction serves inside too
	missed  []string   // cacheable queries run unprepared, prepared by InTx afterwards
	// auditKeys are the DB's (see WithAuditKeys).
	auditKeys [][]byte
	// committed run after a successful commit (see AfterCommit).
	committed []func()
}

// AfterCommit runs fn once the transaction has committed, and never if it
// rolls back: in-process subscribers are told of a change only when others
// can read it.
func (t *Tx) AfterCommit(fn func()) { t.committed = append(t.committed, fn) }

// AuditKeys returns the audit chain keys of the transaction's database.
func (t *Tx) AuditKeys() [][]byte { return t.auditKeys }

// stmt returns the DB's cached statement for the rebound q bound to the
// transaction's connection, or nil to run q unprepared (the first time, see
// stmtCache.lookup). database/sql reuses the statement already prepared on
// that connection when there is one.
func (t *Tx) stmt(ctx context.Context, q string) *sql.Stmt {
	if t.stmts == nil {
		return nil
	}
	st, missed := t.stmts.lookup(q)
	if st == nil {
		if missed && !slices.Contains(t.missed, q) {
			t.missed = append(t.missed, q)
		}
		return nil
	}
	return t.tx.StmtContext(ctx, st)
}

// Dialect reports the SQL dialect.
func (t *Tx) Dialect() Dialect { return t.dialect }

// Exec runs a statement in the transaction.
func (t *Tx) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	q = rebind(t.dialect, q)
	if st := t.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, q, args...)
}

// Query runs a query in the transaction.
func (t *Tx) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	q = rebind(t.dialect, q)
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, q, args...)
}

// QueryRow runs a query that returns at most one row.
func (t *Tx) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	q = rebind(t.dialect, q)
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, q, args...)
}

// writeLockKey is the PostgreSQL advisory lock every InTx takes first
// ("write" in ASCII).
const writeLockKey = 0x7772697465

// InTx runs fn in a transaction, committing when fn returns nil and rolling
// back otherwise (also when fn panics).
//
// Write transactions are serialised on both dialects, so they behave the
// same: SQLite takes its write lock at BEGIN (IMMEDIATE); PostgreSQL takes
// a transaction-level advisory lock first thing. Every audited write
// appends to one hash chain and would queue there anyway; taking the lock
// up front, before any row lock, rules out deadlocks between the chain
// head and rows locked earlier in another transaction. Reads outside InTx
// are not affected.
func (d *DB) InTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	stx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: begin: %w", err)
	}
	tx := &Tx{tx: stx, dialect: d.dialect, stmts: d.stmts, auditKeys: d.auditKeys}
	// Runs after the commit or rollback below (deferred first).
	defer d.writes.Add(1)
	defer func() {
		// After commit or rollback, with the transaction's connection back
		// in the pool: preparing takes that idle connection.
		for _, q := range tx.missed {
			d.stmts.get(ctx, d.sql, q)
		}
	}()
	if d.dialect == Postgres {
		if _, err := stx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(writeLockKey)); err != nil {
			stx.Rollback()
			return fmt.Errorf("db: write lock: %w", err)
		}
	}
	defer func() {
		if p := recover(); p != nil {
			stx.Rollback()
			panic(p)
		}
		if err != nil {
			stx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = stx.Commit(); err != nil {
		return fmt.Errorf("db: commit: %w", err)
	}
	for _, fn := range tx.committed {
		fn()
	}
	return nil
}

// rebind turns '?' into $1, $2, … for PostgreSQL, leaving question marks in
// string literals, quoted identifiers and comments alone.
func rebind(d Dialect, q string) string {
	if d != Postgres || strings.IndexByte(q, '?') < 0 {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(q) {
				if q[j] == c {
					if j+1 < len(q) && q[j+1] == c { // doubled quote escapes itself
						j += 2
						continue
					}
					break
				}
				j++
			}
			if j >= len(q) {
				j = len(q) - 1
			}
			b.WriteString(q[i : j+1])
			i = j
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i - 1
			}
			b.WriteString(q[i : i+j+1])
			i += j
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return fmt.Sprint(n)
}

// IsUniqueViolation reports whether err is a unique-constraint failure on
// either dialect, so stores can map it to their own "already exists" error.
func IsUniqueViolation(err error) bool {
	return hasCode(err, "23505", sqliteConstraintUnique, sqliteConstraintPrimaryKey)
}

// IsForeignKeyViolation reports whether err is a foreign-key violation on
// either dialect.
func IsForeignKeyViolation(err error) bool {
	return hasCode(err, "23503", sqliteConstraintForeignKey)
}

// SQLite's extended result codes of the constraint violations the stores
// tell apart (sqlite3.h).
const (
	sqliteConstraintForeignKey = 787
	sqliteConstraintPrimaryKey = 1555
	sqliteConstraintUnique     = 2067
)

// hasCode reports whether err carries the PostgreSQL SQLSTATE state or one
// of the SQLite extended result codes: errors are told apart by their
// codes, never by their text.
func hasCode(err error, state string, sqliteCodes ...int) bool {
	if err == nil {
		return false
	}
	var pg interface{ SQLState() string }
	if errors.As(err, &pg) {
		return pg.SQLState() == state
	}
	var lite interface{ Code() int }
	if errors.As(err, &lite) {
		return slices.Contains(sqliteCodes, lite.Code())
	}
	return false
}
