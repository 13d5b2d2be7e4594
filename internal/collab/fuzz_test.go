package collab

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzCleanText checks the invariants of what members' text becomes before
// it is stored: valid UTF-8, trimmed, no control characters but line
// breaks and tabs, within the limit, and stable when cleaned again.
func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"", " hello ", "a\r\nb", "a\x00b", "\xff", strings.Repeat("é", 30), "<script>", "tab\there"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := cleanText("Text", s, 20, true)
		if err != nil {
			if !strings.Contains(err.Error(), "Text") {
				t.Fatalf("error %q does not name the field", err)
			}
			return
		}
		if out == "" || !utf8.ValidString(out) || utf8.RuneCountInString(out) > 20 || strings.TrimSpace(out) != out {
			t.Fatalf("cleanText(%q) = %q", s, out)
		}
		for _, r := range out {
			if unicode.IsControl(r) && r != '\n' && r != '\t' {
				t.Fatalf("cleanText(%q) keeps control character %U", s, r)
			}
		}
		if again, err := cleanText("Text", out, 20, true); err != nil || again != out {
			t.Fatalf("cleaning %q again gives %q, %v", out, again, err)
		}
	})
}

// FuzzSafeLink checks that no accepted notification link leaves the site.
func FuzzSafeLink(f *testing.F) {
	for _, s := range []string{"/", "/discussions/1#post-2", "//evil", "/\\evil", "https://x", "javascript:x", "/a b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !safeLink(s) || s == "" {
			return
		}
		if s[0] != '/' || strings.HasPrefix(s, "//") || strings.ContainsAny(s, "\\\r\n\t ") {
			t.Fatalf("safeLink accepts %q", s)
		}
	})
}
