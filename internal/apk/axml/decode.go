package axml

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Limits that keep hostile files bounded. Real manifests nest fewer than 10
// levels and carry a few hundred anomalies at most.
const (
	MaxDepth     = 256
	maxAnomalies = 64
	maxText      = 1 << 20
)

// ErrLimit is wrapped when input exceeds a safety limit.
var ErrLimit = errors.New("binary XML exceeds a safety limit")

// ErrTextXML is returned for plain-text XML where binary XML was expected.
var ErrTextXML = fmt.Errorf("%w: text XML, not compiled binary XML", ErrFormat)

// Decode decodes binary XML and returns the root element.
func Decode(data []byte) (*Element, error) {
	d, err := DecodeDocument(data)
	if err != nil {
		return nil, err
	}
	return d.Root, nil
}

type decoder struct {
	data   []byte
	doc    *Document
	pool   *StringPool
	resMap []byte // raw uint32 resource IDs, one per leading pool string
	stack  []*Element
	closed bool // root element ended
}

func (d *decoder) anomaly(format string, args ...any) {
	if len(d.doc.Anomalies) < maxAnomalies {
		d.doc.Anomalies = append(d.doc.Anomalies, fmt.Sprintf(format, args...))
	}
}

// DecodeDocument decodes binary XML, reporting tolerated irregularities.
func DecodeDocument(data []byte) (*Document, error) {
	if len(data) < 8 {
		return nil, fmt.Errorf("%w: %d bytes is too short for binary XML", ErrFormat, len(data))
	}
	trimmed := bytes.TrimLeft(data[:min(len(data), 64)], " \t\r\n\xef\xbb\xbf")
	if len(trimmed) > 0 && trimmed[0] == '<' {
		return nil, ErrTextXML
	}
	d := &decoder{data: data, doc: &Document{}}
	typ := binary.LittleEndian.Uint16(data)
	hs := int(binary.LittleEndian.Uint16(data[2:]))
	size := int64(binary.LittleEndian.Uint32(data[4:]))
	if typ != ChunkXML {
		// Android does not check the outer chunk type; some packers
		// zero it to break other tools.
		d.anomaly("document chunk type 0x%04x, expected 0x0003", typ)
	}
	if hs < 8 || hs > len(data) {
		d.anomaly("document header size %d", hs)
		hs = 8
	}
	end := len(data)
	switch {
	case size > int64(len(data)) || size < int64(hs):
		d.anomaly("document size %d does not match file size %d", size, len(data))
	case size < int64(len(data)):
		d.anomaly("%d bytes after the document", int64(len(data))-size)
		end = int(size)
	}
	if err := d.chunks(hs, end); err != nil {
		return nil, err
	}
	if d.doc.Root == nil {
		return nil, fmt.Errorf("%w: no root element", ErrFormat)
	}
	if len(d.stack) > 0 {
		d.anomaly("%d elements not closed", len(d.stack))
	}
	return d.doc, nil
}

// prescan finds the string pool and resource map wherever they are: Android
// indexes them before it walks the nodes, so a packer may move them after
// the elements.
func (d *decoder) prescan(pos, end int) {
	for pos+8 <= end {
		c := d.data[pos:end]
		typ := binary.LittleEndian.Uint16(c)
		hs := int(binary.LittleEndian.Uint16(c[2:]))
		size := int64(binary.LittleEndian.Uint32(c[4:]))
		if size < 8 || hs < 8 || int64(hs) > size {
			return
		}
		size = min(size, int64(len(c)))
		if int64(hs) > size {
			return
		}
		c = c[:size]
		switch typ {
		case ChunkStringPool:
			if d.pool == nil {
				if p, err := ParseStringPool(c); err == nil {
					d.pool = p
				}
			}
		case ChunkXMLResourceMap:
			if d.resMap == nil {
				d.resMap = c[hs:]
				d.resMap = d.resMap[:len(d.resMap)/4*4]
			}
		}
		pos += int(size)
	}
}

