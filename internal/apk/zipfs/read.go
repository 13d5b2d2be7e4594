package zipfs

import (
	"bytes"
	"compress/flate"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
)

// Open returns a reader of the entry's uncompressed bytes. The reader fails
// with ErrSizeMismatch as soon as the data exceeds the declared uncompressed
// size (so a lying header cannot make it produce more) or ends short of it,
// and with ErrChecksum at EOF if the CRC-32 differs.
func (e *Entry) Open() (io.ReadCloser, error) {
	if e.Err != nil {
		return nil, e.Err
	}
	if e.DataOffset == 0 {
		return nil, fmt.Errorf("%w: %s has no readable local header", ErrFormat, quoteName(e.Name))
	}
	raw := io.NewSectionReader(e.a.r, e.DataOffset, e.CompressedSize)
	er := &entryReader{e: e, crc: crc32.NewIEEE()}
	if e.Method == Store {
		er.src = raw
	} else {
		// Any other method is inflated, as Android does.
		fr := flate.NewReader(raw)
		er.src, er.closer = fr, fr
	}
	return er, nil
}

// OpenRaw returns the entry's bytes as stored (compressed), for copying an
// entry without recompressing it.
func (e *Entry) OpenRaw() (*io.SectionReader, error) {
	if e.DataOffset == 0 {
		return nil, fmt.Errorf("%w: %s has no readable local header", ErrFormat, quoteName(e.Name))
	}
	return io.NewSectionReader(e.a.r, e.DataOffset, e.CompressedSize), nil
}

type entryReader struct {
	e      *Entry
	src    io.Reader
	closer io.Closer
	crc    hash.Hash32
	n      int64
	err    error
}

func (r *entryReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	// Ask for one byte more than is left, so that surplus data is seen
	// without ever being handed to the caller.
	left := r.e.UncompressedSize - r.n
	if int64(len(p)) > left+1 {
		p = p[:left+1]
	}
	n, err := r.src.Read(p)
	if int64(n) > left {
		r.err = fmt.Errorf("%w: %s inflates beyond its declared %d bytes", ErrSizeMismatch, quoteName(r.e.Name), r.e.UncompressedSize)
		return 0, r.err
	}
	r.n += int64(n)
	r.crc.Write(p[:n])
	if err == io.EOF || (err == nil && r.n == r.e.UncompressedSize && r.atEOF()) {
		switch {
		case r.n != r.e.UncompressedSize:
			err = fmt.Errorf("%w: %s has %d bytes, declared %d", ErrSizeMismatch, quoteName(r.e.Name), r.n, r.e.UncompressedSize)
		case r.crc.Sum32() != r.e.CRC32:
			err = fmt.Errorf("%w: %s", ErrChecksum, quoteName(r.e.Name))
		default:
			err = io.EOF
		}
		r.err = err
		return n, err
	}
	if err != nil {
		err = fmt.Errorf("%w: %s: %w", ErrFormat, quoteName(r.e.Name), err)
		r.err = err
	}
	return n, err
}

// atEOF checks, once the declared size has been produced, that the source
// has nothing more, so that the CRC check happens on the last data read.
func (r *entryReader) atEOF() bool {
	var b [1]byte
	n, err := r.src.Read(b[:])
	if n > 0 {
		r.err = fmt.Errorf("%w: %s inflates beyond its declared %d bytes", ErrSizeMismatch, quoteName(r.e.Name), r.e.UncompressedSize)
		return false
	}
	return err == io.EOF
}

func (r *entryReader) Close() error {
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

// ReadFile returns the uncompressed bytes of the entry named name, refusing
// entries whose declared size exceeds max (ErrEntryTooLarge). max <= 0 means
// the archive's per-entry limit.
func (a *Archive) ReadFile(name string, max int64) ([]byte, error) {
	e := a.Lookup(name)
	if e == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, quoteName(name))
	}
	return e.ReadAll(max)
}

// ReadAll returns the entry's uncompressed bytes; see Archive.ReadFile.
func (e *Entry) ReadAll(max int64) ([]byte, error) {
	if max <= 0 || max > e.a.lim.MaxEntrySize {
		max = e.a.lim.MaxEntrySize
	}
	if e.UncompressedSize > max {
		return nil, fmt.Errorf("%w: %s declares %d bytes, limit %d", ErrEntryTooLarge, quoteName(e.Name), e.UncompressedSize, max)
	}
	rc, err := e.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	// Start from what the compressed bytes can plausibly yield, not from
	// the declared size: a header may claim hundreds of megabytes for a few
	// bytes of data. The buffer grows only as real output arrives, and the
	// reader stops at the declared size.
	guess := e.CompressedSize
	if e.Method != Store {
		guess = e.CompressedSize*4 + 512
	}
	buf := bytes.NewBuffer(make([]byte, 0, min(e.UncompressedSize, guess)+1))
	if _, err := buf.ReadFrom(rc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
