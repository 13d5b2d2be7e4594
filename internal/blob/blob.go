// Package blob stores files content-addressed in the platform database:
// the key is the SHA-256 of the bytes, so a file uploaded many times is
// stored once. Uploads are streamed through a size limit and their type
// is decided by sniffing the content against an allow-list before
// anything is written; the name or Content-Type a client claims is never
// trusted.
//
// A blob is stored as rows of [ChunkSize] bytes and read back through a
// [Reader] (io.Reader, io.ReaderAt), so neither writing nor reading a
// file of hundreds of MB holds it in memory. The blob row commits in the
// transaction of its last chunk: an upload that fails half-way leaves
// nothing behind.
package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
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

// ChunkSize is the size of the stored chunks (all but the last of a
// blob). It bounds the memory a write or a read of a blob needs.
const ChunkSize = 1 << 20

// Upload is content read and checked by [Read] or [Spool], not yet
// stored. A spooled upload lives in a temporary file until Close.
type Upload struct {
	Blob
	data []byte   // Read: small uploads held in memory
	file *os.File // Spool: the temporary file
}

// ReaderAt gives the upload's bytes (for checks a caller makes before
// storing it, e.g. that a zip is an app).
func (u Upload) ReaderAt() io.ReaderAt {
	if u.file != nil {
		return u.file
	}
	return bytes.NewReader(u.data)
}

// Close removes the temporary file of a spooled upload; it is a no-op for
// one held in memory and may be called more than once.
func (u Upload) Close() error {
	if u.file == nil {
		return nil
	}
	u.file.Close()
	if err := os.Remove(u.file.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Read reads r into memory up to p.MaxSize, sniffs its type and checks it
// against p.Allowed. Nothing is stored; Insert stores the result. It is
// separate from Insert so that a caller can read the upload before it
// opens its transaction (a slow client must not hold the write lock).
// Read is for small files (evidence, bounded by p.MaxSize); [Spool] keeps
// large ones on disk instead.
func Read(r io.Reader, name string, p Policy) (Upload, error) {
	if p.MaxSize <= 0 {
		return Upload{}, errors.New("blob: policy without a size limit")
	}
	var buf bytes.Buffer
	c := newChecker(&buf)
	if err := c.copy(r, p.MaxSize); err != nil {
		return Upload{}, err
	}
	b, err := c.blob(name, p)
	if err != nil {
		return Upload{}, err
	}
	return Upload{Blob: b, data: buf.Bytes()}, nil
}

// Spool is Read for large files: r is copied to a temporary file in
// tmpDir ("" for the system's) while it is hashed and checked, so memory
// stays bounded whatever the size. The caller must Close the upload. On
// error nothing is left on disk.
func Spool(r io.Reader, name string, p Policy, tmpDir string) (u Upload, err error) {
	if p.MaxSize <= 0 {
		return Upload{}, errors.New("blob: policy without a size limit")
	}
	f, err := CreateTemp(tmpDir)
	if err != nil {
		return Upload{}, err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	c := newChecker(f)
	if err := c.copy(r, p.MaxSize); err != nil {
		return Upload{}, err
	}
	b, err := c.blob(name, p)
	if err != nil {
		return Upload{}, err
	}
	return Upload{Blob: b, file: f}, nil
}

// tempPrefix starts the name of every temporary file of the platform
// (CreateTemp): CleanTemp removes those, and only those, that a process
// killed mid-upload left behind.
const tempPrefix = "dfslab-blob-"

// CreateTemp creates a temporary file in dir ("" for the system's) under
// the platform's name pattern, for the caller to remove.
func CreateTemp(dir string) (*os.File, error) {
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("blob: temporary file: %w", err)
	}
	return f, nil
}

// StaleTemp is the age (since its last write) past which a temporary file
// of the platform is taken for the leftover of a dead process. A live
// upload is written while its request body arrives (bounded by the
// server's read timeout, a minute) and removed once stored; a live scan's
// copy lives for at most the job timeout (half an hour by default).
const StaleTemp = 2 * time.Hour

// CleanTemp removes from dir ("" for the system's temporary directory)
// the platform's temporary files (CreateTemp's name pattern, regular
// files only) not written for olderThan, and returns how many it removed.
//
// Age, not "all of them at start", decides: the directory is shared by
// every process of the host (dfslab serve, a dfslab worker beside it on
// SQLite, several nodes of a PostgreSQL set-up, other instances), so a
// process that starts must leave the uploads of the others in progress
// alone. A file that vanishes meanwhile (its upload finished) is no
// error.
func CleanTemp(dir string, olderThan time.Duration, now time.Time) (int, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("blob: clean temporary files: %w", err)
	}
	n := 0
	var errs []error
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), tempPrefix) || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if now.Sub(info.ModTime()) < olderThan {
			continue
		}
		switch err := os.Remove(filepath.Join(dir, e.Name())); {
		case err == nil:
			n++
		case !errors.Is(err, fs.ErrNotExist):
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return n, fmt.Errorf("blob: clean temporary files: %w", err)
	}
	return n, nil
}

