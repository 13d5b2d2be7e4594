package signing

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/dfslab/dfslab/internal/apk/zipfs"
)

// maxSigFile bounds the JAR signature files read into memory.
const (
	maxManifest = 64 << 20
	maxSigFile  = 64 << 20
	maxSigBlock = 1 << 20
	maxV1Signer = 8
)

// digestAttr maps JAR digest attribute prefixes to hashes.
var digestAttrs = []struct {
	name string
	h    crypto.Hash
}{
	{"MD5", crypto.MD5}, {"SHA1", crypto.SHA1}, {"SHA-1", crypto.SHA1},
	{"SHA-224", crypto.SHA224}, {"SHA-256", crypto.SHA256},
	{"SHA-384", crypto.SHA384}, {"SHA-512", crypto.SHA512},
}

// digestsIn returns the (hash, base64 value) pairs of the attributes of s
// named <alg><suffix>.
func digestsIn(s *mfSection, suffix string) map[crypto.Hash][]string {
	out := map[crypto.Hash][]string{}
	for _, a := range s.attrs {
		for _, d := range digestAttrs {
			if strings.EqualFold(a.key, d.name+suffix) {
				out[d.h] = append(out[d.h], a.value)
			}
		}
	}
	return out
}

// checkDigests verifies every digest attribute against data's hashes. It
// reports false if there is no digest at all or any differs: the platform
// checks the digests of several algorithms, depending on its version, so
// one wrong digest breaks the APK on some devices.
func checkDigests(want map[crypto.Hash][]string, sum func(crypto.Hash) []byte) (bool, string) {
	if len(want) == 0 {
		return false, "no digest"
	}
	for h, vals := range want {
		got := base64.StdEncoding.EncodeToString(sum(h))
		for _, v := range vals {
			if v != got {
				return false, fmt.Sprintf("%s digest differs", digestName(h))
			}
		}
	}
	return true, ""
}

func hashBytes(b []byte) func(crypto.Hash) []byte {
	return func(h crypto.Hash) []byte {
		d := h.New()
		d.Write(b)
		return d.Sum(nil)
	}
}

