package catalog_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func export(t *testing.T, format string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := load(t).Export(&buf, format); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestExportGolden(t *testing.T) {
	for _, f := range []string{catalog.FormatJSON, catalog.FormatCSV, catalog.FormatOSCAL} {
		t.Run(f, func(t *testing.T) {
			a, b := export(t, f), export(t, f)
			if !bytes.Equal(a, b) {
				t.Fatal("export is not deterministic")
			}
			goldenFile(t, "catalog."+f+".golden", a)
		})
	}
}

func TestExportUnknownFormat(t *testing.T) {
	c := load(t)
	if err := c.Export(&bytes.Buffer{}, "xml"); err == nil || !strings.Contains(err.Error(), "unknown export format") {
		t.Fatalf("err = %v", err)
	}
}

func TestCSVHasOneRowPerRecommendation(t *testing.T) {
	rows, err := csv.NewReader(bytes.NewReader(export(t, catalog.FormatCSV))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	c := load(t)
	if len(rows) != len(c.Recommendations)+1 {
		t.Fatalf("%d rows, want header + %d", len(rows), len(c.Recommendations))
	}
	if rows[1][0] != c.Recommendations[0].ID {
		t.Fatalf("first data row is %q, want %q", rows[1][0], c.Recommendations[0].ID)
	}
	for _, r := range rows[1:] {
		for _, cell := range r {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Fatalf("cell %q could run as a spreadsheet formula", cell)
			}
		}
	}
}

func TestOSCALValidatesAgainstSchema(t *testing.T) {
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
	out := export(t, catalog.FormatOSCAL)
	if err := validate(out); err != nil {
		t.Fatalf("OSCAL export does not validate: %v", err)
	}
	// The schema must be able to fail: a control without a title is invalid.
	broken := bytes.Replace(out, []byte(`"title": "Ship release builds that cannot be debugged",`), nil, 1)
	if bytes.Equal(broken, out) {
		t.Fatal("test fixture: expected control title not found")
	}
	if err := validate(broken); err == nil {
		t.Fatal("a control without a title passed validation; the schema check proves nothing")
	}
}

// OSCAL carries a parameter as a control param that the statement inserts,
// so a profile (a regulator's baseline) can set it; withdrawn items are
// not controls of the catalogue.
func TestOSCALParametersAndWithdrawn(t *testing.T) {
	out := string(export(t, catalog.FormatOSCAL))
	for _, want := range []string{
		`"id": "pay-002_prm_hold"`,
		`"label": "Hold after a SIM swap"`,
		`"description": "Recommended range: 24–72 hours"`,
		`for {{ insert: param, pay-002_prm_hold }} after a SIM swap`,
		`"name": "priority",`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("OSCAL export lacks %s", want)
		}
	}
	if strings.Contains(out, `"id": "app-049"`) {
		t.Error("OSCAL export contains withdrawn APP-049 as a control")
	}
	var doc struct {
		Recommendations []catalog.Recommendation `json:"recommendations"`
		Withdrawn       []catalog.Recommendation `json:"withdrawn"`
		Releases        []catalog.Release        `json:"releases"`
	}
	if err := json.Unmarshal(export(t, catalog.FormatJSON), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Recommendations) != 189 || len(doc.Withdrawn) != 9 || doc.Withdrawn[0].ID != "APP-049" || doc.Withdrawn[0].ReplacedBy != "APP-012" ||
		len(doc.Releases) != 2 || doc.Releases[0].Version != "2026.2" {
		t.Errorf("JSON export: %d live, %d withdrawn (first %+v), releases %+v", len(doc.Recommendations), len(doc.Withdrawn), doc.Withdrawn, doc.Releases)
	}
	csv := string(export(t, catalog.FormatCSV))
	if !strings.Contains(csv, "hold=48 hours (24–72 hours)") || strings.Contains(csv, "\nAPP-049,") {
		t.Error("CSV export: PAY-002's parameter missing or withdrawn APP-049 present")
	}
}

func goldenFile(t *testing.T, name string, got []byte) {
	t.Helper()
	testenv.Golden(t, filepath.Join("testdata", name), got, *update)
}
