package signing

import (
	"crypto"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
)

// Object identifiers used by JAR signature blocks (PKCS #7 SignedData).
var (
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
)

// digestOIDs maps digest algorithm identifiers to hashes.
var digestOIDs = []struct {
	oid asn1.ObjectIdentifier
	h   crypto.Hash
}{
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5}, crypto.MD5},
	{asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}, crypto.SHA1},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}, crypto.SHA224},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}, crypto.SHA256},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}, crypto.SHA384},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}, crypto.SHA512},
}

func hashForOID(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
	for _, d := range digestOIDs {
		if d.oid.Equal(oid) {
			return d.h, true
		}
	}
	return 0, false
}

func oidForHash(h crypto.Hash) asn1.ObjectIdentifier {
	for _, d := range digestOIDs {
		if d.h == h {
			return d.oid
		}
	}
	return nil
}

// sigOIDKey maps the signature ("digest encryption") algorithm of a
// SignerInfo to the key type it needs. The digest comes from the SignerInfo's
// digest algorithm, as Android does, whatever hash the OID names.
var sigOIDKey = []struct {
	oid asn1.ObjectIdentifier
	key string
}{
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}, "RSA"},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 4}, "RSA"},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}, "RSA"},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}, "RSA"},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}, "RSA"},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}, "RSA"},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 14}, "RSA"},
	{asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 1}, "DSA"},
	{asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 3}, "DSA"},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 1}, "DSA"},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 2}, "DSA"},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 3}, "DSA"},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 4}, "DSA"},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}, "EC"},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}, "EC"},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 1}, "EC"},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}, "EC"},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}, "EC"},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}, "EC"},
}

func keyForSigOID(oid asn1.ObjectIdentifier) (string, bool) {
	for _, s := range sigOIDKey {
		if s.oid.Equal(oid) {
			return s.key, true
		}
	}
	return "", false
}

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	// Content is the [0] EXPLICIT wrapper itself; its Bytes are the
	// encoded inner value.
	Content asn1.RawValue `asn1:"optional,tag:0"`
}

type signedData struct {
	Version          int
	DigestAlgorithms asn1.RawValue // SET OF AlgorithmIdentifier, unused
	ContentInfo      contentInfo
	Certificates     asn1.RawValue `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue `asn1:"optional,tag:1"`
	SignerInfos      []signerInfo  `asn1:"set"`
}

type issuerAndSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

type signerInfo struct {
	Version                   int
	SID                       asn1.RawValue
	DigestAlgorithm           pkix.AlgorithmIdentifier
	AuthenticatedAttributes   asn1.RawValue `asn1:"optional,tag:0"`
	DigestEncryptionAlgorithm pkix.AlgorithmIdentifier
	EncryptedDigest           []byte
	UnauthenticatedAttributes asn1.RawValue `asn1:"optional,tag:1"`
}

type attribute struct {
	Type   asn1.ObjectIdentifier
	Values asn1.RawValue // SET OF ANY
}

// parsedPKCS7 is what the JAR verifier needs from a signature block.
type parsedPKCS7 struct {
	certs   [][]byte // encoded certificates, in file order
	signers []signerInfo
}

func parsePKCS7(der []byte) (*parsedPKCS7, error) {
	var ci contentInfo
	rest, err := asn1.Unmarshal(der, &ci)
	if err != nil {
		return nil, fmt.Errorf("%w: PKCS #7 ContentInfo: %v", ErrFormat, err)
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("%w: %d bytes after PKCS #7 ContentInfo", ErrFormat, len(rest))
	}
	if !ci.ContentType.Equal(oidSignedData) {
		return nil, fmt.Errorf("%w: PKCS #7 content type %v is not SignedData", ErrFormat, ci.ContentType)
	}
	var sd signedData
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		return nil, fmt.Errorf("%w: PKCS #7 SignedData: %v", ErrFormat, err)
	}
	p := &parsedPKCS7{signers: sd.SignerInfos}
	for rest := sd.Certificates.Bytes; len(rest) > 0; {
		var raw asn1.RawValue
		rest, err = asn1.Unmarshal(rest, &raw)
		if err != nil {
			// A certificate that is not DER (some old signing tools
			// produced BER): take its bytes with the lenient reader.
			fr, n, lerr := berElement(rest)
			if lerr != nil {
				return nil, fmt.Errorf("%w: PKCS #7 certificates: %v", ErrFormat, err)
			}
			p.certs = append(p.certs, fr)
			rest = rest[n:]
			continue
		}
		p.certs = append(p.certs, raw.FullBytes)
	}
	if len(p.signers) == 0 {
		return nil, fmt.Errorf("%w: PKCS #7 SignedData has no SignerInfo", ErrFormat)
	}
	return p, nil
}

// berElement returns the first element of b with definite length, accepting
// non-minimal length encodings that DER forbids.
func berElement(b []byte) ([]byte, int, error) {
	if len(b) < 2 {
		return nil, 0, fmt.Errorf("%w: truncated element", ErrFormat)
	}
	i := 1
	if b[0]&0x1f == 0x1f {
		for i < len(b) && b[i]&0x80 != 0 {
			i++
		}
		i++
	}
	if i >= len(b) {
		return nil, 0, fmt.Errorf("%w: truncated tag", ErrFormat)
	}
	l := int(b[i])
	i++
	if l&0x80 != 0 {
		n := l & 0x7f
		if n == 0 || n > 4 || i+n > len(b) {
			return nil, 0, fmt.Errorf("%w: unsupported length encoding", ErrFormat)
		}
		l = 0
		for _, c := range b[i : i+n] {
			l = l<<8 | int(c)
		}
		i += n
	}
	if l < 0 || l > len(b)-i {
		return nil, 0, fmt.Errorf("%w: element overruns its container", ErrFormat)
	}
	return b[:i+l], i + l, nil
}

// buildPKCS7 encodes a detached SignedData with one SignerInfo without
// signed attributes, the form apksigner produces.
func buildPKCS7(certDER []byte, issuer []byte, serial *big.Int, h crypto.Hash, sigOID asn1.ObjectIdentifier, sig []byte) ([]byte, error) {
	algID := pkix.AlgorithmIdentifier{Algorithm: oidForHash(h), Parameters: asn1.NullRawValue}
	sid, err := asn1.Marshal(issuerAndSerial{Issuer: asn1.RawValue{FullBytes: issuer}, Serial: serial})
	if err != nil {
		return nil, err
	}
	si := signerInfo{
		Version:                   1,
		SID:                       asn1.RawValue{FullBytes: sid},
		DigestAlgorithm:           algID,
		DigestEncryptionAlgorithm: pkix.AlgorithmIdentifier{Algorithm: sigOID},
		EncryptedDigest:           sig,
	}
	if sigOID.Equal(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}) {
		si.DigestEncryptionAlgorithm.Parameters = asn1.NullRawValue
	}
	algs, err := asn1.MarshalWithParams([]pkix.AlgorithmIdentifier{algID}, "set")
	if err != nil {
		return nil, err
	}
	sd := signedData{
		Version:          1,
		DigestAlgorithms: asn1.RawValue{FullBytes: algs},
		ContentInfo:      contentInfo{ContentType: oidData},
		Certificates:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: certDER},
		SignerInfos:      []signerInfo{si},
	}
	inner, err := asn1.Marshal(sd)
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(contentInfo{
		ContentType: oidSignedData,
		Content:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: inner},
	})
}
