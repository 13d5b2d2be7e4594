package identity

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
)

// TestPeopleCache checks the people list cache: this process's writes
// show on the next call, whichever store made them; a write the cache
// cannot see (another process: here a statement run past db.DB) shows
// once peopleTTL has passed, not before.
func TestPeopleCache(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		var mu sync.Mutex
		now := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

		s := NewStore(d, Options{})
		s.people.now = clock
		other := NewStore(d, Options{}) // a second store on the same database, as another module has
		org, err := s.CreateOrg(ctx, NewOrg{Name: "Cache Bank", Type: OrgDFSProvider, Country: "MW"})
		if err != nil {
			t.Fatal(err)
		}
		u, err := s.insertUserForTest(ctx, "a@example.org")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AddMember(ctx, org.ID, u.ID, RoleViewer); err != nil {
			t.Fatal(err)
		}
		roles := func() []Role {
			t.Helper()
			ps, err := s.People(ctx, org.ID)
			if err != nil {
				t.Fatal(err)
			}
			var out []Role
			for _, p := range ps {
				out = append(out, p.Role)
			}
			return out
		}
		check := func(step string, want ...Role) {
			t.Helper()
			got := roles()
			if len(got) != len(want) {
				t.Fatalf("%s: roles %v, want %v", step, got, want)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%s: roles %v, want %v", step, got, want)
				}
			}
		}
		check("first read", RoleViewer)
		check("cached read", RoleViewer)

		// A caller that changes the returned slice does not change the cache.
		ps, _ := s.People(ctx, org.ID)
		ps[0].Role = RoleOrgAdmin
		check("after a caller changed its copy", RoleViewer)

		if err := other.SetRole(ctx, org.ID, u.ID, RoleAnalyst); err != nil {
			t.Fatal(err)
		}
		check("after a role change through another store", RoleAnalyst)

		if _, err := d.SQL().ExecContext(ctx, d.Rebind("UPDATE memberships SET role = ? WHERE user_id = ?"), string(RoleOrgAdmin), u.ID); err != nil {
			t.Fatal(err)
		}
		check("another process's write, within the TTL", RoleAnalyst)
		advance(peopleTTL)
		check("another process's write, after the TTL", RoleOrgAdmin)
	})
}
