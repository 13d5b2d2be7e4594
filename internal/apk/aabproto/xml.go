package aabproto

import (
	"fmt"

	"github.com/dfslab/dfslab/internal/apk/axml"
	"google.golang.org/protobuf/encoding/protowire"
)

// DecodeXML decodes an aapt2 XmlNode (the form of AndroidManifest.xml and
// res/xml/* inside an App Bundle) into the generic element tree.
func DecodeXML(data []byte) (*axml.Element, error) {
	el, text, err := decodeNode(data, 0)
	if err != nil {
		return nil, err
	}
	if el == nil {
		if text != "" {
			return nil, fmt.Errorf("%w: document is a text node", ErrFormat)
		}
		return nil, fmt.Errorf("%w: no root element", ErrFormat)
	}
	return el, nil
}

// decodeNode returns either an element or a text node.
func decodeNode(b []byte, depth int) (*axml.Element, string, error) {
	if depth >= axml.MaxDepth {
		return nil, "", fmt.Errorf("%w: elements nested deeper than %d", ErrLimit, axml.MaxDepth)
	}
	var el *axml.Element
	var text string
	var line uint32
	err := eachField(b, func(f field) error {
		if f.typ != protowire.BytesType {
			return nil
		}
		switch f.num {
		case 1:
			e, err := decodeElement(f.v, depth)
			if err != nil {
				return err
			}
			el = e
		case 2:
			text = f.str()
		case 3:
			l, err := msgUint(f.v)
			if err != nil {
				return err
			}
			line = l
		}
		return nil
	})
	if el != nil {
		el.Line = line
	}
	return el, text, err
}

func decodeElement(b []byte, depth int) (*axml.Element, error) {
	el := &axml.Element{}
	err := eachField(b, func(f field) error {
		switch f.num {
		case 2:
			el.Namespace = f.str()
		case 3:
			el.Name = f.str()
		case 4:
			if f.typ != protowire.BytesType {
				return nil
			}
			a, err := decodeAttr(f.v)
			if err != nil {
				return fmt.Errorf("attribute of <%s>: %w", el.Name, err)
			}
			el.Attrs = append(el.Attrs, a)
		case 5:
			if f.typ != protowire.BytesType {
				return nil
			}
			c, text, err := decodeNode(f.v, depth+1)
			if err != nil {
				return err
			}
			if c != nil {
				el.Children = append(el.Children, c)
			} else {
				el.Text += text
			}
		}
		return nil
	})
	return el, err
}

func decodeAttr(b []byte) (axml.Attr, error) {
	var a axml.Attr
	var compiled bool
	err := eachField(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			a.Namespace = f.str()
		case 2:
			a.Name = f.str()
		case 3:
			a.Raw = f.str()
		case 5:
			a.ResID = uint32(f.x)
		case 6:
			if f.typ == protowire.BytesType {
				a.Value, err = decodeItem(f.v)
				compiled = true
			}
		}
		return err
	})
	if err != nil {
		return a, err
	}
	if !compiled {
		// Uncompiled attributes (no type information) are plain strings.
		a.Value = axml.Str(a.Raw)
	}
	if name, ok := axml.FrameworkAttrName(a.ResID); ok {
		// As for binary XML, Android identifies framework attributes by ID.
		a.Name, a.Namespace = name, axml.AndroidNS
	}
	return a, nil
}

// EncodeXML writes root as an aapt2 XmlNode, declaring the namespaces it
// uses on the root element. Attribute values that are strings are written
// as raw text without a compiled item, the others with one, as aapt2 does.
func EncodeXML(root *axml.Element) ([]byte, error) {
	if root == nil {
		return nil, fmt.Errorf("aabproto: nil root element")
	}
	var nsDecl []byte
	seen := map[string]bool{}
	var collect func(e *axml.Element, depth int) error
	collect = func(e *axml.Element, depth int) error {
		if depth >= axml.MaxDepth {
			return fmt.Errorf("%w: elements nested deeper than %d", ErrLimit, axml.MaxDepth)
		}
		add := func(uri string) {
			if uri == "" || seen[uri] {
				return
			}
			seen[uri] = true
			prefix := fmt.Sprintf("ns%d", len(seen))
			switch uri {
			case axml.AndroidNS:
				prefix = "android"
			case axml.AppNS:
				prefix = "app"
			case axml.ToolsNS:
				prefix = "tools"
			}
			nsDecl = appendMsg(nsDecl, 1, appendStr(appendStr(nil, 1, prefix), 2, uri))
		}
		add(e.Namespace)
		for _, a := range e.Attrs {
			add(a.Namespace)
		}
		for _, c := range e.Children {
			if err := collect(c, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := collect(root, 0); err != nil {
		return nil, err
	}
	el, err := encodeElement(root, nsDecl)
	if err != nil {
		return nil, err
	}
	return appendMsg(nil, 1, el), nil
}

func encodeElement(e *axml.Element, nsDecl []byte) ([]byte, error) {
	b := append([]byte(nil), nsDecl...)
	b = appendStr(b, 2, e.Namespace)
	b = appendStr(b, 3, e.Name)
	for _, a := range e.Attrs {
		var ab []byte
		ab = appendStr(ab, 1, a.Namespace)
		ab = appendStr(ab, 2, a.Name)
		raw := a.Raw
		if raw == "" {
			raw = a.Value.String()
		}
		ab = appendStr(ab, 3, raw)
		id := a.ResID
		if id == 0 && a.Namespace == axml.AndroidNS {
			id, _ = axml.FrameworkAttrID(a.Name)
		}
		ab = appendVarint(ab, 5, uint64(id))
		if a.Value.Type != axml.TypeString {
			item, err := encodeItem(a.Value, false)
			if err != nil {
				return nil, fmt.Errorf("<%s %s>: %w", e.Name, a.Name, err)
			}
			ab = appendMsg(ab, 6, item)
		}
		b = appendMsg(b, 4, ab)
	}
	if e.Text != "" {
		b = appendMsg(b, 5, appendStr(nil, 2, e.Text))
	}
	for _, c := range e.Children {
		cb, err := encodeElement(c, nil)
		if err != nil {
			return nil, err
		}
		node := appendMsg(nil, 1, cb)
		if c.Line != 0 {
			node = appendMsg(node, 3, appendVarint(nil, 1, uint64(c.Line)))
		}
		b = appendMsg(b, 5, node)
	}
	return b, nil
}
