package aabproto

import (
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
		if _, err := EncodeXML(root); err != nil && !errors.Is(err, ErrLimit) {
			// Values of unknown types cannot be written back; that
			// is the only acceptable failure.
			return
		}
	})
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
		for e := range tab.All() {
			tab.Resolve(e.ID) // must terminate: cycles are bounded
		}
	})
}
