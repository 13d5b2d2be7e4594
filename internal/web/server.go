package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// DefaultMaxBody bounds request bodies of routes that do not set their own
// limit: forms and JSON are small.
const DefaultMaxBody = 1 << 20

// Config is the shell's configuration.
type Config struct {
	// BaseURL is the public URL (scheme and host) of the platform; its
	// origin is trusted for CSRF checks behind a proxy that rewrites Host.
	BaseURL *url.URL
	// TLS is true when the server itself terminates TLS, or sits behind a
	// proxy that does (https BaseURL): it enables HSTS.
	TLS bool
	// TrustProxy takes the client address from the last X-Forwarded-For
	// hop; set it only behind a reverse proxy that sets that header.
	TrustProxy bool
	MaxBody    int64
	Logger     *slog.Logger
	// MetricsPublic serves /metrics to every client; by default only
	// loopback clients (a local Prometheus or an SSH tunnel) get it.
	MetricsPublic bool
	// MaxActive is how many page requests (GET and HEAD) do their work at
	// once; the others wait in arrival order (see admission). 0: one per
	// P (GOMAXPROCS); negative: no limit.
	MaxActive int
	// QueueTimeout is how long a page request waits for a slot before a
	// 503 (0: DefaultQueueTimeout).
	QueueTimeout time.Duration
}

// Deps are the services the shell calls.
type Deps struct {
	Sessions *Sessions
	Audit    Auditor
	Limiter  *Limiter
	// Ready reports whether the server can serve (database reachable).
	Ready func(context.Context) error
	// Renderer, with the static trees of the modules (NewRenderer).
	Renderer *Renderer
	// WithActor, if set, returns ctx carrying who acts in the request, so
	// that stores can attribute the audit entries they write in their own
	// transactions (the app wires it to audit.WithActor).
	WithActor func(ctx context.Context, a Actor) context.Context
	// Home, if set, is the start page of signed-in people (what they have
	// to do); visitors get the shell's own welcome page.
	Home http.Handler
}

// Actor is who acts in a request, for audit entries.
type Actor struct {
	UserID    int64 // 0: anonymous
	OrgID     int64 // organisation named in the path, 0 if none
	IP        string
	RequestID string
}

// Auditor records security events the shell itself observes (refused
// cross-origin requests, rate limiting). Writes to domain data are
// audited by their stores, in the same transaction.
type Auditor interface {
	Record(ctx context.Context, e AuditEvent) error
}

// AuditEvent is one security event for the audit log.
type AuditEvent struct {
	Action      string // e.g. "web.csrf_refused"
	ActorUserID int64  // 0: anonymous
	ObjectType  string
	ObjectID    string
	Details     map[string]any
	IP          string
	RequestID   string
}

// Server is the platform's HTTP handler.
type Server struct {
	cfg      Config
	log      *slog.Logger
	sessions *Sessions
	audit    Auditor
	limiter  *Limiter
	ready    func(context.Context) error
	rd       *Renderer
	actor    func(context.Context, Actor) context.Context
	cop      *http.CrossOriginProtection
	mux      *http.ServeMux
	routes   []Route
	metrics  *metrics
	// auditGate bounds the audit entries the shell writes for refused
	// requests per address, so that a flood of forged or throttled
	// requests cannot turn into a flood of database writes.
	auditGate *Limiter
	// secrets are the paths of SecretPath routes, for redactPath.
	secrets []secretPattern

	reqPrefix  string
	reqSeq     atomic.Uint64
	secHeaders []secHeader  // securityHeaders
	admit      *admission   // nil: page requests are not gated
	pending    pendingForms // forms waiting for their step-up (resume.go)
	home       http.Handler // Deps.Home
}

