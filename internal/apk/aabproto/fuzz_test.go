package aabproto

import (
	"bytes"
	"errors"
	"testing"

	"github.com/dfslab/dfslab/internal/apk/arsc"
	"github.com/dfslab/dfslab/internal/apk/axml"
)

func FuzzDecodeXML(f *testing.F) {
	b, err := EncodeXML(sampleManifest())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:len(b)/3])
	f.Add([]byte{0x0a, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		root, err := DecodeXML(data)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrLimit) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		// Each element and attribute is a message of at least two bytes.
		if n := countNodes(root); n > len(data) {
			t.Fatalf("%d nodes decoded from %d bytes", n, len(data))
		}
		b, err := EncodeXML(root)
		if err != nil {
			// Values of unknown types cannot be written back.
			return
		}
		root2, err := DecodeXML(b)
		if err != nil {
			t.Fatalf("re-encoded tree does not decode: %v", err)
		}
		// Our own output is canonical: another round trip changes nothing.
		b2, err := EncodeXML(root2)
		if err != nil {
			t.Fatalf("re-encoding a decoded canonical tree: %v", err)
		}
		if !bytes.Equal(b, b2) {
			t.Fatalf("encode(decode(x)) is not a fixed point: %d vs %d bytes", len(b), len(b2))
		}
	})
}

func countNodes(e *axml.Element) int {
	n := 1 + len(e.Attrs)
	for _, c := range e.Children {
		n += countNodes(c)
	}
	return n
}

func FuzzDecodeResourceTable(f *testing.F) {
	p := arsc.NewPackage(0x7f, "p")
	id := p.Add("string", "s", arsc.Config{Language: "en", Region: "GB"}, axml.Str("x"))
	p.Add("xml", "n", arsc.Config{}, axml.Str("res/xml/n.xml"))
	p.Add("string", "r", arsc.Config{}, axml.Ref(id))
	p.AddComplex("style", "t", arsc.Config{}, 0x01030005, []arsc.Item{{Name: 0x01010036, Value: axml.Int(2)}})
	b, err := EncodeResourceTable(arsc.NewTable(p))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := DecodeResourceTable(data)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrLimit) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		n := 0
		for e := range tab.All() {
			n += 1 + len(e.Items)
			tab.Resolve(e.ID) // must terminate: cycles are bounded
		}
		// Repeated fields may name one entry many times; the decoder's
		// budget keeps the table proportional to the input all the same.
		if limit := 2*len(data) + 1<<16; n > limit {
			t.Fatalf("%d entries and items from %d bytes", n, len(data))
		}
	})
}
