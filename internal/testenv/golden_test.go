package testenv_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dfslab/dfslab/internal/testenv"
)

// recorder is a testing.TB that notes failures instead of stopping.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }
func (r *recorder) Helper()               {}

func TestGolden(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "doc.golden")
	// -update writes the file (and its folder) …
	testenv.Golden(t, path, []byte("one\n"), true)
	if b, err := os.ReadFile(path); err != nil || string(b) != "one\n" {
		t.Fatalf("after update: %q %v", b, err)
	}
	// … the same bytes pass, others fail, a missing file fails.
	for _, c := range []struct {
		name string
		path string
		got  string
		fail bool
	}{
		{"same", path, "one\n", false},
		{"different", path, "two\n", true},
		{"missing", filepath.Join(t.TempDir(), "none.golden"), "one\n", true},
	} {
		r := &recorder{TB: t}
		testenv.Golden(r, c.path, []byte(c.got), false)
		if r.failed != c.fail {
			t.Errorf("%s: failed %v, want %v", c.name, r.failed, c.fail)
		}
	}
}
