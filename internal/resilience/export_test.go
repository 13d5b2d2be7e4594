package resilience_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/resilience"
	"github.com/dfslab/dfslab/internal/testenv"
)

// TestOSCALAssessmentResults: a signed-off assessment exports as OSCAL
// 1.1.3 assessment results that validate against the official schema,
// the same bytes each time; a draft does not export.
func TestOSCALAssessmentResults(t *testing.T) {
	comp := jsonschema.NewCompiler()
	comp.AssertFormat()
	sch, err := comp.Compile(testenv.SharedFile(t, "schemas/oscal_complete_schema-1-1-3.json"))
	if err != nil {
		t.Fatalf("compiling the OSCAL schema: %v", err)
	}
	f := newFixture(t, dbtest.SQLite(t))
	o := f.org("Mpamba", identity.OrgDFSProvider, "MW")
	a, err := f.s.CreateAssessment(f.ctx, o, resilience.NewAssessment{Title: "2027", ModelKey: builtinKey, Profile: provider()})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := f.s.Model(f.ctx, builtinKey)
	if _, err := resilience.OSCALAssessmentResults(a, o.Name, m, resilience.Snapshot{}); !errors.Is(err, resilience.ErrInvalid) {
		t.Fatalf("draft exported: %v", err)
	}
	f.answerAll(o.ID, a, 4)
	as, _ := f.s.Answers(f.ctx, a.ID)
	if _, err := f.s.SaveAnswer(f.ctx, o.ID, a.ID, resilience.Answer{QuestionID: "TRA-02", NA: true, NAReason: "no agents"}, as["TRA-02"].Version); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.SaveAnswer(f.ctx, o.ID, a.ID, resilience.Answer{QuestionID: "RM-01", Level: lv(1), Comment: "only informal"}, as["RM-01"].Version); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Submit(f.ctx, o.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	a, _ = f.s.Assessment(f.ctx, o.ID, a.ID)
	snap, err := f.s.Snapshot(f.ctx, o.ID, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	out, err := resilience.OSCALAssessmentResults(a, o.Name, m, snap)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("assessment results do not validate: %v", err)
	}
	for _, want := range []string{`"state": "satisfied"`, `"state": "not-satisfied"`, `"state": "not-applicable"`, `"target-id": "gov-009_obj"`,
		`"remarks": "only informal"`, `"oscal-version": "1.1.3"`, `"name": "maturity-level"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("OSCAL output lacks %s", want)
		}
	}
	again, _ := resilience.OSCALAssessmentResults(a, o.Name, m, snap)
	if !bytes.Equal(out, again) {
		t.Error("two exports of one snapshot differ")
	}
}
