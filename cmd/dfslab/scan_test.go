package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/dfslab/dfslab/internal/appscan"
	"github.com/dfslab/dfslab/internal/appscan/report"
	"github.com/dfslab/dfslab/internal/testenv"
)

// fakeScanner stands in for the engine: each test "app" is a JSON-encoded
// appscan.Result, so a test states exactly which findings a file yields.
// A file that is not such JSON is unreadable, like a corrupt APK.
type fakeScanner struct{ cfg scanConfig }

func (fakeScanner) ScanFile(_ context.Context, path string) (*appscan.Result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(data, []byte("panic")) {
		panic("hostile input")
	}
	var r appscan.Result
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("not a valid app: %w", errors.New("zip: not a valid zip file"))
	}
	r.Target.Path = path
	for i := range r.Findings {
		r.Findings[i].ComputeFingerprint()
	}
	return &r, nil
}

var testRules = []appscan.RuleMeta{
	{ID: "DFS-MAN-001", Title: "Debuggable build", Category: appscan.CategoryManifest, Severity: appscan.High, Confidence: appscan.ConfidenceHigh,
		Description: "Debuggable.", Remediation: "Turn it off.", Mappings: appscan.Mappings{MASVS: []string{"MASVS-RESILIENCE-4"}, CWE: []int{489}}},
	{ID: "DFS-NET-002", Title: "Trust-all TrustManager", Category: appscan.CategoryNetwork, Severity: appscan.Critical, Confidence: appscan.ConfidenceMedium},
	{ID: "DFS-CRY-003", Title: "ECB mode", Category: appscan.CategoryCrypto, Severity: appscan.Medium, Confidence: appscan.ConfidenceHigh},
}

func testDeps() scanDeps {
	return scanDeps{
		newScanner: func(c scanConfig) fileScanner { return fakeScanner{c} },
		rules:      func() []appscan.RuleMeta { return testRules },
		now:        func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) },
		getenv:     func(string) string { return "" },
		isTerminal: func(io.Writer) bool { return false },
		version:    "test",
	}
}

var (
	debuggable = appscan.Finding{RuleID: "DFS-MAN-001", Title: "Debuggable build", Severity: appscan.High, Location: appscan.Location{File: "AndroidManifest.xml", Element: "application"}}
	trustAll   = appscan.Finding{RuleID: "DFS-NET-002", Title: "Trust-all TrustManager", Severity: appscan.Critical, Location: appscan.Location{File: "classes.dex", Class: "com.example.debug.Trust"}}
	ecb        = appscan.Finding{RuleID: "DFS-CRY-003", Title: "ECB mode", Severity: appscan.Medium, Location: appscan.Location{File: "classes2.dex", Class: "com.example.Vault", Method: "seal()V"}}
)

func writeApp(t *testing.T, path, pkg string, findings ...appscan.Finding) string {
	t.Helper()
	if findings == nil {
		findings = []appscan.Finding{}
	}
	data, err := json.Marshal(appscan.Result{App: appscan.AppInfo{Package: pkg}, Findings: findings, Score: 50})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, string(data))
	return path
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func runCmd(t *testing.T, deps scanDeps, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := scanMain(context.Background(), args, &out, &errb, deps)
	return code, out.String(), errb.String()
}

func decodeReport(t *testing.T, s string) report.Document {
	t.Helper()
	var d report.Document
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, s)
	}
	return d
}

