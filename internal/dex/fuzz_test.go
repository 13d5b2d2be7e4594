package dex

import (
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/dfslab/dfslab/internal/dex/dexbuild"
)

// fuzzSeeds are small generated DEX files that exercise every table and
// instruction the writer knows.
func fuzzSeeds(t testing.TB) [][]byte {
	d, _ := sample(t)
	b := dexbuild.New()
	main := b.Class("Lcom/app/Main;").Extends("Landroid/app/Activity;").Implements("Ljava/lang/Runnable;").Source("Main.java")
	main.Field("k", "[B", dexbuild.AccStatic)
	main.StaticField("KEY", "Ljava/lang/String;", dexbuild.AccFinal, "secret").StaticField("N", "J", 0, int64(-7))
	m := main.Method("run", "()V")
	m.CallDirect("Ljavax/crypto/spec/SecretKeySpec;-><init>([BLjava/lang/String;)V",
		dexbuild.NewObj("Ljavax/crypto/spec/SecretKeySpec;"), dexbuild.StrBytes("key"), dexbuild.Str("AES"))
	m.CallVirtual("Lcom/app/Main;->sendBroadcast(Landroid/content/Intent;)V", dexbuild.Reg(0), dexbuild.NewObj("Landroid/content/Intent;"))
	m.CallStatic("Lx/Y;->six(IIIIIJ)V", dexbuild.Int(1), dexbuild.Int(2), dexbuild.Int(300), dexbuild.Int(70000), dexbuild.Int(5), dexbuild.Int(1<<40))
	m.Raw(0x0228, 0x0200, 1, 0, 0, 0, 0) // goto over a sparse-switch payload
	main.Method("<clinit>", "()V").ConstClass(0, "Lcom/app/Main;").SPut(0, "Lcom/app/Main;->k:[B")
	return [][]byte{d, b.MustBytes()}
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	lim := &Limits{MaxFileSize: 4 << 20, MaxCodeUnits: 1 << 16}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data, lim)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not match ErrFormat", err)
			}
			return
		}
		// A class_def_item is 32 bytes: more classes than that means a
		// table was read past the bytes that hold it.
		if n := len(file.Classes()); n*32 > len(data) {
			t.Fatalf("%d classes from %d bytes", n, len(data))
		}
		p := NewProgram(file)
		x := analyzeFiles(file)
		for _, e := range x.Errors() {
			if !errors.Is(e, ErrFormat) {
				t.Fatalf("analysis error %v does not match ErrFormat", e)
			}
		}
		for s := range x.Strings() {
			_ = s.Value
		}
		for range x.Fields() {
		}
		for i := range file.Classes() {
			_, _ = p.Super(file.Classes()[i].Desc)
			_ = p.Interfaces(file.Classes()[i].Desc)
		}
		var lines []Position
		for i := range file.Classes() {
			cd, err := file.ClassData(&file.Classes()[i])
			if err != nil || cd == nil {
				continue
			}
			for _, m := range append(cd.DirectMethods, cd.VirtualMethods...) {
				code, err := file.Code(m.CodeOff)
				if m.CodeOff == 0 || err != nil {
					continue
				}
				lines, err = file.Lines(&code, lines)
				if err != nil && !errors.Is(err, ErrFormat) {
					t.Fatalf("line table error %v does not match ErrFormat", err)
				}
				if len(lines) > code.Len()+1 {
					t.Fatalf("%d positions for %d code units", len(lines), code.Len())
				}
			}
		}
		_ = file.VerifyChecksum()
	})
}

// FuzzCode feeds arbitrary bytes to the bytecode pass directly, which
// reaches far more instruction shapes than mutating whole files.
func FuzzCode(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		file, err := Parse(s, nil)
		if err != nil {
			f.Fatal(err)
		}
		for i := range file.Classes() {
			cd, _ := file.ClassData(&file.Classes()[i])
			if cd == nil {
				continue
			}
			for _, m := range append(cd.DirectMethods, cd.VirtualMethods...) {
				if m.CodeOff != 0 {
					c, _ := file.Code(m.CodeOff)
					f.Add([]byte(c.insns), uint16(c.Registers))
				}
			}
		}
	}
	base, _ := sample(f)
	file, err := Parse(base, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, insns []byte, regs uint16) {
		code := Code{Off: 0x70, Registers: regs, insns: string(insns[:len(insns)&^1])}
		var a Analyzer
		var out Facts
		if err := a.AnalyzeMethod(file, 0, &code, &out); err != nil && !errors.Is(err, ErrFormat) {
			t.Fatalf("error %v does not match ErrFormat", err)
		}
		for _, c := range out.Calls {
			if c.Op.Width() == 0 || !c.Op.IsInvoke() {
				t.Fatalf("call with opcode %v", c.Op)
			}
		}
	})
}

func FuzzMUTF8(f *testing.F) {
	for _, s := range []string{"", "abc", "\xc0\x80", "\xed\xa0\xbd\xed\xb8\x80", "\xe2\x82\xac", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if out := decodeMUTF8(s); !utf8.ValidString(out) {
			t.Fatalf("decodeMUTF8(%q) = %q, not valid UTF-8", s, out)
		}
	})
}
