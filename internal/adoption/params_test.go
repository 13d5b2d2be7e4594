package adoption_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/adoption"
	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/testenv"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The texts below are written out, not rendered by the code under test:
// PAY-002 of catalogue 2026.2 holds risky actions for {hold} after a SIM
// swap (default 48 hours, range 24–72 hours), CHN-002 lets a one-time
// code live {otp_validity} (default 5 minutes, range 1–10 minutes).
const (
	pay002At24 = "for 24 hours after a SIM swap on the account's number."
	pay002At48 = "for 48 hours after a SIM swap on the account's number."
	chn002At5  = "must expire 5 minutes after they are sent"
	hold24     = "Hold after a SIM swap: 24 hours (catalogue default 48 hours, range 24–72 hours)"
)

func auditCount(t *testing.T, d *db.DB, org int64, action string) []audit.Entry {
	t.Helper()
	es, err := audit.List(context.Background(), d, audit.Filter{OrgID: org, Action: action})
	must(t, err)
	return es
}

// TestParamsInDraftAndVersion: a regulator sets PAY-002's hold to 24
// hours; values outside the range or of unknown parameters are refused
// with the parameter and its range named, nothing saved; publishing
// renders the statement with the value and keeps the value with the
// catalogue's default and range; every change of values is audited once.
func TestParamsInDraftAndVersion(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		macra, rbm := f.orgs["macra"], f.orgs["rbm"]
		ctx := f.as("macra-analyst")

		var ie *adoption.InvalidError
		err := f.store.SetDraft(ctx, macra, adoption.BaselineItem{RecID: "PAY-002", Decision: adoption.Adopted, Values: map[string]int{"hold": 96}})
		if !errors.As(err, &ie) || ie.Field != "param_hold" || !strings.Contains(ie.Problem, "Hold after a SIM swap") || !strings.Contains(ie.Problem, "24–72 hours") {
			t.Fatalf("96 hours: %v", err)
		}
		err = f.store.SetDraft(ctx, macra, adoption.BaselineItem{RecID: "PAY-002", Decision: adoption.Adopted, Values: map[string]int{"holdd": 30}})
		if !errors.As(err, &ie) || ie.Field != "param_holdd" {
			t.Fatalf("unknown parameter: %v", err)
		}
		draft, err := f.store.Draft(context.Background(), macra)
		must(t, err)
		if _, ok := draft["PAY-002"]; ok {
			t.Fatalf("a refused item was saved: %+v", draft["PAY-002"])
		}

		must(t, f.store.SetDraft(ctx, macra, adoption.BaselineItem{RecID: "PAY-002", Decision: adoption.Adopted, Values: map[string]int{"hold": 24}}))
		// The same values again, and a decision without values (nil
		// keeps them): no new audit entry of values.
		must(t, f.store.SetDraft(ctx, macra, adoption.BaselineItem{RecID: "PAY-002", Decision: adoption.Adopted, Values: map[string]int{"hold": 24}}))
		must(t, f.store.SetDraft(f.as("rbm-analyst"), rbm, adoption.BaselineItem{RecID: "PAY-002", Decision: adoption.Adopted}))
		draft, err = f.store.Draft(context.Background(), macra)
		must(t, err)
		if got := draft["PAY-002"].Values["hold"]; got != 24 {
			t.Fatalf("draft hold %d, want 24", got)
		}
		es := auditCount(t, d, macra.ID, "baseline.draft.params.set")
		if len(es) != 1 || es[0].ObjectID != "MW/PAY-002" || es[0].Details["from"] != "" || es[0].Details["to"] != "hold=24" {
			t.Fatalf("audit of values: %+v", es)
		}

		_, err = f.store.AdoptRemaining(ctx, macra)
		must(t, err)
		v, err := f.store.Publish(f.as("rbm-admin"), rbm, "")
		must(t, err)
		it, _ := v.Item("PAY-002")
		if !strings.HasSuffix(it.Statement, pay002At24) {
			t.Errorf("PAY-002 published as %q, want it to end %q", it.Statement, pay002At24)
		}
		want := adoption.ItemParam{Name: "hold", Label: "Hold after a SIM swap", Unit: catalog.Hours, Default: 48, Min: 24, Max: 72, Value: 24}
		if len(it.Params) != 1 || it.Params[0] != want {
			t.Fatalf("PAY-002 params %+v, want %+v", it.Params, want)
		}
		if got := it.Params[0].Describe(); got != hold24 {
			t.Errorf("Describe %q, want %q", got, hold24)
		}
		chn, _ := v.Item("CHN-002")
		if !strings.Contains(chn.Statement, chn002At5) || len(chn.Params) != 1 || chn.Params[0].Value != 5 || chn.Params[0].Customised() {
			t.Errorf("CHN-002 at its default: %q %+v", chn.Statement, chn.Params)
		}
		if it, _ := v.Item("APP-001"); it.Params != nil {
			t.Errorf("APP-001 has no parameters, got %+v", it.Params)
		}

		// Back to the default (blank): audited with the old value; the
		// next version says 48 hours.
		must(t, f.store.SetDraft(ctx, macra, adoption.BaselineItem{RecID: "PAY-002", Decision: adoption.Adopted, Values: map[string]int{}}))
		es = auditCount(t, d, macra.ID, "baseline.draft.params.set")
		if len(es) != 2 || es[0].Details["from"] != "hold=24" || es[0].Details["to"] != "" {
			t.Fatalf("audit of the reset: %+v", es)
		}
		unchanged, err := f.store.DraftUnchanged(context.Background(), macra)
		must(t, err)
		if unchanged {
			t.Fatal("a changed value counts as an unchanged draft")
		}
		v2, err := f.store.Publish(f.as("rbm-admin"), rbm, "")
		must(t, err)
		it2, _ := v2.Item("PAY-002")
		if !strings.HasSuffix(it2.Statement, pay002At48) || it2.Params[0].Value != 48 {
			t.Errorf("v2 PAY-002 %q %+v", it2.Statement, it2.Params)
		}
		var diff *adoption.Change
		for _, c := range adoption.Diff(v, v2) {
			if c.RecID == "PAY-002" {
				diff = &c
			}
		}
		if diff == nil || diff.From.Params[0].Value != 24 || diff.To.Params[0].Value != 48 {
			t.Errorf("diff of v1 and v2 on PAY-002: %+v", diff)
		}
		// Kenya's baseline knows nothing of Malawi's values.
		ke, err := f.store.Draft(context.Background(), f.orgs["ca"])
		must(t, err)
		if len(ke) != 0 {
			t.Errorf("Kenya's draft: %+v", ke)
		}
		if err := f.store.SetDraft(f.as("p1-admin"), f.orgs["p1"], adoption.BaselineItem{RecID: "PAY-002", Decision: adoption.Adopted, Values: map[string]int{"hold": 30}}); !errors.Is(err, adoption.ErrWrongOrg) {
			t.Errorf("a provider set a value: %v", err)
		}
	})
}

