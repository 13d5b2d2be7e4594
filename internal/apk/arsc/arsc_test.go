package arsc

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dfslab/dfslab/internal/apk/axml"
	"github.com/dfslab/dfslab/internal/testenv"
)

// sampleTable builds a table resembling a small app's: strings in several
// locales, a bool overridden for v28, a string only in v23 and v28, an xml file, a reference chain, a
// style, and a cycle.
func sampleTable(t testing.TB) (*Table, map[string]uint32) {
	t.Helper()
	p := NewPackage(0x7f, "com.example.app")
	ids := map[string]uint32{}
	ids["app_name"] = p.Add("string", "app_name", Config{}, axml.Str("Example Pay"))
	p.Add("string", "app_name", Config{Language: "fr"}, axml.Str("Exemple"))
	ids["only_fr"] = p.Add("string", "only_fr", Config{Language: "fr"}, axml.Str("bonjour"))
	p.Add("string", "only_fr", Config{Language: "en", Region: "US"}, axml.Str("hello"))
	ids["cleartext"] = p.Add("bool", "cleartext", Config{}, axml.Bool(true))
	p.Add("bool", "cleartext", Config{SDKVersion: 28}, axml.Bool(false))
	ids["sdk_only"] = p.Add("string", "sdk_only", Config{SDKVersion: 23}, axml.Str("v23"))
	p.Add("string", "sdk_only", Config{SDKVersion: 28}, axml.Str("v28"))
	ids["nsc"] = p.Add("xml", "network_security_config", Config{}, axml.Str("res/xml/network_security_config.xml"))
	ids["alias"] = p.Add("string", "alias", Config{}, axml.Ref(ids["app_name"]))
	ids["style"] = p.AddComplex("style", "AppTheme", Config{}, 0x01030005, []Item{{Name: 0x01010036, Value: axml.Str("x")}})
	ids["loop_a"] = p.Add("string", "loop_a", Config{}, axml.Value{})
	ids["loop_b"] = p.Add("string", "loop_b", Config{}, axml.Ref(ids["loop_a"]))
	p.Entries[len(p.Entries)-2].Value = axml.Ref(ids["loop_b"])
	ids["hdpi"] = p.Add("integer", "max", Config{Density: 240}, axml.Int(7))
	p.Add("integer", "max", Config{Language: "de"}, axml.Int(9))
	ids["fil"] = p.Add("string", "tagalog", Config{Language: "fil", Region: "PH"}, axml.Str("kamusta"))
	return NewTable(p), ids
}

func TestRoundTripAndResolve(t *testing.T) {
	layouts := []struct {
		name string
		lay  layout
	}{
		{"classic", layout{}},
		{"sparse", layout{sparse: true}},
		{"offset16", layout{offset16: true}},
		{"compact", layout{compact: true}},
		{"sparse compact", layout{sparse: true, compact: true}},
	}
	for _, l := range layouts {
		t.Run(l.name, func(t *testing.T) { testRoundTrip(t, l.lay) })
	}
}

func testRoundTrip(t *testing.T, lay layout) {
	built, ids := sampleTable(t)
	b, err := encodeWith(built, lay)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Packages) != 1 || tab.Packages[0].ID != 0x7f || tab.Packages[0].Name != "com.example.app" {
		t.Fatalf("packages = %+v", tab.Packages)
	}
	if got, want := len(tab.Packages[0].Entries), len(built.Packages[0].Entries); got != want {
		t.Errorf("decoded %d entries, built %d", got, want)
	}
	tests := []struct {
		name string
		id   uint32
		want string
		err  error
	}{
		{"default config wins over locales", ids["app_name"], "Example Pay", nil},
		{"english when no default", ids["only_fr"], "hello", nil},
		{"default wins over a platform qualifier", ids["cleartext"], "true", nil},
		{"newest platform qualifier wins without a default", ids["sdk_only"], "v28", nil},
		{"xml file path", ids["nsc"], "res/xml/network_security_config.xml", nil},
		{"reference followed", ids["alias"], "Example Pay", nil},
		{"bag is not a value", ids["style"], "", ErrComplex},
		{"cycle detected", ids["loop_a"], "", ErrCycle},
		{"density beats locale", ids["hdpi"], "7", nil},
		{"three-letter language", ids["fil"], "kamusta", nil},
		{"unknown id", 0x7f990000, "", ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := tab.Resolve(tt.id)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err == nil && v.String() != tt.want {
				t.Errorf("value = %q, want %q", v.String(), tt.want)
			}
		})
	}
	if got := tab.Name(ids["nsc"]); got != "xml/network_security_config" {
		t.Errorf("Name = %q", got)
	}
	if id, ok := tab.Lookup("bool", "cleartext"); !ok || id != ids["cleartext"] {
		t.Errorf("Lookup = %#x, %v", id, ok)
	}
	vs := tab.Values(ids["cleartext"])
	if len(vs) != 2 || vs[1].Config.SDKVersion != 28 || vs[1].Value.Data != 0 {
		t.Errorf("Values = %+v", vs)
	}
	st, _ := tab.Best(ids["style"])
	if st.Parent != 0x01030005 || len(st.Items) != 1 || st.Items[0].Value.Str != "x" {
		t.Errorf("style entry = %+v", st)
	}
	fil, _ := tab.Best(ids["fil"])
	if fil.Config.Language != "fil" || fil.Config.Region != "PH" || fil.Config.String() != "fil-rPH" {
		t.Errorf("fil config = %+v (%s)", fil.Config, fil.Config)
	}
}

