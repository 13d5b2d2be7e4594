package axml

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// chunk builds a raw chunk for hostile-input tests.
func chunk(typ uint16, hs uint16, body []byte) []byte {
	b := binary.LittleEndian.AppendUint16(nil, typ)
	b = binary.LittleEndian.AppendUint16(b, hs)
	b = binary.LittleEndian.AppendUint32(b, uint32(8+len(body)))
	return append(b, body...)
}

func doc(chunks ...[]byte) []byte {
	return chunk(ChunkXML, 8, bytes.Join(chunks, nil))
}

func u32s(vs ...uint32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return b
}

// startElem builds a start-element chunk with the given raw attributes.
func startElem(name uint32, attrCount uint16, attrs []byte) []byte {
	body := u32s(1, NoIndex, NoIndex, name)
	body = binary.LittleEndian.AppendUint16(body, 20)
	body = binary.LittleEndian.AppendUint16(body, 20)
	body = binary.LittleEndian.AppendUint16(body, attrCount)
	body = append(body, 0, 0, 0, 0, 0, 0)
	return chunk(ChunkXMLStartElem, 16, append(body, attrs...))
}

func endElem(name uint32) []byte {
	return chunk(ChunkXMLEndElem, 16, u32s(1, NoIndex, NoIndex, name))
}

