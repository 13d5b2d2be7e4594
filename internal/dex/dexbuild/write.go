package dexbuild

import (
	"cmp"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"hash/adler32"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

const noIndex = 0xffffffff

// Map item type codes of the DEX format.
const (
	typeHeader     = 0x0000
	typeStringID   = 0x0001
	typeTypeID     = 0x0002
	typeProtoID    = 0x0003
	typeFieldID    = 0x0004
	typeMethodID   = 0x0005
	typeClassDef   = 0x0006
	typeMapList    = 0x1000
	typeTypeList   = 0x1001
	typeClassData  = 0x2000
	typeCodeItem   = 0x2001
	typeStringData = 0x2002
	typeEncArray   = 0x2005
	typeDebugInfo  = 0x2003
)

type protoKey struct{ ret, params string } // params: descriptors joined by ","

type fieldKey struct{ class, name, typ string }

type methodKey struct{ class, name, proto string }

// tables holds the sorted identifier tables and their index maps.
type tables struct {
	strings  []string
	stringIx map[string]uint32
	types    []string
	typeIx   map[string]uint32
	protos   []protoKey
	protoIx  map[string]uint32 // by "(params)ret"
	fields   []fieldKey
	fieldIx  map[fieldKey]uint32
	methods  []methodKey
	methodIx map[methodKey]uint32
}

func (b *Builder) collect() (*tables, error) {
	strs := map[string]bool{}
	types := map[string]bool{}
	protos := map[string]bool{}
	fields := map[fieldKey]bool{}
	methods := map[methodKey]bool{}
	addType := func(t string) { types[t] = true; strs[t] = true }
	addProto := func(p string) error {
		params, ret, err := parseProto(p)
		if err != nil {
			return err
		}
		protos[p] = true
		strs[shorty(params, ret)] = true
		addType(ret)
		for _, t := range params {
			addType(t)
		}
		return nil
	}
	addMethod := func(ref string) error {
		c, n, p, err := splitMethodRef(ref)
		if err != nil {
			return err
		}
		addType(c)
		strs[n] = true
		methods[methodKey{c, n, p}] = true
		return addProto(p)
	}
	for _, c := range b.classes {
		addType(c.Desc)
		if c.Super != "" {
			addType(c.Super)
		}
		for _, i := range c.Interfaces {
			addType(i)
		}
		if c.SourceFile != "" {
			strs[c.SourceFile] = true
		}
		for _, f := range c.Fields {
			addType(f.Type)
			strs[f.Name] = true
			if s, ok := f.Value.(string); ok {
				strs[s] = true
			}
			fields[fieldKey{c.Desc, f.Name, f.Type}] = true
		}
		for _, m := range c.Methods {
			if err := addMethod(c.Desc + "->" + m.Name + m.Proto); err != nil {
				return nil, err
			}
			for _, in := range m.insns {
				switch in.kind {
				case kString:
					strs[in.ref] = true
				case kType21c, kNewArray:
					addType(in.ref)
				case kInvoke:
					if err := addMethod(in.ref); err != nil {
						return nil, err
					}
				case kField21c, kField22c:
					fc, fn, ft, err := splitFieldRef(in.ref)
					if err != nil {
						return nil, err
					}
					addType(fc)
					addType(ft)
					strs[fn] = true
					fields[fieldKey{fc, fn, ft}] = true
				}
			}
		}
	}
	t := &tables{}
	t.strings = sortedKeys(strs, compareUTF16)
	t.stringIx = indexOf(t.strings)
	t.types = sortedKeys(types, func(a, b string) int { return cmp.Compare(t.stringIx[a], t.stringIx[b]) })
	t.typeIx = indexOf(t.types)
	// Protos sort by return type index, then by parameter list.
	protoList := sortedKeys(protos, func(a, b string) int {
		pa, ra, _ := parseProto(a)
		pb, rb, _ := parseProto(b)
		if c := cmp.Compare(t.typeIx[ra], t.typeIx[rb]); c != 0 {
			return c
		}
		return slices.CompareFunc(pa, pb, func(x, y string) int { return cmp.Compare(t.typeIx[x], t.typeIx[y]) })
	})
	t.protoIx = indexOf(protoList)
	for _, p := range protoList {
		params, ret, _ := parseProto(p)
		t.protos = append(t.protos, protoKey{ret, strings.Join(params, ",")})
	}
	t.fields = sortedKeys(fields, func(a, b fieldKey) int {
		return cmp.Or(cmp.Compare(t.typeIx[a.class], t.typeIx[b.class]),
			cmp.Compare(t.stringIx[a.name], t.stringIx[b.name]),
			cmp.Compare(t.typeIx[a.typ], t.typeIx[b.typ]))
	})
	t.fieldIx = indexOf(t.fields)
	t.methods = sortedKeys(methods, func(a, b methodKey) int {
		return cmp.Or(cmp.Compare(t.typeIx[a.class], t.typeIx[b.class]),
			cmp.Compare(t.stringIx[a.name], t.stringIx[b.name]),
			cmp.Compare(t.protoIx[a.proto], t.protoIx[b.proto]))
	})
	t.methodIx = indexOf(t.methods)
	// Instructions carry 16-bit type, field, method and proto indexes.
	for what, n := range map[string]int{"types": len(t.types), "protos": len(t.protos), "fields": len(t.fields), "methods": len(t.methods)} {
		if n > 0x10000 {
			return nil, fmt.Errorf("dexbuild: %d %s, the format allows 65536", n, what)
		}
	}
	return t, nil
}

func sortedKeys[K comparable](m map[K]bool, f func(a, b K) int) []K {
	ks := make([]K, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, f)
	return ks
}

func indexOf[K comparable](ks []K) map[K]uint32 {
	ix := make(map[K]uint32, len(ks))
	for i, k := range ks {
		ix[k] = uint32(i)
	}
	return ix
}

// compareUTF16 orders strings by UTF-16 code units, as string_ids must be.
// Byte order of UTF-8 agrees with it unless a string holds a character
// outside the Basic Multilingual Plane.
func compareUTF16(a, b string) int {
	if !hasSupplementary(a) && !hasSupplementary(b) {
		return strings.Compare(a, b)
	}
	return slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
}

func hasSupplementary(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0xf0 {
			return true
		}
	}
	return false
}