func TestScanExitCodes(t *testing.T) {
	t.Chdir(t.TempDir()) // no stray .dfslab-ignore.yaml
	dir := t.TempDir()
	clean := writeApp(t, filepath.Join(dir, "clean.apk"), "com.clean")
	high := writeApp(t, filepath.Join(dir, "high.apk"), "com.high", debuggable, ecb)
	corrupt := filepath.Join(dir, "corrupt.apk")
	writeFile(t, corrupt, "PK\x03\x04 truncated")
	panics := filepath.Join(dir, "panic.apk")
	writeFile(t, panics, "panic")
	libTrust := trustAll
	libTrust.InLibrary, libTrust.Library = true, "Netty"
	library := writeApp(t, filepath.Join(dir, "library.apk"), "com.library", libTrust, ecb)

	tests := []struct {
		name    string
		args    []string
		code    int
		stderr  string
		results int // -1: do not check
	}{
		{"no paths", nil, 2, "no PATH", -1},
		{"unknown flag", []string{"--frobnicate", clean}, 2, "frobnicate", -1},
		{"bad format", []string{"--format", "xml", clean}, 2, "unknown format", -1},
		{"bad fail-on", []string{"--fail-on", "severe", clean}, 2, "--fail-on", -1},
		{"bad -j", []string{"-j", "0", clean}, 2, "-j 0", -1},
		{"help", []string{"-h"}, 0, "usage: dfslab scan", -1},
		{"clean", []string{"--fail-on", "low", "--format", "json", clean}, 0, "", 1},
		{"default fail-on is none", []string{"--format", "json", high}, 0, "", 1},
		{"high at high", []string{"--fail-on", "high", "--format", "json", high}, 1, "1 finding(s) at or above high", 1},
		{"high at medium counts both", []string{"--fail-on", "medium", "--format", "json", high}, 1, "2 finding(s) at or above medium", 1},
		{"high below critical", []string{"--fail-on", "critical", "--format", "json", high}, 0, "", 1},
		{"library findings do not fail the build", []string{"--fail-on", "high", "--format", "json", library}, 0, "", 1},
		{"--include-libraries counts them", []string{"--fail-on", "high", "--include-libraries", "--format", "json", library}, 1, "1 finding(s) at or above high", 1},
		{"flags after paths", []string{high, "--format", "json", "--fail-on", "high"}, 1, "", 1},
		{"paths after --", []string{"--format", "json", "--", high}, 0, "", 1},
		{"missing file", []string{"--format", "json", filepath.Join(dir, "nope.apk")}, 2, "nope.apk", 0},
		{"unreadable file still reports the others", []string{"--format", "json", "--fail-on", "high", clean, corrupt}, 2, "not a valid zip file", 1},
		{"unreadable wins over findings", []string{"--format", "json", "--fail-on", "high", high, corrupt}, 2, "corrupt.apk", 1},
		{"engine panic is an error for that file", []string{"--format", "json", panics, clean}, 2, "internal error", 1},
		{"empty folder", []string{t.TempDir()}, 2, "no .apk", -1},
		{"missing baseline", []string{"--baseline", filepath.Join(dir, "nope.json"), clean}, 2, "baseline", -1},
		{"missing ignore file", []string{"--ignore", filepath.Join(dir, "nope.yaml"), clean}, 2, "suppressions", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, testDeps(), tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr %q lacks %q", stderr, tt.stderr)
			}
			if tt.results >= 0 {
				d := decodeReport(t, stdout)
				if len(d.Results) != tt.results {
					t.Errorf("%d results, want %d", len(d.Results), tt.results)
				}
				if tt.code == 2 && len(d.Errors) == 0 {
					t.Error("exit 2 for an input but the report lists no error")
				}
			}
		})
	}
}

func TestScanFolderRecursive(t *testing.T) {
	dir := t.TempDir()
	writeApp(t, filepath.Join(dir, "a", "one.apk"), "com.one")
	writeApp(t, filepath.Join(dir, "a", "b", "two.AAB"), "com.two")
	writeApp(t, filepath.Join(dir, "three.xapk"), "com.three")
	writeApp(t, filepath.Join(dir, "four.apks"), "com.four")
	writeFile(t, filepath.Join(dir, "notes.txt"), "not an app")
	writeFile(t, filepath.Join(dir, "a", "lib.so"), "not an app")
	explicit := writeApp(t, filepath.Join(t.TempDir(), "renamed.bin"), "com.explicit")

	code, stdout, stderr := runCmd(t, testDeps(), "--format", "json", "--ignore", "", dir, explicit, dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var pkgs []string
	for _, r := range decodeReport(t, stdout).Results {
		pkgs = append(pkgs, r.App.Package)
	}
	// Walk order (lexical), each file once although dir is given twice, and
	// a file named explicitly is scanned whatever its extension.
	want := "com.two com.one com.four com.three com.explicit"
	if got := strings.Join(pkgs, " "); got != want {
		t.Errorf("scanned %q, want %q", got, want)
	}
}

func TestScanParallelIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	for i := range 12 {
		writeApp(t, filepath.Join(dir, fmt.Sprintf("app%02d.apk", i)), fmt.Sprintf("com.app%02d", i), debuggable, ecb)
	}
	_, one, _ := runCmd(t, testDeps(), "-j", "1", "--format", "sarif", "--ignore", "", dir)
	_, four, _ := runCmd(t, testDeps(), "-j", "4", "--format", "sarif", "--ignore", "", dir)
	if one != four || !strings.Contains(one, "com.app11") {
		t.Error("the report depends on -j")
	}
}

