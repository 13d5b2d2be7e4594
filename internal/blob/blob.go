// Package blob stores files content-addressed in the platform database:
// the key is the SHA-256 of the bytes, so a file uploaded many times is
// stored once. Uploads are streamed through a size limit and their type
// is decided by sniffing the content against an allow-list before
// anything is written; the name or Content-Type a client claims is never
// trusted.
package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dfslab/dfslab/internal/db"
)

// Errors of Put and Get; callers map them with errors.Is.
var (
	// ErrTooLarge: the content exceeds the limit (HTTP 413).
	ErrTooLarge = errors.New("blob: file too large")
	// ErrType: the content is of a type the caller does not accept (415).
	ErrType = errors.New("blob: file type not accepted")
	// ErrEmpty: there is no content at all (400).
	ErrEmpty = errors.New("blob: empty file")
	// ErrNotFound: no blob has this key.
	ErrNotFound = errors.New("blob: not found")
)

// Media types the sniffer recognises. Evidence is usually a document, a
// screenshot or an exported report.
const (
	PDF   = "application/pdf"
	PNG   = "image/png"
	JPEG  = "image/jpeg"
	Text  = "text/plain"
	CSV   = "text/csv"
	JSON  = "application/json"
	ZIP   = "application/zip" // also DOCX/XLSX/APK containers
	Octet = "application/octet-stream"
)

// EvidenceTypes returns the allow-list for implementation evidence: the
// documents, screenshots and exports an examiner reads.
func EvidenceTypes() []string { return []string{PDF, PNG, JPEG, Text, CSV, JSON, ZIP} }

// Blob describes a stored file (without its bytes).
type Blob struct {
	SHA256    string // hex
	Size      int64
	MediaType string
	Created   time.Time
}

// Policy bounds what Put accepts.
type Policy struct {
	MaxSize int64    // bytes; must be > 0
	Allowed []string // media types as returned by Sniff
}

// Sniff decides the media type of content from its first bytes (and, for
// text, from all of head). name is used only to tell CSV from other text:
// a file whose bytes are a PDF is a PDF whatever it is called.
func Sniff(head []byte, name string) string {
	switch {
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return PDF
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return PNG
	case bytes.HasPrefix(head, []byte{0xff, 0xd8, 0xff}):
		return JPEG
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return ZIP
	}
	if !isText(head) {
		return Octet
	}
	// HTML and SVG can carry script: they are text to a person but active
	// content to a browser, so they never pass as plain text.
	ct := http.DetectContentType(head)
	if strings.HasPrefix(ct, "text/html") || strings.HasPrefix(ct, "text/xml") || bytes.Contains(bytes.ToLower(head), []byte("<svg")) {
		return "text/html"
	}
	trimmed := bytes.TrimLeft(head, " \t\r\n\ufeff")
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		return JSON
	}
	if strings.HasSuffix(strings.ToLower(name), ".csv") {
		return CSV
	}
	return Text
}

// isText reports whether b is UTF-8 without control characters other
// than tab, CR, LF and form feed. A multi-byte rune cut at the end of the
// sniffed head is allowed.
func isText(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			if len(b)-i < utf8.UTFMax && !utf8.FullRune(b[i:]) {
				return true
			}
			return false
		}
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' && r != '\f' {
			return false
		}
		i += n
	}
	return true
}

// sniffLen is how much of the head decides the type.
const sniffLen = 8 << 10

// Store keeps blobs in the database.
type Store struct {
	db  *db.DB
	now func() time.Time
}

// NewStore returns a store over d (migrated); now is the clock (nil: time.Now).
func NewStore(d *db.DB, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: d, now: now}
}

