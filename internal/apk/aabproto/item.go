package aabproto

import (
	"fmt"

	"github.com/dfslab/dfslab/internal/apk/axml"
	"google.golang.org/protobuf/encoding/protowire"
)

// Item field numbers (aapt.pb.Item oneof).
const (
	itemRef       = 1
	itemStr       = 2
	itemRawStr    = 3
	itemStyledStr = 4
	itemFile      = 5
	itemID        = 6
	itemPrim      = 7
)

// decodeItem converts an aapt.pb.Item to the binary resource value it
// compiles to. A file reference becomes its path, as in resources.arsc.
func decodeItem(b []byte) (axml.Value, error) {
	var v axml.Value
	err := eachField(b, func(f field) error {
		if f.typ != protowire.BytesType {
			return nil
		}
		var err error
		switch f.num {
		case itemRef:
			v, err = decodeRef(f.v)
		case itemStr, itemRawStr, itemStyledStr, itemFile:
			// String, RawString, StyledString and FileReference all keep
			// their text in field 1.
			err = eachField(f.v, func(g field) error {
				if g.num == 1 {
					v = axml.Str(g.str())
				}
				return nil
			})
			if v.Type != axml.TypeString {
				v = axml.Str("")
			}
		case itemID:
			v = axml.Value{Type: axml.TypeIntBoolean}
		case itemPrim:
			v, err = decodePrim(f.v)
		}
		return err
	})
	return v, err
}

func decodeRef(b []byte) (axml.Value, error) {
	v := axml.Value{Type: axml.TypeReference}
	err := eachField(b, func(f field) error {
		switch f.num {
		case 1:
			if f.x == 1 {
				v.Type = axml.TypeAttribute
			}
		case 2:
			v.Data = uint32(f.x)
		case 3:
			v.Str = f.str() // name, kept for display when no ID was assigned
		}
		return nil
	})
	return v, err
}

func decodePrim(b []byte) (axml.Value, error) {
	var v axml.Value
	err := eachField(b, func(f field) error {
		x := uint32(f.x)
		switch f.num {
		case 1:
			v = axml.Value{Type: axml.TypeNull}
		case 2:
			v = axml.Value{Type: axml.TypeNull, Data: 1}
		case 3:
			v = axml.Value{Type: axml.TypeFloat, Data: x}
		case 4: // deprecated float dimension: keep the number
			v = axml.Value{Type: axml.TypeFloat, Data: x}
		case 5:
			v = axml.Value{Type: axml.TypeFloat, Data: x}
		case 6:
			v = axml.Value{Type: axml.TypeIntDec, Data: x}
		case 7:
			v = axml.Value{Type: axml.TypeIntHex, Data: x}
		case 8:
			v = axml.Bool(f.x != 0)
		case 9:
			v = axml.Value{Type: axml.TypeIntColorARGB8, Data: x}
		case 10:
			v = axml.Value{Type: axml.TypeIntColorRGB8, Data: x}
		case 11:
			v = axml.Value{Type: axml.TypeIntColorARGB4, Data: x}
		case 12:
			v = axml.Value{Type: axml.TypeIntColorRGB4, Data: x}
		case 13:
			v = axml.Value{Type: axml.TypeDimension, Data: x}
		case 14:
			v = axml.Value{Type: axml.TypeFraction, Data: x}
		}
		return nil
	})
	return v, err
}

// encodeItem is the inverse of decodeItem. file marks string values that
// are file paths (FileReference).
func encodeItem(v axml.Value, file bool) ([]byte, error) {
	var b []byte
	prim := func(num protowire.Number, typ protowire.Type, x uint64) []byte {
		var p []byte
		p = protowire.AppendTag(p, num, typ)
		switch typ {
		case protowire.VarintType:
			p = protowire.AppendVarint(p, x)
		case protowire.Fixed32Type:
			p = protowire.AppendFixed32(p, uint32(x))
		case protowire.BytesType:
			p = protowire.AppendBytes(p, nil)
		}
		return appendMsg(nil, itemPrim, p)
	}
	switch v.Type {
	case axml.TypeString:
		s := appendStr(nil, 1, v.Str)
		if file {
			b = appendMsg(b, itemFile, s)
		} else {
			b = appendMsg(b, itemStr, s)
		}
	case axml.TypeReference, axml.TypeAttribute, axml.TypeDynamicReference, axml.TypeDynamicAttribute:
		var r []byte
		if v.Type == axml.TypeAttribute || v.Type == axml.TypeDynamicAttribute {
			r = appendVarint(r, 1, 1)
		}
		r = appendVarint(r, 2, uint64(v.Data))
		r = appendStr(r, 3, v.Str)
		b = appendMsg(b, itemRef, r)
	case axml.TypeNull:
		if v.Data == 1 {
			b = prim(2, protowire.BytesType, 0)
		} else {
			b = prim(1, protowire.BytesType, 0)
		}
	case axml.TypeFloat:
		b = prim(3, protowire.Fixed32Type, uint64(v.Data))
	case axml.TypeDimension:
		b = prim(13, protowire.VarintType, uint64(v.Data))
	case axml.TypeFraction:
		b = prim(14, protowire.VarintType, uint64(v.Data))
	case axml.TypeIntDec:
		// int32 fields are sign-extended to 64 bits on the wire.
		b = prim(6, protowire.VarintType, uint64(int64(int32(v.Data))))
	case axml.TypeIntHex:
		b = prim(7, protowire.VarintType, uint64(v.Data))
	case axml.TypeIntBoolean:
		var x uint64
		if v.Data != 0 {
			x = 1
		}
		b = prim(8, protowire.VarintType, x)
	case axml.TypeIntColorARGB8, axml.TypeIntColorRGB8, axml.TypeIntColorARGB4, axml.TypeIntColorRGB4:
		b = prim(protowire.Number(9+v.Type-axml.TypeIntColorARGB8), protowire.VarintType, uint64(v.Data))
	default:
		return nil, fmt.Errorf("aabproto: cannot encode value type 0x%02x", uint8(v.Type))
	}
	return b, nil
}
