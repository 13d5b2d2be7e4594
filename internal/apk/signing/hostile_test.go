package signing

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/apk/zipfs"
)

// block frames ID-value pairs as an APK Signing Block.
func block(pairs ...[]byte) []byte {
	var body []byte
	for _, p := range pairs {
		body = append(body, p...)
	}
	size := uint64(len(body) + 24)
	b := binary.LittleEndian.AppendUint64(nil, size)
	b = append(b, body...)
	b = binary.LittleEndian.AppendUint64(b, size)
	return append(b, blockMagic...)
}

func pair(id uint32, v []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(v)+4))
	b = binary.LittleEndian.AppendUint32(b, id)
	return append(b, v...)
}

func TestParseSigningBlockHostile(t *testing.T) {
	huge := binary.LittleEndian.AppendUint64(nil, 1<<62)
	huge = binary.LittleEndian.AppendUint32(huge, BlockIDV2)
	tests := []struct {
		name string
		b    []byte
		ok   bool
	}{
		{"empty block", block(), true},
		{"one pair", block(pair(BlockIDV2, []byte{1, 2, 3})), true},
		{"pair claiming 2^62 bytes", block(huge), false},
		{"pair shorter than its ID", block(binary.LittleEndian.AppendUint64(nil, 2)), false},
		{"truncated pair", block([]byte{1, 2, 3}), false},
		{"no magic", bytes.Repeat([]byte{0}, 40), false},
		{"sizes disagree", func() []byte {
			b := block(pair(1, nil))
			b[0]++
			return b
		}(), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSigningBlock(tc.b)
			if tc.ok != (err == nil) || err != nil && !errors.Is(err, ErrFormat) {
				t.Errorf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestSchemeBlockHostile feeds crafted v2/v3 blocks: every one must end in
// a scheme error, never a panic or a large allocation.
func TestSchemeBlockHostile(t *testing.T) {
	lp := func(b ...[]byte) []byte { return prefixedSeq(b...) }
	u32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	tests := []struct {
		name, want string
		val        []byte
	}{
		{"empty", "", nil},
		{"signers length past end", "exceeds", u32(1 << 31)},
		{"no signers", "no signers", lp(nil)},
		{"signer length past end", "exceeds", lp(u32(0xffffffff))},
		{"too many signers", "more than", lp(bytes.Repeat(lp(nil), maxSigners+1))},
		{"signer without fields", "truncated", lp(lp(nil))},
		// A block is lp(lp(signer...)), a signer lp(signed data, signatures, public key).
		{"no signatures", "no signatures", lp(lp(lp(nil, nil, nil)))},
		{"bad public key", "public key", lp(lp(lp(nil, lp(append(u32(algRSAPKCS1SHA256), lp(nil)...)), []byte("junk"))))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &Scheme{Name: SchemeV2}
			verifySchemeBlock(s, tc.val, false)
			if len(s.Errors) == 0 || !strings.Contains(s.Error(), tc.want) {
				t.Errorf("errors %q, want one containing %q", s.Errors, tc.want)
			}
		})
	}
}

func TestManifestParsing(t *testing.T) {
	long := strings.Repeat("x", 150)
	var b bytes.Buffer
	b.WriteString("Manifest-Version: 1.0\r\n\r\n")
	writeAttr(&b, "Name", long)
	writeAttr(&b, "SHA-256-Digest", "abc")
	b.WriteString("\r\n")
	b.WriteString("Name: lf-only\nSHA1-Digest: def\n\n")
	main, secs, err := parseManifest(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := main.get("manifest-version"); v != "1.0" || string(main.raw) != "Manifest-Version: 1.0\r\n\r\n" {
		t.Errorf("main section %q", main.raw)
	}
	if len(secs) != 2 || secs[0].name != long || secs[1].name != "lf-only" {
		t.Fatalf("sections %+v", secs)
	}
	if v, _ := secs[0].get("SHA-256-Digest"); v != "abc" || !bytes.HasSuffix(secs[0].raw, []byte("abc\r\n\r\n")) {
		t.Errorf("section 1 %q", secs[0].raw)
	}
	for _, bad := range []string{"Manifest-Version: 1.0\r\n\r\nno colon here\r\n", "Main: x\r\n\r\nFoo: bar\r\n", " continuation first\r\n"} {
		if _, _, err := parseManifest([]byte(bad)); !errors.Is(err, ErrFormat) {
			t.Errorf("parseManifest(%q) = %v", bad, err)
		}
	}
}

func FuzzSigningBlock(f *testing.F) {
	key, err := NewKey(KeySpec{Algorithm: "ecdsa"})
	if err != nil {
		f.Fatal(err)
	}
	signed, err := Sign(unsignedAPK(f), key, SignOptions{V2: true, V3: true})
	if err != nil {
		f.Fatal(err)
	}
	a, _ := zipfs.Open(bytes.NewReader(signed), int64(len(signed)), zipfs.Limits{})
	blk := findSigningBlock(a)
	whole := signed[blk.start:a.CentralDirectoryOffset]
	f.Add(whole)
	f.Add(block(pair(BlockIDV2, nil)))
	f.Add(block(pair(BlockIDV3, prefixedSeq(prefixedSeq(nil)))))
	// The scheme values alone: the fuzzer mutates their nested
	// length-prefixed sequences without first having to keep the outer
	// block's two size fields consistent.
	pairs, err := ParseSigningBlock(whole)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pairs[BlockIDV2])
	f.Add(pairs[BlockIDV3])
	schemes := map[uint32]string{BlockIDV2: SchemeV2, BlockIDV3: SchemeV3, BlockIDV31: SchemeV31}
	f.Fuzz(func(t *testing.T, b []byte) {
		pairs, err := ParseSigningBlock(b)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not match ErrFormat", err)
			}
			// Not a block: take the input as a V2 and a V3 value.
			verifySchemeBlock(&Scheme{Name: SchemeV2}, b, false)
			verifySchemeBlock(&Scheme{Name: SchemeV3}, b, false)
			return
		}
		n := 0
		for _, v := range pairs {
			n += len(v)
		}
		if n > len(b) {
			t.Fatalf("pair values total %d bytes from a %d-byte block", n, len(b))
		}
		for id, name := range schemes {
			if v, ok := pairs[id]; ok {
				verifySchemeBlock(&Scheme{Name: name}, v, false)
			}
		}
	})
}

// FuzzVerify runs the whole verifier on mutated signed APKs.
//
// Run it with -fuzzminimizetime 0: nearly every mutation of a whole APK is
// new coverage, and with the default the fuzzer spends each minute
// minimising one input (a 2-minute run made 5 executions).
func FuzzVerify(f *testing.F) {
	key, err := NewKey(KeySpec{Algorithm: "ecdsa"})
	if err != nil {
		f.Fatal(err)
	}
	for _, o := range []SignOptions{{V1: true}, {V1: true, V2: true, V3: true}} {
		signed, err := Sign(unsignedAPK(f), key, o)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(signed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := zipfs.Open(bytes.NewReader(b), int64(len(b)), zipfs.Limits{MaxEntrySize: 1 << 20, MaxTotalSize: 8 << 20})
		if err != nil {
			return
		}
		r, err := Verify(context.Background(), a)
		if err != nil || len(r.Schemes) != 4 {
			t.Fatalf("Verify: %v", err)
		}
	})
}

// FuzzJAR feeds the JAR parsers: manifests and PKCS #7 signature blocks.
func FuzzJAR(f *testing.F) {
	key, err := NewKey(KeySpec{Algorithm: "ecdsa"})
	if err != nil {
		f.Fatal(err)
	}
	signed, err := Sign(unsignedAPK(f), key, SignOptions{V1: true})
	if err != nil {
		f.Fatal(err)
	}
	a, _ := zipfs.Open(bytes.NewReader(signed), int64(len(signed)), zipfs.Limits{})
	for _, n := range []string{"META-INF/MANIFEST.MF", "META-INF/CERT.SF", "META-INF/CERT.EC"} {
		b, err := a.ReadFile(n, 0)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if main, secs, err := parseManifest(b); err == nil {
			n := len(main.raw)
			for _, s := range secs {
				n += len(s.raw)
			}
			if n > len(b) {
				t.Fatalf("sections cover %d of %d bytes", n, len(b))
			}
		}
		if p7, err := parsePKCS7(b); err == nil {
			var sg Signer
			_ = verifyPKCS7(&sg, p7, []byte("signature file"))
		}
	})
}
