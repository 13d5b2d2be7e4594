package framework

import (
	"bytes"
	"testing"

	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/testenv"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The OSCAL example is a valid OSCAL 1.1.3 catalog, so the parser is
// tested on what other tools write, not on a dialect of our own.
func TestOSCALExampleValidatesAgainstSchema(t *testing.T) {
	comp := jsonschema.NewCompiler()
	comp.AssertFormat()
	sch, err := comp.Compile(testenv.SharedFile(t, "schemas/oscal_complete_schema-1-1-3.json"))
	if err != nil {
		t.Fatalf("compiling the OSCAL schema: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(example(t, "cbe-cyber-guideline.oscal.json")))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("example does not validate: %v", err)
	}
}

// The catalogue's own OSCAL export reads back as a framework with one
// control per recommendation, grouped by layer.
func TestParseOwnOSCALExport(t *testing.T) {
	c, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := c.Export(&buf, catalog.FormatOSCAL); err != nil {
		t.Fatal(err)
	}
	f, err := ParseOSCAL(buf.Bytes(), knownIDs(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Controls) != len(c.Recommendations) || f.Version != c.Version {
		t.Fatalf("%d controls (want %d), version %q (want %q)", len(f.Controls), len(c.Recommendations), f.Version, c.Version)
	}
	for _, ctl := range f.Controls {
		if ctl.Text == "" || ctl.Group == "" {
			t.Errorf("control %s lacks text or group", ctl.ID)
		}
	}
}
