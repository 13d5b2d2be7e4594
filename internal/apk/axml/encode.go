package axml

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// EncodeOptions tune Encode.
type EncodeOptions struct {
	// UTF8 writes a UTF-8 string pool (aapt2's choice for res/xml); the
	// default is UTF-16, as in manifests built by aapt.
	UTF8 bool
}

// Encode writes root as binary XML. Attributes in the android namespace get
// their framework resource ID from the built-in table when ResID is 0, and
// attributes with IDs are written first, sorted by ID, as aapt does (Android
// relies on that order when it looks attributes up).
func Encode(root *Element) ([]byte, error) { return EncodeOptions{}.Encode(root) }

// Encode writes root as binary XML with these options.
func (o EncodeOptions) Encode(root *Element) ([]byte, error) {
	if root == nil {
		return nil, errors.New("axml: nil root element")
	}
	e := &encoder{plain: map[string]uint32{}, byID: map[uint32]uint32{}}
	if err := e.collect(root, 0); err != nil {
		return nil, err
	}
	pool, err := EncodeStringPool(e.strings(), o.UTF8)
	if err != nil {
		return nil, err
	}
	var body []byte
	body = append(body, pool...)
	// Resource map: one ID per leading pool string.
	body = binary.LittleEndian.AppendUint16(body, ChunkXMLResourceMap)
	body = binary.LittleEndian.AppendUint16(body, 8)
	body = binary.LittleEndian.AppendUint32(body, uint32(8+4*len(e.ids)))
	for _, id := range e.ids {
		body = binary.LittleEndian.AppendUint32(body, id)
	}
	for _, ns := range e.nsList {
		body = appendNode(body, ChunkXMLStartNS, 1, e.plain[ns.Prefix], e.plain[ns.URI])
	}
	body = e.element(body, root)
	for i := len(e.nsList) - 1; i >= 0; i-- {
		ns := e.nsList[i]
		body = appendNode(body, ChunkXMLEndNS, 1, e.plain[ns.Prefix], e.plain[ns.URI])
	}
	out := make([]byte, 0, 8+len(body))
	out = binary.LittleEndian.AppendUint16(out, ChunkXML)
	out = binary.LittleEndian.AppendUint16(out, 8)
	out = binary.LittleEndian.AppendUint32(out, uint32(8+len(body)))
	return append(out, body...), nil
}

type encoder struct {
	ids    []uint32          // resource IDs, in pool order
	idName []string          // names of those pool entries
	byID   map[uint32]uint32 // resource ID -> pool index
	rest   []string          // strings after the ID'd ones
	plain  map[string]uint32 // string -> final pool index (after fixup)
	nsList []Namespace
	nsSeen map[string]bool
}

func (e *encoder) attrID(a Attr) uint32 {
	if a.ResID != 0 {
		return a.ResID
	}
	if a.Namespace == AndroidNS {
		id, _ := FrameworkAttrID(a.Name)
		return id
	}
	return 0
}

func (e *encoder) addPlain(s string) {
	if _, ok := e.plain[s]; !ok {
		e.plain[s] = uint32(len(e.rest))
		e.rest = append(e.rest, s)
	}
}

func (e *encoder) addNS(uri string) {
	if uri == "" {
		return
	}
	if e.nsSeen == nil {
		e.nsSeen = map[string]bool{}
	}
	if e.nsSeen[uri] {
		return
	}
	e.nsSeen[uri] = true
	var prefix string
	switch uri {
	case AndroidNS:
		prefix = "android"
	case AppNS:
		prefix = "app"
	case ToolsNS:
		prefix = "tools"
	default:
		prefix = fmt.Sprintf("ns%d", len(e.nsList))
	}
	e.nsList = append(e.nsList, Namespace{Prefix: prefix, URI: uri})
	e.addPlain(prefix)
	e.addPlain(uri)
}

