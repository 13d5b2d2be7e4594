package axml

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// Chunk types of Android's resource format (ResChunk_header.type), shared by
// binary XML and resources.arsc.
const (
	ChunkNull           = 0x0000
	ChunkStringPool     = 0x0001
	ChunkTable          = 0x0002
	ChunkXML            = 0x0003
	ChunkXMLStartNS     = 0x0100
	ChunkXMLEndNS       = 0x0101
	ChunkXMLStartElem   = 0x0102
	ChunkXMLEndElem     = 0x0103
	ChunkXMLCData       = 0x0104
	ChunkXMLResourceMap = 0x0180
	ChunkTablePackage   = 0x0200
	ChunkTableType      = 0x0201
	ChunkTableTypeSpec  = 0x0202
	ChunkTableLibrary   = 0x0203
)

// NoIndex is the "no string" / "no namespace" marker (0xFFFFFFFF).
const NoIndex = 0xffffffff

// ErrFormat is wrapped by every error about malformed input.
var ErrFormat = errors.New("malformed Android resource data")

const (
	poolFlagSorted = 1 << 0
	poolFlagUTF8   = 1 << 8
	poolHeaderSize = 28
)

// StringPool is a lazily decoded ResStringPool. It is not safe for
// concurrent use (it caches decoded strings).
type StringPool struct {
	chunk    []byte
	offBase  uint32 // start of the offset table
	count    uint32
	strStart uint32
	strEnd   uint32
	utf8     bool
	// cache holds decoded strings by index (done marks them). Indices
	// that alias one offset decode separately, but budget caps the total.
	cache []string
	done  []bool
	// long caches long strings by offset too, so indices aliasing one
	// long string share it instead of draining the budget.
	long   map[uint32]string
	budget int // decoded bytes still allowed
}

// ParseStringPool parses a string pool chunk (header included). Offsets are
// only validated when a string is read, as Android does, so one bad entry
// does not lose the whole pool.
func ParseStringPool(chunk []byte) (*StringPool, error) {
	if len(chunk) < poolHeaderSize {
		return nil, fmt.Errorf("%w: string pool of %d bytes", ErrFormat, len(chunk))
	}
	hs := uint32(binary.LittleEndian.Uint16(chunk[2:]))
	size := binary.LittleEndian.Uint32(chunk[4:])
	if size > uint32(len(chunk)) || size < poolHeaderSize {
		size = uint32(len(chunk))
	}
	if hs < poolHeaderSize || hs > size {
		hs = poolHeaderSize
	}
	chunk = chunk[:size]
	p := &StringPool{
		chunk:    chunk,
		count:    binary.LittleEndian.Uint32(chunk[8:]),
		utf8:     binary.LittleEndian.Uint32(chunk[16:])&poolFlagUTF8 != 0,
		strStart: binary.LittleEndian.Uint32(chunk[20:]),
		// Every string referenced once costs at most ~1.5x the pool; the
		// margin keeps honest files far below while cyclic or overlapping
		// offsets cannot blow up memory.
		budget: 4*len(chunk) + 1<<16,
	}
	styleCount := binary.LittleEndian.Uint32(chunk[12:])
	stylesStart := binary.LittleEndian.Uint32(chunk[24:])
	// Offsets table must fit in the chunk: this is what bounds count.
	if uint64(hs)+uint64(p.count)*4 > uint64(size) {
		return nil, fmt.Errorf("%w: string pool claims %d strings in %d bytes", ErrFormat, p.count, size)
	}
	if uint64(hs)+uint64(p.count)*4+uint64(styleCount)*4 > uint64(size) {
		styleCount = 0 // styles are irrelevant to us; ignore a bad count
	}
	if p.count > 0 && (p.strStart < hs || p.strStart > size) {
		return nil, fmt.Errorf("%w: string data at %d outside pool of %d bytes", ErrFormat, p.strStart, size)
	}
	p.strEnd = size
	if styleCount > 0 && stylesStart > p.strStart && stylesStart < size {
		p.strEnd = stylesStart
	}
	p.offBase = hs
	return p, nil
}

// Len returns the number of strings.
func (p *StringPool) Len() int {
	if p == nil {
		return 0
	}
	return int(p.count)
}

// UTF8 reports whether the pool stores UTF-8 (else UTF-16).
func (p *StringPool) UTF8() bool { return p != nil && p.utf8 }

// Get returns string i.
func (p *StringPool) Get(i uint32) (string, error) {
	if p == nil || i >= p.count {
		return "", fmt.Errorf("%w: string index %d out of range", ErrFormat, i)
	}
	if p.cache == nil {
		// count is bounded by the chunk size (checked in ParseStringPool).
		p.cache = make([]string, p.count)
		p.done = make([]bool, p.count)
	}
	if p.done[i] {
		return p.cache[i], nil
	}
	off := binary.LittleEndian.Uint32(p.chunk[p.offBase+i*4:])
	if s, ok := p.long[off]; ok {
		p.cache[i], p.done[i] = s, true
		return s, nil
	}
	start := uint64(p.strStart) + uint64(off)
	if start >= uint64(p.strEnd) {
		return "", fmt.Errorf("%w: string %d at offset %d outside pool", ErrFormat, i, off)
	}
	b := p.chunk[start:p.strEnd]
	var s string
	var err error
	if p.utf8 {
		s, err = p.decodeUTF8(b)
	} else {
		s, err = p.decodeUTF16(b)
	}
	if err != nil {
		return "", fmt.Errorf("string %d: %w", i, err)
	}
	p.cache[i], p.done[i] = s, true
	if len(s) > 256 {
		if p.long == nil {
			p.long = map[uint32]string{}
		}
		p.long[off] = s
	}
	return s, nil
}

