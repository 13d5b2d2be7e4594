// Package zipfs reads APK, AAB and APKS archives the way Android does: through
// the central directory, never by walking local headers front to back. It is
// written for hostile input: every length read from the file is checked against
// the file size and the configured Limits before anything is allocated, and
// decompression never produces more than an entry declares.
//
// Structural oddities that Android tolerates but that hint at tampering (two
// entries with one name, "../" in names, local headers that disagree with the
// central directory, overlapping entries, bytes no entry accounts for) are not
// errors: they are collected in Archive.Issues so the scanner can report them.
package zipfs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Errors returned by Open, Entry.Open and Archive.ReadFile. Test with errors.Is;
// the returned errors wrap these with detail.
var (
	ErrNotZip           = errors.New("zipfs: not a zip archive")
	ErrTruncated        = errors.New("zipfs: archive truncated")
	ErrFormat           = errors.New("zipfs: malformed archive")
	ErrTooManyEntries   = errors.New("zipfs: too many entries")
	ErrEntryTooLarge    = errors.New("zipfs: entry too large")
	ErrTotalTooLarge    = errors.New("zipfs: total uncompressed size too large")
	ErrCompressionRatio = errors.New("zipfs: compression ratio too high")
	ErrEncrypted        = errors.New("zipfs: encrypted entry")
	ErrSizeMismatch     = errors.New("zipfs: entry size differs from the central directory")
	ErrChecksum         = errors.New("zipfs: CRC-32 mismatch")
	ErrNotFound         = errors.New("zipfs: no such entry")
)

// Compression methods Android understands.
const (
	Store   uint16 = 0
	Deflate uint16 = 8
)

// Limits bound what Open and the readers accept. A zero field means "use the
// default" so that Limits{} is a safe value.
type Limits struct {
	MaxEntries   int   // entries in the central directory (default 65,536)
	MaxEntrySize int64 // uncompressed bytes of one entry (default 512 MiB)
	MaxTotalSize int64 // sum of declared uncompressed sizes (default 2 GiB)
	// MaxRatio caps uncompressed/compressed for entries whose uncompressed
	// size exceeds RatioMinSize (defaults 200 and 1 MiB): small files may
	// compress absurdly well, large ones doing so are zip bombs.
	MaxRatio     int64
	RatioMinSize int64
	// MaxCentralDirectory caps the central directory, which Open reads into
	// memory in one piece (default 64 MiB).
	MaxCentralDirectory int64
}