func TestSDKOnlyConfigPreferredNewest(t *testing.T) {
	p := NewPackage(0x7f, "p")
	id := p.Add("xml", "nsc", Config{SDKVersion: 24}, axml.Str("res/xml-v24/nsc.xml"))
	p.Add("xml", "nsc", Config{SDKVersion: 28}, axml.Str("res/xml-v28/nsc.xml"))
	p.Add("xml", "nsc", Config{Language: "en"}, axml.Str("res/xml-en/nsc.xml"))
	v, err := NewTable(p).Resolve(id)
	if err != nil || v.Str != "res/xml-v28/nsc.xml" {
		t.Errorf("Resolve = %v, %v", v, err)
	}
}

func TestDecodeRejectsGarbage(t *testing.T) {
	good, _ := sampleTable(t)
	b, err := Encode(good)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 8, 12, 40, 300, len(b) / 2} {
		// Every prefix, half the table included, is refused as malformed.
		if _, err := Decode(b[:n]); !errors.Is(err, ErrFormat) {
			t.Errorf("Decode of %d-byte prefix: %v, want ErrFormat", n, err)
		}
	}
	bad := append([]byte(nil), b...)
	bad[0] = 3 // binary XML, not a table
	if _, err := Decode(bad); !errors.Is(err, ErrFormat) {
		t.Errorf("err = %v, want ErrFormat", err)
	}
}