func TestScanFormats(t *testing.T) {
	app := writeApp(t, filepath.Join(t.TempDir(), "w.apk"), "com.wallet", debuggable)
	tests := []struct {
		format string
		check  func(string) bool
	}{
		{"text", func(s string) bool { return strings.Contains(s, "Debuggable build") && !strings.Contains(s, "\x1b[") }},
		{"json", func(s string) bool {
			return json.Valid([]byte(s)) && strings.Contains(s, `"schema_version": "`+appscan.SchemaVersion+`"`)
		}},
		{"sarif", func(s string) bool {
			return json.Valid([]byte(s)) && strings.Contains(s, `"version": "2.1.0"`) && strings.Contains(s, `"security-severity": "8.0"`)
		}},
		{"html", func(s string) bool {
			return strings.HasPrefix(s, "<!DOCTYPE html>") && strings.Contains(s, "Turn it off.")
		}},
		{"markdown", func(s string) bool { return strings.HasPrefix(s, "## dfslab scan: 1 finding(s)") }},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, testDeps(), "--ignore", "", "--format", tt.format, app)
			if code != 0 || !tt.check(stdout) {
				t.Errorf("exit %d, stderr %q, output:\n%s", code, stderr, stdout)
			}
		})
	}
}

func TestScanColour(t *testing.T) {
	app := writeApp(t, filepath.Join(t.TempDir(), "w.apk"), "com.wallet", debuggable)
	deps := testDeps()
	deps.isTerminal = func(io.Writer) bool { return true }
	if _, out, _ := runCmd(t, deps, "--ignore", "", app); !strings.Contains(out, "\x1b[") {
		t.Error("no colour on a terminal")
	}
	deps.getenv = func(k string) string {
		if k == "NO_COLOR" {
			return "1"
		}
		return ""
	}
	if _, out, _ := runCmd(t, deps, "--ignore", "", app); strings.Contains(out, "\x1b[") {
		t.Error("colour despite NO_COLOR")
	}
}

