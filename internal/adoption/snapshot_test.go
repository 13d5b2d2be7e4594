package adoption_test

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"go.yaml.in/yaml/v3"

	"github.com/dfslab/dfslab/internal/adoption"
	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
)

// source is a catalogue source whose catalogue the test swaps, as a new
// release or an accepted amendment would.
type source struct{ cat *catalog.Catalog }

func (s *source) Current(context.Context) (*catalog.Catalog, *catalog.Index, error) {
	return s.cat, nil, nil
}

// catalogWithout is the embedded catalogue without recommendation id, as
// a later release that withdrew it.
func catalogWithout(t *testing.T, id string) *catalog.Catalog {
	t.Helper()
	fsys := fstest.MapFS{}
	files, err := fs.Glob(catalog.DataFS(), "recommendations/*.yaml")
	must(t, err)
	top, err := fs.Glob(catalog.DataFS(), "*.yaml") // taxonomy, releases
	must(t, err)
	for _, f := range append(files, top...) {
		b, err := fs.ReadFile(catalog.DataFS(), f)
		must(t, err)
		if strings.HasPrefix(f, "recommendations/") {
			var recs []catalog.Recommendation
			must(t, yaml.Unmarshal(b, &recs))
			kept := recs[:0]
			for _, r := range recs {
				if r.ID != id {
					kept = append(kept, r)
				}
			}
			b, err = yaml.Marshal(kept)
			must(t, err)
		}
		fsys[f] = &fstest.MapFile{Data: b}
	}
	c, err := catalog.LoadFS(fsys)
	must(t, err)
	if _, err := c.Get(id); err == nil {
		t.Fatalf("%s still in the catalogue", id)
	}
	return c
}

// catalogEditing is the embedded catalogue with edit applied to each
// recommendation as written in the YAML (drop it by returning false), as
// an earlier or later release would have it.
func catalogEditing(t *testing.T, edit func(r *catalog.Recommendation) bool) *catalog.Catalog {
	t.Helper()
	fsys := fstest.MapFS{}
	files, err := fs.Glob(catalog.DataFS(), "recommendations/*.yaml")
	must(t, err)
	top, err := fs.Glob(catalog.DataFS(), "*.yaml")
	must(t, err)
	for _, f := range append(files, top...) {
		b, err := fs.ReadFile(catalog.DataFS(), f)
		must(t, err)
		if strings.HasPrefix(f, "recommendations/") {
			var recs []catalog.Recommendation
			must(t, yaml.Unmarshal(b, &recs))
			kept := recs[:0]
			for _, r := range recs {
				if edit(&r) {
					kept = append(kept, r)
				}
			}
			b, err = yaml.Marshal(kept)
			must(t, err)
		}
		fsys[f] = &fstest.MapFile{Data: b}
	}
	c, err := catalog.LoadFS(fsys)
	must(t, err)
	return c
}

// TestMergedUpstream: a version published before a release merged one of
// its items into another. Where the version decided both, the merged item
// is listed as withdrawn upstream, carried on by its survivor, and needs
// no choice; where it decided only the withdrawn one, the survivor shows
// as a text change published under the old ID, to take or leave.
func TestMergedUpstream(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		if len(f.cat.Withdrawn) < 2 {
			t.Skip("the catalogue has no merged items")
		}
		both, only := f.cat.Withdrawn[0], f.cat.Withdrawn[2]
		survivor, err := f.cat.Get(only.ReplacedBy)
		must(t, err)
		// The release before: both withdrawn items live, and the second
		// one's survivor not there yet.
		before := catalogEditing(t, func(r *catalog.Recommendation) bool {
			if r.ID == both.ID || r.ID == only.ID {
				r.Withdrawn, r.ReplacedBy = "", ""
			}
			return r.ID != survivor.ID
		})
		src := &source{cat: before}
		f.store.SetCatalogSource(src)
		macra := f.orgs["macra"]
		for _, id := range []string{both.ID, only.ID} {
			must(t, f.store.SetDraft(f.as("macra-analyst"), macra, adoption.BaselineItem{RecID: id, Decision: adoption.Adopted}))
		}
		_, err = f.store.AdoptRemaining(f.as("macra-analyst"), macra)
		must(t, err)
		// AdoptRemaining decides the catalogue's live items, survivor
		// included; the release before did not have it.
		_, err = d.Exec(f.as("macra-analyst"), "DELETE FROM baseline_drafts WHERE rec_id = ?", survivor.ID)
		must(t, err)
		v1, err := f.store.Publish(f.as("macra-admin"), macra, "")
		must(t, err)
		if len(v1.Merged) != 1 || v1.Merged[0].RecID != both.ID {
			t.Fatalf("v1 merged items: %+v", v1.Merged)
		}
		carried, ok := v1.Item(survivor.ID)
		if !ok || carried.PublishedAs != only.ID || carried.Statement != only.Statement {
			t.Fatalf("v1 %s: %+v", survivor.ID, carried)
		}
		src.cat = f.cat
		up, err := f.store.Upstream(context.Background(), macra)
		must(t, err)
		m, ok := changeOf(up, both.ID)
		if !ok || m.Kind != "withdrawn" || m.ReplacedBy != both.ReplacedBy || m.Pending() || m.Choosable() {
			t.Fatalf("merged item: %+v (%v)", m, ok)
		}
		c, ok := changeOf(up, survivor.ID)
		if !ok || c.Kind != "changed" || c.PublishedAs != only.ID || c.PublishedStatement != only.Statement || c.UpstreamStatement != survivor.Statement || !c.Pending() {
			t.Fatalf("carried item: %+v (%v)", c, ok)
		}
		if _, err := f.store.ChooseUpstream(f.as("macra-analyst"), macra, both.ID, adoption.Leave); err == nil {
			t.Fatal("a choice on a merged item was accepted")
		}
		_, err = f.store.ChooseUpstream(f.as("macra-analyst"), macra, survivor.ID, adoption.Leave)
		must(t, err)
		// Migration 0130 gives the survivor the withdrawn item's draft
		// decision; here the regulators decide it.
		must(t, f.store.SetDraft(f.as("macra-analyst"), macra, adoption.BaselineItem{RecID: survivor.ID, Decision: adoption.Adopted}))
		v2, err := f.store.Publish(f.as("macra-admin"), macra, "")
		must(t, err)
		if _, ok := v2.Item(both.ID); ok {
			t.Errorf("v2 kept %s, merged into %s", both.ID, both.ReplacedBy)
		}
		if it, _ := v2.Item(survivor.ID); it.Statement != only.Statement || it.PublishedAs != "" {
			t.Errorf("v2 %s: %+v, want the text as published under %s", survivor.ID, it, only.ID)
		}
	})
}

