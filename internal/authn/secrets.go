package authn

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"net/url"
	"strconv"
	"strings"
)

// codeAlphabet has 32 symbols without the easily confused i, l, o, u, so a
// code read off paper can be typed back; 5 bits per symbol.
const codeAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

func randomCode(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (Go ≥ 1.24)
	for i := range b {
		b[i] = codeAlphabet[b[i]&31]
	}
	return string(b)
}

// RecoveryCodeCount is how many recovery codes a user gets at a time.
const RecoveryCodeCount = 10

// NewRecoveryCodes returns fresh recovery codes of userID formatted for
// display ("xxxxx-xxxxx", 50 random bits each) and their hashes for storage.
func NewRecoveryCodes(userID int64) (codes []string, hashes [][]byte) {
	for range RecoveryCodeCount {
		c := randomCode(10)
		codes = append(codes, c[:5]+"-"+c[5:])
		hashes = append(hashes, HashRecoveryCode(userID, c))
	}
	return codes, hashes
}

// NormaliseRecoveryCode accepts what people type: any case, spaces or
// hyphens, and the look-alikes of 0 and 1.
func NormaliseRecoveryCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch r {
		case ' ', '-', '\t':
			continue
		case 'o':
			r = '0'
		case 'i', 'l':
			r = '1'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// HashRecoveryCode hashes a recovery code of userID for storage. The user
// ID is mixed in so that a code is worth nothing for another account; a
// fast hash is enough for 50 random bits behind a rate limit.
func HashRecoveryCode(userID int64, code string) []byte {
	h := sha256.Sum256([]byte("dfslab-recovery:" + strconv.FormatInt(userID, 10) + ":" + NormaliseRecoveryCode(code)))
	return h[:]
}

// HashLinkToken hashes the token of an enrolment, invitation or recovery
// link (SHA-256, as the identity store does).
func HashLinkToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func equalHash(a, b []byte) bool { return len(a) > 0 && subtle.ConstantTimeCompare(a, b) == 1 }

// TOTPURL is the otpauth:// URI (Key Uri Format) of a base32 secret, with
// the parameters every authenticator app supports: SHA-1, 6 digits, 30 s.
func TOTPURL(issuer, account, secret string) string {
	v := url.Values{}
	v.Set("secret", secret)
	v.Set("issuer", issuer)
	v.Set("algorithm", "SHA1")
	v.Set("digits", "6")
	v.Set("period", "30")
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + account, RawQuery: v.Encode()}
	return u.String()
}