// TestParamsUpstream: a version with its own value does not show as
// changed upstream because of that value; a new default or range in the
// catalogue does, old → new, with the upstream text rendered with the
// version's value; an item left as published keeps its template and
// takes the draft's new value.
func TestParamsUpstream(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		src := &source{cat: f.cat}
		f.store.SetCatalogSource(src)
		macra, rbm := f.orgs["macra"], f.orgs["rbm"]
		ctx := f.as("macra-analyst")
		must(t, f.store.SetDraft(ctx, macra, adoption.BaselineItem{RecID: "PAY-002", Decision: adoption.Adopted, Values: map[string]int{"hold": 24}}))
		must(t, f.store.SetDraft(ctx, macra, adoption.BaselineItem{RecID: "CHN-001", Decision: adoption.Adopted, Values: map[string]int{"session_timeout": 60}}))
		_, err := f.store.AdoptRemaining(ctx, macra)
		must(t, err)
		_, err = f.store.Publish(f.as("rbm-admin"), rbm, "")
		must(t, err)
		ups, err := f.store.Upstream(context.Background(), macra)
		must(t, err)
		for _, u := range ups {
			t.Errorf("upstream change right after publishing with values: %+v", u)
		}

		// A later release: PAY-002's default 36 hours (range 12–72),
		// CHN-001's title reworded.
		src.cat = catalogEditing(t, func(r *catalog.Recommendation) bool {
			switch r.ID {
			case "PAY-002":
				r.Parameters[0].Default, r.Parameters[0].Min = 36, 12
			case "CHN-001":
				r.Title = "Short USSD and STK sessions"
				r.Parameters[0].Max = 100
			}
			return true
		})
		ups, err = f.store.Upstream(context.Background(), macra)
		must(t, err)
		byID := map[string]adoption.UpstreamChange{}
		for _, u := range ups {
			byID[u.RecID] = u
		}
		if len(ups) != 2 {
			t.Fatalf("upstream changes %+v, want PAY-002 and CHN-001", ups)
		}
		pay := byID["PAY-002"]
		wantChanges := []string{"Hold after a SIM swap: catalogue default 48 hours → 36 hours", "Hold after a SIM swap: range 24–72 hours → 12–72 hours"}
		if strings.Join(pay.ParamChanges, "|") != strings.Join(wantChanges, "|") {
			t.Errorf("PAY-002 parameter changes %q, want %q", pay.ParamChanges, wantChanges)
		}
		if !strings.HasSuffix(pay.UpstreamStatement, pay002At24) || pay.UpstreamStatement != pay.PublishedStatement {
			t.Errorf("PAY-002 upstream text %q, want the version's 24 hours", pay.UpstreamStatement)
		}
		chn := byID["CHN-001"]
		if chn.Kind != "changed" || strings.Join(chn.ParamChanges, "|") != "Idle USSD and STK session timeout: range 30–180 seconds → 30–100 seconds" ||
			!strings.Contains(chn.UpstreamStatement, "after at most 60 seconds") {
			t.Errorf("CHN-001: %+v", chn)
		}

		// Take PAY-002 (new definitions, the draft's 24 hours); leave
		// CHN-001 as published and give it 120 seconds in the draft,
		// which its published range admits and upstream's does not.
		_, err = f.store.ChooseUpstream(ctx, macra, "PAY-002", adoption.Take)
		must(t, err)
		_, err = f.store.ChooseUpstream(ctx, macra, "CHN-001", adoption.Leave)
		must(t, err)
		must(t, f.store.SetDraft(ctx, macra, adoption.BaselineItem{RecID: "CHN-001", Decision: adoption.Adopted, Values: map[string]int{"session_timeout": 120}}))
		v2, err := f.store.Publish(f.as("rbm-admin"), rbm, "")
		must(t, err)
		p2, _ := v2.Item("PAY-002")
		if want := (adoption.ItemParam{Name: "hold", Label: "Hold after a SIM swap", Unit: catalog.Hours, Default: 36, Min: 12, Max: 72, Value: 24}); len(p2.Params) != 1 || p2.Params[0] != want {
			t.Errorf("v2 PAY-002 params %+v, want %+v", p2.Params, want)
		}
		c2, _ := v2.Item("CHN-001")
		if c2.Title != "Short USSD and STK session timeouts" || !strings.HasSuffix(c2.Statement, "after at most 120 seconds.") || c2.Params[0].Value != 120 {
			t.Errorf("v2 CHN-001 left as published with 120 seconds: %q %q %+v", c2.Title, c2.Statement, c2.Params)
		}
		// The choice to leave CHN-001 holds; nothing else is pending.
		ups, err = f.store.Upstream(context.Background(), macra)
		must(t, err)
		for _, u := range ups {
			if u.Pending() {
				t.Errorf("pending after v2: %+v", u)
			}
		}

		// A third release raises PAY-002's minimum to 30 hours, above
		// the draft's 24: taking it, publishing waits for a new value.
		src.cat = catalogEditing(t, func(r *catalog.Recommendation) bool {
			if r.ID == "PAY-002" {
				r.Parameters[0].Default, r.Parameters[0].Min = 36, 30
			}
			return true
		})
		ups, err = f.store.Upstream(context.Background(), macra)
		must(t, err)
		var pay3 adoption.UpstreamChange
		for _, u := range ups {
			if u.RecID == "PAY-002" {
				pay3 = u
			}
		}
		if want := "Hold after a SIM swap: the version's 24 hours is outside the new range"; !strings.Contains(strings.Join(pay3.ParamChanges, "|"), want) {
			t.Errorf("PAY-002 in the third release: %q lacks %q", pay3.ParamChanges, want)
		}
		_, err = f.store.ChooseUpstream(ctx, macra, "", adoption.Take)
		must(t, err)
		var ie *adoption.InvalidError
		if _, err := f.store.Publish(f.as("rbm-admin"), rbm, ""); !errors.As(err, &ie) || ie.Field != "param" || !strings.Contains(ie.Problem, "PAY-002") {
			t.Fatalf("publishing 24 hours under a minimum of 30: %v", err)
		}
		must(t, f.store.SetDraft(ctx, macra, adoption.BaselineItem{RecID: "PAY-002", Decision: adoption.Adopted, Values: map[string]int{"hold": 30}}))
		v3, err := f.store.Publish(f.as("rbm-admin"), rbm, "")
		must(t, err)
		if it, _ := v3.Item("PAY-002"); !strings.HasSuffix(it.Statement, "for 30 hours after a SIM swap on the account's number.") {
			t.Errorf("v3 PAY-002: %q", it.Statement)
		}
	})
}

