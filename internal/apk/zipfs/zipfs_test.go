package zipfs

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"runtime"
	"strings"
	"testing"
)

type file struct {
	name   string
	data   []byte
	method uint16
}

// build writes a zip with archive/zip, after prefix (which the central
// directory accounts for, like a self-extracting archive) and before suffix.
func build(t testing.TB, prefix, suffix []byte, files ...file) []byte {
	t.Helper()
	var buf bytes.Buffer
	buf.Write(prefix)
	w := zip.NewWriter(&buf)
	w.SetOffset(int64(len(prefix)))
	for _, f := range files {
		fw, err := w.CreateHeader(&zip.FileHeader{Name: f.name, Method: f.method})
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(f.data)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	buf.Write(suffix)
	return buf.Bytes()
}

// raw adds an entry whose header fields are given verbatim, so that tests
// can lie about sizes, checksums and methods.
func raw(t testing.TB, w *zip.Writer, fh *zip.FileHeader, data []byte) {
	t.Helper()
	fw, err := w.CreateRaw(fh)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
}

func deflate(t testing.TB, data []byte) []byte {
	var b bytes.Buffer
	fw, _ := flate.NewWriter(&b, flate.BestCompression)
	fw.Write(data)
	fw.Close()
	return b.Bytes()
}

func open(t testing.TB, b []byte, lim Limits) (*Archive, error) {
	t.Helper()
	return Open(bytes.NewReader(b), int64(len(b)), lim)
}

func hasIssue(a *Archive, k IssueKind) bool {
	for _, i := range a.Issues {
		if i.Kind == k {
			return true
		}
	}
	return false
}

func TestReadEntries(t *testing.T) {
	text := bytes.Repeat([]byte("dfslab "), 1000)
	b := build(t, []byte("garbage before"), []byte("garbage after"),
		file{"AndroidManifest.xml", text, zip.Deflate},
		file{"res/raw/a.bin", []byte{1, 2, 3}, zip.Store},
		file{"empty", nil, zip.Deflate},
	)
	a, err := open(t, b, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Entries) != 3 {
		t.Fatalf("entries = %d", len(a.Entries))
	}
	for _, tc := range []struct {
		name string
		want []byte
	}{{"AndroidManifest.xml", text}, {"res/raw/a.bin", []byte{1, 2, 3}}, {"empty", nil}} {
		got, err := a.ReadFile(tc.name, 0)
		if err != nil || !bytes.Equal(got, tc.want) {
			t.Errorf("ReadFile(%q) = %d bytes, %v", tc.name, len(got), err)
		}
	}
	e := a.Lookup("res/raw/a.bin")
	if e == nil || e.Method != Store || e.CompressedSize != 3 || !bytes.Equal(b[e.DataOffset:e.DataOffset+3], []byte{1, 2, 3}) {
		t.Errorf("stored entry %+v: offsets wrong", e)
	}
	if a.Entries[0].HeaderOffset != int64(len("garbage before")) {
		t.Errorf("first header at %d", a.Entries[0].HeaderOffset)
	}
	if int64(binary.LittleEndian.Uint32(b[a.EOCDOffset:])) != sigEOCD || a.CentralDirectoryOffset+a.CentralDirectorySize != a.EOCDOffset {
		t.Errorf("EOCD at %d, CD [%d,+%d)", a.EOCDOffset, a.CentralDirectoryOffset, a.CentralDirectorySize)
	}
	if !hasIssue(a, IssueLeadingData) || !hasIssue(a, IssueTrailingData) {
		t.Errorf("garbage not reported: %v", a.Issues)
	}
	if _, err := a.ReadFile("AndroidManifest.xml", 100); !errors.Is(err, ErrEntryTooLarge) {
		t.Errorf("ReadFile over max: %v", err)
	}
	if _, err := a.ReadFile("nope", 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
}

func TestNameIssues(t *testing.T) {
	b := build(t, nil, nil,
		file{name: "../../etc/passwd"}, file{name: "/abs"}, file{name: `a\b`},
		file{name: "a\nb"}, file{name: "dup"}, file{name: "dup", data: []byte("second")},
		file{name: "ok/..x"},
	)
	a, err := open(t, b, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[IssueKind]string{
		IssueDotDot: "../../etc/passwd", IssueAbsoluteName: "/abs", IssueBackslash: `a\b`,
		IssueControlChar: "a\nb", IssueDuplicateName: "dup",
	}
	got := map[IssueKind]string{}
	for _, i := range a.Issues {
		got[i.Kind] = i.Name
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("issue %s: got name %q, want %q", k, got[k], n)
		}
	}
	if len(a.Issues) != len(want) {
		t.Errorf("issues = %v", a.Issues)
	}
	// Android reads the first of two entries with the same name.
	if d, _ := a.ReadFile("dup", 0); len(d) != 0 {
		t.Errorf("Lookup(dup) returned the second entry")
	}
}

func TestHostileEntries(t *testing.T) {
	bomb := make([]byte, 20<<20)
	small := []byte("hello, world")
	tests := []struct {
		name    string
		fh      zip.FileHeader
		data    []byte
		lim     Limits
		openErr error // from Archive open, nil if only the entry fails
		readErr error
		issue   IssueKind
	}{
		{name: "zip bomb", fh: zip.FileHeader{Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(bomb), UncompressedSize64: uint64(len(bomb))},
			data: deflate(t, bomb), readErr: ErrCompressionRatio, issue: IssueLimit},
		{name: "bomb under the size floor", fh: zip.FileHeader{Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(bomb), UncompressedSize64: uint64(len(bomb))},
			data: deflate(t, bomb), lim: Limits{RatioMinSize: 64 << 20}},
		{name: "inflates past declared size", fh: zip.FileHeader{Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(small[:5]), UncompressedSize64: 5},
			data: deflate(t, small), readErr: ErrSizeMismatch},
		{name: "inflates short of declared size", fh: zip.FileHeader{Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(small), UncompressedSize64: 100},
			data: deflate(t, small), readErr: ErrSizeMismatch},
		{name: "stored longer than declared", fh: zip.FileHeader{Method: zip.Store, CRC32: crc32.ChecksumIEEE(small[:3]), UncompressedSize64: 3, CompressedSize64: uint64(len(small))},
			data: small, readErr: ErrSizeMismatch, issue: IssueStoredSizeMismatch},
		{name: "bad crc", fh: zip.FileHeader{Method: zip.Deflate, CRC32: 1234, UncompressedSize64: uint64(len(small))},
			data: deflate(t, small), readErr: ErrChecksum},
		{name: "unknown method is inflated like Android does", fh: zip.FileHeader{Method: 21, CRC32: crc32.ChecksumIEEE(small), UncompressedSize64: uint64(len(small))},
			data: deflate(t, small), issue: IssueUnsupportedMethod},
		{name: "unknown method over stored bytes", fh: zip.FileHeader{Method: 99, CRC32: crc32.ChecksumIEEE(small), UncompressedSize64: uint64(len(small))},
			data: small, readErr: ErrFormat, issue: IssueUnsupportedMethod},
		{name: "encrypted", fh: zip.FileHeader{Method: zip.Store, Flags: 1, UncompressedSize64: uint64(len(small))},
			data: small, readErr: ErrEncrypted, issue: IssueEncrypted},
		{name: "entry over the size limit", fh: zip.FileHeader{Method: zip.Store, CRC32: crc32.ChecksumIEEE(small), UncompressedSize64: uint64(len(small))},
			data: small, lim: Limits{MaxEntrySize: 4}, readErr: ErrEntryTooLarge, issue: IssueLimit},
		{name: "total over the limit", fh: zip.FileHeader{Method: zip.Store, CRC32: crc32.ChecksumIEEE(small), UncompressedSize64: uint64(len(small))},
			data: small, lim: Limits{MaxTotalSize: 4}, openErr: ErrTotalTooLarge},
		{name: "corrupt deflate", fh: zip.FileHeader{Method: zip.Deflate, UncompressedSize64: 100},
			data: []byte{0xff, 0xff, 0xff, 0xff}, readErr: ErrFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := zip.NewWriter(&buf)
			tc.fh.Name = "x"
			if tc.fh.CompressedSize64 == 0 {
				tc.fh.CompressedSize64 = uint64(len(tc.data))
			}
			raw(t, w, &tc.fh, tc.data)
			w.Close()
			a, err := open(t, buf.Bytes(), tc.lim)
			if tc.openErr != nil {
				if !errors.Is(err, tc.openErr) {
					t.Fatalf("Open: %v, want %v", err, tc.openErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, err = a.ReadFile("x", 0)
			if tc.readErr == nil && err != nil || tc.readErr != nil && !errors.Is(err, tc.readErr) {
				t.Errorf("ReadFile: %v, want %v", err, tc.readErr)
			}
			if tc.issue != "" && !hasIssue(a, tc.issue) {
				t.Errorf("no %s issue in %v", tc.issue, a.Issues)
			}
		})
	}
}

// eocd returns an End Of Central Directory record.
func eocd(entries uint16, cdSize, cdOff uint32, comment string) []byte {
	b := make([]byte, 22, 22+len(comment))
	binary.LittleEndian.PutUint32(b, sigEOCD)
	binary.LittleEndian.PutUint16(b[8:], entries)
	binary.LittleEndian.PutUint16(b[10:], entries)
	binary.LittleEndian.PutUint32(b[12:], cdSize)
	binary.LittleEndian.PutUint32(b[16:], cdOff)
	binary.LittleEndian.PutUint16(b[20:], uint16(len(comment)))
	return append(b, comment...)
}

// zip64Tail returns a ZIP64 end record and locator at offset off, followed by
// a 32-bit record that defers to them.
func zip64Tail(off int64, entries, cdSize, cdOff uint64) []byte {
	le := binary.LittleEndian
	rec := make([]byte, zip64EOCDLen)
	le.PutUint32(rec, sigZip64EOCD)
	le.PutUint64(rec[4:], zip64EOCDLen-12)
	le.PutUint64(rec[24:], entries)
	le.PutUint64(rec[32:], entries)
	le.PutUint64(rec[40:], cdSize)
	le.PutUint64(rec[48:], cdOff)
	loc := make([]byte, zip64LocLen)
	le.PutUint32(loc, sigZip64Loc)
	le.PutUint64(loc[8:], uint64(off))
	le.PutUint32(loc[16:], 1)
	out := append(rec, loc...)
	return append(out, eocd(0xffff, 0xffffffff, 0xffffffff, "")...)
}

func TestHostileArchives(t *testing.T) {
	good := build(t, nil, nil, file{"a", []byte("aaaa"), zip.Deflate}, file{"b", []byte("bbbb"), zip.Store})
	ga, err := open(t, good, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	cdOff, eocdOff := ga.CentralDirectoryOffset, ga.EOCDOffset
	le := binary.LittleEndian
	patch := func(off int64, v uint32) []byte {
		b := bytes.Clone(good)
		le.PutUint32(b[off:], v)
		return b
	}
	// The second central record's local header offset, rewritten to point at
	// the first entry: two names for the same bytes.
	secondCD := cdOff + centralLen + 1
	tests := []struct {
		name  string
		data  []byte
		lim   Limits
		err   error
		issue IssueKind
	}{
		{name: "empty", data: nil, err: ErrNotZip},
		{name: "random", data: bytes.Repeat([]byte("not a zip "), 1000), err: ErrNotZip},
		{name: "eocd only", data: eocd(0, 0, 0, "")},
		{name: "eocd claims 65535 entries", data: eocd(0xfffe, 46, 0, ""), err: ErrTruncated},
		{name: "zip64 claims 2^31 entries", data: zip64Tail(0, 1<<31, 100, 0), err: ErrTooManyEntries},
		{name: "zip64 claims huge directory", data: zip64Tail(0, 10, 1<<40, 0), err: ErrTruncated},
		{name: "zip64 locator points past itself", data: func() []byte {
			b := zip64Tail(0, 1, 46, 0)
			le.PutUint64(b[zip64EOCDLen+8:], 1<<40)
			return b
		}(), err: ErrFormat},
		{name: "truncated central directory", data: good[:eocdOff-10], err: ErrNotZip},
		{name: "central directory past eocd", data: patch(eocdOff+16, uint32(eocdOff)), err: ErrTruncated},
		{name: "central directory pointing at itself", data: patch(eocdOff+12, uint32(eocdOff+22)), err: ErrTruncated},
		{name: "bad central signature", data: patch(cdOff, 0x12345678), err: ErrFormat},
		{name: "too many entries", data: good, lim: Limits{MaxEntries: 1}, err: ErrTooManyEntries},
		{name: "overlapping entries", data: patch(secondCD+42, 0), issue: IssueOverlap},
		{name: "local header elsewhere", data: patch(secondCD+42, uint32(cdOff)), issue: IssueLocalHeader},
		{name: "local name differs", data: func() []byte {
			b := bytes.Clone(good)
			b[30] = 'z'
			return b
		}(), issue: IssueLocalNameMismatch},
		{name: "garbage between cd and eocd", data: func() []byte {
			b := bytes.Clone(good[:eocdOff])
			b = append(b, "junk"...)
			return append(b, eocd(2, uint32(ga.CentralDirectorySize), uint32(cdOff), "")...)
		}(), issue: IssueUnreferencedData},
		{name: "max comment", data: append(bytes.Clone(good[:eocdOff]), eocd(2, uint32(ga.CentralDirectorySize), uint32(cdOff), strings.Repeat("c", 65535))...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := open(t, tc.data, tc.lim)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Open: %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if tc.issue != "" && !hasIssue(a, tc.issue) {
				t.Errorf("no %s issue in %v", tc.issue, a.Issues)
			}
			if tc.issue == "" && len(a.Issues) > 0 {
				t.Errorf("unexpected issues %v", a.Issues)
			}
			for _, e := range a.Entries {
				if rc, err := e.Open(); err == nil {
					io.Copy(io.Discard, rc)
					rc.Close()
				}
			}
		})
	}
}

// TestBoundedMemory checks that lying headers cost memory in proportion to
// the real data, not to the sizes they claim.
func TestBoundedMemory(t *testing.T) {
	bomb := deflate(t, make([]byte, 16<<20))
	small := []byte("tiny")
	tests := []struct {
		name string
		fh   zip.FileHeader
		data []byte
		lim  Limits
		err  error
	}{
		{"stored entry claiming 400 MB", zip.FileHeader{Method: zip.Store, UncompressedSize64: 400 << 20}, small, Limits{}, ErrSizeMismatch},
		{"deflated entry claiming 400 MB", zip.FileHeader{Method: zip.Deflate, UncompressedSize64: 400 << 20}, deflate(t, small), Limits{MaxRatio: 1 << 30}, ErrSizeMismatch},
		{"16 MB bomb declared as 1 KB", zip.FileHeader{Method: zip.Deflate, UncompressedSize64: 1024}, bomb, Limits{}, ErrSizeMismatch},
		{"bomb declared in full", zip.FileHeader{Method: zip.Deflate, UncompressedSize64: 16 << 20}, bomb, Limits{}, ErrCompressionRatio},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := zip.NewWriter(&buf)
			tc.fh.Name = "x"
			tc.fh.CompressedSize64 = uint64(len(tc.data))
			raw(t, w, &tc.fh, tc.data)
			w.Close()
			a, err := open(t, buf.Bytes(), tc.lim)
			if err != nil {
				t.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err = a.ReadFile("x", 0)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, tc.err) {
				t.Errorf("err = %v, want %v", err, tc.err)
			}
			if n := after.TotalAlloc - before.TotalAlloc; n > 2<<20 {
				t.Errorf("allocated %d bytes", n)
			}
		})
	}
}

func FuzzOpen(f *testing.F) {
	f.Add(build(f, nil, nil, file{"a", []byte("aaaa"), zip.Deflate}, file{"b/c", []byte("bbbb"), zip.Store}))
	f.Add(build(f, []byte("pre"), []byte("post"), file{"../x", bytes.Repeat([]byte{0}, 5000), zip.Deflate}))
	f.Add(eocd(0, 0, 0, ""))
	f.Add(zip64Tail(0, 1, 46, 0))
	// Headers without data descriptors, an extra field, a directory and an
	// archive comment: paths the archive/zip defaults above do not take.
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	payload := []byte("classes.dex payload classes.dex payload")
	raw(f, w, &zip.FileHeader{Name: "res/", Method: zip.Store}, nil)
	raw(f, w, &zip.FileHeader{Name: "AndroidManifest.xml", Method: zip.Store, CRC32: crc32.ChecksumIEEE(payload),
		CompressedSize64: uint64(len(payload)), UncompressedSize64: uint64(len(payload)), Extra: []byte{0xfe, 0xca, 0, 0}}, payload)
	raw(f, w, &zip.FileHeader{Name: "classes.dex", Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(payload),
		CompressedSize64: uint64(len(deflate(f, payload))), UncompressedSize64: uint64(len(payload))}, deflate(f, payload))
	w.SetComment("comment")
	if err := w.Close(); err != nil {
		f.Fatal(err)
	}
	if a, err := open(f, buf.Bytes(), Limits{}); err != nil || len(a.Entries) != 3 {
		f.Fatalf("descriptor-less seed does not open: %v", err)
	}
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		lim := Limits{MaxEntrySize: 1 << 20, MaxTotalSize: 4 << 20}
		a, err := open(t, b, lim)
		if err != nil {
			return
		}
		for _, e := range a.Entries {
			d, err := e.ReadAll(0)
			if err == nil && int64(len(d)) != e.UncompressedSize {
				t.Fatalf("%q: read %d bytes, declared %d", e.Name, len(d), e.UncompressedSize)
			}
		}
	})
}