// DefaultLimits returns the limits used for zero fields.
func DefaultLimits() Limits {
	return Limits{
		MaxEntries:          65536,
		MaxEntrySize:        512 << 20,
		MaxTotalSize:        2 << 30,
		MaxRatio:            200,
		RatioMinSize:        1 << 20,
		MaxCentralDirectory: 64 << 20,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxEntries <= 0 {
		l.MaxEntries = d.MaxEntries
	}
	if l.MaxEntrySize <= 0 {
		l.MaxEntrySize = d.MaxEntrySize
	}
	if l.MaxTotalSize <= 0 {
		l.MaxTotalSize = d.MaxTotalSize
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = d.MaxRatio
	}
	if l.RatioMinSize <= 0 {
		l.RatioMinSize = d.RatioMinSize
	}
	if l.MaxCentralDirectory <= 0 {
		l.MaxCentralDirectory = d.MaxCentralDirectory
	}
	return l
}

// IssueKind classifies a suspicious but tolerated structure.
type IssueKind string

// Issue kinds. They are stable strings: the scanner maps them to rules.
const (
	IssueDuplicateName      IssueKind = "duplicate-name"
	IssueDotDot             IssueKind = "dot-dot-name"
	IssueAbsoluteName       IssueKind = "absolute-name"
	IssueBackslash          IssueKind = "backslash-name"
	IssueControlChar        IssueKind = "control-char-name"
	IssueLocalNameMismatch  IssueKind = "local-name-mismatch"
	IssueLocalHeader        IssueKind = "bad-local-header"
	IssueMethodMismatch     IssueKind = "local-method-mismatch"
	IssueOverlap            IssueKind = "overlapping-entries"
	IssueUnreferencedData   IssueKind = "unreferenced-data"
	IssueLeadingData        IssueKind = "data-before-first-entry"
	IssueTrailingData       IssueKind = "data-after-eocd"
	IssueUnsupportedMethod  IssueKind = "unsupported-method"
	IssueEncrypted          IssueKind = "encrypted-entry"
	IssueStoredSizeMismatch IssueKind = "stored-size-mismatch"
	IssueLimit              IssueKind = "limit-exceeded"
	IssueZip64              IssueKind = "zip64"
)

// Issue is one suspicious structure found by Open.
type Issue struct {
	Kind   IssueKind
	Name   string // entry name, if the issue concerns one entry
	Offset int64  // file offset concerned, -1 if none
	Detail string
}

func (i Issue) String() string {
	s := string(i.Kind)
	if i.Name != "" {
		s += " " + quoteName(i.Name)
	}
	if i.Offset >= 0 {
		s += fmt.Sprintf(" at %#x", i.Offset)
	}
	if i.Detail != "" {
		s += ": " + i.Detail
	}
	return s
}

// Entry is one central directory record.
type Entry struct {
	Name             string
	Method           uint16
	Flags            uint16
	CRC32            uint32
	CompressedSize   int64
	UncompressedSize int64
	// HeaderOffset is the offset of the local file header, DataOffset the
	// offset of the entry's (compressed) bytes, computed from the local
	// header as Android does.
	HeaderOffset int64
	DataOffset   int64
	// Err is set when the entry cannot be read (bad local header, unsupported
	// method, limit exceeded); Open on it returns Err.
	Err error

	a *Archive
}

// IsDir reports whether the entry names a directory.
func (e *Entry) IsDir() bool { return strings.HasSuffix(e.Name, "/") }

// Archive is an opened zip file.
type Archive struct {
	Entries []*Entry
	Issues  []Issue
	// Offsets the APK signature verifier needs.
	CentralDirectoryOffset int64
	CentralDirectorySize   int64
	EOCDOffset             int64 // offset of the (32-bit) End Of Central Directory record
	EOCDSize               int64 // its length including the comment
	Zip64                  bool
	Comment                string

	r      io.ReaderAt
	size   int64
	lim    Limits
	byName map[string]*Entry
	// declared is the entry count from the end record; zip64Start the
	// offset of the ZIP64 end record when there is one.
	declared   int64
	zip64Start int64
	scratch    []byte // local header buffer reused across entries
}

// Size is the archive size passed to Open.
func (a *Archive) Size() int64 { return a.size }

// ReaderAt is the underlying reader.
func (a *Archive) ReaderAt() io.ReaderAt { return a.r }

// Limits are the effective limits (defaults filled in).
func (a *Archive) Limits() Limits { return a.lim }

// Lookup returns the first entry named name, as Android's lookup does, or nil.
func (a *Archive) Lookup(name string) *Entry { return a.byName[name] }

const (
	sigLocal     = 0x04034b50
	sigCentral   = 0x02014b50
	sigEOCD      = 0x06054b50
	sigZip64EOCD = 0x06064b50
	sigZip64Loc  = 0x07064b50
	sigDataDesc  = 0x08074b50

	eocdLen       = 22
	zip64LocLen   = 20
	zip64EOCDLen  = 56
	centralLen    = 46
	localLen      = 30
	maxCommentLen = 65535
)

// Open reads the central directory of the zip archive r of length size.
func Open(r io.ReaderAt, size int64, lim Limits) (*Archive, error) {
	lim = lim.withDefaults()
	if size < eocdLen {
		return nil, fmt.Errorf("%w: %d bytes", ErrNotZip, size)
	}
	a := &Archive{r: r, size: size, lim: lim}
	if err := a.readEOCD(); err != nil {
		return nil, err
	}
	if err := a.readCentral(); err != nil {
		return nil, err
	}
	a.checkLayout()
	return a, nil
}

func (a *Archive) issue(kind IssueKind, name string, off int64, format string, args ...any) {
	a.Issues = append(a.Issues, Issue{Kind: kind, Name: name, Offset: off, Detail: fmt.Sprintf(format, args...)})
}

// readEOCD finds the End Of Central Directory record by scanning back from
// the end over at most a maximal comment, as Android does.
func (a *Archive) readEOCD() error {
	n := int64(eocdLen + maxCommentLen)
	if n > a.size {
		n = a.size
	}
	buf := make([]byte, n)
	if _, err := a.r.ReadAt(buf, a.size-n); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: reading tail: %v", ErrTruncated, err)
	}
	le := binary.LittleEndian
	pos := -1
	for i := len(buf) - eocdLen; i >= 0; i-- {
		if buf[i] != 0x50 || le.Uint32(buf[i:]) != sigEOCD {
			continue
		}
		clen := int(le.Uint16(buf[i+20:]))
		if i+eocdLen+clen > len(buf) {
			// A signature inside the comment or data, whose own comment
			// would run past the end: not the record.
			continue
		}
		pos = i
		break
	}
	if pos < 0 {
		return fmt.Errorf("%w: no end of central directory record", ErrNotZip)
	}
	rec := buf[pos:]
	a.EOCDOffset = a.size - n + int64(pos)
	clen := int64(le.Uint16(rec[20:]))
	a.EOCDSize = eocdLen + clen
	a.Comment = string(rec[eocdLen : eocdLen+clen])
	if end := a.EOCDOffset + a.EOCDSize; end < a.size {
		a.issue(IssueTrailingData, "", end, "%d bytes after the end of central directory record", a.size-end)
	}
	disk, cdDisk := le.Uint16(rec[4:]), le.Uint16(rec[6:])
	onDisk, total := le.Uint16(rec[8:]), le.Uint16(rec[10:])
	cdSize, cdOff := int64(le.Uint32(rec[12:])), int64(le.Uint32(rec[16:]))
	count := int64(total)
	if disk != 0 || cdDisk != 0 || onDisk != total {
		return fmt.Errorf("%w: multi-disk archives are not supported", ErrFormat)
	}
	if total == 0xffff || cdSize == 0xffffffff || cdOff == 0xffffffff {
		// Possibly ZIP64: the locator sits right before the EOCD.
		if ok, err := a.readZip64(&count, &cdSize, &cdOff); err != nil {
			return err
		} else if ok {
			a.Zip64 = true
		}
	}
	if count > int64(a.lim.MaxEntries) {
		return fmt.Errorf("%w: %d entries declared, limit %d", ErrTooManyEntries, count, a.lim.MaxEntries)
	}
	end := a.EOCDOffset
	if a.Zip64 {
		end = a.zip64Start
	}
	if cdOff < 0 || cdSize < 0 || cdOff > end || cdSize > end-cdOff {
		return fmt.Errorf("%w: central directory [%d,+%d) outside the file (EOCD at %d)", ErrTruncated, cdOff, cdSize, end)
	}
	if count*centralLen > cdSize {
		return fmt.Errorf("%w: %d entries cannot fit a %d-byte central directory", ErrTruncated, count, cdSize)
	}
	if cdSize > a.lim.MaxCentralDirectory {
		return fmt.Errorf("%w: central directory of %d bytes, limit %d", ErrTooManyEntries, cdSize, a.lim.MaxCentralDirectory)
	}
	if cdOff+cdSize < end {
		a.issue(IssueUnreferencedData, "", cdOff+cdSize, "%d bytes between the central directory and its end record", end-cdOff-cdSize)
	}
	a.CentralDirectoryOffset, a.CentralDirectorySize = cdOff, cdSize
	a.Entries = make([]*Entry, 0, count)
	a.declared = count
	return nil
}