// checker is the writer an upload is copied through: it keeps the head
// for sniffing, hashes everything and follows whether all of it is text,
// so that one pass over the bytes decides size, key and type.
type checker struct {
	dst     io.Writer
	h       hash.Hash
	n       int64
	head    []byte
	text    bool
	pending []byte // a rune cut by a write boundary
}

func newChecker(dst io.Writer) *checker {
	return &checker{dst: dst, h: sha256.New(), text: true}
}

func (c *checker) Write(p []byte) (int, error) {
	if len(c.head) < sniffLen {
		c.head = append(c.head, p[:min(len(p), sniffLen-len(c.head))]...)
	}
	c.h.Write(p)
	c.n += int64(len(p))
	if c.text {
		c.text = c.scanText(p)
	}
	return c.dst.Write(p)
}

// scanText checks p, continuing a rune cut at the end of the last write.
func (c *checker) scanText(p []byte) bool {
	b := p
	if len(c.pending) > 0 {
		b = append(c.pending, p...)
		c.pending = nil
	}
	for i := 0; i < len(b); {
		if !utf8.FullRune(b[i:]) {
			c.pending = append([]byte(nil), b[i:]...)
			return true
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return false
		}
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' && r != '\f' {
			return false
		}
		i += n
	}
	return true
}

func (c *checker) copy(r io.Reader, maxSize int64) error {
	_, err := io.CopyBuffer(c, io.LimitReader(r, maxSize+1), make([]byte, 64<<10))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return fmt.Errorf("%w: more than %d bytes", ErrTooLarge, maxSize)
		}
		return fmt.Errorf("blob: read upload: %w", err)
	}
	if c.n > maxSize {
		return fmt.Errorf("%w: more than %d bytes", ErrTooLarge, maxSize)
	}
	if c.n == 0 {
		return ErrEmpty
	}
	return nil
}

func (c *checker) blob(name string, p Policy) (Blob, error) {
	mt := Sniff(c.head, name)
	if (mt == Text || mt == CSV || mt == JSON) && !c.text {
		// The head looked like text; the whole file must be, or a binary
		// could hide behind a text prefix.
		mt = Octet
	}
	if !slices.Contains(p.Allowed, mt) {
		return Blob{}, fmt.Errorf("%w: %s", ErrType, mt)
	}
	return Blob{SHA256: hex.EncodeToString(c.h.Sum(nil)), Size: c.n, MediaType: mt}, nil
}

// ErrChanged: the bytes of an upload changed between its check and its
// storage (the spool file was altered); nothing is stored.
var ErrChanged = errors.New("blob: upload changed before it was stored")