// New builds the server from its modules. Every route is validated: a
// route without a method, handler or valid policy is a start-up error.
func New(cfg Config, deps Deps, modules ...Module) (*Server, error) {
	if deps.Sessions == nil || deps.Renderer == nil {
		return nil, errors.New("web: Sessions and Renderer are required")
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Limiter == nil {
		deps.Limiter = NewLimiter(LimiterConfig{}, nil)
	}
	if deps.Ready == nil {
		deps.Ready = func(context.Context) error { return nil }
	}
	var pfx [4]byte
	rand.Read(pfx[:])
	s := &Server{
		cfg: cfg, log: cfg.Logger, sessions: deps.Sessions, audit: deps.Audit,
		limiter: deps.Limiter, ready: deps.Ready, rd: deps.Renderer, actor: deps.WithActor,
		cop: http.NewCrossOriginProtection(), mux: http.NewServeMux(),
		reqPrefix: hex.EncodeToString(pfx[:]) + "-", secHeaders: secHeaders(cfg.TLS), home: deps.Home,
	}
	if cfg.BaseURL != nil && cfg.BaseURL.Host != "" {
		origin := cfg.BaseURL.Scheme + "://" + cfg.BaseURL.Host
		if err := s.cop.AddTrustedOrigin(origin); err != nil {
			return nil, fmt.Errorf("web: base URL: %w", err)
		}
	}
	s.metrics = newMetrics()
	s.admit = newAdmission(cfg.MaxActive, cfg.QueueTimeout, s.metrics)
	s.auditGate = NewLimiter(LimiterConfig{Free: 5, Base: time.Minute, MaxDelay: 15 * time.Minute, Forget: time.Hour}, nil)

	var nav []NavItem
	var indicators []Indicator
	all, err := s.builtinRoutes()
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	for _, m := range modules {
		all = append(all, m.Routes()...)
		if n, ok := m.(Navigator); ok {
			nav = append(nav, n.Nav()...)
		}
		if in, ok := m.(Indicator); ok {
			indicators = append(indicators, in)
		}
	}
	seen := map[string]bool{}
	for _, rt := range all {
		if err := rt.validate(); err != nil {
			return nil, fmt.Errorf("web: %w", err)
		}
		if seen[rt.Pattern] {
			return nil, fmt.Errorf("web: route %q registered twice", rt.Pattern)
		}
		seen[rt.Pattern] = true
		h := s.wrap(rt)
		if err := register(s.mux, rt.Pattern, h); err != nil {
			return nil, fmt.Errorf("web: %w", err)
		}
		s.routes = append(s.routes, rt)
		if rt.SecretPath {
			if sp, ok := newSecretPattern(rt.Path()); ok {
				s.secrets = append(s.secrets, sp)
			}
		}
	}
	s.rd.setRoutes(s.routes, nav)
	s.rd.setIndicators(indicators)
	return s, nil
}

// register adds a pattern to the mux, turning its panic on conflicting
// patterns into an error.
func register(mux *http.ServeMux, pattern string, h http.Handler) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("route %q: %v", pattern, v)
		}
	}()
	mux.Handle(pattern, h)
	return nil
}

// Routes lists every registered route (for the authorisation matrix test
// and the docs).
func (s *Server) Routes() []Route { return append([]Route(nil), s.routes...) }

// Renderer returns the page renderer.
func (s *Server) Renderer() *Renderer { return s.rd }

// Sessions returns the session manager.
func (s *Server) Sessions() *Sessions { return s.sessions }

// Limiter returns the authentication rate limiter.
func (s *Server) Limiter() *Limiter { return s.limiter }

// ServeHTTP runs the middleware every request gets, then the mux.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ri := &requestInfo{
		id:    s.reqPrefix + strconv.FormatUint(s.reqSeq.Add(1), 36),
		ip:    s.clientIP(r),
		start: time.Now(),
		srv:   s,
	}
	r = r.WithContext(context.WithValue(r.Context(), requestInfoKey, ri))
	sw := &statusWriter{ResponseWriter: w}
	ri.sw = sw
	s.securityHeaders(sw.Header())
	sw.Header().Set("X-Request-Id", ri.id)
	defer s.finish(sw, r, ri)

	if s.canonicalHost(sw, r) {
		return
	}
	if err := s.cop.Check(r); err != nil {
		s.refuseCrossOrigin(sw, r)
		return
	}
	s.mux.ServeHTTP(sw, r)
}

