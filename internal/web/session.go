package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Session lifetimes (issue 3): a session ends after 30 minutes without a
// request or 12 hours after sign-in, whichever comes first.
const (
	IdleTimeout     = 30 * time.Minute
	AbsoluteTimeout = 12 * time.Hour
	// touchEvery bounds how often a request writes last-seen: a write per
	// request would serialise every page view on SQLite, and a minute is
	// far finer than the idle timeout.
	touchEvery = time.Minute
)

// Cookie names. The __Host- prefix makes browsers refuse the cookie unless
// it is Secure, host-only and Path=/; plain-HTTP localhost (development)
// cannot set Secure cookies reliably, so there the plain name is used.
const (
	secureCookieName   = "__Host-dfslab_session"
	insecureCookieName = "dfslab_session"
)

// ErrNoSession is returned by a SessionStore when a token names no live
// session (unknown, revoked, expired, or its user is deactivated).
var ErrNoSession = errors.New("no such session")

// NewSession describes a session to create.
type NewSession struct {
	UserID    int64
	IP        string
	UserAgent string
	Created   time.Time
	ExpiresAt time.Time
}

// SessionStore is what the shell needs from the identity store. Lookups
// run on every request, so each must be one indexed query (or two).
type SessionStore interface {
	// CreateSession stores a new session (verified at creation) and returns
	// the secret for the cookie. The store keeps only a hash of it.
	CreateSession(ctx context.Context, s NewSession) (token string, err error)
	// LookupSession resolves a cookie secret to the principal, with its
	// session and memberships, or ErrNoSession.
	LookupSession(ctx context.Context, token string) (*Principal, error)
	// TouchSession records activity on the session.
	TouchSession(ctx context.Context, sessionID string, now time.Time) error
	// MarkSessionVerified records a fresh passkey/TOTP verification (step-up).
	MarkSessionVerified(ctx context.Context, sessionID string, now time.Time) error
	// RenewSession replaces the session's secret, keeping its absolute
	// expiry, and returns the new secret with that expiry.
	RenewSession(ctx context.Context, token string) (newToken string, expires time.Time, err error)
	// EndSession ends the session of a cookie secret; unknown secrets are
	// not an error (signing out twice is harmless).
	EndSession(ctx context.Context, token string) error
	// LookupToken resolves a bearer API token, or ErrNoSession.
	LookupToken(ctx context.Context, token string) (*Principal, error)
}

// Sessions starts, renews, checks and ends browser sessions. The
// authentication package calls Start after a successful sign-in, End on
// sign-out and MarkVerified after a step-up verification.
type Sessions struct {
	store  SessionStore
	secure bool
	now    func() time.Time
}

// NewSessions returns a session manager. secure selects the Secure,
// __Host- cookie; it may be false only for plain-HTTP loopback serving.
// now is the clock (nil: time.Now).
func NewSessions(store SessionStore, secure bool, now func() time.Time) *Sessions {
	if now == nil {
		now = time.Now
	}
	return &Sessions{store: store, secure: secure, now: now}
}

// CookieName is the name of the session cookie.
func (m *Sessions) CookieName() string {
	if m.secure {
		return secureCookieName
	}
	return insecureCookieName
}

// Start signs userID in: it ends the session the request came with, if
// any (a new session at every sign-in defeats session fixation), creates a
// new one and sets its cookie.
func (m *Sessions) Start(w http.ResponseWriter, r *http.Request, userID int64) error {
	ctx := r.Context()
	if c, err := r.Cookie(m.CookieName()); err == nil && c.Value != "" {
		if err := m.store.EndSession(ctx, c.Value); err != nil {
			return fmt.Errorf("end previous session: %w", err)
		}
	}
	now := m.now()
	exp := now.Add(AbsoluteTimeout)
	tok, err := m.store.CreateSession(ctx, NewSession{
		UserID: userID, IP: ClientIP(r), UserAgent: truncate(r.UserAgent(), 256),
		Created: now, ExpiresAt: exp,
	})
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	http.SetCookie(w, m.cookie(tok, exp, now))
	return nil
}

