package dex

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"strconv"
	"testing"

	"github.com/dfslab/dfslab/internal/dex/dexbuild"
)

// sample is a small valid DEX used as the base of hostile mutations.
func sample(t testing.TB) ([]byte, *File) {
	t.Helper()
	b := dexbuild.New()
	b.Class("Lcom/app/I;").Implements("Ljava/lang/Runnable;")
	c := b.Class("Lcom/app/C;").Field("f", "I", 0)
	c.Method("m", "()V").CallStatic("Ljavax/crypto/Cipher;->getInstance(Ljava/lang/String;)Ljavax/crypto/Cipher;", dexbuild.Str("DES"))
	c.Method("n", "()V").CallStatic("Lcom/x/Y;->f([B)V", dexbuild.Bytes([]byte{1, 2, 3}))
	data := b.MustBytes()
	f, err := Parse(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	return data, f
}

var le = binary.LittleEndian

func TestHostileHeaders(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(d []byte, f *File) []byte
		lim    *Limits
		want   error
	}{
		{"empty", func(d []byte, f *File) []byte { return nil }, nil, ErrTruncated},
		{"bad magic", func(d []byte, f *File) []byte { copy(d, "dey\n035\x00"); return d }, nil, ErrMagic},
		{"version 036", func(d []byte, f *File) []byte { copy(d[4:], "036"); return d }, nil, ErrMagic},
		{"version 099", func(d []byte, f *File) []byte { copy(d[4:], "099"); return d }, nil, ErrMagic},
		{"big endian tag", func(d []byte, f *File) []byte { le.PutUint32(d[40:], 0x78563412); return d }, nil, ErrFormat},
		{"truncated file", func(d []byte, f *File) []byte { return d[:len(d)/2] }, nil, ErrTruncated},
		{"2^31 strings", func(d []byte, f *File) []byte { le.PutUint32(d[56:], 1<<31); return d }, nil, ErrOutOfRange},
		{"string table wraps", func(d []byte, f *File) []byte {
			le.PutUint32(d[56:], 0x40000000)
			le.PutUint32(d[60:], 0xfffffff0)
			return d
		}, nil, ErrOutOfRange},
		{"string table in header", func(d []byte, f *File) []byte { le.PutUint32(d[60:], 0x10); return d }, nil, ErrOutOfRange},
		{"string limit", func(d []byte, f *File) []byte { return d }, &Limits{MaxStrings: 3}, ErrLimit},
		{"file size limit", func(d []byte, f *File) []byte { return d }, &Limits{MaxFileSize: 100}, ErrLimit},
		{"class limit", func(d []byte, f *File) []byte { return d }, &Limits{MaxClasses: 1}, ErrLimit},
		{"string data outside", func(d []byte, f *File) []byte {
			le.PutUint32(d[f.Header.Strings.Off:], uint32(len(d))+100)
			return d
		}, nil, ErrOutOfRange},
		{"string without terminator", func(d []byte, f *File) []byte {
			le.PutUint32(d[f.Header.Strings.Off:], uint32(len(d))-2)
			d[len(d)-2], d[len(d)-1] = 1, 'x'
			return d
		}, nil, ErrTruncated},
		{"overlong uleb128 length", func(d []byte, f *File) []byte {
			le.PutUint32(d[f.Header.Strings.Off:], uint32(len(d))-5)
			copy(d[len(d)-5:], []byte{0xff, 0xff, 0xff, 0xff, 0xff})
			return d
		}, nil, ErrTruncated},
		{"type names missing string", func(d []byte, f *File) []byte {
			le.PutUint32(d[f.Header.Types.Off:], 0xfffffff)
			return d
		}, nil, ErrOutOfRange},
		{"method names missing proto", func(d []byte, f *File) []byte {
			le.PutUint16(d[f.Header.Methods.Off+2:], 0xffff)
			return d
		}, nil, ErrOutOfRange},
		{"interfaces outside", func(d []byte, f *File) []byte {
			for i := range f.Classes() {
				le.PutUint32(d[f.Header.ClassDefs.Off+32*uint32(i)+12:], 0xfffffff0)
			}
			return d
		}, nil, ErrOutOfRange},
		{"type list claims 2^31 entries", func(d []byte, f *File) []byte {
			for i := range f.Classes() {
				if off := le.Uint32(d[f.Header.ClassDefs.Off+32*uint32(i)+12:]); off != 0 {
					le.PutUint32(d[off:], 1<<31)
				}
			}
			return d
		}, nil, ErrTruncated},
		{"superclass out of range", func(d []byte, f *File) []byte {
			le.PutUint32(d[f.Header.ClassDefs.Off+8:], 0xfffe)
			return d
		}, nil, ErrOutOfRange},
		{"map list claims 2^30 items", func(d []byte, f *File) []byte {
			le.PutUint32(d[f.Header.MapOff:], 1<<30)
			return d
		}, nil, ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, f := sample(t)
			d = tt.mutate(d, f)
			_, err := Parse(d, tt.lim)
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrFormat) {
				t.Fatalf("error %q does not match %v and ErrFormat", err, tt.want)
			}
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Section == "" {
				t.Errorf("error %v is not a located *FormatError", err)
			}
		})
	}
}

