package adoption_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/adoption"
	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity"
)

// noteAuthors lists the authors of the notes reg reads on provider p, and
// whether each came from another regulator.
func noteAuthors(t *testing.T, f *fixture, reg, p string) map[string]bool {
	t.Helper()
	pv, err := f.store.Provider(context.Background(), f.orgs[reg], f.orgs[p].ID, 0)
	must(t, err)
	out := map[string]bool{}
	for _, n := range pv.Notes {
		out[n.Author] = n.Shared
	}
	if pv.Total != len(pv.Notes) {
		t.Errorf("%s reads %d notes, counts %d", reg, len(pv.Notes), pv.Total)
	}
	return out
}

// TestNoteSharing: a regulator reads the other regulator's enforcement
// notes only while both have sharing on; either ends it alone; another
// country's regulator and the provider never read them.
func TestNoteSharing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		macra, rbm, p1 := f.orgs["macra"], f.orgs["rbm"], f.orgs["p1"]
		_, err := f.store.AddNote(f.as("macra-analyst"), macra, p1.ID, "Inspection scheduled.")
		must(t, err)
		_, err = f.store.AddNote(f.as("rbm-analyst"), rbm, p1.ID, "Warning letter sent.")
		must(t, err)

		steps := []struct {
			name       string
			org        string
			user       string
			on         bool
			macraReads map[string]bool // author → shared
			rbmReads   map[string]bool
		}{
			{"nobody shares", "", "", false, map[string]bool{"macra-analyst": false}, map[string]bool{"rbm-analyst": false}},
			{"MACRA alone shares: nothing is shared", "macra", "macra-admin", true, map[string]bool{"macra-analyst": false}, map[string]bool{"rbm-analyst": false}},
			{"both share", "rbm", "rbm-admin", true,
				map[string]bool{"macra-analyst": false, "rbm-analyst": true}, map[string]bool{"rbm-analyst": false, "macra-analyst": true}},
			{"the Reserve Bank ends it alone", "rbm", "rbm-admin", false, map[string]bool{"macra-analyst": false}, map[string]bool{"rbm-analyst": false}},
		}
		for _, st := range steps {
			if st.org != "" {
				must(t, f.store.SetShareNotes(f.as(st.user), f.orgs[st.org], st.on))
			}
			for reg, want := range map[string]map[string]bool{"macra": st.macraReads, "rbm": st.rbmReads} {
				got := noteAuthors(t, f, reg, "p1")
				if len(got) != len(want) {
					t.Errorf("%s: %s reads %v, want %v", st.name, reg, got, want)
					continue
				}
				for a, shared := range want {
					if s, ok := got[a]; !ok || s != shared {
						t.Errorf("%s: %s reads %v, want %v", st.name, reg, got, want)
					}
				}
			}
		}
		// Kenya's regulator has no access to Malawi's providers at all,
		// and a provider cannot change the setting.
		if _, err := f.store.Provider(context.Background(), f.orgs["ca"], p1.ID, 0); !errors.Is(err, adoption.ErrNotFound) {
			t.Errorf("another country's regulator reads a provider's notes: %v", err)
		}
		if err := f.store.SetShareNotes(f.as("p1-admin"), p1, true); !errors.Is(err, adoption.ErrWrongOrg) {
			t.Errorf("a provider sets note sharing: %v", err)
		}
		// Each change is audited under the regulator and listed under
		// the other regulator, whose reading it changes.
		for org, n := range map[int64]int{macra.ID: 3, rbm.ID: 3} {
			es, err := audit.List(context.Background(), d, audit.Filter{OrgID: org, Action: "regulator.share_notes.set"})
			must(t, err)
			if len(es) != n {
				t.Errorf("org %d: %d share_notes entries, want %d", org, len(es), n)
			}
		}
		es, err := audit.List(context.Background(), d, audit.Filter{OrgID: p1.ID, Action: "regulator.share_notes.set"})
		must(t, err)
		if len(es) != 0 {
			t.Errorf("the provider's log shows the regulators' sharing: %d entries", len(es))
		}
	})
}

func TestDefaultAuthority(t *testing.T) {
	for _, c := range []struct {
		layer        string
		stakeholders []string
		want         adoption.Authority
	}{
		{"telecom", []string{"mno"}, adoption.AuthorityTelecom},
		{"channel", []string{"mno"}, adoption.AuthorityTelecom},
		{"app", []string{"dfs_provider"}, adoption.AuthorityCentralBank},
		{"payment", []string{"payment_switch"}, adoption.AuthorityCentralBank},
		{"channel", []string{"mno", "dfs_provider"}, adoption.AuthorityBoth},
		{"governance", []string{"dfs_provider"}, adoption.AuthorityBoth},
		{"customer", []string{"mobile_user"}, adoption.AuthorityBoth},
	} {
		rec := &catalog.Recommendation{Layer: c.layer, Stakeholders: c.stakeholders}
		if got := adoption.DefaultAuthority(rec); got != c.want {
			t.Errorf("%s %v: %s, want %s", c.layer, c.stakeholders, got, c.want)
		}
	}
}

