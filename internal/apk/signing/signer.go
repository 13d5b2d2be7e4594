package signing

import (
	"archive/zip"
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"path"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/apk/zipfs"
)

// This file is a signer for tests: other packages build APKs in Go and sign
// them with it, then check what the scanner says. It is not meant to sign
// releases (no alignment, no source stamp, no v4).
//
//	key, err := signing.NewKey(signing.KeySpec{Algorithm: "rsa", Bits: 2048})
//	signed, err := signing.Sign(unsignedAPK, key, signing.SignOptions{V1: true, V2: true, V3: true})
//
// KeySpec sets the certificate's subject, validity and signature algorithm,
// so tests can produce a debug certificate, an expired one or a SHA-1 one.

// Key is a signing key and its certificate.
type Key struct {
	Signer crypto.Signer // *rsa.PrivateKey or *ecdsa.PrivateKey
	Cert   *x509.Certificate
}

// KeySpec describes a key and self-signed certificate to generate.
type KeySpec struct {
	Algorithm string // "rsa" (default) or "ecdsa"
	// Bits is the RSA modulus size (default 2048) or the ECDSA curve size
	// (256, 384 or 521; default 256).
	Bits int
	// Subject defaults to CN=dfslab test signer.
	Subject pkix.Name
	// NotBefore and NotAfter default to one hour ago and 30 years later.
	NotBefore, NotAfter time.Time
	// CertSignatureAlgorithm is the algorithm of the certificate's own
	// signature (default: Go's choice for the key, SHA-256 based).
	CertSignatureAlgorithm x509.SignatureAlgorithm
	Serial                 *big.Int // default 1
	Rand                   io.Reader
}

