package adoption_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/adoption"
	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/identity/identitytest"
)

func TestDefaultAppliesTo(t *testing.T) {
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id   string
		want string
	}{
		{"APP-001", "dfs_provider,bank"},             // app items are the app publisher's
		{"TEL-001", "mno"},                           // SIM swap checks at the operator
		{"TEL-005", "mno,dfs_provider,bank"},         // swap events from operators to providers
		{"GOV-001", "regulator"},                     // the regulators' MOU
		{"PAY-014", "dfs_provider,bank,third_party"}, // partners' data sharing
	} {
		rec, err := cat.Get(c.id)
		if err != nil {
			t.Fatal(err)
		}
		got := adoption.DefaultAppliesTo(rec)
		var keys []string
		for _, l := range got {
			keys = append(keys, string(l))
		}
		if strings.Join(keys, ",") != c.want {
			t.Errorf("%s: %v, want %s", c.id, keys, c.want)
		}
	}
	// Every recommendation applies to someone by default.
	for i := range cat.Recommendations {
		if len(adoption.DefaultAppliesTo(&cat.Recommendations[i])) == 0 {
			t.Errorf("%s applies to no one by default", cat.Recommendations[i].ID)
		}
	}
}

// TestApplicability: the regulator narrows an item to banks; a bank
// tracks only the items for banks, an operator none of the app items,
// and a submission counts only the items that apply.
func TestApplicability(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		io, err := f.ids.CreateOrg(ctx, identity.NewOrg{Name: "National Bank of Malawi", Type: identity.OrgOther, Country: "MW", Licensee: identity.LicenseeBank})
		must(t, err)
		f.users["bank-admin"] = identitytest.Member(t, f.ids, io.ID, "bank-admin@example.org", "bank-admin", identity.RoleOrgAdmin).ID
		bank, err := f.store.Org(ctx, io.ID)
		must(t, err)
		if !bank.IsProvider() || bank.Licensee != identity.LicenseeBank {
			t.Fatalf("bank: %+v", bank)
		}
		macra := f.orgs["macra"]
		an := f.as("macra-analyst")

		// Validation of the set.
		for _, c := range []struct {
			set     adoption.Licensees
			problem string
		}{
			{adoption.Licensees{}, "at least one licensee type"},
			{adoption.Licensees{"casino"}, "from the list"},
			{adoption.Licensees{identity.LicenseeNone}, "from the list"},
		} {
			var ie *adoption.InvalidError
			err := f.store.SetDraft(an, macra, adoption.BaselineItem{RecID: "PAY-021", Decision: adoption.Adopted, AppliesTo: c.set})
			if !errors.As(err, &ie) || ie.Field != "applies_to" || !strings.Contains(ie.Problem, c.problem) {
				t.Errorf("applies to %v: %v", c.set, err)
			}
		}
		// Not applicable needs no set; a set given is dropped.
		must(t, f.store.SetDraft(an, macra, adoption.BaselineItem{RecID: "PAY-020", Decision: adoption.NotApplicable, Reason: "Covered elsewhere.",
			AppliesTo: adoption.Licensees{identity.LicenseeBank}}))
		// PAY-021 only for banks (listed twice, out of order: normalised).
		must(t, f.store.SetDraft(an, macra, adoption.BaselineItem{RecID: "PAY-021", Decision: adoption.Adopted,
			AppliesTo: adoption.Licensees{identity.LicenseeBank, identity.LicenseeMNO, identity.LicenseeBank}}))
		draft, err := f.store.Draft(ctx, macra)
		must(t, err)
		if got := draft["PAY-021"]; got.Defaulted || !slices.Equal(got.AppliesTo, adoption.Licensees{identity.LicenseeMNO, identity.LicenseeBank}) {
			t.Fatalf("draft PAY-021: %+v", got)
		}
		if got := draft["PAY-020"]; got.AppliesTo != nil {
			t.Fatalf("draft PAY-020 (not applicable): %+v", got)
		}
		_, err = f.store.AdoptRemaining(an, macra)
		must(t, err)
		draft, _ = f.store.Draft(ctx, macra)
		if got := draft["APP-001"]; !got.Defaulted || got.AppliesTo.Label() != "DFS provider / e-money issuer, Bank" {
			t.Fatalf("draft APP-001 (default): %+v", got)
		}
		v, err := f.store.Publish(f.as("macra-admin"), macra, "")
		must(t, err)
		// The version holds the sets written out.
		if it, _ := v.Item("APP-001"); !slices.Equal(it.AppliesTo, adoption.Licensees{identity.LicenseeDFSProvider, identity.LicenseeBank}) {
			t.Fatalf("published APP-001: %+v", it)
		}

		counts := map[string]int{}
		for key, o := range map[string]adoption.Org{"bank": bank, "p1": f.orgs["p1"], "p2": f.orgs["p2"], "macra": macra} {
			tr, err := f.store.Items(ctx, o)
			must(t, err)
			counts[key] = len(tr.Items)
			if len(tr.Items) != v.ApplicableTo(o.Licensee) {
				t.Errorf("%s tracks %d items, the version applies %d to it", key, len(tr.Items), v.ApplicableTo(o.Licensee))
			}
			for _, it := range tr.Items {
				if !slices.Contains(it.Baseline.AppliesTo, o.Licensee) {
					t.Errorf("%s tracks %s, which applies to %s", key, it.RecID, it.Baseline.AppliesTo.Label())
				}
				if o.Licensee == identity.LicenseeMNO && it.Rec.Layer == "app" {
					t.Errorf("the operator tracks app item %s", it.RecID)
				}
			}
			_, err = f.store.Item(ctx, o, "PAY-021")
			if want := key == "bank" || key == "p2"; (err == nil) != want {
				t.Errorf("%s and PAY-021: %v", key, err)
			}
		}
		if counts["bank"] == 0 || counts["p2"] >= counts["p1"] {
			t.Errorf("item counts %v", counts)
		}
		sub, err := f.store.Submit(f.as("bank-admin"), bank, "Signed.")
		must(t, err)
		if sub.Applicable != counts["bank"] || len(sub.Items) != counts["bank"] {
			t.Errorf("bank submission: %d applicable, %d items; the bank tracks %d", sub.Applicable, len(sub.Items), counts["bank"])
		}
		// The regulators see the bank in the sector view.
		sv, err := f.store.Sector(ctx, f.orgs["rbm"])
		must(t, err)
		if len(sv.Rows) != 1 || sv.Rows[0].Latest.OrgID != bank.ID {
			t.Errorf("sector rows: %+v", sv.Rows)
		}
		// Everyone sees the regulators' commitments.
		cs, err := f.store.Commitments(ctx, "MW")
		must(t, err)
		if len(cs) != counts["macra"] || len(cs) == 0 || len(cs[0].By) != 2 {
			t.Fatalf("commitments: %d (macra tracks %d), first %+v", len(cs), counts["macra"], cs)
		}
	})
}

