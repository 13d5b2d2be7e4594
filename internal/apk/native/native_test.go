package native

import (
	"bytes"
	"debug/elf"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestAnalyze(t *testing.T) {
	hardened := ELFSpec{
		Imports:  []string{"__stack_chk_fail", "__memcpy_chk", "__vsprintf_chk", "malloc", "memcpy"},
		GNUStack: true, RELRO: true, BindNow: true, Symtab: false,
		Needed: []string{"libc.so", "liblog.so"}, Soname: "libpay.so",
	}
	tests := []struct {
		name string
		spec ELFSpec
		want Info
	}{
		{name: "hardened arm64", spec: hardened, want: Info{
			Arch: "arm64", Bits: 64, Type: "shared-object", PIE: true, NX: true, Canary: true, RELRO: "full", Fortify: true,
			Stripped: true, Soname: "libpay.so", Needed: []string{"libc.so", "liblog.so"},
			Fortified: []string{"__memcpy_chk", "__vsprintf_chk"},
		}},
		{name: "nothing 32-bit arm executable", spec: ELFSpec{Machine: elf.EM_ARM, Class: elf.ELFCLASS32, Type: elf.ET_EXEC, Symtab: true,
			Imports: []string{"strcpy", "system", "execve", "printf"}}, want: Info{
			Arch: "arm", Bits: 32, Type: "executable", RELRO: "none", Dangerous: []string{"execve", "strcpy", "system"},
		}},
		{name: "executable stack", spec: ELFSpec{GNUStack: true, ExecStack: true, Symtab: true}, want: Info{
			Arch: "arm64", Bits: 64, Type: "shared-object", PIE: true, RELRO: "none"}},
		{name: "partial relro", spec: ELFSpec{Machine: elf.EM_X86_64, RELRO: true, GNUStack: true, Symtab: true}, want: Info{
			Arch: "x86_64", Bits: 64, Type: "shared-object", PIE: true, NX: true, RELRO: "partial"}},
		{name: "full relro via DF_1_NOW", spec: ELFSpec{Machine: elf.EM_386, Class: elf.ELFCLASS32, RELRO: true, Flags1Now: true, Symtab: true}, want: Info{
			Arch: "x86", Bits: 32, Type: "shared-object", PIE: true, RELRO: "full"}},
		{name: "bind now without relro", spec: ELFSpec{BindNow: true, Symtab: true}, want: Info{
			Arch: "arm64", Bits: 64, Type: "shared-object", PIE: true, RELRO: "none"}},
		{name: "rpath and runpath", spec: ELFSpec{RPath: "/data/local/tmp", RunPath: "$ORIGIN/../lib", Symtab: true}, want: Info{
			Arch: "arm64", Bits: 64, Type: "shared-object", PIE: true, RELRO: "none", RPath: "/data/local/tmp", RunPath: "$ORIGIN/../lib"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Analyze(BuildELF(tc.spec), Options{})
			if err != nil {
				t.Fatal(err)
			}
			w := tc.want
			if got.Arch != w.Arch || got.Bits != w.Bits || got.Type != w.Type || got.PIE != w.PIE || got.NX != w.NX ||
				got.Canary != w.Canary || got.RELRO != w.RELRO || got.Fortify != w.Fortify || got.Stripped != w.Stripped ||
				got.RPath != w.RPath || got.RunPath != w.RunPath || got.Soname != w.Soname ||
				!slices.Equal(got.Needed, w.Needed) || !slices.Equal(got.Fortified, w.Fortified) || !slices.Equal(got.Dangerous, w.Dangerous) {
				t.Errorf("got  %+v\nwant %+v", *got, w)
			}
			want := slices.Clone(tc.spec.Imports)
			slices.Sort(want)
			if !slices.Equal(got.Imports, want) {
				t.Errorf("imports %v, want %v", got.Imports, want)
			}
		})
	}
}

func TestStrings(t *testing.T) {
	ro := []byte("\x00\x01AKIAIOSFODNN7EXAMPLE\x00short\x00https://api.example.com/v1/pay\x00\xff\xfe")
	text := []byte("\x00code-string-not-wanted\x00")
	got, err := Analyze(BuildELF(ELFSpec{RoData: ro, Text: text}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"AKIAIOSFODNN7EXAMPLE", "https://api.example.com/v1/pay"}
	if !slices.Equal(got.Strings, want) || got.StringsTruncated {
		t.Errorf("strings %q (truncated %v), want %q", got.Strings, got.StringsTruncated, want)
	}
	got, _ = Analyze(BuildELF(ELFSpec{RoData: bytes.Repeat([]byte("secret-value\x00"), 100)}), Options{MaxStrings: 10})
	if len(got.Strings) != 10 || !got.StringsTruncated {
		t.Errorf("bounded strings: %d, truncated %v", len(got.Strings), got.StringsTruncated)
	}
	got, _ = Analyze(BuildELF(ELFSpec{RoData: bytes.Repeat([]byte("x"), 100000)}), Options{})
	if len(got.Strings) != 1 || len(got.Strings[0]) != 4096 {
		t.Errorf("a long run is capped: %d strings", len(got.Strings))
	}
}

func TestHostile(t *testing.T) {
	good := BuildELF(ELFSpec{Imports: []string{"strcpy"}, Symtab: true})
	tests := []struct {
		name string
		data []byte
		err  error
	}{
		{"empty", nil, ErrNotELF},
		{"zip", []byte("PK\x03\x04"), ErrNotELF},
		{"header only", good[:16], ErrMalformed},
		{"truncated", good[:100], ErrMalformed},
		{"section headers past the end", func() []byte {
			b := bytes.Clone(good)
			b[40] = 0xff // e_shoff
			b[41] = 0xff
			b[42] = 0xff
			return b
		}(), ErrMalformed},
		{"huge section count", func() []byte {
			b := bytes.Clone(good)
			b[60], b[61] = 0xff, 0xff // e_shnum
			return b
		}(), ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Analyze(tc.data, Options{})
			if !errors.Is(err, tc.err) {
				t.Errorf("err = %v, want %v", err, tc.err)
			}
		})
	}
	// Corrupt every byte of the dynamic section in turn: each result must
	// be an error or an Info, never a panic.
	for i := 64; i < len(good); i++ {
		b := bytes.Clone(good)
		b[i] ^= 0xff
		if info, err := Analyze(b, Options{}); err == nil && info == nil {
			t.Fatalf("byte %d: nil info without error", i)
		}
	}
}

func FuzzAnalyze(f *testing.F) {
	f.Add(BuildELF(ELFSpec{Imports: []string{"strcpy", "__stack_chk_fail"}, GNUStack: true, RELRO: true, BindNow: true, RoData: []byte("hello world")}))
	f.Add(BuildELF(ELFSpec{Class: elf.ELFCLASS32, Machine: elf.EM_ARM, Symtab: true, RPath: "/x"}))
	f.Add([]byte("\x7fELF"))
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := Analyze(b, Options{MaxStrings: 100})
		if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrNotELF) {
			t.Fatalf("error %v matches neither ErrMalformed nor ErrNotELF", err)
		}
		// Analyze recovers panics so a scan survives them; the fuzzer must
		// still see them, in our code or in debug/elf.
		if err != nil && strings.Contains(err.Error(), "panicked") {
			t.Fatal(err)
		}
		if err == nil {
			// Every import and needed library names a distinct
			// NUL-terminated string or symbol of the input.
			if n := len(info.Imports) + len(info.Needed); n > len(b) {
				t.Fatalf("%d imports and needed libraries from %d bytes", n, len(b))
			}
			if !slices.IsSorted(info.Imports) {
				t.Fatalf("imports not sorted: %q", info.Imports)
			}
			if len(info.Strings) > 100 || (info.RELRO != "none" && info.RELRO != "partial" && info.RELRO != "full") {
				t.Fatalf("bad info %+v", info)
			}
			for _, s := range info.Strings {
				if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\t' || r >= 0x7f }) {
					t.Fatalf("non-printable string %q", s)
				}
			}
		}
	})
}

// TestForgedSectionSizes replays the FuzzAnalyze inputs whose forged
// sh_size values once cost 40-70 MB of allocations for a 1 KiB file.
// debug/elf itself may still allocate up to 10 MiB for the section-name
// table before Analyze sees the file; nothing beyond that is allowed.
func TestForgedSectionSizes(t *testing.T) {
	for _, name := range []string{"4b61f89729f3ec11", "85006f006a5fa5ec"} {
		raw, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzAnalyze", name))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(raw), "\n")
		lit, ok := strings.CutPrefix(lines[1], "[]byte(")
		if !ok {
			t.Fatalf("%s: not a []byte corpus entry", name)
		}
		data, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
		if err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err = Analyze([]byte(data), Options{})
		runtime.ReadMemStats(&after)
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v", name, err)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 12<<20 {
			t.Errorf("%s: %d bytes in, %d bytes allocated", name, len(data), n)
		}
	}
}
