// Package axml reads and writes Android binary XML, the compiled form of
// AndroidManifest.xml and res/xml/* inside an APK.
//
// Decode turns the bytes into a generic element tree. It is as tolerant as
// Android's own parser (wrong outer sizes, junk after the document, attribute
// names removed from the string pool but kept as resource IDs) and bounded on
// hostile input: every count is checked against the bytes that hold it before
// anything is allocated, strings are decoded lazily under a byte budget, and
// nesting is capped.
//
// Encode writes a tree back as binary XML with a resource-ID map for android:
// attributes, so tests can build manifests in Go.
package axml

import "strings"

// Well-known namespace URIs.
const (
	AndroidNS = "http://schemas.android.com/apk/res/android"
	AppNS     = "http://schemas.android.com/apk/res-auto"
	ToolsNS   = "http://schemas.android.com/tools"
)

// Element is one XML element.
type Element struct {
	Namespace string // namespace URI, "" when none
	Name      string
	Attrs     []Attr
	Children  []*Element
	// Text is the character data directly inside the element (rare in
	// compiled XML; aapt drops whitespace).
	Text string
	// Line is the source line number recorded by the compiler (0 if unknown).
	Line uint32
}

// Attr is one attribute of an element.
type Attr struct {
	Namespace string // namespace URI, "" when none
	Name      string
	// ResID is the attribute's resource ID from the resource map (e.g.
	// 0x0101000f for android:debuggable), 0 when the attribute has none.
	// Android identifies framework attributes by this ID, not by name.
	ResID uint32
	// Raw is the original string value when the compiler kept one.
	Raw   string
	Value Value
}

// Document is a decoded binary XML file.
type Document struct {
	Root *Element
	// Namespaces lists the prefix declarations in document order.
	Namespaces []Namespace
	// Anomalies describes irregularities that were tolerated (wrong sizes,
	// unknown chunks, junk after the document, names restored from resource
	// IDs). They are hints of tampering or obfuscation, not errors.
	Anomalies []string
}

// Namespace is one xmlns declaration.
type Namespace struct {
	Prefix, URI string
}

// NewElement returns an element without namespace; convenient in tests.
func NewElement(name string, attrs ...Attr) *Element {
	return &Element{Name: name, Attrs: attrs}
}

// Append adds children and returns e, so trees can be written as nested
// expressions.
func (e *Element) Append(children ...*Element) *Element {
	e.Children = append(e.Children, children...)
	return e
}

// AndroidAttr returns an android: attribute with its framework resource ID
// filled in from the built-in table (0 if the name is unknown).
func AndroidAttr(name string, v Value) Attr {
	id, _ := FrameworkAttrID(name)
	return Attr{Namespace: AndroidNS, Name: name, ResID: id, Value: v}
}

// PlainAttr returns an attribute without namespace (like manifest's package).
func PlainAttr(name string, v Value) Attr {
	return Attr{Name: name, Value: v}
}

// AttrByID returns the attribute with the given resource ID.
func (e *Element) AttrByID(id uint32) (*Attr, bool) {
	for i := range e.Attrs {
		if e.Attrs[i].ResID == id {
			return &e.Attrs[i], true
		}
	}
	return nil, false
}

// Attr returns the attribute with namespace ns and name.
func (e *Element) Attr(ns, name string) (*Attr, bool) {
	for i := range e.Attrs {
		if e.Attrs[i].Name == name && e.Attrs[i].Namespace == ns {
			return &e.Attrs[i], true
		}
	}
	return nil, false
}

// AndroidAttr looks up an android: framework attribute the way Android does:
// by resource ID when the built-in table knows the name. Only when no
// attribute carries that ID does it fall back to an attribute in the
// android namespace with that name and no ID (hand-written or stripped
// files). Names outside the table are matched by namespace and name.
func (e *Element) AndroidAttr(name string) (*Attr, bool) {
	id, known := FrameworkAttrID(name)
	if known {
		if a, ok := e.AttrByID(id); ok {
			return a, true
		}
	}
	for i := range e.Attrs {
		a := &e.Attrs[i]
		if a.Name == name && a.Namespace == AndroidNS && (!known || a.ResID == 0) {
			return a, true
		}
	}
	return nil, false
}

// ChildrenNamed returns the direct children with the given local name.
func (e *Element) ChildrenNamed(name string) []*Element {
	var out []*Element
	for _, c := range e.Children {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

// Walk calls fn for e and every descendant, depth first, in document order.
func (e *Element) Walk(fn func(el *Element, depth int)) {
	var rec func(el *Element, d int)
	rec = func(el *Element, d int) {
		fn(el, d)
		for _, c := range el.Children {
			rec(c, d+1)
		}
	}
	rec(e, 0)
}

// String renders the tree as indented text resembling aapt's xmltree dump.
// Golden files use it, so its format must stay stable.
func (e *Element) String() string {
	var b strings.Builder
	e.Walk(func(el *Element, d int) {
		ind := strings.Repeat("  ", d)
		b.WriteString(ind)
		b.WriteString("E: ")
		if el.Namespace != "" {
			b.WriteString("{" + el.Namespace + "}")
		}
		b.WriteString(el.Name)
		b.WriteByte('\n')
		for _, a := range el.Attrs {
			b.WriteString(ind)
			b.WriteString("  A: ")
			if a.Namespace != "" {
				b.WriteString("{" + a.Namespace + "}")
			}
			b.WriteString(a.Name)
			if a.ResID != 0 {
				b.WriteString("(0x" + hex32(a.ResID) + ")")
			}
			b.WriteString("=")
			b.WriteString(quoteIfString(a.Value))
			if a.Raw != "" && (a.Value.Type != TypeString || a.Raw != a.Value.Str) {
				b.WriteString(" (Raw: " + quote(a.Raw) + ")")
			}
			b.WriteByte('\n')
		}
		if el.Text != "" {
			b.WriteString(ind + "  T: " + quote(el.Text) + "\n")
		}
	})
	return b.String()
}

func quoteIfString(v Value) string {
	if v.Type == TypeString {
		return quote(v.Str)
	}
	return v.String()
}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x`)
			b.WriteString(hex2(byte(r)))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

const hexDigits = "0123456789abcdef"

func hex2(c byte) string { return string([]byte{hexDigits[c>>4], hexDigits[c&15]}) }

func hex32(v uint32) string {
	var b [8]byte
	for i := 7; i >= 0; i-- {
		b[i] = hexDigits[v&15]
		v >>= 4
	}
	return string(b[:])
}
