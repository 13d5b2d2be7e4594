package appscan

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

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
	return &apktest.App{Package: "com.example.big", Dex: gen(0, classes/2), Dex2: gen(classes/2, classes), Files: libs}
}

// BenchmarkScan measures a whole scan (open, parse, rules) of a generated
// app of about 4 MB and, with the corpus, of the 28 MB framework-res APK and
// the largest real app of the corpus.
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
		for b.Loop() {
			res, err := s.ScanFile(ctx, path)
			if err != nil {
				b.Fatal(err)
			}
			if res.App.Package == "" {
				b.Fatal("no package")
			}
		}
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
	for _, name := range []string{"lineageos_nexus5_framework-res.apk", "com.example.android.tvleanback.apk"} {
		b.Run(name, func(b *testing.B) {
			scan(b, filepath.Join(testenv.AndroguardDir(b), "tests", name))
		})
	}
}
