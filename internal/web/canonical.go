package web

import (
	"net"
	"net/http"
	"strings"
)

// Passkeys are bound to the base URL's host name: a browser that opened
// the platform as http://127.0.0.1:8080 while the base URL says localhost
// can sign in with none (WebAuthn answers "invalid domain"). Page requests
// that reach the server under another loopback name of the same port are
// sent to the base URL instead; machine endpoints (health, readiness,
// metrics) answer under any name.

// loopbackAlias reports whether host (from a request) is another loopback
// name of the loopback base host: same port, different name.
func loopbackAlias(host, base, scheme string) bool {
	if host == "" || strings.EqualFold(host, base) {
		return false
	}
	h, hp := splitHostPort(host, scheme)
	b, bp := splitHostPort(base, scheme)
	return hp == bp && isLoopbackName(h) && isLoopbackName(b)
}

func splitHostPort(hostport, scheme string) (host, port string) {
	h, p, err := net.SplitHostPort(hostport)
	if err != nil {
		h, p = strings.Trim(hostport, "[]"), ""
	}
	if p == "" {
		p = "80"
		if scheme == "https" {
			p = "443"
		}
	}
	return strings.ToLower(h), p
}

func isLoopbackName(h string) bool {
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// machinePath reports whether p answers under any host name.
func machinePath(p string) bool {
	switch p {
	case "/healthz", "/readyz", "/metrics":
		return true
	}
	return false
}

// canonicalHost sends a request made under a loopback alias of the base
// URL to the base URL (GET and HEAD: a redirect; anything else: a page
// that names the address to use), and reports whether it answered.
func (s *Server) canonicalHost(w http.ResponseWriter, r *http.Request) bool {
	base := s.cfg.BaseURL
	if base == nil || machinePath(r.URL.Path) || !loopbackAlias(r.Host, base.Host, base.Scheme) {
		return false
	}
	target := base.Scheme + "://" + base.Host + r.URL.RequestURI()
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		// Temporary: the base URL is the operator's setting and may change.
		http.Redirect(w, r, target, http.StatusTemporaryRedirect)
		return true
	}
	s.rd.renderErrorMessage(w, r, http.StatusMisdirectedRequest,
		"This platform answers at "+base.Scheme+"://"+base.Host+"/ — passkeys only work there. Open it at that address and send the form again.")
	return true
}
