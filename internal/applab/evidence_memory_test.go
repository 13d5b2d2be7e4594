package applab_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"sync"
	"testing"

	"github.com/dfslab/dfslab/internal/db/dbtest"
)

// evidenceBody streams a multipart form with a tester's result and size
// bytes of text evidence, generated as it is read: the test must not hold
// the uploads in memory itself.
func evidenceBody(test string, size int) (io.Reader, string) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		mw.WriteField("test", test)
		mw.WriteField("result", "fail")
		mw.WriteField("notes", "proxy log attached")
		fw, err := mw.CreateFormFile("evidence", "proxy.log")
		if err != nil {
			pw.CloseWithError(err)
			return
		}
		line := bytes.Repeat([]byte("CONNECT api.example:443 intercepted by the lab proxy\n"), 1200)
		for left := size; left > 0; left -= len(line) {
			if _, err := fw.Write(line[:min(left, len(line))]); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(mw.Close())
	}()
	return pr, mw.FormDataContentType()
}

// TestConcurrentEvidenceBoundedMemory: 40 testers upload 10 MB of evidence
// at once. The uploads stream through the blob spool to temporary files,
// so the heap grows by far less than the 400 MB they add up to (before,
// each upload was read into memory whole: issue 9, finding 11).
func TestConcurrentEvidenceBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 400 MB of evidence")
	}
	const (
		uploads = 40
		size    = 10<<20 - 64<<10 // just within the limit, with the form around it
		budget  = 100 << 20
	)
	s := newServer(t, dbtest.SQLite(t), 20<<20, nil)
	id := scanID(t, s.upload("p1-analyst", s.org("p1", "/apps/upload"), nil, "v1.apk", build(t, "org.test.pay", 1, false, false)))
	s.drain()
	sc, err := s.store.ScanByID(context.Background(), id)
	must(t, err)
	audit := s.org("p1", fmt.Sprintf("/apps/versions/%d/audit", sc.VersionID))
	tests := []string{"T1.1", "T1.2", "T1.3", "T1.4", "T2.1", "T3.1", "T3.2", "T3.3", "T4.1", "T5.1", "T8.1", "T9.1"}

	stop := peakHeap()
	var wg sync.WaitGroup
	codes := make([]int, uploads)
	for i := range uploads {
		wg.Go(func() {
			body, ct := evidenceBody(tests[i%len(tests)], size)
			codes[i] = s.do("p1-analyst", http.MethodPost, audit, body, ct).Code
		})
	}
	wg.Wait()
	peak := stop()
	for i, c := range codes {
		if c != http.StatusSeeOther {
			t.Fatalf("upload %d: status %d", i, c)
		}
	}
	t.Logf("peak heap above the start: %.1f MB for %d concurrent uploads of %.1f MB", float64(peak)/(1<<20), uploads, float64(size)/(1<<20))
	if peak > budget {
		t.Errorf("the heap grew by %.1f MB for %d uploads of %d MB; budget %d MB", float64(peak)/(1<<20), uploads, size>>20, budget>>20)
	}
}
