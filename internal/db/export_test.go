package db

// Test hooks into the statement cache.

// CachedStatements reports how many prepared statements d keeps.
func CachedStatements(d *DB) int { return d.stmts.len() }

// MaxCachedStatements is the bound of the cache.
const MaxCachedStatements = maxCachedStmts
