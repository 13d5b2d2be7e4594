package zipfs

import (
	"archive/zip"
	"bytes"
	"fmt"
	"testing"
)

// BenchmarkOpen opens an archive of 10,000 small entries: the cost is the
// central directory walk plus one local header read per entry.
func BenchmarkOpen(b *testing.B) {
	var files []file
	for i := range 10000 {
		files = append(files, file{fmt.Sprintf("res/drawable-xhdpi/icon_%05d.png", i), []byte("png"), zip.Store})
	}
	data := build(b, nil, nil, files...)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		a, err := Open(bytes.NewReader(data), int64(len(data)), Limits{})
		if err != nil || len(a.Entries) != 10000 {
			b.Fatal(err)
		}
	}
}
