package applab_test

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/dfslab/dfslab/internal/applab"
)

// FuzzReadApp: the upload check never panics on hostile bytes, and either
// accepts a zip (with its SHA-256) or refuses with one of its reasons.
func FuzzReadApp(f *testing.F) {
	good := build(f, "org.test.pay", 1, true, false)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte("%PDF-1.4"))
	f.Add(zipOf(f, map[string][]byte{"base.apk": good}))
	f.Add(zipOf(f, map[string][]byte{"AndroidManifest.xml": make([]byte, 2<<20)}))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		up, err := applab.ReadApp(bytes.NewReader(data), "f.apk", 8<<20, dir)
		if err != nil {
			var ue *applab.UploadError
			if !errors.As(err, &ue) {
				t.Fatalf("refusal without a reason: %v", err)
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Fatalf("a refused upload left %d temporary files", len(left))
			}
			return
		}
		defer up.Close()
		if up.Size != int64(len(data)) || len(up.SHA256) != 64 || !bytes.HasPrefix(data, []byte("PK\x03\x04")) {
			t.Fatalf("accepted %d bytes as %+v", len(data), up.Blob)
		}
	})
}
