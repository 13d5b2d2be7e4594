package dexbuild

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"hash/adler32"
	"testing"
)

func TestHeaderChecksumAndSignature(t *testing.T) {
	b := New()
	b.Class("Lcom/app/C;").Method("m", "()V").CallStatic(
		"Ljavax/crypto/Cipher;->getInstance(Ljava/lang/String;)Ljavax/crypto/Cipher;",
		Str("AES/ECB/PKCS5Padding"))
	d, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	if !bytes.Equal(d[:8], []byte("dex\n035\x00")) {
		t.Errorf("magic = %q", d[:8])
	}
	if got := le.Uint32(d[32:]); int(got) != len(d) {
		t.Errorf("file_size = %d, len = %d", got, len(d))
	}
	if got, want := le.Uint32(d[8:]), adler32.Checksum(d[12:]); got != want {
		t.Errorf("checksum = %#x, want %#x", got, want)
	}
	if sig := sha1.Sum(d[32:]); !bytes.Equal(sig[:], d[12:32]) {
		t.Errorf("signature mismatch")
	}
	if !bytes.Contains(d, []byte("AES/ECB/PKCS5Padding\x00")) {
		t.Errorf("string data missing")
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name  string
		build func(b *Builder)
	}{
		{"bad method ref", func(b *Builder) { b.Class("LC;").Method("m", "()V").Invoke(InvokeStatic, "nonsense") }},
		{"bad proto", func(b *Builder) { b.Class("LC;").Method("m", "(Q)V") }},
		{"arg count", func(b *Builder) { b.Class("LC;").Method("m", "()V").CallStatic("LX;->f(I)V") }},
		{"cycle", func(b *Builder) { b.Class("LA;").Extends("LB;"); b.Class("LB;").Extends("LA;") }},
		{"range not consecutive", func(b *Builder) {
			b.Class("LC;").Method("m", "()V").Invoke(InvokeStatic, "LX;->f(IIIIII)V", 0, 1, 2, 3, 4, 6)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New()
			tt.build(b)
			if _, err := b.Bytes(); err == nil {
				t.Fatal("Bytes succeeded, want an error")
			}
		})
	}
}

func TestStringOrderUTF16(t *testing.T) {
	// U+FFFD sorts after a supplementary character in UTF-8 byte order
	// comparisons of code points, but before it in UTF-16 (surrogates are
	// 0xD800..0xDFFF < 0xFFFD).
	if compareUTF16("\U0001F600", "\uFFFD") >= 0 {
		t.Error("supplementary character must sort before U+FFFD in UTF-16 order")
	}
	if compareUTF16("a", "b") >= 0 || compareUTF16("", "a") >= 0 {
		t.Error("ASCII order broken")
	}
}

func TestMUTF8(t *testing.T) {
	enc, n := mutf8("a\x00\u00e9\U0001F600")
	want := []byte{'a', 0xc0, 0x80, 0xc3, 0xa9, 0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80}
	if !bytes.Equal(enc, want) || n != 5 {
		t.Errorf("mutf8 = % x (%d units), want % x (5)", enc, n, want)
	}
}

func TestBytesIsRepeatable(t *testing.T) {
	b := New()
	b.Class("LC;").Method("get", "()Ljava/lang/String;").ConstString(0, "x")
	one, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	two, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(one, two) {
		t.Error("a second Bytes call produced a different file")
	}
}
