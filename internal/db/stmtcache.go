package db

import (
	"context"
	"database/sql"
	"strings"
	"sync"
)

// maxCachedStmts bounds the statement cache. The platform has a few hundred
// distinct queries; the bound only matters for SQL built at run time (IN
// lists of varying length), which then runs unprepared instead of growing
// the cache (every cached statement holds a compiled program on each pool
// connection that ran it).
const maxCachedStmts = 512

// stmtCache holds the prepared statements of one [DB], keyed by the rebound
// SQL. On SQLite, parsing and planning a query costs about as much as
// running one of the platform's indexed lookups, and every request runs
// several; a statement prepared once is reused by every connection of the
// pool (database/sql prepares it again, once, on each connection it meets).
//
// Lookups are lock-free (sync.Map suits a cache written once per key and
// read on every request); mu serialises inserts with Close.
type stmtCache struct {
	m      sync.Map // string → *sql.Stmt
	mu     sync.Mutex
	n      int
	closed bool
}

// get returns the cached statement for q, preparing it on first use, or nil
// when q is not worth caching, the cache is full or closed, or preparing
// failed; the caller then runs q unprepared, which also reports any error
// in q the way an unprepared query would.
func (c *stmtCache) get(ctx context.Context, pool *sql.DB, q string) *sql.Stmt {
	if v, ok := c.m.Load(q); ok {
		return v.(*sql.Stmt)
	}
	if !cacheable(q) || c.full() {
		return nil
	}
	// Prepared outside the lock: preparing waits for a pool connection,
	// and a miss must not hold up misses for other queries.
	st, err := pool.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	return c.add(q, st)
}

// lookup returns the cached statement for q without preparing it, and
// whether q should be prepared once the caller is done with its connection.
// Transactions use it: preparing on the pool needs a second connection
// while the transaction holds one; when the other connections all belong to
// writers queued behind this transaction's write lock, waiting for one
// would stall until their busy timeout, and where the pool may grow it
// would open a connection just to prepare. [DB.InTx] prepares the missed
// queries after the transaction, on the connection it has just released.
func (c *stmtCache) lookup(q string) (st *sql.Stmt, missed bool) {
	if v, ok := c.m.Load(q); ok {
		return v.(*sql.Stmt), false
	}
	return nil, cacheable(q) && !c.full()
}

func (c *stmtCache) full() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed || c.n >= maxCachedStmts
}

// add caches st for q unless the cache is closed or full (st is closed
// then, and nil returned) or another caller cached q first (its statement
// is returned).
func (c *stmtCache) add(q string, st *sql.Stmt) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.n >= maxCachedStmts {
		st.Close()
		return nil
	}
	if v, loaded := c.m.LoadOrStore(q, st); loaded {
		st.Close() // another request prepared it first
		return v.(*sql.Stmt)
	}
	c.n++
	return st
}

// close closes every cached statement; later lookups run unprepared.
func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	var first error
	c.m.Range(func(k, v any) bool {
		if err := v.(*sql.Stmt).Close(); err != nil && first == nil {
			first = err
		}
		c.m.Delete(k)
		return true
	})
	c.n = 0
	return first
}

// len reports how many statements are cached (for tests).
func (c *stmtCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// cacheable reports whether q is a single data statement. Scripts (several
// statements) cannot be prepared on PostgreSQL, and DDL runs once at
// migration time, so caching either would only cost memory.
func cacheable(q string) bool {
	q = strings.TrimSpace(q)
	if i := strings.IndexByte(q, ';'); i >= 0 && i != len(q)-1 {
		return false
	}
	word := q
	if i := strings.IndexAny(q, " \t\r\n("); i >= 0 {
		word = q[:i]
	}
	for _, w := range [...]string{"SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "REPLACE"} {
		if strings.EqualFold(word, w) {
			return true
		}
	}
	return false
}

// readOnly reports whether q starts with SELECT or WITH: a query that
// changes nothing, for [DB.Writes]. (A WITH … INSERT is not used here; the
// stores write through Exec and InTx.)
func readOnly(q string) bool {
	q = strings.TrimLeft(q, " \t\r\n")
	return len(q) >= 6 && (strings.EqualFold(q[:6], "SELECT") || strings.EqualFold(q[:4], "WITH"))
}
