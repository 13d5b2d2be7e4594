package appscan

import (
	"archive/zip"
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/apk"
	"github.com/dfslab/dfslab/internal/apk/apktest"
	"github.com/dfslab/dfslab/internal/dex/dexbuild"
	"github.com/dfslab/dfslab/internal/testenv"
)

// syntheticApp generates an app with about classes×8 methods of ordinary
// code: calls with constant arguments, strings, a few crypto and logging
// calls, spread over two DEX files, plus native libraries and assets.
func syntheticApp(classes int) *apktest.App {
	gen := func(lo, hi int) func(b *dexbuild.Builder) {
		return func(b *dexbuild.Builder) {
			for c := lo; c < hi; c++ {
				cls := b.Class(fmt.Sprintf("Lcom/example/big/p%d/Screen%d;", c%97, c))
				if c%5 == 0 {
					cls.Extends("Landroid/app/Activity;")
				}
				for m := range 8 {
					mb := cls.Method(fmt.Sprintf("step%d", m), "(Ljava/lang/String;)V")
					mb.CallVirtual("Ljava/lang/StringBuilder;->append(Ljava/lang/String;)Ljava/lang/StringBuilder;", o("Ljava/lang/StringBuilder;"), s(fmt.Sprintf("label %d/%d", c, m)))
					mb.CallStatic("Landroid/text/TextUtils;->isEmpty(Ljava/lang/CharSequence;)Z", s(fmt.Sprintf("https://api.example.com/v1/items/%d", c*8+m)))
					mb.CallVirtual(fmt.Sprintf("Lcom/example/big/p%d/Screen%d;->step%d(Ljava/lang/String;)V", (c+1)%97, c+1, (m+1)%8), o(fmt.Sprintf("Lcom/example/big/p%d/Screen%d;", (c+1)%97, c+1)), s("next"))
					switch (c*8 + m) % 50 {
					case 0:
						mb.CallStatic(cipherGet, s("AES/CBC/PKCS5Padding"))
					case 1:
						mb.CallStatic("Landroid/util/Log;->d(Ljava/lang/String;Ljava/lang/String;)I", s("Big"), s("state"))
					case 2:
						mb.CallVirtual("Lcom/example/big/Main;->sendBroadcast(Landroid/content/Intent;)V", o("Lcom/example/big/Main;"), i(0))
					}
				}
			}
		}
	}
	libs := map[string][]byte{}
	for _, abi := range []string{"arm64-v8a", "armeabi-v7a", "x86_64"} {
		libs["lib/"+abi+"/libcore.so"] = apktest.ELF{RELRO: "full", Imports: []string{"__stack_chk_fail", "strcpy"}, Rodata: []string{"core library version 1.2.3"}}.Bytes()
	}
	libs["assets/config.json"] = []byte(`{"endpoint":"https://api.example.com","timeout":30}`)
	// About 5,000 classes per file keeps each under the 65,536 method
	// references a DEX file can hold.
	a := &apktest.App{Package: "com.example.big", Files: libs}
	for lo := 0; lo < classes; lo += 5000 {
		fn := gen(lo, min(lo+5000, classes))
		switch lo {
		case 0:
			a.Dex = fn
		case 5000:
			a.Dex2 = fn
		default:
			a.Dexes = append(a.Dexes, fn)
		}
	}
	return a
}