func (a *Archive) readZip64(count, cdSize, cdOff *int64) (bool, error) {
	le := binary.LittleEndian
	locOff := a.EOCDOffset - zip64LocLen
	if locOff < 0 {
		return false, nil
	}
	var loc [zip64LocLen]byte
	if _, err := a.r.ReadAt(loc[:], locOff); err != nil {
		return false, fmt.Errorf("%w: zip64 locator: %v", ErrTruncated, err)
	}
	if le.Uint32(loc[:]) != sigZip64Loc {
		return false, nil // plain archive that happens to hold 0xffff entries
	}
	recOff := le.Uint64(loc[8:])
	if le.Uint32(loc[16:]) > 1 || recOff > uint64(locOff) || uint64(locOff)-recOff < zip64EOCDLen {
		return false, fmt.Errorf("%w: bad zip64 locator", ErrFormat)
	}
	var rec [zip64EOCDLen]byte
	if _, err := a.r.ReadAt(rec[:], int64(recOff)); err != nil {
		return false, fmt.Errorf("%w: zip64 end record: %v", ErrTruncated, err)
	}
	if le.Uint32(rec[:]) != sigZip64EOCD {
		return false, fmt.Errorf("%w: zip64 end record signature", ErrFormat)
	}
	total, size, off := le.Uint64(rec[32:]), le.Uint64(rec[40:]), le.Uint64(rec[48:])
	if total > 1<<40 || size > 1<<62 || off > 1<<62 {
		return false, fmt.Errorf("%w: zip64 end record values out of range", ErrFormat)
	}
	*count, *cdSize, *cdOff = int64(total), int64(size), int64(off)
	a.zip64Start = int64(recOff)
	a.issue(IssueZip64, "", int64(recOff), "ZIP64 archive (Android before 12 rejects it)")
	return true, nil
}