// mutf8 encodes s as Modified UTF-8 and returns it with its UTF-16 length.
func mutf8(s string) ([]byte, int) {
	var out []byte
	n := 0
	for _, r := range s {
		if r == utf8.RuneError {
			r = 0xfffd
		}
		if r > 0xffff {
			hi, lo := utf16.EncodeRune(r)
			out = append3(out, hi)
			out = append3(out, lo)
			n += 2
			continue
		}
		n++
		switch {
		case r == 0:
			out = append(out, 0xc0, 0x80)
		case r < 0x80:
			out = append(out, byte(r))
		case r < 0x800:
			out = append(out, 0xc0|byte(r>>6), 0x80|byte(r&0x3f))
		default:
			out = append3(out, r)
		}
	}
	return out, n
}

func append3(out []byte, r rune) []byte {
	return append(out, 0xe0|byte(r>>12), 0x80|byte(r>>6&0x3f), 0x80|byte(r&0x3f))
}

type buf struct{ b []byte }

func (w *buf) u8(v byte)    { w.b = append(w.b, v) }
func (w *buf) u16(v uint16) { w.b = binary.LittleEndian.AppendUint16(w.b, v) }
func (w *buf) u32(v uint32) { w.b = binary.LittleEndian.AppendUint32(w.b, v) }
func (w *buf) uleb(v uint32) {
	for v >= 0x80 {
		w.b = append(w.b, byte(v)|0x80)
		v >>= 7
	}
	w.b = append(w.b, byte(v))
}
func (w *buf) sleb(v int32) {
	for {
		b := byte(v & 0x7f)
		v >>= 7
		if v == 0 && b&0x40 == 0 || v == -1 && b&0x40 != 0 {
			w.b = append(w.b, b)
			return
		}
		w.b = append(w.b, b|0x80)
	}
}