// BenchmarkScan measures a whole scan (open, parse, rules) of a generated
// app of about 4 MB and, with the corpus, of the 28 MB framework-res APK and
// the largest real app of the corpus.
//
// What the profiles showed (see the commit history for the figures): for
// code-heavy apps, turning DEX facts into the model (argument values, class
// names) and the rule pass over strings dominated; map hashing of call
// targets and per-rule closures were removed by a watched-name prefilter
// and one emit closure per worker, and string rules by a byte-signature
// prefilter. For resource-heavy apps (framework-res) the v1 signature
// digests over every entry, inflating, and the resource table decode
// dominate, all in the readers.
func BenchmarkScan(b *testing.B) {
	ctx := context.Background()
	scan := func(b *testing.B, path string) {
		fi, err := os.Stat(path)
		if err != nil {
			b.Skip(err)
		}
		s := NewScanner(Options{})
		b.SetBytes(fi.Size())
		b.ReportAllocs()
		start := testenv.CPUTime()
		for b.Loop() {
			res, err := s.ScanFile(ctx, path)
			if err != nil {
				b.Fatal(err)
			}
			if res.App.Package == "" {
				b.Fatal("no package")
			}
		}
		// On a shared machine wall time mostly measures the neighbours;
		// CPU time per scan is the figure to compare. Peak RSS is the
		// process's high-water mark so far (benchmarks run in order).
		b.ReportMetric(float64(testenv.CPUTime()-start)/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(testenv.PeakRSS())/(1<<20), "peak-RSS-MB")
	}
	for _, name := range []string{"com.example.android.tvleanback.apk", "lineageos_nexus5_framework-res.apk"} {
		b.Run(name, func(b *testing.B) {
			scan(b, filepath.Join(testenv.AndroguardDir(b), "tests", name))
		})
	}
	// The npm real-app corpus (.ci/run): the 18 MB uiautomator2 server is
	// the memory reference (under 150 MB peak RSS).
	for _, ra := range realApps() {
		b.Run(filepath.Base(ra.path), func(b *testing.B) {
			scan(b, filepath.Join(testenv.Dir(b, "DFSLAB_REALAPPS_DIR"), filepath.FromSlash(ra.path)))
		})
	}
	b.Run("generated-4MB", func(b *testing.B) {
		data, err := syntheticApp(21000).Build()
		if err != nil {
			b.Fatal(err)
		}
		p := filepath.Join(b.TempDir(), "big.apk")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			b.Fatal(err)
		}
		b.Logf("generated app: %.1f MB", float64(len(data))/(1<<20))
		scan(b, p)
	})
}

// BenchmarkScanDEXSize shows how a scan grows with the amount of code:
// generated apps with about 1, 10, 50 and 100 MB of DEX.
func BenchmarkScanDEXSize(b *testing.B) {
	ctx := context.Background()
	// One generated class of syntheticApp is about 1.1 KB of DEX.
	for _, mb := range []int{1, 10, 50, 100} {
		b.Run(fmt.Sprintf("%dMB", mb), func(b *testing.B) {
			app := syntheticApp(mb << 20 / 1120)
			data, err := app.Build()
			if err != nil {
				b.Fatal(err)
			}
			s := NewScanner(Options{})
			b.ReportAllocs()
			start := testenv.CPUTime()
			for b.Loop() {
				a, err := apk.OpenReader(ctx, bytes.NewReader(data), int64(len(data)))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.ScanApp(ctx, a); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(testenv.CPUTime()-start)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(dexBytes(data))/(1<<20), "dex-MB")
		})
	}
}

// dexBytes sums the uncompressed size of the DEX files of an APK.
func dexBytes(apkData []byte) int64 {
	zr, err := zip.NewReader(bytes.NewReader(apkData), int64(len(apkData)))
	if err != nil {
		return 0
	}
	var n int64
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, ".dex") {
			n += int64(f.UncompressedSize64)
		}
	}
	return n
}

// TestWriteSynthetic writes the generated benchmark app to the file named
// by -synthetic, to measure a scan from outside (e.g. peak RSS of
// "dfslab scan" under /usr/bin/time).
func TestWriteSynthetic(t *testing.T) {
	if *syntheticOut == "" {
		t.Skip("set -synthetic=PATH to write the generated app")
	}
	data, err := syntheticApp(*syntheticClasses).Build()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(*syntheticOut, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

var (
	syntheticOut     = flag.String("synthetic", "", "write the generated benchmark app to this path (TestWriteSynthetic)")
	syntheticClasses = flag.Int("synthetic-classes", 21000, "classes of the app -synthetic writes (about 1.1 KB of DEX each)")
)