func (d *decoder) chunks(pos, end int) error {
	d.prescan(pos, end)
	pool, resMap := d.pool, d.resMap
	for pos+8 <= end {
		c := d.data[pos:end]
		typ := binary.LittleEndian.Uint16(c)
		hs := int(binary.LittleEndian.Uint16(c[2:]))
		size := int64(binary.LittleEndian.Uint32(c[4:]))
		if size < 8 || hs < 8 || int64(hs) > size {
			if d.doc.Root != nil {
				d.anomaly("stopped at invalid chunk at offset %d", pos)
				return nil
			}
			return fmt.Errorf("%w: invalid chunk at offset %d (type 0x%04x, header %d, size %d)", ErrFormat, pos, typ, hs, size)
		}
		if size > int64(len(c)) {
			d.anomaly("chunk at offset %d claims %d bytes, %d left", pos, size, len(c))
			size = int64(len(c))
			if int64(hs) > size {
				return d.truncated(pos)
			}
		}
		c = c[:size]
		var err error
		switch typ {
		case ChunkStringPool:
			switch {
			case pool == nil:
				// Not found by the prescan: report why.
				_, err = ParseStringPool(c)
			case &pool.chunk[0] != &c[0]:
				d.anomaly("extra string pool at offset %d ignored", pos)
			case d.doc.Root != nil || len(d.stack) > 0:
				d.anomaly("string pool after the first element")
			}
		case ChunkXMLResourceMap:
			if len(resMap) > 0 && len(c) > hs && &resMap[0] != &c[hs] {
				d.anomaly("extra resource map at offset %d ignored", pos)
			}
		case ChunkXMLStartNS:
			d.namespace(c, hs)
		case ChunkXMLEndNS:
		case ChunkXMLStartElem:
			err = d.startElement(c, hs)
		case ChunkXMLEndElem:
			d.endElement(pos)
		case ChunkXMLCData:
			d.cdata(c, hs)
		default:
			d.anomaly("unknown chunk type 0x%04x at offset %d", typ, pos)
		}
		if err != nil {
			return fmt.Errorf("at offset %d: %w", pos, err)
		}
		pos += int(size)
	}
	return nil
}

func (d *decoder) truncated(pos int) error {
	if d.doc.Root != nil {
		d.anomaly("truncated chunk at offset %d", pos)
		return nil
	}
	return fmt.Errorf("%w: truncated chunk at offset %d", ErrFormat, pos)
}

// str returns pool string i, "" for NoIndex or unreadable entries.
func (d *decoder) str(i uint32) string {
	if i == NoIndex {
		return ""
	}
	s, err := d.pool.Get(i)
	if err != nil {
		d.anomaly("%v", err)
	}
	return s
}

func (d *decoder) resID(i uint32) uint32 {
	if uint64(i)*4+4 > uint64(len(d.resMap)) {
		return 0
	}
	return binary.LittleEndian.Uint32(d.resMap[i*4:])
}

func (d *decoder) namespace(c []byte, hs int) {
	if len(c) < hs+8 {
		d.anomaly("short namespace chunk")
		return
	}
	ext := c[hs:]
	d.doc.Namespaces = append(d.doc.Namespaces, Namespace{
		Prefix: d.str(binary.LittleEndian.Uint32(ext)),
		URI:    d.str(binary.LittleEndian.Uint32(ext[4:])),
	})
}

const attrMinSize = 20

