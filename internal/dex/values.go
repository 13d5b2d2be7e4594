package dex

// Encoded value types (the low five bits of an encoded_value's first byte).
const (
	evByte         = 0x00
	evShort        = 0x02
	evChar         = 0x03
	evInt          = 0x04
	evLong         = 0x06
	evFloat        = 0x10
	evDouble       = 0x11
	evMethodType   = 0x15
	evMethodHandle = 0x16
	evString       = 0x17
	evType         = 0x18
	evField        = 0x19
	evMethod       = 0x1a
	evEnum         = 0x1b
	evArray        = 0x1c
	evAnnotation   = 0x1d
	evNull         = 0x1e
	evBoolean      = 0x1f
)

// maxValueDepth bounds the nesting of arrays and annotations inside an
// encoded value; real files nest one or two levels.
const maxValueDepth = 16

// StaticValues decodes the initial values of c's static fields (the
// static_values encoded_array), in the order of ClassData.StaticFields.
// Fields beyond the array are zero and are omitted. Integers, booleans and
// characters become ConstInt, strings ConstString, class literals
// ConstClass; other values (floats, null, nested arrays…) are Unknown.
//
// javac inlines uses of compile-time constants, so a `static final String
// KEY = "…"` appears here and at its uses as a const-string.
func (f *File) StaticValues(c *Class) ([]Value, error) {
	if c.staticOff == 0 {
		return nil, nil
	}
	n, p, ok := f.uleb128(c.staticOff)
	if !ok {
		return nil, formatErr("static_values", int64(c.staticOff), ErrTruncated, "class %s", c.Desc)
	}
	if int64(n) > int64(f.end()-p) { // every value takes at least one byte
		return nil, formatErr("static_values", int64(c.staticOff), ErrLimit, "class %s claims %d values", c.Desc, n)
	}
	out := make([]Value, n)
	for i := range out {
		var err error
		out[i], p, err = f.encodedValue(p, 0)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// encodedValue decodes the encoded_value at p and returns it with the
// offset after it.
func (f *File) encodedValue(p uint32, depth int) (Value, uint32, error) {
	if depth > maxValueDepth {
		return Value{}, 0, formatErr("encoded_value", int64(p), ErrLimit, "nested deeper than %d", maxValueDepth)
	}
	end := f.end()
	if p >= end {
		return Value{}, 0, formatErr("encoded_value", int64(p), ErrTruncated, "")
	}
	head := f.s[p]
	typ, arg := head&0x1f, uint32(head>>5)
	p++
	// The fixed-size kinds carry arg+1 bytes, little-endian.
	bytesOf := func(max uint32) (uint64, error) {
		size := arg + 1
		if size > max || p+size > end || p+size < p {
			return 0, formatErr("encoded_value", int64(p), ErrTruncated, "type %#x with %d bytes", typ, size)
		}
		var v uint64
		for i := uint32(0); i < size; i++ {
			v |= uint64(f.s[p+i]) << (8 * i)
		}
		p += size
		return v, nil
	}
	signExtend := func(v uint64) int64 {
		shift := 64 - 8*(arg+1)
		return int64(v<<shift) >> shift
	}
	switch typ {
	case evByte, evShort, evInt, evLong:
		v, err := bytesOf(widthOf(typ))
		return Value{Kind: ConstInt, Int: signExtend(v)}, p, err
	case evChar:
		v, err := bytesOf(2)
		return Value{Kind: ConstInt, Int: int64(v)}, p, err
	case evFloat, evDouble:
		_, err := bytesOf(widthOf(typ))
		return Value{}, p, err
	case evString:
		v, err := bytesOf(4)
		if err == nil && v >= uint64(len(f.strings)) {
			err = formatErr("encoded_value", int64(p), ErrOutOfRange, "string %d", v)
		}
		if err != nil {
			return Value{}, 0, err
		}
		return Value{Kind: ConstString, Str: f.strings[v]}, p, nil
	case evType:
		v, err := bytesOf(4)
		if err == nil && v >= uint64(len(f.types)) {
			err = formatErr("encoded_value", int64(p), ErrOutOfRange, "type %d", v)
		}
		if err != nil {
			return Value{}, 0, err
		}
		return Value{Kind: ConstClass, Str: f.types[v]}, p, nil
	case evMethodType, evMethodHandle, evField, evMethod, evEnum:
		_, err := bytesOf(4)
		return Value{}, p, err
	case evNull:
		return Value{}, p, nil
	case evBoolean:
		return Value{Kind: ConstInt, Int: int64(arg & 1)}, p, nil
	case evArray:
		n, q, ok := f.uleb128(p)
		if !ok || int64(n) > int64(end-q) {
			return Value{}, 0, formatErr("encoded_array", int64(p), ErrTruncated, "%d elements", n)
		}
		p = q
		for range n {
			var err error
			if _, p, err = f.encodedValue(p, depth+1); err != nil {
				return Value{}, 0, err
			}
		}
		return Value{}, p, nil
	case evAnnotation:
		var ok bool
		var n uint32
		if _, p, ok = f.uleb128(p); ok { // type_idx
			n, p, ok = f.uleb128(p)
		}
		if !ok || int64(n) > int64(end-p)/2 {
			return Value{}, 0, formatErr("encoded_annotation", int64(p), ErrTruncated, "%d elements", n)
		}
		for range n {
			if _, p, ok = f.uleb128(p); !ok { // name_idx
				return Value{}, 0, formatErr("encoded_annotation", int64(p), ErrTruncated, "")
			}
			var err error
			if _, p, err = f.encodedValue(p, depth+1); err != nil {
				return Value{}, 0, err
			}
		}
		return Value{}, p, nil
	}
	return Value{}, 0, formatErr("encoded_value", int64(p-1), ErrFormat, "unknown value type %#x", typ)
}

// widthOf is the largest size in bytes of a fixed-size encoded value.
func widthOf(typ byte) uint32 {
	switch typ {
	case evByte:
		return 1
	case evShort, evChar:
		return 2
	case evInt, evFloat:
		return 4
	}
	return 8
}
