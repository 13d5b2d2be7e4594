package authn

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// codeAlphabet has 32 symbols without the easily confused i, l, o, u, so a
// code read off paper can be typed back; 5 bits per symbol.
const codeAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

func randomCode(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand does not fail on supported platforms (Go 1.24+).
		panic(err)
	}
	for i := range b {
		b[i] = codeAlphabet[b[i]&31]
	}
	return string(b)
}

// RecoveryCodeCount is how many recovery codes a user gets at a time.
const RecoveryCodeCount = 10

// NewRecoveryCodes returns fresh recovery codes formatted for display
// ("xxxxx-xxxxx", 50 random bits each) and their hashes for storage.
func NewRecoveryCodes() (codes []string, hashes [][]byte) {
	for range RecoveryCodeCount {
		c := randomCode(10)
		codes = append(codes, c[:5]+"-"+c[5:])
		hashes = append(hashes, HashRecoveryCode(c))
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

// HashRecoveryCode hashes a recovery code for storage. A fast hash is
// enough: the codes carry 50 random bits and attempts are rate limited.
func HashRecoveryCode(code string) []byte {
	h := sha256.Sum256([]byte("dfslab-recovery:" + NormaliseRecoveryCode(code)))
	return h[:]
}

// HashLinkToken hashes the token of an enrolment, invitation or recovery
// link; stores keep only this hash.
func HashLinkToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// API token format: "dfs_" + 8-symbol prefix + "_" + 32-symbol secret.
// The prefix finds the row; the hash of the whole token proves possession.
const tokenMarker = "dfs_"

var errBadToken = errors.New("authn: malformed API token")

// NewAPIToken returns a token to show once, its prefix and its hash.
func NewAPIToken() (token, prefix string, hash []byte) {
	prefix = randomCode(8)
	token = tokenMarker + prefix + "_" + randomCode(32)
	return token, prefix, HashAPIToken(token)
}

// HashAPIToken hashes a whole API token; 160 random bits make a fast hash
// safe here.
func HashAPIToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// ParseAPIToken returns the prefix of a well-formed token.
func ParseAPIToken(token string) (prefix string, err error) {
	rest, ok := strings.CutPrefix(token, tokenMarker)
	if !ok || len(rest) != 8+1+32 || rest[8] != '_' {
		return "", errBadToken
	}
	for i, r := range rest {
		if i == 8 {
			continue
		}
		if !strings.ContainsRune(codeAlphabet, r) {
			return "", errBadToken
		}
	}
	return rest[:8], nil
}

func equalHash(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

// TOTP parameters: the ones every authenticator app supports.
const (
	totpPeriod = 30
	totpDigits = otp.DigitsSix
)

// NewTOTPKey creates a secret for account (the user's e-mail address).
func NewTOTPKey(issuer, account string) (*otp.Key, error) {
	k, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		Period:      totpPeriod,
		SecretSize:  20,
		Digits:      totpDigits,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return nil, fmt.Errorf("authn: totp key: %w", err)
	}
	return k, nil
}

var errTOTPWrong = errors.New("authn: wrong TOTP code")

// MatchTOTP returns the time step the code belongs to, accepting one step
// of clock drift either way. The caller must still refuse steps used
// before; knowing the exact step is what makes that possible.
func MatchTOTP(secret, code string, now time.Time) (int64, error) {
	code = strings.TrimSpace(code)
	if len(code) != totpDigits.Length() {
		return 0, errTOTPWrong
	}
	opts := totp.ValidateOpts{Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1}
	step := now.Unix() / totpPeriod
	for _, s := range []int64{step - 1, step, step + 1} {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*totpPeriod, 0), opts)
		if err != nil {
			return 0, fmt.Errorf("authn: totp: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return s, nil
		}
	}
	return 0, errTOTPWrong
}

// NewTOTPKeyFromSecret rebuilds the otpauth:// URL of an existing secret,
// to show the QR code again after a wrong confirmation code.
func NewTOTPKeyFromSecret(issuer, account, secret string) (string, error) {
	v := url.Values{}
	v.Set("secret", secret)
	v.Set("issuer", issuer)
	v.Set("algorithm", "SHA1")
	v.Set("digits", "6")
	v.Set("period", "30")
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + account, RawQuery: v.Encode()}
	return u.String(), nil
}
