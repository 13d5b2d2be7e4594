// Package dex reads Dalvik Executable files and analyses their bytecode for
// the app scanner (internal/apk): identifier tables, classes, code items,
// line tables, and per-method facts — call sites with the values of their
// arguments, string constants, field accesses, instantiated types — from
// one linear pass over each method (Analyzer.AnalyzeMethod). Program joins
// the classes*.dex files of an app and answers a class's superclass and
// interfaces, from the app's classes or a built-in table of the Android
// framework hierarchy:
//
//	f, err := dex.Parse(data, nil) // one per classes*.dex
//	a := dex.Analyzer{Budget: dex.NewBudget(f)}
//	cd, err := a.ClassData(f, &f.Classes()[i])
//	code, err := f.Code(cd.VirtualMethods[j].CodeOff)
//	err = a.AnalyzeMethod(f, cd.VirtualMethods[j].Method, &code, &facts)
//	for k := range facts.Calls { … f.Method(facts.Calls[k].Method), facts.Args(&facts.Calls[k]) … }
//
// The reader is built for hostile input and for speed: every count and
// offset is checked against the file size before anything is allocated from
// it; tables are read in place from one immutable copy of the file; strings
// that are plain ASCII (nearly all of them) are substrings of that copy, so
// decoding them allocates nothing; class data and code are parsed only when
// asked for; facts are pointer-free records. A file's Budget bounds the
// analysis work to about twice its size, whatever its classes and methods
// share.
package dex

import (
	"encoding/binary"
	"hash/adler32"
	"strings"
	"unicode/utf8"
)

// NoIndex marks an absent index (superclass of java.lang.Object, no source file).
const NoIndex = 0xffffffff

const headerSize = 0x70

// Limits bounds the work and memory spent on one file. The zero value of a
// field means its default.
type Limits struct {
	MaxFileSize   int64 // default 512 MiB
	MaxStrings    int   // default 1<<24
	MaxClasses    int   // default 1<<20
	MaxCodeUnits  int   // per method; default 1<<22 (the format allows 2^32)
	MaxClassItems int   // fields+methods per class; default 1<<20
}

