package signing

import (
	//lint:ignore SA1019 APKs signed with DSA keys exist (apksig vectors, old apps); we verify them, we never sign with DSA.
	"crypto/dsa"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"time"
)

// Certificate describes a signer certificate. Its fields map one to one onto
// appscan.Certificate.
type Certificate struct {
	Subject            string
	Issuer             string
	Serial             string // hexadecimal
	NotBefore          time.Time
	NotAfter           time.Time
	KeyAlgorithm       string // RSA, EC, DSA
	KeyBits            int
	SignatureAlgorithm string // of the certificate itself, e.g. SHA256-RSA
	SHA256             string // of the certificate as encoded in the APK
	Schemes            []string
	// Cert is the parsed certificate; Raw the bytes as stored in the APK,
	// which may differ from Cert.Raw for certificates that are not DER.
	Cert *x509.Certificate `json:"-"`
	Raw  []byte            `json:"-"`
}

// parseCert parses a certificate as Android does: strict DER first, then,
// for the rare certificates that old tools encoded in BER, after re-encoding
// to DER. The fingerprint is always of the original bytes, which is what the
// platform compares across updates.
func parseCert(raw []byte) (*x509.Certificate, error) {
	c, err := x509.ParseCertificate(raw)
	if err == nil {
		return c, nil
	}
	der, derr := berToDER(raw, 0)
	if derr != nil {
		return nil, err
	}
	c, err2 := x509.ParseCertificate(der)
	if err2 != nil {
		return nil, err
	}
	return c, nil
}

func describeCert(c *x509.Certificate, raw []byte) Certificate {
	sum := sha256.Sum256(raw)
	d := Certificate{
		Subject:            c.Subject.String(),
		Issuer:             c.Issuer.String(),
		Serial:             c.SerialNumber.Text(16),
		NotBefore:          c.NotBefore.UTC(),
		NotAfter:           c.NotAfter.UTC(),
		SignatureAlgorithm: c.SignatureAlgorithm.String(),
		SHA256:             hex.EncodeToString(sum[:]),
		Cert:               c,
		Raw:                raw,
	}
	d.KeyAlgorithm, d.KeyBits = keyInfo(c.PublicKey)
	return d
}

func keyInfo(pub any) (string, int) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return "RSA", k.N.BitLen()
	case *ecdsa.PublicKey:
		return "EC", k.Curve.Params().BitSize
	case *dsa.PublicKey:
		return "DSA", k.P.BitLen()
	case nil:
		return "unknown", 0
	}
	return fmt.Sprintf("%T", pub), 0
}

// berToDER re-encodes definite-length BER with minimal lengths. Depth is
// bounded so that nesting cannot exhaust the stack.
func berToDER(b []byte, depth int) ([]byte, error) {
	if depth > 32 {
		return nil, fmt.Errorf("%w: ASN.1 nested too deeply", ErrFormat)
	}
	var out []byte
	for len(b) > 0 {
		el, n, err := berElement(b)
		if err != nil {
			return nil, err
		}
		hdr := 1
		if el[0]&0x1f == 0x1f {
			for hdr < len(el) && el[hdr]&0x80 != 0 {
				hdr++
			}
			hdr++
		}
		tag := el[:hdr]
		lb := el[hdr]
		lenLen := 1
		if lb&0x80 != 0 {
			lenLen += int(lb & 0x7f)
		}
		content := el[hdr+lenLen:]
		if tag[0]&0x20 != 0 {
			content, err = berToDER(content, depth+1)
			if err != nil {
				return nil, err
			}
		}
		out = append(out, tag...)
		out = appendLength(out, len(content))
		out = append(out, content...)
		b = b[n:]
	}
	return out, nil
}

func appendLength(b []byte, n int) []byte {
	if n < 0x80 {
		return append(b, byte(n))
	}
	var tmp [8]byte
	i := len(tmp)
	for n > 0 {
		i--
		tmp[i] = byte(n)
		n >>= 8
	}
	b = append(b, 0x80|byte(len(tmp)-i))
	return append(b, tmp[i:]...)
}
