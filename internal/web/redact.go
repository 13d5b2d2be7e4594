package web

import (
	"net/http"
	"path"
	"strings"
)

// secretPattern is the path of a SecretPath route split at "/", with the
// index of its last wildcard segment.
type secretPattern struct {
	segs []string
	last int
}

func newSecretPattern(p string) (secretPattern, bool) {
	sp := secretPattern{segs: strings.Split(p, "/"), last: -1}
	for i, seg := range sp.segs {
		if strings.HasPrefix(seg, "{") && seg != "{$}" {
			sp.last = i
		}
	}
	return sp, sp.last >= 0
}

// redact returns segs with the wildcard segments of sp replaced by their
// names, when the literal segments before sp's last wildcard match. It
// matches prefixes on purpose: "/enrol/TOKEN/nonsense" (a 404) and
// "PUT /enrol/TOKEN" (a 405) carry the same secret as the real route.
func (sp secretPattern) redact(segs []string) ([]string, bool) {
	if len(segs) <= sp.last {
		return nil, false
	}
	for i := 0; i <= sp.last; i++ {
		lit := sp.segs[i]
		if !strings.HasPrefix(lit, "{") && !strings.EqualFold(lit, segs[i]) {
			return nil, false
		}
	}
	out := append([]string(nil), segs...)
	for i := 0; i <= sp.last; i++ {
		if w := sp.segs[i]; strings.HasPrefix(w, "{") {
			if strings.HasSuffix(w, "...}") {
				return append(out[:i], w), true
			}
			out[i] = w
		}
	}
	return out, true
}

// redactPath is p as it may be logged: the path with the secret segments
// of every SecretPath route replaced by the wildcard's name. The path is
// cleaned first, so "/enrol//TOKEN" or "/x/../enrol/TOKEN" (which the mux
// redirects) are caught as well.
func (s *Server) redactPath(p string) string {
	if len(s.secrets) == 0 {
		return p
	}
	segs := strings.Split(path.Clean("/"+p), "/")
	for _, sp := range s.secrets {
		if out, ok := sp.redact(segs); ok {
			return strings.Join(out, "/")
		}
	}
	return p
}

// LogPath returns the request's path as it may be written to logs and
// audit entries: secret segments (see Route.SecretPath) are replaced by
// their wildcard names. Handlers that log or audit a path use it.
func LogPath(r *http.Request) string {
	if s := info(r.Context()).srv; s != nil {
		return s.redactPath(r.URL.Path)
	}
	return r.URL.Path
}
