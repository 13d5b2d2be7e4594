package adoption

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseRoles: the roles a regulator types are either refused with the
// field named, or kept as 1 to 5 distinct one-line roles of at most 60
// characters, each without surrounding or repeated spaces.
func FuzzParseRoles(f *testing.F) {
	for _, s := range []string{"CISO", "CISO\nCEO", "ciso\r\nCISO", "", " \n\t", "a\nb\nc\nd\ne\nf", strings.Repeat("é", 61), "Head  of\tIT risk"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		roles, err := parseRoles(text)
		if err != nil {
			var ie *InvalidError
			if !errors.As(err, &ie) || ie.Field != "roles" || !errors.Is(err, ErrInvalid) {
				t.Fatalf("%q: %v, want invalid roles", text, err)
			}
			return
		}
		if len(roles) == 0 || len(roles) > maxAttestRoles {
			t.Fatalf("%q: %d roles", text, len(roles))
		}
		for i, r := range roles {
			if r == "" || strings.ContainsAny(r, "\r\n") || r != strings.Join(strings.Fields(r), " ") || utf8.RuneCountInString(r) > maxAttestRoleLen {
				t.Fatalf("%q: role %q", text, r)
			}
			for _, q := range roles[:i] {
				if strings.EqualFold(q, r) {
					t.Fatalf("%q: %q twice", text, r)
				}
			}
		}
	})
}
