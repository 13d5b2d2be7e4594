package signing

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/apk/zipfs"
)

// unsignedAPK builds a small APK-shaped zip.
func unsignedAPK(t testing.TB, extra ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	files := []struct {
		name string
		data []byte
	}{
		{"AndroidManifest.xml", bytes.Repeat([]byte{3, 0, 8, 0}, 200)},
		{"classes.dex", append([]byte("dex\n035\x00"), bytes.Repeat([]byte("code"), 500)...)},
		{"res/layout/main.xml", []byte("layout")},
		{"assets/" + strings.Repeat("long-name-", 10) + ".txt", []byte("a name that needs wrapping in the manifest")},
	}
	for _, n := range extra {
		files = append(files, struct {
			name string
			data []byte
		}{n, []byte(n)})
	}
	for _, f := range files {
		fw, err := w.Create(f.name)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(f.data)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func verifyBytes(t testing.TB, b []byte) *Result {
	t.Helper()
	a, err := zipfs.Open(bytes.NewReader(b), int64(len(b)), zipfs.Limits{})
	if err != nil {
		t.Fatalf("zipfs.Open: %v", err)
	}
	r, err := Verify(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// keys are generated once: RSA generation is slow.
type testKeys struct{ rsa, ec *Key }

func newTestKeys(t testing.TB) testKeys {
	t.Helper()
	r, err := NewKey(KeySpec{Algorithm: "rsa", Bits: 2048, Subject: pkix.Name{CommonName: "Test RSA", Organization: []string{"dfslab"}}})
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewKey(KeySpec{Algorithm: "ecdsa", Bits: 256})
	if err != nil {
		t.Fatal(err)
	}
	return testKeys{r, e}
}

func TestSignAndVerify(t *testing.T) {
	keys := newTestKeys(t)
	apk := unsignedAPK(t)
	for _, k := range []struct {
		name string
		key  *Key
	}{{"rsa", keys.rsa}, {"ecdsa", keys.ec}} {
		for _, opts := range []SignOptions{
			{V1: true}, {V2: true}, {V3: true}, {V1: true, V2: true}, {V2: true, V3: true}, {V1: true, V2: true, V3: true},
		} {
			var want []string
			for s, on := range map[string]bool{SchemeV1: opts.V1, SchemeV2: opts.V2, SchemeV3: opts.V3} {
				if on {
					want = append(want, s)
				}
			}
			slices.Sort(want)
			t.Run(k.name+"-"+strings.Join(want, "+"), func(t *testing.T) {
				signed, err := Sign(apk, k.key, opts)
				if err != nil {
					t.Fatal(err)
				}
				r := verifyBytes(t, signed)
				var got []string
				for _, s := range r.Schemes {
					if s.Present {
						got = append(got, s.Name)
						if !s.Verified {
							t.Errorf("%s: %s", s.Name, s.Error())
						}
					}
				}
				if !slices.Equal(got, want) || !r.Verified() {
					t.Fatalf("present %v, want %v; verified %v", got, want, r.Verified())
				}
				sum := sha256.Sum256(k.key.Cert.Raw)
				if len(r.Certificates) != 1 || r.Certificates[0].SHA256 != hex.EncodeToString(sum[:]) {
					t.Fatalf("certificates %+v", r.Certificates)
				}
				if c := r.Certificates[0]; !slices.Equal(c.Schemes, want) {
					t.Errorf("certificate schemes %v, want %v", c.Schemes, want)
				}
				if opts.V3 {
					if s := r.Scheme(SchemeV3).Signers[0]; s.MinSDK != 28 || s.MaxSDK != 0x7fffffff {
						t.Errorf("v3 SDK range [%d,%d]", s.MinSDK, s.MaxSDK)
					}
				}
			})
		}
	}
}

func TestCertificateDescription(t *testing.T) {
	nb := time.Date(2010, 1, 2, 3, 4, 5, 0, time.UTC)
	k, err := NewKey(KeySpec{
		Algorithm: "ecdsa", Bits: 384, Subject: pkix.Name{CommonName: "Android Debug", Organization: []string{"Android"}, Country: []string{"US"}},
		NotBefore: nb, NotAfter: nb.AddDate(1, 0, 0), CertSignatureAlgorithm: x509.ECDSAWithSHA384,
	})
	if err != nil {
		t.Fatal(err)
	}
	signed, err := Sign(unsignedAPK(t), k, SignOptions{V2: true})
	if err != nil {
		t.Fatal(err)
	}
	c := verifyBytes(t, signed).Certificates[0]
	want := Certificate{
		Subject: "CN=Android Debug,O=Android,C=US", Issuer: "CN=Android Debug,O=Android,C=US", Serial: "1",
		NotBefore: nb, NotAfter: nb.AddDate(1, 0, 0), KeyAlgorithm: "EC", KeyBits: 384, SignatureAlgorithm: "ECDSA-SHA384",
	}
	got := c
	got.SHA256, got.Schemes, got.Cert, got.Raw = "", nil, nil, nil
	if got.Subject != want.Subject || got.Issuer != want.Issuer || got.Serial != want.Serial || !got.NotBefore.Equal(want.NotBefore) ||
		!got.NotAfter.Equal(want.NotAfter) || got.KeyAlgorithm != want.KeyAlgorithm || got.KeyBits != want.KeyBits || got.SignatureAlgorithm != want.SignatureAlgorithm {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

// TestTampering changes signed APKs the way attackers and careless tools
// do; every change must break the affected schemes.
func TestTampering(t *testing.T) {
	keys := newTestKeys(t)
	apk := unsignedAPK(t)
	all, err := Sign(apk, keys.rsa, SignOptions{V1: true, V2: true, V3: true})
	if err != nil {
		t.Fatal(err)
	}
	v1only, err := Sign(apk, keys.rsa, SignOptions{V1: true})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := zipfs.Open(bytes.NewReader(all), int64(len(all)), zipfs.Limits{})
	dex := a.Lookup("classes.dex")
	blk := findSigningBlock(a)

	tests := []struct {
		name   string
		apk    func() []byte
		broken []string // schemes that must be present and fail
		ok     []string // schemes that must still verify
		errSub string
	}{
		{name: "entry byte flipped", apk: func() []byte {
			b := bytes.Clone(all)
			b[dex.DataOffset+3] ^= 1
			return b
		}, broken: []string{SchemeV2, SchemeV3}, errSub: "content digest"},
		{name: "signing block removed", apk: func() []byte {
			b := slices.Concat(all[:blk.start], all[a.CentralDirectoryOffset:])
			binary.LittleEndian.PutUint32(b[a.EOCDOffset-(a.CentralDirectoryOffset-blk.start)+16:], uint32(blk.start))
			return b
		}, broken: []string{SchemeV1}, errSub: "stripped"},
		{name: "v3 block renamed", apk: func() []byte {
			b := bytes.Clone(all)
			i := bytes.Index(b[blk.start:], binary.LittleEndian.AppendUint32(nil, BlockIDV3))
			binary.LittleEndian.PutUint32(b[blk.start+int64(i):], 0x42726577)
			return b
		}, broken: []string{SchemeV2}, errSub: "stripped"},
		{name: "entry added after v1 signing", apk: func() []byte {
			r, _ := zip.NewReader(bytes.NewReader(v1only), int64(len(v1only)))
			var buf bytes.Buffer
			w := zip.NewWriter(&buf)
			for _, f := range r.File {
				w.Copy(f)
			}
			fw, _ := w.Create("assets/payload.bin")
			fw.Write([]byte("evil"))
			w.Close()
			return buf.Bytes()
		}, broken: []string{SchemeV1}, errSub: "not in MANIFEST.MF"},
		{name: "manifest digest changed", apk: func() []byte {
			b := bytes.Clone(v1only)
			// Corrupting the stored signature file breaks the PKCS #7 check.
			a1, _ := zipfs.Open(bytes.NewReader(b), int64(len(b)), zipfs.Limits{})
			sf := a1.Lookup("META-INF/CERT.SF")
			b[sf.DataOffset+sf.CompressedSize/2] ^= 0x10
			return b
		}, broken: []string{SchemeV1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := verifyBytes(t, tc.apk())
			if r.Verified() {
				t.Fatal("tampered APK verifies")
			}
			for _, s := range tc.broken {
				sc := r.Scheme(s)
				if !sc.Present || sc.Verified {
					t.Errorf("%s present=%v verified=%v", s, sc.Present, sc.Verified)
				}
				if tc.errSub != "" && !strings.Contains(sc.Error(), tc.errSub) {
					t.Errorf("%s error %q lacks %q", s, sc.Error(), tc.errSub)
				}
			}
		})
	}
}

func TestUnsigned(t *testing.T) {
	r := verifyBytes(t, unsignedAPK(t))
	if r.Signed() || r.Verified() || len(r.Certificates) != 0 {
		t.Fatalf("unsigned APK: signed=%v verified=%v", r.Signed(), r.Verified())
	}
}