// Renew gives the request's session a new secret (and cookie) without
// extending it: call it after a privilege change, so that a secret seen
// before the change does not carry the new privileges.
func (m *Sessions) Renew(w http.ResponseWriter, r *http.Request) error {
	c, err := r.Cookie(m.CookieName())
	if err != nil || c.Value == "" {
		return ErrNoSession
	}
	tok, exp, err := m.store.RenewSession(r.Context(), c.Value)
	if err != nil {
		return fmt.Errorf("renew session: %w", err)
	}
	http.SetCookie(w, m.cookie(tok, exp, m.now()))
	return nil
}

// End signs the request's user out: the server-side session is revoked
// and the cookie cleared.
func (m *Sessions) End(w http.ResponseWriter, r *http.Request) error {
	http.SetCookie(w, m.clear())
	if c, err := r.Cookie(m.CookieName()); err == nil && c.Value != "" {
		if err := m.store.EndSession(r.Context(), c.Value); err != nil {
			return fmt.Errorf("end session: %w", err)
		}
	}
	return nil
}

// MarkVerified records that the request's user has just verified with a
// passkey or TOTP, which satisfies step-up for StepUpWindow.
func (m *Sessions) MarkVerified(r *http.Request) error {
	p := CurrentPrincipal(r.Context())
	if p == nil || p.Session == nil {
		return ErrNoSession
	}
	now := m.now()
	if err := m.store.MarkSessionVerified(r.Context(), p.Session.ID, now); err != nil {
		return fmt.Errorf("mark session verified: %w", err)
	}
	p.Session.VerifiedAt = now
	return nil
}

// Fresh reports whether the request's session verified within StepUpWindow.
func (m *Sessions) Fresh(r *http.Request) bool {
	p := CurrentPrincipal(r.Context())
	return p != nil && p.Session != nil && m.now().Sub(p.Session.VerifiedAt) <= StepUpWindow
}

// load resolves the request's cookie to a principal, enforcing the idle
// and absolute timeouts here as well as in the store, so that a store bug
// cannot extend a session. clear is true when the cookie should go.
func (m *Sessions) load(r *http.Request) (p *Principal, clear bool, err error) {
	c, err := r.Cookie(m.CookieName())
	if err != nil || c.Value == "" {
		return nil, false, nil
	}
	if len(c.Value) > 256 {
		return nil, true, nil
	}
	ctx := r.Context()
	p, err = m.store.LookupSession(ctx, c.Value)
	if errors.Is(err, ErrNoSession) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("look up session: %w", err)
	}
	s := p.Session
	if s == nil {
		return nil, true, nil
	}
	now := m.now()
	if now.Sub(s.LastSeen) > IdleTimeout || !now.Before(s.ExpiresAt) || now.Sub(s.CreatedAt) >= AbsoluteTimeout {
		// Expired: end it for good so a clock skew cannot revive it.
		if err := m.store.EndSession(ctx, c.Value); err != nil {
			return nil, true, fmt.Errorf("end expired session: %w", err)
		}
		return nil, true, nil
	}
	if now.Sub(s.LastSeen) >= touchEvery {
		if err := m.store.TouchSession(ctx, s.ID, now); err != nil {
			return nil, false, fmt.Errorf("touch session: %w", err)
		}
		s.LastSeen = now
	}
	return p, false, nil
}

func (m *Sessions) cookie(value string, exp, now time.Time) *http.Cookie {
	return &http.Cookie{
		Name: m.CookieName(), Value: value, Path: "/",
		Expires: exp, MaxAge: int(exp.Sub(now).Seconds()),
		Secure: m.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	}
}

func (m *Sessions) clear() *http.Cookie {
	return &http.Cookie{
		Name: m.CookieName(), Value: "", Path: "/", MaxAge: -1,
		Secure: m.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