// String returns string i, or "" when it cannot be read.
func (p *StringPool) String(i uint32) string {
	s, _ := p.Get(i)
	return s
}

var errBudget = fmt.Errorf("%w: string pool decoding budget exhausted", ErrFormat)

func (p *StringPool) decodeUTF8(b []byte) (string, error) {
	// Two lengths: UTF-16 units (ignored) then bytes, each 1 or 2 bytes.
	_, n, ok := len8(b)
	if !ok {
		return "", fmt.Errorf("%w: truncated string length", ErrFormat)
	}
	b = b[n:]
	blen, n, ok := len8(b)
	if !ok {
		return "", fmt.Errorf("%w: truncated string length", ErrFormat)
	}
	b = b[n:]
	if blen > len(b) {
		return "", fmt.Errorf("%w: string of %d bytes overruns pool", ErrFormat, blen)
	}
	if p.budget -= blen; p.budget < 0 {
		return "", errBudget
	}
	raw := b[:blen]
	if utf8.Valid(raw) {
		return string(raw), nil
	}
	// aapt writes "modified UTF-8" (CESU-8 surrogates); decode it rather
	// than show replacement characters.
	return decodeCESU8(raw), nil
}

func len8(b []byte) (int, int, bool) {
	if len(b) < 1 {
		return 0, 0, false
	}
	if b[0]&0x80 == 0 {
		return int(b[0]), 1, true
	}
	if len(b) < 2 {
		return 0, 0, false
	}
	return int(b[0]&0x7f)<<8 | int(b[1]), 2, true
}

func (p *StringPool) decodeUTF16(b []byte) (string, error) {
	if len(b) < 2 {
		return "", fmt.Errorf("%w: truncated string length", ErrFormat)
	}
	n := int(binary.LittleEndian.Uint16(b))
	b = b[2:]
	if n&0x8000 != 0 {
		if len(b) < 2 {
			return "", fmt.Errorf("%w: truncated string length", ErrFormat)
		}
		n = (n&0x7fff)<<16 | int(binary.LittleEndian.Uint16(b))
		b = b[2:]
	}
	if n > len(b)/2 {
		return "", fmt.Errorf("%w: string of %d units overruns pool", ErrFormat, n)
	}
	if p.budget -= 3 * n; p.budget < 0 {
		return "", errBudget
	}
	u := make([]uint16, n)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u)), nil
}

// decodeCESU8 decodes modified UTF-8 where supplementary characters are
// written as two 3-byte surrogates; anything still invalid becomes U+FFFD.
func decodeCESU8(b []byte) string {
	out := make([]rune, 0, len(b))
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 && len(b) >= 3 && b[0] == 0xed {
			s := rune(b[0]&0x0f)<<12 | rune(b[1]&0x3f)<<6 | rune(b[2]&0x3f)
			if utf16.IsSurrogate(s) && len(b) >= 6 && b[3] == 0xed {
				s2 := rune(b[3]&0x0f)<<12 | rune(b[4]&0x3f)<<6 | rune(b[5]&0x3f)
				if c := utf16.DecodeRune(s, s2); c != utf8.RuneError {
					out = append(out, c)
					b = b[6:]
					continue
				}
			}
			out = append(out, utf8.RuneError)
			b = b[3:]
			continue
		}
		out = append(out, r)
		b = b[n:]
	}
	return string(out)
}

// EncodeStringPool writes strings as a string pool chunk, UTF-8 or UTF-16.
func EncodeStringPool(strs []string, useUTF8 bool) ([]byte, error) {
	var data []byte
	offsets := make([]uint32, len(strs))
	for i, s := range strs {
		offsets[i] = uint32(len(data))
		if useUTF8 {
			n16 := len(utf16.Encode([]rune(s)))
			if n16 > 0x7fff || len(s) > 0x7fff {
				return nil, fmt.Errorf("string %d too long for a UTF-8 pool", i)
			}
			data = appendLen8(data, n16)
			data = appendLen8(data, len(s))
			data = append(data, s...)
			data = append(data, 0)
		} else {
			u := utf16.Encode([]rune(s))
			if len(u) > 0x7fffffff {
				return nil, fmt.Errorf("string %d too long", i)
			}
			if len(u) > 0x7fff {
				data = binary.LittleEndian.AppendUint16(data, uint16(len(u)>>16)|0x8000)
			}
			data = binary.LittleEndian.AppendUint16(data, uint16(len(u)))
			for _, c := range u {
				data = binary.LittleEndian.AppendUint16(data, c)
			}
			data = append(data, 0, 0)
		}
	}
	for len(data)%4 != 0 {
		data = append(data, 0)
	}
	strStart := poolHeaderSize + 4*len(strs)
	size := strStart + len(data)
	out := make([]byte, 0, size)
	out = binary.LittleEndian.AppendUint16(out, ChunkStringPool)
	out = binary.LittleEndian.AppendUint16(out, poolHeaderSize)
	out = binary.LittleEndian.AppendUint32(out, uint32(size))
	out = binary.LittleEndian.AppendUint32(out, uint32(len(strs)))
	out = binary.LittleEndian.AppendUint32(out, 0) // styles
	var flags uint32
	if useUTF8 {
		flags |= poolFlagUTF8
	}
	out = binary.LittleEndian.AppendUint32(out, flags)
	if len(strs) == 0 {
		strStart = 0
	}
	out = binary.LittleEndian.AppendUint32(out, uint32(strStart))
	out = binary.LittleEndian.AppendUint32(out, 0)
	for _, o := range offsets {
		out = binary.LittleEndian.AppendUint32(out, o)
	}
	return append(out, data...), nil
}

func appendLen8(b []byte, n int) []byte {
	if n > 0x7f {
		return append(b, byte(n>>8)|0x80, byte(n))
	}
	return append(b, byte(n))
}