// finish recovers a panicking handler (generic 500; the stack goes to the
// log only), then logs the request and counts it.
func (s *Server) finish(sw *statusWriter, r *http.Request, ri *requestInfo) {
	if v := recover(); v != nil {
		if v == http.ErrAbortHandler {
			panic(v)
		}
		s.log.LogAttrs(r.Context(), slog.LevelError, "panic serving request",
			slog.String("request_id", ri.id), slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
		if !sw.wrote {
			s.rd.renderError(sw, r, http.StatusInternalServerError)
		}
	}
	status := sw.status
	if status == 0 {
		status = http.StatusOK
	}
	d := time.Since(ri.start)
	route := "unmatched"
	if ri.route != nil {
		route = ri.route.Pattern
	}
	s.metrics.observe(route, status, d)
	var uid int64
	if ri.principal != nil {
		uid = ri.principal.User.ID
	}
	lvl := slog.LevelInfo
	switch {
	case status >= 500:
		lvl = slog.LevelError
	case ri.route != nil && ri.route.Static && status < 400:
		// Assets, probes and scrapes would drown the log at Info.
		lvl = slog.LevelDebug
	}
	s.log.LogAttrs(r.Context(), lvl, "http",
		slog.String("request_id", ri.id), slog.String("method", r.Method),
		slog.String("path", s.redactPath(r.URL.Path)), slog.String("route", route),
		slog.Int("status", status), slog.Duration("duration", d),
		slog.String("ip", ri.ip), slog.Int64("user", uid))
}

// secHeaders returns the security headers every response carries, in
// canonical form, built once per server.
func secHeaders(tls bool) []secHeader {
	hs := []secHeader{
		{"Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
			"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"},
		{"X-Content-Type-Options", "nosniff"},
		{"Referrer-Policy", "same-origin"},
		{"X-Frame-Options", "DENY"},
		{"Cross-Origin-Opener-Policy", "same-origin"},
		{"Cross-Origin-Resource-Policy", "same-origin"},
		{"Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"},
	}
	if tls {
		hs = append(hs, secHeader{"Strict-Transport-Security", "max-age=63072000; includeSubDomains"})
	}
	for i := range hs {
		hs[i].key = http.CanonicalHeaderKey(hs[i].key)
	}
	return hs
}

type secHeader struct{ key, value string }

// securityHeaders sets the security headers. Header.Set would
// canonicalise each name again and allocate once per header; the names
// are canonical already, and the values share one allocation per
// response, cut into slices whose capacity is their length, so that a
// later Header.Add copies rather than writes into a neighbour.
func (s *Server) securityHeaders(h http.Header) {
	vals := make([]string, len(s.secHeaders))
	for i, sh := range s.secHeaders {
		vals[i] = sh.value
		h[sh.key] = vals[i : i+1 : i+1]
	}
}

func (s *Server) clientIP(r *http.Request) string {
	if s.cfg.TrustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			last := xff[len(xff)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if ip := net.ParseIP(strings.TrimSpace(last)); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) refuseCrossOrigin(w http.ResponseWriter, r *http.Request) {
	ev := AuditEvent{Action: "web.csrf_refused", ObjectType: "route", ObjectID: r.Method + " " + s.redactPath(r.URL.Path),
		Details: map[string]any{"origin": truncate(r.Header.Get("Origin"), 200),
			"sec_fetch_site": truncate(r.Header.Get("Sec-Fetch-Site"), 40)}}
	// The session is not looked up for a refused request, so the actor
	// stays anonymous; the address and request ID identify it.
	s.recordRefusal(r, ev)
	Error(w, r, http.StatusForbidden)
}

// recordRefusal audits a refused request unless its address has had many
// refusals recorded lately (then it is only logged).
func (s *Server) recordRefusal(r *http.Request, ev AuditEvent) {
	key := ev.Action + "|" + info(r.Context()).ip
	if s.auditGate.Wait(key) > 0 {
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "refusal not audited (too many from this address)",
			slog.String("request_id", RequestID(r.Context())), slog.String("action", ev.Action), slog.String("ip", info(r.Context()).ip))
		return
	}
	s.auditGate.Failure(key)
	s.record(r, ev)
}

func (s *Server) record(r *http.Request, ev AuditEvent) {
	if s.audit == nil {
		return
	}
	ri := info(r.Context())
	ev.IP, ev.RequestID = ri.ip, ri.id
	if ev.ActorUserID == 0 && ri.principal != nil {
		ev.ActorUserID = ri.principal.User.ID
	}
	if err := s.audit.Record(r.Context(), ev); err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelError, "audit record failed",
			slog.String("request_id", ri.id), slog.String("action", ev.Action), slog.Any("err", err))
	}
}

