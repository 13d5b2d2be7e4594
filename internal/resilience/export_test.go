package resilience_test

import (
	"bytes"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/resilience"
	"github.com/dfslab/dfslab/internal/testenv"
	"github.com/dfslab/dfslab/internal/web/webtest"
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

// TestEvidenceUploads: evidence attaches to an answer through the page;
// a file of the wrong type, an empty one and one over the limit are
// refused with nothing stored; another organisation cannot download it.
func TestEvidenceUploads(t *testing.T) {
	s := newServer(t)
	o := s.orgs["p1"]
	a, err := s.s.CreateAssessment(s.ctx, o, resilience.NewAssessment{Title: "x", ModelKey: builtinKey, Profile: provider()})
	if err != nil {
		t.Fatal(err)
	}
	target := fmt.Sprintf("/orgs/%d/resilience/assessments/%d/evidence", o.ID, a.ID)
	upload := func(user, name string, data []byte) *httptest.ResponseRecorder {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		mw.WriteField("question", "RM-01")
		fw, _ := mw.CreateFormFile("file", name)
		fw.Write(data)
		mw.Close()
		r := httptest.NewRequest(http.MethodPost, target, &body)
		r.Header.Set("Content-Type", mw.FormDataContentType())
		r.AddCookie(&http.Cookie{Name: s.cookie, Value: webtest.Cookie(s.users[user])})
		rec := httptest.NewRecorder()
		s.srv.ServeHTTP(rec, r)
		return rec
	}
	count := func() int {
		ev, err := s.s.EvidenceList(s.ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		return len(ev["RM-01"])
	}
	for _, c := range []struct {
		name string
		data []byte
		want int
	}{
		{"tool.exe", []byte("MZ\x90\x00 an executable"), http.StatusUnsupportedMediaType},
		{"empty.txt", nil, http.StatusBadRequest},
		{"big.pdf", append([]byte("%PDF-1.7\n"), make([]byte, resilience.MaxEvidence)...), http.StatusRequestEntityTooLarge},
	} {
		if rec := upload("p1-analyst", c.name, c.data); rec.Code != c.want {
			t.Errorf("%s: %d, want %d", c.name, rec.Code, c.want)
		}
	}
	if n := count(); n != 0 {
		t.Fatalf("%d files stored after refusals", n)
	}
	if rec := upload("p1-viewer", "policy.pdf", []byte("%PDF-1.7\nrisk policy\n%%EOF\n")); rec.Code != http.StatusForbidden {
		t.Fatalf("viewer uploaded: %d", rec.Code)
	}
	if rec := upload("p1-analyst", "policy.pdf", []byte("%PDF-1.7\nrisk policy\n%%EOF\n")); rec.Code != http.StatusSeeOther {
		t.Fatalf("upload: %d %s", rec.Code, rec.Body)
	}
	ev, _ := s.s.EvidenceList(s.ctx, a.ID)
	if len(ev["RM-01"]) != 1 {
		t.Fatalf("evidence: %+v", ev)
	}
	get := func(user string, org int64) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/orgs/%d/resilience/assessments/%d/evidence/%d", org, a.ID, ev["RM-01"][0].ID), nil)
		r.AddCookie(&http.Cookie{Name: s.cookie, Value: webtest.Cookie(s.users[user])})
		rec := httptest.NewRecorder()
		s.srv.ServeHTTP(rec, r)
		return rec
	}
	if rec := get("p1-viewer", o.ID); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "risk policy") ||
		!strings.HasPrefix(rec.Header().Get("Content-Disposition"), "attachment") {
		t.Fatalf("download: %d %q", rec.Code, rec.Header().Get("Content-Disposition"))
	}
	if rec := get("k1-admin", s.orgs["k1"].ID); rec.Code != http.StatusNotFound {
		t.Fatalf("another organisation downloaded the evidence: %d", rec.Code)
	}
}
