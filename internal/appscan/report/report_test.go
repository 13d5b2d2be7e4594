package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/dfslab/dfslab/internal/appscan"
	"github.com/dfslab/dfslab/internal/appscan/baseline"
	"github.com/dfslab/dfslab/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func render(t *testing.T, f Format, d *Document, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, f, d, opts); err != nil {
		t.Fatalf("Write(%s): %v", f, err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		doc    func() *Document
	}{
		{"report.json.golden", JSON, fixtureDoc},
		{"report.sarif.golden", SARIF, fixtureDoc},
		{"report.html.golden", HTML, fixtureDoc},
		{"report.md.golden", Markdown, fixtureDoc},
		{"report.txt.golden", Text, fixtureDoc},
		{"empty.json.golden", JSON, func() *Document { return &Document{Tool: Tool{Name: "dfslab", Version: "test"}} }},
		{"empty.sarif.golden", SARIF, func() *Document { return &Document{Tool: Tool{Name: "dfslab", Version: "test"}} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			goldenFile(t, tt.name, render(t, tt.format, tt.doc(), Options{}))
		})
	}
}

func TestGoldenRules(t *testing.T) {
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteRules(&buf, f, Tool{Name: "dfslab", Version: "test", InformationURI: "https://github.com/dfslab/dfslab"}, fixtureRules()); err != nil {
				t.Fatal(err)
			}
			goldenFile(t, "rules."+string(f)+".golden", buf.Bytes())
		})
	}
	if err := WriteRules(&bytes.Buffer{}, Format("xml"), Tool{}, fixtureRules()); err == nil {
		t.Error("WriteRules(xml) succeeded")
	}
}

// loadSARIFSchema compiles the OASIS SARIF 2.1.0 schema from ../shared/schemas
// beside the repository.
func loadSARIFSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	path := testenv.SharedFile(t, "schemas/sarif-schema-2.1.0.json")
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	sch, err := c.Compile(path)
	if err != nil {
		t.Fatalf("compile SARIF schema: %v", err)
	}
	return sch
}

func validateSARIF(t *testing.T, sch *jsonschema.Schema, data []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("SARIF output is not JSON: %v", err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("SARIF output does not match the 2.1.0 schema: %v", err)
	}
}

func TestSARIFValidatesAgainstSchema(t *testing.T) {
	sch := loadSARIFSchema(t)
	// The schema must be strict enough to catch a broken document, or the
	// test below proves nothing.
	inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"version":"2.1.0","runs":[{"tool":{"driver":{}}}]}`))
	if sch.Validate(inst) == nil {
		t.Fatal("schema accepted a driver without a name")
	}
	cases := map[string][]byte{
		"full":  render(t, SARIF, fixtureDoc(), Options{}),
		"empty": render(t, SARIF, &Document{Tool: DefaultTool("test")}, Options{}),
	}
	var rules bytes.Buffer
	if err := WriteRules(&rules, SARIF, DefaultTool("test"), fixtureRules()); err != nil {
		t.Fatal(err)
	}
	cases["rules"] = rules.Bytes()
	for name, data := range cases {
		t.Run(name, func(t *testing.T) { validateSARIF(t, sch, data) })
	}
}

// sarifDoc is the part of a SARIF log the content test inspects.
type sarifDoc struct {
	Runs []struct {
		Tool struct {
			Driver struct {
				Rules []struct {
					ID         string `json:"id"`
					Name       string `json:"name"`
					Help       struct{ Text, Markdown string }
					Properties map[string]any `json:"properties"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Artifacts []struct {
			Location    struct{ URI string }
			ParentIndex *int     `json:"parentIndex"`
			Roles       []string `json:"roles"`
		} `json:"artifacts"`
		Results []struct {
			RuleID    string `json:"ruleId"`
			RuleIndex int    `json:"ruleIndex"`
			Level     string `json:"level"`
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI   string
						Index *int
					}
					Region *struct{ StartLine int }
				}
				LogicalLocations []struct{ FullyQualifiedName, Kind string }
			}
			PartialFingerprints map[string]string `json:"partialFingerprints"`
			Suppressions        []struct{ Kind, Justification string }
		} `json:"results"`
		Invocations []struct {
			ExecutionSuccessful        bool
			ToolExecutionNotifications []struct{ Level string }
		}
	} `json:"runs"`
}