// TestParamsVoidJointApproval: in a joint baseline a changed value is a
// change of the draft: it voids the approval given to it.
func TestParamsVoidJointApproval(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		macra, rbm := f.orgs["macra"], f.orgs["rbm"]
		_, err := f.store.AdoptRemaining(f.as("macra-analyst"), macra)
		must(t, err)
		must(t, f.store.SetRequireJoint(f.as("macra-admin"), macra, true))
		_, err = f.store.Approve(f.as("macra-admin"), macra, "")
		must(t, err)
		must(t, f.store.SetDraft(f.as("rbm-analyst"), rbm, adoption.BaselineItem{RecID: "GOV-010", Decision: adoption.Adopted, Values: map[string]int{"first_notice": 12}}))
		aps, err := f.store.Approvals(context.Background(), rbm)
		must(t, err)
		if len(aps) != 0 {
			t.Fatalf("approvals after a changed value: %+v", aps)
		}
		f.now = f.now.Add(time.Hour)
		_, err = f.store.Approve(f.as("rbm-admin"), rbm, "")
		must(t, err)
		res, err := f.store.Approve(f.as("macra-admin"), macra, "")
		must(t, err)
		if res.Published == nil {
			t.Fatal("both approvals did not publish")
		}
		it, _ := res.Published.Item("GOV-010")
		if !strings.Contains(it.Statement, "within 12 hours of detecting them") || it.Params[0].Value != 12 {
			t.Errorf("GOV-010 as published: %q %+v", it.Statement, it.Params)
		}
		// Listed under both regulators, under neither provider nor Kenya.
		for org, n := range map[string]int{"rbm": 1, "macra": 1, "p1": 0, "ca": 0} {
			if got := len(auditCount(t, d, f.orgs[org].ID, "baseline.draft.params.set")); got != n {
				t.Errorf("%d baseline.draft.params.set entries under %s, want %d", got, org, n)
			}
		}
	})
}

