package collab

import (
	"context"
	"fmt"
	"testing"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/identity/identitytest"
)

// benchWorld fills a database with 20 organisations in 4 countries, one
// member each, and 2,000 threads with mixed audiences spread over the
// first 50 recommendations, written directly (not through the audited
// store) to keep the set-up short.
func benchWorld(b *testing.B, d *db.DB) (*Store, Viewer, string) {
	b.Helper()
	ctx := audit.WithActor(context.Background(), audit.Actor{UserID: 1})
	cat, err := testCatalog()
	if err != nil {
		b.Fatal(err)
	}
	ids := identity.NewStore(d, identity.Options{})
	var reader Viewer
	countries := []string{"MW", "LS", "KE", "GH"}
	var orgs []int64
	for i := range 20 {
		o, err := ids.CreateOrg(ctx, identity.NewOrg{Name: fmt.Sprintf("Org %d", i), Type: identity.OrgDFSProvider, Country: countries[i%4]})
		if err != nil {
			b.Fatal(err)
		}
		u := identitytest.Member(b, ids, o.ID, fmt.Sprintf("u%d@example.org", i), fmt.Sprintf("u%d", i), identity.RoleAnalyst)
		if i == 0 {
			reader = Viewer{UserID: u.ID}
		}
		orgs = append(orgs, o.ID)
	}
	auds := []string{"org", "country", "all"}
	err = d.InTx(ctx, func(tx *db.Tx) error {
		for i := range 2000 {
			org := orgs[i%20]
			rec := cat.Recommendations[i%50].ID
			var id int64
			if err := tx.QueryRow(ctx, `INSERT INTO collab_threads (rec_id, audience, org_id, country, author_id, title, created_at, last_post_at)
				VALUES (?, ?, ?, ?, 1, ?, ?, ?) RETURNING id`, rec, auds[i%3], org, countries[(i%20)%4],
				fmt.Sprintf("Thread %d about key rotation", i), int64(i), int64(i)).Scan(&id); err != nil {
				return err
			}
			for j := range 3 {
				if _, err := tx.Exec(ctx, `INSERT INTO collab_posts (thread_id, author_id, author_org_id, body, created_at) VALUES (?, 1, ?, ?, ?)`,
					id, org, fmt.Sprintf("Post %d of thread %d: we rotate signing keys yearly", j, i), int64(i)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return NewStore(d, cat, nil), reader, cat.Recommendations[0].ID
}

func BenchmarkThreads(b *testing.B) {
	for _, dialect := range []struct {
		name string
		open func(testing.TB) *db.DB
	}{{"sqlite", dbtest.SQLite}, {"postgres", dbtest.Postgres}} {
		b.Run(dialect.name, func(b *testing.B) {
			s, v, rec := benchWorld(b, dialect.open(b))
			ctx := context.Background()
			for _, q := range []struct {
				name string
				q    ThreadQuery
			}{
				{"recommendation", ThreadQuery{RecID: rec}},
				{"recent", ThreadQuery{Limit: 50}},
				{"search", ThreadQuery{Text: "signing yearly", Limit: 50}},
			} {
				b.Run(q.name, func(b *testing.B) {
					for b.Loop() {
						if _, err := s.Threads(ctx, v, q.q); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
			b.Run("unread", func(b *testing.B) {
				for b.Loop() {
					if _, err := s.Unread(ctx, v.UserID); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
