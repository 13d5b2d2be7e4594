package arsc

import (
	"encoding/binary"
	"fmt"
	"slices"
	"unicode/utf16"

	"github.com/dfslab/dfslab/internal/apk/axml"
)

// Encode writes t as resources.arsc: one value string pool, then each
// package with its type and key pools, a type spec per type and a type chunk
// per configuration. It exists so tests can build APKs with resources.
func Encode(t *Table) ([]byte, error) { return encodeWith(t, layout{}) }

// layout selects the newer, denser encodings Android also accepts; tests
// use it to exercise every decoder path.
type layout struct {
	sparse   bool // (index, offset/4) pairs, Android 8+
	offset16 bool // 16-bit offsets/4, Android 15
	compact  bool // 8-byte entries for simple values, Android 14
}

func encodeWith(t *Table, lay layout) ([]byte, error) {
	var strs []string
	strIdx := map[string]uint32{}
	intern := func(v axml.Value) {
		if _, ok := strIdx[v.Str]; v.Type == axml.TypeString && !ok {
			strIdx[v.Str] = uint32(len(strs))
			strs = append(strs, v.Str)
		}
	}
	for e := range t.All() {
		intern(e.Value)
		for _, it := range e.Items {
			intern(it.Value)
		}
	}
	pool, err := axml.EncodeStringPool(strs, true)
	if err != nil {
		return nil, err
	}
	body := pool
	for _, p := range t.Packages {
		pb, err := encodePackage(p, strIdx, lay)
		if err != nil {
			return nil, fmt.Errorf("package %q: %w", p.Name, err)
		}
		body = append(body, pb...)
	}
	out := make([]byte, 12, 12+len(body))
	binary.LittleEndian.PutUint16(out, axml.ChunkTable)
	binary.LittleEndian.PutUint16(out[2:], 12)
	binary.LittleEndian.PutUint32(out[4:], uint32(12+len(body)))
	binary.LittleEndian.PutUint32(out[8:], uint32(len(t.Packages)))
	return append(out, body...), nil
}

func chunkHeader(typ, hs uint16, size int) []byte {
	b := make([]byte, 8, hs)
	binary.LittleEndian.PutUint16(b, typ)
	binary.LittleEndian.PutUint16(b[2:], hs)
	binary.LittleEndian.PutUint32(b[4:], uint32(size))
	return b
}

func encodePackage(p *Package, strIdx map[string]uint32, lay layout) ([]byte, error) {
	// Type names by type ID, keys in first-use order.
	var maxType uint8
	typeNames := map[uint8]string{}
	var keys []string
	keyIdx := map[string]uint32{}
	for _, e := range p.Entries {
		if e.ID>>24 != uint32(p.ID) {
			return nil, fmt.Errorf("entry 0x%08x outside package 0x%02x", e.ID, p.ID)
		}
		tid := uint8(e.ID >> 16)
		if tid == 0 {
			return nil, fmt.Errorf("entry 0x%08x has type id 0", e.ID)
		}
		maxType = max(maxType, tid)
		typeNames[tid] = e.Type
		if _, ok := keyIdx[e.Key]; !ok {
			keyIdx[e.Key] = uint32(len(keys))
			keys = append(keys, e.Key)
		}
	}
	tn := make([]string, maxType)
	for i := range tn {
		tn[i] = typeNames[uint8(i+1)]
		if tn[i] == "" {
			tn[i] = fmt.Sprintf("unused%d", i+1)
		}
	}
	typePool, err := axml.EncodeStringPool(tn, true)
	if err != nil {
		return nil, err
	}
	keyPool, err := axml.EncodeStringPool(keys, true)
	if err != nil {
		return nil, err
	}
	const hs = 288
	var body []byte
	body = append(body, typePool...)
	body = append(body, keyPool...)
	for tid := uint8(1); tid <= maxType && tid != 0; tid++ {
		var es []*Entry
		for _, e := range p.Entries {
			if uint8(e.ID>>16) == tid {
				es = append(es, e)
			}
		}
		if len(es) == 0 {
			continue
		}
		count := 0
		var configs []Config
		for _, e := range es {
			count = max(count, int(e.ID&0xffff)+1)
			if !slices.Contains(configs, e.Config) {
				configs = append(configs, e.Config)
			}
		}
		spec := chunkHeader(axml.ChunkTableTypeSpec, 16, 16+4*count)
		spec = append(spec, tid, 0, 0, 0)
		spec = binary.LittleEndian.AppendUint32(spec, uint32(count))
		spec = append(spec, make([]byte, 4*count)...)
		body = append(body, spec...)
		for _, cfg := range configs {
			body = append(body, encodeType(tid, count, cfg, es, keyIdx, strIdx, lay)...)
		}
	}
	out := chunkHeader(axml.ChunkTablePackage, hs, hs+len(body))
	out = binary.LittleEndian.AppendUint32(out, uint32(p.ID))
	name := make([]byte, 256)
	for i, u := range utf16.Encode([]rune(p.Name)) {
		if i >= 127 {
			break
		}
		binary.LittleEndian.PutUint16(name[2*i:], u)
	}
	out = append(out, name...)
	out = binary.LittleEndian.AppendUint32(out, hs)
	out = binary.LittleEndian.AppendUint32(out, uint32(maxType))
	out = binary.LittleEndian.AppendUint32(out, uint32(hs+len(typePool)))
	out = binary.LittleEndian.AppendUint32(out, uint32(len(keys)))
	out = binary.LittleEndian.AppendUint32(out, 0)
	return append(out, body...), nil
}