func TestSARIFContent(t *testing.T) {
	var log sarifDoc
	if err := json.Unmarshal(render(t, SARIF, fixtureDoc(), Options{}), &log); err != nil {
		t.Fatal(err)
	}
	if len(log.Runs) != 1 {
		t.Fatalf("%d runs, want 1 for all apps", len(log.Runs))
	}
	run := log.Runs[0]
	rules := run.Tool.Driver.Rules
	for _, r := range rules {
		if r.Properties["security-severity"] == nil || r.Help.Text == "" || r.Help.Markdown == "" || r.Name == "" {
			t.Errorf("rule %s lacks security-severity, help or name: %+v", r.ID, r)
		}
	}
	// 7 findings in the wallet (6 + 1 suppressed) and 6 in the agent.
	if len(run.Results) != 13 {
		t.Fatalf("%d results, want 13", len(run.Results))
	}
	fps := map[string]bool{}
	var debuggable, suppressed int
	for _, r := range run.Results {
		if rules[r.RuleIndex].ID != r.RuleID {
			t.Errorf("result %s has ruleIndex %d pointing at %s", r.RuleID, r.RuleIndex, rules[r.RuleIndex].ID)
		}
		fp := r.PartialFingerprints[fingerprintKey]
		if fp == "" || fps[fp] {
			t.Errorf("result %s: fingerprint %q missing or duplicated", r.RuleID, fp)
		}
		fps[fp] = true
		loc := r.Locations[0].PhysicalLocation.ArtifactLocation
		if loc.Index == nil || run.Artifacts[*loc.Index].Location.URI != loc.URI {
			t.Errorf("result %s: artifact index does not match uri %q", r.RuleID, loc.URI)
		}
		a := run.Artifacts[*loc.Index]
		if a.ParentIndex != nil && !reflect.DeepEqual(run.Artifacts[*a.ParentIndex].Roles, []string{"analysisTarget"}) {
			t.Errorf("result %s: nested artifact's parent is not the scanned app", r.RuleID)
		}
		switch r.RuleID {
		case "DFS-MAN-001":
			debuggable++
			if r.Level != "error" || loc.URI != "AndroidManifest.xml" || r.Locations[0].LogicalLocations[0].Kind != "element" {
				t.Errorf("debuggable: level %s uri %s logical %+v", r.Level, loc.URI, r.Locations[0].LogicalLocations)
			}
		case "DFS-CRY-003":
			ll := r.Locations[0].LogicalLocations
			if r.Level != "warning" || len(ll) != 1 || ll[0].Kind != "function" || ll[0].FullyQualifiedName != "com.example.wallet.crypto.Vault.seal([B)[B" {
				t.Errorf("ECB: level %s logical %+v", r.Level, ll)
			}
		case "DFS-SEC-004":
			if reg := r.Locations[0].PhysicalLocation.Region; reg == nil || reg.StartLine != 12 {
				t.Errorf("secret in assets: region %+v, want line 12", reg)
			}
		case "DFS-RES-001":
			// A missing control points at the application element.
			if a.ParentIndex == nil || loc.URI != "AndroidManifest.xml" {
				t.Errorf("missing control should point at the manifest, got %q", loc.URI)
			}
		case "DFS-NET-002":
			if len(r.Suppressions) == 1 {
				suppressed++
				if r.Suppressions[0].Kind != "external" || !strings.Contains(r.Suppressions[0].Justification, "stripped by R8") {
					t.Errorf("suppression %+v", r.Suppressions[0])
				}
			}
		}
	}
	if debuggable != 2 || suppressed != 1 {
		t.Errorf("debuggable results %d (want 2, one per app), suppressed %d (want 1)", debuggable, suppressed)
	}
	inv := run.Invocations[0]
	if inv.ExecutionSuccessful || len(inv.ToolExecutionNotifications) != 2 {
		t.Errorf("invocation %+v: want unsuccessful with an error and an expired-suppression warning", inv)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	data := render(t, JSON, fixtureDoc(), Options{})
	var got Document
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	want := fixtureDoc()
	want.Finalize()
	want.Rules = nil
	if !reflect.DeepEqual(&got, want) {
		t.Errorf("JSON does not round-trip:\ngot  %+v\nwant %+v", got, *want)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema_version", "tool", "summary", "results", "errors", "suppressed", "expired_suppressions", "baseline"} {
		if _, ok := top[k]; !ok {
			t.Errorf("JSON report lacks %q", k)
		}
	}
	if string(top["schema_version"]) != `"`+appscan.SchemaVersion+`"` {
		t.Errorf("schema_version = %s", top["schema_version"])
	}
	// A JSON report is what --baseline reads.
	b, err := baseline.Read(bytes.NewReader(data), "report.json")
	if err != nil {
		t.Fatalf("baseline cannot read our own JSON report: %v", err)
	}
	s := b.Apply(fixtureResults())
	if s.New != 0 || s.Unchanged != 12 || len(s.Fixed) != 0 {
		t.Errorf("same results against their own report: %+v, want all unchanged", s)
	}
}

func TestSummary(t *testing.T) {
	d := fixtureDoc()
	d.Finalize()
	want := Summary{Apps: 2, Findings: 11, Critical: 1, High: 3, Medium: 1, Low: 5, Info: 1, InLibrary: 1}
	if d.Summary != want {
		t.Errorf("summary %+v, want %+v", d.Summary, want)
	}
	for sev, n := range map[appscan.Severity]int{appscan.Critical: 1, appscan.High: 4, appscan.Medium: 5, appscan.Low: 10, appscan.Info: 11} {
		if got := d.AtOrAbove(sev); got != n {
			t.Errorf("AtOrAbove(%s) = %d, want %d", sev, got, n)
		}
	}
}

func TestHTMLSelfContainedAndEscaped(t *testing.T) {
	page := string(render(t, HTML, fixtureDoc(), Options{}))
	for _, bad := range []string{"<script", "src=", "@import", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("HTML report contains %q: it must be self-contained and inert", bad)
		}
	}
	// Every link stays inside the document.
	for _, m := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		if !strings.HasPrefix(m[1], "#") {
			t.Errorf("external link %q", m[1])
		}
	}
	for _, want := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt;", // hostile evidence escaped
		"MASVS-NETWORK · Network communication",
		"MASVS-RESILIENCE · Resilience",
		"Not mapped to MASVS",
		"Use AES/GCM/NoPadding with a random IV.", // remediation from the rule metadata
		"android.permission.RECEIVE_SMS", "com.example.wallet.SmsReceiver", "SHA256-RSA", "lib/arm64-v8a/libcore.so",
		"Firebase Analytics", "Certificate pinning", "Expired suppressions", "Fixed since the baseline", "build/broken.apk",
		"<style>.dfslab-report",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("HTML report lacks %q", want)
		}
	}
	// Groups follow the MASVS order: network before resilience.
	if strings.Index(page, "MASVS-NETWORK ·") > strings.Index(page, "MASVS-RESILIENCE ·") {
		t.Error("MASVS groups out of order")
	}

	var body bytes.Buffer
	if err := WriteHTMLBody(&body, fixtureDoc()); err != nil {
		t.Fatal(err)
	}
	b := strings.TrimSpace(body.String())
	if !strings.HasPrefix(b, `<div class="dfslab-report">`) || strings.Contains(b, "<html") || strings.Contains(b, "<style") {
		t.Errorf("WriteHTMLBody must write only the report element, got prefix %q", b[:min(80, len(b))])
	}
	if !strings.HasPrefix(HTMLStyle(), ".dfslab-report") {
		t.Error("HTMLStyle does not start with the scoped stylesheet")
	}
}

