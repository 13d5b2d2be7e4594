package adoption_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/adoption"
	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/blob"
	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/identity/identitytest"
)

// fixture is a small sector: Malawi with its two regulators and two
// providers, Kenya with one regulator and one provider.
type fixture struct {
	t     testing.TB
	db    *db.DB
	ids   *identity.Store
	store *adoption.Store
	cat   *catalog.Catalog
	now   time.Time
	orgs  map[string]adoption.Org
	users map[string]int64 // "macra-admin", "p1-analyst", …
}

func newFixture(t testing.TB, d *db.DB) *fixture {
	t.Helper()
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	return newFixtureWith(t, d, cat)
}

func newFixtureWith(t testing.TB, d *db.DB, cat *catalog.Catalog) *fixture {
	t.Helper()
	f := &fixture{t: t, db: d, cat: cat, now: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC),
		orgs: map[string]adoption.Org{}, users: map[string]int64{}}
	clock := func() time.Time { return f.now }
	f.ids = identity.NewStore(d, identity.Options{Now: clock})
	f.store = adoption.NewStore(d, cat, clock)
	w := identitytest.Seed(t, f.ids)
	for key, org := range w.Orgs {
		f.orgs[key] = adoption.Org{ID: org.ID, Name: org.Name, Type: org.Type, Country: org.Country, Licensee: org.Licensee}
	}
	f.users = w.Users
	return f
}

// as returns a context in which user acts.
func (f *fixture) as(user string) context.Context {
	id, ok := f.users[user]
	if !ok {
		f.t.Fatalf("no user %q", user)
	}
	return audit.WithActor(context.Background(), audit.Actor{UserID: id})
}