func TestHostileClassDataAndCode(t *testing.T) {
	// Each mutation leaves the tables valid and breaks class data or code,
	// which is read lazily; the analysis must report it and carry on.
	tests := []struct {
		name   string
		mutate func(d []byte, f *File, codeM, codeN uint32)
		want   error
	}{
		{"class data claims 2^28 methods", func(d []byte, f *File, _, _ uint32) {
			c, _ := f.Class("Lcom/app/C;")
			copy(d[c.dataOff:], []byte{0, 0, 0x80, 0x80, 0x80, 0x80, 0x01})
		}, ErrLimit},
		{"code item with 2^31 units", func(d []byte, f *File, m, _ uint32) {
			le.PutUint32(d[m+12:], 1<<31)
		}, ErrLimit},
		{"code item past the end", func(d []byte, f *File, m, _ uint32) {
			le.PutUint32(d[m+12:], 1<<20)
		}, ErrTruncated},
		{"fill-array-data payload outside the code", func(d []byte, f *File, _, n uint32) {
			// Method n: const/4, new-array, fill-array-data at unit 3.
			le.PutUint32(d[n+16+2*4:], 0x7ffffff0)
		}, ErrOutOfRange},
		{"fill-array-data payload too large", func(d []byte, f *File, _, n uint32) {
			off := int32(le.Uint32(d[n+16+2*4:]))
			p := n + 16 + 2*(3+uint32(off))
			le.PutUint32(d[p+4:], 0xffffffff) // element count
		}, ErrTruncated},
		{"invoke of a method beyond the table", func(d []byte, f *File, m, _ uint32) {
			le.PutUint16(d[m+16+2*3:], 0xfff0) // const-string (2 units), then invoke's method index
		}, ErrOutOfRange},
		{"const-string beyond the table", func(d []byte, f *File, m, _ uint32) {
			le.PutUint16(d[m+16+2:], 0xfff0)
		}, ErrOutOfRange},
		{"instruction cut by the end of code", func(d []byte, f *File, m, _ uint32) {
			le.PutUint32(d[m+12:], 4) // const-string + first 2 units of the invoke
		}, ErrTruncated},
		{"invoke with seven registers in a 35c", func(d []byte, f *File, m, _ uint32) {
			d[m+16+4+1] = 0x70
		}, ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, f := sample(t)
			c, _ := f.Class("Lcom/app/C;")
			cd, err := f.ClassData(c)
			if err != nil {
				t.Fatal(err)
			}
			var codeM, codeN uint32
			for _, em := range cd.VirtualMethods {
				switch f.Method(em.Method).Name {
				case "m":
					codeM = em.CodeOff
				case "n":
					codeN = em.CodeOff
				}
			}
			tt.mutate(d, f, codeM, codeN)
			f2, err := Parse(d, nil)
			if err != nil {
				t.Fatalf("Parse: %v (the mutation should only hit lazily read data)", err)
			}
			errs := analyzeFiles(f2).Errors()
			if len(errs) == 0 {
				t.Fatal("no analysis error reported")
			}
			if !errors.Is(errs[0], tt.want) || !errors.Is(errs[0], ErrFormat) {
				t.Errorf("error %q does not match %v", errs[0], tt.want)
			}
		})
	}
}

func TestCyclicHierarchyTerminates(t *testing.T) {
	// A extends B in one file and B extends A in another: the writer
	// cannot produce a cycle within one file, but multidex can.
	one, two := dexbuild.New(), dexbuild.New()
	one.Class("Lcyc/A;").Extends("Lcyc/B;").Implements("Lcyc/IA;").Method("f", "()V")
	one.Class("Lcyc/IA;").Implements("Lcyc/IB;")
	two.Class("Lcyc/B;").Extends("Lcyc/A;").Method("g", "()V").CallVirtual("Lcyc/B;->h()V", dexbuild.Reg(0))
	two.Class("Lcyc/IB;").Implements("Lcyc/IA;")
	p := mustProgram(t, one, two)
	// The program answers one step at a time, so a walk that follows it
	// (internal/apk's hierarchy) meets the cycle and can stop there.
	if s, ok := p.Super("Lcyc/A;"); !ok || s != "Lcyc/B;" {
		t.Errorf("Super(A) = %q %v", s, ok)
	}
	if s, ok := p.Super("Lcyc/B;"); !ok || s != "Lcyc/A;" {
		t.Errorf("Super(B) = %q %v", s, ok)
	}
	if got := p.Interfaces("Lcyc/IB;"); len(got) != 1 || got[0] != "Lcyc/IA;" {
		t.Errorf("Interfaces(IB) = %q", got)
	}
	if errs := analyzeFiles(p.Files...).Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
}

