package apk

import (
	"bytes"
	"debug/elf"
	"path"
	"slices"
	"strings"

	"github.com/dfslab/dfslab/internal/apk/zipfs"
)

// dangerousImports are libc functions without bounds checks or that run
// commands.
var dangerousImports = []string{"strcpy", "strcat", "sprintf", "vsprintf", "gets", "system", "popen", "execl", "execlp", "execv", "execvp", "memcpy", "scanf", "sscanf", "strncpy", "tmpnam", "mktemp"}

// readNative summarises one ELF library's hardening and keeps its readable
// strings for secret scanning.
func (l *loader) readNative(e *zipfs.Entry, prefix string) {
	if e.UncompressedSize > l.lim.MaxNativeSize {
		l.warnf("%s%s: %d bytes, not analysed", prefix, e.Name, e.UncompressedSize)
		return
	}
	data, err := e.ReadAll(l.lim.MaxNativeSize)
	if err != nil {
		l.warnf("%s%s: %v", prefix, e.Name, err)
		return
	}
	lib, err := analyseELF(data)
	if err != nil {
		l.warnf("%s%s: %v", prefix, e.Name, err)
		return
	}
	lib.Path = prefix + e.Name
	if lib.Arch == "" {
		lib.Arch = path.Base(path.Dir(e.Name))
	}
	l.app.Native = append(l.app.Native, *lib)
}

func analyseELF(data []byte) (lib *NativeLib, err error) {
	defer func() {
		// debug/elf is not written for hostile input; a crafted file must
		// not take the whole scan down.
		if r := recover(); r != nil {
			lib, err = nil, errFormat("ELF reader panicked on malformed input")
		}
	}()
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	lib = &NativeLib{Arch: archName(f.Machine), PIE: f.Type == elf.ET_DYN, RELRO: "none"}
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_GNU_STACK:
			lib.NX = p.Flags&elf.PF_X == 0
		case elf.PT_GNU_RELRO:
			lib.RELRO = "partial"
		}
	}
	if lib.RELRO == "partial" && bindNow(f) {
		lib.RELRO = "full"
	}
	if rp, _ := f.DynString(elf.DT_RPATH); len(rp) > 0 {
		lib.RPath = strings.Join(rp, ":")
	} else if rp, _ := f.DynString(elf.DT_RUNPATH); len(rp) > 0 {
		lib.RPath = strings.Join(rp, ":")
	}
	lib.Stripped = f.Section(".symtab") == nil
	if syms, err := f.ImportedSymbols(); err == nil {
		for _, s := range syms {
			lib.Imports = append(lib.Imports, s.Name)
			switch {
			case s.Name == "__stack_chk_fail" || s.Name == "__stack_chk_guard":
				lib.Canary = true
			case strings.HasPrefix(s.Name, "__") && strings.HasSuffix(s.Name, "_chk"):
				lib.Fortify = true
			}
			if slices.Contains(dangerousImports, s.Name) && !slices.Contains(lib.Dangerous, s.Name) {
				lib.Dangerous = append(lib.Dangerous, s.Name)
			}
		}
	}
	if s := f.Section(".rodata"); s != nil && s.Type != elf.SHT_NOBITS && s.Size < 8<<20 {
		if d, err := s.Data(); err == nil {
			lib.Strings = printable(d, 12, 20000)
		}
	}
	return lib, nil
}

func bindNow(f *elf.File) bool {
	if v, err := f.DynValue(elf.DT_FLAGS); err == nil {
		for _, x := range v {
			if elf.DynFlag(x)&elf.DF_BIND_NOW != 0 {
				return true
			}
		}
	}
	if v, err := f.DynValue(elf.DT_FLAGS_1); err == nil {
		for _, x := range v {
			if elf.DynFlag1(x)&elf.DF_1_NOW != 0 {
				return true
			}
		}
	}
	if v, err := f.DynValue(elf.DT_BIND_NOW); err == nil && len(v) > 0 {
		return true
	}
	return false
}

func archName(m elf.Machine) string {
	switch m {
	case elf.EM_ARM:
		return "armeabi-v7a"
	case elf.EM_AARCH64:
		return "arm64-v8a"
	case elf.EM_386:
		return "x86"
	case elf.EM_X86_64:
		return "x86_64"
	case elf.EM_RISCV:
		return "riscv64"
	}
	return ""
}

// printable extracts runs of printable ASCII of at least minLen bytes.
func printable(d []byte, minLen, maxN int) []string {
	var out []string
	start := -1
	for i := 0; i <= len(d) && len(out) < maxN; i++ {
		if i < len(d) && d[i] >= 0x20 && d[i] < 0x7f {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && i-start >= minLen {
			out = append(out, string(d[start:i]))
		}
		start = -1
	}
	return out
}

type errFormat string

func (e errFormat) Error() string { return string(e) }
