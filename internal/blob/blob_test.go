package blob_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/blob"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
)

var pdf = []byte("%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n")

func TestSniff(t *testing.T) {
	for _, c := range []struct {
		name, file string
		head       []byte
		want       string
	}{
		{"pdf", "x.pdf", pdf, blob.PDF},
		{"pdf named png", "x.png", pdf, blob.PDF},
		{"png", "a.png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), blob.PNG},
		{"jpeg", "a.jpg", []byte{0xff, 0xd8, 0xff, 0xe0, 0, 0x10}, blob.JPEG},
		{"zip", "a.docx", []byte("PK\x03\x04\x14\x00"), blob.ZIP},
		{"text", "notes.txt", []byte("Firewall review done.\n"), blob.Text},
		{"csv by name", "list.csv", []byte("a,b\n1,2\n"), blob.CSV},
		{"json", "x.txt", []byte(" {\"a\":1}"), blob.JSON},
		{"html is not text", "x.txt", []byte("<html><script>alert(1)</script>"), "text/html"},
		{"svg is not text", "x.txt", []byte("<?xml version=\"1.0\"?><svg onload=x>"), "text/html"},
		{"exe", "x.pdf", []byte("MZ\x90\x00\x03\x00\x00\x00"), blob.Octet},
		{"nul bytes", "x.txt", []byte("abc\x00def"), blob.Octet},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := blob.Sniff(c.head, c.file); got != c.want {
				t.Errorf("Sniff = %q, want %q", got, c.want)
			}
		})
	}
}

func TestPut(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := blob.NewStore(d, nil)
		pol := blob.Policy{MaxSize: 64, Allowed: blob.EvidenceTypes()}
		b1, err := s.Put(ctx, bytes.NewReader(pdf), "report.pdf", pol)
		if err != nil {
			t.Fatal(err)
		}
		if b1.MediaType != blob.PDF || b1.Size != int64(len(pdf)) || len(b1.SHA256) != 64 {
			t.Fatalf("blob = %+v", b1)
		}
		// The same bytes under another name are the same blob, stored once.
		b2, err := s.Put(ctx, bytes.NewReader(pdf), "copy.pdf", pol)
		if err != nil || b2.SHA256 != b1.SHA256 {
			t.Fatalf("second put = %+v, %v", b2, err)
		}
		if n, _ := s.Count(ctx); n != 1 {
			t.Fatalf("%d blobs after two uploads of the same file, want 1", n)
		}
		got, data, err := s.Get(ctx, b1.SHA256)
		if err != nil || !bytes.Equal(data, pdf) || got.MediaType != blob.PDF {
			t.Fatalf("Get = %+v %q %v", got, data, err)
		}
		if _, _, err := s.Get(ctx, strings.Repeat("0", 64)); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("Get unknown: %v", err)
		}

		for _, c := range []struct {
			name string
			data []byte
			want error
		}{
			{"too large", bytes.Repeat([]byte("a"), 65), blob.ErrTooLarge},
			{"exactly the limit is fine", bytes.Repeat([]byte("b"), 64), nil},
			{"executable", []byte("MZ\x90\x00binary"), blob.ErrType},
			{"html", []byte("<html><body>hi</body></html>"), blob.ErrType},
			{"text head, binary tail", append(bytes.Repeat([]byte("x"), 40), 0, 1, 2), blob.ErrType},
			{"empty", nil, blob.ErrEmpty},
		} {
			_, err := s.Put(ctx, bytes.NewReader(c.data), "f.txt", pol)
			if !errors.Is(err, c.want) {
				t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
			}
		}
		if n, _ := s.Count(ctx); n != 2 {
			t.Fatalf("%d blobs after refused uploads, want 2 (refusals must store nothing)", n)
		}
	})
}

func FuzzSniff(f *testing.F) {
	for _, s := range [][]byte{pdf, []byte("a,b\n"), {0xff, 0xd8, 0xff}, []byte("<svg>"), []byte("\xe2\x82")} {
		f.Add(s, "x.csv")
	}
	allowed := map[string]bool{blob.PDF: true, blob.PNG: true, blob.JPEG: true, blob.ZIP: true, blob.Text: true,
		blob.CSV: true, blob.JSON: true, blob.Octet: true, "text/html": true}
	f.Fuzz(func(t *testing.T, b []byte, name string) {
		mt := blob.Sniff(b, name)
		if !allowed[mt] {
			t.Fatalf("Sniff returned unknown type %q", mt)
		}
		u, err := blob.Read(bytes.NewReader(b), name, blob.Policy{MaxSize: 1 << 20, Allowed: blob.EvidenceTypes()})
		if err == nil && u.MediaType == blob.Text && bytes.IndexByte(b, 0) >= 0 {
			t.Fatal("text with NUL bytes accepted")
		}
	})
}