func (d *decoder) startElement(c []byte, hs int) error {
	if len(c) < hs+20 {
		d.anomaly("short start-element chunk")
		return nil
	}
	if d.closed {
		d.anomaly("element after the root element ignored")
		return nil
	}
	if len(d.stack) >= MaxDepth {
		return fmt.Errorf("%w: elements nested deeper than %d", ErrLimit, MaxDepth)
	}
	ext := c[hs:]
	el := &Element{
		Namespace: d.str(binary.LittleEndian.Uint32(ext)),
		Name:      d.str(binary.LittleEndian.Uint32(ext[4:])),
	}
	if hs >= 16 {
		el.Line = binary.LittleEndian.Uint32(c[8:])
	}
	attrStart := int(binary.LittleEndian.Uint16(ext[8:]))
	attrSize := int(binary.LittleEndian.Uint16(ext[10:]))
	count := int(binary.LittleEndian.Uint16(ext[12:]))
	if attrSize < attrMinSize {
		if count > 0 {
			d.anomaly("attribute size %d in <%s>", attrSize, el.Name)
		}
		attrSize = attrMinSize
	}
	// The attribute array must lie inside the chunk; clamp rather than
	// trust count.
	if fit := (len(ext) - attrStart) / attrSize; attrStart > len(ext) || count > fit {
		if attrStart > len(ext) {
			fit = 0
		}
		d.anomaly("<%s> claims %d attributes, %d fit", el.Name, count, fit)
		count = max(fit, 0)
	}
	el.Attrs = make([]Attr, 0, count)
	for i := range count {
		a := ext[attrStart+i*attrSize:]
		el.Attrs = append(el.Attrs, d.attr(el.Name, a))
	}
	if len(d.stack) == 0 {
		if d.doc.Root != nil {
			d.anomaly("second root element <%s> ignored", el.Name)
			return nil
		}
		d.doc.Root = el
	} else {
		p := d.stack[len(d.stack)-1]
		p.Children = append(p.Children, el)
	}
	d.stack = append(d.stack, el)
	return nil
}

func (d *decoder) attr(elName string, a []byte) Attr {
	nameIdx := binary.LittleEndian.Uint32(a[4:])
	at := Attr{
		Namespace: d.str(binary.LittleEndian.Uint32(a)),
		Name:      d.str(nameIdx),
		ResID:     d.resID(nameIdx),
		Raw:       d.str(binary.LittleEndian.Uint32(a[8:])),
		Value: Value{
			Type: ValueType(a[15]),
			Data: binary.LittleEndian.Uint32(a[16:]),
		},
	}
	if fw, ok := FrameworkAttrName(at.ResID); ok {
		// Android matches framework attributes by ID; an obfuscator may
		// blank or rename the pool string without changing behaviour.
		if at.Name != fw {
			d.anomaly("<%s> attribute 0x%08x named %q, restored as %q", elName, at.ResID, at.Name, fw)
			at.Name = fw
		}
		if at.Namespace != AndroidNS {
			if at.Namespace != "" {
				d.anomaly("<%s> android:%s declared in namespace %q", elName, fw, at.Namespace)
			}
			at.Namespace = AndroidNS
		}
	} else if at.Name == "" && at.ResID != 0 {
		at.Name = fmt.Sprintf("0x%08x", at.ResID)
	}
	if at.Value.Type == TypeString {
		s, err := d.pool.Get(at.Value.Data)
		if err != nil {
			s = at.Raw
		}
		at.Value.Str = s
	}
	return at
}

func (d *decoder) endElement(pos int) {
	if len(d.stack) == 0 {
		d.anomaly("unbalanced end element at offset %d", pos)
		return
	}
	d.stack = d.stack[:len(d.stack)-1]
	if len(d.stack) == 0 {
		d.closed = true
	}
}

func (d *decoder) cdata(c []byte, hs int) {
	if len(c) < hs+4 || len(d.stack) == 0 {
		return
	}
	el := d.stack[len(d.stack)-1]
	t := d.str(binary.LittleEndian.Uint32(c[hs:]))
	if len(el.Text)+len(t) > maxText {
		// Many chunks naming one long string would otherwise grow text
		// quadratically in the input size.
		d.anomaly("text of <%s> truncated", el.Name)
		return
	}
	el.Text += t
}
