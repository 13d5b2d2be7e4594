package apktest

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"strings"
)

// ELF describes a small AArch64 shared library whose hardening properties
// the test chooses. It has no code: the scanner only reads headers, the
// dynamic section, symbols and read-only data.
type ELF struct {
	Exec      bool     // ET_EXEC instead of ET_DYN (not position-independent)
	ExecStack bool     // PT_GNU_STACK with PF_X, or none at all when NoStack
	NoStack   bool     // omit PT_GNU_STACK
	RELRO     string   // "", "partial" or "full"
	RPath     string   // DT_RUNPATH
	Imports   []string // undefined dynamic symbols (e.g. "__stack_chk_fail", "strcpy")
	Symtab    bool     // keep a .symtab (not stripped)
	Rodata    []string // strings in .rodata
}

// Bytes lays out the library.
func (e ELF) Bytes() []byte {
	le := binary.LittleEndian
	var dynstr strtab
	dynstr.add("")
	var dynsym bytes.Buffer
	binary.Write(&dynsym, le, elf.Sym64{})
	for _, name := range e.Imports {
		binary.Write(&dynsym, le, elf.Sym64{Name: dynstr.add(name), Info: elf.ST_INFO(elf.STB_GLOBAL, elf.STT_FUNC)})
	}
	var dynamic bytes.Buffer
	if e.RPath != "" {
		binary.Write(&dynamic, le, elf.Dyn64{Tag: int64(elf.DT_RUNPATH), Val: uint64(dynstr.add(e.RPath))})
	}
	if e.RELRO == "full" {
		binary.Write(&dynamic, le, elf.Dyn64{Tag: int64(elf.DT_FLAGS), Val: uint64(elf.DF_BIND_NOW)})
	}
	binary.Write(&dynamic, le, elf.Dyn64{Tag: int64(elf.DT_NULL)})
	rodata := []byte(strings.Join(e.Rodata, "\x00") + "\x00")

	type section struct {
		name  string
		typ   elf.SectionType
		data  []byte
		link  uint32
		entsz uint64
	}
	secs := []section{
		{name: ".dynstr", typ: elf.SHT_STRTAB, data: dynstr.buf.Bytes()},
		{name: ".dynsym", typ: elf.SHT_DYNSYM, data: dynsym.Bytes(), link: 1, entsz: 24},
		{name: ".dynamic", typ: elf.SHT_DYNAMIC, data: dynamic.Bytes(), link: 1, entsz: 16},
		{name: ".rodata", typ: elf.SHT_PROGBITS, data: rodata},
	}
	if e.Symtab {
		var st strtab
		st.add("")
		var sym bytes.Buffer
		binary.Write(&sym, le, elf.Sym64{})
		binary.Write(&sym, le, elf.Sym64{Name: st.add("local_function"), Info: elf.ST_INFO(elf.STB_LOCAL, elf.STT_FUNC), Shndx: 4})
		secs = append(secs, section{name: ".symtab", typ: elf.SHT_SYMTAB, data: sym.Bytes(), link: uint32(len(secs) + 2), entsz: 24},
			section{name: ".strtab", typ: elf.SHT_STRTAB, data: st.buf.Bytes()})
	}
	var shstr strtab
	shstr.add("")
	secs = append(secs, section{name: ".shstrtab", typ: elf.SHT_STRTAB})
	names := make([]uint32, len(secs))
	for i, s := range secs {
		names[i] = shstr.add(s.name)
	}
	secs[len(secs)-1].data = shstr.buf.Bytes()

	var progs []elf.Prog64
	if !e.NoStack {
		fl := elf.PF_R | elf.PF_W
		if e.ExecStack {
			fl |= elf.PF_X
		}
		progs = append(progs, elf.Prog64{Type: uint32(elf.PT_GNU_STACK), Flags: uint32(fl)})
	}
	if e.RELRO != "" {
		progs = append(progs, elf.Prog64{Type: uint32(elf.PT_GNU_RELRO), Flags: uint32(elf.PF_R)})
	}

	off := uint64(64 + 56*len(progs))
	offsets := make([]uint64, len(secs))
	for i, s := range secs {
		off = (off + 7) &^ 7
		offsets[i] = off
		off += uint64(len(s.data))
	}
	shoff := (off + 7) &^ 7
	typ := elf.ET_DYN
	if e.Exec {
		typ = elf.ET_EXEC
	}
	var out bytes.Buffer
	h := elf.Header64{Type: uint16(typ), Machine: uint16(elf.EM_AARCH64), Version: 1, Phoff: 64, Shoff: shoff,
		Ehsize: 64, Phentsize: 56, Phnum: uint16(len(progs)), Shentsize: 64, Shnum: uint16(len(secs) + 1), Shstrndx: uint16(len(secs))}
	copy(h.Ident[:], "\x7fELF")
	h.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	h.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	h.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	binary.Write(&out, le, h)
	for _, p := range progs {
		binary.Write(&out, le, p)
	}
	for i, s := range secs {
		for uint64(out.Len()) < offsets[i] {
			out.WriteByte(0)
		}
		out.Write(s.data)
	}
	for uint64(out.Len()) < shoff {
		out.WriteByte(0)
	}
	binary.Write(&out, le, elf.Section64{})
	for i, s := range secs {
		binary.Write(&out, le, elf.Section64{Name: names[i], Type: uint32(s.typ), Off: offsets[i], Size: uint64(len(s.data)),
			Link: s.link, Addralign: 1, Entsize: s.entsz})
	}
	return out.Bytes()
}

type strtab struct{ buf bytes.Buffer }

func (s *strtab) add(str string) uint32 {
	off := uint32(s.buf.Len())
	s.buf.WriteString(str)
	s.buf.WriteByte(0)
	return off
}