// DefaultLimits are generous enough for any real app (the largest DEX files
// are a few tens of MB) while keeping a hostile header from costing more
// than a bounded multiple of the file size.
func DefaultLimits() Limits {
	return Limits{
		MaxFileSize:   512 << 20,
		MaxStrings:    1 << 24,
		MaxClasses:    1 << 20,
		MaxCodeUnits:  1 << 22,
		MaxClassItems: 1 << 20,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxFileSize > 0 {
		d.MaxFileSize = l.MaxFileSize
	}
	if l.MaxStrings > 0 {
		d.MaxStrings = l.MaxStrings
	}
	if l.MaxClasses > 0 {
		d.MaxClasses = l.MaxClasses
	}
	if l.MaxCodeUnits > 0 {
		d.MaxCodeUnits = l.MaxCodeUnits
	}
	if l.MaxClassItems > 0 {
		d.MaxClassItems = l.MaxClassItems
	}
	return d
}

// Header is the decoded DEX header.
type Header struct {
	Version   int // 35 … 40
	Checksum  uint32
	Signature [20]byte
	FileSize  uint32
	MapOff    uint32
	Strings   Section
	Types     Section
	Protos    Section
	Fields    Section
	Methods   Section
	ClassDefs Section
	Data      Section
}

// Section is a (count, offset) pair from the header.
type Section struct{ Size, Off uint32 }

// File is a parsed DEX file. It is immutable after Parse and safe for
// concurrent use.
type File struct {
	Header Header
	s      string // the whole file
	lim    Limits

	strings []string
	types   []string
	protos  []string // proto descriptors, "(params)ret"
	classes []Class
	byDesc  map[string]int
	mapList []MapItem
}

// MethodRef names a method: declaring class descriptor, name, and proto
// descriptor such as "(Ljava/lang/String;)V".
type MethodRef struct {
	Class, Name, Proto string
}

func (r MethodRef) String() string { return r.Class + "->" + r.Name + r.Proto }

// FieldRef names a field.
type FieldRef struct {
	Class, Name, Type string
}

func (r FieldRef) String() string { return r.Class + "->" + r.Name + ":" + r.Type }

// Class is a class_def item.
type Class struct {
	Index      int
	Desc       string
	Access     uint32
	Super      string // "" when none
	Interfaces []string
	SourceFile string // "" when unknown
	dataOff    uint32
	staticOff  uint32
}

// MapItem is an entry of the map list.
type MapItem struct {
	Type uint16
	Size uint32
	Off  uint32
}

// Parse reads a DEX file. It keeps one copy of data (callers may reuse
// data afterwards) and validates the header, the identifier tables, the
// class definitions and the map list; class data and code are validated
// when first read. lim may be nil for DefaultLimits();
// zero fields of *lim also take their default.
func Parse(data []byte, lim *Limits) (*File, error) {
	var l Limits
	if lim != nil {
		l = *lim
	}
	l = l.withDefaults()
	if int64(len(data)) > l.MaxFileSize {
		return nil, formatErr("file", -1, ErrLimit, "%d bytes > limit %d", len(data), l.MaxFileSize)
	}
	if len(data) < headerSize {
		return nil, formatErr("header", 0, ErrTruncated, "%d bytes", len(data))
	}
	f := &File{lim: l}
	if err := f.parseHeader(data); err != nil {
		return nil, err
	}
	// Only now, with a plausible header, copy the file.
	f.s = string(data)
	if err := f.parseStrings(); err != nil {
		return nil, err
	}
	if err := f.parseTypes(); err != nil {
		return nil, err
	}
	if err := f.parseProtos(); err != nil {
		return nil, err
	}
	if err := f.checkRefTables(); err != nil {
		return nil, err
	}
	if err := f.parseClassDefs(); err != nil {
		return nil, err
	}
	if err := f.parseMap(); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *File) parseHeader(d []byte) error {
	h := &f.Header
	if string(d[:4]) != "dex\n" || d[7] != 0 || d[4] != '0' || d[5] < '3' || d[5] > '4' || d[6] < '0' || d[6] > '9' {
		return formatErr("header", 0, ErrMagic, "magic %q", d[:8])
	}
	h.Version = int(d[5]-'0')*10 + int(d[6]-'0')
	switch h.Version {
	case 35, 37, 38, 39, 40:
	default:
		return formatErr("header", 0, ErrMagic, "version %03d", h.Version)
	}
	le := binary.LittleEndian
	h.Checksum = le.Uint32(d[8:])
	copy(h.Signature[:], d[12:32])
	h.FileSize = le.Uint32(d[32:])
	if hs := le.Uint32(d[36:]); hs != headerSize {
		return formatErr("header", 36, ErrFormat, "header_size %#x", hs)
	}
	if tag := le.Uint32(d[40:]); tag != 0x12345678 {
		return formatErr("header", 40, ErrFormat, "endian_tag %#x (only little-endian files exist in practice)", tag)
	}
	if int64(h.FileSize) != int64(len(d)) {
		// A file longer than file_size is tolerated (trailing bytes are
		// ignored, as in a DEX container); a shorter one is truncated.
		if int64(h.FileSize) > int64(len(d)) || h.FileSize < headerSize {
			return formatErr("header", 32, ErrTruncated, "file_size %d, have %d bytes", h.FileSize, len(d))
		}
	}
	h.MapOff = le.Uint32(d[52:])
	sec := func(o int) Section { return Section{le.Uint32(d[o:]), le.Uint32(d[o+4:])} }
	h.Strings, h.Types, h.Protos = sec(56), sec(64), sec(72)
	h.Fields, h.Methods, h.ClassDefs, h.Data = sec(80), sec(88), sec(96), sec(104)
	for _, c := range []struct {
		name string
		s    Section
		size int64
	}{
		{"string_ids", h.Strings, 4}, {"type_ids", h.Types, 4}, {"proto_ids", h.Protos, 12},
		{"field_ids", h.Fields, 8}, {"method_ids", h.Methods, 8}, {"class_defs", h.ClassDefs, 32},
	} {
		if err := f.checkSection(c.name, c.s, c.size); err != nil {
			return err
		}
	}
	switch {
	case int(h.Strings.Size) > f.lim.MaxStrings:
		return formatErr("string_ids", int64(h.Strings.Off), ErrLimit, "%d strings > limit %d", h.Strings.Size, f.lim.MaxStrings)
	case int(h.ClassDefs.Size) > f.lim.MaxClasses:
		return formatErr("class_defs", int64(h.ClassDefs.Off), ErrLimit, "%d classes > limit %d", h.ClassDefs.Size, f.lim.MaxClasses)
	case h.Types.Size > 1<<16:
		return formatErr("type_ids", int64(h.Types.Off), ErrLimit, "%d types (indexes are 16-bit)", h.Types.Size)
	case h.Protos.Size > 1<<16:
		return formatErr("proto_ids", int64(h.Protos.Off), ErrLimit, "%d protos (indexes are 16-bit)", h.Protos.Size)
	}
	return nil
}

// checkSection verifies that n entries of size bytes at off lie inside the
// file, in 64-bit arithmetic so that no product can wrap.
func (f *File) checkSection(name string, s Section, size int64) error {
	if s.Size == 0 {
		return nil
	}
	end := int64(s.Off) + int64(s.Size)*size
	if int64(s.Off) < headerSize || end > int64(f.Header.FileSize) {
		return formatErr(name, int64(s.Off), ErrOutOfRange, "%d entries of %d bytes do not fit in %d bytes", s.Size, size, f.Header.FileSize)
	}
	return nil
}

func (f *File) u16(off uint32) uint16 {
	return uint16(f.s[off]) | uint16(f.s[off+1])<<8
}

func (f *File) u32(off uint32) uint32 {
	s := f.s[off : off+4]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// end is the exclusive end of meaningful data.
func (f *File) end() uint32 { return f.Header.FileSize }

// uleb128 decodes an unsigned LEB128 at off, returning the value and the
// offset after it.
func (f *File) uleb128(off uint32) (uint32, uint32, bool) {
	var v uint32
	end := f.end()
	for i := uint32(0); i < 5; i++ {
		if off+i >= end {
			return 0, 0, false
		}
		b := f.s[off+i]
		v |= uint32(b&0x7f) << (7 * i)
		if b < 0x80 {
			return v, off + i + 1, true
		}
	}
	return 0, 0, false
}

func (f *File) parseStrings() error {
	h := f.Header.Strings
	f.strings = make([]string, h.Size)
	end := f.end()
	for i := range f.strings {
		at := h.Off + 4*uint32(i)
		off := f.u32(at)
		if off < headerSize || off >= end {
			return formatErr("string_ids", int64(at), ErrOutOfRange, "string %d data at %#x", i, off)
		}
		_, p, ok := f.uleb128(off)
		if !ok {
			return formatErr("string_data", int64(off), ErrTruncated, "string %d length", i)
		}
		n := strings.IndexByte(f.s[p:end], 0)
		if n < 0 {
			return formatErr("string_data", int64(off), ErrTruncated, "string %d not terminated", i)
		}
		raw := f.s[p : p+uint32(n)]
		if isASCII(raw) {
			f.strings[i] = raw
		} else {
			f.strings[i] = decodeMUTF8(raw)
		}
	}
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// decodeMUTF8 converts Modified UTF-8 (two-byte NUL, surrogate pairs as two
// three-byte sequences) to UTF-8. Malformed sequences become U+FFFD rather
// than errors: obfuscators emit odd strings and a scan should still see the
// rest of the app.
func decodeMUTF8(s string) string {
	b := make([]byte, 0, len(s)+4)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c < 0x80:
			b = append(b, c)
			i++
			continue
		case c&0xe0 == 0xc0 && i+1 < len(s) && s[i+1]&0xc0 == 0x80:
			r := rune(c&0x1f)<<6 | rune(s[i+1]&0x3f)
			b = utf8.AppendRune(b, r)
			i += 2
			continue
		case c&0xf0 == 0xe0 && i+2 < len(s) && s[i+1]&0xc0 == 0x80 && s[i+2]&0xc0 == 0x80:
			r := rune(c&0x0f)<<12 | rune(s[i+1]&0x3f)<<6 | rune(s[i+2]&0x3f)
			i += 3
			if r >= 0xd800 && r < 0xdc00 && i+2 < len(s) && s[i] == 0xed && s[i+1]&0xf0 == 0xb0 && s[i+2]&0xc0 == 0x80 {
				lo := rune(s[i]&0x0f)<<12 | rune(s[i+1]&0x3f)<<6 | rune(s[i+2]&0x3f)
				r = 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00)
				i += 3
			}
			b = utf8.AppendRune(b, r) // lone surrogates become U+FFFD
			continue
		}
		b = utf8.AppendRune(b, utf8.RuneError)
		i++
	}
	return string(b)
}

