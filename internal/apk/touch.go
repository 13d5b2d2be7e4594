package apk

import (
	"bytes"
	"encoding/binary"
	"io"
	"path"
	"slices"

	"github.com/dfslab/dfslab/internal/apk/arsc"
	"github.com/dfslab/dfslab/internal/apk/axml"
	"github.com/dfslab/dfslab/internal/apk/zipfs"
)

// attrFilterTouches is android.R.attr.filterTouchesWhenObscured.
const attrFilterTouches = 0x010102c4

// Android reads layout attributes by resource ID only, so a compiled layout
// that does not contain the ID's encoding cannot set the attribute: most
// layouts are ruled out by a byte search, without decoding them. Binary XML
// keeps the ID in its resource map as a little-endian uint32, aapt2's
// protobuf XML as the varint of XmlAttribute.resource_id.
var (
	filterTouchesBinary = binary.LittleEndian.AppendUint32(nil, attrFilterTouches)
	filterTouchesProto  = binary.AppendUvarint(nil, attrFilterTouches)
)

// touchFilters records the layouts and styles of one APK or bundle module
// that set android:filterTouchesWhenObscured="true". t is that archive's
// resource table: layouts are found through it, not by file name, because
// resource shrinkers rename res/layout/pay.xml to res/a1.xml. dir is the
// module folder of an App Bundle ("base/"), "" in an APK.
func (l *loader) touchFilters(z *zipfs.Archive, t *arsc.Table, prefix, dir, table string, f xmlFormat) {
	needle := filterTouchesBinary
	if f == protoXML {
		needle = filterTouchesProto
	}
	var (
		seen = map[string]bool{}
		buf  bytes.Buffer
	)
	for e := range t.All() {
		if l.ctx.Err() != nil {
			return
		}
		switch {
		case e.Type == "style" && e.Complex:
			if styleFiltersTouches(t, e) {
				l.app.TouchFilters = append(l.app.TouchFilters, ResourceUse{File: prefix + table, Name: e.Name()})
			}
		case e.Type == "layout" && !e.Complex && e.Value.Type == axml.TypeString:
			name := path.Clean(dir + e.Value.Str)
			if seen[name] {
				continue // one file per configuration, often shared
			}
			seen[name] = true
			ze := z.Lookup(name)
			if ze == nil || ze.UncompressedSize > l.lim.MaxTextSize*4 {
				continue
			}
			data, err := readInto(&buf, ze, l.lim.MaxTextSize*4)
			if err != nil {
				l.warnf("%s%s: %v", prefix, name, err)
				continue
			}
			if !bytes.Contains(data, needle) {
				continue
			}
			tree, err := decodeXML(data, f)
			if err != nil {
				l.warnf("%s%s: %v", prefix, name, err)
				continue
			}
			if layoutFiltersTouches(t, tree) {
				l.app.TouchFilters = append(l.app.TouchFilters, ResourceUse{File: prefix + name, Name: e.Name()})
			}
		}
	}
}

// readInto reads the entry into buf, reused across the layouts of an app
// so that scanning hundreds of them allocates once.
func readInto(buf *bytes.Buffer, e *zipfs.Entry, max int64) ([]byte, error) {
	buf.Reset()
	r, err := e.Open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if _, err := buf.ReadFrom(io.LimitReader(r, max)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// layoutFiltersTouches reports whether any view of the layout sets the
// attribute to true, directly or through a boolean resource.
func layoutFiltersTouches(t *arsc.Table, root *axml.Element) bool {
	found := false
	root.Walk(func(el *axml.Element, _ int) {
		if a, ok := el.AttrByID(attrFilterTouches); ok && !found {
			found = isTrueValue(t, a.Value)
		}
	})
	return found
}

// styleFiltersTouches reports whether a style or theme sets the attribute
// to true. A style applied to a view (style="@style/…", or a default
// style the theme names) and a theme applied to an activity both reach the
// views that read it.
func styleFiltersTouches(t *arsc.Table, e *arsc.Entry) bool {
	i := slices.IndexFunc(e.Items, func(it arsc.Item) bool { return it.Name == attrFilterTouches })
	return i >= 0 && isTrueValue(t, e.Items[i].Value)
}

// isTrueValue interprets v as a boolean, following a reference (@bool/x)
// in the default configuration.
func isTrueValue(t *arsc.Table, v axml.Value) bool {
	if v.IsReference() {
		r, err := t.ResolveValue(v)
		if err != nil {
			return false
		}
		v = r
	}
	b, ok := v.AsBool()
	return ok && b
}
