package dex

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/dex/dexbuild"
)

func mustProgram(t testing.TB, builders ...*dexbuild.Builder) *Program {
	t.Helper()
	var files []*File
	for _, b := range builders {
		data, err := b.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		f, err := Parse(data, nil)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return NewProgram(files...)
}

func mustIndex(t testing.TB, p *Program) *analysis {
	t.Helper()
	x := analyzeFiles(p.Files...)
	if len(x.Errors()) > 0 {
		t.Fatalf("analysis errors: %v", x.Errors())
	}
	return x
}

// describe renders values compactly for comparisons.
func describe(vs []Value) string {
	var parts []string
	for _, v := range vs {
		switch v.Kind {
		case ConstString, ConstClass, NewObject, StringBytes:
			parts = append(parts, fmt.Sprintf("%s:%q", v.Kind, v.Str))
		case ConstInt:
			parts = append(parts, fmt.Sprintf("int:%#x", v.Int))
		case ArrayData:
			parts = append(parts, fmt.Sprintf("array%d:% x", v.Int, v.Str))
		case NewArray:
			parts = append(parts, fmt.Sprintf("new-array:%s[%d]", v.Str, v.Int))
		default:
			parts = append(parts, v.Kind.String())
		}
	}
	return strings.Join(parts, " ")
}

func TestCallArguments(t *testing.T) {
	tests := []struct {
		name   string
		build  func(m *dexbuild.Method)
		target MethodRef
		want   string // describe(Args) of the only matching call
	}{
		{
			name: "cipher with constant transformation",
			build: func(m *dexbuild.Method) {
				m.CallStatic("Ljavax/crypto/Cipher;->getInstance(Ljava/lang/String;)Ljavax/crypto/Cipher;", dexbuild.Str("AES/ECB/PKCS5Padding"))
			},
			target: MethodRef{"Ljavax/crypto/Cipher;", "getInstance", ""},
			want:   `const-string:"AES/ECB/PKCS5Padding"`,
		},
		{
			name: "static IV from fill-array-data",
			build: func(m *dexbuild.Method) {
				m.CallDirect("Ljavax/crypto/spec/IvParameterSpec;-><init>([B)V",
					dexbuild.NewObj("Ljavax/crypto/spec/IvParameterSpec;"), dexbuild.Bytes([]byte{1, 2, 3, 4, 5}))
			},
			target: MethodRef{"Ljavax/crypto/spec/IvParameterSpec;", "<init>", "([B)V"},
			want:   `new-object:"Ljavax/crypto/spec/IvParameterSpec;" array1:01 02 03 04 05`,
		},
		{
			name: "key from String.getBytes of a constant",
			build: func(m *dexbuild.Method) {
				m.CallDirect("Ljavax/crypto/spec/SecretKeySpec;-><init>([BLjava/lang/String;)V",
					dexbuild.NewObj("Ljavax/crypto/spec/SecretKeySpec;"), dexbuild.StrBytes("s3cr3tk3y"), dexbuild.Str("AES"))
			},
			target: MethodRef{"Ljavax/crypto/spec/SecretKeySpec;", "<init>", ""},
			want:   `new-object:"Ljavax/crypto/spec/SecretKeySpec;" string-bytes:"s3cr3tk3y" const-string:"AES"`,
		},
		{
			name: "world readable mode through an activity",
			build: func(m *dexbuild.Method) {
				m.CallVirtual("Lcom/app/Main;->openFileOutput(Ljava/lang/String;I)Ljava/io/FileOutputStream;",
					dexbuild.Reg(0), dexbuild.Str("secrets.txt"), dexbuild.Int(1))
			},
			target: MethodRef{"Lcom/app/Main;", "openFileOutput", ""},
			want:   `unknown const-string:"secrets.txt" int:0x1`,
		},
		{
			name: "FLAG_SECURE on the window, constants beyond const/4",
			build: func(m *dexbuild.Method) {
				m.CallVirtual("Landroid/view/Window;->setFlags(II)V", dexbuild.Reg(0), dexbuild.Int(0x2000), dexbuild.Int(0x12345678))
			},
			target: MethodRef{"Landroid/view/Window;", "setFlags", "(II)V"},
			want:   `unknown int:0x2000 int:0x12345678`,
		},
		{
			name: "long argument takes a register pair",
			build: func(m *dexbuild.Method) {
				m.CallStatic("Ljava/lang/Thread;->sleep(J)V", dexbuild.Int(-5000000000))
			},
			target: MethodRef{"Ljava/lang/Thread;", "sleep", ""},
			want:   `int:-0x12a05f200 unknown`,
		},
		{
			name: "class literal and range invoke with six arguments",
			build: func(m *dexbuild.Method) {
				m.CallStatic("Lcom/x/Y;->six(Ljava/lang/Class;IIIII)V", dexbuild.ClassLit("Lcom/app/Main;"),
					dexbuild.Int(1), dexbuild.Int(2), dexbuild.Int(3), dexbuild.Int(4), dexbuild.Int(-1))
			},
			target: MethodRef{"Lcom/x/Y;", "six", ""},
			want:   `const-class:"Lcom/app/Main;" int:0x1 int:0x2 int:0x3 int:0x4 int:-0x1`,
		},
		{
			name: "a later write replaces the constant",
			build: func(m *dexbuild.Method) {
				m.ConstString(0, "DES").
					Invoke(dexbuild.InvokeStatic, "Lcom/x/Y;->get()Ljava/lang/String;").MoveResultObject(0).
					Invoke(dexbuild.InvokeStatic, "Ljavax/crypto/Cipher;->getInstance(Ljava/lang/String;)Ljavax/crypto/Cipher;", 0)
			},
			target: MethodRef{"Ljavax/crypto/Cipher;", "getInstance", ""},
			want:   `result`,
		},
		{
			name: "switch payload in the middle is skipped",
			build: func(m *dexbuild.Method) {
				m.ConstString(0, "RC4").
					// goto +6 over a packed-switch payload with one target (4+2 units).
					Raw(0x0628, 0x0100, 1, 0, 0, 0, 0, 0x0000).
					Invoke(dexbuild.InvokeStatic, "Ljavax/crypto/Cipher;->getInstance(Ljava/lang/String;)Ljavax/crypto/Cipher;", 0)
			},
			target: MethodRef{"Ljavax/crypto/Cipher;", "getInstance", ""},
			want:   `const-string:"RC4"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := dexbuild.New()
			b.Class("Lcom/app/Main;").Extends("Landroid/app/Activity;")
			tt.build(b.Class("Lcom/app/C;").Method("m", "()V"))
			x := mustIndex(t, mustProgram(t, b))
			calls := x.CallsTo(tt.target)
			if len(calls) != 1 {
				t.Fatalf("CallsTo(%v) found %d calls", tt.target, len(calls))
			}
			c := calls[0]
			if got := describe(c.Args); got != tt.want {
				t.Errorf("args = %s\nwant   %s", got, tt.want)
			}
			if c.Caller != (MethodRef{"Lcom/app/C;", "m", "()V"}) {
				t.Errorf("caller = %v", c.Caller)
			}
		})
	}
}

func TestMethodFacts(t *testing.T) {
	b := dexbuild.New()
	b.Class("Lcom/app/K;").Field("key", "[B", dexbuild.AccStatic)
	m := b.Class("Lcom/app/C;").Field("name", "Ljava/lang/String;", 0).Method("m", "()V")
	m.ConstString(0, "hello").
		NewInstance(1, "Ljava/util/Random;").
		ConstClass(2, "Lcom/app/K;").
		IPut(0, 1, "Lcom/app/C;->name:Ljava/lang/String;").
		Const(3, 3).NewArray(4, 3, "[B").FillArrayData(4, 1, []byte{9, 8, 7}).
		SPut(4, "Lcom/app/K;->key:[B").
		SGet(5, "Lcom/app/K;->key:[B")
	p := mustProgram(t, b)
	x := mustIndex(t, p)

	var strs []string
	for s := range x.Strings() {
		strs = append(strs, s.Caller.Name+":"+s.Value)
	}
	if fmt.Sprint(strs) != "[m:hello]" {
		t.Errorf("strings = %v", strs)
	}
	var types []string
	for tu := range x.Types() {
		types = append(types, tu.Op.String()+" "+tu.Type)
	}
	if want := "[new-instance Ljava/util/Random; const-class Lcom/app/K; new-array [B]"; fmt.Sprint(types) != want {
		t.Errorf("types = %v, want %v", types, want)
	}
	var fields []string
	for fa := range x.Fields() {
		fields = append(fields, fmt.Sprintf("%s %v write=%v %s", fa.Access.Op, fa.Field, fa.Access.Write, describe([]Value{fa.Value})))
	}
	want := []string{
		`iput-object Lcom/app/C;->name:Ljava/lang/String; write=true const-string:"hello"`,
		`sput-object Lcom/app/K;->key:[B write=true array1:09 08 07`,
		`sget-object Lcom/app/K;->key:[B write=false unknown`,
	}
	if fmt.Sprint(fields) != fmt.Sprint(want) {
		t.Errorf("fields =\n%v\nwant\n%v", strings.Join(fields, "\n"), strings.Join(want, "\n"))
	}
	// The payload holds the raw bytes, and Value.Bytes exposes them.
	for fa := range x.Fields() {
		if fa.Access.Write && fa.Field.Name == "key" {
			if got, ok := fa.Value.Bytes(); !ok || !bytes.Equal(got, []byte{9, 8, 7}) {
				t.Errorf("Bytes() = %v, %v", got, ok)
			}
		}
	}
}

func TestConstStringJumbo(t *testing.T) {
	// More than 65536 strings force const-string/jumbo for the later ones.
	b := dexbuild.New()
	for i := range 70 {
		m := b.Class(fmt.Sprintf("Lcom/app/C%d;", i)).Method("m", "()V")
		for j := range 1000 {
			m.ConstString(j%200, fmt.Sprintf("s%02d_%04d", i, j))
		}
	}
	b.Class("Lcom/app/Z;").Method("m", "()V").
		CallStatic("Lcom/x/Y;->f(Ljava/lang/String;)V", dexbuild.Str("zzzz-last"))
	p := mustProgram(t, b)
	x := mustIndex(t, p)
	n := 0
	for range x.Strings() {
		n++
	}
	if n != 70001 {
		t.Errorf("%d string uses, want 70001", n)
	}
	calls := x.CallsTo(MethodRef{"Lcom/x/Y;", "f", ""})
	if len(calls) != 1 || describe(calls[0].Args) != `const-string:"zzzz-last"` {
		t.Fatalf("jumbo string argument lost: %+v", calls)
	}
}
