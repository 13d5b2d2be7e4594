package collab

import (
	"sync"
	"time"
)

// unreadTTL bounds how stale a cached unread count may be. Every write to
// notifications made through this Store invalidates the cache at once, so
// the TTL only matters for writes by another process (a second server on
// the same PostgreSQL database, or the command line).
const unreadTTL = 3 * time.Second

// unreadMax bounds the cache; when it is full it starts over, which costs
// one query per user and keeps the memory of a server with many users flat.
const unreadMax = 4096

// unreadCache remembers each user's unread-notification count for a few
// seconds: the count is the badge on every page a signed-in user loads,
// and under load it was a fourth query on every request.
//
// Invalidation is by generation: a reader notes the generation before it
// queries and stores its count under that generation; a writer bumps the
// generation after its transaction. A count read before a write committed
// therefore never outlives the write, whichever finishes first.
type unreadCache struct {
	clock func() time.Time // monotonic wall clock, not the store's domain clock

	mu      sync.Mutex
	gen     uint64
	entries map[int64]unreadEntry
}

type unreadEntry struct {
	n       int
	gen     uint64
	expires time.Time
}

func newUnreadCache() *unreadCache {
	return &unreadCache{clock: time.Now, entries: make(map[int64]unreadEntry)}
}

// get returns the cached count of user and whether it is valid, and the
// generation under which a fresh count must be stored.
func (c *unreadCache) get(user int64) (n int, ok bool, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, found := c.entries[user]
	if found && e.gen == c.gen && c.clock().Before(e.expires) {
		return e.n, true, c.gen
	}
	return 0, false, c.gen
}

// put stores a count read under generation gen, unless a write has
// happened since.
func (c *unreadCache) put(user int64, n int, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.entries) >= unreadMax {
		clear(c.entries)
	}
	c.entries[user] = unreadEntry{n: n, gen: gen, expires: c.clock().Add(unreadTTL)}
}

// invalidate forgets every count; writers call it after their transaction
// (committed or not: a spurious invalidation costs one query).
func (c *unreadCache) invalidate() {
	c.mu.Lock()
	c.gen++
	clear(c.entries)
	c.mu.Unlock()
}
