package dex

import (
	"fmt"
	"slices"
	"testing"

	"github.com/dfslab/dfslab/internal/dex/dexbuild"
)

// model is the part of a DEX that the writer controls, in a form both
// sides can produce.
type model struct {
	Desc, Super, Source string
	Access              uint32
	Interfaces          []string
	Fields              []string // "static name:Type flags"
	Methods             []string // "name(proto) flags code?"
}

func readModel(t *testing.T, f *File) []model {
	t.Helper()
	var out []model
	for i := range f.Classes() {
		c := &f.Classes()[i]
		m := model{Desc: c.Desc, Super: c.Super, Source: c.SourceFile, Access: c.Access, Interfaces: c.Interfaces}
		cd, err := f.ClassData(c)
		if err != nil {
			t.Fatal(err)
		}
		if cd != nil {
			for _, fl := range [][]EncodedField{cd.StaticFields, cd.InstanceFields} {
				for _, ef := range fl {
					r := f.Field(ef.Field)
					if r.Class != c.Desc {
						t.Errorf("field %v listed under %s", r, c.Desc)
					}
					m.Fields = append(m.Fields, fmt.Sprintf("%s:%s %#x", r.Name, r.Type, ef.Access))
				}
			}
			for _, ml := range [][]EncodedMethod{cd.DirectMethods, cd.VirtualMethods} {
				for _, em := range ml {
					r := f.Method(em.Method)
					m.Methods = append(m.Methods, fmt.Sprintf("%s%s %#x %v", r.Name, r.Proto, em.Access, em.CodeOff != 0))
				}
			}
		}
		slices.Sort(m.Fields)
		slices.Sort(m.Methods)
		out = append(out, m)
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	for _, version := range []string{"035", "037", "038", "039", "040"} {
		t.Run(version, func(t *testing.T) {
			b := dexbuild.New().Version(version)
			b.Class("Lcom/app/Base;").Access(dexbuild.AccPublic|dexbuild.AccAbstract).
				Implements("Ljava/lang/Runnable;", "Ljava/io/Closeable;").Source("Base.java").
				Field("count", "I", dexbuild.AccPrivate).
				Field("KEY", "[B", dexbuild.AccStatic|dexbuild.AccFinal).
				Method("run", "()V").Abstract()
			main := b.Class("Lcom/app/Main;").Extends("Lcom/app/Base;")
			main.Method("<init>", "()V").CallDirect("Lcom/app/Base;-><init>()V", dexbuild.Reg(0))
			main.Method("run", "()V")
			main.Method("close", "()V")
			main.Method("helper", "(JLjava/lang/String;D)I").Static()
			main.Method("ünïcødé", "()V").Access(dexbuild.AccPrivate)
			data, err := b.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			f, err := Parse(data, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.VerifyChecksum(); err != nil {
				t.Error(err)
			}
			if want := int(version[1]-'0')*10 + int(version[2]-'0'); f.Header.Version != want {
				t.Errorf("version %d, want %d", f.Header.Version, want)
			}
			got := readModel(t, f)
			want := []model{
				{Desc: "Lcom/app/Base;", Super: "Ljava/lang/Object;", Source: "Base.java", Access: 0x401,
					Interfaces: []string{"Ljava/lang/Runnable;", "Ljava/io/Closeable;"},
					Fields:     []string{"KEY:[B 0x18", "count:I 0x2"},
					Methods:    []string{"run()V 0x401 false"}},
				{Desc: "Lcom/app/Main;", Super: "Lcom/app/Base;", Access: 0x1,
					Methods: []string{"<init>()V 0x10001 true", "close()V 0x1 true",
						"helper(JLjava/lang/String;D)I 0x9 true", "run()V 0x1 true", "ünïcødé()V 0x2 true"}},
			}
			if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
				t.Errorf("model mismatch\n got %+v\nwant %+v", got, want)
			}
			// The map list must describe every section the header names.
			types := map[uint16]MapItem{}
			for _, it := range f.MapList() {
				types[it.Type] = it
			}
			for typ, sec := range map[uint16]Section{1: f.Header.Strings, 2: f.Header.Types, 3: f.Header.Protos,
				4: f.Header.Fields, 5: f.Header.Methods, 6: f.Header.ClassDefs} {
				if it := types[typ]; it.Size != sec.Size || it.Off != sec.Off {
					t.Errorf("map item %#x = %+v, header says %+v", typ, it, sec)
				}
			}
			// Code: registers cover ins; the static helper takes J (2), L, D (2).
			_, c, _ := NewProgram(f).Class("Lcom/app/Main;")
			cd, _ := f.ClassData(c)
			for _, m := range cd.DirectMethods {
				if f.Method(m.Method).Name == "helper" {
					code, err := f.Code(m.CodeOff)
					if err != nil {
						t.Fatal(err)
					}
					if code.Ins != 5 || code.Registers < 5 {
						t.Errorf("helper code: ins %d registers %d, want ins 5", code.Ins, code.Registers)
					}
				}
			}
		})
	}
}

func TestStringsSortedAndDecoded(t *testing.T) {
	want := []string{"", "a\x00b", "plain", "é", "\u20ac", "\U0001F600", "\uFFFD"}
	b := dexbuild.New()
	m := b.Class("LS;").Method("m", "()V")
	for i, s := range want {
		m.ConstString(i, s)
	}
	f, err := Parse(b.MustBytes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range want {
		if !slices.Contains(f.Strings(), s) {
			t.Errorf("string %q missing from %q", s, f.Strings())
		}
	}
	// UTF-16 order: the emoji (surrogates D83D…) sorts before U+FFFD.
	i, j := slices.Index(f.Strings(), "\U0001F600"), slices.Index(f.Strings(), "\uFFFD")
	if i > j {
		t.Errorf("string order: emoji at %d after U+FFFD at %d", i, j)
	}
}