// verifyV1 verifies JAR signing: the signature files' PKCS #7 signatures,
// their digests of the manifest, and the manifest's digests of every entry.
func verifyV1(ctx context.Context, a *zipfs.Archive, blk *signingBlock, s *Scheme) error {
	type sigFiles struct {
		base      string
		sf, block *zipfs.Entry
	}
	var signers []*sigFiles
	bySF := map[string]*sigFiles{}
	mfEntry := a.Lookup("META-INF/MANIFEST.MF")
	for _, e := range a.Entries {
		dir, file := path.Split(e.Name)
		if dir != "META-INF/" {
			continue
		}
		ext := strings.ToUpper(path.Ext(file))
		base := strings.TrimSuffix(file, path.Ext(file))
		if ext == ".SF" {
			if bySF[base] == nil {
				bySF[base] = &sigFiles{base: base}
				signers = append(signers, bySF[base])
			}
			if bySF[base].sf == nil {
				bySF[base].sf = e
			}
		}
	}
	hasBlock := false
	for _, e := range a.Entries {
		dir, file := path.Split(e.Name)
		ext := strings.ToUpper(path.Ext(file))
		if dir == "META-INF/" && (ext == ".RSA" || ext == ".DSA" || ext == ".EC") {
			hasBlock = true
			if f := bySF[strings.TrimSuffix(file, path.Ext(file))]; f != nil && f.block == nil {
				f.block = e
			}
		}
	}
	if len(signers) == 0 && !hasBlock {
		// A manifest alone (as any JAR tool writes) is not a signature.
		if mfEntry != nil {
			s.Warnings = append(s.Warnings, "META-INF/MANIFEST.MF without signature files: not JAR-signed")
		}
		return nil
	}
	s.Present = true
	if mfEntry == nil {
		s.errorf("META-INF/MANIFEST.MF is missing")
		return nil
	}
	mf, err := mfEntry.ReadAll(maxManifest)
	if err != nil {
		s.errorf(fmt.Sprintf("reading MANIFEST.MF: %v", err))
		return nil
	}
	mainSec, sections, err := parseManifest(mf)
	if err != nil {
		s.errorf(fmt.Sprintf("MANIFEST.MF: %v", err))
		return nil
	}
	byName := make(map[string]*mfSection, len(sections))
	for i := range sections {
		n := sections[i].name
		if _, dup := byName[n]; dup {
			s.errorf(fmt.Sprintf("MANIFEST.MF has two sections for %q", n))
			return nil
		}
		byName[n] = &sections[i]
	}
	valid := 0
	signedBy := make([]map[string]bool, 0, len(signers))
	for i, f := range signers {
		if i == maxV1Signer {
			s.errorf(fmt.Sprintf("more than %d JAR signers", maxV1Signer))
			return nil
		}
		sg := Signer{Name: f.base}
		names := verifyV1Signer(&sg, f.sf, f.block, mf, &mainSec, byName, blk)
		for _, e := range sg.Errors {
			s.errorf(sg.Name + ": " + e)
		}
		s.Signers = append(s.Signers, sg)
		if len(sg.Errors) == 0 {
			valid++
			signedBy = append(signedBy, names)
		}
	}
	if len(signers) == 0 {
		s.errorf("no signature file (META-INF/*.SF) with a signature block")
		return nil
	}
	if valid < len(signers) {
		return nil
	}
	// Every entry must be in the manifest with matching digests and be
	// covered by every signer.
	for _, e := range a.Entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		if e.IsDir() || isV1SigFile(e.Name) {
			continue
		}
		sec := byName[e.Name]
		if sec == nil {
			s.errorf(fmt.Sprintf("%q is not in MANIFEST.MF (added after signing)", e.Name))
			continue
		}
		want := digestsIn(sec, "-Digest")
		if len(want) == 0 {
			s.errorf(fmt.Sprintf("%q has no digest in MANIFEST.MF", e.Name))
			continue
		}
		sums, err := entryDigests(e, want)
		if err != nil {
			s.errorf(fmt.Sprintf("%q: %v", e.Name, err))
			continue
		}
		if ok, why := checkDigests(want, func(h crypto.Hash) []byte { return sums[h] }); !ok {
			s.errorf(fmt.Sprintf("%q: %s from MANIFEST.MF (modified after signing)", e.Name, why))
		}
		for i, names := range signedBy {
			if !names[e.Name] {
				s.errorf(fmt.Sprintf("%q is not signed by %s", e.Name, s.Signers[i].Name))
			}
		}
	}
	for _, sec := range sections {
		if a.Lookup(sec.name) == nil {
			s.errorf(fmt.Sprintf("MANIFEST.MF names %q, which is not in the APK", sec.name))
		}
	}
	return nil
}

func entryDigests(e *zipfs.Entry, want map[crypto.Hash][]string) (map[crypto.Hash][]byte, error) {
	hs := map[crypto.Hash]io.Writer{}
	var ws []io.Writer
	type hh interface {
		io.Writer
		Sum([]byte) []byte
	}
	all := map[crypto.Hash]hh{}
	for h := range want {
		d := h.New()
		all[h] = d
		hs[h] = d
		ws = append(ws, d)
	}
	rc, err := e.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if _, err := io.Copy(io.MultiWriter(ws...), rc); err != nil {
		return nil, err
	}
	out := map[crypto.Hash][]byte{}
	for h, d := range all {
		out[h] = d.Sum(nil)
	}
	return out, nil
}