// TestJointBaseline: where a regulator requires it, a version of a
// country with a telecom regulator and a central bank is published by
// both approvals of the same draft; a change voids an approval; each
// item names its authority.
func TestJointBaseline(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		macra, rbm := f.orgs["macra"], f.orgs["rbm"]
		recs := f.cat.Recommendations
		_, err := f.store.AdoptRemaining(f.as("macra-analyst"), macra)
		must(t, err)
		var ie *adoption.InvalidError
		if err := f.store.SetDraft(f.as("macra-analyst"), macra, adoption.BaselineItem{RecID: recs[0].ID, Decision: adoption.Adopted, Authority: "ministry"}); !errors.As(err, &ie) || ie.Field != "authority" {
			t.Fatalf("unknown authority: %v", err)
		}
		must(t, f.store.SetDraft(f.as("macra-analyst"), macra, adoption.BaselineItem{RecID: recs[0].ID, Decision: adoption.Adopted, Authority: adoption.AuthorityTelecom}))

		// Kenya has no central bank on the platform: requiring joint
		// approval there changes nothing.
		must(t, f.store.SetRequireJoint(f.as("ca-admin"), f.orgs["ca"], true))
		if a, err := f.store.Arrangement(context.Background(), f.orgs["ca"]); err != nil || a.Joint() {
			t.Fatalf("KE with one regulator is joint: %v", err)
		}
		if _, err := f.store.Approve(f.as("ca-admin"), f.orgs["ca"], ""); !errors.As(err, &ie) || ie.Field != "joint" {
			t.Fatalf("approval of a baseline that is not joint: %v", err)
		}

		must(t, f.store.SetRequireJoint(f.as("macra-admin"), macra, true))
		if _, err := f.store.Publish(f.as("rbm-admin"), rbm, ""); !errors.Is(err, adoption.ErrJoint) {
			t.Fatalf("one authority publishes a joint baseline: %v", err)
		}
		res, err := f.store.Approve(f.as("macra-admin"), macra, "Agreed at the steering committee.")
		must(t, err)
		if res.Published != nil || res.Recorded == nil || res.Awaiting != identity.OrgCentralBank {
			t.Fatalf("first approval: %+v", res)
		}
		if _, err := f.store.Approve(f.as("macra-admin"), macra, ""); !errors.Is(err, adoption.ErrApproved) {
			t.Fatalf("second approval by the same authority: %v", err)
		}
		// A change by either regulator voids the approval.
		must(t, f.store.SetDraft(f.as("rbm-analyst"), rbm, adoption.BaselineItem{RecID: recs[1].ID, Decision: adoption.NotAdopted, Reason: "Covered by law."}))
		aps, err := f.store.Approvals(context.Background(), rbm)
		must(t, err)
		if len(aps) != 0 {
			t.Fatalf("approvals after a change: %+v", aps)
		}
		f.now = f.now.Add(time.Hour)
		res, err = f.store.Approve(f.as("rbm-admin"), rbm, "")
		must(t, err)
		if res.Published != nil || res.Awaiting != identity.OrgTelecomRegulator {
			t.Fatalf("the central bank's approval after the change: %+v", res)
		}
		f.now = f.now.Add(time.Hour)
		res, err = f.store.Approve(f.as("macra-admin"), macra, "Joint version.")
		must(t, err)
		v := res.Published
		if v == nil || v.Number != 1 || v.Notes != "Joint version." || len(v.Approvals) != 2 {
			t.Fatalf("second approval did not publish: %+v", res)
		}
		if v.Approvals[0].OrgID != rbm.ID || v.Approvals[0].By != "rbm-admin" || v.Approvals[1].OrgID != macra.ID || v.Approvals[1].By != "macra-admin" {
			t.Errorf("version approvals: %+v", v.Approvals)
		}
		if it, _ := v.Item(recs[0].ID); it.Authority != adoption.AuthorityTelecom {
			t.Errorf("%s authority %q, want the regulators' choice", recs[0].ID, it.Authority)
		}
		for _, it := range v.Items {
			rec, err := f.cat.Get(it.RecID)
			must(t, err)
			if it.RecID != recs[0].ID && it.Decision.Applies() && it.Authority != adoption.DefaultAuthority(rec) {
				t.Errorf("%s authority %q, want the default %q written out", it.RecID, it.Authority, adoption.DefaultAuthority(rec))
			}
			if !it.Decision.Applies() && it.Authority != "" {
				t.Errorf("%s not adopted but has authority %q", it.RecID, it.Authority)
			}
		}
		if aps, _ := f.store.Approvals(context.Background(), macra); len(aps) != 0 {
			t.Errorf("approvals left after publication: %+v", aps)
		}
		for _, c := range []struct {
			org    int64
			action string
			n      int
		}{
			// Each recorded approval is listed under both regulators.
			{macra.ID, "baseline.approve", 2}, {rbm.ID, "baseline.approve", 2}, {macra.ID, "baseline.approval.void", 1},
			{rbm.ID, "baseline.approval.void", 1}, {macra.ID, "baseline.publish", 1}, {rbm.ID, "baseline.publish", 1},
			{macra.ID, "baseline.joint.set", 1}, {f.orgs["p1"].ID, "baseline.approve", 0},
		} {
			es, err := audit.List(context.Background(), d, audit.Filter{OrgID: c.org, Action: c.action})
			must(t, err)
			if len(es) != c.n {
				t.Errorf("org %d: %d %s entries, want %d", c.org, len(es), c.action, c.n)
			}
		}
		// Lifting the requirement makes publishing direct again.
		must(t, f.store.SetRequireJoint(f.as("macra-admin"), macra, false))
		must(t, f.store.SetDraft(f.as("rbm-analyst"), rbm, adoption.BaselineItem{RecID: recs[2].ID, Decision: adoption.NotApplicable, Reason: "No USSD."}))
		if v2, err := f.store.Publish(f.as("rbm-admin"), rbm, ""); err != nil || v2.Number != 2 || len(v2.Approvals) != 0 {
			t.Fatalf("publish after lifting joint: %+v, %v", v2, err)
		}
	})
}
