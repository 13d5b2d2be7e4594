package arsc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf16"

	"github.com/dfslab/dfslab/internal/apk/axml"
)

// ErrLimit is wrapped when a table exceeds a safety limit.
var ErrLimit = errors.New("resource table exceeds a safety limit")

// Entry flags (ResTable_entry.flags).
const (
	entryComplex = 0x0001
	entryCompact = 0x0008
)

// Type chunk flags (ResTable_type.flags).
const (
	typeSparse   = 0x01
	typeOffset16 = 0x02
)

const noEntry = 0xffffffff

type decoder struct {
	values *axml.StringPool
	// budget bounds entries plus bag items: several offsets may point at
	// one entry (deduplicated tables), so the count is not bounded by the
	// bytes alone.
	budget int
}

// Decode reads a resources.arsc file.
func Decode(data []byte) (*Table, error) {
	if len(data) < 12 {
		return nil, fmt.Errorf("%w: %d bytes is too short for a resource table", ErrFormat, len(data))
	}
	typ := binary.LittleEndian.Uint16(data)
	hs := int(binary.LittleEndian.Uint16(data[2:]))
	size := int64(binary.LittleEndian.Uint32(data[4:]))
	if typ != axml.ChunkTable {
		return nil, fmt.Errorf("%w: chunk type 0x%04x is not a resource table", ErrFormat, typ)
	}
	if hs < 12 || hs > len(data) {
		return nil, fmt.Errorf("%w: table header size %d", ErrFormat, hs)
	}
	end := len(data)
	if size >= int64(hs) && size < int64(len(data)) {
		end = int(size) // junk after the table is ignored, as Android does
	}
	d := &decoder{budget: 2*len(data) + 1<<16}
	var pkgs []*Package
	err := eachChunk(data[:end], hs, func(typ uint16, c []byte, chs int) error {
		switch typ {
		case axml.ChunkStringPool:
			if d.values == nil {
				p, err := axml.ParseStringPool(c)
				if err != nil {
					return fmt.Errorf("value strings: %w", err)
				}
				d.values = p
			}
		case axml.ChunkTablePackage:
			p, err := d.pkg(c, chs)
			if err != nil {
				return err
			}
			pkgs = append(pkgs, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(pkgs) == 0 {
		return nil, fmt.Errorf("%w: no package in resource table", ErrFormat)
	}
	return NewTable(pkgs...), nil
}

// eachChunk walks the chunks of b from pos. A chunk whose size overruns its
// parent is clamped; one with an impossible header ends the walk with an
// error.
func eachChunk(b []byte, pos int, fn func(typ uint16, c []byte, hs int) error) error {
	for pos+8 <= len(b) {
		typ := binary.LittleEndian.Uint16(b[pos:])
		hs := int(binary.LittleEndian.Uint16(b[pos+2:]))
		size := int64(binary.LittleEndian.Uint32(b[pos+4:]))
		if size > int64(len(b)-pos) {
			size = int64(len(b) - pos)
		}
		if hs < 8 || int64(hs) > size {
			return fmt.Errorf("%w: invalid chunk at offset %d (type 0x%04x, header %d, size %d)", ErrFormat, pos, typ, hs, size)
		}
		if err := fn(typ, b[pos:pos+int(size)], hs); err != nil {
			return err
		}
		pos += int(size)
	}
	return nil
}

func (d *decoder) pkg(c []byte, hs int) (*Package, error) {
	if hs < 284 || len(c) < 284 {
		return nil, fmt.Errorf("%w: package header of %d bytes", ErrFormat, hs)
	}
	id := binary.LittleEndian.Uint32(c[8:])
	if id > 0xff {
		return nil, fmt.Errorf("%w: package id 0x%x", ErrFormat, id)
	}
	name := make([]uint16, 0, 128)
	for i := 12; i < 12+256; i += 2 {
		u := binary.LittleEndian.Uint16(c[i:])
		if u == 0 {
			break
		}
		name = append(name, u)
	}
	p := &Package{ID: uint8(id), Name: string(utf16.Decode(name))}
	typeOff := binary.LittleEndian.Uint32(c[268:])
	keyOff := binary.LittleEndian.Uint32(c[276:])
	var typeIDOffset uint32
	if hs >= 288 {
		typeIDOffset = binary.LittleEndian.Uint32(c[284:])
	}
	pool := func(off uint32, what string) (*axml.StringPool, error) {
		if off == 0 || uint64(off)+8 > uint64(len(c)) {
			return nil, fmt.Errorf("%w: %s strings at offset %d outside package", ErrFormat, what, off)
		}
		return axml.ParseStringPool(c[off:])
	}
	types, err := pool(typeOff, "type")
	if err != nil {
		return nil, err
	}
	keys, err := pool(keyOff, "key")
	if err != nil {
		return nil, err
	}
	err = eachChunk(c, hs, func(typ uint16, tc []byte, ths int) error {
		if typ != axml.ChunkTableType {
			return nil // pools, type specs, libraries, overlayables
		}
		return d.typeChunk(p, tc, ths, types, keys, typeIDOffset)
	})
	if err != nil {
		return nil, fmt.Errorf("package %q: %w", p.Name, err)
	}
	return p, nil
}

func (d *decoder) typeChunk(p *Package, c []byte, hs int, types, keys *axml.StringPool, typeIDOffset uint32) error {
	if hs < 20+4 || len(c) < hs {
		return fmt.Errorf("%w: type chunk header of %d bytes", ErrFormat, hs)
	}
	tid := c[8]
	flags := c[9]
	count := int(binary.LittleEndian.Uint32(c[12:]))
	entriesStart := int64(binary.LittleEndian.Uint32(c[16:]))
	if tid == 0 {
		return fmt.Errorf("%w: type id 0", ErrFormat)
	}
	cfg, err := parseConfig(c[20:hs])
	if err != nil {
		return err
	}
	typeName, err := types.Get(uint32(tid) - 1 - typeIDOffset)
	if err != nil {
		typeName = fmt.Sprintf("type%02x", tid)
	}
	slot := 4
	if flags&typeOffset16 != 0 && flags&typeSparse == 0 {
		slot = 2
	}
	if int64(hs)+int64(count)*int64(slot) > int64(len(c)) || entriesStart > int64(len(c)) {
		return fmt.Errorf("%w: type %s claims %d entries in %d bytes", ErrFormat, typeName, count, len(c))
	}
	base := uint32(p.ID)<<24 | uint32(tid)<<16
	// One allocation per type chunk instead of one per entry, sized by
	// the slots in use: locale configs fill few of them.
	present := count
	if flags&typeSparse == 0 {
		present = 0
		for i := range count {
			o := c[hs+i*slot:]
			if (slot == 2 && binary.LittleEndian.Uint16(o) != 0xffff) || (slot == 4 && binary.LittleEndian.Uint32(o) != noEntry) {
				present++
			}
		}
	}
	slab := make([]Entry, 0, present)
	for i := range count {
		var idx, off uint32
		o := c[hs+i*slot:]
		switch {
		case flags&typeSparse != 0:
			idx = uint32(binary.LittleEndian.Uint16(o))
			off = uint32(binary.LittleEndian.Uint16(o[2:])) * 4
		case slot == 2:
			idx = uint32(i)
			off = uint32(binary.LittleEndian.Uint16(o))
			if off == 0xffff {
				continue
			}
			off *= 4
		default:
			idx = uint32(i)
			off = binary.LittleEndian.Uint32(o)
			if off == noEntry {
				continue
			}
		}
		if idx > 0xffff {
			continue
		}
		pos := entriesStart + int64(off)
		if pos+8 > int64(len(c)) {
			return fmt.Errorf("%w: entry %d of type %s outside its chunk", ErrFormat, idx, typeName)
		}
		if d.budget--; d.budget < 0 {
			return fmt.Errorf("%w: too many entries", ErrLimit)
		}
		slab = append(slab, Entry{})
		e := &slab[len(slab)-1]
		err := d.entry(e, c, int(pos), keys)
		if err != nil {
			return fmt.Errorf("entry 0x%08x: %w", base|idx, err)
		}
		e.ID, e.Type, e.Config = base|idx, typeName, cfg
		p.Entries = append(p.Entries, e)
	}
	return nil
}

func (d *decoder) entry(e *Entry, c []byte, pos int, keys *axml.StringPool) error {
	b := c[pos:]
	size := int(binary.LittleEndian.Uint16(b))
	flags := binary.LittleEndian.Uint16(b[2:])
	if flags&entryCompact != 0 {
		// Android 14 compact entry: key index in the size field, value
		// type in the high byte of the flags.
		e.Key = keys.String(uint32(size))
		e.Value = d.value(axml.ValueType(flags>>8), binary.LittleEndian.Uint32(b[4:]))
		return nil
	}
	e.Key = keys.String(binary.LittleEndian.Uint32(b[4:]))
	if size < 8 || size > len(b) {
		return fmt.Errorf("%w: entry size %d", ErrFormat, size)
	}
	if flags&entryComplex == 0 {
		if size+8 > len(b) {
			return fmt.Errorf("%w: truncated value", ErrFormat)
		}
		v := b[size:]
		e.Value = d.value(axml.ValueType(v[3]), binary.LittleEndian.Uint32(v[4:]))
		return nil
	}
	if size < 16 {
		return fmt.Errorf("%w: complex entry header of %d bytes", ErrFormat, size)
	}
	e.Complex = true
	e.Parent = binary.LittleEndian.Uint32(b[8:])
	n := int(binary.LittleEndian.Uint32(b[12:]))
	if fit := (len(b) - size) / 12; n > fit {
		return fmt.Errorf("%w: bag claims %d items, %d fit", ErrFormat, n, fit)
	}
	if d.budget -= n; d.budget < 0 {
		return fmt.Errorf("%w: too many bag items", ErrLimit)
	}
	e.Items = make([]Item, n)
	for i := range n {
		it := b[size+12*i:]
		e.Items[i] = Item{
			Name:  binary.LittleEndian.Uint32(it),
			Value: d.value(axml.ValueType(it[7]), binary.LittleEndian.Uint32(it[8:])),
		}
	}
	return nil
}

func (d *decoder) value(t axml.ValueType, data uint32) axml.Value {
	v := axml.Value{Type: t, Data: data}
	if t == axml.TypeString {
		v.Str = d.values.String(data)
	}
	return v
}