func (f *File) parseTypes() error {
	h := f.Header.Types
	f.types = make([]string, h.Size)
	for i := range f.types {
		at := h.Off + 4*uint32(i)
		ix := f.u32(at)
		if ix >= uint32(len(f.strings)) {
			return formatErr("type_ids", int64(at), ErrOutOfRange, "type %d names string %d", i, ix)
		}
		f.types[i] = f.strings[ix]
	}
	return nil
}

func (f *File) parseProtos() error {
	h := f.Header.Protos
	f.protos = make([]string, h.Size)
	var sb strings.Builder
	for i := range f.protos {
		at := h.Off + 12*uint32(i)
		ret := f.u32(at + 4)
		if ret >= uint32(len(f.types)) {
			return formatErr("proto_ids", int64(at), ErrOutOfRange, "proto %d return type %d", i, ret)
		}
		params, err := f.typeList(f.u32(at + 8))
		if err != nil {
			return err
		}
		sb.Reset()
		sb.WriteByte('(')
		for _, p := range params {
			sb.WriteString(p)
		}
		sb.WriteByte(')')
		sb.WriteString(f.types[ret])
		f.protos[i] = sb.String()
	}
	return nil
}

// typeList reads a type_list; off 0 is the empty list.
func (f *File) typeList(off uint32) ([]string, error) {
	if off == 0 {
		return nil, nil
	}
	if off < headerSize || off%4 != 0 || int64(off)+4 > int64(f.end()) {
		return nil, formatErr("type_list", int64(off), ErrOutOfRange, "")
	}
	n := f.u32(off)
	if int64(off)+4+2*int64(n) > int64(f.end()) {
		return nil, formatErr("type_list", int64(off), ErrTruncated, "%d entries", n)
	}
	out := make([]string, n)
	for i := range out {
		ix := f.u16(off + 4 + 2*uint32(i))
		if int(ix) >= len(f.types) {
			return nil, formatErr("type_list", int64(off), ErrOutOfRange, "type %d", ix)
		}
		out[i] = f.types[ix]
	}
	return out, nil
}