func TestScanOutputFile(t *testing.T) {
	app := writeApp(t, filepath.Join(t.TempDir(), "w.apk"), "com.wallet", debuggable)
	outDir := t.TempDir()
	out := filepath.Join(outDir, "report.json")
	writeFile(t, out, "old content")
	deps := testDeps()
	deps.isTerminal = func(io.Writer) bool { return true } // a file never gets colour
	code, stdout, stderr := runCmd(t, deps, "--ignore", "", "--format", "json", "--output", out, "--fail-on", "high", app)
	if code != 1 || stdout != "" || !strings.Contains(stderr, "at or above high") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if d := decodeReport(t, string(data)); len(d.Results) != 1 || len(d.Results[0].Findings) != 1 {
		t.Errorf("report file: %+v", d)
	}
	entries, _ := os.ReadDir(outDir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	// A report that cannot be written is an error, not a silent success.
	if code, _, _ := runCmd(t, testDeps(), "--ignore", "", "--output", filepath.Join(outDir, "missing-dir", "r.json"), app); code != 2 {
		t.Errorf("unwritable output: exit %d, want 2", code)
	}
}

func TestScanBaseline(t *testing.T) {
	dir := t.TempDir()
	v1 := writeApp(t, filepath.Join(dir, "v1", "wallet.apk"), "com.wallet", debuggable, ecb)
	old := filepath.Join(dir, "baseline.json")
	if code, _, stderr := runCmd(t, testDeps(), "--ignore", "", "--format", "json", "-o", old, v1); code != 0 {
		t.Fatalf("baseline scan: exit %d %s", code, stderr)
	}
	// v2 fixes ECB, keeps the debuggable flag and adds a trust-all manager.
	v2 := writeApp(t, filepath.Join(dir, "v2", "wallet.apk"), "com.wallet", debuggable, trustAll)

	code, stdout, _ := runCmd(t, testDeps(), "--ignore", "", "--format", "json", "--baseline", old, "--fail-on", "critical", v2)
	d := decodeReport(t, stdout)
	if code != 1 {
		t.Errorf("exit %d, want 1 for the new critical finding", code)
	}
	if fs := d.Results[0].Findings; len(fs) != 1 || fs[0].RuleID != "DFS-NET-002" {
		t.Errorf("findings %+v, want only the new trust-all manager", fs)
	}
	b := d.Baseline
	if b == nil || b.New != 1 || b.Unchanged != 1 || len(b.Fixed) != 1 || b.Fixed[0].Finding.RuleID != "DFS-CRY-003" {
		t.Errorf("baseline summary %+v", b)
	}
	// The known debuggable finding no longer fails a --fail-on high build.
	v3 := writeApp(t, filepath.Join(dir, "v3", "wallet.apk"), "com.wallet", debuggable)
	if code, _, _ := runCmd(t, testDeps(), "--ignore", "", "--baseline", old, "--fail-on", "high", v3); code != 0 {
		t.Errorf("unchanged findings failed the build: exit %d", code)
	}
	// With suppressions: a known finding that is also suppressed is not
	// "fixed", and only new findings can be suppressed.
	ignore := filepath.Join(dir, "ignore.yaml")
	writeFile(t, ignore, "suppressions:\n  - rule: DFS-MAN-001\n    reason: QA\n  - rule: DFS-NET-002\n    reason: debug code\n")
	code, stdout, _ = runCmd(t, testDeps(), "--ignore", ignore, "--format", "json", "--baseline", old, "--fail-on", "critical", v2)
	d = decodeReport(t, stdout)
	if b := d.Baseline; code != 0 || b.New != 0 || b.Unchanged != 1 || len(b.Fixed) != 1 || b.Fixed[0].Finding.RuleID != "DFS-CRY-003" ||
		len(d.Suppressed) != 1 || d.Suppressed[0].Finding.RuleID != "DFS-NET-002" {
		t.Errorf("baseline with suppressions: exit %d, baseline %+v, suppressed %+v", code, b, d.Suppressed)
	}

	notReport := filepath.Join(dir, "not-a-report.json")
	writeFile(t, notReport, `{"hello": 1}`)
	if code, _, stderr := runCmd(t, testDeps(), "--ignore", "", "--baseline", notReport, v3); code != 2 || !strings.Contains(stderr, "schema_version") {
		t.Errorf("a JSON file that is no report: exit %d, %q", code, stderr)
	}
}

func TestScanSuppressions(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	app := writeApp(t, filepath.Join(dir, "w.apk"), "com.wallet", debuggable, trustAll, ecb)
	tests := []struct {
		name       string
		file       string
		args       []string
		code       int
		findings   int
		suppressed int
		expired    int
		stderr     string
	}{
		{"default file in the current directory", `suppressions:
  - rule: DFS-NET-002
    location: com.example.debug
    reason: debug flavour only
    expires: 2027-01-31
  - rule: DFS-MAN-001
    reason: QA build
  - rule: DFS-MAN-0001
    reason: typo in the rule ID
`, []string{"--fail-on", "high"}, 0, 1, 2, 0, ".dfslab-ignore.yaml:8: note: suppression of DFS-MAN-0001 matched no finding"},
		{"expired suppression no longer suppresses", `suppressions:
  - rule: DFS-NET-002
    reason: was accepted until the pinning release
    expires: 2026-11-25
`, []string{"--fail-on", "critical"}, 1, 3, 0, 1, "expired on 2026-11-25"},
		{"expiry day itself still suppresses", `suppressions:
  - rule: DFS-NET-002
    reason: until today
    expires: 2026-11-26
`, []string{"--fail-on", "critical"}, 0, 2, 1, 0, ""},
		{"malformed file", `suppressions:
  - rule: DFS-NET-002
    expires: soon
`, nil, 2, -1, 0, 0, ".dfslab-ignore.yaml:3: expires"},
		{"--ignore with an empty name disables the default", "suppressions: nonsense\n", []string{"--ignore", ""}, 0, 3, 0, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			writeFile(t, filepath.Join(dir, ".dfslab-ignore.yaml"), tt.file)
			args := append([]string{"--format", "json", app}, tt.args...)
			code, stdout, stderr := runCmd(t, testDeps(), args...)
			if code != tt.code || !strings.Contains(stderr, tt.stderr) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", code, tt.code, stderr, tt.stderr)
			}
			if tt.findings < 0 {
				if stdout != "" {
					t.Error("a malformed suppressions file must stop before scanning")
				}
				return
			}
			d := decodeReport(t, stdout)
			if got := len(d.Results[0].Findings); got != tt.findings {
				t.Errorf("%d findings, want %d", got, tt.findings)
			}
			if len(d.Suppressed) != tt.suppressed || len(d.ExpiredSuppressions) != tt.expired {
				t.Errorf("suppressed %d expired %d, want %d and %d", len(d.Suppressed), len(d.ExpiredSuppressions), tt.suppressed, tt.expired)
			}
			for _, s := range d.Suppressed {
				if s.Rule.Reason == "" {
					t.Error("suppressed finding listed without its reason")
				}
			}
		})
	}
}

