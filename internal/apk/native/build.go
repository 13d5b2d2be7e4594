package native

import (
	"debug/elf"
	"encoding/binary"
)

// ELFSpec describes a small shared library for BuildELF. Zero values give a
// 64-bit ARM shared object with no hardening at all.
type ELFSpec struct {
	Machine elf.Machine // default EM_AARCH64
	Class   elf.Class   // default ELFCLASS64
	Type    elf.Type    // default ET_DYN
	Imports []string    // undefined dynamic symbols
	Needed  []string
	Soname  string
	RPath   string
	RunPath string
	// GNUStack adds PT_GNU_STACK; ExecStack makes it executable.
	GNUStack, ExecStack bool
	RELRO               bool // PT_GNU_RELRO
	BindNow             bool // DT_FLAGS with DF_BIND_NOW
	Flags1Now           bool // DT_FLAGS_1 with DF_1_NOW
	Symtab              bool // keep a .symtab (not stripped)
	RoData              []byte
	Text                []byte // goes to an executable section, not scanned for strings
}

// BuildELF writes a minimal but well-formed ELF file that debug/elf reads,
// so that tests here and in the scanner can exercise every hardening flag
// without committing binaries.
func BuildELF(s ELFSpec) []byte {
	if s.Machine == 0 {
		s.Machine = elf.EM_AARCH64
	}
	if s.Class == 0 {
		s.Class = elf.ELFCLASS64
	}
	if s.Type == 0 {
		s.Type = elf.ET_DYN
	}
	b64 := s.Class == elf.ELFCLASS64
	le := binary.LittleEndian
	word := func(b []byte, v uint64) []byte {
		if b64 {
			return le.AppendUint64(b, v)
		}
		return le.AppendUint32(b, uint32(v))
	}

	// String tables.
	dynstr := []byte{0}
	addStr := func(tab *[]byte, s string) uint32 {
		off := uint32(len(*tab))
		*tab = append(append(*tab, s...), 0)
		return off
	}
	var symNames []uint32
	for _, n := range s.Imports {
		symNames = append(symNames, addStr(&dynstr, n))
	}
	type dyn struct {
		tag elf.DynTag
		val uint64
	}
	var dyns []dyn
	for _, n := range s.Needed {
		dyns = append(dyns, dyn{elf.DT_NEEDED, uint64(addStr(&dynstr, n))})
	}
	if s.Soname != "" {
		dyns = append(dyns, dyn{elf.DT_SONAME, uint64(addStr(&dynstr, s.Soname))})
	}
	if s.RPath != "" {
		dyns = append(dyns, dyn{elf.DT_RPATH, uint64(addStr(&dynstr, s.RPath))})
	}
	if s.RunPath != "" {
		dyns = append(dyns, dyn{elf.DT_RUNPATH, uint64(addStr(&dynstr, s.RunPath))})
	}
	if s.BindNow {
		dyns = append(dyns, dyn{elf.DT_FLAGS, uint64(elf.DF_BIND_NOW)})
	}
	if s.Flags1Now {
		dyns = append(dyns, dyn{elf.DT_FLAGS_1, uint64(elf.DF_1_NOW)})
	}

	sym := func(b []byte, name uint32, info byte, shndx uint16) []byte {
		if b64 {
			b = le.AppendUint32(b, name)
			b = append(b, info, 0)
			b = le.AppendUint16(b, shndx)
			return append(b, make([]byte, 16)...)
		}
		b = le.AppendUint32(b, name)
		b = append(b, make([]byte, 8)...)
		b = append(b, info, 0)
		return le.AppendUint16(b, shndx)
	}
	symSize := uint64(16)
	if b64 {
		symSize = 24
	}
	dynsym := sym(nil, 0, 0, 0)
	for _, n := range symNames {
		dynsym = sym(dynsym, n, byte(elf.STB_GLOBAL)<<4|byte(elf.STT_FUNC), uint16(elf.SHN_UNDEF))
	}
	strtab := []byte{0}
	symtab := sym(nil, 0, 0, 0)
	symtab = sym(symtab, addStr(&strtab, "local_helper"), byte(elf.STB_LOCAL)<<4|byte(elf.STT_FUNC), 5)

	shstr := []byte{0}
	type sec struct {
		name             string
		typ              elf.SectionType
		flags            elf.SectionFlag
		data             []byte
		link, info       uint32
		entsize, nameOff uint64
		off              uint64
	}
	secs := []*sec{
		{name: ".dynstr", typ: elf.SHT_STRTAB, flags: elf.SHF_ALLOC, data: dynstr},
		{name: ".dynsym", typ: elf.SHT_DYNSYM, flags: elf.SHF_ALLOC, link: 1, info: 1, entsize: symSize, data: dynsym},
		{name: ".dynamic", typ: elf.SHT_DYNAMIC, flags: elf.SHF_ALLOC | elf.SHF_WRITE, link: 1},
		{name: ".rodata", typ: elf.SHT_PROGBITS, flags: elf.SHF_ALLOC, data: s.RoData},
		{name: ".text", typ: elf.SHT_PROGBITS, flags: elf.SHF_ALLOC | elf.SHF_EXECINSTR, data: s.Text},
	}
	if s.Symtab {
		secs = append(secs,
			&sec{name: ".symtab", typ: elf.SHT_SYMTAB, link: uint32(len(secs) + 2), info: 2, entsize: symSize, data: symtab},
			&sec{name: ".strtab", typ: elf.SHT_STRTAB, data: strtab})
	}
	secs = append(secs, &sec{name: ".shstrtab", typ: elf.SHT_STRTAB})
	for _, x := range secs {
		x.nameOff = uint64(addStr(&shstr, x.name))
	}
	secs[len(secs)-1].data = shstr

	ehSize, phSize, shSize := uint64(52), uint64(32), uint64(40)
	if b64 {
		ehSize, phSize, shSize = 64, 56, 64
	}
	type prog struct {
		typ       elf.ProgType
		flags     elf.ProgFlag
		off, size uint64
	}
	nProgs := 2
	if s.GNUStack {
		nProgs++
	}
	if s.RELRO {
		nProgs++
	}
	// Lay out the section contents after the headers. The dynamic section's
	// size is known in advance: one entry per tag plus the address tags and
	// DT_NULL.
	dynEnt := uint64(8)
	if b64 {
		dynEnt = 16
	}
	secs[2].entsize = dynEnt
	dynLen := uint64(len(dyns)+5) * dynEnt
	off := ehSize + uint64(nProgs)*phSize
	for _, x := range secs {
		off = (off + 7) &^ 7
		x.off = off
		if x.typ == elf.SHT_DYNAMIC {
			off += dynLen
		} else {
			off += uint64(len(x.data))
		}
	}
	dyns = append(dyns,
		dyn{elf.DT_STRTAB, secs[0].off}, dyn{elf.DT_SYMTAB, secs[1].off},
		dyn{elf.DT_STRSZ, uint64(len(dynstr))}, dyn{elf.DT_SYMENT, symSize}, dyn{elf.DT_NULL, 0})
	var dynamic []byte
	for _, d := range dyns {
		dynamic = word(dynamic, uint64(d.tag))
		dynamic = word(dynamic, d.val)
	}
	secs[2].data = dynamic
	shoff := (off + 7) &^ 7
	total := shoff + uint64(len(secs)+1)*shSize

	progs := []prog{
		{typ: elf.PT_LOAD, flags: elf.PF_R | elf.PF_X, off: 0, size: total},
		{typ: elf.PT_DYNAMIC, flags: elf.PF_R | elf.PF_W, off: secs[2].off, size: dynLen},
	}
	if s.GNUStack {
		f := elf.PF_R | elf.PF_W
		if s.ExecStack {
			f |= elf.PF_X
		}
		progs = append(progs, prog{typ: elf.PT_GNU_STACK, flags: f})
	}
	if s.RELRO {
		progs = append(progs, prog{typ: elf.PT_GNU_RELRO, flags: elf.PF_R, off: secs[2].off, size: dynLen})
	}

	out := make([]byte, 0, total)
	out = append(out, 0x7f, 'E', 'L', 'F', byte(s.Class), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT))
	out = append(out, make([]byte, 9)...)
	out = le.AppendUint16(out, uint16(s.Type))
	out = le.AppendUint16(out, uint16(s.Machine))
	out = le.AppendUint32(out, uint32(elf.EV_CURRENT))
	out = word(out, 0)            // entry
	out = word(out, ehSize)       // phoff
	out = word(out, shoff)        // shoff
	out = le.AppendUint32(out, 0) // flags
	out = le.AppendUint16(out, uint16(ehSize))
	out = le.AppendUint16(out, uint16(phSize))
	out = le.AppendUint16(out, uint16(len(progs)))
	out = le.AppendUint16(out, uint16(shSize))
	out = le.AppendUint16(out, uint16(len(secs)+1))
	out = le.AppendUint16(out, uint16(len(secs))) // .shstrtab is last
	for _, p := range progs {
		if b64 {
			out = le.AppendUint32(out, uint32(p.typ))
			out = le.AppendUint32(out, uint32(p.flags))
			out = word(out, p.off)
			out = word(out, p.off)
			out = word(out, p.off)
			out = word(out, p.size)
			out = word(out, p.size)
			out = word(out, 8)
		} else {
			for _, v := range []uint32{uint32(p.typ), uint32(p.off), uint32(p.off), uint32(p.off), uint32(p.size), uint32(p.size), uint32(p.flags), 8} {
				out = le.AppendUint32(out, v)
			}
		}
	}
	for _, x := range secs {
		for uint64(len(out)) < x.off {
			out = append(out, 0)
		}
		out = append(out, x.data...)
	}
	for uint64(len(out)) < shoff {
		out = append(out, 0)
	}
	out = append(out, make([]byte, shSize)...) // SHN_UNDEF
	for _, x := range secs {
		addr := uint64(0)
		if x.flags&elf.SHF_ALLOC != 0 {
			addr = x.off
		}
		if b64 {
			out = le.AppendUint32(out, uint32(x.nameOff))
			out = le.AppendUint32(out, uint32(x.typ))
			out = word(out, uint64(x.flags))
			out = word(out, addr)
			out = word(out, x.off)
			out = word(out, uint64(len(x.data)))
			out = le.AppendUint32(out, x.link)
			out = le.AppendUint32(out, x.info)
			out = word(out, 8)
			out = word(out, x.entsize)
		} else {
			for _, v := range []uint32{uint32(x.nameOff), uint32(x.typ), uint32(x.flags), uint32(addr), uint32(x.off), uint32(len(x.data)), x.link, x.info, 4, uint32(x.entsize)} {
				out = le.AppendUint32(out, v)
			}
		}
	}
	return out
}
