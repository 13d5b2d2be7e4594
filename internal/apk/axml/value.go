package axml

import (
	"fmt"
	"math"
	"strconv"
)

// ValueType is the dataType byte of Android's Res_value: it says how Data is
// to be read. The numbers are part of the file format.
type ValueType uint8

// Res_value data types.
const (
	TypeNull             ValueType = 0x00
	TypeReference        ValueType = 0x01 // @0x7f...: a resource ID
	TypeAttribute        ValueType = 0x02 // ?0x01...: a theme attribute
	TypeString           ValueType = 0x03 // Data indexes the string pool; Str holds the text
	TypeFloat            ValueType = 0x04
	TypeDimension        ValueType = 0x05
	TypeFraction         ValueType = 0x06
	TypeDynamicReference ValueType = 0x07
	TypeDynamicAttribute ValueType = 0x08
	TypeIntDec           ValueType = 0x10
	TypeIntHex           ValueType = 0x11
	TypeIntBoolean       ValueType = 0x12
	TypeIntColorARGB8    ValueType = 0x1c
	TypeIntColorRGB8     ValueType = 0x1d
	TypeIntColorARGB4    ValueType = 0x1e
	TypeIntColorRGB4     ValueType = 0x1f
)

// Value is a typed attribute or resource value.
type Value struct {
	Type ValueType
	// Data is the raw 32-bit payload: an integer, a resource ID, float bits,
	// a packed dimension, or (for strings) the pool index.
	Data uint32
	// Str is the decoded text of a TypeString value.
	Str string
}

// Str returns a string value.
func Str(s string) Value { return Value{Type: TypeString, Str: s} }

// Bool returns a boolean value encoded as aapt does (true is all ones).
func Bool(b bool) Value {
	if b {
		return Value{Type: TypeIntBoolean, Data: 0xffffffff}
	}
	return Value{Type: TypeIntBoolean}
}

// Int returns a decimal integer value.
func Int(i int32) Value { return Value{Type: TypeIntDec, Data: uint32(i)} }

// Hex returns a hexadecimal integer value (flags such as protectionLevel).
func Hex(i uint32) Value { return Value{Type: TypeIntHex, Data: i} }

// Ref returns a reference to the resource id (@0x7f...).
func Ref(id uint32) Value { return Value{Type: TypeReference, Data: id} }

// IsNull reports whether the value is empty (TYPE_NULL).
func (v Value) IsNull() bool { return v.Type == TypeNull }

// IsReference reports whether v points to a resource (to be resolved
// through resources.arsc or resources.pb).
func (v Value) IsReference() bool {
	return (v.Type == TypeReference || v.Type == TypeDynamicReference) && v.Data != 0
}

// AsBool interprets v as a boolean. Android accepts any non-zero integer as
// true, and the strings "true"/"false" when a value was kept raw.
func (v Value) AsBool() (val, ok bool) {
	switch v.Type {
	case TypeIntBoolean, TypeIntDec, TypeIntHex:
		return v.Data != 0, true
	case TypeString:
		switch v.Str {
		case "true", "TRUE", "True":
			return true, true
		case "false", "FALSE", "False":
			return false, true
		}
	}
	return false, false
}

// AsInt interprets v as an integer; strings holding a decimal number count,
// because uses-sdk values are sometimes kept as text ("21" or a codename).
func (v Value) AsInt() (int64, bool) {
	switch v.Type {
	case TypeIntDec, TypeIntHex, TypeIntBoolean, TypeIntColorARGB8, TypeIntColorRGB8, TypeIntColorARGB4, TypeIntColorRGB4:
		return int64(int32(v.Data)), true
	case TypeString:
		if n, err := strconv.ParseInt(v.Str, 0, 64); err == nil {
			return n, true
		}
	}
	return 0, false
}

var dimensionUnits = [...]string{"px", "dip", "sp", "pt", "in", "mm"}
var fractionUnits = [...]string{"%", "%p"}

// complexToFloat decodes the 24-bit mantissa / radix packing Android uses
// for dimensions and fractions.
func complexToFloat(d uint32) float64 {
	mant := float64(int32(d&0xffffff00) >> 8)
	switch (d >> 4) & 3 {
	case 0:
		return mant
	case 1:
		return mant / (1 << 7)
	case 2:
		return mant / (1 << 15)
	default:
		return mant / (1 << 23)
	}
}

// String formats v the way aapt's "dump xmltree" does, so values read the
// same in reports as in Android tooling.
func (v Value) String() string {
	switch v.Type {
	case TypeNull:
		if v.Data == 1 {
			return "@empty"
		}
		return ""
	case TypeReference, TypeDynamicReference:
		if v.Data == 0 {
			return "@null"
		}
		return fmt.Sprintf("@0x%08x", v.Data)
	case TypeAttribute, TypeDynamicAttribute:
		return fmt.Sprintf("?0x%08x", v.Data)
	case TypeString:
		return v.Str
	case TypeFloat:
		return strconv.FormatFloat(float64(math.Float32frombits(v.Data)), 'g', -1, 32)
	case TypeDimension:
		u := v.Data & 0xf
		unit := "?"
		if int(u) < len(dimensionUnits) {
			unit = dimensionUnits[u]
		}
		return strconv.FormatFloat(complexToFloat(v.Data), 'f', -1, 64) + unit
	case TypeFraction:
		u := v.Data & 0xf
		unit := "?"
		if int(u) < len(fractionUnits) {
			unit = fractionUnits[u]
		}
		return strconv.FormatFloat(complexToFloat(v.Data)*100, 'f', -1, 64) + unit
	case TypeIntDec:
		return strconv.FormatInt(int64(int32(v.Data)), 10)
	case TypeIntHex:
		return fmt.Sprintf("0x%x", v.Data)
	case TypeIntBoolean:
		if v.Data != 0 {
			return "true"
		}
		return "false"
	case TypeIntColorARGB8, TypeIntColorRGB8, TypeIntColorARGB4, TypeIntColorRGB4:
		return fmt.Sprintf("#%08x", v.Data)
	}
	return fmt.Sprintf("<0x%02x:0x%08x>", uint8(v.Type), v.Data)
}