func mustPool(t testing.TB, strs ...string) []byte {
	t.Helper()
	p, err := EncodeStringPool(strs, false)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDecodeTolerance(t *testing.T) {
	good, err := Encode(sampleManifest())
	if err != nil {
		t.Fatal(err)
	}
	wrongType := bytes.Clone(good)
	wrongType[0] = 0 // outer type zeroed, as some packers do
	wrongSize := bytes.Clone(good)
	binary.LittleEndian.PutUint32(wrongSize[4:], 0x42424242)
	junk := append(bytes.Clone(good), []byte("trailing junk that is not a chunk")...)
	binary.LittleEndian.PutUint32(junk[4:], uint32(len(good)))

	// Obfuscator trick: attribute name blanked in the pool, resource ID
	// kept, namespace URI replaced.
	stripped := doc(
		mustPool(t, "", "manifest", "http://evil/"),
		chunk(ChunkXMLResourceMap, 8, u32s(0x0101000f)),
		startElem(1, 1, append(u32s(2, 0, NoIndex), 8, 0, 0, byte(TypeIntBoolean), 0xff, 0xff, 0xff, 0xff)),
		endElem(1),
	)
	late := doc(
		startElem(1, 1, append(u32s(2, 0, NoIndex), 8, 0, 0, byte(TypeIntBoolean), 0xff, 0xff, 0xff, 0xff)),
		endElem(1),
		mustPool(t, "debuggable", "manifest", AndroidNS),
		chunk(ChunkXMLResourceMap, 8, u32s(0x0101000f)),
	)
	tests := []struct {
		name      string
		in        []byte
		anomalies []string // substrings expected in the anomalies
	}{
		{"string pool after the elements", late, []string{"string pool after the first element"}},
		{"wrong outer type", wrongType, []string{"chunk type 0x0000"}},
		{"wrong outer size", wrongSize, []string{"does not match file size"}},
		{"junk after document", junk, []string{"bytes after the document"}},
		{"stripped attribute name", stripped, []string{`named "", restored as "debuggable"`, `declared in namespace "http://evil/"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := DecodeDocument(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			all := strings.Join(d.Anomalies, "\n")
			for _, want := range tt.anomalies {
				if !strings.Contains(all, want) {
					t.Errorf("anomalies %q lack %q", d.Anomalies, want)
				}
			}
			if tt.name == "stripped attribute name" || tt.name == "string pool after the elements" {
				a, ok := d.Root.AndroidAttr("debuggable")
				if !ok || a.Namespace != AndroidNS {
					t.Fatalf("debuggable not found: %+v", d.Root.Attrs)
				}
				if b, _ := a.Value.AsBool(); !b {
					t.Error("debuggable is not true")
				}
			} else if d.Root.String() != sampleManifest().canonical(t) {
				t.Error("tree differs from the untampered one")
			}
		})
	}
}

func TestDecodeHostile(t *testing.T) {
	pool := mustPool(t, "a")
	// A pool claiming 2^31 strings in a few bytes.
	hugePool := bytes.Clone(pool)
	binary.LittleEndian.PutUint32(hugePool[8:], 1<<31)
	// Many offsets pointing at one long string: decoding must not
	// multiply it (the offset cache and the byte budget bound it).
	long := strings.Repeat("x", 20000)
	aliasPool := mustPool(t, long)
	n := 2000
	offs := make([]uint32, n)
	aliased := bytes.Clone(aliasPool[:28])
	binary.LittleEndian.PutUint32(aliased[8:], uint32(n))
	binary.LittleEndian.PutUint32(aliased[20:], uint32(28+4*n))
	aliased = append(aliased, u32s(offs...)...)
	aliased = append(aliased, aliasPool[32:]...)
	binary.LittleEndian.PutUint32(aliased[4:], uint32(len(aliased)))
	var attrs []byte
	for i := range 200 {
		attrs = append(attrs, u32s(NoIndex, uint32(i), uint32(i))...)
		attrs = append(attrs, 8, 0, 0, byte(TypeString))
		attrs = append(attrs, u32s(uint32(i))...)
	}
	// Overlapping strings: every offset lands in a run of 0xff bytes and
	// reads a 32 KiB length, so each index would decode a fresh long
	// string; the byte budget must stop this.
	const nOverlap = 4000
	overlap := make([]byte, 28, 28+4*nOverlap+40000)
	binary.LittleEndian.PutUint16(overlap, ChunkStringPool)
	binary.LittleEndian.PutUint16(overlap[2:], 28)
	binary.LittleEndian.PutUint32(overlap[8:], nOverlap)
	binary.LittleEndian.PutUint32(overlap[16:], poolFlagUTF8)
	binary.LittleEndian.PutUint32(overlap[20:], 28+4*nOverlap)
	for i := range nOverlap {
		overlap = binary.LittleEndian.AppendUint32(overlap, uint32(i))
	}
	overlap = append(overlap, bytes.Repeat([]byte{0xff}, 40000)...)
	binary.LittleEndian.PutUint32(overlap[4:], uint32(len(overlap)))
	var oattrs []byte
	for i := range nOverlap {
		oattrs = append(oattrs, u32s(NoIndex, NoIndex, uint32(i), 0x03000008, uint32(i))...)
	}
	deep := [][]byte{pool}
	for range MaxDepth + 1 {
		deep = append(deep, startElem(0, 0, nil))
	}
	tests := []struct {
		name string
		in   []byte
		want error // nil: must decode (with anomalies unless aliased)
	}{
		{"empty", nil, ErrFormat},
		{"text xml", []byte("<?xml version=\"1.0\"?><manifest/>"), ErrTextXML},
		{"no root", doc(pool), ErrFormat},
		{"huge string count", doc(hugePool, startElem(0, 0, nil)), ErrFormat},
		{"attribute count beyond chunk", doc(pool, startElem(0, 0xffff, nil), endElem(0)), nil},
		{"aliased long strings", doc(aliased, startElem(0, 200, attrs), endElem(0)), nil},
		{"overlapping long strings", doc(overlap, startElem(NoIndex, nOverlap, oattrs), endElem(NoIndex)), nil},
		{"too deep", doc(deep...), ErrLimit},
		{"chunk size zero", doc(pool, []byte{0x02, 0x01, 0x10, 0, 0, 0, 0, 0}), ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := DecodeDocument(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err != nil {
				return
			}
			if strings.HasPrefix(tt.name, "aliased") {
				// Aliases decode once and share memory.
				if len(d.Root.Attrs) != 200 || d.Root.Attrs[199].Value.Str != long {
					t.Errorf("aliased attributes: %d", len(d.Root.Attrs))
				}
			} else if len(d.Anomalies) == 0 {
				t.Error("hostile input decoded without anomalies")
			}
		})
	}
}

func TestStringPoolLimits(t *testing.T) {
	p, err := ParseStringPool(mustPool(t, "héllo", "𝄞"))
	if err != nil {
		t.Fatal(err)
	}
	if p.String(0) != "héllo" || p.String(1) != "𝄞" || p.Len() != 2 {
		t.Errorf("pool = %q %q", p.String(0), p.String(1))
	}
	if _, err := p.Get(2); !errors.Is(err, ErrFormat) {
		t.Errorf("out of range: %v", err)
	}
	u8, err := EncodeStringPool([]string{"héllo", strings.Repeat("z", 300)}, true)
	if err != nil {
		t.Fatal(err)
	}
	p, err = ParseStringPool(u8)
	if err != nil {
		t.Fatal(err)
	}
	if !p.UTF8() || p.String(0) != "héllo" || len(p.String(1)) != 300 {
		t.Errorf("utf8 pool = %q, %d", p.String(0), len(p.String(1)))
	}
	// Modified UTF-8 (surrogate pairs as two 3-byte sequences).
	if got := decodeCESU8([]byte{0xed, 0xa0, 0xb4, 0xed, 0xb4, 0x9e}); got != "𝄞" {
		t.Errorf("CESU-8 decode = %q", got)
	}
}

// corpusFiles lists the androguard binary XML samples.
func corpusFiles(t testing.TB) []string {
	dir := testenv.AndroguardDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "axml", "*.xml"))
	if err != nil || len(files) == 0 {
		testenv.Missing(t, "androguard axml samples")
	}
	return files
}

func TestCorpusDecodes(t *testing.T) {
	for _, f := range corpusFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			d, err := DecodeDocument(b)
			if err != nil {
				// A clear, typed error is acceptable; a panic is not.
				if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrLimit) {
					t.Errorf("untyped error: %v", err)
				}
				return
			}
			if d.Root.Name == "" {
				t.Error("root element without name")
			}
			if filepath.Base(f) == "AndroidManifest_WrongChunkStart.xml" && len(d.Anomalies) == 0 {
				t.Error("zeroed document type not reported")
			}
		})
	}
}

// goldenDump is the golden-file form: anomalies then the element tree.
func goldenDump(d *Document) string {
	var b strings.Builder
	for _, a := range d.Anomalies {
		fmt.Fprintf(&b, "! %s\n", a)
	}
	b.WriteString(d.Root.String())
	return b.String()
}

// TestCorpusGolden pins the decoded structure of a few small corpus files,
// chosen for the tricks they play.
func TestCorpusGolden(t *testing.T) {
	dir := testenv.AndroguardDir(t)
	for _, name := range []string{
		"AndroidManifest.xml",              // plain
		"AndroidManifestWrongFilesize.xml", // bogus outer size
		"AndroidManifestNonZeroStyle.xml",  // style count set
	} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, "axml", name))
			if err != nil {
				testenv.Missing(t, name)
			}
			d, err := DecodeDocument(b)
			if err != nil {
				t.Fatal(err)
			}
			testenv.Golden(t, filepath.Join("testdata", "golden", strings.TrimSuffix(name, ".xml")+".txt"), []byte(goldenDump(d)), *update)
		})
	}
}

func BenchmarkDecodeCorpusManifest(b *testing.B) {
	dir := testenv.AndroguardDir(b)
	data, err := os.ReadFile(filepath.Join(dir, "axml", "AndroidManifestLiapp.xml"))
	if err != nil {
		testenv.Missing(b, "AndroidManifestLiapp.xml")
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	good, err := Encode(sampleManifest())
	if err != nil {
		f.Fatal(err)
	}
	u8, err := EncodeOptions{UTF8: true}.Encode(sampleManifest())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(u8)
	f.Add(good[:len(good)/2])
	f.Add([]byte{3, 0, 8, 0, 8, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := DecodeDocument(data)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrLimit) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		// Every element and attribute comes from a node of the input, so a
		// tree larger than the input means the decoder invented nodes.
		if n := countNodes(d.Root); n > len(data) {
			t.Fatalf("%d nodes decoded from %d bytes", n, len(data))
		}
		// Whatever decodes must re-encode and decode again.
		b, err := Encode(d.Root)
		if err != nil {
			return // names too long for a pool, too deep etc. are fine
		}
		root2, err := Decode(b)
		if err != nil {
			t.Fatalf("re-encoded tree does not decode: %v", err)
		}
		// Our own output is canonical: one more round trip must not change
		// a byte, or decoder and encoder disagree on some field.
		b2, err := Encode(root2)
		if err != nil {
			t.Fatalf("re-encoding a decoded canonical tree: %v", err)
		}
		if !bytes.Equal(b, b2) {
			t.Fatalf("encode(decode(x)) is not a fixed point: %d vs %d bytes", len(b), len(b2))
		}
	})
}

func countNodes(e *Element) int {
	n := 1 + len(e.Attrs)
	for _, c := range e.Children {
		n += countNodes(c)
	}
	return n
}
