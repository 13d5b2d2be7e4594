package signing

import (
	"crypto"
	//lint:ignore SA1019 APKs signed with DSA keys exist (apksig vectors, old apps); we verify them, we never sign with DSA.
	"crypto/dsa"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	_ "crypto/md5" // MD5 and SHA-1 appear in old JAR signatures
	_ "crypto/sha1"
	_ "crypto/sha256"
	_ "crypto/sha512"
)

// ErrSignature reports a signature that does not verify.
var ErrSignature = errors.New("signing: signature does not verify")

// ErrUnsupported reports an algorithm or key type this package cannot check.
var ErrUnsupported = errors.New("signing: unsupported algorithm")

// Signature algorithm IDs of APK Signature Schemes v2 and v3.
const (
	algRSAPSSSHA256      = 0x0101
	algRSAPSSSHA512      = 0x0102
	algRSAPKCS1SHA256    = 0x0103
	algRSAPKCS1SHA512    = 0x0104
	algECDSASHA256       = 0x0201
	algECDSASHA512       = 0x0202
	algDSASHA256         = 0x0301
	algVerityRSASHA256   = 0x0421
	algVerityECDSASHA256 = 0x0423
	algVerityDSASHA256   = 0x0425
)

type sigAlg struct {
	name   string
	hash   crypto.Hash
	key    string // RSA, EC, DSA
	pss    int    // salt length for RSA-PSS, 0 for PKCS#1 v1.5
	digest crypto.Hash
	// verity algorithms sign a Merkle-tree digest rather than the chunked
	// one; their content digest is not recomputed here.
	verity bool
}

var sigAlgs = map[uint32]sigAlg{
	algRSAPSSSHA256:      {name: "RSASSA-PSS with SHA-256", hash: crypto.SHA256, key: "RSA", pss: 32, digest: crypto.SHA256},
	algRSAPSSSHA512:      {name: "RSASSA-PSS with SHA-512", hash: crypto.SHA512, key: "RSA", pss: 64, digest: crypto.SHA512},
	algRSAPKCS1SHA256:    {name: "RSASSA-PKCS1-v1_5 with SHA-256", hash: crypto.SHA256, key: "RSA", digest: crypto.SHA256},
	algRSAPKCS1SHA512:    {name: "RSASSA-PKCS1-v1_5 with SHA-512", hash: crypto.SHA512, key: "RSA", digest: crypto.SHA512},
	algECDSASHA256:       {name: "ECDSA with SHA-256", hash: crypto.SHA256, key: "EC", digest: crypto.SHA256},
	algECDSASHA512:       {name: "ECDSA with SHA-512", hash: crypto.SHA512, key: "EC", digest: crypto.SHA512},
	algDSASHA256:         {name: "DSA with SHA-256", hash: crypto.SHA256, key: "DSA", digest: crypto.SHA256},
	algVerityRSASHA256:   {name: "RSASSA-PKCS1-v1_5 with SHA-256 (verity)", hash: crypto.SHA256, key: "RSA", verity: true},
	algVerityECDSASHA256: {name: "ECDSA with SHA-256 (verity)", hash: crypto.SHA256, key: "EC", verity: true},
	algVerityDSASHA256:   {name: "DSA with SHA-256 (verity)", hash: crypto.SHA256, key: "DSA", verity: true},
}

// verifySig checks sig over msg with pub, hashing msg with h. For RSA, pss
// selects RSASSA-PSS with that salt length.
func verifySig(pub crypto.PublicKey, h crypto.Hash, pss int, msg, sig []byte) error {
	if !h.Available() {
		return fmt.Errorf("%w: hash %v", ErrUnsupported, h)
	}
	d := h.New()
	d.Write(msg)
	digest := d.Sum(nil)
	switch k := pub.(type) {
	case *rsa.PublicKey:
		var err error
		if pss > 0 {
			err = rsa.VerifyPSS(k, h, digest, sig, &rsa.PSSOptions{SaltLength: pss, Hash: h})
		} else {
			err = rsa.VerifyPKCS1v15(k, h, digest, sig)
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrSignature, err)
		}
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, digest, sig) {
			return ErrSignature
		}
	case *dsa.PublicKey:
		var rs struct{ R, S *big.Int }
		if rest, err := asn1.Unmarshal(sig, &rs); err != nil || len(rest) > 0 {
			return fmt.Errorf("%w: DSA signature encoding", ErrSignature)
		}
		// DSA signs the leftmost bits of the digest, as many as q has.
		if n := (k.Q.BitLen() + 7) / 8; len(digest) > n {
			digest = digest[:n]
		}
		if !dsa.Verify(k, digest, rs.R, rs.S) {
			return ErrSignature
		}
	case ed25519.PublicKey:
		return fmt.Errorf("%w: Ed25519", ErrUnsupported)
	default:
		return fmt.Errorf("%w: key type %T", ErrUnsupported, pub)
	}
	return nil
}

func keyKind(pub crypto.PublicKey) string {
	switch pub.(type) {
	case *rsa.PublicKey:
		return "RSA"
	case *ecdsa.PublicKey:
		return "EC"
	case *dsa.PublicKey:
		return "DSA"
	}
	return fmt.Sprintf("%T", pub)
}