// verifyV1Signer checks one signature file and its block; it returns the
// entry names the signer covers.
func verifyV1Signer(sg *Signer, sfEntry, blockEntry *zipfs.Entry, mf []byte, mfMain *mfSection, byName map[string]*mfSection, blk *signingBlock) map[string]bool {
	fail := func(format string, args ...any) map[string]bool {
		sg.Errors = append(sg.Errors, fmt.Sprintf(format, args...))
		return nil
	}
	if blockEntry == nil {
		return fail("no signature block (.RSA, .DSA or .EC) for the signature file")
	}
	sf, err := sfEntry.ReadAll(maxSigFile)
	if err != nil {
		return fail("reading %s: %v", sfEntry.Name, err)
	}
	block, err := blockEntry.ReadAll(maxSigBlock)
	if err != nil {
		return fail("reading %s: %v", blockEntry.Name, err)
	}
	p7, err := parsePKCS7(block)
	if err != nil {
		return fail("%s: %v", blockEntry.Name, err)
	}
	if err := verifyPKCS7(sg, p7, sf); err != nil {
		return fail("%s: %v", blockEntry.Name, err)
	}
	sfMain, sfSections, err := parseManifest(sf)
	if err != nil {
		return fail("%s: %v", sfEntry.Name, err)
	}
	// Anti-stripping: a JAR signature made together with v2/v3 says so,
	// and then those must be present.
	if v, ok := sfMain.get("X-Android-APK-Signed"); ok {
		for _, f := range strings.Split(v, ",") {
			id, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				continue
			}
			var blockID uint32
			switch id {
			case 2:
				blockID = BlockIDV2
			case 3:
				blockID = BlockIDV3
			default:
				continue // schemes unknown to us are ignored, as Android does
			}
			if _, ok := blk.pairs[blockID]; !ok {
				return fail("the signature file says the APK is also signed with scheme v%d, which is missing (stripped)", id)
			}
		}
	}
	names := map[string]bool{}
	whole := digestsIn(&sfMain, "-Digest-Manifest")
	if ok, _ := checkDigests(whole, hashBytes(mf)); ok {
		for n := range byName {
			names[n] = true
		}
		return names
	}
	// The whole-manifest digest is absent or stale (entries were added after
	// signing); then the main section and each named section must match.
	if mainDigests := digestsIn(&sfMain, "-Digest-Manifest-Main-Attributes"); len(mainDigests) > 0 {
		if ok, why := checkDigests(mainDigests, hashBytes(mfMain.raw)); !ok {
			return fail("%s: main section of MANIFEST.MF: %s", sfEntry.Name, why)
		}
	}
	for i := range sfSections {
		sec := &sfSections[i]
		m := byName[sec.name]
		if m == nil {
			return fail("%s names %q, which MANIFEST.MF does not", sfEntry.Name, sec.name)
		}
		if ok, why := checkDigests(digestsIn(sec, "-Digest"), hashBytes(m.raw)); !ok {
			return fail("%s: section %q of MANIFEST.MF: %s", sfEntry.Name, sec.name, why)
		}
		names[sec.name] = true
	}
	return names
}

// verifyPKCS7 checks the SignerInfos of a JAR signature block over the
// signature file, as both older (before Android 7) and newer platforms do,
// and records the signer's certificate. Older platforms use only the first
// SignerInfo and ignore the content type; newer ones use the first that
// verifies and require the content type. If the two would pick different
// SignerInfos the APK behaves differently across versions: rejected.
func verifyPKCS7(sg *Signer, p7 *parsedPKCS7, sf []byte) error {
	var firstErr error
	chosen := -1
	for i := range p7.signers {
		si := &p7.signers[i]
		cert, raw, err := verifySignerInfo(si, p7.certs, sf)
		if err != nil && errors.Is(err, errFatalSignerInfo) {
			return err
		}
		if i == 0 {
			if err != nil && !errors.Is(err, errContentType) {
				return err // older platforms stop here
			}
			firstErr = err
		}
		if err == nil {
			chosen = i
			sg.Certificates = []Certificate{describeCert(cert, raw)}
			sg.SignatureAlgorithms = []string{signerInfoAlg(si)}
			break
		}
	}
	if chosen < 0 {
		if firstErr != nil {
			return firstErr
		}
		return ErrSignature
	}
	if chosen != 0 {
		return fmt.Errorf("SignerInfo 1 verifies only on Android before 7.0 and SignerInfo %d only from 7.0 on: %w", chosen+1, firstErr)
	}
	return nil
}

var (
	errFatalSignerInfo = errors.New("malformed SignerInfo")
	errContentType     = errors.New("signed attributes: content type is not data")
)

func signerInfoAlg(si *signerInfo) string {
	h, _ := hashForOID(si.DigestAlgorithm.Algorithm)
	k, _ := keyForSigOID(si.DigestEncryptionAlgorithm.Algorithm)
	return fmt.Sprintf("%s with %s", k, digestName(h))
}

