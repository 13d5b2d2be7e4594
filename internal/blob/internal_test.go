package blob

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
)

// TestChangedSpool: bytes that change on disk between the check and the
// store are refused after the chunks were written, and nothing stays.
func TestChangedSpool(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		data := make([]byte, 3*ChunkSize)
		rand.NewChaCha8([32]byte{9}).Read(data)
		copy(data, "PK\x03\x04")
		u, err := Spool(bytes.NewReader(data), "a.apk", Policy{MaxSize: 1 << 30, Allowed: []string{ZIP}}, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer u.Close()
		if _, err := u.file.WriteAt([]byte("tampered"), 2*ChunkSize+10); err != nil {
			t.Fatal(err)
		}
		s := NewStore(d, nil)
		err = d.InTx(ctx, func(tx *db.Tx) error { _, err := s.Insert(ctx, tx, u); return err })
		if !errors.Is(err, ErrChanged) {
			t.Fatalf("Insert = %v, want ErrChanged", err)
		}
		nb, _ := s.Count(ctx)
		nc, _ := s.Chunks(ctx)
		if nb != 0 || nc != 0 {
			t.Fatalf("%d blobs, %d chunks left", nb, nc)
		}
	})
}