// NewKey generates a key and a self-signed certificate.
func NewKey(spec KeySpec) (*Key, error) {
	rnd := spec.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	var signer crypto.Signer
	var err error
	switch strings.ToLower(spec.Algorithm) {
	case "", "rsa":
		bits := spec.Bits
		if bits == 0 {
			bits = 2048
		}
		signer, err = rsa.GenerateKey(rnd, bits)
	case "ec", "ecdsa":
		var c elliptic.Curve
		switch spec.Bits {
		case 0, 256:
			c = elliptic.P256()
		case 384:
			c = elliptic.P384()
		case 521:
			c = elliptic.P521()
		default:
			return nil, fmt.Errorf("signing: no ECDSA curve of %d bits", spec.Bits)
		}
		signer, err = ecdsa.GenerateKey(c, rnd)
	default:
		return nil, fmt.Errorf("signing: key algorithm %q: use rsa or ecdsa", spec.Algorithm)
	}
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:       spec.Serial,
		Subject:            spec.Subject,
		NotBefore:          spec.NotBefore,
		NotAfter:           spec.NotAfter,
		SignatureAlgorithm: spec.CertSignatureAlgorithm,
	}
	if tmpl.SerialNumber == nil {
		tmpl.SerialNumber = big.NewInt(1)
	}
	if len(tmpl.Subject.Names) == 0 && tmpl.Subject.CommonName == "" && len(tmpl.Subject.Organization) == 0 {
		tmpl.Subject = pkix.Name{CommonName: "dfslab test signer"}
	}
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = tmpl.NotBefore.AddDate(30, 0, 0)
	}
	der, err := x509.CreateCertificate(rnd, tmpl, tmpl, signer.Public(), signer)
	if err != nil {
		return nil, fmt.Errorf("signing: self-signed certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Key{Signer: signer, Cert: cert}, nil
}

// SignOptions selects the schemes Sign applies.
type SignOptions struct {
	V1, V2, V3 bool
	// V1Digest is the JAR digest algorithm (default SHA-256).
	V1Digest crypto.Hash
	// V3MinSDK and V3MaxSDK bound the v3 signer (default 28 and
	// 0x7fffffff, as apksigner does).
	V3MinSDK, V3MaxSDK uint32
	// V1Name is the base name of the JAR signature files (default CERT).
	V1Name string
	Rand   io.Reader
}

// Sign returns apk signed with key under the selected schemes. Existing JAR
// signature files and APK Signing Block are dropped first.
func Sign(apk []byte, key *Key, opts SignOptions) ([]byte, error) {
	if !opts.V1 && !opts.V2 && !opts.V3 {
		return nil, errors.New("signing: no scheme selected")
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.V1Digest == 0 {
		opts.V1Digest = crypto.SHA256
	}
	if opts.V3MinSDK == 0 {
		opts.V3MinSDK = 28
	}
	if opts.V3MaxSDK == 0 {
		opts.V3MaxSDK = 0x7fffffff
	}
	if opts.V1Name == "" {
		opts.V1Name = "CERT"
	}
	a, err := zipfs.Open(bytes.NewReader(apk), int64(len(apk)), zipfs.Limits{})
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	var mf, sfBody bytes.Buffer
	mf.WriteString("Manifest-Version: 1.0\r\nCreated-By: 1.0 (dfslab test signer)\r\n\r\n")
	dname := digestName(opts.V1Digest)
	for _, e := range a.Entries {
		if isV1SigFile(e.Name) {
			continue
		}
		if opts.V1 && !e.IsDir() {
			h := opts.V1Digest.New()
			rc, err := e.Open()
			if err != nil {
				return nil, err
			}
			_, err = io.Copy(h, rc)
			rc.Close()
			if err != nil {
				return nil, err
			}
			start := mf.Len()
			writeAttr(&mf, "Name", e.Name)
			writeAttr(&mf, dname+"-Digest", base64.StdEncoding.EncodeToString(h.Sum(nil)))
			mf.WriteString("\r\n")
			sh := opts.V1Digest.New()
			sh.Write(mf.Bytes()[start:])
			writeAttr(&sfBody, "Name", e.Name)
			writeAttr(&sfBody, dname+"-Digest", base64.StdEncoding.EncodeToString(sh.Sum(nil)))
			sfBody.WriteString("\r\n")
		}
		raw, err := e.OpenRaw()
		if err != nil {
			return nil, err
		}
		w, err := zw.CreateRaw(&zip.FileHeader{
			Name: e.Name, Method: e.Method, CRC32: e.CRC32,
			CompressedSize64: uint64(e.CompressedSize), UncompressedSize64: uint64(e.UncompressedSize),
		})
		if err != nil {
			return nil, err
		}
		if _, err := io.Copy(w, raw); err != nil {
			return nil, err
		}
	}
	if opts.V1 {
		var sf bytes.Buffer
		sf.WriteString("Signature-Version: 1.0\r\nCreated-By: 1.0 (dfslab test signer)\r\n")
		sum := func(b []byte) string {
			h := opts.V1Digest.New()
			h.Write(b)
			return base64.StdEncoding.EncodeToString(h.Sum(nil))
		}
		writeAttr(&sf, dname+"-Digest-Manifest", sum(mf.Bytes()))
		mainEnd := bytes.Index(mf.Bytes(), []byte("\r\n\r\n")) + 4
		writeAttr(&sf, dname+"-Digest-Manifest-Main-Attributes", sum(mf.Bytes()[:mainEnd]))
		var ids []string
		if opts.V2 {
			ids = append(ids, "2")
		}
		if opts.V3 {
			ids = append(ids, "3")
		}
		if len(ids) > 0 {
			// Anti-stripping: a verifier that sees this must find those
			// schemes too.
			writeAttr(&sf, "X-Android-APK-Signed", strings.Join(ids, ", "))
		}
		sf.WriteString("\r\n")
		sf.Write(sfBody.Bytes())
		block, ext, err := jarSignatureBlock(key, opts.V1Digest, sf.Bytes(), opts.Rand)
		if err != nil {
			return nil, err
		}
		for _, f := range []struct {
			name string
			data []byte
		}{{"META-INF/MANIFEST.MF", mf.Bytes()}, {"META-INF/" + opts.V1Name + ".SF", sf.Bytes()}, {"META-INF/" + opts.V1Name + ext, block}} {
			w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate})
			if err != nil {
				return nil, err
			}
			w.Write(f.data)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if !opts.V2 && !opts.V3 {
		return out.Bytes(), nil
	}
	return addSigningBlock(out.Bytes(), key, opts)
}

func isV1SigFile(name string) bool {
	dir, file := path.Split(name)
	if dir != "META-INF/" {
		return false
	}
	if file == "MANIFEST.MF" {
		return true
	}
	switch strings.ToUpper(path.Ext(file)) {
	case ".SF", ".RSA", ".DSA", ".EC":
		return true
	}
	return strings.HasPrefix(file, "SIG-")
}

func digestName(h crypto.Hash) string {
	switch h {
	case crypto.MD5:
		return "MD5"
	case crypto.SHA1:
		return "SHA1"
	case crypto.SHA224:
		return "SHA-224"
	case crypto.SHA256:
		return "SHA-256"
	case crypto.SHA384:
		return "SHA-384"
	case crypto.SHA512:
		return "SHA-512"
	}
	return h.String()
}

func jarSignatureBlock(key *Key, h crypto.Hash, sf []byte, rnd io.Reader) ([]byte, string, error) {
	d := h.New()
	d.Write(sf)
	var oid asn1.ObjectIdentifier
	ext := ".RSA"
	switch key.Signer.Public().(type) {
	case *rsa.PublicKey:
		oid = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	case *ecdsa.PublicKey:
		oid, ext = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}, ".EC"
	default:
		return nil, "", fmt.Errorf("%w: key %T", ErrUnsupported, key.Signer.Public())
	}
	sig, err := key.Signer.Sign(rnd, d.Sum(nil), h)
	if err != nil {
		return nil, "", err
	}
	b, err := buildPKCS7(key.Cert.Raw, key.Cert.RawIssuer, key.Cert.SerialNumber, h, oid, sig)
	return b, ext, err
}

// Block IDs inside the APK Signing Block.
const (
	BlockIDV2  = 0x7109871a
	BlockIDV3  = 0xf05368c0
	BlockIDV31 = 0x1b93ad61

	attrStrippingProtection = 0xbeeff00d
	attrLineage             = 0x3ba06f8c
	blockMagic              = "APK Sig Block 42"
)

func addSigningBlock(apk []byte, key *Key, opts SignOptions) ([]byte, error) {
	a, err := zipfs.Open(bytes.NewReader(apk), int64(len(apk)), zipfs.Limits{})
	if err != nil {
		return nil, err
	}
	alg := uint32(algRSAPKCS1SHA256)
	if _, ok := key.Signer.Public().(*ecdsa.PublicKey); ok {
		alg = algECDSASHA256
	}
	cdOff := a.CentralDirectoryOffset
	eocd := bytes.Clone(apk[a.EOCDOffset:])
	digests, err := chunkedDigests(bytes.NewReader(apk), []section{
		{off: 0, n: cdOff},
		{off: cdOff, n: a.CentralDirectorySize},
		{lit: eocd},
	}, []crypto.Hash{crypto.SHA256})
	if err != nil {
		return nil, err
	}
	digest := digests[crypto.SHA256]
	spki, err := x509.MarshalPKIXPublicKey(key.Signer.Public())
	if err != nil {
		return nil, err
	}
	sign := func(data []byte) ([]byte, error) {
		h := sigAlgs[alg].hash.New()
		h.Write(data)
		return key.Signer.Sign(opts.Rand, h.Sum(nil), sigAlgs[alg].hash)
	}
	digestsSeq := prefixedSeq(func() []byte {
		var w writer
		w.uint32(alg)
		w.prefixed(digest)
		return w.b
	}())
	certsSeq := prefixedSeq(key.Cert.Raw)
	signer := func(signed []byte, v3 bool) ([]byte, error) {
		sig, err := sign(signed)
		if err != nil {
			return nil, err
		}
		var s writer
		s.uint32(alg)
		s.prefixed(sig)
		var w writer
		w.prefixed(signed)
		if v3 {
			w.uint32(opts.V3MinSDK)
			w.uint32(opts.V3MaxSDK)
		}
		w.prefixed(prefixedSeq(s.b))
		w.prefixed(spki)
		return w.b, nil
	}
	type pair struct {
		id    uint32
		value []byte
	}
	var pairs []pair
	if opts.V2 {
		var attrs []byte
		if opts.V3 {
			var at writer
			at.uint32(attrStrippingProtection)
			at.uint32(3)
			attrs = prefixedSeq(at.b)
		}
		var sd writer
		sd.prefixed(digestsSeq)
		sd.prefixed(certsSeq)
		sd.prefixed(attrs)
		s, err := signer(sd.b, false)
		if err != nil {
			return nil, err
		}
		pairs = append(pairs, pair{BlockIDV2, prefixedSeq(prefixedSeq(s))})
	}
	if opts.V3 {
		var sd writer
		sd.prefixed(digestsSeq)
		sd.prefixed(certsSeq)
		sd.uint32(opts.V3MinSDK)
		sd.uint32(opts.V3MaxSDK)
		sd.prefixed(nil)
		s, err := signer(sd.b, true)
		if err != nil {
			return nil, err
		}
		pairs = append(pairs, pair{BlockIDV3, prefixedSeq(prefixedSeq(s))})
	}
	var body []byte
	for _, p := range pairs {
		body = binary.LittleEndian.AppendUint64(body, uint64(len(p.value)+4))
		body = binary.LittleEndian.AppendUint32(body, p.id)
		body = append(body, p.value...)
	}
	size := uint64(len(body) + 8 + 16)
	var block []byte
	block = binary.LittleEndian.AppendUint64(block, size)
	block = append(block, body...)
	block = binary.LittleEndian.AppendUint64(block, size)
	block = append(block, blockMagic...)

	out := make([]byte, 0, len(apk)+len(block))
	out = append(out, apk[:cdOff]...)
	out = append(out, block...)
	out = append(out, apk[cdOff:]...)
	// The end record must now point past the block.
	binary.LittleEndian.PutUint32(out[a.EOCDOffset+int64(len(block))+16:], uint32(cdOff+int64(len(block))))
	return out, nil
}