// publish gives Malawi a baseline: the first recommendation adapted,
// the second not adopted, the rest adopted.
func (f *fixture) publish() adoption.Version {
	f.t.Helper()
	ctx := f.as("macra-analyst")
	recs := f.cat.Recommendations
	must(f.t, f.store.SetDraft(ctx, f.orgs["macra"], adoption.BaselineItem{RecID: recs[0].ID, Decision: adoption.Adapted, LocalText: "Local wording."}))
	must(f.t, f.store.SetDraft(ctx, f.orgs["rbm"], adoption.BaselineItem{RecID: recs[1].ID, Decision: adoption.NotAdopted, Reason: "Covered by the payment systems act."}))
	if _, err := f.store.AdoptRemaining(ctx, f.orgs["macra"]); err != nil {
		f.t.Fatal(err)
	}
	v, err := f.store.Publish(f.as("rbm-admin"), f.orgs["rbm"], "First national baseline.")
	if err != nil {
		f.t.Fatal(err)
	}
	return v
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestBaselineLifecycle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := f.as("macra-analyst")
		macra, rbm, p1 := f.orgs["macra"], f.orgs["rbm"], f.orgs["p1"]
		recs := f.cat.Recommendations

		// Validation: each decision needs what it needs.
		for _, c := range []struct {
			it    adoption.BaselineItem
			field string
		}{
			{adoption.BaselineItem{RecID: recs[0].ID, Decision: adoption.Adapted}, "local_text"},
			{adoption.BaselineItem{RecID: recs[0].ID, Decision: adoption.NotAdopted, Reason: "  "}, "reason"},
			{adoption.BaselineItem{RecID: recs[0].ID, Decision: adoption.NotApplicable}, "reason"},
			{adoption.BaselineItem{RecID: recs[0].ID, Decision: "maybe"}, "decision"},
		} {
			var ie *adoption.InvalidError
			if err := f.store.SetDraft(ctx, macra, c.it); !errors.As(err, &ie) || ie.Field != c.field {
				t.Errorf("SetDraft(%+v) = %v, want invalid %s", c.it, err, c.field)
			}
		}
		if err := f.store.SetDraft(ctx, macra, adoption.BaselineItem{RecID: "APP-999", Decision: adoption.Adopted}); !errors.Is(err, adoption.ErrNotFound) {
			t.Errorf("unknown recommendation: %v", err)
		}
		if err := f.store.SetDraft(f.as("p1-admin"), p1, adoption.BaselineItem{RecID: recs[0].ID, Decision: adoption.Adopted}); !errors.Is(err, adoption.ErrWrongOrg) {
			t.Errorf("provider edits a baseline: %v", err)
		}
		// An incomplete draft does not publish.
		must(t, f.store.SetDraft(ctx, macra, adoption.BaselineItem{RecID: recs[0].ID, Decision: adoption.Adopted}))
		// A co-owner who saw the item undecided is told it changed.
		seenErr := f.store.SetDraftIf(f.as("rbm-analyst"), rbm, adoption.BaselineItem{RecID: recs[0].ID, Decision: adoption.NotApplicable, Reason: "x"}, time.Time{})
		var se *adoption.StaleError
		if !errors.As(seenErr, &se) || se.By != "macra-analyst" {
			t.Fatalf("stale draft edit: %v", seenErr)
		}
		draft, err := f.store.Draft(context.Background(), rbm)
		must(t, err)
		if draft[recs[0].ID].Decision != adoption.Adopted {
			t.Fatalf("refused draft edit was written: %+v", draft[recs[0].ID])
		}
		must(t, f.store.SetDraftIf(f.as("rbm-analyst"), rbm, adoption.BaselineItem{RecID: recs[0].ID, Decision: adoption.Adopted}, draft[recs[0].ID].UpdatedAt))
		if _, err := f.store.Publish(f.as("macra-admin"), macra, ""); !errors.Is(err, adoption.ErrIncomplete) {
			t.Fatalf("publish incomplete draft: %v", err)
		}

		v1 := f.publish()
		if v1.Number != 1 || v1.Country != "MW" || v1.PublishedBy != "rbm-admin" {
			t.Fatalf("v1 = %+v", v1)
		}
		if it, _ := v1.Item(recs[0].ID); it.Decision != adoption.Adapted || it.LocalText != "Local wording." {
			t.Fatalf("co-owned draft lost macra's decision: %+v", it)
		}
		if it, _ := v1.Item(recs[1].ID); it.Decision != adoption.NotAdopted {
			t.Fatalf("co-owned draft lost rbm's decision: %+v", it)
		}
		if got, want := v1.Applicable(), len(recs)-1; got != want {
			t.Fatalf("applicable = %d, want %d", got, want)
		}
		// Kenya has its own (empty) baseline.
		if _, err := f.store.Latest(context.Background(), "KE"); !errors.Is(err, adoption.ErrNoBaseline) {
			t.Fatalf("KE latest: %v", err)
		}

		// The draft moves on; v1 does not.
		must(t, f.store.SetDraft(ctx, rbm, adoption.BaselineItem{RecID: recs[2].ID, Decision: adoption.NotApplicable, Reason: "No USSD in MW."}))
		v2, err := f.store.Publish(f.as("macra-admin"), macra, "")
		if err != nil || v2.Number != 2 {
			t.Fatalf("v2 = %+v, %v", v2, err)
		}
		// A draft that says what v2 says is not published again (issue 14,
		// integrity bug 2), and the page knows it.
		if same, err := f.store.DraftUnchanged(ctx, macra); err != nil || !same {
			t.Fatalf("DraftUnchanged after publishing = %v, %v", same, err)
		}
		if _, err := f.store.Publish(f.as("macra-admin"), macra, "again"); !errors.Is(err, adoption.ErrUnchanged) {
			t.Fatalf("publishing an unchanged draft: %v", err)
		}
		if vs, _ := f.store.Versions(ctx, "MW"); len(vs) != 2 {
			t.Fatalf("%d versions after a refused publication", len(vs))
		}
		again, err := f.store.Version(context.Background(), "MW", 1)
		if err != nil {
			t.Fatal(err)
		}
		if it, _ := again.Item(recs[2].ID); it.Decision != adoption.Adopted {
			t.Fatalf("published v1 changed after a draft edit: %+v", it)
		}
		diff := adoption.Diff(again, v2)
		if len(diff) != 1 || diff[0].RecID != recs[2].ID || diff[0].Kind != "changed" || diff[0].To.Decision != adoption.NotApplicable {
			t.Fatalf("diff v1→v2 = %+v", diff)
		}
		// Published versions are immutable in the database itself.
		if _, err := d.Exec(context.Background(), "UPDATE baseline_version_items SET decision = 'adopted'"); err == nil {
			t.Fatal("a published version could be updated")
		}
		if _, err := d.Exec(context.Background(), "DELETE FROM baseline_versions"); err == nil {
			t.Fatal("a published version could be deleted")
		}
		// Every write is audited.
		es, err := audit.List(context.Background(), d, audit.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		count := map[string]int{}
		for _, e := range es {
			count[e.Action]++
		}
		if count["baseline.publish"] != 2 || count["baseline.draft.set"] < 4 || count["baseline.draft.adopt_remaining"] != 1 {
			t.Fatalf("audit counts = %v", count)
		}
	})
}