func (a *Archive) readCentral() error {
	le := binary.LittleEndian
	cd := make([]byte, a.CentralDirectorySize)
	if _, err := a.r.ReadAt(cd, a.CentralDirectoryOffset); err != nil && !(errors.Is(err, io.EOF) && a.CentralDirectoryOffset+a.CentralDirectorySize <= a.size) {
		return fmt.Errorf("%w: central directory: %v", ErrTruncated, err)
	}
	a.byName = make(map[string]*Entry, a.declared)
	var total int64
	p := 0
	for i := int64(0); i < a.declared; i++ {
		if len(cd)-p < centralLen {
			return fmt.Errorf("%w: central directory ends after %d of %d entries", ErrTruncated, i, a.declared)
		}
		h := cd[p:]
		if le.Uint32(h) != sigCentral {
			return fmt.Errorf("%w: central directory entry %d at %#x: bad signature", ErrFormat, i, a.CentralDirectoryOffset+int64(p))
		}
		nameLen, extraLen, commentLen := int(le.Uint16(h[28:])), int(le.Uint16(h[30:])), int(le.Uint16(h[32:]))
		recLen := centralLen + nameLen + extraLen + commentLen
		if recLen > len(h) {
			return fmt.Errorf("%w: central directory entry %d runs past the directory", ErrTruncated, i)
		}
		e := &Entry{
			Name:             string(h[centralLen : centralLen+nameLen]),
			Flags:            le.Uint16(h[8:]),
			Method:           le.Uint16(h[10:]),
			CRC32:            le.Uint32(h[16:]),
			CompressedSize:   int64(le.Uint32(h[20:])),
			UncompressedSize: int64(le.Uint32(h[24:])),
			HeaderOffset:     int64(le.Uint32(h[42:])),
			a:                a,
		}
		if e.CompressedSize == 0xffffffff || e.UncompressedSize == 0xffffffff || e.HeaderOffset == 0xffffffff {
			parseZip64Extra(e, h[centralLen+nameLen:centralLen+nameLen+extraLen])
		}
		p += recLen
		a.Entries = append(a.Entries, e)
		a.checkName(e)
		if _, dup := a.byName[e.Name]; dup {
			a.issue(IssueDuplicateName, e.Name, e.HeaderOffset, "name already used by an earlier entry; tools disagree on which one is read")
		} else {
			a.byName[e.Name] = e
		}
		total += e.UncompressedSize
		if total > a.lim.MaxTotalSize {
			return fmt.Errorf("%w: more than %d bytes declared", ErrTotalTooLarge, a.lim.MaxTotalSize)
		}
		a.checkEntry(e)
	}
	if p < len(cd) {
		a.issue(IssueUnreferencedData, "", a.CentralDirectoryOffset+int64(p), "%d bytes after the last central directory entry", len(cd)-p)
	}
	return nil
}

func parseZip64Extra(e *Entry, extra []byte) {
	le := binary.LittleEndian
	for len(extra) >= 4 {
		id, n := le.Uint16(extra), int(le.Uint16(extra[2:]))
		extra = extra[4:]
		if n > len(extra) {
			return
		}
		if id == 0x0001 {
			f := extra[:n]
			next := func(v *int64) {
				if *v == 0xffffffff && len(f) >= 8 {
					x := le.Uint64(f)
					if x > 1<<62 {
						x = 1 << 62
					}
					*v = int64(x)
					f = f[8:]
				}
			}
			next(&e.UncompressedSize)
			next(&e.CompressedSize)
			next(&e.HeaderOffset)
			return
		}
		extra = extra[n:]
	}
}