// checkRefTables validates field_ids and method_ids once so that lookups
// later need no error path.
func (f *File) checkRefTables() error {
	nt, ns, np := uint32(len(f.types)), uint32(len(f.strings)), uint32(len(f.protos))
	h := f.Header.Fields
	for i := uint32(0); i < h.Size; i++ {
		at := h.Off + 8*i
		if uint32(f.u16(at)) >= nt || uint32(f.u16(at+2)) >= nt || f.u32(at+4) >= ns {
			return formatErr("field_ids", int64(at), ErrOutOfRange, "field %d", i)
		}
	}
	h = f.Header.Methods
	for i := uint32(0); i < h.Size; i++ {
		at := h.Off + 8*i
		if uint32(f.u16(at)) >= nt || uint32(f.u16(at+2)) >= np || f.u32(at+4) >= ns {
			return formatErr("method_ids", int64(at), ErrOutOfRange, "method %d", i)
		}
	}
	return nil
}

func (f *File) parseClassDefs() error {
	h := f.Header.ClassDefs
	f.classes = make([]Class, h.Size)
	f.byDesc = make(map[string]int, h.Size)
	nt := uint32(len(f.types))
	for i := range f.classes {
		at := h.Off + 32*uint32(i)
		c := &f.classes[i]
		c.Index = i
		ci := f.u32(at)
		if ci >= nt {
			return formatErr("class_defs", int64(at), ErrOutOfRange, "class %d type %d", i, ci)
		}
		c.Desc = f.types[ci]
		c.Access = f.u32(at + 4)
		if si := f.u32(at + 8); si != NoIndex {
			if si >= nt {
				return formatErr("class_defs", int64(at), ErrOutOfRange, "class %s superclass type %d", c.Desc, si)
			}
			c.Super = f.types[si]
		}
		var err error
		if c.Interfaces, err = f.typeList(f.u32(at + 12)); err != nil {
			return err
		}
		if sf := f.u32(at + 16); sf != NoIndex {
			if sf >= uint32(len(f.strings)) {
				return formatErr("class_defs", int64(at), ErrOutOfRange, "class %s source file %d", c.Desc, sf)
			}
			c.SourceFile = f.strings[sf]
		}
		c.dataOff = f.u32(at + 24)
		if c.dataOff != 0 && (c.dataOff < headerSize || c.dataOff >= f.end()) {
			return formatErr("class_defs", int64(at), ErrOutOfRange, "class %s class_data at %#x", c.Desc, c.dataOff)
		}
		c.staticOff = f.u32(at + 28)
		if c.staticOff != 0 && (c.staticOff < headerSize || c.staticOff >= f.end()) {
			return formatErr("class_defs", int64(at), ErrOutOfRange, "class %s static_values at %#x", c.Desc, c.staticOff)
		}
		if _, dup := f.byDesc[c.Desc]; !dup {
			f.byDesc[c.Desc] = i
		}
	}
	return nil
}