func encodeType(tid uint8, count int, cfg Config, es []*Entry, keyIdx, strIdx map[string]uint32, lay layout) []byte {
	offsets := make([]uint32, count)
	for i := range offsets {
		offsets[i] = noEntry
	}
	var data []byte
	for _, e := range es {
		if e.Config != cfg {
			continue
		}
		offsets[e.ID&0xffff] = uint32(len(data))
		switch {
		case e.Complex:
			data = binary.LittleEndian.AppendUint16(data, 16)
			data = binary.LittleEndian.AppendUint16(data, entryComplex)
			data = binary.LittleEndian.AppendUint32(data, keyIdx[e.Key])
			data = binary.LittleEndian.AppendUint32(data, e.Parent)
			data = binary.LittleEndian.AppendUint32(data, uint32(len(e.Items)))
			for _, it := range e.Items {
				data = binary.LittleEndian.AppendUint32(data, it.Name)
				data = appendValue(data, it.Value, strIdx)
			}
		case lay.compact && keyIdx[e.Key] <= 0xffff:
			v := e.Value
			if v.Type == axml.TypeString {
				v.Data = strIdx[v.Str]
			}
			data = binary.LittleEndian.AppendUint16(data, uint16(keyIdx[e.Key]))
			data = binary.LittleEndian.AppendUint16(data, entryCompact|uint16(v.Type)<<8)
			data = binary.LittleEndian.AppendUint32(data, v.Data)
		default:
			data = binary.LittleEndian.AppendUint16(data, 8)
			data = binary.LittleEndian.AppendUint16(data, 0)
			data = binary.LittleEndian.AppendUint32(data, keyIdx[e.Key])
			data = appendValue(data, e.Value, strIdx)
		}
	}
	var table []byte
	var flags uint8
	n := count
	switch {
	case lay.sparse:
		flags, n = typeSparse, 0
		for i, o := range offsets {
			if o != noEntry {
				table = binary.LittleEndian.AppendUint16(table, uint16(i))
				table = binary.LittleEndian.AppendUint16(table, uint16(o/4))
				n++
			}
		}
	case lay.offset16:
		flags = typeOffset16
		for _, o := range offsets {
			if o == noEntry {
				table = binary.LittleEndian.AppendUint16(table, 0xffff)
			} else {
				table = binary.LittleEndian.AppendUint16(table, uint16(o/4))
			}
		}
	default:
		for _, o := range offsets {
			table = binary.LittleEndian.AppendUint32(table, o)
		}
	}
	hs := 20 + configSize
	start := hs + len(table)
	start += (4 - start%4) % 4
	b := chunkHeader(axml.ChunkTableType, uint16(hs), start+len(data))
	b = append(b, tid, flags, 0, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	b = binary.LittleEndian.AppendUint32(b, uint32(start))
	b = append(b, cfg.encode()...)
	b = append(b, table...)
	b = append(b, make([]byte, start-hs-len(table))...)
	return append(b, data...)
}

func appendValue(b []byte, v axml.Value, strIdx map[string]uint32) []byte {
	if v.Type == axml.TypeString {
		v.Data = strIdx[v.Str]
	}
	b = binary.LittleEndian.AppendUint16(b, 8)
	b = append(b, 0, byte(v.Type))
	return binary.LittleEndian.AppendUint32(b, v.Data)
}
