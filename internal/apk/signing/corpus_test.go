package signing

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/apk/zipfs"
	"github.com/dfslab/dfslab/internal/testenv"
)

// failTokens are the parts of an apksig test vector's name that say it must
// not verify.
var failTokens = []string{
	"-broken", "-missing-", "mismatch", "-wrong-", "-bad-", "-no-", "does-not-verify",
	"invalid", "stripped", "truncated", "-empty", "unsigned", "-in.apk", "garbage",
}

// exceptions are vectors whose outcome their name does not state, or
// states for a platform policy this package leaves to the scanner. The
// value is the verdict we expect and why.
var exceptions = map[string]struct {
	verified bool
	why      string
}{
	"v1-only-with-signed-attrs-wrong-order.apk": {true,
		"Android does not re-sort signed attributes; the signature over them as encoded verifies"},
	"v1-only-with-signed-attrs-signerInfo1-wrong-order-signerInfo2-good.apk": {true,
		"as above: attribute order is not checked"},
	"v2-only-missing-classes.dex.apk": {true,
		"the signature is fine; the name is about the APK lacking classes.dex"},
	"v2-only-targetSandboxVersion-2.apk": {true,
		"apksig fails it because minSdkVersion 18 needs a v1 signature: manifest policy, applied by the scanner"},
	"v1-only-targetSandboxVersion-2.apk": {true,
		"apksig fails it because targetSandboxVersion 2 needs v2: manifest policy, applied by the scanner"},
	"mismatched-compression-method.apk": {true,
		"Android uses the central directory's method and ignores the local header's, so the mismatch is harmless"},
	"v1-only-with-signed-attrs-multiple-good-digests.apk": {false,
		"signed attributes must hold exactly one message digest; the platform rejects the whole block"},
	"v1-only-with-signed-attrs-signerInfo1-multiple-good-digests-signerInfo2-good.apk": {false,
		"as above; the broken first SignerInfo fails the block before the second is tried"},
	"v1-only-with-cr-in-entry-name.apk": {false,
		"a manifest cannot name an entry containing CR, so the entry is not covered by the signature"},
	"v1-only-with-lf-in-entry-name.apk": {false,
		"a manifest cannot name an entry containing LF, so the entry is not covered by the signature"},
}

// certSHA256 are the signer certificate fingerprints apksig's own tests
// expect: the right certificate picked out of the PKCS #7 bag, and the
// fingerprint taken over the bytes as stored even when they are not DER.
var certSHA256 = map[string]string{
	"v1-only-pkcs7-cert-bag-first-cert-not-used.apk": "fb5dbd3c669af9fc236c6991e6387b7f11ff0590997f22d0f5c74ff40e04fca8",
	"v1-only-with-rsa-1024-cert-not-der.apk":         "c5d4535a7e1c8111687a8374b2198da6f5ff8d811a7a25aa99ef060669342fa9",
	"v1-only-with-rsa-1024-cert-not-der2.apk":        "da3da398de674541313deed77218ce94798531ea5131bb9b1bb4063ba4548cfb",
}

func TestApksigVectors(t *testing.T) {
	dir := filepath.Join(testenv.AndroguardDir(t), "signing", "apksig")
	files, _ := filepath.Glob(filepath.Join(dir, "*.apk"))
	if len(files) < 250 {
		t.Fatalf("only %d APKs in %s", len(files), dir)
	}
	for name := range exceptions {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("exception %s: %v (stale entry?)", name, err)
		}
	}
	for _, p := range files {
		name := filepath.Base(p)
		want := true
		for _, tok := range failTokens {
			if strings.Contains(name, tok) {
				want = false
			}
		}
		if ex, ok := exceptions[name]; ok {
			want = ex.verified
		}
		t.Run(name, func(t *testing.T) {
			res, err := verifyFile(p)
			if want := certSHA256[name]; want != "" && (err != nil || len(res.Certificates) != 1 || res.Certificates[0].SHA256 != want) {
				t.Errorf("signer certificate: want exactly one with SHA-256 %s, got %+v (%v)", want, res, err)
			}
			got := err == nil && res.Verified()
			if got != want {
				var why []string
				if err != nil {
					why = append(why, err.Error())
				} else {
					for _, s := range res.Schemes {
						if s.Present {
							why = append(why, s.Name+": "+s.Error())
						}
					}
				}
				t.Errorf("verified = %v, want %v (%s)", got, want, strings.Join(why, " | "))
			}
		})
	}
}

func verifyFile(p string) (*Result, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	a, err := zipfs.Open(f, fi.Size(), zipfs.Limits{})
	if err != nil {
		return nil, err
	}
	return Verify(context.Background(), a)
}