func (f *File) parseMap() error {
	off := f.Header.MapOff
	if off == 0 {
		return nil // optional for us; the platform verifier insists on it
	}
	if off < headerSize || off%4 != 0 || int64(off)+4 > int64(f.end()) {
		return formatErr("map_list", int64(off), ErrOutOfRange, "")
	}
	n := f.u32(off)
	if int64(off)+4+12*int64(n) > int64(f.end()) {
		return formatErr("map_list", int64(off), ErrTruncated, "%d items", n)
	}
	f.mapList = make([]MapItem, n)
	for i := range f.mapList {
		at := off + 4 + 12*uint32(i)
		it := MapItem{Type: f.u16(at), Size: f.u32(at + 4), Off: f.u32(at + 8)}
		if it.Off >= f.end() && it.Size > 0 {
			return formatErr("map_list", int64(at), ErrOutOfRange, "item type %#x at %#x", it.Type, it.Off)
		}
		f.mapList[i] = it
	}
	return nil
}

// VerifyChecksum checks the Adler-32 checksum of the header. Parse does not
// (tools and obfuscators often leave it stale and Android only checks it
// at install time).
func (f *File) VerifyChecksum() error {
	if got := adler32.Checksum([]byte(f.s[12:f.end()])); got != f.Header.Checksum {
		return formatErr("header", 8, ErrChecksum, "stored %#x, computed %#x", f.Header.Checksum, got)
	}
	return nil
}

// NumStrings, NumTypes, NumFields and NumMethods are the sizes of the
// identifier tables.
func (f *File) NumStrings() int { return len(f.strings) }

