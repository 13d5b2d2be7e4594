package blob_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/dfslab/dfslab/internal/blob"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
)

// random returns n reproducible incompressible bytes that sniff as a zip.
func random(n int, seed uint64) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed)}).Read(b)
	copy(b, "PK\x03\x04")
	return b
}

var zipOnly = blob.Policy{MaxSize: 64 << 20, Allowed: []string{blob.ZIP}}

// TestChunks: a file of several chunks (the last one short) is stored as
// chunks, read back whole, and read at offsets that straddle chunks.
func TestChunks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := blob.NewStore(d, nil)
		data := random(3*blob.ChunkSize+12345, 1)
		b, err := s.Put(ctx, bytes.NewReader(data), "app.apk", zipOnly)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if b.SHA256 != hex.EncodeToString(sum[:]) || b.Size != int64(len(data)) || b.MediaType != blob.ZIP {
			t.Fatalf("blob = %+v", b)
		}
		if n, _ := s.Chunks(ctx); n != 4 {
			t.Errorf("%d chunks, want 4", n)
		}
		r, err := s.Open(ctx, b.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		all, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(all, data) {
			t.Fatalf("ReadAll: %d bytes, equal %v, %v", len(all), bytes.Equal(all, data), err)
		}
		for _, c := range []struct{ off, n int }{
			{0, 10}, {blob.ChunkSize - 3, 7}, {2*blob.ChunkSize - 1, blob.ChunkSize + 2}, {len(data) - 5, 5}, {100, 3 * blob.ChunkSize},
		} {
			p := make([]byte, c.n)
			n, err := r.ReadAt(p, int64(c.off))
			if err != nil || n != c.n || !bytes.Equal(p, data[c.off:c.off+c.n]) {
				t.Errorf("ReadAt(%d, %d) = %d, %v", c.n, c.off, n, err)
			}
		}
		p := make([]byte, 10)
		if n, err := r.ReadAt(p, int64(len(data)-4)); n != 4 || !errors.Is(err, io.EOF) {
			t.Errorf("ReadAt past the end = %d, %v; want 4, EOF", n, err)
		}
		// The same file again: one blob, no new chunks.
		if _, err := s.Put(ctx, bytes.NewReader(data), "again.apk", zipOnly); err != nil {
			t.Fatal(err)
		}
		if n, _ := s.Count(ctx); n != 1 {
			t.Errorf("%d blobs after the same file twice, want 1", n)
		}
		if n, _ := s.Chunks(ctx); n != 4 {
			t.Errorf("%d chunks after the same file twice, want 4", n)
		}
	})
}

// failAfter is an upload cut off after n bytes.
type failAfter struct {
	r io.Reader
	n int
}

func (f *failAfter) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	p = p[:min(len(p), f.n)]
	n, err := f.r.Read(p)
	f.n -= n
	return n, err
}

// TestNothingLeftBehind: an upload cut mid-stream, and a transaction that
// fails after the chunks were written, leave no blob, no chunk and no
// temporary file.
func TestNothingLeftBehind(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := blob.NewStore(d, nil)
		data := random(2*blob.ChunkSize+1, 2)
		tmp := t.TempDir()

		if _, err := blob.Spool(&failAfter{r: bytes.NewReader(data), n: blob.ChunkSize + 7}, "a.apk", zipOnly, tmp); err == nil {
			t.Fatal("a cut upload was accepted")
		}
		if _, err := blob.Spool(bytes.NewReader(data), "a.apk", blob.Policy{MaxSize: blob.ChunkSize, Allowed: []string{blob.ZIP}}, tmp); !errors.Is(err, blob.ErrTooLarge) {
			t.Fatalf("oversized: %v", err)
		}
		if left, _ := os.ReadDir(tmp); len(left) != 0 {
			t.Fatalf("refused uploads left %d temporary files", len(left))
		}

		u, err := blob.Spool(bytes.NewReader(data), "a.apk", zipOnly, tmp)
		if err != nil {
			t.Fatal(err)
		}
		boom := errors.New("the scan row could not be written")
		err = d.InTx(ctx, func(tx *db.Tx) error {
			if _, err := s.Insert(ctx, tx, u); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v", err)
		}
		if err := u.Close(); err != nil {
			t.Fatal(err)
		}
		if left, _ := os.ReadDir(tmp); len(left) != 0 {
			t.Fatalf("Close left %d temporary files", len(left))
		}
		nb, _ := s.Count(ctx)
		nc, _ := s.Chunks(ctx)
		if nb != 0 || nc != 0 {
			t.Fatalf("%d blobs and %d chunks after a rolled back upload, want none", nb, nc)
		}
	})
}

// TestSingleChunkBlob: a blob stored before chunking (one chunk of its
// whole size, as the migration leaves it) reads back like any other.
func TestSingleChunkBlob(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		data := random(blob.ChunkSize+999, 3)
		sum := sha256.Sum256(data)
		key := hex.EncodeToString(sum[:])
		err := d.InTx(ctx, func(tx *db.Tx) error {
			if _, err := tx.Exec(ctx, "INSERT INTO blobs (sha256, size, media_type, data, chunk_size, created_at) VALUES (?, ?, ?, ?, ?, 1)",
				key, len(data), blob.ZIP, []byte{}, len(data)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO blob_chunks (sha256, idx, data) VALUES (?, 0, ?)", key, data)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		_, got, err := blob.NewStore(d, nil).Get(ctx, key)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Get: %d bytes, %v", len(got), err)
		}
	})
}