// wrap returns the per-route handler: body limit, session, policy, rate
// limit, then the route's handler.
func (s *Server) wrap(rt Route) http.Handler {
	route := rt
	limit := rt.MaxBody
	if limit <= 0 {
		limit = s.cfg.MaxBody
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ri := info(r.Context())
		ri.route = &route
		// A body announced over the limit is refused without reading it,
		// but only after the session is known: the answer is a page of
		// the signed-in person's site, with the limit and a way back.
		tooLarge := r.ContentLength > limit
		if r.Body != nil && r.Body != http.NoBody && !tooLarge {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		if route.Static {
			route.Handler.ServeHTTP(w, r)
			return
		}
		if s.admit.gated(&route, r) && ri.sw != nil {
			ok, timedOut := s.admit.acquire(r.Context())
			if !ok {
				if timedOut {
					busy(w, r)
					return
				}
				// A client that went away while waiting gets no answer; the
				// log and metrics say 499, as nginx does for the case.
				ri.sw.status = statusClientGone
				return
			}
			ri.sw.gate = s.admit
			defer ri.sw.releaseGate()
		}
		if !s.authenticate(w, r, ri, route.Policy) {
			return
		}
		if p := ri.principal; p != nil && p.Session != nil && p.TOTPSetupRequired && !route.TOTPSetup {
			// The organisation's TOTP requirement holds on every page, not
			// only at sign-in: a session started before the requirement was
			// switched on (or a user who skipped the set-up page) goes back
			// to the set-up page until TOTP is on.
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, TOTPSetupPath, http.StatusSeeOther)
			return
		}
		if !s.authorise(w, r, ri, route.Policy) {
			return
		}
		if tooLarge {
			s.tooLarge(w, r, limit)
			return
		}
		if s.actor != nil {
			a := Actor{OrgID: ri.orgID, IP: ri.ip, RequestID: ri.id}
			if ri.principal != nil {
				a.UserID = ri.principal.User.ID
			}
			r = r.WithContext(s.actor(r.Context(), a))
		}
		if route.RateLimited {
			if d := s.limiter.Wait(AddrKey(ri.ip)); d > 0 {
				TooManyRequests(w, r, d)
				return
			}
		}
		// After authorisation, so that no anonymous caller gets a body
		// parsed on a route it may not use; before the handler, so that no
		// handler sees the text (input.go).
		if !s.checkInput(w, r) {
			return
		}
		route.Handler.ServeHTTP(w, r)
	})
}

// authenticate finds the principal: a bearer token on API routes, the
// session cookie elsewhere (never both, so a stolen token cannot drive
// the browser pages and a cookie cannot drive the API).
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, ri *requestInfo, pol Policy) bool {
	if pol.Access == AccessToken {
		tok, ok := bearer(r)
		if !ok {
			// No token at all is not a guess: no audit entry, no back-off.
			apiUnauthorized(w)
			return false
		}
		// An address that guessed wrong tokens waits before its next
		// lookup (the same back-off as the sign-in pages). A clean address
		// pays one map lookup here; a valid token never writes to the
		// limiter, so its requests stay on the fast path.
		key := AddrKey(ri.ip)
		if d := s.limiter.Wait(key); d > 0 {
			TooManyRequests(w, r, d)
			return false
		}
		p, err := s.sessions.store.LookupToken(r.Context(), tok)
		if errors.Is(err, ErrNoSession) {
			s.limiter.Failure(key)
			s.refuseToken(r, 0, "invalid", tok)
			apiUnauthorized(w)
			return false
		}
		if err != nil {
			s.internal(w, r, "look up API token", err)
			return false
		}
		ri.principal = p
		return true
	}
	p, clear, err := s.sessions.load(r)
	if clear {
		http.SetCookie(w, s.sessions.clear())
	}
	if err != nil {
		s.internal(w, r, "load session", err)
		return false
	}
	ri.principal = p
	return true
}

// authorise enforces the route's policy on the principal.
func (s *Server) authorise(w http.ResponseWriter, r *http.Request, ri *requestInfo, pol Policy) bool {
	p := ri.principal
	switch pol.Access {
	case AccessPublic:
		return true
	case AccessToken:
		if !p.TokenScope.Allows(pol.Scope) {
			// A valid token used beyond its scope is a mistake, not a
			// guess: audited, but it does not slow the address down.
			s.refuseToken(r, p.TokenID, "scope", "")
			apiError(w, http.StatusForbidden, "token scope does not allow this")
			return false
		}
		return true
	}
	if p == nil {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			http.Redirect(w, r, SignInPath+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		} else {
			Error(w, r, http.StatusUnauthorized)
		}
		return false
	}
	switch pol.Access {
	case AccessSignedIn:
	case AccessPlatformAdmin:
		if !p.User.PlatformAdmin {
			Error(w, r, http.StatusForbidden)
			return false
		}
	case AccessOrgRole:
		org, err := strconv.ParseInt(r.PathValue("org"), 10, 64)
		if err != nil || org <= 0 {
			Error(w, r, http.StatusNotFound)
			return false
		}
		role, member := p.Role(org)
		switch {
		case pol.PlatformAdminOverride && p.User.PlatformAdmin:
		case !member:
			// Not a member: the organisation's pages do not exist for
			// this user (no hint whether the ID is taken).
			Error(w, r, http.StatusNotFound)
			return false
		case !role.AtLeast(pol.MinRole):
			Error(w, r, http.StatusForbidden)
			return false
		}
		ri.orgID = org
		if member && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			s.rememberOrg(w, r, org)
		}
	default:
		Error(w, r, http.StatusForbidden)
		return false
	}
	if pol.StepUp && !s.sessions.Fresh(r) {
		next := r.URL.RequestURI()
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			// The form is kept and sent again after the verification
			// (resume.go); where it cannot be, the person goes back to the
			// page the form was on.
			if next = s.resumePath(r, p); next == "" {
				next = refererPath(r)
			}
		}
		http.Redirect(w, r, StepUpPath+"?next="+url.QueryEscape(next), http.StatusSeeOther)
		return false
	}
	return true
}

