package applab_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/applab"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
)

// writeLargeApp writes an app of about size bytes to a file without
// holding it in memory: a generated app whose entries are copied as they
// are, plus a stored asset of incompressible bytes streamed from a PRNG
// (a bundled video, say). The signature no longer covers the asset, which
// the scanner reports and which does not matter here.
func writeLargeApp(t testing.TB, dir string, size int64) string {
	t.Helper()
	small := build(t, "mw.pay.large", 7, false, false)
	zr, err := zip.NewReader(bytes.NewReader(small), int64(len(small)))
	must(t, err)
	name := filepath.Join(dir, "large.apk")
	f, err := os.Create(name)
	must(t, err)
	defer f.Close()
	zw := zip.NewWriter(f)
	for _, e := range zr.File {
		must(t, zw.Copy(e))
	}
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "assets/video.bin", Method: zip.Store})
	must(t, err)
	_, err = io.CopyN(w, rand.NewChaCha8([32]byte{7}), size)
	must(t, err)
	must(t, zw.Close())
	must(t, f.Close())
	return name
}

// peakHeap samples HeapInuse until stop is called and returns the
// highest value seen above the value at the start.
func peakHeap() (stop func() uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapInuse, ms.HeapInuse
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak - base
	}
}

// TestLargeUploadBoundedMemory: uploading and scanning an app of 100 MB
// keeps the Go heap far below the file's size, whether the scan reads the
// blob from the database chunk by chunk or spools it to a temporary file.
// Before chunked blobs, each step held the whole file (and the database
// driver a second copy).
func TestLargeUploadBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and scans a 100 MB app")
	}
	const size = 100 << 20
	// The heap may grow by this much: a few chunks in flight, the
	// scanner's own work on the small DEX, and the garbage the collector
	// has not reclaimed yet.
	const budget = size / 4
	app := writeLargeApp(t, t.TempDir(), size)
	for _, spool := range []bool{false, true} {
		name := map[bool]string{false: "from the database", true: "spooled"}[spool]
		t.Run(name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, d *db.DB) {
				f := newFixture(t, d)
				f.lab.Spool = spool
				f.lab.TempDir = t.TempDir()
				ctx := f.as("p1-analyst")
				in, err := os.Open(app)
				must(t, err)
				defer in.Close()

				stop := peakHeap()
				up, err := applab.ReadApp(in, "large.apk", 200<<20, t.TempDir())
				must(t, err)
				sc, err := f.store.NewScan(ctx, f.orgs["p1"], f.orgs["p1"], f.users["p1-analyst"], up, "large.apk", nil)
				must(t, err)
				must(t, up.Close())
				did, err := f.run.RunOnce(context.Background())
				peak := stop()
				if !did || err != nil {
					t.Fatalf("RunOnce = %v, %v", did, err)
				}
				sc, err = f.store.ScanByID(ctx, sc.ID)
				must(t, err)
				if sc.State != applab.Done || sc.Size < size {
					t.Fatalf("scan %+v", sc)
				}
				t.Logf("peak heap above the start: %.1f MB for a %d MB app", float64(peak)/(1<<20), size>>20)
				if peak > budget {
					t.Errorf("the heap grew by %.1f MB for a %d MB app; budget %d MB", float64(peak)/(1<<20), size>>20, budget>>20)
				}
			})
		})
	}
}
