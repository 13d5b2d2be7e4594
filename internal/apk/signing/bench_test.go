package signing

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/dfslab/dfslab/internal/apk/zipfs"
)

// benchAPK builds an APK of about size bytes: like real apps, half of it is
// stored (native libraries, resources.arsc) and half deflated DEX-like data.
func benchAPK(b *testing.B, size int) []byte {
	rng := rand.New(rand.NewPCG(1, uint64(size)))
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	const chunk = 512 << 10
	for i := 0; buf.Len() < size; i++ {
		data := make([]byte, chunk)
		method := zip.Store
		name := fmt.Sprintf("lib/arm64-v8a/lib%d.so", i)
		if i%2 == 1 {
			// Low-entropy bytes deflate about 3:1, like DEX files.
			for j := range data {
				data[j] = "abcdefgh"[rng.IntN(8)]
			}
			method, name = zip.Deflate, fmt.Sprintf("classes%d.dex", i)
		} else {
			for j := range data {
				data[j] = byte(rng.Uint32())
			}
		}
		fw, err := w.CreateHeader(&zip.FileHeader{Name: name, Method: method})
		if err != nil {
			b.Fatal(err)
		}
		fw.Write(data)
	}
	w.Close()
	key, err := NewKey(KeySpec{Algorithm: "ecdsa"})
	if err != nil {
		b.Fatal(err)
	}
	signed, err := Sign(buf.Bytes(), key, SignOptions{V1: true, V2: true, V3: true})
	if err != nil {
		b.Fatal(err)
	}
	return signed
}

// BenchmarkOpenVerify opens a signed APK and verifies v1, v2 and v3: the
// JAR check inflates and hashes every entry, the v2/v3 check hashes the
// whole file once for both schemes.
func BenchmarkOpenVerify(b *testing.B) {
	for _, mb := range []int{4, 30} {
		b.Run(fmt.Sprintf("%dMB", mb), func(b *testing.B) {
			apk := benchAPK(b, mb<<20)
			b.SetBytes(int64(len(apk)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				a, err := zipfs.Open(bytes.NewReader(apk), int64(len(apk)), zipfs.Limits{})
				if err != nil {
					b.Fatal(err)
				}
				r, err := Verify(context.Background(), a)
				if err != nil || !r.Verified() {
					b.Fatalf("not verified: %v", r.Scheme(SchemeV1).Error())
				}
			}
		})
	}
}