func TestScanRuleSelection(t *testing.T) {
	app := writeApp(t, filepath.Join(t.TempDir(), "w.apk"), "com.wallet", debuggable, trustAll, ecb)
	var gotCfg scanConfig
	deps := testDeps()
	deps.newScanner = func(c scanConfig) fileScanner { gotCfg = c; return fakeScanner{c} }
	tests := []struct {
		args  []string
		rules string
	}{
		{[]string{"--rules", "DFS-NET-,DFS-CRY-003"}, "DFS-NET-002 DFS-CRY-003"},
		{[]string{"--exclude-rules", "DFS-MAN-*"}, "DFS-NET-002 DFS-CRY-003"},
		{[]string{"--rules", "DFS-*-00[12]", "--exclude-rules", "DFS-NET-002"}, "DFS-MAN-001"},
	}
	for _, tt := range tests {
		code, stdout, stderr := runCmd(t, deps, append([]string{"--ignore", "", "--format", "json", app}, tt.args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d %s", tt.args, code, stderr)
		}
		var ids []string
		for _, f := range decodeReport(t, stdout).Results[0].Findings {
			ids = append(ids, f.RuleID)
		}
		if got := strings.Join(ids, " "); got != tt.rules {
			t.Errorf("%v: findings %q, want %q", tt.args, got, tt.rules)
		}
	}
	// Prefixes reach the engine so it skips work; globs are filtered here.
	runCmd(t, deps, "--ignore", "", "--rules", "DFS-NET-", "--exclude-rules", "DFS-NET-9,X*", app)
	if strings.Join(gotCfg.Rules, ",") != "DFS-NET-" || strings.Join(gotCfg.Exclude, ",") != "DFS-NET-9" {
		t.Errorf("engine config %+v", gotCfg)
	}
}

func TestScanListRules(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--list-rules"}, 0, "DFS-CRY-003  medium"},
		{[]string{"--list-rules", "--format", "json"}, 0, `"id": "DFS-MAN-001"`},
		{[]string{"--list-rules", "--format", "markdown"}, 0, "| **total** | **3** |"},
		{[]string{"--list-rules", "--format", "sarif"}, 0, `"rules": [`},
		{[]string{"--list-rules", "--format", "markdown", "--rules", "DFS-NET-"}, 0, "| **total** | **1** |"},
		{[]string{"--list-rules", "--format", "html"}, 0, `id="dfs-net-002"`},
		{[]string{"--list-rules", "--format", "xml"}, 2, ""},
	}
	for _, tt := range tests {
		code, stdout, stderr := runCmd(t, testDeps(), tt.args...)
		if code != tt.code || !strings.Contains(stdout, tt.want) {
			t.Errorf("%v: exit %d (want %d), stderr %q, output lacks %q:\n%s", tt.args, code, tt.code, stderr, tt.want, stdout)
		}
	}
}

// TestRulesDocUpToDate fails when docs/rules.md no longer matches the rule
// metadata of the engine. Regenerate it with:
//
//	go run ./cmd/dfslab scan --list-rules --format markdown > docs/rules.md
func TestRulesDocUpToDate(t *testing.T) {
	committed, err := os.ReadFile(filepath.Join("..", "..", "docs", "rules.md"))
	if err != nil {
		t.Fatal(err)
	}
	code, fresh, stderr := runCmd(t, defaultScanDeps(), "--list-rules", "--format", "markdown")
	if code != 0 {
		t.Fatalf("--list-rules: exit %d %s", code, stderr)
	}
	if string(committed) != fresh {
		t.Error("docs/rules.md is stale; regenerate it with: go run ./cmd/dfslab scan --list-rules --format markdown > docs/rules.md")
	}
}