func TestTrackingConcurrencyAndIsolation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		p1, p2 := f.orgs["p1"], f.orgs["p2"]
		if _, err := f.store.Items(context.Background(), p1); !errors.Is(err, adoption.ErrNoBaseline) {
			t.Fatalf("items before a baseline: %v", err)
		}
		v := f.publish()
		tr, err := f.store.Items(context.Background(), p1)
		if err != nil {
			t.Fatal(err)
		}
		if len(tr.Items) != v.ApplicableTo(p1.Licensee) || len(tr.Items) == 0 {
			t.Fatalf("%d items, want the %d applicable ones", len(tr.Items), v.ApplicableTo(p1.Licensee))
		}
		// An item both p1 (a DFS provider) and p2 (an operator) track.
		rec := ""
		for _, it := range tr.Items {
			if it.Baseline.AppliesToLicensee(p2.Licensee) {
				rec = it.RecID
				break
			}
		}
		if rec == "" {
			t.Fatal("no item applies to both a DFS provider and an operator")
		}
		notAdopted := f.cat.Recommendations[1].ID
		if _, err := f.store.Item(context.Background(), p1, notAdopted); !errors.Is(err, adoption.ErrNotFound) {
			t.Fatalf("a not adopted recommendation is tracked: %v", err)
		}
		// A regulator tracks only what it must act on itself.
		rt, err := f.store.Items(context.Background(), f.orgs["macra"])
		if err != nil || len(rt.Items) == 0 {
			t.Fatalf("regulator tracking: %d items, %v", len(rt.Items), err)
		}
		for _, it := range rt.Items {
			if !slices.Contains(it.Baseline.AppliesTo, identity.LicenseeRegulator) || it.Rec.Layer == "app" {
				t.Errorf("regulator tracks %s (applies to %v)", it.RecID, it.Baseline.AppliesTo)
			}
		}
		if _, err := f.store.Submit(f.as("macra-admin"), f.orgs["macra"], "We report to no one."); !errors.Is(err, adoption.ErrWrongOrg) {
			t.Fatalf("regulator submits: %v", err)
		}

		alice, bob := f.as("p1-analyst"), f.as("p1-admin")
		it, err := f.store.Update(alice, p1, rec, adoption.Update{Status: adoption.InProgress, OwnerID: f.users["p1-viewer"], TargetDate: "2026-05-01", Version: 0})
		if err != nil {
			t.Fatal(err)
		}
		if it.Version != 1 || it.OwnerName != "p1-viewer" || !it.Overdue {
			t.Fatalf("after first write: %+v", it)
		}
		// Bob read version 1, Alice writes version 2; Bob's write is refused.
		if _, err := f.store.Update(alice, p1, rec, adoption.Update{Status: adoption.Implemented, Version: 1}); err != nil {
			t.Fatal(err)
		}
		_, err = f.store.Update(bob, p1, rec, adoption.Update{Status: adoption.Planned, TargetDate: "2027-01-01", Version: 1})
		var se *adoption.StaleError
		if !errors.As(err, &se) || se.By != "p1-analyst" || !errors.Is(err, adoption.ErrStale) || !strings.Contains(se.Error(), "Reload") {
			t.Fatalf("stale write: %v", err)
		}
		cur, _ := f.store.Item(context.Background(), p1, rec)
		if cur.Status != adoption.Implemented || cur.TargetDate != "" || cur.Version != 2 {
			t.Fatalf("stale write left traces: %+v", cur)
		}

		// Invalid changes write nothing.
		for _, u := range []adoption.Update{
			{Status: adoption.StatusNA, Version: 2},
			{Status: "done", Version: 2},
			{Status: adoption.Planned, TargetDate: "next week", Version: 2},
			{Status: adoption.Planned, OwnerID: f.users["p2-analyst"], Version: 2}, // not a member of p1
		} {
			if _, err := f.store.Update(alice, p1, rec, u); !errors.Is(err, adoption.ErrInvalid) {
				t.Errorf("Update(%+v) = %v, want invalid", u, err)
			}
		}

		// Evidence is stored once and belongs to p1 only.
		up, err := blob.Read(bytes.NewReader([]byte("%PDF-1.4\nreport\n")), "pentest.pdf", adoption.EvidencePolicy())
		if err != nil {
			t.Fatal(err)
		}
		ev, err := f.store.AddEvidence(alice, p1, rec, up, `..\..\pentest "final".pdf`)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Name != `pentest _final_.pdf` {
			t.Errorf("file name kept as %q", ev.Name)
		}
		if _, _, err := f.store.EvidenceFile(context.Background(), p2.ID, ev.ID); !errors.Is(err, adoption.ErrNotFound) {
			t.Fatalf("p2 reads p1's evidence: %v", err)
		}
		if _, data, err := f.store.EvidenceFile(context.Background(), p1.ID, ev.ID); err != nil || !bytes.HasPrefix(data, []byte("%PDF")) {
			t.Fatalf("p1 reads its evidence: %v", err)
		}
		must(t, f.store.AddComment(alice, p1, rec, "Pen test report attached."))
		// p2 sees none of p1's state.
		p2it, err := f.store.Item(context.Background(), p2, rec)
		if err != nil || p2it.Status != adoption.NotStarted || p2it.Evidence != 0 || p2it.ID != 0 {
			t.Fatalf("p2 sees p1's state: %+v %v", p2it, err)
		}
		cur, _ = f.store.Item(context.Background(), p1, rec)
		det, err := f.store.ItemDetail(context.Background(), p1, cur)
		if err != nil {
			t.Fatal(err)
		}
		if len(det.History) != 4 || det.History[0].Changes["status"] != [2]string{"not_started", "in_progress"} || det.History[2].Kind != "evidence" {
			t.Fatalf("history = %+v", det.History)
		}
		if len(det.Comments) != 1 || det.Comments[0].Author != "p1-analyst" || len(det.Evidence) != 1 {
			t.Fatalf("detail = %+v", det)
		}
		if _, err := d.Exec(context.Background(), "DELETE FROM tracking_history"); err == nil {
			t.Fatal("history could be deleted")
		}
	})
}

