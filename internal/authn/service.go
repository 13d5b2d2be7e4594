package authn

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/dfslab/dfslab/internal/web"
)

// Shell is what the pages need from the web shell: the shared layout,
// the generic error page and the session cookie.
type Shell interface {
	// RenderPage writes body inside the shared layout.
	RenderPage(w http.ResponseWriter, r *http.Request, status int, title string, body template.HTML)
	// Error writes the generic error page for status.
	Error(w http.ResponseWriter, r *http.Request, status int)
	// StartSession ends the request's session, if any, and starts a new
	// one for userID, verified now (sign-in renews the session ID).
	StartSession(w http.ResponseWriter, r *http.Request, userID int64) error
	// EndSession ends the request's session and clears its cookie.
	EndSession(w http.ResponseWriter, r *http.Request) error
}

// verifier is implemented by shells that can also record a step-up.
type verifier interface {
	MarkVerified(r *http.Request) error
}

// Limiter is the back-off of failed authentication. The shell already
// delays addresses on every route marked RateLimited; this adds the
// account (account == "" means the address only). It delays, never locks
// out, so an attacker cannot keep a real user out; passkey assertions are
// never gated on the account, since they cannot be guessed.
type Limiter interface {
	AccountWait(r *http.Request, account string) time.Duration
	Failure(r *http.Request, account string)
	Success(r *http.Request, account string)
}

// shellLimiter is the default Limiter: the shell's limiter, reached
// through the request.
type shellLimiter struct{}

func (shellLimiter) AccountWait(r *http.Request, account string) time.Duration {
	return web.AccountWait(r, account)
}
func (shellLimiter) Failure(r *http.Request, account string) { web.AuthFailure(r, account) }
func (shellLimiter) Success(r *http.Request, account string) { web.AuthSuccess(r, account) }

// Config configures the authentication service.
type Config struct {
	// BaseURL is the public URL of the platform (--base-url); it fixes the
	// WebAuthn relying party ID and origin.
	BaseURL string
	// SiteName is shown by authenticators and authenticator apps.
	SiteName string
	Store    Store
	Shell    Shell
	// MarkVerified records a fresh passkey or TOTP verification of the
	// request's session, which satisfies step-up for StepUpWindow
	// (web.Sessions.MarkVerified). Default: the Shell's own MarkVerified.
	MarkVerified func(r *http.Request) error
	Ceremonies   Ceremonies // default: in memory
	Limiter      Limiter    // default: the shell's limiter
	Logger       *slog.Logger
	Now          func() time.Time
}

// Service serves the authentication pages and API.
type Service struct {
	cfg    Config
	wa     *webauthn.WebAuthn
	secure bool
	tmpl   *template.Template
	log    *slog.Logger
	now    func() time.Time
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// StaticFS holds the browser code of the WebAuthn ceremonies (authn.js);
// the shell serves it at StaticPrefix.
func StaticFS() fs.FS {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}

// StaticPrefix is where the pages expect StaticFS to be served.
const StaticPrefix = "/static/authn/"

// New returns the service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Shell == nil {
		return nil, errors.New("authn: Store and Shell are required")
	}
	if cfg.MarkVerified == nil {
		v, ok := cfg.Shell.(verifier)
		if !ok {
			return nil, errors.New("authn: Config.MarkVerified is required (the Shell has no MarkVerified)")
		}
		cfg.MarkVerified = v.MarkVerified
	}
	if cfg.SiteName == "" {
		cfg.SiteName = "DFS Security Lab"
	}
	wa, err := NewWebAuthn(cfg.BaseURL, cfg.SiteName)
	if err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Ceremonies == nil {
		cfg.Ceremonies = NewMemoryCeremonies(10000, cfg.Now)
	}
	if cfg.Limiter == nil {
		cfg.Limiter = shellLimiter{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	tmpl, err := template.New("authn").Funcs(template.FuncMap{
		"static": func(name string) string { return StaticPrefix + name },
		"when":   formatTime,
		"device": DeviceName,
		"hexid":  func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) },
	}).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("authn: templates: %w", err)
	}
	u, _ := url.Parse(cfg.BaseURL) // validated by NewWebAuthn
	return &Service{
		cfg:    cfg,
		wa:     wa,
		secure: u.Scheme == "https",
		tmpl:   tmpl,
		log:    cfg.Logger,
		now:    cfg.Now,
	}, nil
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// meta describes the request for the audit log.
func (s *Service) meta(r *http.Request) Meta {
	m := Meta{
		IP:        web.ClientIP(r),
		RequestID: web.RequestID(r.Context()),
		UserAgent: r.UserAgent(),
	}
	if p := web.CurrentPrincipal(r.Context()); p != nil {
		m.ActorID = p.User.ID
	}
	return m
}

// audit records a refusal or failure; a failure to record is logged, not
// shown, because the request is refused either way.
func (s *Service) audit(r *http.Request, m Meta, action, objType, objID string, details map[string]any) {
	if err := s.cfg.Store.Audit(r.Context(), m, AuditEvent{Action: action, ObjectType: objType, ObjectID: objID, Details: details}); err != nil {
		s.log.ErrorContext(r.Context(), "audit append failed", "action", action, "err", err)
	}
}

// render writes the named page template inside the shell's layout.
func (s *Service) render(w http.ResponseWriter, r *http.Request, status int, title, name string, data any) {
	var buf bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		s.log.ErrorContext(r.Context(), "render", "template", name, "err", err)
		s.cfg.Shell.Error(w, r, http.StatusInternalServerError)
		return
	}
	s.cfg.Shell.RenderPage(w, r, status, title, template.HTML(buf.String()))
}

// ---- ceremony state, bound to a pre-authentication cookie ----

