package axml

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

func sampleManifest() *Element {
	return &Element{Name: "manifest", Attrs: []Attr{
		PlainAttr("package", Str("com.example.app")),
		AndroidAttr("versionCode", Int(42)),
		AndroidAttr("versionName", Str("1.2.3")),
	}, Children: []*Element{
		NewElement("uses-sdk", AndroidAttr("minSdkVersion", Int(21)), AndroidAttr("targetSdkVersion", Int(30))),
		NewElement("uses-permission", AndroidAttr("name", Str("android.permission.RECEIVE_SMS"))),
		NewElement("application",
			AndroidAttr("debuggable", Bool(true)),
			AndroidAttr("allowBackup", Bool(false)),
			AndroidAttr("label", Ref(0x7f0a0001)),
			AndroidAttr("networkSecurityConfig", Ref(0x7f120000)),
			Attr{Namespace: AppNS, Name: "custom", Value: Hex(0x10)},
		).Append(
			NewElement("activity", AndroidAttr("name", Str("com.example.Main")), AndroidAttr("exported", Bool(true))).Append(
				NewElement("intent-filter").Append(
					NewElement("action", AndroidAttr("name", Str("android.intent.action.MAIN"))),
					NewElement("data", AndroidAttr("scheme", Str("https")), AndroidAttr("host", Str("pay.example.com"))),
				),
			),
		),
	}}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, utf8 := range []bool{false, true} {
		name := "utf16"
		if utf8 {
			name = "utf8"
		}
		t.Run(name, func(t *testing.T) {
			want := sampleManifest()
			b, err := EncodeOptions{UTF8: utf8}.Encode(want)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := DecodeDocument(b)
			if err != nil {
				t.Fatal(err)
			}
			if len(doc.Anomalies) != 0 {
				t.Errorf("anomalies in our own output: %v", doc.Anomalies)
			}
			// Encode sorts attributes by resource ID, so compare against
			// the canonical form: a second round trip must be identical.
			b2, err := EncodeOptions{UTF8: utf8}.Encode(doc.Root)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != string(b2) {
				t.Error("second encoding differs from the first")
			}
			app := doc.Root.ChildrenNamed("application")[0]
			checks := []struct {
				attr string
				want string
				id   uint32
			}{
				{"debuggable", "true", 0x0101000f},
				{"allowBackup", "false", 0x01010280},
				{"label", "@0x7f0a0001", 0x01010001},
				{"networkSecurityConfig", "@0x7f120000", 0x01010527},
			}
			for _, c := range checks {
				a, ok := app.AndroidAttr(c.attr)
				if !ok {
					t.Errorf("application lacks android:%s", c.attr)
					continue
				}
				if a.ResID != c.id || a.Value.String() != c.want {
					t.Errorf("android:%s = %#x %q, want %#x %q", c.attr, a.ResID, a.Value.String(), c.id, c.want)
				}
			}
			if a, ok := app.Attr(AppNS, "custom"); !ok || a.Value.Type != TypeIntHex || a.Value.Data != 0x10 || a.ResID != 0 {
				t.Errorf("app:custom = %+v, %v", a, ok)
			}
			if a, ok := doc.Root.Attr("", "package"); !ok || a.Value.Str != "com.example.app" {
				t.Errorf("package = %+v", a)
			}
			data := app.Children[0].Children[0].ChildrenNamed("data")[0]
			if a, _ := data.AndroidAttr("host"); a == nil || a.Value.Str != "pay.example.com" {
				t.Errorf("data host = %+v", a)
			}
			if got := doc.Root.String(); got != want.canonical(t) {
				t.Errorf("tree mismatch:\n got %s\nwant %s", got, want.canonical(t))
			}
		})
	}
}

// canonical returns e's dump after sorting attributes the way Encode does.
func (e *Element) canonical(t *testing.T) string {
	t.Helper()
	b, err := Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return r.String()
}

func TestEncodeResourceMap(t *testing.T) {
	b, err := Encode(sampleManifest())
	if err != nil {
		t.Fatal(err)
	}
	// The resource map must follow the pool and list IDs in ascending
	// order, one per leading pool string.
	pool := b[8:]
	psize := binary.LittleEndian.Uint32(pool[4:])
	rm := pool[psize:]
	if binary.LittleEndian.Uint16(rm) != ChunkXMLResourceMap {
		t.Fatalf("chunk after pool is 0x%x", binary.LittleEndian.Uint16(rm))
	}
	n := (binary.LittleEndian.Uint32(rm[4:]) - 8) / 4
	var prev uint32
	for i := range n {
		id := binary.LittleEndian.Uint32(rm[8+4*i:])
		if id <= prev {
			t.Fatalf("resource map not ascending at %d: %#x after %#x", i, id, prev)
		}
		prev = id
	}
	if n != 12 {
		t.Errorf("resource map has %d IDs, want 12", n)
	}
}

func TestEncodeRejectsDeepTrees(t *testing.T) {
	root := NewElement("a")
	cur := root
	for range MaxDepth + 1 {
		c := NewElement("a")
		cur.Append(c)
		cur = c
	}
	if _, err := Encode(root); !errors.Is(err, ErrLimit) {
		t.Errorf("err = %v, want ErrLimit", err)
	}
}

func TestValueString(t *testing.T) {
	tests := []struct {
		v    Value
		want string
	}{
		{Str("x"), "x"},
		{Bool(true), "true"},
		{Bool(false), "false"},
		{Int(-5), "-5"},
		{Hex(0x20), "0x20"},
		{Ref(0x7f010002), "@0x7f010002"},
		{Value{Type: TypeReference}, "@null"},
		{Value{Type: TypeAttribute, Data: 0x01010036}, "?0x01010036"},
		{Value{Type: TypeFloat, Data: 0x3fc00000}, "1.5"},
		{Value{Type: TypeDimension, Data: 16<<8 | 1}, "16dip"},
		{Value{Type: TypeDimension, Data: 0x00000c02 | 1<<4}, "0.09375sp"},
		{Value{Type: TypeIntColorARGB8, Data: 0xff00ff00}, "#ff00ff00"},
		{Value{Type: TypeNull}, ""},
	}
	for _, tt := range tests {
		if got := tt.v.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.v, got, tt.want)
		}
	}
	if b, ok := Str("true").AsBool(); !ok || !b {
		t.Error(`Str("true").AsBool() failed`)
	}
	if n, ok := Str("21").AsInt(); !ok || n != 21 {
		t.Error(`Str("21").AsInt() failed`)
	}
	if _, ok := Str("Q").AsInt(); ok {
		t.Error(`Str("Q").AsInt() succeeded`)
	}
	if !strings.Contains(Value{Type: 0x77}.String(), "0x77") {
		t.Error("unknown type not shown")
	}
}