func verifySignerInfo(si *signerInfo, certs [][]byte, sf []byte) (*x509.Certificate, []byte, error) {
	h, ok := hashForOID(si.DigestAlgorithm.Algorithm)
	if !ok {
		return nil, nil, fmt.Errorf("%w: digest algorithm %v", ErrUnsupported, si.DigestAlgorithm.Algorithm)
	}
	keyType, ok := keyForSigOID(si.DigestEncryptionAlgorithm.Algorithm)
	if !ok {
		return nil, nil, fmt.Errorf("%w: signature algorithm %v", ErrUnsupported, si.DigestEncryptionAlgorithm.Algorithm)
	}
	var ias issuerAndSerial
	if _, err := asn1.Unmarshal(si.SID.FullBytes, &ias); err != nil {
		return nil, nil, fmt.Errorf("%w: SignerInfo identifies its certificate other than by issuer and serial: %v", errFatalSignerInfo, err)
	}
	var cert *x509.Certificate
	var raw []byte
	for _, c := range certs {
		pc, err := parseCert(c)
		if err != nil {
			continue
		}
		if pc.SerialNumber.Cmp(ias.Serial) == 0 && sameName(pc.RawIssuer, ias.Issuer.FullBytes) {
			cert, raw = pc, c
			break
		}
	}
	if cert == nil {
		return nil, nil, fmt.Errorf("%w: no certificate matches the SignerInfo", ErrFormat)
	}
	if keyKind(cert.PublicKey) != keyType {
		return nil, nil, fmt.Errorf("%w: %s signature with a %s key", ErrSignature, keyType, keyKind(cert.PublicKey))
	}
	msg := sf
	var ctErr error
	if len(si.AuthenticatedAttributes.FullBytes) > 0 {
		var attrs []attribute
		if _, err := asn1.UnmarshalWithParams(si.AuthenticatedAttributes.FullBytes, &attrs, "tag:0,set"); err != nil {
			return nil, nil, fmt.Errorf("%w: signed attributes: %v", errFatalSignerInfo, err)
		}
		var ct, md []asn1.RawValue
		for _, a := range attrs {
			var vals []asn1.RawValue
			if _, err := asn1.UnmarshalWithParams(a.Values.FullBytes, &vals, "set"); err != nil {
				return nil, nil, fmt.Errorf("%w: signed attribute %v: %v", errFatalSignerInfo, a.Type, err)
			}
			switch {
			case a.Type.Equal(oidContentType):
				ct = append(ct, vals...)
			case a.Type.Equal(oidMessageDigest):
				md = append(md, vals...)
			}
		}
		if len(md) != 1 {
			return nil, nil, fmt.Errorf("%w: signed attributes hold %d message digests, want 1", errFatalSignerInfo, len(md))
		}
		if len(ct) == 0 {
			return nil, nil, fmt.Errorf("%w: signed attributes lack the content type", errFatalSignerInfo)
		}
		var oid asn1.ObjectIdentifier
		if _, err := asn1.Unmarshal(ct[0].FullBytes, &oid); err != nil || !oid.Equal(oidData) {
			ctErr = errContentType
		}
		var digest []byte
		if _, err := asn1.Unmarshal(md[0].FullBytes, &digest); err != nil {
			return nil, nil, fmt.Errorf("%w: message digest: %v", errFatalSignerInfo, err)
		}
		if ok, _ := checkDigests(map[crypto.Hash][]string{h: {base64.StdEncoding.EncodeToString(digest)}}, hashBytes(sf)); !ok {
			return nil, nil, fmt.Errorf("%w: signed attributes' message digest does not match the signature file", ErrSignature)
		}
		// The signature covers the attributes as encoded, re-tagged as a
		// SET; Android does not re-sort them into DER order.
		msg = slices.Clone(si.AuthenticatedAttributes.FullBytes)
		msg[0] = 0x31
	}
	if err := verifySig(cert.PublicKey, h, 0, msg, si.EncryptedDigest); err != nil {
		return nil, nil, err
	}
	if ctErr != nil {
		return nil, nil, ctErr
	}
	return cert, raw, nil
}

// sameName compares two encoded X.500 names as the platform does: by value,
// so that a PrintableString in the SignerInfo matches a UTF8String in the
// certificate.
func sameName(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var ra, rb pkix.RDNSequence
	if _, err := asn1.Unmarshal(a, &ra); err != nil {
		return false
	}
	if _, err := asn1.Unmarshal(b, &rb); err != nil {
		return false
	}
	var na, nb pkix.Name
	na.FillFromRDNSequence(&ra)
	nb.FillFromRDNSequence(&rb)
	return strings.EqualFold(na.String(), nb.String())
}