func TestSubmissionsAndSector(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.publish()
		p1, p2, macra, rbm, ca := f.orgs["p1"], f.orgs["p2"], f.orgs["macra"], f.orgs["rbm"], f.orgs["ca"]
		tr, _ := f.store.Items(context.Background(), p1)
		rec := tr.Items[0].RecID
		_, err := f.store.Update(f.as("p1-analyst"), p1, rec, adoption.Update{Status: adoption.Implemented})
		must(t, err)
		// Nothing is visible to the regulator before a submission.
		sv, err := f.store.Sector(context.Background(), macra)
		if err != nil || len(sv.Rows) != 0 {
			t.Fatalf("sector before any submission: %+v %v", sv.Rows, err)
		}
		if _, err := f.store.Submit(f.as("p1-admin"), p1, ""); !errors.Is(err, adoption.ErrInvalid) {
			t.Fatalf("submission without statement: %v", err)
		}
		sub, err := f.store.Submit(f.as("p1-admin"), p1, "We confirm this is accurate.")
		if err != nil {
			t.Fatal(err)
		}
		if sub.Implemented != 1 || sub.Applicable != len(tr.Items) || sub.SignedBy != "p1-admin" || sub.Baseline != "v1" {
			t.Fatalf("submission = %+v", sub)
		}
		// Later work does not change the snapshot.
		f.now = f.now.Add(24 * time.Hour)
		_, err = f.store.Update(f.as("p1-analyst"), p1, tr.Items[1].RecID, adoption.Update{Status: adoption.Implemented})
		must(t, err)
		got, err := f.store.RegulatorSubmission(context.Background(), rbm, sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Implemented != 1 || got.Items[1].Status != adoption.NotStarted || got.Items[0].Status != adoption.Implemented {
			t.Fatalf("snapshot changed: %+v", got.Items[:2])
		}
		// Another jurisdiction's regulator and another provider see nothing.
		if _, err := f.store.RegulatorSubmission(context.Background(), ca, sub.ID); !errors.Is(err, adoption.ErrNotFound) {
			t.Fatalf("KE regulator reads a MW submission: %v", err)
		}
		if _, err := f.store.Submission(context.Background(), p2, sub.ID); !errors.Is(err, adoption.ErrNotFound) {
			t.Fatalf("p2 reads p1's submission: %v", err)
		}
		if sv, _ := f.store.Sector(context.Background(), ca); len(sv.Rows) != 0 {
			t.Fatalf("KE sector shows MW providers: %+v", sv.Rows)
		}
		if _, err := d.Exec(context.Background(), "UPDATE submission_items SET status = 'verified'"); err == nil {
			t.Fatal("a submission could be changed")
		}

		_, err = f.store.Submit(f.as("p1-admin"), p1, "Second report.")
		must(t, err)
		sv, err = f.store.Sector(context.Background(), macra)
		if err != nil {
			t.Fatal(err)
		}
		if len(sv.Rows) != 1 || sv.Submitted != 2 || len(sv.Trend) != 2 || sv.Rows[0].Latest.Implemented != 2 {
			t.Fatalf("sector = %+v", sv)
		}
		if sv.Trend[1].Share <= sv.Trend[0].Share {
			t.Fatalf("trend does not rise: %+v", sv.Trend)
		}
		// The heat map counts each applicable item once per layer.
		total, done := 0, 0
		for _, c := range sv.Rows[0].ByLayer {
			total += c.Applicable
			done += c.Implemented
		}
		if total != sv.Rows[0].Latest.Applicable || done != 2 {
			t.Fatalf("layer cells add up to %d/%d, want 2/%d", done, total, sv.Rows[0].Latest.Applicable)
		}

		// A submission stored before heat-map cells were kept (empty
		// cells) is counted from its items, with the same result: copy
		// p1's latest report as p2's without cells.
		bg := context.Background()
		latest := sv.Rows[0].Latest
		var copyID int64
		err = d.QueryRow(bg, `INSERT INTO submissions (org_id, country, version_id, signed_by, signed_name, statement, submitted_at, applicable, implemented, overdue)
			SELECT ?, country, version_id, signed_by, signed_name, statement, submitted_at + 1, applicable, implemented, overdue FROM submissions WHERE id = ?
			RETURNING id`, p2.ID, latest.ID).Scan(&copyID)
		must(t, err)
		_, err = d.Exec(bg, `INSERT INTO submission_items (submission_id, rec_id, status, justification, owner_name, target_date, overdue, evidence)
			SELECT ?, rec_id, status, justification, owner_name, target_date, overdue, evidence FROM submission_items WHERE submission_id = ?`, copyID, latest.ID)
		must(t, err)
		sv, err = f.store.Sector(bg, macra)
		must(t, err)
		if len(sv.Rows) != 2 {
			t.Fatalf("%d rows after the legacy copy", len(sv.Rows))
		}
		a, b := sv.Rows[0], sv.Rows[1]
		if a.Latest.OrgName == p2.Name {
			a, b = b, a
		}
		if fmt.Sprint(a.ByThreat, a.ByLayer) != fmt.Sprint(b.ByThreat, b.ByLayer) {
			t.Fatalf("stored cells and counted cells differ:\n%v %v\n%v %v", a.ByThreat, a.ByLayer, b.ByThreat, b.ByLayer)
		}
	})
}

