// Package native inspects the ELF shared libraries an APK bundles under
// lib/<abi>/: which hardening the toolchain applied (PIE, NX, stack
// canaries, RELRO, FORTIFY), what the library imports that is risky, and
// which printable strings it carries, for the secret scanner.
//
// Input is untrusted: debug/elf is used on an in-memory copy, its panics are
// turned into errors, and every collection is bounded.
package native

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// ErrNotELF reports bytes that are not an ELF file.
var ErrNotELF = errors.New("native: not an ELF file")

// ErrMalformed reports an ELF file that debug/elf could not read.
var ErrMalformed = errors.New("native: malformed ELF file")

// Options bound the analysis. Zero fields take the defaults.
type Options struct {
	MinStringLen   int   // shortest printable run kept (default 6)
	MaxStrings     int   // strings kept (default 20,000)
	MaxStringBytes int64 // total bytes of kept strings (default 4 MiB)
	MaxImports     int   // imported symbols kept (default 50,000)
}

func (o Options) withDefaults() Options {
	if o.MinStringLen <= 0 {
		o.MinStringLen = 6
	}
	if o.MaxStrings <= 0 {
		o.MaxStrings = 20000
	}
	if o.MaxStringBytes <= 0 {
		o.MaxStringBytes = 4 << 20
	}
	if o.MaxImports <= 0 {
		o.MaxImports = 50000
	}
	return o
}

// Info is what Analyze found. Its fields map onto appscan.NativeLib
// (RPath there is RPath, or RunPath if RPath is empty).
type Info struct {
	Arch     string // arm, arm64, x86, x86_64, mips, mips64, riscv64, or the ELF machine name
	Bits     int    // 32 or 64
	Type     string // shared-object, executable, …
	PIE      bool   // position independent (ET_DYN)
	NX       bool   // PT_GNU_STACK present and not executable
	Canary   bool   // imports __stack_chk_fail / __stack_chk_guard
	RELRO    string // none, partial, full
	Fortify  bool   // imports fortified *_chk functions
	RPath    string
	RunPath  string
	Stripped bool // no .symtab
	Soname   string
	Needed   []string
	// Imports are the undefined dynamic symbols, sorted.
	Imports []string
	// Fortified are the *_chk imports; Dangerous the risky ones.
	Fortified []string
	Dangerous []string
	// Strings are printable ASCII runs from the data sections (the whole
	// file if it has no section headers), in file order.
	Strings          []string
	StringsTruncated bool
}

// dangerousImports are libc functions whose use in a library is worth a
// look: unbounded copies and formatting, reading without a bound, and
// running commands. memcpy and friends are left out: every library uses
// them and they take a length.
var dangerousImports = map[string]bool{
	"strcpy": true, "stpcpy": true, "strcat": true, "sprintf": true, "vsprintf": true,
	"gets": true, "scanf": true, "sscanf": true, "fscanf": true, "vscanf": true,
	"system": true, "popen": true, "execve": true, "execl": true, "execle": true,
	"execlp": true, "execv": true, "execvp": true, "execvpe": true,
	"mktemp": true, "tmpnam": true, "tempnam": true,
}

var machines = map[elf.Machine]string{
	elf.EM_ARM:     "arm",
	elf.EM_AARCH64: "arm64",
	elf.EM_386:     "x86",
	elf.EM_X86_64:  "x86_64",
	elf.EM_MIPS:    "mips",
	elf.EM_RISCV:   "riscv",
}

// Analyze inspects one ELF file.
func Analyze(data []byte, opts Options) (info *Info, err error) {
	if len(data) < 4 || string(data[:4]) != elf.ELFMAG {
		return nil, ErrNotELF
	}
	opts = opts.withDefaults()
	// debug/elf has panicked on crafted files before; a hostile library
	// must not take the scanner down.
	defer func() {
		if r := recover(); r != nil {
			info, err = nil, fmt.Errorf("%w: debug/elf panicked: %v", ErrMalformed, r)
		}
	}()
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	defer f.Close()
	clampSections(f, len(data))
	info = &Info{
		Arch:   arch(f),
		Bits:   32,
		Type:   fileType(f.Type),
		PIE:    f.Type == elf.ET_DYN,
		RELRO:  "none",
		Soname: first(f.DynString(elf.DT_SONAME)),
	}
	if f.Class == elf.ELFCLASS64 {
		info.Bits = 64
	}
	relro := false
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_GNU_STACK:
			info.NX = p.Flags&elf.PF_X == 0
		case elf.PT_GNU_RELRO:
			relro = true
		}
	}
	if relro {
		info.RELRO = "partial"
		if bindNow(f) {
			info.RELRO = "full"
		}
	}
	info.RPath = strings.Join(must(f.DynString(elf.DT_RPATH)), ":")
	info.RunPath = strings.Join(must(f.DynString(elf.DT_RUNPATH)), ":")
	info.Needed = must(f.DynString(elf.DT_NEEDED))
	info.Stripped = f.Section(".symtab") == nil

	syms, _ := f.DynamicSymbols()
	seen := map[string]bool{}
	for _, s := range syms {
		if s.Section != elf.SHN_UNDEF || s.Name == "" || seen[s.Name] {
			continue
		}
		if len(info.Imports) == opts.MaxImports {
			break
		}
		seen[s.Name] = true
		info.Imports = append(info.Imports, s.Name)
	}
	sort.Strings(info.Imports)
	for _, name := range info.Imports {
		switch {
		case name == "__stack_chk_fail" || name == "__stack_chk_guard":
			info.Canary = true
		case strings.HasSuffix(name, "_chk") && strings.HasPrefix(name, "__"):
			info.Fortified = append(info.Fortified, name)
		}
		if dangerousImports[name] {
			info.Dangerous = append(info.Dangerous, name)
		}
	}
	info.Fortify = len(info.Fortified) > 0
	info.Strings, info.StringsTruncated = dataStrings(f, data, opts)
	return info, nil
}

