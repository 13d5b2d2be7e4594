package zipfs

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/testenv"
)

// TestAndroguardCorpus opens every APK and DEX-bearing archive of the corpus
// and reads every entry: each must end in a result or a clear error.
func TestAndroguardCorpus(t *testing.T) {
	dir := testenv.AndroguardDir(t)
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".apk") || strings.HasSuffix(p, ".zip") || strings.HasSuffix(p, ".jar")) {
			files = append(files, p)
		}
		return nil
	})
	if len(files) < 100 {
		t.Fatalf("only %d archives under %s", len(files), dir)
	}
	opened := 0
	for _, p := range files {
		rel, _ := filepath.Rel(dir, p)
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		a, err := Open(f, fi.Size(), Limits{})
		if err != nil {
			if !typed(err) {
				t.Errorf("%s: untyped error %v", rel, err)
			}
			f.Close()
			continue
		}
		opened++
		bad := 0
		for _, e := range a.Entries {
			rc, err := e.Open()
			if err == nil {
				_, err = io.Copy(io.Discard, rc)
				rc.Close()
			}
			if err != nil {
				if !typed(err) {
					t.Errorf("%s: %s: untyped error %v", rel, e.Name, err)
				}
				bad++
				if testing.Verbose() {
					t.Logf("%s: %s: %v", rel, e.Name, err)
				}
			}
		}
		if testing.Verbose() && (len(a.Issues) > 0 || bad > 0) {
			t.Logf("%s: %d entries, %d unreadable, issues %v", rel, len(a.Entries), bad, a.Issues)
		}
		f.Close()
	}
	// All but the two deliberately broken apksig vectors open.
	if opened < len(files)-2 {
		t.Errorf("opened %d of %d archives", opened, len(files))
	}
}

// typed reports whether err is one of the package's sentinel errors, so
// that callers can tell a hostile archive from an I/O failure.
func typed(err error) bool {
	for _, s := range []error{ErrNotZip, ErrTruncated, ErrFormat, ErrTooManyEntries, ErrEntryTooLarge,
		ErrTotalTooLarge, ErrCompressionRatio, ErrEncrypted, ErrSizeMismatch, ErrChecksum} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
