package collab

import (
	"bytes"
	"html/template"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"
)

// Posts are written in Markdown: goldmark renders them (raw HTML in a
// post is dropped, bare URLs become links, single line breaks stay), then
// bluemonday keeps only the elements and attributes of plain prose and
// links to http, https and mailto addresses, so that a post can never
// carry script, styles, images from elsewhere or a javascript: link.
// Both are built once and only read afterwards, so one of each serves
// every request.
var (
	markdown = goldmark.New(
		goldmark.WithExtensions(extension.Linkify, extension.Strikethrough),
		goldmark.WithRendererOptions(html.WithHardWraps()),
	)
	postPolicy = func() *bluemonday.Policy {
		p := bluemonday.NewPolicy()
		p.AllowElements("p", "br", "em", "strong", "del", "code", "pre", "blockquote", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "hr")
		p.AllowAttrs("href").OnElements("a")
		p.AllowURLSchemes("http", "https", "mailto")
		p.RequireParseableURLs(true)
		p.RequireNoFollowOnLinks(true)
		p.RequireNoReferrerOnLinks(true)
		return p
	}()
)

// RenderMarkdown turns a post's Markdown into sanitised HTML.
func RenderMarkdown(src string) template.HTML {
	var b bytes.Buffer
	if err := markdown.Convert([]byte(src), &b); err != nil {
		// goldmark fails only when the writer does; a bytes.Buffer does
		// not. Show the text escaped rather than nothing.
		return template.HTML(template.HTMLEscapeString(src))
	}
	return template.HTML(postPolicy.SanitizeBytes(b.Bytes())) // sanitised above: only prose and safe links remain
}

// HTML is the post's body rendered from Markdown, sanitised.
func (p Post) HTML() template.HTML { return RenderMarkdown(p.Body) }