// TestScanAndroguardCorpus runs the real engine over Debian's androguard
// examples: every app file must end in the report, as a result or as an
// error, and the SARIF rendering of real results must match the schema.
func TestScanAndroguardCorpus(t *testing.T) {
	dir := testenv.AndroguardDir(t)
	if testing.Short() {
		t.Skip("scans about 330 files")
	}
	sch := compileSARIFSchema(t) // before Chdir: it looks for go.mod upwards
	t.Chdir(t.TempDir())         // no stray .dfslab-ignore.yaml
	out := filepath.Join(t.TempDir(), "corpus.json")
	code, _, stderr := runCmd(t, defaultScanDeps(), "-j", "2", "--format", "json", "-o", out, dir)
	if code != 0 && code != 2 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	d := decodeReport(t, string(data))
	files, _ := expandPaths([]string{dir})
	if got := len(d.Results) + len(d.Errors); got != len(files) || len(d.Results) == 0 {
		t.Errorf("%d results + %d errors for %d files", len(d.Results), len(d.Errors), len(files))
	}
	if (code == 2) != (len(d.Errors) > 0) {
		t.Errorf("exit %d with %d errors", code, len(d.Errors))
	}
	for _, e := range d.Errors {
		if e.Error == "" || strings.Contains(e.Error, "internal error") {
			t.Errorf("%s: unclear error or engine panic: %q", e.Path, e.Error)
		}
	}
	var sarif bytes.Buffer
	d.Rules = appscan.Rules()
	if err := report.WriteSARIF(&sarif, &d); err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(&sarif)
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("SARIF of the corpus does not match the schema: %v", err)
	}
}

// compileSARIFSchema loads ../shared/schemas/sarif-schema-2.1.0.json beside
// the repository.
func compileSARIFSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	p := testenv.SharedFile(t, "schemas/sarif-schema-2.1.0.json")
	c := jsonschema.NewCompiler()
	sch, err := c.Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func TestScanProgressBar(t *testing.T) {
	dir := t.TempDir()
	for i := range 3 {
		writeApp(t, filepath.Join(dir, fmt.Sprintf("app%d.apk", i)), fmt.Sprintf("com.app%d", i))
	}
	deps := testDeps()
	deps.isTerminal = func(io.Writer) bool { return true }
	for _, tt := range []struct {
		args []string
		bar  bool
	}{
		{[]string{dir}, true},
		{[]string{"--no-progress", dir}, false},
		{[]string{filepath.Join(dir, "app0.apk")}, false}, // one file: nothing to show
	} {
		code, stdout, stderr := runCmd(t, deps, append([]string{"--ignore", "", "--format", "json"}, tt.args...)...)
		if code != 0 || !json.Valid([]byte(stdout)) {
			t.Fatalf("%v: exit %d, stdout not a clean JSON report", tt.args, code)
		}
		if got := strings.Contains(stderr, "scanning"); got != tt.bar {
			t.Errorf("%v: progress bar shown = %v, want %v", tt.args, got, tt.bar)
		}
	}
}

// TestScanSourceRoot: --source-root and --manifest anchor SARIF results in
// the repository, relative to it and without the machine's paths.
func TestScanSourceRoot(t *testing.T) {
	repo := t.TempDir()
	t.Chdir(repo)
	writeFile(t, filepath.Join(repo, "app/src/main/AndroidManifest.xml"), "<manifest>\n<application\n android:debuggable=\"true\"/>\n</manifest>\n")
	writeFile(t, filepath.Join(repo, "app/src/main/java/com/example/Vault.kt"), "package com.example\n")
	vault := ecb
	vault.Location = appscan.Location{File: "classes.dex", Class: "com.example.Vault", Method: "seal()V", SourceFile: "Vault.kt", Line: 12}
	apk := writeApp(t, filepath.Join(repo, "app/build/app.apk"), "com.example", debuggable, vault)

	code, out, stderr := runCmd(t, testDeps(), "--format", "sarif", "--source-root", repo, "--manifest", "app/src/main/AndroidManifest.xml", apk)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{`"uri": "app/src/main/java/com/example/Vault.kt"`, `"uri": "app/src/main/AndroidManifest.xml"`, `"uriBaseId": "%SRCROOT%"`, `"startLine": 12`, `"startLine": 2`, `"uri": "app/build/app.apk"`} {
		if !strings.Contains(out, want) {
			t.Errorf("SARIF lacks %s", want)
		}
	}
	if strings.Contains(out, repo) {
		t.Errorf("SARIF holds the absolute path %s", repo)
	}
	for _, tt := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"--format", "sarif", "--manifest", filepath.Join(t.TempDir(), "AndroidManifest.xml"), apk}, "not inside the source root"},
		{[]string{"--format", "json", "--source-root", repo, apk}, "--format sarif only"},
		{[]string{"--format", "sarif", "--source-root", filepath.Join(repo, "nope"), apk}, "not a directory"},
	} {
		if code, _, stderr := runCmd(t, testDeps(), tt.args...); code != exitUsage || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.stderr)
		}
	}
}