// tooLarge answers a request whose body is over the route's limit (413):
// the limit in words and, for pages, a link back to the form.
func (s *Server) tooLarge(w http.ResponseWriter, r *http.Request, limit int64) {
	msg := "The upload is larger than the limit of " + sizeWords(limit) + " for this form; nothing was stored."
	if strings.HasPrefix(r.URL.Path, "/api/") {
		apiError(w, http.StatusRequestEntityTooLarge, msg)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	// Only the Referer: the body, and its "back" field, stay unread.
	back := ""
	if u, err := url.Parse(r.Referer()); err == nil && u.Host == r.Host && LocalPath(u.RequestURI()) {
		back = u.RequestURI()
	}
	s.rd.renderErrorBack(w, r, http.StatusRequestEntityTooLarge, msg, back)
}

// sizeWords says a byte count as people read it (10 MB, 500 KB).
func sizeWords(n int64) string {
	switch {
	case n >= 1<<20:
		v := float64(n) / (1 << 20)
		if v >= 10 {
			return strconv.FormatFloat(v, 'f', 0, 64) + " MB"
		}
		return strings.TrimSuffix(strconv.FormatFloat(v, 'f', 1, 64), ".0") + " MB"
	case n >= 1<<10:
		return strconv.FormatInt(n>>10, 10) + " KB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// refererPath is where to return after a step-up that interrupted a form
// post: the form's "back" field, else the same-origin Referer, else "/".
func refererPath(r *http.Request) string {
	if b := r.PostFormValue("back"); LocalPath(b) {
		return b
	}
	if u, err := url.Parse(r.Referer()); err == nil && u.Host == r.Host {
		if p := u.RequestURI(); LocalPath(p) {
			return p
		}
	}
	return "/"
}

// refuseToken audits a refused API token (bounded per address, like every
// refusal). Only the token's public prefix is recorded, never its secret.
func (s *Server) refuseToken(r *http.Request, tokenID int64, reason, tok string) {
	ev := AuditEvent{Action: "api.token_refused", ObjectType: "api_token",
		Details: map[string]any{"reason": reason, "route": r.Method + " " + s.redactPath(r.URL.Path)}}
	if tokenID != 0 {
		ev.ObjectID = strconv.FormatInt(tokenID, 10)
	}
	if pfx := tokenPrefix(tok); pfx != "" {
		ev.Details["prefix"] = pfx
	}
	s.recordRefusal(r, ev)
}

// tokenPrefix returns the public prefix of a token shaped like the
// platform's ("dfs_" + prefix + "_" + secret), or "" for anything else: a
// malformed token may be a secret pasted in the wrong place, so nothing
// of it is recorded.
func tokenPrefix(tok string) string {
	marker, rest, ok := strings.Cut(tok, "_")
	if !ok || marker != "dfs" {
		return ""
	}
	pfx, secret, ok := strings.Cut(rest, "_")
	if !ok || len(pfx) == 0 || len(pfx) > 16 || len(secret) < 16 {
		return ""
	}
	for _, c := range pfx {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return ""
		}
	}
	return pfx
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	const p = "Bearer "
	if len(h) <= len(p) || !strings.EqualFold(h[:len(p)], p) || len(h) > 512 {
		return "", false
	}
	tok := strings.TrimSpace(h[len(p):])
	return tok, tok != ""
}

func apiUnauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="dfslab"`)
	apiError(w, http.StatusUnauthorized, "a valid API token is required")
}

func apiError(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, "{\"error\":%q}\n", msg)
}

func (s *Server) internal(w http.ResponseWriter, r *http.Request, what string, err error) {
	s.log.LogAttrs(r.Context(), slog.LevelError, what,
		slog.String("request_id", RequestID(r.Context())), slog.Any("err", err))
	Error(w, r, http.StatusInternalServerError)
}

// Error writes the generic error page for status (JSON under /api/). It
// says what kind of failure happened and the request ID, nothing else:
// no error text, no stack, no SQL.
func Error(w http.ResponseWriter, r *http.Request, status int) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		apiError(w, status, strings.ToLower(http.StatusText(status)))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if s := info(r.Context()).srv; s != nil {
		s.rd.renderError(w, r, status)
		return
	}
	http.Error(w, http.StatusText(status), status)
}

// ServerError logs err with the request ID and writes the generic 500 page.
func ServerError(w http.ResponseWriter, r *http.Request, what string, err error) {
	if s := info(r.Context()).srv; s != nil {
		s.internal(w, r, what, err)
		return
	}
	Error(w, r, http.StatusInternalServerError)
}

// TooManyRequests writes 429 with Retry-After in whole seconds.
func TooManyRequests(w http.ResponseWriter, r *http.Request, d time.Duration) {
	secs := int((d + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	if s := info(r.Context()).srv; s != nil {
		s.recordRefusal(r, AuditEvent{Action: "web.rate_limited", ObjectType: "route", ObjectID: r.Method + " " + s.redactPath(r.URL.Path)})
	}
	Error(w, r, http.StatusTooManyRequests)
}

// Audit records a security event with the request's actor, address and ID.
func Audit(r *http.Request, ev AuditEvent) {
	if s := info(r.Context()).srv; s != nil {
		s.record(r, ev)
	}
}

// ParseForm parses the request's form, writing 413 for an oversized body
// and 400 for a malformed one; it returns false when it wrote a response.
func ParseForm(w http.ResponseWriter, r *http.Request) bool {
	if err := r.ParseForm(); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			Error(w, r, http.StatusRequestEntityTooLarge)
		} else {
			Error(w, r, http.StatusBadRequest)
		}
		return false
	}
	return true
}

// AuthFailure records a failed authentication attempt from the request's
// address and, when account is not empty, against that account. It
// returns the delay now due from this address.
func AuthFailure(r *http.Request, account string) time.Duration {
	s := info(r.Context()).srv
	if s == nil {
		return 0
	}
	if account != "" {
		s.limiter.Failure(AccountKey(account))
	}
	return s.limiter.Failure(AddrKey(info(r.Context()).ip))
}

// AuthSuccess clears the back-off of the request's address and account.
func AuthSuccess(r *http.Request, account string) {
	s := info(r.Context()).srv
	if s == nil {
		return
	}
	s.limiter.Success(AddrKey(info(r.Context()).ip))
	if account != "" {
		s.limiter.Success(AccountKey(account))
	}
}

// AccountWait is how long guesses at a guessable factor (TOTP, recovery
// code) of account must wait. Do not gate passkey assertions on it.
func AccountWait(r *http.Request, account string) time.Duration {
	s := info(r.Context()).srv
	if s == nil || account == "" {
		return 0
	}
	return s.limiter.Wait(AccountKey(account))
}

// statusClientGone is the status logged for a request whose client left
// before it was answered.
const statusClientGone = 499

// statusWriter remembers the status for the log and metrics, and gives
// back the request's admission slot, if it holds one, before the first
// byte of the body goes out.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
	gate   *admission
}

func (w *statusWriter) releaseGate() {
	if w.gate != nil {
		w.gate.release()
		w.gate = nil
	}
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	w.releaseGate()
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// metrics are the server's Prometheus collectors, on a registry of its
// own (no global state: two servers in one test do not collide).
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dfslab_http_requests_total", Help: "HTTP requests by route and status class.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "dfslab_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
	}
	m.reg.MustRegister(m.requests, m.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

var codeClasses = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

func (m *metrics) observe(route string, status int, d time.Duration) {
	c := status/100 - 1
	if c < 0 || c >= len(codeClasses) {
		c = 4
	}
	m.requests.WithLabelValues(route, codeClasses[c]).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// logf logs a server-side defect with the request ID.
func logf(r *http.Request, format string, args ...any) {
	ri := info(r.Context())
	if ri.srv == nil {
		return
	}
	ri.srv.log.LogAttrs(r.Context(), slog.LevelError, fmt.Sprintf(format, args...), slog.String("request_id", ri.id))
}
