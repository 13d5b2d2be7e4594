package tabletop_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/tabletop"
)

type fixture struct {
	t   testing.TB
	ctx context.Context
	d   *db.DB
	s   *tabletop.Store
	ids *identity.Store
	now time.Time // the clock of the store; tests move it
}

func newFixture(t testing.TB, d *db.DB) *fixture {
	f := &fixture{t: t, ctx: audit.WithActor(context.Background(), audit.Actor{IP: "192.0.2.1", RequestID: "test"}), d: d,
		now: time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return f.now }
	var err error
	if f.s, err = tabletop.NewStore(d, refs(t), clock); err != nil {
		t.Fatal(err)
	}
	f.ids = identity.NewStore(d, identity.Options{Now: clock})
	return f
}

func (f *fixture) org(name string) int64 {
	f.t.Helper()
	o, err := f.ids.CreateOrg(f.ctx, identity.NewOrg{Name: name, Type: identity.OrgTelecomRegulator, Country: "MW"})
	if err != nil {
		f.t.Fatal(err)
	}
	return o.ID
}

func (f *fixture) actions(orgID int64) []string {
	f.t.Helper()
	rows, err := f.d.Query(f.ctx, "SELECT action FROM audit_log WHERE org_id = ? AND action LIKE 'tabletop.%' ORDER BY seq", orgID)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

func TestLibrary(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		a, b := f.org("Regulator A"), f.org("Regulator B")

		c1, err := f.s.Clone(f.ctx, a, "payday-sim-swap@2026.1", 0)
		if err != nil {
			t.Fatal(err)
		}
		if c1.Scenario.Version != "2026.1-copy" || c1.BasedOn != "payday-sim-swap@2026.1" || c1.Rev != 1 {
			t.Errorf("first clone: version %q, based on %q, rev %d", c1.Scenario.Version, c1.BasedOn, c1.Rev)
		}
		if !strings.Contains(c1.Source, "# A dfslab tabletop scenario") {
			t.Error("the clone lost the comments of the original")
		}
		c2, err := f.s.Clone(f.ctx, a, "", c1.ID)
		if err != nil || c2.Scenario.Version != "2026.1-copy2" {
			t.Fatalf("clone of the clone: %v, version %q", err, c2.Scenario.Version)
		}
		if _, err := f.s.Clone(f.ctx, a, "no-such@1", 0); !errors.Is(err, tabletop.ErrNotFound) {
			t.Errorf("clone of an unknown scenario: %v", err)
		}
		if _, err := f.s.Clone(f.ctx, b, "", c1.ID); !errors.Is(err, tabletop.ErrNotFound) {
			t.Errorf("B clones A's scenario: %v, want ErrNotFound", err)
		}
		if _, err := f.s.Scenario(f.ctx, b, c1.ID); !errors.Is(err, tabletop.ErrNotFound) {
			t.Errorf("B reads A's scenario: %v, want ErrNotFound", err)
		}

		// Edit: a new title saves; the old revision is stale.
		edited := strings.Replace(c1.Source, "title: Payday SIM-swap wave", "title: Payday SIM-swap wave (national drill)", 1)
		saved, err := f.s.Save(f.ctx, a, c1.ID, []byte(edited), 1)
		if err != nil || saved.Rev != 2 || saved.Scenario.Title != "Payday SIM-swap wave (national drill)" {
			t.Fatalf("save: %v, rev %d, title %q", err, saved.Rev, saved.Scenario.Title)
		}
		cur, err := f.s.Save(f.ctx, a, c1.ID, []byte(c1.Source), 1)
		if !errors.Is(err, tabletop.ErrStale) || cur.Rev != 2 {
			t.Errorf("stale save: %v, current rev %d", err, cur.Rev)
		}
		var ve *tabletop.ValidationError
		if _, err := f.s.Save(f.ctx, a, c1.ID, []byte(strings.Replace(edited, "channel: call", "channel: pigeon", 1)), 2); !errors.As(err, &ve) {
			t.Errorf("invalid save: %v", err)
		}
		if _, err := f.s.Save(f.ctx, b, c1.ID, []byte(edited), 2); !errors.Is(err, tabletop.ErrNotFound) {
			t.Errorf("B saves A's scenario: %v", err)
		}
		// Saving c2 under c1's version collides.
		collide := strings.Replace(c2.Source, `version: "2026.1-copy2"`, `version: "2026.1-copy"`, 1)
		if _, err := f.s.Save(f.ctx, a, c2.ID, []byte(collide), 1); !errors.Is(err, tabletop.ErrConflict) {
			t.Errorf("save onto an existing version: %v", err)
		}
		// Import: the same key again is a conflict; another organisation may hold it.
		if _, err := f.s.Import(f.ctx, a, []byte(edited)); !errors.Is(err, tabletop.ErrConflict) {
			t.Errorf("import of an existing version: %v", err)
		}
		if _, err := f.s.Import(f.ctx, b, []byte(edited)); err != nil {
			t.Errorf("B imports the same scenario: %v", err)
		}
		lib, err := f.s.Library(f.ctx, a)
		if err != nil || len(lib) != 2 {
			t.Fatalf("library of A: %d scenarios, %v", len(lib), err)
		}
		if err := f.s.Delete(f.ctx, b, c2.ID); !errors.Is(err, tabletop.ErrNotFound) {
			t.Errorf("B deletes A's scenario: %v", err)
		}
		if err := f.s.Delete(f.ctx, a, c2.ID); err != nil {
			t.Fatal(err)
		}
		want := []string{"tabletop.scenario.clone", "tabletop.scenario.clone", "tabletop.scenario.update", "tabletop.scenario.delete"}
		if got := f.actions(a); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("audit of A: %v, want %v", got, want)
		}
		if got := f.actions(b); len(got) != 1 || got[0] != "tabletop.scenario.import" {
			t.Errorf("audit of B: %v", got)
		}
	})
}