func (e *encoder) collect(el *Element, depth int) error {
	if depth >= MaxDepth {
		return fmt.Errorf("%w: elements nested deeper than %d", ErrLimit, MaxDepth)
	}
	if len(el.Attrs) > 0xffff {
		return fmt.Errorf("axml: <%s> has %d attributes", el.Name, len(el.Attrs))
	}
	e.addNS(el.Namespace)
	e.addPlain(el.Name)
	for _, a := range e.sortedAttrs(el) {
		e.addNS(a.Namespace)
		if id := e.attrID(a); id != 0 {
			if _, ok := e.byID[id]; !ok {
				e.byID[id] = uint32(len(e.ids))
				e.ids = append(e.ids, id)
				e.idName = append(e.idName, a.Name)
			}
		} else {
			e.addPlain(a.Name)
		}
		if a.Raw != "" {
			e.addPlain(a.Raw)
		}
		if a.Value.Type == TypeString {
			e.addPlain(a.Value.Str)
		}
	}
	if el.Text != "" {
		e.addPlain(el.Text)
	}
	for _, c := range el.Children {
		if err := e.collect(c, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// strings fixes the final pool order: ID'd attribute names sorted by ID
// (the resource map covers exactly these), then everything else.
func (e *encoder) strings() []string {
	order := make([]int, len(e.ids))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(e.ids[a], e.ids[b]) })
	ids := make([]uint32, len(order))
	names := make([]string, 0, len(order)+len(e.rest))
	for newIdx, old := range order {
		ids[newIdx] = e.ids[old]
		e.byID[e.ids[old]] = uint32(newIdx)
		names = append(names, e.idName[old])
	}
	e.ids = ids
	for s, i := range e.plain {
		e.plain[s] = i + uint32(len(ids))
	}
	return append(names, e.rest...)
}

func appendNode(b []byte, typ uint16, line uint32, a, c uint32) []byte {
	b = binary.LittleEndian.AppendUint16(b, typ)
	b = binary.LittleEndian.AppendUint16(b, 16)
	b = binary.LittleEndian.AppendUint32(b, 24)
	b = binary.LittleEndian.AppendUint32(b, line)
	b = binary.LittleEndian.AppendUint32(b, NoIndex) // comment
	b = binary.LittleEndian.AppendUint32(b, a)
	return binary.LittleEndian.AppendUint32(b, c)
}

func (e *encoder) ns(uri string) uint32 {
	if uri == "" {
		return NoIndex
	}
	return e.plain[uri]
}

// sortedAttrs orders attributes as written: IDs ascending, then the rest in
// their original order.
func (e *encoder) sortedAttrs(el *Element) []Attr {
	attrs := slices.Clone(el.Attrs)
	slices.SortStableFunc(attrs, func(x, y Attr) int {
		ix, iy := e.attrID(x), e.attrID(y)
		switch {
		case ix != 0 && iy != 0:
			return cmp.Compare(ix, iy)
		case ix != 0:
			return -1
		case iy != 0:
			return 1
		}
		return 0
	})
	return attrs
}

func (e *encoder) element(b []byte, el *Element) []byte {
	attrs := e.sortedAttrs(el)
	line := max(el.Line, 1)
	b = binary.LittleEndian.AppendUint16(b, ChunkXMLStartElem)
	b = binary.LittleEndian.AppendUint16(b, 16)
	b = binary.LittleEndian.AppendUint32(b, uint32(16+20+20*len(attrs)))
	b = binary.LittleEndian.AppendUint32(b, line)
	b = binary.LittleEndian.AppendUint32(b, NoIndex)
	b = binary.LittleEndian.AppendUint32(b, e.ns(el.Namespace))
	b = binary.LittleEndian.AppendUint32(b, e.plain[el.Name])
	b = binary.LittleEndian.AppendUint16(b, 20) // attributeStart
	b = binary.LittleEndian.AppendUint16(b, 20) // attributeSize
	b = binary.LittleEndian.AppendUint16(b, uint16(len(attrs)))
	var idIdx, classIdx, styleIdx uint16
	for i, a := range attrs {
		if a.Namespace == "" {
			switch a.Name {
			case "id":
				idIdx = uint16(i + 1)
			case "class":
				classIdx = uint16(i + 1)
			case "style":
				styleIdx = uint16(i + 1)
			}
		}
	}
	b = binary.LittleEndian.AppendUint16(b, idIdx)
	b = binary.LittleEndian.AppendUint16(b, classIdx)
	b = binary.LittleEndian.AppendUint16(b, styleIdx)
	for _, a := range attrs {
		name := e.plain[a.Name]
		if id := e.attrID(a); id != 0 {
			name = e.byID[id]
		}
		raw := uint32(NoIndex)
		if a.Raw != "" {
			raw = e.plain[a.Raw]
		}
		data := a.Value.Data
		if a.Value.Type == TypeString {
			data = e.plain[a.Value.Str]
			if a.Raw == "" {
				raw = data // aapt keeps the raw text of string values
			}
		}
		b = binary.LittleEndian.AppendUint32(b, e.ns(a.Namespace))
		b = binary.LittleEndian.AppendUint32(b, name)
		b = binary.LittleEndian.AppendUint32(b, raw)
		b = binary.LittleEndian.AppendUint16(b, 8)
		b = append(b, 0, byte(a.Value.Type))
		b = binary.LittleEndian.AppendUint32(b, data)
	}
	if el.Text != "" {
		b = binary.LittleEndian.AppendUint16(b, ChunkXMLCData)
		b = binary.LittleEndian.AppendUint16(b, 16)
		b = binary.LittleEndian.AppendUint32(b, 28)
		b = binary.LittleEndian.AppendUint32(b, line)
		b = binary.LittleEndian.AppendUint32(b, NoIndex)
		b = binary.LittleEndian.AppendUint32(b, e.plain[el.Text])
		b = binary.LittleEndian.AppendUint16(b, 8)
		b = append(b, 0, byte(TypeNull))
		b = binary.LittleEndian.AppendUint32(b, 0)
	}
	for _, c := range el.Children {
		b = e.element(b, c)
	}
	return appendNode(b, ChunkXMLEndElem, line, e.ns(el.Namespace), e.plain[el.Name])
}
