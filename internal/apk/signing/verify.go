// Package signing verifies APK signatures — JAR signing (v1) and the APK
// Signature Schemes v2, v3 and v3.1 — and describes the signer certificates.
// It works on an archive opened with zipfs and is meant for hostile input:
// every length is bounded by what encloses it.
//
// The verdict follows Android's rules as the apksig library states them: a
// scheme verifies when every signer in it verifies; the APK verifies when at
// least one scheme is present and every present scheme verifies. Policy
// that depends on the manifest (which schemes a given minSdkVersion or
// targetSandboxVersion requires) is left to the caller.
//
// The package also holds a signer for tests (signer.go).
package signing

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/dfslab/dfslab/internal/apk/zipfs"
)

// Scheme names.
const (
	SchemeV1  = "v1"
	SchemeV2  = "v2"
	SchemeV3  = "v3"
	SchemeV31 = "v3.1"
)

// Result is the outcome of Verify.
type Result struct {
	// Schemes holds v1, v2, v3 and v3.1, in that order, present or not.
	Schemes []*Scheme
	// Certificates are the distinct signer certificates over all schemes,
	// with the schemes each signs under.
	Certificates []Certificate
}

// Scheme is the status of one signature scheme; it maps onto
// appscan.SchemeStatus (Error() gives the error text).
type Scheme struct {
	Name     string
	Present  bool
	Verified bool
	Errors   []string
	Warnings []string
	Signers  []Signer
}

// Error joins the scheme's errors, "" if none.
func (s *Scheme) Error() string { return strings.Join(s.Errors, "; ") }

func (s *Scheme) errorf(msg string) { s.Errors = append(s.Errors, msg) }

// Signer is one signer of one scheme.
type Signer struct {
	Name string // v1: the signature file's base name; else "signer #N"
	// Certificates as stored, the signing certificate first.
	Certificates []Certificate
	// SignatureAlgorithms are those of the signatures over the signed data
	// (v1: of the PKCS #7 SignerInfo).
	SignatureAlgorithms []string
	MinSDK, MaxSDK      int // v3 and v3.1 only
	// Lineage is the key rotation history of a v3 signer, oldest first.
	Lineage []Certificate
	Errors  []string
}

// Scheme returns the named scheme's status.
func (r *Result) Scheme(name string) *Scheme {
	for _, s := range r.Schemes {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Signed reports whether any scheme is present.
func (r *Result) Signed() bool {
	return slices.ContainsFunc(r.Schemes, func(s *Scheme) bool { return s.Present })
}

// Verified reports whether the APK is signed and every present scheme
// verifies.
func (r *Result) Verified() bool {
	if !r.Signed() {
		return false
	}
	for _, s := range r.Schemes {
		if s.Present && !s.Verified {
			return false
		}
	}
	return true
}

// Verify checks every signature scheme of the opened APK. The error is
// non-nil only if ctx ends; verification failures are in the Result.
func Verify(ctx context.Context, a *zipfs.Archive) (*Result, error) {
	r := &Result{Schemes: []*Scheme{{Name: SchemeV1}, {Name: SchemeV2}, {Name: SchemeV3}, {Name: SchemeV31}}}
	blk := findSigningBlock(a)
	// The JAR check (inflate and hash every entry) and the v2/v3 check
	// (hash the whole file) touch disjoint results and take about the same
	// time, so they run side by side.
	var blockErr error
	var wg sync.WaitGroup
	wg.Go(func() { blockErr = verifyBlockSchemes(ctx, a, blk, r) })
	v1Err := verifyV1(ctx, a, blk, r.Scheme(SchemeV1))
	wg.Wait()
	if err := errors.Join(blockErr, v1Err); err != nil {
		return nil, err
	}
	empty := true
	for _, e := range a.Entries {
		if !isV1SigFile(e.Name) {
			empty = false
			break
		}
	}
	for _, s := range r.Schemes {
		if empty && s.Present {
			s.errorf("the APK contains no entries")
		}
		s.Verified = s.Present && len(s.Errors) == 0
		for _, sg := range s.Signers {
			for _, c := range sg.Certificates[:min(1, len(sg.Certificates))] {
				r.addCert(c, s.Name)
			}
		}
	}
	return r, nil
}

func (r *Result) addCert(c Certificate, scheme string) {
	for i := range r.Certificates {
		if r.Certificates[i].SHA256 == c.SHA256 {
			if !slices.Contains(r.Certificates[i].Schemes, scheme) {
				r.Certificates[i].Schemes = append(r.Certificates[i].Schemes, scheme)
			}
			return
		}
	}
	c.Schemes = []string{scheme}
	r.Certificates = append(r.Certificates, c)
}
