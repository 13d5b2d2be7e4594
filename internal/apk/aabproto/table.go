package aabproto

import (
	"fmt"
	"strings"

	"github.com/dfslab/dfslab/internal/apk/arsc"
	"google.golang.org/protobuf/encoding/protowire"
)

// Bag item names Android uses for arrays and plurals (Res_MAKEARRAY and the
// ATTR_ZERO..ATTR_OTHER internal attributes), so AAB tables look like APK
// tables to callers.
const arrayBase = 0x02000000

// pluralName maps Plural.Arity (ZERO..OTHER) to ResTable_map names.
func pluralName(arity uint64) uint32 {
	switch arity {
	case 0:
		return 0x01000105
	case 1:
		return 0x01000106
	case 2:
		return 0x01000107
	case 3:
		return 0x01000108
	case 4:
		return 0x01000109
	}
	return 0x01000104 // OTHER
}

type tableDecoder struct {
	budget int // entries + bag items, against fan-out
}

// DecodeResourceTable decodes base/resources.pb into the same Table model
// as resources.arsc.
func DecodeResourceTable(data []byte) (*arsc.Table, error) {
	d := &tableDecoder{budget: 2*len(data) + 1<<16}
	var pkgs []*arsc.Package
	err := eachField(data, func(f field) error {
		if f.num != 2 || f.typ != protowire.BytesType {
			return nil
		}
		p, err := d.pkg(f.v)
		if err != nil {
			return err
		}
		pkgs = append(pkgs, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(pkgs) == 0 {
		return nil, fmt.Errorf("%w: no package in resource table", ErrFormat)
	}
	return arsc.NewTable(pkgs...), nil
}

func (d *tableDecoder) pkg(b []byte) (*arsc.Package, error) {
	p := &arsc.Package{}
	var types [][]byte
	err := eachField(b, func(f field) error {
		if f.typ != protowire.BytesType {
			return nil
		}
		switch f.num {
		case 1:
			id, err := msgUint(f.v)
			if err != nil {
				return err
			}
			if id > 0xff {
				return fmt.Errorf("%w: package id 0x%x", ErrFormat, id)
			}
			p.ID = uint8(id)
		case 2:
			p.Name = f.str()
		case 3:
			types = append(types, f.v) // after the loop: the ID may come later
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, t := range types {
		if err := d.typ(p, t); err != nil {
			return nil, fmt.Errorf("package %q: %w", p.Name, err)
		}
	}
	return p, nil
}

func (d *tableDecoder) typ(p *arsc.Package, b []byte) error {
	var tid uint32
	var name string
	var entries [][]byte
	err := eachField(b, func(f field) error {
		if f.typ != protowire.BytesType {
			return nil
		}
		var err error
		switch f.num {
		case 1:
			tid, err = msgUint(f.v)
		case 2:
			name = f.str()
		case 3:
			entries = append(entries, f.v)
		}
		return err
	})
	if err != nil {
		return err
	}
	if tid > 0xff {
		return fmt.Errorf("%w: type id 0x%x", ErrFormat, tid)
	}
	base := uint32(p.ID)<<24 | tid<<16
	for _, e := range entries {
		if err := d.entry(p, base, name, e); err != nil {
			return fmt.Errorf("type %s: %w", name, err)
		}
	}
	return nil
}

func (d *tableDecoder) entry(p *arsc.Package, base uint32, typ string, b []byte) error {
	var eid uint32
	var key string
	var cvs [][]byte
	err := eachField(b, func(f field) error {
		if f.typ != protowire.BytesType {
			return nil
		}
		var err error
		switch f.num {
		case 1:
			eid, err = msgUint(f.v)
		case 2:
			key = f.str()
		case 6:
			cvs = append(cvs, f.v)
		}
		return err
	})
	if err != nil {
		return err
	}
	if eid > 0xffff {
		return fmt.Errorf("%w: entry id 0x%x", ErrFormat, eid)
	}
	for _, cv := range cvs {
		if d.budget--; d.budget < 0 {
			return fmt.Errorf("%w: too many entries", ErrLimit)
		}
		e := &arsc.Entry{ID: base | eid, Type: typ, Key: key}
		err := eachField(cv, func(f field) error {
			if f.typ != protowire.BytesType {
				return nil
			}
			switch f.num {
			case 1:
				c, err := decodeConfig(f.v)
				e.Config = c
				return err
			case 2:
				return d.value(e, f.v)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("%s/%s: %w", typ, key, err)
		}
		p.Entries = append(p.Entries, e)
	}
	return nil
}

// value fills e from an aapt.pb.Value: an Item or a CompoundValue.
func (d *tableDecoder) value(e *arsc.Entry, b []byte) error {
	return eachField(b, func(f field) error {
		if f.typ != protowire.BytesType {
			return nil
		}
		switch f.num {
		case 4:
			v, err := decodeItem(f.v)
			e.Value = v
			return err
		case 5:
			e.Complex = true
			return d.compound(e, f.v)
		}
		return nil
	})
}

func (d *tableDecoder) addItem(e *arsc.Entry, name uint32, item []byte) error {
	if d.budget--; d.budget < 0 {
		return fmt.Errorf("%w: too many bag items", ErrLimit)
	}
	v, err := decodeItem(item)
	e.Items = append(e.Items, arsc.Item{Name: name, Value: v})
	return err
}

func (d *tableDecoder) compound(e *arsc.Entry, b []byte) error {
	return eachField(b, func(f field) error {
		if f.typ != protowire.BytesType {
			return nil
		}
		switch f.num {
		case 2: // Style
			return eachField(f.v, func(g field) error {
				switch {
				case g.num == 1 && g.typ == protowire.BytesType:
					r, err := decodeRef(g.v)
					e.Parent = r.Data
					return err
				case g.num == 3 && g.typ == protowire.BytesType:
					var key uint32
					var item []byte
					err := eachField(g.v, func(h field) error {
						switch h.num {
						case 3:
							r, err := decodeRef(h.v)
							key = r.Data
							return err
						case 4:
							item = h.v
						}
						return nil
					})
					if err != nil {
						return err
					}
					return d.addItem(e, key, item)
				}
				return nil
			})
		case 4: // Array
			return eachField(f.v, func(g field) error {
				if g.num != 1 || g.typ != protowire.BytesType {
					return nil
				}
				idx := uint32(len(e.Items))
				return eachField(g.v, func(h field) error {
					if h.num == 3 && h.typ == protowire.BytesType {
						return d.addItem(e, arrayBase|idx, h.v)
					}
					return nil
				})
			})
		case 5: // Plural
			return eachField(f.v, func(g field) error {
				if g.num != 1 || g.typ != protowire.BytesType {
					return nil
				}
				var arity uint64
				var item []byte
				err := eachField(g.v, func(h field) error {
					switch h.num {
					case 3:
						arity = h.x
					case 4:
						item = h.v
					}
					return nil
				})
				if err != nil {
					return err
				}
				return d.addItem(e, pluralName(arity), item)
			})
		}
		return nil // attr, styleable, macro: no runtime value
	})
}

// decodeConfig maps aapt.pb.Configuration onto the binary config model.
func decodeConfig(b []byte) (arsc.Config, error) {
	var c arsc.Config
	err := eachField(b, func(f field) error {
		x := f.x
		switch f.num {
		case 1:
			c.MCC = uint16(x)
		case 2:
			c.MNC = uint16(x)
		case 3:
			setLocale(&c, f.str())
		case 4: // layout direction: LTR 0x40, RTL 0x80 in screenLayout
			c.ScreenLayout |= uint8(x&3) << 6
		case 5:
			c.ScreenWidth = uint16(x)
		case 6:
			c.ScreenHeight = uint16(x)
		case 7:
			c.WidthDp = uint16(x)
		case 8:
			c.HeightDp = uint16(x)
		case 9:
			c.SmallestWidth = uint16(x)
		case 10:
			c.ScreenLayout |= uint8(x & 0x0f)
		case 11: // long: 0x20, notlong: 0x10
			c.ScreenLayout |= [3]uint8{0, 0x20, 0x10}[min(x, 2)]
		case 12: // round: 0x2, notround: 0x1
			c.ScreenLayout2 |= [3]uint8{0, 0x2, 0x1}[min(x, 2)]
		case 13: // wide colour gamut
			c.ColorMode |= [3]uint8{0, 0x2, 0x1}[min(x, 2)]
		case 14: // HDR
			c.ColorMode |= [3]uint8{0, 0x8, 0x4}[min(x, 2)]
		case 15:
			c.Orientation = uint8(x)
		case 16:
			c.UIMode |= uint8(x & 0x0f)
		case 17: // night: 0x20, notnight: 0x10
			c.UIMode |= [3]uint8{0, 0x20, 0x10}[min(x, 2)]
		case 18:
			c.Density = uint16(x)
		case 19:
			c.Touchscreen = uint8(x)
		case 20:
			c.InputFlags |= uint8(x & 3)
		case 21:
			c.Keyboard = uint8(x)
		case 22:
			c.InputFlags |= [3]uint8{0, 0x4, 0x8}[min(x, 2)]
		case 23:
			c.Navigation = uint8(x)
		case 24:
			c.SDKVersion = uint16(x)
		case 25:
			c.Product = f.str()
		default:
			c.Other = true
		}
		return nil
	})
	return c, err
}

// setLocale splits a BCP-47 tag ("en-US", "sr-Latn-RS", "b+es+419") into
// the binary model's language, script, region and variant.
func setLocale(c *arsc.Config, tag string) {
	tag = strings.TrimPrefix(tag, "b+")
	parts := strings.FieldsFunc(tag, func(r rune) bool { return r == '-' || r == '+' || r == '_' })
	for i, p := range parts {
		switch {
		case i == 0:
			c.Language = strings.ToLower(p)
		case len(p) == 4 && c.Region == "":
			c.LocaleScript = p
		case len(p) == 2 || (len(p) == 3 && p[0] >= '0' && p[0] <= '9'):
			c.Region = strings.ToUpper(strings.TrimPrefix(p, "r"))
		case len(p) == 3 && p[0] == 'r':
			c.Region = strings.ToUpper(p[1:])
		default:
			c.LocaleVariant = p
		}
	}
}

func localeTag(c arsc.Config) string {
	if c.Language == "" {
		return ""
	}
	parts := []string{c.Language}
	if c.LocaleScript != "" {
		parts = append(parts, c.LocaleScript)
	}
	if c.Region != "" {
		parts = append(parts, c.Region)
	}
	if c.LocaleVariant != "" {
		parts = append(parts, c.LocaleVariant)
	}
	return strings.Join(parts, "-")
}

func encodeConfig(c arsc.Config) []byte {
	var b []byte
	b = appendVarint(b, 1, uint64(c.MCC))
	b = appendVarint(b, 2, uint64(c.MNC))
	b = appendStr(b, 3, localeTag(c))
	b = appendVarint(b, 5, uint64(c.ScreenWidth))
	b = appendVarint(b, 6, uint64(c.ScreenHeight))
	b = appendVarint(b, 7, uint64(c.WidthDp))
	b = appendVarint(b, 8, uint64(c.HeightDp))
	b = appendVarint(b, 9, uint64(c.SmallestWidth))
	b = appendVarint(b, 15, uint64(c.Orientation))
	b = appendVarint(b, 18, uint64(c.Density))
	b = appendVarint(b, 19, uint64(c.Touchscreen))
	b = appendVarint(b, 21, uint64(c.Keyboard))
	b = appendVarint(b, 23, uint64(c.Navigation))
	b = appendVarint(b, 24, uint64(c.SDKVersion))
	return appendStr(b, 25, c.Product)
}

// isFileType reports resource types whose string values are file paths.
func isFileType(typ string) bool {
	switch typ {
	case "xml", "layout", "drawable", "mipmap", "anim", "animator", "menu", "raw", "font", "navigation", "transition", "interpolator", "color":
		return true
	}
	return false
}

// EncodeResourceTable writes t as an aapt2 ResourceTable (resources.pb),
// for tests. Only the fields the decoder reads are written; configurations
// keep locale, screen, density, version and product qualifiers.
func EncodeResourceTable(t *arsc.Table) ([]byte, error) {
	var out []byte
	for _, p := range t.Packages {
		var pb []byte
		pb = appendMsg(pb, 1, appendVarint(nil, 1, uint64(p.ID)))
		pb = appendStr(pb, 2, p.Name)
		// Group entries by type, then by entry ID, keeping first-use order.
		var typeOrder []uint32
		byType := map[uint32][]uint32{}
		byEntry := map[uint32][]*arsc.Entry{}
		names := map[uint32]string{}
		for _, e := range p.Entries {
			tid := e.ID >> 16 & 0xff
			if _, ok := byType[tid]; !ok {
				typeOrder = append(typeOrder, tid)
				names[tid] = e.Type
			}
			if _, ok := byEntry[e.ID]; !ok {
				byType[tid] = append(byType[tid], e.ID)
			}
			byEntry[e.ID] = append(byEntry[e.ID], e)
		}
		for _, tid := range typeOrder {
			var tb []byte
			tb = appendMsg(tb, 1, appendVarint(nil, 1, uint64(tid)))
			tb = appendStr(tb, 2, names[tid])
			for _, id := range byType[tid] {
				es := byEntry[id]
				var eb []byte
				eb = appendMsg(eb, 1, appendVarint(nil, 1, uint64(id&0xffff)))
				eb = appendStr(eb, 2, es[0].Key)
				for _, e := range es {
					val, err := encodeValue(e)
					if err != nil {
						return nil, fmt.Errorf("0x%08x: %w", e.ID, err)
					}
					cv := appendMsg(nil, 1, encodeConfig(e.Config))
					cv = appendMsg(cv, 2, val)
					eb = appendMsg(eb, 6, cv)
				}
				tb = appendMsg(tb, 3, eb)
			}
			pb = appendMsg(pb, 3, tb)
		}
		out = appendMsg(out, 2, pb)
	}
	return out, nil
}

func encodeValue(e *arsc.Entry) ([]byte, error) {
	if !e.Complex {
		item, err := encodeItem(e.Value, isFileType(e.Type))
		if err != nil {
			return nil, err
		}
		return appendMsg(nil, 4, item), nil
	}
	// Bags are written as styles: the parent and key/value pairs survive
	// a round trip, which is what resolution needs.
	var st []byte
	if e.Parent != 0 {
		st = appendMsg(st, 1, appendVarint(nil, 2, uint64(e.Parent)))
	}
	for _, it := range e.Items {
		item, err := encodeItem(it.Value, false)
		if err != nil {
			return nil, err
		}
		se := appendMsg(nil, 3, appendVarint(nil, 2, uint64(it.Name)))
		se = appendMsg(se, 4, item)
		st = appendMsg(st, 3, se)
	}
	return appendMsg(nil, 5, appendMsg(nil, 2, st)), nil
}
