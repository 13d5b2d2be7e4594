package resilience_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/resilience"
	"github.com/dfslab/dfslab/internal/web/webtest"
)

// seedSector writes, directly in SQL for speed, a sector of n entities
// that each signed off one assessment (every question answered) in each
// of three campaigns of one regulator, and returns the regulator and the
// newest campaign.
func seedSector(b *testing.B, f *fixture, n int) (resilience.Org, int64) {
	return seedSectorOf(b, f, f.org("Regulator", identity.OrgTelecomRegulator, "MW"), n)
}

func seedSectorOf(b *testing.B, f *fixture, reg resilience.Org, n int) (resilience.Org, int64) {
	b.Helper()
	ctx := context.Background()
	ms, _ := resilience.BuiltinModels(nil)
	m := ms[0]
	var orgs []int64
	for i := range n {
		typ := identity.OrgDFSProvider
		if i%3 == 0 {
			typ = identity.OrgMNO
		}
		orgs = append(orgs, f.org(fmt.Sprintf("Entity %03d", i), typ, "MW").ID)
	}
	var last int64
	err := f.d.InTx(ctx, func(tx *db.Tx) error {
		for c := range 3 {
			at := f.now.AddDate(c, 0, 0).UnixMicro()
			if err := tx.QueryRow(ctx, `INSERT INTO resilience_campaigns (org_id, country, title, model_key, variant, entity_types, deadline, created_at)
				VALUES (?, 'MW', ?, ?, 'six-domain', '["mno","dfs_provider"]', ?, ?) RETURNING id`, reg.ID, fmt.Sprintf("Campaign %d", c), m.Key(), at+1e12, at).Scan(&last); err != nil {
				return err
			}
			for i, org := range orgs {
				et := resilience.EntityDFSProvider
				if i%3 == 0 {
					et = resilience.EntityMNO
				}
				answers := map[string]resilience.Answer{}
				for _, d := range m.Domains {
					for j, q := range d.Questions {
						l := (i + j + c) % 6
						answers[q.ID] = resilience.Answer{Level: &l}
					}
				}
				sc := resilience.Score(m, "six-domain", et, resilience.RiskHigh, answers)
				var id int64
				if err := tx.QueryRow(ctx, `INSERT INTO resilience_assessments (org_id, title, model_key, variant, entity_type, profile, risk_level, status,
					campaign_id, created_at, submitted_at, snapshot, overall) VALUES (?, 'x', ?, 'six-domain', ?, ?, 'high', 'submitted', ?, ?, ?, '{}', ?) RETURNING id`,
					org, m.Key(), string(et), fmt.Sprintf(`{"entity_type":%q}`, et), last, at, at, sc.Overall).Scan(&id); err != nil {
					return err
				}
				for _, d := range sc.Domains {
					if _, err := tx.Exec(ctx, "INSERT INTO resilience_domain_scores (assessment_id, domain_id, score) VALUES (?, ?, ?)", id, d.ID, d.Score); err != nil {
						return err
					}
				}
				for q, a := range answers {
					if _, err := tx.Exec(ctx, "INSERT INTO resilience_answers (assessment_id, question_id, level, version, updated_at) VALUES (?, ?, ?, 1, ?)", id, q, *a.Level, at); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	f.now = f.now.AddDate(3, 0, 0)
	return reg, last
}

// BenchmarkSectorBenchmark: the regulator's benchmark of 300 entities ×
// 54 questions, with the trend over three campaigns (issue 11's target:
// under 100 ms for the page).
func BenchmarkSectorBenchmark(b *testing.B) {
	for _, dialect := range []struct {
		name string
		open func(testing.TB) *db.DB
	}{{"sqlite", dbtest.SQLite}, {"postgres", dbtest.Postgres}} {
		b.Run(dialect.name, func(b *testing.B) {
			d := dialect.open(b)
			f := newFixture(b, d)
			reg, camp := seedSector(b, f, 300)
			ctx := context.Background()
			bm, err := f.s.Benchmark(ctx, reg, camp)
			if err != nil || bm.Submitted != 300 || len(bm.Trend) != 3 {
				b.Fatalf("benchmark: %d submitted, %d trend points, %v", bm.Submitted, len(bm.Trend), err)
			}
			for b.Loop() {
				if _, err := f.s.Benchmark(ctx, reg, camp); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBenchmarkPage: the regulator's benchmark page through the
// platform's shell (store, rendering, headers), 300 entities × 54
// questions × 3 campaigns.
func BenchmarkBenchmarkPage(b *testing.B) {
	for _, dialect := range []struct {
		name string
		open func(testing.TB) *db.DB
	}{{"sqlite", dbtest.SQLite}, {"postgres", dbtest.Postgres}} {
		b.Run(dialect.name, func(b *testing.B) {
			s := newServerOn(b, dialect.open(b))
			reg := s.orgs["macra"]
			_, camp := seedSectorOf(b, s.fixture, reg, 300)
			target := fmt.Sprintf("/orgs/%d/resilience/campaigns/%d/benchmark", reg.ID, camp)
			cookie := &http.Cookie{Name: s.cookie, Value: webtest.Cookie(s.users["macra-viewer"])}
			get := func() *httptest.ResponseRecorder {
				r := httptest.NewRequest(http.MethodGet, target, nil)
				r.AddCookie(cookie)
				rec := httptest.NewRecorder()
				s.srv.ServeHTTP(rec, r)
				return rec
			}
			if rec := get(); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `id="submitted">300<`) {
				b.Fatalf("benchmark page: %d", rec.Code)
			}
			for b.Loop() {
				get()
			}
		})
	}
}
