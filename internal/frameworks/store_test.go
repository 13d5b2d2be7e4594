package frameworks

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/catalog/framework"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
)

func known(t testing.TB) framework.Known {
	t.Helper()
	c, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	return func(id string) bool { _, err := c.Get(id); return err == nil }
}

func exampleFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parsedExample(t testing.TB) (*framework.Framework, []byte) {
	t.Helper()
	data := exampleFile(t, "cbe-cyber-guideline.yaml")
	f, err := framework.ParseYAML(data, known(t))
	if err != nil {
		t.Fatal(err)
	}
	return f, data
}

func auditActions(t *testing.T, d *db.DB) []string {
	t.Helper()
	es, err := audit.List(context.Background(), d, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es { // newest first: put them in order of writing
		out = append([]string{e.Action}, out...)
	}
	return out
}

func TestImportAndBrowse(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		s := NewStore(d, known(t), func() time.Time { return now })
		ctx := audit.WithActor(context.Background(), audit.Actor{UserID: 7})
		f, data := parsedExample(t)

		first, err := s.Import(ctx, f, data, "cbe.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if first.Revision != 1 || first.ImportedBy != 7 || first.Controls != 6 || first.Mappings != 9 || len(first.SHA256) != 64 {
			t.Errorf("first import = %+v", first)
		}
		// Re-importing the same framework id makes a new revision; pages
		// show the newest.
		f.Version = "2026.2"
		f.Controls = f.Controls[:2]
		second, err := s.Import(ctx, f, data, "cbe-2.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if second.Revision != 2 {
			t.Errorf("second import revision %d, want 2", second.Revision)
		}
		list, err := s.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].ID != second.ID || list[0].Version != "2026.2" || list[0].Controls != 2 || list[0].Mappings != 3 {
			t.Errorf("List = %+v", list)
		}
		revs, err := s.Revisions(ctx, "cbe-cyber-guideline")
		if err != nil || len(revs) != 2 || revs[0].Revision != 2 || revs[1].Revision != 1 || !revs[1].ImportedAt.Equal(now) {
			t.Errorf("Revisions = %+v, %v", revs, err)
		}
		cs, err := s.Controls(ctx, first.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 6 || cs[1].Key != "CBE-GOV-2" || cs[1].Group != "Governance" || len(cs[1].Mappings) != 2 ||
			cs[1].Mappings[0].RecID != "GOV-001" || cs[1].Mappings[0].Relation != framework.Equivalent ||
			cs[1].Mappings[0].Note != "The Bank's agreement plays the role of the MOU." || len(cs[5].Mappings) != 0 {
			t.Errorf("Controls = %+v", cs)
		}
		// Only the newest revision answers for a recommendation.
		mc, err := s.ForRecommendation(ctx, "GOV-001")
		if err != nil {
			t.Fatal(err)
		}
		if len(mc) != 1 || mc[0].Framework.ID != second.ID || mc[0].Control.Key != "CBE-GOV-2" || mc[0].Mapping.Relation != framework.Equivalent {
			t.Errorf("ForRecommendation(GOV-001) = %+v", mc)
		}
		if mc, _ := s.ForRecommendation(ctx, "USR-001"); len(mc) != 0 {
			t.Errorf("USR-001 maps only in the old revision, got %+v", mc)
		}
		if _, err := s.Framework(ctx, 999999); !errors.Is(err, ErrNotFound) {
			t.Errorf("Framework(unknown) = %v", err)
		}
		if got := auditActions(t, d); strings.Join(got, ",") != "framework.import,framework.import" {
			t.Errorf("audit = %v", got)
		}
	})
}

func TestEditMappings(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := NewStore(d, known(t), nil)
		ctx := audit.WithActor(context.Background(), audit.Actor{UserID: 3})
		f, data := parsedExample(t)
		fw, err := s.Import(ctx, f, data, "")
		if err != nil {
			t.Fatal(err)
		}
		cs, _ := s.Controls(ctx, fw.ID)
		res := cs[5] // CBE-RES-1, no mappings yet

		m, err := s.SetMapping(ctx, res.ID, "pay-003", framework.Related, " Device binding helps recovery. ")
		if err != nil {
			t.Fatal(err)
		}
		if m.RecID != "PAY-003" || m.Note != "Device binding helps recovery." || m.UpdatedBy != 3 {
			t.Errorf("SetMapping = %+v", m)
		}
		// Setting it again changes relation and note, not the count.
		m2, err := s.SetMapping(ctx, res.ID, "PAY-003", framework.Subset, "")
		if err != nil || m2.ID != m.ID {
			t.Fatalf("update = %+v, %v", m2, err)
		}
		c, _ := s.Control(ctx, res.ID)
		if len(c.Mappings) != 1 || c.Mappings[0].Relation != framework.Subset || c.Mappings[0].Note != "" {
			t.Errorf("after update: %+v", c.Mappings)
		}
		for _, tc := range []struct {
			ctl  int64
			rec  string
			rel  framework.Relation
			note string
			want error
		}{
			{res.ID, "APP-999", framework.Related, "", ErrInvalid},
			{res.ID, "APP-001", "same", "", ErrInvalid},
			{res.ID, "APP-001", framework.Related, strings.Repeat("x", MaxNote+1), ErrInvalid},
			{999999, "APP-001", framework.Related, "", ErrNotFound},
		} {
			if _, err := s.SetMapping(ctx, tc.ctl, tc.rec, tc.rel, tc.note); !errors.Is(err, tc.want) {
				t.Errorf("SetMapping(%d, %s, %s) = %v, want %v", tc.ctl, tc.rec, tc.rel, err, tc.want)
			}
		}
		ctl, err := s.DeleteMapping(ctx, m.ID)
		if err != nil || ctl != res.ID {
			t.Fatalf("DeleteMapping = %d, %v", ctl, err)
		}
		if _, err := s.DeleteMapping(ctx, m.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("second delete = %v", err)
		}
		if c, _ := s.Control(ctx, res.ID); len(c.Mappings) != 0 {
			t.Errorf("mapping not deleted: %+v", c.Mappings)
		}
		want := "framework.import,framework.mapping.create,framework.mapping.update,framework.mapping.delete"
		if got := auditActions(t, d); strings.Join(got, ",") != want {
			t.Errorf("audit = %v, want %s", got, want)
		}
		if rep, err := audit.Verify(ctx, d); err != nil {
			t.Errorf("audit chain: %+v %v", rep, err)
		}
	})
}

// A failing import leaves nothing behind: no framework row, no controls,
// no audit entry.
func TestImportAllOrNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := NewStore(d, known(t), nil)
		ctx := context.Background()
		f, data := parsedExample(t)
		// The parser refuses duplicate control IDs; the database's unique
		// constraint is the last line of defence and must roll back.
		f.Controls = append(f.Controls, f.Controls[0])
		if _, err := s.Import(ctx, f, data, ""); err == nil {
			t.Fatal("import with a duplicate control accepted")
		}
		for _, table := range []string{"frameworks", "framework_controls", "framework_mappings", "audit_log"} {
			var n int
			if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil || n != 0 {
				t.Errorf("%s has %d rows after a failed import (%v)", table, n, err)
			}
		}
	})
}
