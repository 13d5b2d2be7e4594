package web

import (
	"net/url"
	"strings"
)

// LocalPath reports whether p is a path on this site, as a browser would
// read it: it starts with one "/", and no character a browser drops or
// rewrites (tab, CR, LF, other control characters, "\" which browsers
// treat as "/") can turn it into "//host". Every redirect target and link
// taken from input ("back" fields, ?next=, the Referer, notification
// links) goes through it: one rule for staying on the site.
func LocalPath(p string) bool {
	if p == "" || p[0] != '/' || strings.HasPrefix(p, "//") {
		return false
	}
	if strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return false
	}
	u, err := url.Parse(p)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil
}