func quoteName(s string) string { return fmt.Sprintf("%q", s) }

func (a *Archive) checkName(e *Entry) {
	n := e.Name
	if strings.HasPrefix(n, "/") || (len(n) > 2 && n[1] == ':' && (n[2] == '/' || n[2] == '\\')) {
		a.issue(IssueAbsoluteName, n, e.HeaderOffset, "absolute path")
	}
	if strings.ContainsRune(n, '\\') {
		a.issue(IssueBackslash, n, e.HeaderOffset, "backslash in name")
	}
	for _, part := range strings.FieldsFunc(n, func(r rune) bool { return r == '/' || r == '\\' }) {
		if part == ".." {
			a.issue(IssueDotDot, n, e.HeaderOffset, "'..' path component (path traversal on extraction)")
			break
		}
	}
	if strings.ContainsAny(n, "\x00\r\n") {
		a.issue(IssueControlChar, n, e.HeaderOffset, "NUL, CR or LF in name")
	}
}

// checkEntry reads the local header and applies the per-entry limits. Problems
// are recorded on the entry and as issues; they do not fail Open.
func (a *Archive) checkEntry(e *Entry) {
	le := binary.LittleEndian
	fail := func(kind IssueKind, err error) {
		if e.Err == nil {
			e.Err = err
		}
		a.issue(kind, e.Name, e.HeaderOffset, "%v", err)
	}
	if e.Flags&1 != 0 {
		fail(IssueEncrypted, fmt.Errorf("%w: %s", ErrEncrypted, quoteName(e.Name)))
	}
	if e.Method != Store && e.Method != Deflate {
		// Android's extractor inflates every entry that is not stored,
		// whatever method it declares (apksig's weird-compression-method
		// vector installs), so the entry stays readable; but other tools
		// see different content, which is worth a finding.
		a.issue(IssueUnsupportedMethod, e.Name, e.HeaderOffset, "compression method %d, read as deflate like Android does", e.Method)
	}
	if e.UncompressedSize > a.lim.MaxEntrySize {
		fail(IssueLimit, fmt.Errorf("%w: %s declares %d bytes, limit %d", ErrEntryTooLarge, quoteName(e.Name), e.UncompressedSize, a.lim.MaxEntrySize))
	}
	if e.UncompressedSize > a.lim.RatioMinSize && e.Method != Store {
		if e.CompressedSize == 0 || e.UncompressedSize/e.CompressedSize > a.lim.MaxRatio {
			fail(IssueLimit, fmt.Errorf("%w: %s expands %d to %d bytes, limit %d:1", ErrCompressionRatio, quoteName(e.Name), e.CompressedSize, e.UncompressedSize, a.lim.MaxRatio))
		}
	}
	if e.Method == Store && e.CompressedSize != e.UncompressedSize {
		a.issue(IssueStoredSizeMismatch, e.Name, e.HeaderOffset, "stored entry with compressed size %d and uncompressed size %d", e.CompressedSize, e.UncompressedSize)
	}
	if e.HeaderOffset > a.CentralDirectoryOffset-localLen || e.HeaderOffset < 0 {
		fail(IssueLocalHeader, fmt.Errorf("%w: local header of %s at %d outside the entry area", ErrFormat, quoteName(e.Name), e.HeaderOffset))
		return
	}
	// One read for the header and, when it fits before the central
	// directory, the name that should follow it.
	n := int64(localLen)
	if e.HeaderOffset+localLen+int64(len(e.Name)) <= a.CentralDirectoryOffset {
		n += int64(len(e.Name))
	}
	if int64(cap(a.scratch)) < n {
		a.scratch = make([]byte, n)
	}
	h := a.scratch[:n]
	if _, err := a.r.ReadAt(h, e.HeaderOffset); err != nil {
		fail(IssueLocalHeader, fmt.Errorf("%w: local header of %s: %v", ErrTruncated, quoteName(e.Name), err))
		return
	}
	if le.Uint32(h[:]) != sigLocal {
		fail(IssueLocalHeader, fmt.Errorf("%w: local header of %s: bad signature", ErrFormat, quoteName(e.Name)))
		return
	}
	if m := le.Uint16(h[8:]); m != e.Method {
		a.issue(IssueMethodMismatch, e.Name, e.HeaderOffset, "local header says method %d, central directory %d (Android uses the central directory)", m, e.Method)
	}
	nameLen, extraLen := int64(le.Uint16(h[26:])), int64(le.Uint16(h[28:]))
	e.DataOffset = e.HeaderOffset + localLen + nameLen + extraLen
	if e.DataOffset > a.CentralDirectoryOffset || e.CompressedSize > a.CentralDirectoryOffset-e.DataOffset {
		fail(IssueLocalHeader, fmt.Errorf("%w: data of %s runs into the central directory", ErrFormat, quoteName(e.Name)))
		return
	}
	if nameLen != int64(len(e.Name)) {
		a.issue(IssueLocalNameMismatch, e.Name, e.HeaderOffset, "local header name has %d bytes, central %d", nameLen, len(e.Name))
		return
	}
	if name := h[localLen:]; string(name) != e.Name {
		a.issue(IssueLocalNameMismatch, e.Name, e.HeaderOffset, "local header names it %s", quoteName(string(name)))
	}
}

