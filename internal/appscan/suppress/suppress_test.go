package suppress

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/appscan"
)

const sample = `# accepted risks, reviewed monthly
version: 1
suppressions:
  - rule: DFS-MAN-001
    reason: debuggable only in the internal QA flavour
  - rule: DFS-NET-*
    location: com.example.wallet.debug
    reason: debug-only code, stripped by R8
    expires: 2027-06-30
  - rule: DFS-CRY-003
    location: "classes*.dex"
    app: com.example.agent
    reason: legacy
    expires: 2026-01-31
`

func TestParse(t *testing.T) {
	f, err := Parse("ignore.yaml", []byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Rules) != 3 {
		t.Fatalf("%d rules, want 3", len(f.Rules))
	}
	r := f.Rules[1]
	if r.RuleID != "DFS-NET-*" || r.Location != "com.example.wallet.debug" || r.Line != 6 ||
		!r.Expires.Equal(time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("rule 2 = %+v", r)
	}
	if f.Rules[0].Expires != (time.Time{}) {
		t.Error("a rule without expires must never expire")
	}
}

func TestParseEmpty(t *testing.T) {
	for _, in := range []string{"", "# nothing yet\n", "suppressions:\n", "version: 1\nsuppressions: []\n"} {
		f, err := Parse("x", []byte(in))
		if err != nil || len(f.Rules) != 0 {
			t.Errorf("Parse(%q) = %v, %v; want no rules and no error", in, f, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string // substrings of the error, each with its line
	}{
		{"syntax", "suppressions:\n  - rule: [unclosed\n", []string{"ignore.yaml:", "line"}},
		{"top level list", "- rule: X\n  reason: y\n", []string{"ignore.yaml:1: expected a mapping"}},
		{"unknown top key", "supressions: []\n", []string{`ignore.yaml:1: unknown key "supressions"`}},
		{"version", "version: 2\n", []string{"ignore.yaml:1: unsupported version"}},
		{"not a list", "suppressions: DFS-1\n", []string{"ignore.yaml:1: 'suppressions' must be a list"}},
		{"missing reason", "suppressions:\n  - rule: DFS-MAN-001\n", []string{`ignore.yaml:2: suppression of "DFS-MAN-001" without 'reason'`}},
		{"missing rule", "suppressions:\n  - reason: because\n", []string{"ignore.yaml:2: suppression without 'rule'"}},
		{"bad date", "suppressions:\n  - rule: A\n    reason: r\n    expires: 31/12/2026\n", []string{`ignore.yaml:4: expires: "31/12/2026" is not a date`}},
		{"unknown key", "suppressions:\n  - rule: A\n    reason: r\n    path: x\n", []string{`ignore.yaml:4: unknown key "path"`}},
		{"duplicate key", "suppressions:\n  - rule: A\n    rule: B\n    reason: r\n", []string{`ignore.yaml:3: duplicate key "rule"`}},
		{"bad glob", "suppressions:\n  - rule: 'A['\n    reason: r\n", []string{"ignore.yaml:2: rule: malformed pattern"}},
		{"not a mapping", "suppressions:\n  - DFS-1\n", []string{"ignore.yaml:2: each suppression must be a mapping"}},
		{"list value", "suppressions:\n  - rule: [A, B]\n    reason: r\n", []string{`ignore.yaml:2: "rule" must be a single value`}},
		{"all problems at once", "suppressions:\n  - rule: A\n  - reason: r\n", []string{"ignore.yaml:2:", "ignore.yaml:3:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("ignore.yaml", []byte(tt.in))
			if err == nil {
				t.Fatal("no error")
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("error %v is not a *suppress.Error", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, DefaultFile)
	if err := os.WriteFile(p, []byte(sample), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Load(p)
	if err != nil || len(f.Rules) != 3 || f.Path != p {
		t.Fatalf("Load = %+v, %v", f, err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want os.ErrNotExist", err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, maxFileSize+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("Load(oversized) = %v", err)
	}
}

func TestExpired(t *testing.T) {
	r := Rule{Expires: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)}
	for _, tt := range []struct {
		now  time.Time
		want bool
	}{
		{time.Date(2026, 12, 30, 12, 0, 0, 0, time.UTC), false},
		{time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), false}, // the expiry day itself still counts
		{time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), true},
	} {
		if got := r.Expired(tt.now); got != tt.want {
			t.Errorf("Expired(%v) = %v, want %v", tt.now, got, tt.want)
		}
	}
	if (Rule{}).Expired(time.Now()) {
		t.Error("a rule without a date expired")
	}
}

func TestMatches(t *testing.T) {
	f := appscan.Finding{RuleID: "DFS-NET-002", Location: appscan.Location{File: "classes2.dex", Class: "com.example.wallet.debug.DevTrust", Method: "check()V"}}
	m := appscan.Finding{RuleID: "DFS-MAN-004", Location: appscan.Location{File: "AndroidManifest.xml", Element: "activity[com.example.Main]"}}
	tests := []struct {
		name string
		r    Rule
		f    appscan.Finding
		pkg  string
		want bool
	}{
		{"rule only", Rule{RuleID: "DFS-NET-002"}, f, "p", true},
		{"other rule", Rule{RuleID: "DFS-NET-003"}, f, "p", false},
		{"rule glob", Rule{RuleID: "DFS-NET-*"}, f, "p", true},
		{"class prefix", Rule{RuleID: "DFS-NET-002", Location: "com.example.wallet.debug"}, f, "p", true},
		{"class prefix miss", Rule{RuleID: "DFS-NET-002", Location: "com.example.wallet.net"}, f, "p", false},
		{"class glob", Rule{RuleID: "DFS-NET-002", Location: "com.example.*.DevTrust"}, f, "p", true},
		{"method", Rule{RuleID: "DFS-NET-002", Location: "com.example.wallet.debug.DevTrust.check()V"}, f, "p", true},
		{"file glob", Rule{RuleID: "DFS-NET-002", Location: "classes*.dex"}, f, "p", true},
		{"element", Rule{RuleID: "DFS-MAN-004", Location: "activity[com.example.Main]"}, m, "p", true},
		{"element glob", Rule{RuleID: "DFS-MAN-004", Location: "activity*"}, m, "p", true},
		{"element miss", Rule{RuleID: "DFS-MAN-004", Location: "service"}, m, "p", false},
		{"app", Rule{RuleID: "DFS-MAN-004", App: "com.example.*"}, m, "com.example.wallet", true},
		{"other app", Rule{RuleID: "DFS-MAN-004", App: "com.example.agent"}, m, "com.example.wallet", false},
		{"location on app-wide finding", Rule{RuleID: "X", Location: "a"}, appscan.Finding{RuleID: "X"}, "p", false},
	}
	for _, tt := range tests {
		if got := tt.r.Matches(tt.pkg, tt.f); got != tt.want {
			t.Errorf("%s: Matches = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestApply(t *testing.T) {
	f, err := Parse("ignore.yaml", []byte(sample+"  - rule: NEVER-MATCHES\n    reason: stale\n"))
	if err != nil {
		t.Fatal(err)
	}
	wallet := &appscan.Result{App: appscan.AppInfo{Package: "com.example.wallet"}, Target: appscan.Target{Path: "w.apk"}, Findings: []appscan.Finding{
		{RuleID: "DFS-MAN-001", Location: appscan.Location{File: "AndroidManifest.xml", Element: "application"}},
		{RuleID: "DFS-NET-002", Location: appscan.Location{Class: "com.example.wallet.debug.DevTrust"}},
		{RuleID: "DFS-NET-002", Location: appscan.Location{Class: "com.example.wallet.net.Api"}},
	}}
	agent := &appscan.Result{App: appscan.AppInfo{Package: "com.example.agent"}, Target: appscan.Target{Path: "a.apk"}, Findings: []appscan.Finding{
		{RuleID: "DFS-CRY-003", Location: appscan.Location{File: "classes.dex", Class: "a.B"}},
	}}
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	out := f.Apply([]*appscan.Result{wallet, agent, nil}, now)

	if len(wallet.Findings) != 1 || wallet.Findings[0].Location.Class != "com.example.wallet.net.Api" {
		t.Errorf("wallet keeps %+v, want only the non-debug trust manager", wallet.Findings)
	}
	// The DFS-CRY-003 suppression expired on 2026-01-31: the finding stays and the suppression is reported.
	if len(agent.Findings) != 1 {
		t.Errorf("agent findings %+v: an expired suppression must not suppress", agent.Findings)
	}
	if len(out.Expired) != 1 || out.Expired[0].RuleID != "DFS-CRY-003" || out.Expired[0].Line != 10 {
		t.Errorf("expired = %+v", out.Expired)
	}
	if len(out.Suppressed) != 2 || out.Suppressed[0].Rule.Reason == "" || out.Suppressed[1].Target != "w.apk" || out.Suppressed[1].Package != "com.example.wallet" {
		t.Errorf("suppressed = %+v", out.Suppressed)
	}
	if len(out.Unused) != 1 || out.Unused[0].RuleID != "NEVER-MATCHES" {
		t.Errorf("unused = %+v", out.Unused)
	}
	var nilFile *File
	if o := nilFile.Apply([]*appscan.Result{agent}, now); len(o.Suppressed)+len(o.Expired) != 0 || len(agent.Findings) != 1 {
		t.Error("a nil file must change nothing")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("suppressions:\n  - rule: A\n    reason: r\n    expires: 2026-01-01\n"))
	f.Add([]byte("- a\n- b\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("suppressions:\n  - {rule: '[', reason: 1}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz.yaml", data)
		if err != nil {
			if file != nil {
				t.Fatal("file and error both returned")
			}
			return
		}
		for _, r := range file.Rules {
			if r.RuleID == "" || r.Reason == "" {
				t.Fatalf("accepted an incomplete rule %+v", r)
			}
		}
	})
}