// NumTypes is the number of type_ids.
func (f *File) NumTypes() int { return len(f.types) }

// NumFields is the number of field_ids.
func (f *File) NumFields() int { return int(f.Header.Fields.Size) }

// NumMethods is the number of method_ids.
func (f *File) NumMethods() int { return int(f.Header.Methods.Size) }

// String returns string i, or "" when out of range.
func (f *File) String(i uint32) string {
	if i >= uint32(len(f.strings)) {
		return ""
	}
	return f.strings[i]
}

// Strings returns the string table. Callers must not modify it.
func (f *File) Strings() []string { return f.strings }

// Type returns the descriptor of type i, or "" when out of range.
func (f *File) Type(i uint32) string {
	if i >= uint32(len(f.types)) {
		return ""
	}
	return f.types[i]
}

// Proto returns the descriptor of proto i, e.g. "(Ljava/lang/String;)V".
func (f *File) Proto(i uint32) string {
	if i >= uint32(len(f.protos)) {
		return ""
	}
	return f.protos[i]
}

// Method returns method_ids[i]; the zero MethodRef when out of range.
func (f *File) Method(i uint32) MethodRef {
	if i >= f.Header.Methods.Size {
		return MethodRef{}
	}
	at := f.Header.Methods.Off + 8*i
	return MethodRef{Class: f.types[f.u16(at)], Name: f.strings[f.u32(at+4)], Proto: f.protos[f.u16(at+2)]}
}

// Field returns field_ids[i]; the zero FieldRef when out of range.
func (f *File) Field(i uint32) FieldRef {
	if i >= f.Header.Fields.Size {
		return FieldRef{}
	}
	at := f.Header.Fields.Off + 8*i
	return FieldRef{Class: f.types[f.u16(at)], Type: f.types[f.u16(at+2)], Name: f.strings[f.u32(at+4)]}
}

// Classes returns the class definitions. Callers must not modify them.
func (f *File) Classes() []Class { return f.classes }

// Class returns the class defined with descriptor desc.
func (f *File) Class(desc string) (*Class, bool) {
	i, ok := f.byDesc[desc]
	if !ok {
		return nil, false
	}
	return &f.classes[i], true
}

// MapList returns the map list (nil when the file has none).
func (f *File) MapList() []MapItem { return f.mapList }

// EncodedField is a field defined by a class.
type EncodedField struct {
	Field  uint32 // index into field_ids
	Access uint32
}

// EncodedMethod is a method defined by a class.
type EncodedMethod struct {
	Method  uint32 // index into method_ids
	Access  uint32
	CodeOff uint32 // 0 for abstract and native methods
}

// ClassData lists what a class defines.
type ClassData struct {
	StaticFields, InstanceFields  []EncodedField
	DirectMethods, VirtualMethods []EncodedMethod
}

// ClassData decodes the class_data_item of c (nil data, nil error when the
// class defines nothing).
func (f *File) ClassData(c *Class) (*ClassData, error) {
	cd, _, err := f.classData(c)
	return cd, err
}