// checkLayout reports overlapping entries and bytes that no entry, the APK
// Signing Block, the central directory or the end records account for.
func (a *Archive) checkLayout() {
	type span struct {
		start, end int64
		e          *Entry
	}
	spans := make([]span, 0, len(a.Entries))
	for _, e := range a.Entries {
		if e.DataOffset == 0 { // local header unreadable
			continue
		}
		end := e.DataOffset + e.CompressedSize
		if e.Flags&8 != 0 {
			end += a.dataDescriptorLen(end)
		}
		spans = append(spans, span{e.HeaderOffset, end, e})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	cursor := int64(0)
	var prev *Entry
	for _, s := range spans {
		switch {
		case s.start < cursor:
			a.issue(IssueOverlap, s.e.Name, s.start, "overlaps %s (a second name for the same bytes, or a crafted archive)", quoteName(prev.Name))
		case s.start > cursor && prev == nil:
			a.issue(IssueLeadingData, "", 0, "%d bytes before the first local header", s.start)
		case s.start > cursor:
			a.issue(IssueUnreferencedData, "", cursor, "%d bytes after %s belong to no entry", s.start-cursor, quoteName(prev.Name))
		}
		if s.end > cursor {
			cursor = s.end
		}
		prev = s.e
	}
	if cursor < a.CentralDirectoryOffset && len(spans) > 0 {
		gap := a.CentralDirectoryOffset - cursor
		if off, ok := a.signingBlockStart(); ok && (off == cursor || a.zeroPadding(cursor, off)) {
			return
		}
		a.issue(IssueUnreferencedData, "", cursor, "%d bytes between the last entry and the central directory are not an APK Signing Block", gap)
	}
}

// dataDescriptorLen returns the length of the data descriptor at off (with or
// without its optional signature), or 0 if none is readable there.
func (a *Archive) dataDescriptorLen(off int64) int64 {
	var b [4]byte
	if _, err := a.r.ReadAt(b[:], off); err != nil {
		return 0
	}
	n := int64(12)
	if a.Zip64 {
		n = 20
	}
	if binary.LittleEndian.Uint32(b[:]) == sigDataDesc {
		n += 4
	}
	return n
}

// signingBlockStart returns the offset of an APK Signing Block ending right
// before the central directory, if its framing is consistent.
func (a *Archive) signingBlockStart() (int64, bool) {
	cd := a.CentralDirectoryOffset
	if cd < 32 {
		return 0, false
	}
	var foot [24]byte
	if _, err := a.r.ReadAt(foot[:], cd-24); err != nil || string(foot[8:]) != "APK Sig Block 42" {
		return 0, false
	}
	size := binary.LittleEndian.Uint64(foot[:])
	if size < 24 || size > uint64(cd-8) {
		return 0, false
	}
	return cd - int64(size) - 8, true
}

// zeroPadding reports whether [from, to) is the zero padding apksig inserts
// so that the APK Signing Block starts on a 4096-byte boundary.
func (a *Archive) zeroPadding(from, to int64) bool {
	if to <= from || to-from > 64<<10 || to%4096 != 0 {
		return false
	}
	b := make([]byte, to-from)
	if _, err := a.r.ReadAt(b, from); err != nil {
		return false
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
