package applab_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/apk/apktest"
	"github.com/dfslab/dfslab/internal/applab"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/dex/dexbuild"
)

// bigApp generates an app of ordinary code: classes×6 methods with
// string constants, calls between classes and a few crypto and logging
// calls, in as many DEX files as the method limit needs.
func bigApp(tb testing.TB, classes int) []byte {
	tb.Helper()
	return bigAppOf(tb, "mw.pay.big", classes)
}

// bigAppOf is bigApp for package pkg.
func bigAppOf(tb testing.TB, pkg string, classes int) []byte {
	tb.Helper()
	gen := func(lo, hi int) func(b *dexbuild.Builder) {
		return func(b *dexbuild.Builder) {
			for c := lo; c < hi; c++ {
				cls := b.Class(fmt.Sprintf("Lmw/pay/ui/p%d/View%d;", c%61, c))
				for m := range 6 {
					mb := cls.Method(fmt.Sprintf("on%d", m), "(Ljava/lang/String;)V")
					mb.CallStatic("Landroid/text/TextUtils;->isEmpty(Ljava/lang/CharSequence;)Z", dexbuild.Str(fmt.Sprintf("https://api.pay.example/v2/%d/%d", c, m)))
					mb.CallVirtual(fmt.Sprintf("Lmw/pay/ui/p%d/View%d;->on%d(Ljava/lang/String;)V", (c+1)%61, c+1, (m+1)%6),
						dexbuild.NewObj(fmt.Sprintf("Lmw/pay/ui/p%d/View%d;", (c+1)%61, c+1)), dexbuild.Str(fmt.Sprintf("step %d", m)))
					switch (c*6 + m) % 40 {
					case 0:
						mb.CallStatic("Ljavax/crypto/Cipher;->getInstance(Ljava/lang/String;)Ljavax/crypto/Cipher;", dexbuild.Str("AES/GCM/NoPadding"))
					case 1:
						mb.CallStatic("Landroid/util/Log;->d(Ljava/lang/String;Ljava/lang/String;)I", dexbuild.Str("Pay"), dexbuild.Str("state"))
					}
				}
			}
		}
	}
	a := &apktest.App{Package: pkg, Permissions: []string{"android.permission.INTERNET", "android.permission.CAMERA"}}
	const perDex = 8000
	for lo := 0; lo < classes; lo += perDex {
		fn := gen(lo, min(lo+perDex, classes))
		switch lo {
		case 0:
			a.Dex = fn
		case perDex:
			a.Dex2 = fn
		default:
			a.Dexes = append(a.Dexes, fn)
		}
	}
	data, err := a.Build()
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// BenchmarkUploadToReport measures the whole path of a generated app of
// about 4 MB through the HTTP layer on SQLite: multipart upload (checks,
// blob, scan row), the background scan, and the report page.
func BenchmarkUploadToReport(b *testing.B) {
	app := bigApp(b, 36000)
	s := newServer(b, dbtest.SQLite(b), 50<<20, nil)
	ctx := context.Background()
	for b.Loop() {
		w := s.upload("p1-analyst", s.org("p1", "/apps/upload"), nil, "big.apk", app)
		id := scanID(b, w)
		if did, err := s.run.RunOnce(ctx); !did || err != nil {
			b.Fatalf("run: %v %v", did, err)
		}
		sc, err := s.store.ScanByID(ctx, id)
		if err != nil || sc.VersionID == 0 {
			b.Fatalf("scan %+v: %v", sc, err)
		}
		page := s.get("p1-viewer", s.org("p1", fmt.Sprintf("/apps/versions/%d", sc.VersionID)))
		if page.Code != http.StatusOK || !strings.Contains(page.Body.String(), "mw.pay.big") {
			b.Fatalf("report page: %d", page.Code)
		}
	}
	b.ReportMetric(float64(len(app))/(1<<20), "MB/app")
}

// BenchmarkScanSource compares the two ways a scan reads its upload: from
// the database chunk by chunk as the zip reader asks (Lab.Spool false),
// or copied to a temporary file first. Each iteration queues a scan of
// the same stored app (one blob) and runs it.
func BenchmarkScanSource(b *testing.B) {
	for _, c := range []struct {
		name string
		app  func(b *testing.B) []byte
	}{
		{"4MB-code", func(b *testing.B) []byte { return bigApp(b, 36000) }},
		{"100MB-asset", func(b *testing.B) []byte {
			data, err := os.ReadFile(writeLargeApp(b, b.TempDir(), 100<<20))
			must(b, err)
			return data
		}},
	} {
		app := c.app(b)
		for _, spool := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/spool=%v", c.name, spool), func(b *testing.B) {
				f := newFixture(b, dbtest.SQLite(b))
				f.lab.Spool = spool
				ctx := f.as("p1-analyst")
				up, err := applab.ReadApp(bytes.NewReader(app), "a.apk", 200<<20, b.TempDir())
				must(b, err)
				defer up.Close()
				for b.Loop() {
					if _, err := f.store.NewScan(ctx, f.orgs["p1"], f.orgs["p1"], f.users["p1-analyst"], up, "a.apk", nil); err != nil {
						b.Fatal(err)
					}
					if did, err := f.run.RunOnce(context.Background()); !did || err != nil {
						b.Fatalf("run: %v %v", did, err)
					}
				}
			})
		}
	}
}