// readZipEntry reads one entry with archive/zip; the hardened reader lives
// in package zipfs and is not needed for trusted test files.
func readZipEntry(t testing.TB, apk, name string) []byte {
	t.Helper()
	z, err := zip.OpenReader(apk)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	f, err := z.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func frameworkRes(t testing.TB) []byte {
	dir := testenv.AndroguardDir(t)
	return readZipEntry(t, filepath.Join(dir, "tests", "lineageos_nexus5_framework-res.apk"), "resources.arsc")
}

func TestFrameworkRes(t *testing.T) {
	tab, err := Decode(frameworkRes(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Packages) == 0 || tab.Packages[0].ID != 0x01 || tab.Packages[0].Name != "android" {
		t.Fatalf("first package = %+v", tab.Packages[0])
	}
	// The built-in attribute table of package axml must agree with the
	// framework's own names wherever the framework has the ID.
	checked := 0
	for id := uint32(0x01010000); id < 0x01010700; id++ {
		want, ok := axml.FrameworkAttrName(id)
		if !ok {
			continue
		}
		got := tab.Name(id)
		if got == "" {
			continue // newer than this framework build
		}
		checked++
		if got != "attr/"+want {
			t.Errorf("0x%08x: framework says %s, axml table says %s", id, got, want)
		}
	}
	if checked < 50 {
		t.Errorf("only %d attribute IDs checked", checked)
	}
	v, err := tab.Resolve(0x01040000) // first framework string
	if err != nil || v.Type != axml.TypeString || v.Str == "" {
		t.Errorf("Resolve(0x01040000) = %v, %v", v, err)
	}
}

func TestDecodeHostile(t *testing.T) {
	p := NewPackage(0x7f, "p")
	p.Add("string", "a", Config{}, axml.Str("x"))
	p.AddComplex("style", "s", Config{}, 0, []Item{{Name: 1, Value: axml.Int(1)}})
	good, err := Encode(NewTable(p))
	if err != nil {
		t.Fatal(err)
	}
	// Locate the chunks to corrupt by scanning for their type codes.
	find := func(typ uint16, nth int) int {
		for i := 0; i+2 <= len(good); i += 4 {
			if binary.LittleEndian.Uint16(good[i:]) == typ && binary.LittleEndian.Uint16(good[i+2:]) == 20+configSize {
				if nth == 0 {
					return i
				}
				nth--
			}
		}
		t.Fatalf("no chunk 0x%x", typ)
		return 0
	}
	corrupt := func(f func(b []byte)) []byte {
		b := bytes.Clone(good)
		f(b)
		return b
	}
	strType := find(axml.ChunkTableType, 0)
	styleType := find(axml.ChunkTableType, 1)
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"entry count 2^31", corrupt(func(b []byte) { binary.LittleEndian.PutUint32(b[strType+12:], 1<<31) }), ErrFormat},
		{"entry offset outside chunk", corrupt(func(b []byte) { binary.LittleEndian.PutUint32(b[strType+20+configSize:], 1<<20) }), ErrFormat},
		{"bag count 2^32-1", corrupt(func(b []byte) {
			start := int(binary.LittleEndian.Uint32(b[styleType+16:]))
			binary.LittleEndian.PutUint32(b[styleType+start+12:], 0xffffffff)
		}), ErrFormat},
		{"package header too small", corrupt(func(b []byte) {
			pkg := bytes.Index(b, []byte{0x00, 0x02, 0x20, 0x01})
			binary.LittleEndian.PutUint16(b[pkg+2:], 100)
		}), ErrFormat},
		{"not a table", corrupt(func(b []byte) { b[0] = 3 }), ErrFormat},
	}
	for _, tt := range tests {
		if _, err := Decode(tt.in); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
	// Many offsets aliasing one bag: the item budget stops the fan-out.
	fan := NewPackage(0x7f, "p")
	fan.AddComplex("array", "a0", Config{}, 0, make([]Item, 2000))
	for i := range 2999 {
		fan.AddComplex("array", fmt.Sprint("b", i), Config{}, 0, nil)
	}
	b, err := Encode(NewTable(fan))
	if err != nil {
		t.Fatal(err)
	}
	ty := bytes.Index(b, []byte{0x01, 0x02, 20 + configSize, 0})
	n := int(binary.LittleEndian.Uint32(b[ty+12:]))
	for i := range n {
		binary.LittleEndian.PutUint32(b[ty+20+configSize+4*i:], 0) // all point at entry 0
	}
	// Shrink the chunk: everything after entry 0 is dropped, so the file is
	// small while the aliases still claim 3000 x 2000 items.
	entrySize := 16 + 12*2000
	start := int(binary.LittleEndian.Uint32(b[ty+16:]))
	b = b[:ty+start+entrySize]
	binary.LittleEndian.PutUint32(b[ty+4:], uint32(start+entrySize))
	fixSizes(b)
	if _, err := Decode(b); !errors.Is(err, ErrLimit) {
		t.Errorf("aliased bags: err = %v, want ErrLimit", err)
	}
}

// fixSizes rewrites the table and package sizes after the last chunk was
// shortened.
func fixSizes(b []byte) {
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)))
	pkg := bytes.Index(b, []byte{0x00, 0x02, 0x20, 0x01})
	binary.LittleEndian.PutUint32(b[pkg+4:], uint32(len(b)-pkg))
}

func FuzzDecode(f *testing.F) {
	tab, ids := sampleTable(f)
	for _, lay := range []layout{{}, {sparse: true, compact: true}, {offset16: true}} {
		b, err := encodeWith(tab, lay)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := Decode(data)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrLimit) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		for _, id := range ids {
			tab.Resolve(id) // must not panic or loop
		}
		// Output stays proportional to input: entries plus bag items are
		// bounded by the decoder's budget even when offsets alias one entry.
		n := 0
		for e := range tab.All() {
			n += 1 + len(e.Items)
			tab.Resolve(e.ID)
			if !slices.Contains(tab.Values(e.ID), e) {
				t.Fatalf("entry 0x%08x missing from the index", e.ID)
			}
		}
		if limit := 2*len(data) + 1<<16; n > limit {
			t.Fatalf("%d entries and items from %d bytes", n, len(data))
		}
	})
}

func BenchmarkDecodeFrameworkRes(b *testing.B) {
	data := frameworkRes(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}
