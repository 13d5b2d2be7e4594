package appscan

import (
	"context"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/testenv"
)

// TestCorpus scans every APK of the Debian androguard examples: each must
// give a report or a clear error, within a per-file deadline, and never
// panic (a panic fails the test binary).
func TestCorpus(t *testing.T) {
	dir := testenv.AndroguardDir(t)
	var files []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(strings.ToLower(p), ".apk") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) < 100 {
		t.Fatalf("found %d APKs under %s, want the whole corpus", len(files), dir)
	}
	s := NewScanner(Options{Timeout: 60 * time.Second})
	var ok, failed int
	for _, f := range files {
		res, err := s.ScanFile(context.Background(), f)
		rel, _ := filepath.Rel(dir, f)
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Errorf("%s: empty error", rel)
			}
			if strings.Contains(err.Error(), "deadline") {
				t.Errorf("%s: timed out: %v", rel, err)
			}
			failed++
			t.Logf("%s: %v", rel, err)
			continue
		}
		ok++
		if res.Target.SHA256 == "" || res.Target.Format == "" {
			t.Errorf("%s: target not filled: %+v", rel, res.Target)
		}
		for _, fd := range res.Findings {
			if fd.Fingerprint == "" || fd.RuleID == "" {
				t.Errorf("%s: incomplete finding %+v", rel, fd)
			}
			// Expected absence: the corpus holds sample and test apps
			// with no embedded credentials; a secret rule firing at high
			// or above on it is a false positive (e.g. a PEM header
			// without a key body, or a field's label "Password").
			if strings.HasPrefix(fd.RuleID, "DFS-SECRET-") && fd.Severity >= High {
				t.Errorf("%s: %s %s: %s", rel, fd.RuleID, fd.Severity, fd.Message)
			}
		}
	}
	t.Logf("%d scanned, %d refused with an error", ok, failed)

	// A known app: what its manifest and certificate say must be found.
	res, err := s.ScanFile(context.Background(), filepath.Join(dir, "tests", "com.example.android.tvleanback.apk"))
	if err != nil {
		t.Fatal(err)
	}
	if res.App.Package != "com.example.android.tvleanback" || res.App.MinSDK != 21 || res.App.DexFiles != 1 || res.App.Classes < 1000 {
		t.Errorf("tvleanback: app = %+v", res.App)
	}
	for _, id := range []string{"DFS-MAN-001", "DFS-SIGN-002", "DFS-MAN-021"} {
		if !slices.ContainsFunc(res.Findings, func(f Finding) bool { return f.RuleID == id }) {
			t.Errorf("tvleanback: %s not reported", id)
		}
	}
	// Its settings screen has a string resource "pref_title_password" =
	// "Password": a label, not a secret.
	if slices.ContainsFunc(res.Findings, func(f Finding) bool { return f.RuleID == "DFS-SECRET-020" }) {
		t.Error("tvleanback: a field's label reported as a secret (DFS-SECRET-020)")
	}
	if ok < len(files)/2 {
		t.Errorf("only %d of %d files scanned", ok, len(files))
	}
}