// Read reads r into memory up to p.MaxSize, sniffs its type and checks it
// against p.Allowed. Nothing is stored; Insert stores the result. It is
// separate from Insert so that a caller can read the upload before it
// opens its transaction (a slow client must not hold the write lock).
func Read(r io.Reader, name string, p Policy) (Upload, error) {
	if p.MaxSize <= 0 {
		return Upload{}, errors.New("blob: policy without a size limit")
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, p.MaxSize+1))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return Upload{}, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, p.MaxSize)
		}
		return Upload{}, fmt.Errorf("blob: read upload: %w", err)
	}
	if n > p.MaxSize {
		return Upload{}, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, p.MaxSize)
	}
	if n == 0 {
		return Upload{}, ErrEmpty
	}
	data := buf.Bytes()
	mt := Sniff(data[:min(len(data), sniffLen)], name)
	if mt == Text || mt == CSV || mt == JSON {
		// The head looked like text; the whole file must be, or a binary
		// could hide behind a text prefix.
		if !isText(data) {
			mt = Octet
		}
	}
	if !slices.Contains(p.Allowed, mt) {
		return Upload{}, fmt.Errorf("%w: %s", ErrType, mt)
	}
	sum := sha256.Sum256(data)
	return Upload{Blob: Blob{SHA256: hex.EncodeToString(sum[:]), Size: n, MediaType: mt}, data: data}, nil
}

// Upload is content read and checked by Read, not yet stored.
type Upload struct {
	Blob
	data []byte
}

// Insert stores u inside tx unless a blob with its key exists already;
// either way it returns the stored blob's description.
func (s *Store) Insert(ctx context.Context, tx *db.Tx, u Upload) (Blob, error) {
	if len(u.data) == 0 {
		return Blob{}, ErrEmpty
	}
	b := u.Blob
	b.Created = time.UnixMicro(s.now().UnixMicro()).UTC()
	_, err := tx.Exec(ctx, `INSERT INTO blobs (sha256, size, media_type, data, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (sha256) DO NOTHING`, b.SHA256, b.Size, b.MediaType, u.data, b.Created.UnixMicro())
	if err != nil {
		return Blob{}, fmt.Errorf("blob: insert: %w", err)
	}
	return stat(ctx, tx, b.SHA256)
}

// Put reads, checks and stores r in a transaction of its own.
func (s *Store) Put(ctx context.Context, r io.Reader, name string, p Policy) (Blob, error) {
	u, err := Read(r, name, p)
	if err != nil {
		return Blob{}, err
	}
	var b Blob
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		b, err = s.Insert(ctx, tx, u)
		return err
	})
	return b, err
}

// Stat describes the blob with key sum.
func (s *Store) Stat(ctx context.Context, sum string) (Blob, error) { return stat(ctx, s.db, sum) }

func stat(ctx context.Context, q db.Querier, sum string) (Blob, error) {
	var b Blob
	var at int64
	err := q.QueryRow(ctx, "SELECT sha256, size, media_type, created_at FROM blobs WHERE sha256 = ?", sum).
		Scan(&b.SHA256, &b.Size, &b.MediaType, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return Blob{}, ErrNotFound
	}
	if err != nil {
		return Blob{}, fmt.Errorf("blob: stat: %w", err)
	}
	b.Created = time.UnixMicro(at).UTC()
	return b, nil
}

// Get returns the blob with key sum and its bytes.
func (s *Store) Get(ctx context.Context, sum string) (Blob, []byte, error) {
	var b Blob
	var at int64
	var data []byte
	err := s.db.QueryRow(ctx, "SELECT sha256, size, media_type, created_at, data FROM blobs WHERE sha256 = ?", sum).
		Scan(&b.SHA256, &b.Size, &b.MediaType, &at, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return Blob{}, nil, ErrNotFound
	}
	if err != nil {
		return Blob{}, nil, fmt.Errorf("blob: get: %w", err)
	}
	b.Created = time.UnixMicro(at).UTC()
	return b, data, nil
}

// Count is the number of stored blobs (for tests and metrics).
func (s *Store) Count(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM blobs").Scan(&n)
	return n, err
}