// TestConcurrentWriters: writers that read the same version race; exactly
// one wins, every other is told, and the history has one line per win.
func TestConcurrentWriters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.publish()
		p1 := f.orgs["p1"]
		tr, err := f.store.Items(context.Background(), p1)
		must(t, err)
		rec := tr.Items[0].RecID
		for _, start := range []int{0, 1} { // first write (insert race), then an update race
			const n = 8
			errs := make(chan error, n)
			for i := range n {
				go func() {
					_, err := f.store.Update(f.as("p1-analyst"), p1, rec, adoption.Update{Status: adoption.Planned, TargetDate: fmt.Sprintf("2027-01-%02d", i+1+start*10), Version: start})
					errs <- err
				}()
			}
			won := 0
			for range n {
				err := <-errs
				switch {
				case err == nil:
					won++
				case !errors.Is(err, adoption.ErrStale):
					t.Fatalf("writer failed with %v, want a stale refusal", err)
				}
			}
			if won != 1 {
				t.Fatalf("start version %d: %d writers won, want exactly 1", start, won)
			}
			it, err := f.store.Item(context.Background(), p1, rec)
			must(t, err)
			if it.Version != start+1 {
				t.Fatalf("version %d after the race from %d", it.Version, start)
			}
		}
		var lines int
		must(t, d.QueryRow(context.Background(), "SELECT COUNT(*) FROM tracking_history WHERE org_id = ?", p1.ID).Scan(&lines))
		if lines != 2 {
			t.Fatalf("%d history lines, want 2 (one per successful write)", lines)
		}
	})
}
