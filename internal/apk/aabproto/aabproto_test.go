package aabproto

import (
	"errors"
	"testing"

	"github.com/dfslab/dfslab/internal/apk/arsc"
	"github.com/dfslab/dfslab/internal/apk/axml"
	"google.golang.org/protobuf/encoding/protowire"
)

func sampleManifest() *axml.Element {
	return &axml.Element{Name: "manifest", Attrs: []axml.Attr{
		axml.PlainAttr("package", axml.Str("com.example.bundle")),
		axml.AndroidAttr("versionCode", axml.Int(7)),
	}, Children: []*axml.Element{
		axml.NewElement("uses-sdk", axml.AndroidAttr("minSdkVersion", axml.Int(23)), axml.AndroidAttr("targetSdkVersion", axml.Int(34))),
		axml.NewElement("application",
			axml.AndroidAttr("allowBackup", axml.Bool(true)),
			axml.AndroidAttr("networkSecurityConfig", axml.Ref(0x7f140001)),
			axml.AndroidAttr("theme", axml.Value{Type: axml.TypeAttribute, Data: 0x01010054}),
			axml.Attr{Namespace: axml.AppNS, Name: "ratio", Value: axml.Value{Type: axml.TypeFloat, Data: 0x3fc00000}},
			axml.Attr{Namespace: axml.AppNS, Name: "size", Value: axml.Value{Type: axml.TypeDimension, Data: 16<<8 | 1}},
			axml.Attr{Namespace: axml.AppNS, Name: "neg", Value: axml.Int(-3)},
			axml.Attr{Namespace: axml.AppNS, Name: "color", Value: axml.Value{Type: axml.TypeIntColorRGB8, Data: 0xff112233}},
		).Append(
			axml.NewElement("activity", axml.AndroidAttr("name", axml.Str(".Main")), axml.AndroidAttr("exported", axml.Bool(false))),
		),
	}}
}

// stripRaw drops raw strings of typed values, which proto XML always keeps
// and binary XML usually drops.
func stripRaw(e *axml.Element) *axml.Element {
	e.Walk(func(el *axml.Element, _ int) {
		for i := range el.Attrs {
			el.Attrs[i].Raw = ""
		}
	})
	return e
}