// Insert stores u inside tx unless a blob with its key exists already;
// either way it returns the stored blob's description. The chunks are
// written one at a time and hashed again as they go: the blob row is
// written last, and only if the bytes still have the key they were
// checked with, so a failure at any point rolls back to nothing.
func (s *Store) Insert(ctx context.Context, tx *db.Tx, u Upload) (Blob, error) {
	if u.Size == 0 || (u.data == nil && u.file == nil) {
		return Blob{}, ErrEmpty
	}
	if b, err := stat(ctx, tx, u.SHA256); err == nil {
		return b, nil
	} else if !errors.Is(err, ErrNotFound) {
		return Blob{}, err
	}
	src := io.NewSectionReader(u.ReaderAt(), 0, u.Size)
	h := sha256.New()
	buf := make([]byte, ChunkSize)
	for idx := 0; ; idx++ {
		n, err := io.ReadFull(src, buf)
		if n > 0 {
			h.Write(buf[:n])
			if _, err := tx.Exec(ctx, "INSERT INTO blob_chunks (sha256, idx, data) VALUES (?, ?, ?) ON CONFLICT (sha256, idx) DO NOTHING",
				u.SHA256, idx, buf[:n]); err != nil {
				return Blob{}, fmt.Errorf("blob: insert chunk %d: %w", idx, err)
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return Blob{}, fmt.Errorf("blob: read upload: %w", err)
		}
	}
	if hex.EncodeToString(h.Sum(nil)) != u.SHA256 {
		return Blob{}, ErrChanged
	}
	b := u.Blob
	b.Created = time.UnixMicro(s.now().UnixMicro()).UTC()
	_, err := tx.Exec(ctx, `INSERT INTO blobs (sha256, size, media_type, data, chunk_size, created_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (sha256) DO NOTHING`, b.SHA256, b.Size, b.MediaType, []byte{}, ChunkSize, b.Created.UnixMicro())
	if err != nil {
		return Blob{}, fmt.Errorf("blob: insert: %w", err)
	}
	return stat(ctx, tx, b.SHA256)
}

// Put spools, checks and stores r in a transaction of its own.
func (s *Store) Put(ctx context.Context, r io.Reader, name string, p Policy) (Blob, error) {
	u, err := Spool(r, name, p, "")
	if err != nil {
		return Blob{}, err
	}
	defer u.Close()
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
	b, _, err := statChunk(ctx, q, sum)
	return b, err
}

func statChunk(ctx context.Context, q db.Querier, sum string) (Blob, int64, error) {
	var b Blob
	var at, chunk int64
	err := q.QueryRow(ctx, "SELECT sha256, size, media_type, chunk_size, created_at FROM blobs WHERE sha256 = ?", sum).
		Scan(&b.SHA256, &b.Size, &b.MediaType, &chunk, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return Blob{}, 0, ErrNotFound
	}
	if err != nil {
		return Blob{}, 0, fmt.Errorf("blob: stat: %w", err)
	}
	b.Created = time.UnixMicro(at).UTC()
	if chunk <= 0 {
		chunk = max(b.Size, 1)
	}
	return b, chunk, nil
}

// Get returns the blob with key sum and all its bytes. It is for small
// files (evidence); use Open for large ones.
func (s *Store) Get(ctx context.Context, sum string) (Blob, []byte, error) {
	r, err := s.Open(ctx, sum)
	if err != nil {
		return Blob{}, nil, err
	}
	data := make([]byte, r.Size())
	if _, err := r.ReadAt(data, 0); err != nil && !errors.Is(err, io.EOF) {
		return Blob{}, nil, err
	}
	return r.Blob(), data, nil
}

// Open returns a reader of the blob with key sum. It reads one chunk per
// query and keeps the last one, so sequential reads and the short
// back-and-forth of a zip reader cost one query per chunk. ctx bounds
// every read.
func (s *Store) Open(ctx context.Context, sum string) (*Reader, error) {
	b, chunk, err := statChunk(ctx, s.db, sum)
	if err != nil {
		return nil, err
	}
	return &Reader{ctx: ctx, db: s.db, b: b, chunk: chunk, idx: -1}, nil
}

// Reader reads a stored blob. ReadAt is safe for concurrent use; Read and
// Seek share an offset and are not.
type Reader struct {
	ctx   context.Context
	db    *db.DB
	b     Blob
	chunk int64

	mu  sync.Mutex
	idx int64 // chunk held in buf, -1 for none
	buf []byte

	off int64 // for Read and Seek
}

// Blob describes the blob being read.
func (r *Reader) Blob() Blob { return r.b }

// Size is the blob's size in bytes.
func (r *Reader) Size() int64 { return r.b.Size }

// ReadAt implements io.ReaderAt.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("blob: negative offset")
	}
	if off >= r.b.Size {
		return 0, io.EOF
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for n < len(p) && off < r.b.Size {
		idx := off / r.chunk
		if err := r.load(idx); err != nil {
			return n, err
		}
		c := copy(p[n:], r.buf[off-idx*r.chunk:])
		n += c
		off += int64(c)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (r *Reader) load(idx int64) error {
	if r.idx == idx {
		return nil
	}
	// Scanning into the previous chunk's buffer would be undone by the
	// driver (it hands out a fresh slice); RawBytes is only valid until
	// the next call, so the bytes are copied into buf, reused across
	// chunks.
	rows, err := r.db.Query(r.ctx, "SELECT data FROM blob_chunks WHERE sha256 = ? AND idx = ?", r.b.SHA256, idx)
	if err != nil {
		return fmt.Errorf("blob: read chunk %d: %w", idx, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return fmt.Errorf("blob: read chunk %d: %w", idx, err)
		}
		return fmt.Errorf("blob: chunk %d of %s missing: %w", idx, r.b.SHA256, ErrNotFound)
	}
	var raw sql.RawBytes
	if err := rows.Scan(&raw); err != nil {
		return fmt.Errorf("blob: read chunk %d: %w", idx, err)
	}
	want := min(r.chunk, r.b.Size-idx*r.chunk)
	if int64(len(raw)) != want {
		return fmt.Errorf("blob: chunk %d of %s has %d bytes, want %d", idx, r.b.SHA256, len(raw), want)
	}
	r.buf = append(r.buf[:0], raw...)
	r.idx = idx
	return rows.Close()
}

// Read implements io.Reader.
func (r *Reader) Read(p []byte) (int, error) {
	n, err := r.ReadAt(p, r.off)
	r.off += int64(n)
	if errors.Is(err, io.EOF) && n > 0 {
		err = nil
	}
	return n, err
}

// Seek implements io.Seeker.
func (r *Reader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.b.Size
	default:
		return 0, errors.New("blob: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("blob: negative position")
	}
	r.off = offset
	return offset, nil
}

// Count is the number of stored blobs (for tests and metrics).
func (s *Store) Count(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM blobs").Scan(&n)
	return n, err
}

// Chunks is the number of stored chunks (for tests: a refused or failed
// upload must leave none).
func (s *Store) Chunks(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM blob_chunks").Scan(&n)
	return n, err
}
