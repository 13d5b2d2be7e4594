package adoption

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dfslab/dfslab/internal/catalog"
)

// FuzzCleanFileName: an uploaded file's name is untrusted; what is kept
// must be one printable path element, valid UTF-8, bounded.
func FuzzCleanFileName(f *testing.F) {
	for _, s := range []string{"report.pdf", `..\..\x "y".pdf`, "../../etc/passwd", "", ".", "a\x00b\r\nc", strings.Repeat("é", 150)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got := cleanFileName(name)
		if got == "" || got == "." || got == ".." {
			t.Fatalf("cleanFileName(%q) = %q", name, got)
		}
		if strings.ContainsAny(got, "/\"\x00\r\n") || len(got) > 200 {
			t.Fatalf("cleanFileName(%q) = %q keeps a separator, quote or control character", name, got)
		}
		if utf8.ValidString(name) && !utf8.ValidString(got) {
			t.Fatalf("cleanFileName cut a rune: %q", got)
		}
	})
}

// FuzzMarkdown: text a regulator types (local text, reasons) must not
// add structure to the exported document: no heading, table row or
// raw HTML of its own.
func FuzzMarkdown(f *testing.F) {
	cat, err := catalog.Load()
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"plain", "# heading\n## two", "| a | b |", "<script>x</script>", "[link](http://x)", "line\n\n### x"} {
		f.Add(s, s)
	}
	rec := cat.Recommendations[0].ID
	f.Fuzz(func(t *testing.T, local, reason string) {
		v := Version{Country: "MW", Number: 1, PublishedAt: time.Unix(0, 0).UTC(), Items: []BaselineItem{
			{RecID: rec, Decision: Adapted, LocalText: local},
			{RecID: cat.Recommendations[1].ID, Decision: NotAdopted, Reason: reason},
		}}
		md := string(Markdown(v, cat))
		headings, rows := 0, 0
		for _, line := range strings.Split(md, "\n") {
			if strings.HasPrefix(line, "#") {
				headings++
			}
			if strings.HasPrefix(line, "|") {
				rows++
			}
		}
		// Title, one layer heading, two items; the decision table has a
		// header, a rule and four rows.
		if headings != 4 || rows != 6 {
			t.Fatalf("user text changed the document's structure (%d headings, %d table lines):\n%s", headings, rows, md)
		}
		if strings.Contains(md, "<") {
			t.Fatalf("raw HTML in the Markdown export:\n%s", md)
		}
	})
}