func changeOf(cs []adoption.UpstreamChange, id string) (adoption.UpstreamChange, bool) {
	for _, c := range cs {
		if c.RecID == id {
			return c, true
		}
	}
	return adoption.UpstreamChange{}, false
}

// TestFrozenVersions: a version keeps its items' text as published; an
// accepted amendment or a new release shows as an upstream change that
// the regulators take or leave per item, and publishing waits for a
// choice on each; a withdrawn item shows as withdrawn upstream.
func TestFrozenVersions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		macra, rbm := f.orgs["macra"], f.orgs["rbm"]
		src := &source{cat: f.cat}
		f.store.SetCatalogSource(src)
		v1 := f.publish()
		recs := f.cat.Recommendations
		a, b, gone := recs[3], recs[4], recs[5]
		if it, _ := v1.Item(a.ID); it.Title != a.Title || it.Statement != a.Statement {
			t.Fatalf("v1 snapshot of %s: %q %q", a.ID, it.Title, it.Statement)
		}
		if v1.Legacy() {
			t.Fatal("a version with snapshots reads as legacy")
		}

		// Two amendments are accepted upstream.
		amended, err := f.cat.Amend([]catalog.Amendment{{Revision: 1, RecID: a.ID, Statement: "Amended statement of A."},
			{Revision: 2, RecID: b.ID, Statement: "Amended statement of B."}})
		must(t, err)
		src.cat = amended
		up, err := f.store.Upstream(context.Background(), macra)
		must(t, err)
		for _, id := range []string{a.ID, b.ID} {
			c, ok := changeOf(up, id)
			if !ok || c.Kind != "changed" || c.Choice != "" || c.PublishedStatement == c.UpstreamStatement {
				t.Fatalf("upstream change of %s: %+v (%v)", id, c, ok)
			}
		}
		if len(up) != 2 {
			t.Fatalf("upstream changes: %d, want 2", len(up))
		}
		// The published version is unchanged by the amendment.
		again, err := f.store.Version(context.Background(), "MW", 1)
		must(t, err)
		if it, _ := again.Item(a.ID); it.Statement != a.Statement {
			t.Fatalf("v1 text moved with the catalogue: %q", it.Statement)
		}
		if _, err := f.store.Publish(f.as("macra-admin"), macra, ""); !errors.Is(err, adoption.ErrIncomplete) || !strings.Contains(err.Error(), "2 upstream changes") {
			t.Fatalf("publish with undecided upstream changes: %v", err)
		}
		var ie *adoption.InvalidError
		for _, c := range []struct {
			rec    string
			choice adoption.Choice
			field  string
		}{{a.ID, "maybe", "choice"}, {recs[10].ID, adoption.Take, "rec_id"}} {
			if _, err := f.store.ChooseUpstream(f.as("macra-analyst"), macra, c.rec, c.choice); !errors.As(err, &ie) || ie.Field != c.field {
				t.Errorf("choice %s %s: %v, want invalid %s", c.rec, c.choice, err, c.field)
			}
		}
		if _, err := f.store.ChooseUpstream(f.as("p1-analyst"), f.orgs["p1"], a.ID, adoption.Take); !errors.Is(err, adoption.ErrWrongOrg) {
			t.Errorf("a provider takes an upstream change: %v", err)
		}
		n, err := f.store.ChooseUpstream(f.as("macra-analyst"), macra, a.ID, adoption.Take)
		if err != nil || n != 1 {
			t.Fatalf("take %s: %d, %v", a.ID, n, err)
		}
		n, err = f.store.ChooseUpstream(f.as("rbm-analyst"), rbm, "", adoption.Leave)
		if err != nil || n != 1 {
			t.Fatalf("leave the remaining: %d, %v", n, err)
		}
		v2, err := f.store.Publish(f.as("rbm-admin"), rbm, "")
		must(t, err)
		if it, _ := v2.Item(a.ID); it.Statement != "Amended statement of A." {
			t.Errorf("v2 %s: %q, want the amendment taken", a.ID, it.Statement)
		}
		if it, _ := v2.Item(b.ID); it.Statement != b.Statement {
			t.Errorf("v2 %s: %q, want the text left as published", b.ID, it.Statement)
		}
		if v2.CatalogVer != amended.Version {
			t.Errorf("v2 catalogue %q, want %q", v2.CatalogVer, amended.Version)
		}
		// A change left stays left: it is listed with its choice and does
		// not hold up the next version.
		up, err = f.store.Upstream(context.Background(), macra)
		must(t, err)
		if c, ok := changeOf(up, b.ID); !ok || c.Choice != adoption.Leave || c.DecidedBy != "rbm-analyst" || len(up) != 1 {
			t.Fatalf("after v2: %+v", up)
		}

		// A later release withdraws an item: it shows as withdrawn, and
		// leaving it keeps it as published.
		src.cat = catalogWithout(t, gone.ID)
		up, err = f.store.Upstream(context.Background(), macra)
		must(t, err)
		c, ok := changeOf(up, gone.ID)
		if !ok || c.Kind != "withdrawn" || c.PublishedStatement != gone.Statement {
			t.Fatalf("withdrawn item: %+v (%v)", c, ok)
		}
		_, err = f.store.ChooseUpstream(f.as("macra-analyst"), macra, gone.ID, adoption.Leave)
		must(t, err)
		// The taken amendment of A is gone in this release: A changed
		// again and needs a choice.
		if _, err := f.store.Publish(f.as("macra-admin"), macra, ""); !errors.Is(err, adoption.ErrIncomplete) {
			t.Fatalf("publish with A's text changed again: %v", err)
		}
		_, err = f.store.ChooseUpstream(f.as("macra-analyst"), macra, "", adoption.Take)
		must(t, err)
		v3, err := f.store.Publish(f.as("macra-admin"), macra, "")
		must(t, err)
		if it, ok := v3.Item(gone.ID); !ok || it.Statement != gone.Statement {
			t.Errorf("v3 lost the withdrawn item left in: %+v %v", it, ok)
		}
		// Taking the withdrawal drops it from the next version.
		_, err = f.store.ChooseUpstream(f.as("macra-analyst"), macra, gone.ID, adoption.Take)
		must(t, err)
		v4, err := f.store.Publish(f.as("macra-admin"), macra, "")
		must(t, err)
		if _, ok := v4.Item(gone.ID); ok {
			t.Error("v4 kept the withdrawn item that was dropped")
		}
		es, err := audit.List(context.Background(), d, audit.Filter{OrgID: macra.ID, Action: "baseline.upstream.choose"})
		must(t, err)
		if len(es) != 4 {
			t.Errorf("%d upstream choices audited under MACRA, want 4", len(es))
		}
		// The diff of v1 and v2 shows the taken text change.
		var textChange bool
		for _, c := range adoption.Diff(again, v2) {
			textChange = textChange || (c.RecID == a.ID && c.TextChanged() && c.To.Statement == "Amended statement of A.")
			if c.RecID == b.ID {
				t.Errorf("v1 → v2 lists %s, whose text was left: %+v", b.ID, c)
			}
		}
		if !textChange {
			t.Errorf("v1 → v2 does not show %s's new text", a.ID)
		}
		// Every version still reads as it was published.
		for n, want := range map[int]string{1: a.Statement, 2: "Amended statement of A.", 4: a.Statement} {
			v, err := f.store.Version(context.Background(), "MW", n)
			must(t, err)
			if it, _ := v.Item(a.ID); it.Statement != want {
				t.Errorf("v%d %s: %q, want %q", n, a.ID, it.Statement, want)
			}
		}
		// The Markdown export of v1 shows its snapshot, not the catalogue.
		src.cat = amended
		md := string(adoption.Markdown(again, amended))
		if !strings.Contains(md, a.Statement) || strings.Contains(md, "Amended statement of A.") {
			t.Error("the v1 export does not show the text as published")
		}
	})
}