// TestTextLimits: text over its limit is refused with the limit named,
// and nothing is stored (never cut short unseen).
func TestTextLimits(t *testing.T) {
	f := newFixture(t, dbtest.SQLite(t))
	macra, p1 := f.orgs["macra"], f.orgs["p1"]
	long := strings.Repeat("é", 8001)
	var ie *adoption.InvalidError
	err := f.store.SetDraft(f.as("macra-analyst"), macra, adoption.BaselineItem{RecID: "APP-001", Decision: adoption.Adapted, LocalText: long})
	if !errors.As(err, &ie) || ie.Field != "local_text" || !strings.Contains(ie.Problem, "8001 characters") || !strings.Contains(ie.Problem, "limit is 8000") {
		t.Fatalf("long local text: %v", err)
	}
	if d, _ := f.store.Draft(context.Background(), macra); len(d) != 0 {
		t.Fatalf("refused draft stored: %+v", d)
	}
	// Exactly at the limit is kept whole.
	must(t, f.store.SetDraft(f.as("macra-analyst"), macra, adoption.BaselineItem{RecID: "APP-001", Decision: adoption.Adapted, LocalText: long[:16000]}))
	if d, _ := f.store.Draft(context.Background(), macra); d["APP-001"].LocalText != long[:16000] {
		t.Fatal("text at the limit changed")
	}
	f.publish()
	rec := "APP-003"
	if _, err := f.store.Update(f.as("p1-analyst"), p1, rec, adoption.Update{Status: adoption.StatusNA, Justification: strings.Repeat("x", 2001)}); !errors.As(err, &ie) || ie.Field != "justification" {
		t.Fatalf("long justification: %v", err)
	}
	if err := f.store.AddComment(f.as("p1-analyst"), p1, rec, strings.Repeat("x", 4001)); !errors.As(err, &ie) || !strings.Contains(ie.Problem, "limit is 4000") {
		t.Fatalf("long comment: %v", err)
	}
	if _, err := f.store.Submit(f.as("p1-admin"), p1, strings.Repeat("x", 2001)); !errors.As(err, &ie) || ie.Field != "statement" {
		t.Fatalf("long statement: %v", err)
	}
	if _, err := f.store.Publish(f.as("macra-admin"), macra, strings.Repeat("x", 4001)); !errors.As(err, &ie) || ie.Field != "notes" {
		t.Fatalf("long notes: %v", err)
	}
}