func (w *buf) align(n int) {
	for len(w.b)%n != 0 {
		w.b = append(w.b, 0)
	}
}
func (w *buf) put32(off int, v uint32) { binary.LittleEndian.PutUint32(w.b[off:], v) }

type mapItem struct {
	typ  uint16
	size uint32
	off  uint32
}

func (b *Builder) write() ([]byte, error) {
	t, err := b.collect()
	if err != nil {
		return nil, err
	}
	classes, err := b.classOrder()
	if err != nil {
		return nil, err
	}
	w := &buf{b: make([]byte, 0x70)}
	var items []mapItem
	items = append(items, mapItem{typeHeader, 1, 0})
	section := func(typ uint16, n, size int) uint32 {
		if n == 0 {
			return 0
		}
		off := uint32(len(w.b))
		items = append(items, mapItem{typ, uint32(n), off})
		w.b = append(w.b, make([]byte, n*size)...)
		return off
	}
	stringIDsOff := section(typeStringID, len(t.strings), 4)
	typeIDsOff := section(typeTypeID, len(t.types), 4)
	protoIDsOff := section(typeProtoID, len(t.protos), 12)
	fieldIDsOff := section(typeFieldID, len(t.fields), 8)
	methodIDsOff := section(typeMethodID, len(t.methods), 8)
	classDefsOff := section(typeClassDef, len(classes), 32)
	dataOff := len(w.b)

	// Identifier tables that need no data.
	for i, ty := range t.types {
		w.put32(int(typeIDsOff)+4*i, t.stringIx[ty])
	}
	for i, f := range t.fields {
		o := int(fieldIDsOff) + 8*i
		binary.LittleEndian.PutUint16(w.b[o:], uint16(t.typeIx[f.class]))
		binary.LittleEndian.PutUint16(w.b[o+2:], uint16(t.typeIx[f.typ]))
		w.put32(o+4, t.stringIx[f.name])
	}
	for i, m := range t.methods {
		o := int(methodIDsOff) + 8*i
		binary.LittleEndian.PutUint16(w.b[o:], uint16(t.typeIx[m.class]))
		binary.LittleEndian.PutUint16(w.b[o+2:], uint16(t.protoIx[m.proto]))
		w.put32(o+4, t.stringIx[m.name])
	}

	// code_items, 4-byte aligned.
	codeOff := map[*Method]uint32{}
	type debugFix struct {
		at    int // offset of the code_item's debug_info_off
		m     *Method
		lines []position
	}
	var debug []debugFix
	nCode := 0
	w.align(4)
	firstCode := uint32(len(w.b))
	for _, c := range classes {
		for _, m := range c.Methods {
			if !m.hasCode {
				continue
			}
			// Encoded one method at a time so that building a very large
			// file needs little more memory than the file itself.
			u, lines, locals, err := m.encode(t)
			if err != nil {
				return nil, err
			}
			w.align(4)
			codeOff[m] = uint32(len(w.b))
			nCode++
			params, _, _ := parseProto(m.Proto)
			ins := 0
			if m.Flags&AccStatic == 0 {
				ins = 1
			}
			for _, p := range params {
				ins += typeWords(p)
			}
			regs := locals + ins
			if regs > 0xffff {
				return nil, fmt.Errorf("dexbuild: %s->%s uses %d registers", c.Desc, m.Name, regs)
			}
			w.u16(uint16(regs))
			w.u16(uint16(ins))
			w.u16(uint16(m.outs))
			w.u16(0) // tries
			if len(lines) > 0 {
				debug = append(debug, debugFix{len(w.b), m, lines})
			}
			w.u32(0) // debug info, patched below
			w.u32(uint32(len(u)))
			for _, x := range u {
				w.u16(x)
			}
		}
	}
	if nCode > 0 {
		items = append(items, mapItem{typeCodeItem, uint32(nCode), firstCode})
	}

	// debug_info_items: the line table of methods that set lines.
	if len(debug) > 0 {
		firstDebug := uint32(len(w.b))
		for _, d := range debug {
			w.put32(d.at, uint32(len(w.b)))
			params, _, _ := parseProto(d.m.Proto)
			line := d.lines[0].line
			w.uleb(line)
			w.uleb(uint32(len(params)))
			for range params {
				w.uleb(0) // uleb128p1 of NO_INDEX: no parameter name
			}
			pc := uint32(0)
			for _, p := range d.lines {
				if p.pc != pc {
					w.u8(0x01) // DBG_ADVANCE_PC
					w.uleb(p.pc - pc)
					pc = p.pc
				}
				if p.line != line {
					w.u8(0x02) // DBG_ADVANCE_LINE
					w.sleb(int32(p.line) - int32(line))
					line = p.line
				}
				w.u8(0x0e) // special opcode: line += 0, pc += 0, emit a position
			}
			w.u8(0x00) // DBG_END_SEQUENCE
		}
		items = append(items, mapItem{typeDebugInfo, uint32(len(debug)), firstDebug})
	}

	// type_lists (proto parameters and class interfaces), deduplicated.
	w.align(4)
	typeListOff := map[string]uint32{}
	firstTL := uint32(len(w.b))
	addTypeList := func(list []string) uint32 {
		if len(list) == 0 {
			return 0
		}
		k := strings.Join(list, ",")
		if off, ok := typeListOff[k]; ok {
			return off
		}
		w.align(4)
		off := uint32(len(w.b))
		typeListOff[k] = off
		w.u32(uint32(len(list)))
		for _, ty := range list {
			w.u16(uint16(t.typeIx[ty]))
		}
		return off
	}
	for i, p := range t.protos {
		var params []string
		if p.params != "" {
			params = strings.Split(p.params, ",")
		}
		o := int(protoIDsOff) + 12*i
		w.put32(o, t.stringIx[shorty(params, p.ret)])
		w.put32(o+4, t.typeIx[p.ret])
		w.put32(o+8, addTypeList(params))
	}
	ifaceOff := map[*Class]uint32{}
	for _, c := range classes {
		ifaceOff[c] = addTypeList(c.Interfaces)
	}
	if len(typeListOff) > 0 {
		items = append(items, mapItem{typeTypeList, uint32(len(typeListOff)), firstTL})
	}

	// string_data.
	firstSD := uint32(len(w.b))
	for i, s := range t.strings {
		w.put32(int(stringIDsOff)+4*i, uint32(len(w.b)))
		enc, n := mutf8(s)
		w.uleb(uint32(n))
		w.b = append(w.b, enc...)
		w.u8(0)
	}
	if len(t.strings) > 0 {
		items = append(items, mapItem{typeStringData, uint32(len(t.strings)), firstSD})
	}

	// class_data and class_defs.
	firstCD := uint32(len(w.b))
	nCD := 0
	for i, c := range classes {
		o := int(classDefsOff) + 32*i
		w.put32(o, t.typeIx[c.Desc])
		w.put32(o+4, c.Flags)
		super := uint32(noIndex)
		if c.Super != "" {
			super = t.typeIx[c.Super]
		}
		w.put32(o+8, super)
		w.put32(o+12, ifaceOff[c])
		src := uint32(noIndex)
		if c.SourceFile != "" {
			src = t.stringIx[c.SourceFile]
		}
		w.put32(o+16, src)
		if len(c.Fields) == 0 && len(c.Methods) == 0 {
			continue
		}
		w.put32(o+24, uint32(len(w.b)))
		nCD++
		var sf, inf []*Field
		for _, f := range c.Fields {
			if f.Flags&AccStatic != 0 {
				sf = append(sf, f)
			} else {
				inf = append(inf, f)
			}
		}
		var dm, vm []*Method
		for _, m := range c.Methods {
			if m.direct() {
				dm = append(dm, m)
			} else {
				vm = append(vm, m)
			}
		}
		w.uleb(uint32(len(sf)))
		w.uleb(uint32(len(inf)))
		w.uleb(uint32(len(dm)))
		w.uleb(uint32(len(vm)))
		for _, fs := range [][]*Field{sf, inf} {
			slices.SortFunc(fs, func(a, b *Field) int {
				return cmp.Compare(t.fieldIx[fieldKey{c.Desc, a.Name, a.Type}], t.fieldIx[fieldKey{c.Desc, b.Name, b.Type}])
			})
			prev := uint32(0)
			for _, f := range fs {
				ix := t.fieldIx[fieldKey{c.Desc, f.Name, f.Type}]
				w.uleb(ix - prev)
				w.uleb(f.Flags)
				prev = ix
			}
		}
		for _, ms := range [][]*Method{dm, vm} {
			mix := func(m *Method) uint32 { return t.methodIx[methodKey{c.Desc, m.Name, m.Proto}] }
			slices.SortFunc(ms, func(a, b *Method) int { return cmp.Compare(mix(a), mix(b)) })
			prev := uint32(0)
			for j, m := range ms {
				ix := mix(m)
				if j > 0 && ix == prev {
					return nil, fmt.Errorf("dexbuild: %s->%s%s defined twice", c.Desc, m.Name, m.Proto)
				}
				w.uleb(ix - prev)
				w.uleb(m.Flags)
				w.uleb(codeOff[m])
				prev = ix
			}
		}
	}
	if nCD > 0 {
		items = append(items, mapItem{typeClassData, uint32(nCD), firstCD})
	}

	// static_values encoded arrays, one per class with initial values, in
	// the order of its static fields (sorted by field index), up to the
	// last field that has a value.
	firstEA, nEA := uint32(len(w.b)), 0
	for i, c := range classes {
		var sf []*Field
		for _, f := range c.Fields {
			if f.Flags&AccStatic != 0 {
				sf = append(sf, f)
			}
		}
		slices.SortFunc(sf, func(a, b *Field) int {
			return cmp.Compare(t.fieldIx[fieldKey{c.Desc, a.Name, a.Type}], t.fieldIx[fieldKey{c.Desc, b.Name, b.Type}])
		})
		last := -1
		for j, f := range sf {
			if f.Value != nil {
				last = j
			}
		}
		if last < 0 {
			continue
		}
		w.put32(int(classDefsOff)+32*i+28, uint32(len(w.b)))
		nEA++
		w.uleb(uint32(last + 1))
		for _, f := range sf[:last+1] {
			encodeValue(w, f, t)
		}
	}
	if nEA > 0 {
		items = append(items, mapItem{typeEncArray, uint32(nEA), firstEA})
	}

	// map_list last.
	w.align(4)
	mapOff := uint32(len(w.b))
	items = append(items, mapItem{typeMapList, 1, mapOff})
	slices.SortFunc(items, func(a, b mapItem) int { return cmp.Compare(a.off, b.off) })
	w.u32(uint32(len(items)))
	for _, it := range items {
		w.u16(it.typ)
		w.u16(0)
		w.u32(it.size)
		w.u32(it.off)
	}

	// Header.
	h := w.b
	copy(h, "dex\n"+b.version+"\x00")
	le := binary.LittleEndian
	le.PutUint32(h[32:], uint32(len(h)))
	le.PutUint32(h[36:], 0x70)
	le.PutUint32(h[40:], 0x12345678)
	le.PutUint32(h[52:], mapOff)
	put := func(o int, n int, off uint32) {
		le.PutUint32(h[o:], uint32(n))
		le.PutUint32(h[o+4:], off)
	}
	put(56, len(t.strings), stringIDsOff)
	put(64, len(t.types), typeIDsOff)
	put(72, len(t.protos), protoIDsOff)
	put(80, len(t.fields), fieldIDsOff)
	put(88, len(t.methods), methodIDsOff)
	put(96, len(classes), classDefsOff)
	put(104, len(h)-dataOff, uint32(dataOff))
	sig := sha1.Sum(h[32:])
	copy(h[12:32], sig[:])
	le.PutUint32(h[8:], adler32.Checksum(h[12:]))
	return h, nil
}

