package dex

import (
	"archive/zip"
	"cmp"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/testenv"
)

// corpusDEX yields every *.dex file of the androguard corpus and every
// classes*.dex inside its *.apk files.
func corpusDEX(t testing.TB, yield func(name string, data []byte)) {
	corpusApps(t, func(name string, dexes [][]byte, names []string) {
		for i, d := range dexes {
			yield(names[i], d)
		}
	})
}

// corpusApps yields each *.dex of the corpus alone, and the classes*.dex
// files of each *.apk together in load order (classes.dex, classes2.dex, …).
func corpusApps(t testing.TB, yield func(app string, dexes [][]byte, names []string)) {
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
			yield(rel, [][]byte{data}, []string{rel})
		case strings.HasSuffix(path, ".apk"):
			zr, err := zip.OpenReader(path)
			if err != nil {
				return nil // malformed zips belong to the apk package's tests
			}
			defer zr.Close()
			files := slices.Clone(zr.File)
			slices.SortFunc(files, func(a, b *zip.File) int { return cmp.Compare(dexOrder(a.Name), dexOrder(b.Name)) })
			var dexes [][]byte
			var names []string
			for _, zf := range files {
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
				dexes = append(dexes, data)
				names = append(names, rel+"!"+zf.Name)
			}
			if len(dexes) > 0 {
				yield(rel, dexes, names)
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

// dexOrder is the position of classesN.dex in the load order.
func dexOrder(name string) int {
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(name, "classes"), ".dex"))
	if err != nil {
		return 1
	}
	return n
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
		x := analyzeFiles(f)
		errs := x.Errors()
		for _, err := range errs {
			if !errors.Is(err, ErrFormat) {
				t.Errorf("%s: method error %v does not match ErrFormat", name, err)
			}
			if errors.Is(err, ErrLimit) {
				t.Errorf("%s: a real file exhausted the work budget: %v", name, err)
			}
		}
		if len(errs) > 0 {
			t.Logf("%s: %d method errors, first %v", name, len(errs), errs[0])
		}
		calls += len(x.files[0].facts.Calls)
	})
	t.Logf("%d parsed, %d rejected, %d call sites", ok, failed, calls)
	// The corpus holds a few deliberately broken files (2 of 357 in
	// Debian's androguard 3.4); at least 95% of the files must parse.
	if total := ok + failed; total == 0 || ok*100 < total*95 {
		t.Fatalf("%d of %d DEX files parsed, want at least 95%%", ok, total)
	}
	if calls == 0 {
		t.Fatal("no call sites found in the parsed files")
	}
}