// TestOSCALProfileValidates: the version's OSCAL profile is valid OSCAL
// 1.1.3 and sets PAY-002's hold to the version's 30 hours; the adapted
// item's local text is added to its statement.
func TestOSCALProfileValidates(t *testing.T) {
	comp := jsonschema.NewCompiler()
	comp.AssertFormat()
	sch, err := comp.Compile(testenv.SharedFile(t, "schemas/oscal_complete_schema-1-1-3.json"))
	if err != nil {
		t.Fatalf("compiling the OSCAL schema: %v", err)
	}
	f := newFixture(t, dbtest.SQLite(t))
	must(t, f.store.SetDraft(f.as("macra-analyst"), f.orgs["macra"], adoption.BaselineItem{RecID: "PAY-002", Decision: adoption.Adopted, Values: map[string]int{"hold": 30}}))
	v := f.publish()
	out, err := adoption.OSCALProfile(v)
	must(t, err)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	must(t, err)
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("the profile does not validate: %v", err)
	}
	var doc struct {
		Profile struct {
			Modify struct {
				SetParameters []struct {
					ParamID string   `json:"param-id"`
					Values  []string `json:"values"`
				} `json:"set-parameters"`
			} `json:"modify"`
		} `json:"profile"`
	}
	must(t, json.Unmarshal(out, &doc))
	got := map[string]string{}
	for _, sp := range doc.Profile.Modify.SetParameters {
		got[sp.ParamID] = strings.Join(sp.Values, ",")
	}
	if got["pay-002_prm_hold"] != "30" || got["gov-010_prm_first_notice"] != "24" {
		t.Errorf("set-parameters %v, want pay-002_prm_hold 30 and gov-010_prm_first_notice 24", got)
	}
	for _, want := range []string{`"prose": "Local wording."`, `"href": "/catalogue/export/oscal"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("profile lacks %q", want)
		}
	}
}
