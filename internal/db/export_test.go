package db

// Test hooks into the statement cache.

// CachedStatements reports how many prepared statements d keeps.
func CachedStatements(d *DB) int { return d.stmts.len() }

// WaitBackgroundPrepares waits for the statements that transactions asked
// for to be prepared.
func WaitBackgroundPrepares(d *DB) { d.stmts.bg.Wait() }

// MaxCachedStatements is the bound of the cache.
const MaxCachedStatements = maxCachedStmts
