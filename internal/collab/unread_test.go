package collab

import (
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
)

// TestUnreadCache checks that the cached badge count follows every write
// made through the same Store at once, and a write made elsewhere (another
// Store: another server process) within the cache's TTL.
func TestUnreadCache(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		wall := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
		f.s.unread.clock = func() time.Time { return wall }
		other := NewStore(d, f.cat, f.clock.Now) // a second process on the same database
		unread := func() int {
			t.Helper()
			n, err := f.s.Unread(f.ctx, f.a1.UserID)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		th := f.thread(f.a1, f.orgA, AudienceAll, "Cached")
		steps := []struct {
			name  string
			write func() error
			wait  time.Duration
			want  int
		}{
			{"nothing yet", func() error { return nil }, 0, 0},
			{"reply through this store", func() error { _, err := f.s.Reply(f.ctx, f.b, th.ID, "one"); return err }, 0, 1},
			{"Notify through this store", func() error {
				return f.s.Notify(f.ctx, []int64{f.a1.UserID}, "baseline", "Published", "/")
			}, 0, 2},
			{"Notify elsewhere, within the TTL", func() error {
				return other.Notify(f.ctx, []int64{f.a1.UserID}, "baseline", "Published", "/")
			}, unreadTTL / 2, 2},
			{"after the TTL", func() error { return nil }, unreadTTL, 3},
			{"mark all read here", func() error { return f.s.MarkRead(f.ctx, f.a1.UserID, 0) }, 0, 0},
			{"NotifyCountry here", func() error {
				// Acting as someone else: the actor is not notified.
				ctx := audit.WithActor(f.ctx, audit.Actor{UserID: f.b.UserID})
				_, err := f.s.NotifyCountry(ctx, "MW", "baseline", "Published", "/")
				return err
			}, 0, 1},
		}
		for _, st := range steps {
			if err := st.write(); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			wall = wall.Add(st.wait)
			if got := unread(); got != st.want {
				t.Errorf("%s: unread %d, want %d", st.name, got, st.want)
			}
		}
	})
}

// TestUnreadCacheGeneration checks the race the generation guards
// against: a count read before a write must not be stored after it.
func TestUnreadCacheGeneration(t *testing.T) {
	c := newUnreadCache()
	_, ok, gen := c.get(7)
	if ok {
		t.Fatal("empty cache reported a count")
	}
	c.invalidate() // a write commits while the reader is querying
	c.put(7, 5, gen)
	if n, ok, _ := c.get(7); ok {
		t.Errorf("count read before the write was cached (%d)", n)
	}
	_, _, gen = c.get(7)
	c.put(7, 6, gen)
	if n, ok, _ := c.get(7); !ok || n != 6 {
		t.Errorf("get = %d, %v; want 6, true", n, ok)
	}
}
