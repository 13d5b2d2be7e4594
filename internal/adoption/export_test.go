package adoption_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/dfslab/dfslab/internal/adoption"
	"github.com/dfslab/dfslab/internal/blob"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/pdf"
	"github.com/dfslab/dfslab/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test -update after checking the change)\ngot:\n%.1500s", name, got)
	}
}

// snapshotFixture publishes the fixture baseline and submits one report
// of p1 with a mix of statuses and one evidence file.
func snapshotFixture(t *testing.T) (*fixture, adoption.Version, adoption.Submission) {
	f := newFixture(t, dbtest.SQLite(t))
	v := f.publish()
	p1 := f.orgs["p1"]
	tr, err := f.store.Items(context.Background(), p1)
	if err != nil {
		t.Fatal(err)
	}
	ctx := f.as("p1-analyst")
	for i, u := range []adoption.Update{
		{Status: adoption.Implemented},
		{Status: adoption.Implemented}, // verified by the regulator below
		{Status: adoption.InProgress, TargetDate: "2026-05-01"},
		{Status: adoption.StatusNA, Justification: "We run no USSD channel."},
		{Status: adoption.Planned, TargetDate: "2026-12-31", OwnerID: f.users["p1-viewer"]},
	} {
		if _, err := f.store.Update(ctx, p1, tr.Items[i].RecID, u); err != nil {
			t.Fatal(err)
		}
	}
	up, err := blob.Read(strings.NewReader("%PDF-1.7\nconfiguration review\n"), "review.pdf", adoption.EvidencePolicy())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.AddEvidence(ctx, p1, tr.Items[0].RecID, up, "review.pdf"); err != nil {
		t.Fatal(err)
	}
	// Only the regulator verifies, from a report.
	first, err := f.store.Submit(f.as("p1-admin"), p1, "First report.")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Verify(f.as("rbm-analyst"), f.orgs["rbm"], first.ID, tr.Items[1].RecID); err != nil {
		t.Fatal(err)
	}
	sub, err := f.store.Submit(f.as("p1-admin"), p1, "We confirm this report.")
	if err != nil {
		t.Fatal(err)
	}
	return f, v, sub
}

func TestOSCALAssessmentResultsValidate(t *testing.T) {
	path := testenv.SharedFile(t, "schemas/oscal_complete_schema-1-1-3.json")
	comp := jsonschema.NewCompiler()
	comp.AssertFormat()
	sch, err := comp.Compile(path)
	if err != nil {
		t.Fatalf("compiling the OSCAL schema: %v", err)
	}
	validate := func(b []byte) error {
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("not JSON: %v", err)
		}
		return sch.Validate(inst)
	}
	f, _, sub := snapshotFixture(t)
	out, err := adoption.OSCALAssessmentResults(sub, f.cat)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate(out); err != nil {
		t.Fatalf("assessment results do not validate: %v", err)
	}
	for _, want := range []string{`"state": "satisfied"`, `"state": "not-satisfied"`, `"state": "not-applicable"`, `"name": "sha256"`,
		`"target-id": "` + strings.ToLower(sub.Items[0].RecID) + `_obj"`, `"overdue"`} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("OSCAL output lacks %s", want)
		}
	}
	// Deterministic: the same snapshot gives the same document.
	again, _ := adoption.OSCALAssessmentResults(sub, f.cat)
	if !bytes.Equal(out, again) {
		t.Error("two exports of one snapshot differ")
	}
	// The schema must be able to fail: a finding without a target is invalid.
	broken := bytes.Replace(out, []byte(`"target": {`), []byte(`"targets": {`), 1)
	if err := validate(broken); err == nil {
		t.Fatal("a finding without a target passed validation; the schema check proves nothing")
	}
}

func TestBaselineDocuments(t *testing.T) {
	f, v, sub := snapshotFixture(t)
	// Fixed publication facts so that the golden files do not depend on
	// the database's IDs.
	v.PublishedAt = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	md := adoption.Markdown(v, f.cat)
	golden(t, "baseline.md", md)
	html, err := adoption.HTMLDocument(v, f.cat)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "baseline.html", html)
	for _, bad := range []string{"<script", "<link", "src=", "href=\"http"} {
		if bytes.Contains(html, []byte(bad)) {
			t.Errorf("HTML document is not self-contained: contains %s", bad)
		}
	}
	sv, err := f.store.Sector(context.Background(), f.orgs["macra"])
	if err != nil {
		t.Fatal(err)
	}
	csv, err := adoption.SectorCSV(sv)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(csv, []byte("\n")); n != 1+len(f.cat.Threats)+len(f.cat.Layers) {
		t.Errorf("CSV has %d lines, want a header and one per threat and layer", n)
	}
	if !bytes.Contains(csv, []byte("Mpamba Money,"+strconv.FormatInt(sub.ID, 10))) {
		t.Errorf("CSV lacks the provider's submission:\n%s", csv)
	}
}

func TestPDF(t *testing.T) {
	path := pdf.ChromiumPath()
	if path == "" {
		testenv.Missing(t, "headless Chromium (set DFSLAB_CHROMIUM)")
	}
	f, v, _ := snapshotFixture(t)
	html, err := adoption.HTMLDocument(v, f.cat)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pdf.Chromium(path)(context.Background(), html)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, []byte("%PDF-")) || len(out) < 10_000 {
		t.Fatalf("not a PDF of the baseline (%d bytes): %.20q", len(out), out)
	}
	if got := blob.Sniff(out, "x"); got != blob.PDF {
		t.Fatalf("sniffed as %s", got)
	}
}