// maxInflate is the largest expansion zlib allows (about 1032:1); a
// compressed section claiming more is lying about its size.
const maxInflate = 1032

// clampSections trims section sizes to the bytes the file holds.
// debug/elf allocates a section's declared size (up to 10 MiB at a time)
// before it finds the file too short, and the dynamic-section lookups below
// read the same sections many times over: found by FuzzAnalyze, a 1 KiB
// file with forged sh_size values cost over 70 MB of allocations.
func clampSections(f *elf.File, size int) {
	for _, s := range f.Sections {
		if s.Type == elf.SHT_NOBITS {
			continue
		}
		avail := uint64(0)
		if s.Offset < uint64(size) {
			avail = uint64(size) - s.Offset
		}
		s.FileSize = min(s.FileSize, avail)
		if s.Flags&elf.SHF_COMPRESSED != 0 {
			s.Size = min(s.Size, s.FileSize*maxInflate)
		} else {
			s.Size = min(s.Size, s.FileSize)
		}
	}
}

func must(v []string, _ error) []string { return v }

func first(v []string, _ error) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func arch(f *elf.File) string {
	name, ok := machines[f.Machine]
	if !ok {
		return strings.TrimPrefix(strings.ToLower(f.Machine.String()), "em_")
	}
	if f.Class == elf.ELFCLASS64 && (name == "mips" || name == "riscv") {
		return name + "64"
	}
	if name == "riscv" {
		return "riscv32"
	}
	return name
}

func fileType(t elf.Type) string {
	switch t {
	case elf.ET_DYN:
		return "shared-object"
	case elf.ET_EXEC:
		return "executable"
	case elf.ET_REL:
		return "relocatable"
	case elf.ET_CORE:
		return "core"
	}
	return t.String()
}

// bindNow reports whether the dynamic linker resolves every symbol at load
// time, which is what makes RELRO full: the GOT can then be read-only too.
func bindNow(f *elf.File) bool {
	if v, err := f.DynValue(elf.DT_BIND_NOW); err == nil && len(v) > 0 {
		return true
	}
	if v, err := f.DynValue(elf.DT_FLAGS); err == nil && slices.ContainsFunc(v, func(x uint64) bool { return x&uint64(elf.DF_BIND_NOW) != 0 }) {
		return true
	}
	if v, err := f.DynValue(elf.DT_FLAGS_1); err == nil && slices.ContainsFunc(v, func(x uint64) bool { return x&uint64(elf.DF_1_NOW) != 0 }) {
		return true
	}
	return false
}

// dataStrings extracts printable runs from the sections that hold data
// (read-only data, initialised data, comments), where keys and URLs live;
// code, symbol and relocation tables would only add noise.
func dataStrings(f *elf.File, data []byte, opts Options) ([]string, bool) {
	var regions [][]byte
	for _, s := range f.Sections {
		if s.Type != elf.SHT_PROGBITS || s.Flags&elf.SHF_EXECINSTR != 0 || s.Flags&elf.SHF_COMPRESSED != 0 {
			continue
		}
		if s.Offset >= uint64(len(data)) || s.Size > uint64(len(data))-s.Offset {
			continue
		}
		regions = append(regions, data[s.Offset:s.Offset+s.Size])
	}
	if len(f.Sections) == 0 {
		regions = [][]byte{data}
	}
	sc := stringScanner{opts: opts}
	for _, r := range regions {
		if !sc.scan(r) {
			return sc.out, true
		}
	}
	return sc.out, false
}

type stringScanner struct {
	opts  Options
	out   []string
	bytes int64
}

func printable(c byte) bool { return c >= 0x20 && c < 0x7f || c == '\t' }

// scan appends the printable runs of b; false means a bound was reached.
func (s *stringScanner) scan(b []byte) bool {
	start := -1
	for i := 0; i <= len(b); i++ {
		if i < len(b) && printable(b[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && i-start >= s.opts.MinStringLen {
			// Cap a single run so that one huge blob cannot eat the budget.
			run := b[start:min(i, start+4096)]
			if len(s.out) == s.opts.MaxStrings || s.bytes+int64(len(run)) > s.opts.MaxStringBytes {
				return false
			}
			s.out = append(s.out, string(run))
			s.bytes += int64(len(run))
		}
		start = -1
	}
	return true
}
