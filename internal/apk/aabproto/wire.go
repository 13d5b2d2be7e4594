// Package aabproto reads the protobuf forms aapt2 uses inside Android App
// Bundles: XmlNode (base/manifest/AndroidManifest.xml, base/res/xml/*) and
// ResourceTable (base/resources.pb). It decodes them with protowire alone
// (no generated code) into the same models as the APK readers, axml.Element
// and arsc.Table, so everything downstream is format-agnostic. Field numbers
// follow aapt2's Resources.proto and Configuration.proto.
package aabproto

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// ErrFormat is wrapped by errors about malformed protobuf input.
var ErrFormat = errors.New("malformed aapt2 protobuf")

// ErrLimit is wrapped when input exceeds a safety limit.
var ErrLimit = errors.New("aapt2 protobuf exceeds a safety limit")

// field is one decoded protobuf field: v for length-delimited fields, x for
// varint and fixed-width ones.
type field struct {
	num protowire.Number
	typ protowire.Type
	v   []byte
	x   uint64
}

// eachField walks the fields of a message. Unknown wire types (groups) are
// skipped; any malformed tag or length is an error.
func eachField(b []byte, fn func(f field) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%w: %v", ErrFormat, protowire.ParseError(n))
		}
		b = b[n:]
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			f.x = uint64(v)
		case protowire.Fixed64Type:
			f.x, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			f.v, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n >= 0 {
				b = b[n:]
				continue
			}
		}
		if n < 0 {
			return fmt.Errorf("%w: field %d: %v", ErrFormat, num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

// str returns a length-delimited field as a string, "" for other types.
func (f field) str() string {
	if f.typ != protowire.BytesType {
		return ""
	}
	return string(f.v)
}

// msgUint reads wrapper messages such as PackageId{id=1}.
func msgUint(b []byte) (uint32, error) {
	var id uint32
	err := eachField(b, func(f field) error {
		if f.num == 1 && f.typ == protowire.VarintType {
			id = uint32(f.x)
		}
		return nil
	})
	return id, err
}

func appendMsg(b []byte, num protowire.Number, msg []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, msg)
}

func appendStr(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendVarint(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}