// TestHostileBoundedMemory checks that headers and items claiming huge
// counts are refused before anything proportional to the claim is
// allocated: the whole Parse may allocate only a small multiple of the
// input.
func TestHostileBoundedMemory(t *testing.T) {
	mutations := map[string]func(d []byte, f *File){
		"2^31 strings":   func(d []byte, f *File) { le.PutUint32(d[56:], 1<<31) },
		"2^31 classes":   func(d []byte, f *File) { le.PutUint32(d[96:], 1<<31) },
		"2^30 map items": func(d []byte, f *File) { le.PutUint32(d[f.Header.MapOff:], 1<<30) },
		"2^31 interfaces": func(d []byte, f *File) {
			for i := range f.Classes() {
				if off := le.Uint32(d[f.Header.ClassDefs.Off+32*uint32(i)+12:]); off != 0 {
					le.PutUint32(d[off:], 1<<31)
				}
			}
		},
	}
	for name, mutate := range mutations {
		t.Run(name, func(t *testing.T) {
			d, f := sample(t)
			mutate(d, f)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := Parse(d, nil)
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(64<<10+8*len(d)); got > limit {
				t.Errorf("Parse allocated %d bytes for a %d-byte file (limit %d)", got, len(d), limit)
			}
		})
	}
}

// TestSharedClassDataIsBudgeted points thousands of class definitions at
// the class_data of one class with a large method: without a work budget
// the analysis would cost (classes × method size), quadratic in the file.
func TestSharedClassDataIsBudgeted(t *testing.T) {
	b := dexbuild.New()
	big := b.Class("Lbig/Big;").Method("m", "()V")
	big.CallStatic("Lx/Y;->f(Ljava/lang/String;)V", dexbuild.Str("s")).Repeat(4000)
	const classes = 3000
	for i := range classes {
		b.Class("Lsmall/C" + strconv.Itoa(i) + ";")
	}
	d := b.MustBytes()
	f, err := Parse(d, nil)
	if err != nil {
		t.Fatal(err)
	}
	bc, _ := f.Class("Lbig/Big;")
	for i := range f.Classes() {
		le.PutUint32(d[f.Header.ClassDefs.Off+32*uint32(i)+24:], bc.dataOff)
	}
	f, err = Parse(d, nil)
	if err != nil {
		t.Fatal(err)
	}
	x := analyzeFiles(f)
	limited := false
	for _, e := range x.Errors() {
		limited = limited || errors.Is(e, ErrLimit)
	}
	if !limited {
		t.Error("no ErrLimit reported for shared class data")
	}
	n := len(x.CallsTo(MethodRef{Class: "Lx/Y;", Name: "f"}))
	if max := int(NewBudget(f).left.Load()/4000+1) * 4000; n == 0 || n > max {
		t.Errorf("%d call sites recorded, want between 1 and %d (the budget)", n, max)
	}
}

func TestVerifyChecksum(t *testing.T) {
	d, f := sample(t)
	if err := f.VerifyChecksum(); err != nil {
		t.Fatalf("fresh file: %v", err)
	}
	i := bytes.Index(d, []byte("DES"))
	d[i] = 'X'
	f, err := Parse(d, nil)
	if err != nil {
		t.Fatal(err) // Parse does not insist on the checksum
	}
	if err := f.VerifyChecksum(); !errors.Is(err, ErrChecksum) || !errors.Is(err, ErrFormat) {
		t.Errorf("VerifyChecksum after corruption = %v, want ErrChecksum", err)
	}
}

func TestTrailingBytesTolerated(t *testing.T) {
	// file_size smaller than the buffer: the rest is ignored, as for a DEX
	// embedded in a larger container; larger than the buffer is truncation.
	d, _ := sample(t)
	f, err := Parse(append(d, make([]byte, 100)...), nil)
	if err != nil {
		t.Fatalf("trailing bytes: %v", err)
	}
	if int(f.Header.FileSize) != len(d) {
		t.Errorf("FileSize = %d, want %d", f.Header.FileSize, len(d))
	}
}