// classData also returns the size of the encoded item, which callers
// charge to a work budget.
func (f *File) classData(c *Class) (*ClassData, uint32, error) {
	if c.dataOff == 0 {
		return nil, 0, nil
	}
	p := c.dataOff
	var n [4]uint32
	total := 0
	for i := range n {
		v, next, ok := f.uleb128(p)
		if !ok {
			return nil, 0, formatErr("class_data", int64(p), ErrTruncated, "class %s", c.Desc)
		}
		n[i], p = v, next
		total += int(v)
	}
	// Each field takes at least two bytes and each method three, so the
	// counts are bounded by what is left of the file before we allocate.
	left := int64(f.end() - p)
	if int64(n[0])+int64(n[1]) > left/2 || int64(n[2])+int64(n[3]) > left/3 || total > f.lim.MaxClassItems {
		return nil, 0, formatErr("class_data", int64(c.dataOff), ErrLimit, "class %s claims %v members", c.Desc, n)
	}
	fields := make([]EncodedField, n[0]+n[1])
	methods := make([]EncodedMethod, n[2]+n[3])
	nf, nm := f.Header.Fields.Size, f.Header.Methods.Size
	k := 0
	for g := 0; g < 2; g++ {
		idx := uint32(0)
		for j := uint32(0); j < n[g]; j++ {
			var d, acc uint32
			var ok bool
			if d, p, ok = f.uleb128(p); ok {
				acc, p, ok = f.uleb128(p)
			}
			if !ok {
				return nil, 0, formatErr("class_data", int64(p), ErrTruncated, "class %s field", c.Desc)
			}
			idx += d
			if idx >= nf || idx < d {
				return nil, 0, formatErr("class_data", int64(p), ErrOutOfRange, "class %s field index %d", c.Desc, idx)
			}
			fields[k] = EncodedField{idx, acc}
			k++
		}
	}
	k = 0
	for g := 2; g < 4; g++ {
		idx := uint32(0)
		for j := uint32(0); j < n[g]; j++ {
			var d, acc, code uint32
			var ok bool
			if d, p, ok = f.uleb128(p); ok {
				if acc, p, ok = f.uleb128(p); ok {
					code, p, ok = f.uleb128(p)
				}
			}
			if !ok {
				return nil, 0, formatErr("class_data", int64(p), ErrTruncated, "class %s method", c.Desc)
			}
			idx += d
			if idx >= nm || idx < d {
				return nil, 0, formatErr("class_data", int64(p), ErrOutOfRange, "class %s method index %d", c.Desc, idx)
			}
			if code != 0 && (code < headerSize || code >= f.end()) {
				return nil, 0, formatErr("class_data", int64(p), ErrOutOfRange, "class %s code at %#x", c.Desc, code)
			}
			methods[k] = EncodedMethod{idx, acc, code}
			k++
		}
	}
	return &ClassData{
		StaticFields:   fields[:n[0]:n[0]],
		InstanceFields: fields[n[0]:],
		DirectMethods:  methods[:n[2]:n[2]],
		VirtualMethods: methods[n[2]:],
	}, p - c.dataOff, nil
}

// Code is a code_item.
type Code struct {
	Off       uint32 // offset of the code_item
	Registers uint16
	Ins       uint16
	Outs      uint16
	Tries     uint16
	// DebugInfo is the offset of the debug_info_item (line table), 0 when
	// the method has none.
	DebugInfo uint32
	insns     string // the instructions, 2 bytes per code unit
}

// Len is the number of 16-bit code units.
func (c *Code) Len() int { return len(c.insns) / 2 }

// Unit returns code unit i.
func (c *Code) Unit(i int) uint16 { return uint16(c.insns[2*i]) | uint16(c.insns[2*i+1])<<8 }

// Code reads the code_item at off (from EncodedMethod.CodeOff).
func (f *File) Code(off uint32) (Code, error) {
	if off < headerSize || off%4 != 0 || int64(off)+16 > int64(f.end()) {
		return Code{}, formatErr("code", int64(off), ErrOutOfRange, "code_item")
	}
	c := Code{Off: off, Registers: f.u16(off), Ins: f.u16(off + 2), Outs: f.u16(off + 4), Tries: f.u16(off + 6), DebugInfo: f.u32(off + 8)}
	n := f.u32(off + 12)
	if int64(n) > int64(f.lim.MaxCodeUnits) {
		return Code{}, formatErr("code", int64(off), ErrLimit, "%d code units", n)
	}
	if int64(off)+16+2*int64(n) > int64(f.end()) {
		return Code{}, formatErr("code", int64(off), ErrTruncated, "%d code units", n)
	}
	if c.Ins > c.Registers {
		return Code{}, formatErr("code", int64(off), ErrFormat, "ins_size %d > registers_size %d", c.Ins, c.Registers)
	}
	c.insns = f.s[off+16 : off+16+2*n]
	return c, nil
}
