package signing

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/dfslab/dfslab/internal/apk/zipfs"
)

// Bounds on the counts inside a scheme block; real APKs have one or two
// signers, each with a few signatures and a short chain.
const (
	maxSigners    = 16
	maxSignatures = 16
	maxCerts      = 16
	maxAttrs      = 64
	maxLineage    = 64
)

// blockSigner is a parsed signer awaiting the content digest check.
type blockSigner struct {
	scheme  *Scheme
	idx     int
	digests []digestRec
}

type digestRec struct {
	alg    uint32
	digest []byte
}

// verifyBlockSchemes verifies the v2, v3 and v3.1 blocks of the APK
// Signing Block, computing the content digests in one pass for all.
func verifyBlockSchemes(ctx context.Context, a *zipfs.Archive, blk *signingBlock, r *Result) error {
	if blk.pairs == nil {
		return nil
	}
	var pending []blockSigner
	for _, sc := range []struct {
		id   uint32
		name string
	}{{BlockIDV2, SchemeV2}, {BlockIDV3, SchemeV3}, {BlockIDV31, SchemeV31}} {
		val, ok := blk.pairs[sc.id]
		if !ok {
			continue
		}
		s := r.Scheme(sc.name)
		s.Present = true
		_, hasV3 := blk.pairs[BlockIDV3]
		pending = append(pending, verifySchemeBlock(s, val, hasV3)...)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	need := map[crypto.Hash]bool{}
	verity := false
	for _, p := range pending {
		for _, d := range p.digests {
			if alg, ok := sigAlgs[d.alg]; ok {
				if alg.verity {
					verity = true
				} else {
					need[alg.digest] = true
				}
			}
		}
	}
	if len(need) == 0 && !verity {
		return nil
	}
	hashes := make([]crypto.Hash, 0, len(need))
	for h := range need {
		hashes = append(hashes, h)
	}
	slices.Sort(hashes)
	eocd := make([]byte, a.EOCDSize)
	if _, err := a.ReaderAt().ReadAt(eocd, a.EOCDOffset); err != nil {
		for _, p := range pending {
			p.scheme.errorf(fmt.Sprintf("reading end of central directory: %v", err))
		}
		return nil
	}
	// The digest covers the end record as if the signing block were absent:
	// its central directory offset then points at the block's start.
	binary.LittleEndian.PutUint32(eocd[16:], uint32(blk.start))
	sections := []section{
		{off: 0, n: blk.start},
		{off: a.CentralDirectoryOffset, n: a.CentralDirectorySize},
		{lit: eocd},
	}
	sums, err := chunkedDigests(a.ReaderAt(), sections, hashes)
	var verityErr error
	if err == nil && verity {
		var v []byte
		v, verityErr = verityDigest(a.ReaderAt(), sections)
		sums[0] = v // key 0 stands for the verity tree digest
	}
	if err = errors.Join(err, verityErr); err != nil {
		for _, p := range pending {
			p.scheme.errorf(fmt.Sprintf("computing content digest: %v", err))
		}
		return nil
	}
	for _, p := range pending {
		for _, d := range p.digests {
			alg, ok := sigAlgs[d.alg]
			if !ok {
				continue
			}
			// alg.digest is 0 for the verity algorithms, matching the
			// key under which the tree digest is stored.
			if !bytes.Equal(sums[alg.digest], d.digest) {
				msg := fmt.Sprintf("signer #%d: APK content digest (%s) does not match", p.idx+1, alg.name)
				p.scheme.errorf(msg)
				sg := &p.scheme.Signers[p.idx]
				sg.Errors = append(sg.Errors, msg)
			}
		}
	}
	return nil
}

// verifySchemeBlock parses and verifies the signers of one scheme block,
// returning the content digests left to compare.
func verifySchemeBlock(s *Scheme, val []byte, hasV3 bool) []blockSigner {
	v3 := s.Name != SchemeV2
	top := reader{b: val}
	signersBytes := top.prefixed("signers")
	if top.err != nil {
		s.errorf(top.err.Error())
		return nil
	}
	signers, err := seq(signersBytes, "signers", maxSigners)
	if err != nil {
		s.errorf(err.Error())
		return nil
	}
	if len(signers) == 0 {
		s.errorf("no signers")
		return nil
	}
	var out []blockSigner
	for i, raw := range signers {
		sg := Signer{Name: fmt.Sprintf("signer #%d", i+1)}
		digests := verifyBlockSigner(&sg, raw, v3, s.Name == SchemeV2 && !hasV3)
		for _, e := range sg.Errors {
			s.errorf(sg.Name + ": " + e)
		}
		s.Signers = append(s.Signers, sg)
		if len(sg.Errors) == 0 {
			out = append(out, blockSigner{scheme: s, idx: i, digests: digests})
		}
	}
	return out
}

func verifyBlockSigner(sg *Signer, raw []byte, v3, checkStripping bool) []digestRec {
	fail := func(format string, args ...any) []digestRec {
		sg.Errors = append(sg.Errors, fmt.Sprintf(format, args...))
		return nil
	}
	r := reader{b: raw}
	signed := r.prefixed("signed data")
	var minSDK, maxSDK uint32
	if v3 {
		minSDK, maxSDK = r.uint32("min SDK"), r.uint32("max SDK")
	}
	sigsBytes := r.prefixed("signatures")
	pubBytes := r.prefixed("public key")
	if r.err != nil {
		return fail("%v", r.err)
	}
	sigs, err := seq(sigsBytes, "signatures", maxSignatures)
	if err != nil {
		return fail("%v", err)
	}
	if len(sigs) == 0 {
		return fail("no signatures")
	}
	pub, err := x509.ParsePKIXPublicKey(pubBytes)
	if err != nil {
		return fail("public key: %v", err)
	}
	var sigAlgIDs []uint32
	verified := 0
	for _, sb := range sigs {
		sr := reader{b: sb}
		id := sr.uint32("signature algorithm")
		sig := sr.prefixed("signature")
		if sr.err != nil {
			return fail("%v", sr.err)
		}
		sigAlgIDs = append(sigAlgIDs, id)
		alg, ok := sigAlgs[id]
		if !ok {
			continue // unknown algorithms are ignored, as Android does
		}
		sg.SignatureAlgorithms = append(sg.SignatureAlgorithms, alg.name)
		if keyKind(pub) != alg.key {
			return fail("%s signature with a %s key", alg.name, keyKind(pub))
		}
		if err := verifySig(pub, alg.hash, alg.pss, signed, sig); err != nil {
			return fail("%s: %v", alg.name, err)
		}
		verified++
	}
	if verified == 0 {
		return fail("no supported signatures")
	}

	sd := reader{b: signed}
	digestsBytes := sd.prefixed("digests")
	certsBytes := sd.prefixed("certificates")
	var sdMin, sdMax uint32
	if v3 {
		sdMin, sdMax = sd.uint32("min SDK"), sd.uint32("max SDK")
	}
	attrsBytes := sd.prefixed("additional attributes")
	if sd.err != nil {
		return fail("signed data: %v", sd.err)
	}
	digestItems, err := seq(digestsBytes, "digests", maxSignatures)
	if err != nil {
		return fail("%v", err)
	}
	var digests []digestRec
	var digestAlgIDs []uint32
	for _, d := range digestItems {
		dr := reader{b: d}
		id := dr.uint32("digest algorithm")
		v := dr.prefixed("digest")
		if dr.err != nil {
			return fail("%v", dr.err)
		}
		digests = append(digests, digestRec{id, v})
		digestAlgIDs = append(digestAlgIDs, id)
	}
	if !slices.Equal(sigAlgIDs, digestAlgIDs) {
		return fail("signature algorithms %#x do not match digest algorithms %#x", sigAlgIDs, digestAlgIDs)
	}
	certs, err := seq(certsBytes, "certificates", maxCerts)
	if err != nil {
		return fail("%v", err)
	}
	if len(certs) == 0 {
		return fail("no certificates")
	}
	for i, c := range certs {
		pc, err := parseCert(c)
		if err != nil {
			return fail("certificate %d: %v", i+1, err)
		}
		sg.Certificates = append(sg.Certificates, describeCert(pc, c))
	}
	if leaf := sg.Certificates[0].Cert; !bytes.Equal(leaf.RawSubjectPublicKeyInfo, pubBytes) {
		return fail("public key does not match the signing certificate")
	}
	if v3 {
		sg.MinSDK, sg.MaxSDK = int(minSDK), int(maxSDK)
		if minSDK != sdMin || maxSDK != sdMax {
			return fail("SDK range [%d,%d] differs from the signed one [%d,%d]", minSDK, maxSDK, sdMin, sdMax)
		}
		if minSDK > maxSDK {
			return fail("min SDK %d above max SDK %d", minSDK, maxSDK)
		}
	}
	attrs, err := seq(attrsBytes, "additional attributes", maxAttrs)
	if err != nil {
		return fail("%v", err)
	}
	for _, at := range attrs {
		ar := reader{b: at}
		id := ar.uint32("attribute ID")
		if ar.err != nil {
			return fail("%v", ar.err)
		}
		switch {
		case id == attrStrippingProtection && !v3 && checkStripping:
			if len(ar.b) >= 4 && binary.LittleEndian.Uint32(ar.b) == 3 {
				return fail("the v2 signature says the APK was also signed with v3, but no v3 signature is present (stripped)")
			}
		case id == attrLineage && v3:
			lin, err := parseLineage(ar.b)
			if err != nil {
				return fail("signing certificate lineage: %v", err)
			}
			if last := lin[len(lin)-1]; last.SHA256 != sg.Certificates[0].SHA256 && !bytes.Equal(last.Cert.RawSubjectPublicKeyInfo, pubBytes) {
				return fail("signing certificate lineage does not end with the signer's certificate")
			}
			sg.Lineage = lin
		}
	}
	return digests
}

// parseLineage parses and verifies a v3 signing certificate lineage: each
// certificate after the first is signed by its predecessor.
func parseLineage(b []byte) ([]Certificate, error) {
	r := reader{b: b}
	if v := r.uint32("lineage version"); r.err == nil && v != 1 {
		return nil, fmt.Errorf("%w: lineage version %d", ErrFormat, v)
	}
	if r.err != nil {
		return nil, r.err
	}
	var out []Certificate
	var prev *x509.Certificate
	var prevAlg uint32
	for !r.empty() {
		if len(out) == maxLineage {
			return nil, fmt.Errorf("%w: lineage longer than %d", ErrFormat, maxLineage)
		}
		node := reader{b: r.prefixed("lineage node")}
		signed := node.prefixed("lineage signed data")
		_ = node.uint32("lineage flags")
		algID := node.uint32("lineage signature algorithm")
		sig := node.prefixed("lineage signature")
		if r.err != nil || node.err != nil {
			return nil, fmt.Errorf("%w%w", r.err, node.err)
		}
		sd := reader{b: signed}
		certBytes := sd.prefixed("lineage certificate")
		signedAlg := sd.uint32("lineage signed algorithm")
		if sd.err != nil {
			return nil, sd.err
		}
		if prev != nil {
			alg, ok := sigAlgs[signedAlg]
			if !ok {
				return nil, fmt.Errorf("%w: lineage signature algorithm %#x", ErrUnsupported, signedAlg)
			}
			// The signed data names the algorithm the parent signed it
			// with; the parent's node must announce the same one.
			if prevAlg != signedAlg {
				return nil, fmt.Errorf("%w: lineage node %d algorithm %#x differs from the signed %#x", ErrFormat, len(out)+1, prevAlg, signedAlg)
			}
			if err := verifySig(prev.PublicKey, alg.hash, alg.pss, signed, sig); err != nil {
				return nil, fmt.Errorf("lineage node %d: %w", len(out)+1, err)
			}
		}
		c, err := parseCert(certBytes)
		if err != nil {
			return nil, fmt.Errorf("lineage node %d certificate: %w", len(out)+1, err)
		}
		for _, o := range out {
			if bytes.Equal(o.Raw, certBytes) {
				return nil, fmt.Errorf("%w: certificate repeated in lineage", ErrFormat)
			}
		}
		out = append(out, describeCert(c, certBytes))
		prev, prevAlg = c, algID
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: empty lineage", ErrFormat)
	}
	return out, nil
}
