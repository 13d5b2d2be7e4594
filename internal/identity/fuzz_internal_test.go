package identity

import (
	"strings"
	"testing"
	"time"
)

// FuzzMatchTOTP feeds untrusted code input: only exact six-digit strings of
// the accepted window may match, and nothing panics.
func FuzzMatchTOTP(f *testing.F) {
	secret := []byte("12345678901234567890")
	now := time.Unix(1111111109, 0)
	f.Add("081804")
	f.Add(" 081 804 ")
	f.Add("81804")
	f.Add("０８１８０４")
	f.Add(strings.Repeat("9", 1000))
	f.Fuzz(func(t *testing.T, code string) {
		step := matchTOTP(secret, code, now)
		if step == 0 {
			return
		}
		cur := now.Unix() / 30
		if step < cur-1 || step > cur+1 {
			t.Fatalf("step %d outside the window", step)
		}
		norm := strings.ReplaceAll(strings.TrimSpace(code), " ", "")
		if norm != totpCode(secret, step) {
			t.Fatalf("%q matched step %d whose code is %s", code, step, totpCode(secret, step))
		}
	})
}

// FuzzNormalizeCountry: whatever is accepted is one of the assigned codes.
func FuzzNormalizeCountry(f *testing.F) {
	for _, s := range []string{"mw", "LS", "XK", "M W", "MWI", "", "\n", "ZW\n"} {
		f.Add(s)
	}
	all := map[string]bool{}
	for _, c := range Countries() {
		all[c] = true
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := NormalizeCountry(s)
		if ok != all[c] || (ok && c != strings.ToUpper(strings.TrimSpace(s))) {
			t.Fatalf("NormalizeCountry(%q) = %q, %v", s, c, ok)
		}
	})
}