func (s *Service) ceremonyCookieName() string {
	// The __Host- prefix needs Secure, which plain-HTTP localhost lacks.
	if s.secure {
		return "__Host-dfslab-ceremony"
	}
	return "dfslab-ceremony"
}

// ceremonyKey returns the storage key of kind for this browser, setting
// the cookie on w when create is true and the browser has none.
func (s *Service) ceremonyKey(w http.ResponseWriter, r *http.Request, kind ceremonyKind, create bool) (string, bool) {
	var v string
	if c, err := r.Cookie(s.ceremonyCookieName()); err == nil && len(c.Value) == 43 {
		v = c.Value
	}
	if v == "" {
		if !create {
			return "", false
		}
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		v = base64.RawURLEncoding.EncodeToString(b)
		http.SetCookie(w, &http.Cookie{
			Name: s.ceremonyCookieName(), Value: v, Path: "/",
			MaxAge: int((2 * CeremonyTTL).Seconds()), HttpOnly: true, Secure: s.secure,
			SameSite: http.SameSiteStrictMode,
		})
	}
	// Only a hash of the cookie is kept server-side.
	h := sha256.Sum256([]byte(v))
	return string(kind) + ":" + hex.EncodeToString(h[:]), true
}

// putCeremony stores c for this browser. A new state expires after
// CeremonyTTL; a state put back (another try at a second factor) keeps
// its expiry, so retries cannot extend it.
func (s *Service) putCeremony(w http.ResponseWriter, r *http.Request, c Ceremony) error {
	key, _ := s.ceremonyKey(w, r, c.Kind, true)
	if c.Expires.IsZero() {
		c.Expires = s.now().Add(CeremonyTTL)
	}
	return s.cfg.Ceremonies.Put(r.Context(), key, c)
}

func (s *Service) takeCeremony(w http.ResponseWriter, r *http.Request, kind ceremonyKind) (Ceremony, error) {
	key, ok := s.ceremonyKey(w, r, kind, false)
	if !ok {
		return Ceremony{}, ErrNotFound
	}
	return s.cfg.Ceremonies.Take(r.Context(), key)
}

// ---- JSON helpers for the ceremonies ----

// maxCeremonyBody bounds a WebAuthn response; real ones are a few KB.
const maxCeremonyBody = 64 << 10

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// jsonError answers a ceremony request; msg is shown to the user and must
// not reveal why a check failed beyond what the user can act on.
func jsonError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	var buf bytes.Buffer
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, maxCeremonyBody))
	return buf.Bytes(), err
}

// beginForm is what the page sends with a begin request.
type beginForm struct {
	Email       string `json:"email"`
	DisplayName string `json:"displayName"`
	PasskeyName string `json:"passkeyName"`
	Next        string `json:"next"`
	Conditional bool   `json:"conditional"`
}

func readBegin(w http.ResponseWriter, r *http.Request) (beginForm, error) {
	var f beginForm
	b, err := readBody(w, r)
	if err != nil {
		return f, err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return f, nil
	}
	err = json.Unmarshal(b, &f)
	f.Email = strings.TrimSpace(f.Email)
	f.DisplayName = strings.TrimSpace(f.DisplayName)
	f.PasskeyName = strings.TrimSpace(f.PasskeyName)
	return f, err
}

// safeNext keeps redirects on this site: a path, not a URL (web.LocalPath).
func safeNext(next, fallback string) string {
	if !web.LocalPath(next) {
		return fallback
	}
	return next
}

// ---- principal and step-up ----

func principal(r *http.Request) *web.Principal {
	p := web.CurrentPrincipal(r.Context())
	if p == nil || p.Session == nil {
		return nil
	}
	return p
}

// stepUpFresh reports whether the session was verified within the window.
func (s *Service) stepUpFresh(p *web.Principal) bool {
	return p != nil && p.Session != nil && !p.Session.VerifiedAt.IsZero() &&
		s.now().Sub(p.Session.VerifiedAt) <= StepUpWindow
}

// requireStepUp enforces step-up in the handler as well as in the shell's
// policy check, so a route wired with a weaker policy by mistake still
// cannot skip it. It answers the request and returns false when stale.
func (s *Service) requireStepUp(w http.ResponseWriter, r *http.Request, next string) bool {
	p := principal(r)
	if p == nil {
		s.cfg.Shell.Error(w, r, http.StatusUnauthorized)
		return false
	}
	if s.stepUpFresh(p) {
		return true
	}
	s.audit(r, s.meta(r), "authn.step_up.required", "route", r.Method+" "+r.URL.Path, nil)
	target := web.StepUpPath + "?next=" + url.QueryEscape(safeNext(next, "/account"))
	if wantsJSON(r) {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "Please confirm it is you first.", "redirect": target})
		return false
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return false
}

func wantsJSON(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Content-Type"), "application/json")
}

// accountKey names an account for the limiter.
func accountKey(what string, id any) string { return fmt.Sprintf("%s:%v", what, id) }

// limited answers 429 when the account must still wait.
func (s *Service) limited(w http.ResponseWriter, r *http.Request, account string) bool {
	d := s.cfg.Limiter.AccountWait(r, account)
	if d <= 0 {
		return false
	}
	w.Header().Set("Retry-After", fmt.Sprint(int((d+time.Second-1)/time.Second)))
	s.audit(r, s.meta(r), "authn.rate_limited", "account", account, nil)
	if wantsJSON(r) {
		jsonError(w, http.StatusTooManyRequests, "Too many attempts. Please wait a moment and try again.")
	} else {
		s.cfg.Shell.Error(w, r, http.StatusTooManyRequests)
	}
	return true
}

func (s *Service) failure(r *http.Request, account string) { s.cfg.Limiter.Failure(r, account) }
func (s *Service) success(r *http.Request, account string) { s.cfg.Limiter.Success(r, account) }
