package web

import (
	"html/template"
	"net/http"
)

// Shell bundles what a capability package with its own templates needs
// from the shell: layout rendering, error pages and session start/end.
// It satisfies authn.Shell.
type Shell struct {
	rd  *Renderer
	ses *Sessions
}

// NewShell returns the shell services over rd and ses.
func NewShell(rd *Renderer, ses *Sessions) *Shell { return &Shell{rd: rd, ses: ses} }

// RenderPage writes body, already rendered by the caller's own
// html/template, inside the shared layout.
func (s *Shell) RenderPage(w http.ResponseWriter, r *http.Request, status int, title string, body template.HTML) {
	w.Header().Set("Cache-Control", "no-store")
	s.rd.execute(w, r, status, s.rd.raw, View{Title: title, Data: body})
}

// Error writes the generic error page for status.
func (s *Shell) Error(w http.ResponseWriter, r *http.Request, status int) { Error(w, r, status) }

// StartSession renews the session at sign-in (see Sessions.Start).
func (s *Shell) StartSession(w http.ResponseWriter, r *http.Request, userID int64) error {
	return s.ses.Start(w, r, userID)
}

// EndSession ends the request's session (see Sessions.End).
func (s *Shell) EndSession(w http.ResponseWriter, r *http.Request) error { return s.ses.End(w, r) }

// MarkVerified records a fresh passkey or TOTP verification of the
// request's session (see Sessions.MarkVerified).
func (s *Shell) MarkVerified(r *http.Request) error { return s.ses.MarkVerified(r) }
