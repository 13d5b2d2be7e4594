package frameworks

import (
	"context"
	"fmt"
	"testing"

	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/catalog/framework"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
)

// BenchmarkForRecommendation measures the query behind the "In other
// frameworks" section of every recommendation page: 5 frameworks, each
// imported twice, of 1000 controls mapped to 3 recommendations each.
func BenchmarkForRecommendation(b *testing.B) {
	for _, dialect := range []struct {
		name string
		open func(testing.TB) *db.DB
	}{{"sqlite", dbtest.SQLite}, {"postgres", dbtest.Postgres}} {
		b.Run(dialect.name, func(b *testing.B) {
			d := dialect.open(b)
			cat, err := catalog.Load()
			if err != nil {
				b.Fatal(err)
			}
			s := NewStore(d, nil, nil)
			ctx := context.Background()
			recs := cat.Recommendations
			for fi := range 5 {
				f := &framework.Framework{ID: fmt.Sprintf("fw-%d", fi), Title: fmt.Sprintf("Framework %d", fi), Version: "1", Format: framework.FormatYAML}
				for ci := range 1000 {
					c := framework.Control{ID: fmt.Sprintf("C-%d", ci), Title: "Control", Text: "Text of the control."}
					for k := range 3 {
						c.Mappings = append(c.Mappings, framework.Mapping{RecID: recs[(ci*3+k)%len(recs)].ID, Relation: framework.Related})
					}
					f.Controls = append(f.Controls, c)
				}
				for range 2 {
					if _, err := s.Import(ctx, f, nil, ""); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				mc, err := s.ForRecommendation(ctx, recs[i%len(recs)].ID)
				if err != nil || len(mc) == 0 {
					b.Fatalf("%d controls, %v", len(mc), err)
				}
			}
		})
	}
}