// classOrder puts every superclass and interface defined in this file
// before the classes that use it, as the format requires.
func (b *Builder) classOrder() ([]*Class, error) {
	var out []*Class
	state := map[*Class]int{} // 1 visiting, 2 done
	var visit func(c *Class) error
	visit = func(c *Class) error {
		switch state[c] {
		case 1:
			return fmt.Errorf("dexbuild: class hierarchy cycle at %s", c.Desc)
		case 2:
			return nil
		}
		state[c] = 1
		for _, d := range append([]string{c.Super}, c.Interfaces...) {
			if p, ok := b.byDesc[d]; ok {
				if err := visit(p); err != nil {
					return err
				}
			}
		}
		state[c] = 2
		out = append(out, c)
		return nil
	}
	for _, c := range b.classes {
		if err := visit(c); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// encode turns the method's instructions into code units, adding a final
// return when the code does not end with one and placing fill-array-data
// payloads after the code.
// position is a line of the method's line table: the code unit it starts at.
type position struct{ pc, line uint32 }

func (m *Method) encode(t *tables) ([]uint16, []position, int, error) {
	locals := m.nregs
	if m.fixed {
		locals = m.locals
	}
	ins := m.insns
	if m.repeat > 1 {
		ins = make([]insn, 0, len(m.insns)*m.repeat+2)
		for range m.repeat {
			ins = append(ins, m.insns...)
		}
	}
	if n := len(ins); n == 0 || !isReturn(ins[n-1]) {
		_, ret, _ := parseProto(m.Proto)
		switch {
		case ret == "V":
			ins = append(ins, insn{op: 0x0e, kind: k10x})
		default:
			r := m.nregs // a register of its own, without changing the method
			if m.fixed {
				r = 0 // the locals are fixed: the parameters follow them
			} else {
				locals += typeWords(ret)
			}
			op := byte(0x0f)
			if ret[0] == 'L' || ret[0] == '[' {
				op = 0x11
			} else if typeWords(ret) == 2 {
				op = 0x10
			}
			if typeWords(ret) == 2 {
				ins = append(ins, insn{op: 0x16, kind: k21sWide, a: r})
			} else {
				ins = append(ins, insn{op: 0x12, kind: k11n, a: r})
			}
			ins = append(ins, insn{op: op, kind: k11x, a: r})
		}
	}
	var u []uint16
	type fixup struct {
		at   int // position of the fill-array-data instruction
		data []byte
		w    int
	}
	var fix []fixup
	var lines []position
	for _, in := range ins {
		switch in.kind {
		case kLine:
			lines = append(lines, position{uint32(len(u)), uint32(in.lit)})
		case kRaw:
			u = append(u, in.raw...)
		case k10x:
			u = append(u, uint16(in.op))
		case k11x:
			u = append(u, uint16(in.op)|uint16(in.a)<<8)
		case k11n:
			u = append(u, uint16(in.op)|uint16(in.a)<<8|uint16(in.lit&0xf)<<12)
		case k21s, k21sWide:
			u = append(u, uint16(in.op)|uint16(in.a)<<8, uint16(in.lit))
		case k31i:
			u = append(u, uint16(in.op)|uint16(in.a)<<8, uint16(in.lit), uint16(in.lit>>16))
		case k51l:
			u = append(u, uint16(in.op)|uint16(in.a)<<8, uint16(in.lit), uint16(in.lit>>16), uint16(in.lit>>32), uint16(in.lit>>48))
		case kString:
			ix := t.stringIx[in.ref]
			if ix > 0xffff {
				u = append(u, 0x1b|uint16(in.a)<<8, uint16(ix), uint16(ix>>16))
			} else {
				u = append(u, 0x1a|uint16(in.a)<<8, uint16(ix))
			}
		case kType21c:
			u = append(u, uint16(in.op)|uint16(in.a)<<8, uint16(t.typeIx[in.ref]))
		case kNewArray:
			u = append(u, uint16(in.op)|uint16(in.a)<<8|uint16(in.b)<<12, uint16(t.typeIx[in.ref]))
		case kFill:
			fix = append(fix, fixup{at: len(u), data: in.data, w: in.w})
			u = append(u, uint16(in.op)|uint16(in.a)<<8, 0, 0)
		case kInvoke:
			c, n, p, _ := splitMethodRef(in.ref)
			ix := t.methodIx[methodKey{c, n, p}]
			if in.op >= 0x74 {
				first := 0
				if len(in.regs) > 0 {
					first = in.regs[0]
				}
				u = append(u, uint16(in.op)|uint16(len(in.regs))<<8, uint16(ix), uint16(first))
				break
			}
			var r [5]int
			copy(r[:], in.regs)
			u = append(u, uint16(in.op)|uint16(r[4])<<8|uint16(len(in.regs))<<12, uint16(ix),
				uint16(r[0])|uint16(r[1])<<4|uint16(r[2])<<8|uint16(r[3])<<12)
		case kField22c, kField21c:
			c, n, ty, _ := splitFieldRef(in.ref)
			ix := t.fieldIx[fieldKey{c, n, ty}]
			if in.kind == kField22c {
				u = append(u, uint16(in.op)|uint16(in.a)<<8|uint16(in.b)<<12, uint16(ix))
			} else {
				u = append(u, uint16(in.op)|uint16(in.a)<<8, uint16(ix))
			}
		default:
			return nil, nil, 0, fmt.Errorf("dexbuild: unknown instruction kind %d", in.kind)
		}
	}
	for _, f := range fix {
		if len(u)%2 != 0 {
			u = append(u, 0) // payloads are 4-byte aligned
		}
		off := int32(len(u) - f.at)
		u[f.at+1], u[f.at+2] = uint16(off), uint16(uint32(off)>>16)
		n := len(f.data) / f.w
		u = append(u, 0x0300, uint16(f.w), uint16(n), uint16(n>>16))
		d := f.data
		if len(d)%2 != 0 {
			d = append(d[:len(d):len(d)], 0)
		}
		for i := 0; i < len(d); i += 2 {
			u = append(u, uint16(d[i])|uint16(d[i+1])<<8)
		}
	}
	return u, lines, locals, nil
}

func isReturn(in insn) bool {
	return in.kind != kRaw && in.op >= 0x0e && in.op <= 0x11
}

// encodeValue writes an encoded_value for a static field's initial value
// (the default of its type when it has none), with the value type that
// matches the field's type.
func encodeValue(w *buf, f *Field, t *tables) {
	sized := func(typ byte, v uint64, n int) {
		w.u8(byte(n-1)<<5 | typ)
		for i := 0; i < n; i++ {
			w.u8(byte(v >> (8 * i)))
		}
	}
	var num uint64
	switch v := f.Value.(type) {
	case string:
		sized(0x17, uint64(t.stringIx[v]), 4)
		return
	case bool:
		if v {
			num = 1
		}
	case int64:
		num = uint64(v)
	}
	switch f.Type {
	case "Z":
		w.u8(byte(num&1)<<5 | 0x1f)
	case "B":
		sized(0x00, num, 1)
	case "S":
		sized(0x02, num, 2)
	case "C":
		sized(0x03, num, 2)
	case "I":
		sized(0x04, num, 4)
	case "J":
		sized(0x06, num, 8)
	case "F":
		sized(0x10, 0, 4)
	case "D":
		sized(0x11, 0, 8)
	default:
		w.u8(0x1e) // null
	}
}
