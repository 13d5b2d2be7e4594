package web

import (
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// builtinRoutes are the shell's own routes: start page, probes, metrics,
// static assets and the catch-all 404.
func (s *Server) builtinRoutes() ([]Route, error) {
	home, err := s.rd.parse(layoutFS, "templates/home.html")
	if err != nil {
		return nil, err
	}
	resume, err := s.rd.parse(layoutFS, "templates/resume.html")
	if err != nil {
		return nil, err
	}
	return []Route{
		{Pattern: "GET /{$}", Policy: Public(), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var d struct{ Memberships []Membership }
			if p := CurrentPrincipal(r.Context()); p != nil {
				if s.home != nil {
					s.home.ServeHTTP(w, r)
					return
				}
				d.Memberships = p.Memberships
			}
			w.Header().Set("Cache-Control", "no-store")
			s.rd.execute(w, r, http.StatusOK, home, View{Title: "Home", Data: d})
		})},
		{Pattern: "POST " + CurrentOrgPath, Policy: SignedIn(), Handler: http.HandlerFunc(s.switchOrg)},
		// After a step-up, the form it interrupted (resume.go).
		{Pattern: "GET " + ResumePath + "{token}", Policy: SignedIn(), SecretPath: true, Handler: s.resume(resume)},
		{Pattern: "GET /healthz", Policy: Public(), Static: true, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.Write([]byte("ok\n"))
		})},
		{Pattern: "GET /readyz", Policy: Public(), Static: true, Handler: http.HandlerFunc(s.serveReady)},
		{Pattern: "GET /metrics", Policy: Public(), Static: true, Handler: s.metricsHandler()},
		{Pattern: "GET /static/{path...}", Policy: Public(), Static: true, Handler: http.HandlerFunc(s.serveStatic)},
		// Everything else: the generic 404 page, with the session loaded so
		// the layout shows the user's navigation.
		{Pattern: "/", Policy: Public(), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			Error(w, r, http.StatusNotFound)
		})},
	}, nil
}

func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.ready(r.Context()); err != nil {
		s.log.ErrorContext(r.Context(), "not ready", "err", err, "request_id", RequestID(r.Context()))
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("not ready\n"))
		return
	}
	w.Write([]byte("ready\n"))
}

// serveStatic serves an embedded asset from memory. A URL with the
// current ?v= hash may be cached for a year; others must revalidate.
func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("path")
	f := s.rd.assets.files[name]
	if f == nil || strings.Contains(name, "..") {
		Error(w, r, http.StatusNotFound)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("ETag", `"`+f.etag+`"`)
	if r.URL.Query().Get("v") == f.etag {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, "", time.Time{}, strings.NewReader(string(f.data)))
}

// metricsHandler serves Prometheus metrics, to loopback clients only
// unless Config.MetricsPublic: request counts and runtime figures are no
// secret, but there is no reason to show them to the Internet.
func (s *Server) metricsHandler() http.Handler {
	h := s.metrics.handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.cfg.MetricsPublic {
			ip, err := netip.ParseAddr(ClientIP(r))
			if err != nil || !ip.IsLoopback() {
				Error(w, r, http.StatusNotFound)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}
