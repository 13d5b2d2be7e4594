package collab

import (
	"strings"
	"testing"
)

// TestRenderMarkdown: prose formatting and autolinks survive; markup
// that could run script, restyle the page or leave the site unmarked is
// removed.
func TestRenderMarkdown(t *testing.T) {
	cases := []struct {
		in      string
		has     []string
		hasNone []string
	}{
		{"See https://www.itu.int/dfs for **details**.", []string{`<a href="https://www.itu.int/dfs" rel="nofollow noreferrer">https://www.itu.int/dfs</a>`, "<strong>details</strong>"}, nil},
		{"line one\nline two", []string{"line one<br>"}, nil},
		{"- a\n- b", []string{"<ul>", "<li>a</li>"}, nil},
		{"<script>alert(1)</script> hi", nil, []string{"<script", "alert(1)</script"}},
		{`<img src=x onerror=alert(1)>`, nil, []string{"<img", "onerror"}},
		{"[click](javascript:alert(1))", nil, []string{"javascript:"}},
		{`<a href="https://evil.example" style="position:fixed">x</a>`, nil, []string{"style="}},
		{"![pixel](https://tracker.example/p.png)", nil, []string{"<img", "tracker.example/p.png\""}},
		{"`<b>code</b>`", []string{"<code>&lt;b&gt;code&lt;/b&gt;</code>"}, nil},
	}
	for _, c := range cases {
		got := string(RenderMarkdown(c.in))
		for _, h := range c.has {
			if !strings.Contains(got, h) {
				t.Errorf("%q → %q, lacks %q", c.in, got, h)
			}
		}
		for _, h := range c.hasNone {
			if strings.Contains(got, h) {
				t.Errorf("%q → %q, keeps %q", c.in, got, h)
			}
		}
	}
}