func TestXMLMatchesBinaryXML(t *testing.T) {
	want := sampleManifest()
	pb, err := EncodeXML(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeXML(pb)
	if err != nil {
		t.Fatal(err)
	}
	bin, err := axml.Encode(want)
	if err != nil {
		t.Fatal(err)
	}
	fromBin, err := axml.Decode(bin)
	if err != nil {
		t.Fatal(err)
	}
	// Binary XML sorts attributes by resource ID; compare as sets by
	// re-encoding the proto result to binary XML.
	bin2, err := axml.Encode(stripRaw(got))
	if err != nil {
		t.Fatal(err)
	}
	fromProto, err := axml.Decode(bin2)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := stripRaw(fromBin).String(), stripRaw(fromProto).String(); a != b {
		t.Errorf("proto and binary XML disagree:\nbinary:\n%s\nproto:\n%s", a, b)
	}
	app := got.ChildrenNamed("application")[0]
	if a, ok := app.AndroidAttr("networkSecurityConfig"); !ok || a.Value != axml.Ref(0x7f140001) {
		t.Errorf("networkSecurityConfig = %+v", a)
	}
	if a, ok := app.Attr(axml.AppNS, "neg"); !ok || a.Value.String() != "-3" {
		t.Errorf("negative int = %+v", a)
	}
}

func TestDecodeXMLRestoresFrameworkNames(t *testing.T) {
	// An attribute whose name was blanked keeps its ID; the name comes back.
	attr := protowire.AppendVarint(protowire.AppendTag(nil, 5, protowire.VarintType), 0x0101000f)
	attr = appendMsg(attr, 6, appendMsg(nil, itemPrim, protowire.AppendVarint(protowire.AppendTag(nil, 8, protowire.VarintType), 1)))
	el := appendStr(nil, 3, "application")
	el = appendMsg(el, 4, attr)
	root, err := DecodeXML(appendMsg(nil, 1, el))
	if err != nil {
		t.Fatal(err)
	}
	a, ok := root.AndroidAttr("debuggable")
	if !ok || a.Name != "debuggable" || a.Namespace != axml.AndroidNS {
		t.Fatalf("attr = %+v", root.Attrs)
	}
	if b, _ := a.Value.AsBool(); !b {
		t.Error("debuggable not true")
	}
}

func TestDecodeXMLErrors(t *testing.T) {
	deep := appendStr(nil, 3, "x")
	for range axml.MaxDepth + 2 {
		deep = appendStr(appendMsg(nil, 5, appendMsg(nil, 1, deep)), 3, "x")
	}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrFormat},
		{"text only", appendStr(nil, 2, "hello"), ErrFormat},
		{"truncated", appendMsg(nil, 1, appendStr(nil, 3, "manifest"))[:5], ErrFormat},
		{"bad tag", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, ErrFormat},
		{"too deep", appendMsg(nil, 1, deep), ErrLimit},
	}
	for _, tt := range tests {
		if _, err := DecodeXML(tt.in); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestResourceTableRoundTrip(t *testing.T) {
	p := arsc.NewPackage(0x7f, "com.example.bundle")
	name := p.Add("string", "app_name", arsc.Config{}, axml.Str("Bundle Pay"))
	p.Add("string", "app_name", arsc.Config{Language: "sw", Region: "KE"}, axml.Str("Malipo"))
	nsc := p.Add("xml", "nsc", arsc.Config{}, axml.Str("res/xml/nsc.xml"))
	ct := p.Add("bool", "ct", arsc.Config{SDKVersion: 28}, axml.Bool(false))
	p.Add("bool", "ct", arsc.Config{Density: 480}, axml.Bool(true))
	alias := p.Add("string", "alias", arsc.Config{}, axml.Ref(name))
	num := p.Add("integer", "n", arsc.Config{Product: "tablet"}, axml.Int(-12))
	style := p.AddComplex("style", "Theme", arsc.Config{}, 0x01030005, []arsc.Item{{Name: 0x01010036, Value: axml.Int(1)}})
	b, err := EncodeResourceTable(arsc.NewTable(p))
	if err != nil {
		t.Fatal(err)
	}
	tab, err := DecodeResourceTable(b)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id   uint32
		want string
	}{
		{name, "Bundle Pay"},
		{nsc, "res/xml/nsc.xml"},
		{ct, "false"},
		{alias, "Bundle Pay"},
		{num, "-12"},
	}
	for _, tt := range tests {
		v, err := tab.Resolve(tt.id)
		if err != nil || v.String() != tt.want {
			t.Errorf("Resolve(0x%08x) = %q, %v; want %q", tt.id, v.String(), err, tt.want)
		}
	}
	if got := tab.Name(nsc); got != "xml/nsc" {
		t.Errorf("Name = %q", got)
	}
	vs := tab.Values(name)
	if len(vs) != 2 || vs[1].Config.Language != "sw" || vs[1].Config.Region != "KE" {
		t.Errorf("locale config = %+v", vs[1].Config)
	}
	st, ok := tab.Best(style)
	if !ok || !st.Complex || st.Parent != 0x01030005 || len(st.Items) != 1 || st.Items[0].Name != 0x01010036 {
		t.Errorf("style = %+v", st)
	}
	if _, err := tab.Resolve(style); !errors.Is(err, arsc.ErrComplex) {
		t.Errorf("style resolves: %v", err)
	}
}

func TestSetLocale(t *testing.T) {
	tests := []struct{ tag, lang, script, region string }{
		{"en", "en", "", ""},
		{"en-US", "en", "", "US"},
		{"sr-Latn-RS", "sr", "Latn", "RS"},
		{"b+es+419", "es", "", "419"},
		{"fil-rPH", "fil", "", "PH"},
	}
	for _, tt := range tests {
		var c arsc.Config
		setLocale(&c, tt.tag)
		if c.Language != tt.lang || c.LocaleScript != tt.script || c.Region != tt.region {
			t.Errorf("%s: %+v", tt.tag, c)
		}
	}
}