func TestTextColour(t *testing.T) {
	plain := string(render(t, Text, fixtureDoc(), Options{}))
	colour := string(render(t, Text, fixtureDoc(), Options{Color: true}))
	if strings.Contains(plain, "\x1b") {
		t.Error("text without colour contains an escape character (the hostile evidence must be neutralised too)")
	}
	if !strings.Contains(colour, "\x1b[") {
		t.Error("text with colour has no ANSI sequences")
	}
	if strings.Contains(colour, "\x1b[2J") {
		t.Error("an escape sequence from the app reached the terminal")
	}
	if !strings.Contains(plain, `\x1b[2J`) {
		t.Error("the control character should be shown escaped")
	}
	if strings.Count(plain, "Logging calls") != 3 || !strings.Contains(plain, "… and 1 more DFS-CODE-012 finding(s)") {
		t.Error("text should show three findings of a rule and count the rest")
	}
	// Most severe first within an app.
	if strings.Index(plain, "Trust-all TrustManager") > strings.Index(plain, "ECB mode") {
		t.Error("findings not sorted by severity")
	}
}

func TestMarkdownTables(t *testing.T) {
	md := string(render(t, Markdown, fixtureDoc(), Options{}))
	// Each table row keeps its column count although evidence contains "|".
	cols := 0
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "|") {
			cols = 0
			continue
		}
		n := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|")
		if cols == 0 {
			cols = n
		} else if n != cols {
			t.Errorf("table row has %d separators, header %d: %s", n, cols, line)
		}
	}
	if !strings.Contains(md, "| DFS-CODE-012 | Logging calls: writes to logcat | 4 |") || !strings.Contains(md, "and 1 more") {
		t.Error("markdown should give one row per rule with its count")
	}
	for _, want := range []string{"| 🟥 critical | 1 |", "**3 new**", "<details>", "&lt;script&gt;", "Fixed since the baseline (1)", "expired"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if strings.Contains(md, "<script>") {
		t.Error("markdown lets markup from the app through")
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"text": Text, "JSON": JSON, "sarif": SARIF, "html": HTML, "markdown": Markdown, "md": Markdown} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("ParseFormat(xml) succeeded")
	}
}

