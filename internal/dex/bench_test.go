package dex

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/dex/dexbuild"
	"github.com/dfslab/dfslab/internal/testenv"
)

// synthClasses builds a DEX of n generated classes. Every class has the
// same shape, so the file size and the work are proportional to n: eight
// methods, each with four strings of its own and a body of typical
// instructions (constants, calls through a subclass, object creation,
// field writes, a static array) repeated to about 2 KB of code.
func synthClasses(n int) []byte {
	b := dexbuild.New()
	for i := range n {
		cls := fmt.Sprintf("Lgen/p%d/C%d;", i%97, i)
		c := b.Class(cls).Extends("Landroid/app/Activity;").Field("key", "[B", 0)
		for j := range 8 {
			m := c.Method(fmt.Sprintf("m%d", j), "()V")
			m.IPut(0, 0, cls+"->key:[B") // v0 is reserved below v16 for field access
			m.CallDirect("Ljavax/crypto/spec/IvParameterSpec;-><init>([B)V",
				dexbuild.NewObj("Ljavax/crypto/spec/IvParameterSpec;"), dexbuild.Bytes([]byte{1, 2, 3, 4, 5, 6, 7, 8}))
			m.CallStatic("Ljavax/crypto/Cipher;->getInstance(Ljava/lang/String;)Ljavax/crypto/Cipher;", dexbuild.Str("AES/CBC/PKCS5Padding"))
			m.CallVirtual(cls+"->sendBroadcast(Landroid/content/Intent;)V", dexbuild.Reg(0), dexbuild.NewObj("Landroid/content/Intent;"))
			m.CallVirtual("Landroid/view/Window;->setFlags(II)V", dexbuild.Reg(0), dexbuild.Int(0x2000), dexbuild.Int(0x2000))
			for k := range 4 {
				m.CallStatic("Landroid/util/Log;->d(Ljava/lang/String;Ljava/lang/String;)I",
					dexbuild.Str("tag"), dexbuild.Str(fmt.Sprintf("gen-%d-%d-%d", i, j, k)))
			}
			m.Repeat(20)
		}
	}
	return b.MustBytes()
}

// synthDEX returns a generated DEX of about size bytes.
func synthDEX(tb testing.TB, size int) []byte {
	tb.Helper()
	const probe = 50
	per := len(synthClasses(probe)) / probe
	return synthClasses(max(1, size/per))
}

func analyzeAll(tb testing.TB, data []byte) *analysis {
	f, err := Parse(data, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return analyzeFiles(f)
}

// BenchmarkSynthetic shows how parse + full analysis scales with DEX
// size: ns/op divided by MB should stay flat.
func BenchmarkSynthetic(b *testing.B) {
	for _, mb := range []int{1, 10, 50, 100} {
		b.Run(fmt.Sprintf("%dMB", mb), func(b *testing.B) {
			data := synthDEX(b, mb<<20)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			runtime.GC() // the writer's garbage is not the reader's cost
			b.ResetTimer()
			cpu := testenv.CPUTime()
			for b.Loop() {
				analyzeAll(b, data)
			}
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkCorpusLargest parses and analyses the largest app of the
// androguard corpus (all classes*.dex of an APK, or a lone DEX file).
func BenchmarkCorpusLargest(b *testing.B) {
	var best [][]byte
	var bestName string
	bestSize := 0
	corpusApps(b, func(app string, dexes [][]byte, _ []string) {
		n := 0
		for _, d := range dexes {
			n += len(d)
		}
		if n > bestSize {
			best, bestName, bestSize = dexes, app, n
		}
	})
	b.Logf("%s: %d DEX files, %d bytes", bestName, len(best), bestSize)
	b.SetBytes(int64(bestSize))
	b.ReportAllocs()
	runtime.GC()
	b.ResetTimer()
	cpu := testenv.CPUTime()
	for b.Loop() {
		var files []*File
		for _, d := range best {
			f, err := Parse(d, nil)
			if err != nil {
				b.Fatal(err)
			}
			files = append(files, f)
		}
		if x := analyzeFiles(files...); len(x.Errors()) > 0 {
			b.Fatal(x.Errors()[0])
		}
	}
	reportCPU(b, cpu)
}

// reportCPU adds the process CPU time per operation (all goroutines,
// garbage collector included) since start.
func reportCPU(b *testing.B, start time.Duration) {
	if d := testenv.CPUTime() - start; start > 0 && b.N > 0 {
		b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// TestSyntheticShape checks that the benchmark input contains what it
// claims, so the benchmark measures real work.
func TestSyntheticShape(t *testing.T) {
	data := synthClasses(3)
	x := analyzeAll(t, data)
	if n := len(x.CallsTo(MethodRef{"Lgen/p1/C1;", "sendBroadcast", ""})); n != 8*20 {
		t.Errorf("%d sendBroadcast calls of class 1, want %d", n, 8*20)
	}
	if n := len(x.CallsTo(MethodRef{"Ljavax/crypto/spec/IvParameterSpec;", "<init>", ""})); n != 3*8*20 {
		t.Errorf("%d IvParameterSpec calls, want %d", n, 3*8*20)
	}
	for _, c := range x.CallsTo(MethodRef{"Ljavax/crypto/spec/IvParameterSpec;", "<init>", ""}) {
		if c.Args[1].Kind != ArrayData {
			t.Fatalf("IV argument %+v", c.Args[1])
		}
	}
}
