package adoption_test

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"testing"
	"testing/fstest"

	"go.yaml.in/yaml/v3"

	"github.com/dfslab/dfslab/internal/adoption"
	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity"
)

// Sector view at the scale: 50 providers × 200 recommendations ×
// 12 submissions (120 000 submitted items). Target: under 100 ms per
// page on SQLite and PostgreSQL.
const (
	benchProviders   = 50
	benchRecs        = 200
	benchSubmissions = 12
)

// catalog200 is the real catalogue grown to 200 recommendations by
// copies under new IDs (the sector view's cost depends on the count, not
// on the wording).
func catalog200(tb testing.TB) *catalog.Catalog {
	tb.Helper()
	real, err := catalog.Load()
	if err != nil {
		tb.Fatal(err)
	}
	tax, err := fs.ReadFile(catalog.DataFS(), "taxonomy.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	var extra []catalog.Recommendation
	for i := 0; len(real.Recommendations)+len(extra) < benchRecs; i++ {
		r := real.Recommendations[i%len(real.Recommendations)]
		r.ID = fmt.Sprintf("%s-%03d", r.ID[:3], 900+i)
		r.Checks, r.ScanRules = []catalog.Check{catalog.CheckReview}, nil
		// A copy must not repeat its original's statement (the catalogue
		// refuses duplicates) and carries the rendered text, not parameters.
		r.Statement, r.Parameters = fmt.Sprintf("%s (benchmark copy %d)", r.Statement, i), nil
		extra = append(extra, r)
	}
	y, err := yaml.Marshal(extra)
	if err != nil {
		tb.Fatal(err)
	}
	rel, err := fs.ReadFile(catalog.DataFS(), "releases.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	fsys := fstest.MapFS{"taxonomy.yaml": {Data: tax}, "releases.yaml": {Data: rel}, "recommendations/zz-bench.yaml": {Data: y}}
	files, _ := fs.Glob(catalog.DataFS(), "recommendations/*.yaml")
	for _, f := range files {
		b, _ := fs.ReadFile(catalog.DataFS(), f)
		fsys[f] = &fstest.MapFile{Data: b}
	}
	c, err := catalog.LoadFS(fsys)
	if err != nil {
		tb.Fatal(err)
	}
	if len(c.Recommendations) != benchRecs {
		tb.Fatalf("%d recommendations, want %d", len(c.Recommendations), benchRecs)
	}
	return c
}

// seedSector publishes an all-adopted MW baseline and writes the
// submissions directly (one transaction), progress rising over time.
func seedSector(tb testing.TB, f *fixture) {
	tb.Helper()
	ctx := f.as("macra-admin")
	if _, err := f.store.AdoptRemaining(ctx, f.orgs["macra"]); err != nil {
		tb.Fatal(err)
	}
	v, err := f.store.Publish(ctx, f.orgs["macra"], "bench")
	if err != nil {
		tb.Fatal(err)
	}
	statuses := []string{"not_started", "planned", "in_progress", "implemented", "verified", "not_applicable"}
	var orgIDs []int64
	for p := range benchProviders {
		o, err := f.ids.CreateOrg(context.Background(), identity.NewOrg{Name: fmt.Sprintf("Provider %02d", p), Type: identity.OrgDFSProvider, Country: "MW"})
		if err != nil {
			tb.Fatal(err)
		}
		orgIDs = append(orgIDs, o.ID)
	}
	err = f.db.InTx(context.Background(), func(tx *db.Tx) error {
		for p, org := range orgIDs {
			for s := range benchSubmissions {
				at := f.now.AddDate(0, s-benchSubmissions, 0).UnixMicro() + int64(p)
				var id int64
				impl, overdue := 0, 0
				items := make([]string, benchRecs)
				sub := make([]adoption.SubmittedItem, benchRecs)
				for i := range benchRecs {
					// Deterministic mix that improves with each submission.
					k := (i*7 + p*3 + s*11) % 17
					st := statuses[min(k*len(statuses)/17+s/4, len(statuses)-1)]
					items[i] = st
					sub[i] = adoption.SubmittedItem{RecID: f.cat.Recommendations[i].ID, Status: adoption.Status(st)}
					if st == "implemented" || st == "verified" {
						impl++
					}
					if st == "in_progress" && k%3 == 0 {
						overdue++
					}
				}
				cells, err := adoption.CellsJSON(f.cat, sub)
				if err != nil {
					return err
				}
				if err := tx.QueryRow(context.Background(), `INSERT INTO submissions (org_id, country, version_id, signed_by, signed_name, statement,
					submitted_at, applicable, implemented, overdue, cells) VALUES (?, 'MW', ?, 1, 'bench', 'bench', ?, ?, ?, ?, ?) RETURNING id`,
					org, v.ID, at, benchRecs, impl, overdue, cells).Scan(&id); err != nil {
					return err
				}
				for i, st := range items {
					if _, err := tx.Exec(context.Background(), `INSERT INTO submission_items (submission_id, rec_id, status, overdue) VALUES (?, ?, ?, ?)`,
						id, f.cat.Recommendations[i].ID, st, st == "in_progress" && i%3 == 0); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

func BenchmarkSectorView(b *testing.B) {
	cat := catalog200(b)
	for _, dialect := range []struct {
		name string
		open func(testing.TB) *db.DB
	}{{"sqlite", dbtest.SQLite}, {"postgres", dbtest.Postgres}} {
		b.Run(dialect.name, func(b *testing.B) {
			f := newFixtureWith(b, dialect.open(b), cat)
			seedSector(b, f)
			s := newServerOn(b, f, nil)
			path := s.org("macra", "/sector")
			if w := s.get("macra-viewer", path); w.Code != http.StatusOK {
				b.Fatalf("sector page: %d", w.Code)
			}
			sv, err := f.store.Sector(context.Background(), f.orgs["macra"])
			if err != nil || len(sv.Rows) != benchProviders || sv.Submitted != benchProviders*benchSubmissions {
				b.Fatalf("sector: %d rows, %d submissions, %v", len(sv.Rows), sv.Submitted, err)
			}
			b.Run("store", func(b *testing.B) {
				for b.Loop() {
					if _, err := f.store.Sector(context.Background(), f.orgs["macra"]); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("page", func(b *testing.B) {
				for b.Loop() {
					if w := s.get("macra-viewer", path); w.Code != http.StatusOK {
						b.Fatal(w.Code)
					}
				}
			})
		})
	}
}

// BenchmarkBaselinePage measures the regulator's baseline page, which
// works out the next version three times (unchanged?, approvals' hash,
// upstream changes), and the public summary: computed, and served from
// its cache.
func BenchmarkBaselinePage(b *testing.B) {
	cat := catalog200(b)
	for _, dialect := range []struct {
		name string
		open func(testing.TB) *db.DB
	}{{"sqlite", dbtest.SQLite}, {"postgres", dbtest.Postgres}} {
		b.Run(dialect.name, func(b *testing.B) {
			f := newFixtureWith(b, dialect.open(b), cat)
			seedSector(b, f)
			if err := f.store.SetPublicSummary(f.as("macra-admin"), f.orgs["macra"], true); err != nil {
				b.Fatal(err)
			}
			s := newServerOn(b, f, nil)
			path := s.org("macra", "/baseline")
			if w := s.get("macra-viewer", path); w.Code != http.StatusOK {
				b.Fatalf("baseline page: %d", w.Code)
			}
			b.Run("baseline-page", func(b *testing.B) {
				for b.Loop() {
					if w := s.get("macra-viewer", path); w.Code != http.StatusOK {
						b.Fatal(w.Code)
					}
				}
			})
			b.Run("draft-state", func(b *testing.B) {
				for b.Loop() {
					if _, err := f.store.DraftState(context.Background(), f.orgs["macra"]); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("public-summary-store", func(b *testing.B) {
				for b.Loop() {
					if _, err := f.store.PublicSummary(context.Background(), "MW"); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("public-page-cached", func(b *testing.B) {
				for b.Loop() {
					// A signed-in reader: the anonymous one has a budget
					// of 60 pages a minute per address.
					if w := s.get("macra-viewer", "/public/baselines/MW"); w.Code != http.StatusOK {
						b.Fatal(w.Code)
					}
				}
			})
		})
	}
}
