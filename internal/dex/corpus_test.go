package dex

import (
	"archive/zip"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/testenv"
)

// corpusDEX yields every *.dex file of the androguard corpus and every
// classes*.dex inside its *.apk files.
func corpusDEX(t testing.TB, yield func(name string, data []byte)) {
	dir := testenv.AndroguardDir(t)
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		switch {
		case strings.HasSuffix(path, ".dex"):
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			n++
			yield(rel, data)
		case strings.HasSuffix(path, ".apk"):
			zr, err := zip.OpenReader(path)
			if err != nil {
				return nil // malformed zips belong to the apk package's tests
			}
			defer zr.Close()
			for _, zf := range zr.File {
				if !isClassesDex(zf.Name) || zf.UncompressedSize64 > 256<<20 {
					continue
				}
				rc, err := zf.Open()
				if err != nil {
					continue
				}
				data, err := io.ReadAll(io.LimitReader(rc, 256<<20))
				rc.Close()
				if err != nil {
					continue
				}
				n++
				yield(rel+"!"+zf.Name, data)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 20 {
		t.Fatalf("found only %d DEX files in %s", n, dir)
	}
}

func isClassesDex(name string) bool {
	return strings.HasPrefix(name, "classes") && strings.HasSuffix(name, ".dex") && !strings.Contains(name, "/")
}

// TestCorpus parses and analyses every DEX of the corpus: each must parse
// or fail with a FormatError, never panic, and most real files must parse.
func TestCorpus(t *testing.T) {
	var ok, failed, calls int
	corpusDEX(t, func(name string, data []byte) {
		f, err := Parse(data, nil)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) || !errors.Is(err, ErrFormat) {
				t.Errorf("%s: error %v is not a *FormatError", name, err)
			}
			t.Logf("%s: %v", name, err)
			failed++
			return
		}
		ok++
		var a Analyzer
		var facts Facts
		for i := range f.Classes() {
			if err := a.AnalyzeClass(f, &f.Classes()[i], &facts); err != nil {
				t.Logf("%s: %v", name, err)
			}
		}
		for _, err := range facts.Errors {
			if !errors.Is(err, ErrFormat) {
				t.Errorf("%s: method error %v does not match ErrFormat", name, err)
			}
		}
		if len(facts.Errors) > 0 {
			t.Logf("%s: %d method errors, first %v", name, len(facts.Errors), facts.Errors[0])
		}
		calls += len(facts.Calls)
	})
	t.Logf("%d parsed, %d rejected, %d call sites", ok, failed, calls)
	if ok == 0 || calls == 0 {
		t.Fatal("nothing parsed from the corpus")
	}
}