func TestCountByCategory(t *testing.T) {
	rules := append(fixtureRules(), appscan.RuleMeta{ID: "X-1", Category: "zzz"}, appscan.RuleMeta{ID: "M-2", Category: appscan.CategoryManifest})
	got := CountByCategory(rules)
	want := []CategoryCount{{appscan.CategoryManifest, 2}, {appscan.CategoryNetwork, 1}, {appscan.CategoryCrypto, 1},
		{appscan.CategorySecrets, 1}, {appscan.CategoryResilience, 1}, {"zzz", 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CountByCategory = %v, want %v", got, want)
	}
}

// FuzzWriters feeds app-controlled strings (title, message, evidence,
// class, element, package) through every writer: SARIF and JSON must stay
// valid JSON, HTML must keep markup inert, Markdown tables their shape.
func FuzzWriters(f *testing.F) {
	f.Add("Debuggable", "msg", `android:debuggable="true"`, "com.a.B", "application", "com.a")
	f.Add("<script>x</script>", "| a | b |", "`x` \x1b[2J \u2028", "a|b", "activity[<i>]", "p\n# h")
	f.Add("\xff\xfe", "\x00", "]]>", "../../x", "*", "")
	f.Add("t", "m", "e", "C", "a b/%zz/\\x?#", "p")
	sch := loadSARIFSchema(f)
	f.Fuzz(func(t *testing.T, title, msg, evidence, class, element, pkg string) {
		d := fixtureDoc()
		r := d.Results[0]
		r.App.Package = pkg
		r.App.Label = title
		r.Findings = append(r.Findings, finding("DFS-MAN-001", appscan.High, title, msg,
			appscan.Location{File: element, Element: element, Class: class, Method: msg}, evidence))
		r.Permissions = append(r.Permissions, appscan.Permission{Name: evidence})
		for _, f := range Formats {
			var buf bytes.Buffer
			if err := Write(&buf, f, d, Options{Color: true}); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			out := buf.String()
			switch f {
			case JSON:
				if !json.Valid(buf.Bytes()) {
					t.Fatal("JSON output is not valid JSON")
				}
			case SARIF:
				inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(buf.Bytes()))
				if err != nil {
					t.Fatalf("SARIF output is not JSON: %v", err)
				}
				if err := sch.Validate(inst); err != nil {
					t.Fatalf("SARIF output does not match the schema: %v", err)
				}
			case HTML:
				if strings.Contains(out, "<script") {
					t.Fatal("HTML contains a script element")
				}
			case Markdown:
				if strings.Contains(out, "<script") {
					t.Fatal("Markdown lets a script element through")
				}
			}
		}
	})
}

func goldenFile(t *testing.T, name string, got []byte) {
	t.Helper()
	testenv.Golden(t, filepath.Join("testdata", name), got, *update)
}

// TestReadableLocation: a method's JVM descriptor gives way to (…) for
// people; Where keeps it.
func TestReadableLocation(t *testing.T) {
	cases := []struct {
		loc  appscan.Location
		want string
	}{
		{appscan.Location{File: "classes.dex", Class: "com.example.Api", Method: "connect(Ljava/lang/String;I)V"}, "classes.dex com.example.Api.connect(…)"},
		{appscan.Location{Class: "com.example.Api", Method: "run()V"}, "com.example.Api.run()"},
		{appscan.Location{Class: "com.example.Api", Method: "run()V", SourceFile: "Api.kt", Line: 12}, "com.example.Api.run() (Api.kt:12)"},
		{appscan.Location{File: "AndroidManifest.xml", Element: "application"}, "AndroidManifest.xml application"},
	}
	for _, c := range cases {
		if got := Readable(c.loc); got != c.want {
			t.Errorf("Readable(%+v) = %q, want %q", c.loc, got, c.want)
		}
	}
	if got := Where(cases[0].loc); got != "classes.dex com.example.Api.connect(Ljava/lang/String;I)V" {
		t.Errorf("Where keeps the descriptor: %q", got)
	}
	for n, want := range map[int64]string{512: "512 bytes", 3 << 10: "3.0 KB", 3460300: "3.3 MB"} {
		if got := HumanSize(n); got != want {
			t.Errorf("HumanSize(%d) = %q, want %q", n, got, want)
		}
	}
}
