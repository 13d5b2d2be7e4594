package authn

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ---- sign-out ----

func (s *Service) signOut(w http.ResponseWriter, r *http.Request) {
	m := s.meta(r)
	if err := s.cfg.Shell.EndSession(w, r); err != nil {
		s.log.ErrorContext(r.Context(), "end session", "err", err)
	}
	if m.ActorID != 0 {
		s.audit(r, m, "authn.signout", "user", fmt.Sprint(m.ActorID), nil)
	}
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

// signedIn returns the principal of a browser session or answers 401.
func (s *Service) signedIn(w http.ResponseWriter, r *http.Request) (int64, bool) {
	p := principal(r)
	if p == nil {
		s.cfg.Shell.Error(w, r, http.StatusUnauthorized)
		return 0, false
	}
	return p.User.ID, true
}

func (s *Service) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	s.log.ErrorContext(r.Context(), what, "err", err)
	s.cfg.Shell.Error(w, r, http.StatusInternalServerError)
}

// ---- overview ----

func (s *Service) accountPage(w http.ResponseWriter, r *http.Request) {
	uid, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	acc, err := s.cfg.Store.Account(r.Context(), uid)
	if err != nil {
		s.fail(w, r, "account", err)
		return
	}
	pk, err := s.cfg.Store.Passkeys(r.Context(), uid)
	if err != nil {
		s.fail(w, r, "passkeys", err)
		return
	}
	left, err := s.cfg.Store.RecoveryCodesLeft(r.Context(), uid)
	if err != nil {
		s.fail(w, r, "recovery codes", err)
		return
	}
	s.render(w, r, http.StatusOK, "My account", "account", map[string]any{
		"Account": acc, "Passkeys": len(pk), "CodesLeft": left,
	})
}

// ---- passkeys ----

func credParam(r *http.Request) ([]byte, bool) {
	id, err := base64.RawURLEncoding.DecodeString(r.PathValue("id"))
	return id, err == nil && len(id) > 0 && len(id) <= 1023
}

func (s *Service) passkeysPage(w http.ResponseWriter, r *http.Request) {
	uid, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	s.renderPasskeys(w, r, uid, http.StatusOK, "")
}

func (s *Service) renderPasskeys(w http.ResponseWriter, r *http.Request, uid int64, status int, msg string) {
	pk, err := s.cfg.Store.Passkeys(r.Context(), uid)
	if err != nil {
		s.fail(w, r, "passkeys", err)
		return
	}
	s.render(w, r, status, "Passkeys", "passkeys", map[string]any{
		"Passkeys":  pk,
		"Error":     msg,
		"Recovered": r.URL.Query().Get("recovered") != "",
	})
}

func (s *Service) renamePasskey(w http.ResponseWriter, r *http.Request) {
	uid, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	id, ok := credParam(r)
	name := strings.TrimSpace(r.PostFormValue("name"))
	if !ok || !validName(name) {
		s.renderPasskeys(w, r, uid, http.StatusBadRequest, "Please enter a name of up to 100 characters.")
		return
	}
	if err := s.cfg.Store.RenamePasskey(r.Context(), s.meta(r), uid, id, name); err != nil {
		if errors.Is(err, ErrNotFound) {
			s.cfg.Shell.Error(w, r, http.StatusNotFound)
			return
		}
		s.fail(w, r, "rename passkey", err)
		return
	}
	http.Redirect(w, r, "/account/passkeys", http.StatusSeeOther)
}

func (s *Service) removePasskey(w http.ResponseWriter, r *http.Request) {
	uid, ok := s.signedIn(w, r)
	if !ok || !s.requireStepUp(w, r, "/account/passkeys") {
		return
	}
	id, ok := credParam(r)
	if !ok {
		s.cfg.Shell.Error(w, r, http.StatusNotFound)
		return
	}
	m := s.meta(r)
	if err := s.cfg.Store.RemovePasskey(r.Context(), m, uid, id); err != nil {
		switch {
		case errors.Is(err, ErrNotFound):
			s.cfg.Shell.Error(w, r, http.StatusNotFound)
		case errors.Is(err, ErrLastSignInMethod):
			s.audit(r, m, "authn.passkey.remove.refused", "passkey", r.PathValue("id"), map[string]any{"reason": "last sign-in method"})
			s.renderPasskeys(w, r, uid, http.StatusConflict, "This is your only way to sign in: add another passkey first (or set up an authenticator app and keep an unused recovery code).")
		default:
			s.fail(w, r, "remove passkey", err)
		}
		return
	}
	http.Redirect(w, r, "/account/passkeys", http.StatusSeeOther)
}

// ---- TOTP ----

func (s *Service) totpPage(w http.ResponseWriter, r *http.Request) {
	uid, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	acc, err := s.cfg.Store.Account(r.Context(), uid)
	if err != nil {
		s.fail(w, r, "account", err)
		return
	}
	s.render(w, r, http.StatusOK, "Authenticator app", "totp", map[string]any{"Account": acc})
}

func (s *Service) totpSetup(w http.ResponseWriter, r *http.Request) {
	uid, ok := s.signedIn(w, r)
	if !ok || !s.requireStepUp(w, r, "/account/totp") {
		return
	}
	acc, err := s.cfg.Store.Account(r.Context(), uid)
	if err != nil {
		s.fail(w, r, "account", err)
		return
	}
	if acc.TOTPEnabled {
		http.Redirect(w, r, "/account/totp", http.StatusSeeOther)
		return
	}
	secret, err := s.cfg.Store.StartTOTP(r.Context(), s.meta(r), uid)
	if err != nil {
		s.fail(w, r, "start TOTP", err)
		return
	}
	s.renderTOTPConfirm(w, r, http.StatusOK, acc, secret, "")
}

func (s *Service) renderTOTPConfirm(w http.ResponseWriter, r *http.Request, status int, acc Account, secret, msg string) {
	svg, err := QRSVG(TOTPURL(s.cfg.SiteName, acc.Email, secret))
	if err != nil {
		s.fail(w, r, "qr", err)
		return
	}
	// The page carries the secret: keep it out of every cache.
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, status, "Set up an authenticator app", "totp_setup", map[string]any{
		"QR": svg, "Secret": groupSecret(secret), "Error": msg,
	})
}

// groupSecret splits the secret into blocks of four for typing by hand.
func groupSecret(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (s *Service) totpConfirm(w http.ResponseWriter, r *http.Request) {
	uid, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	m := s.meta(r)
	key := accountKey("user", uid)
	if s.limited(w, r, key) {
		return
	}
	status, reason := s.checkTOTP(r.Context(), m, uid, r.PostFormValue("code"), true)
	if status != http.StatusOK {
		s.failure(r, key)
		s.audit(r, m, "authn.totp.enable.failure", "user", fmt.Sprint(uid), map[string]any{"reason": reason})
		secret, err := s.cfg.Store.PendingTOTP(r.Context(), uid)
		if err != nil {
			http.Redirect(w, r, "/account/totp", http.StatusSeeOther)
			return
		}
		acc, err := s.cfg.Store.Account(r.Context(), uid)
		if err != nil {
			s.fail(w, r, "account", err)
			return
		}
		s.renderTOTPConfirm(w, r, status, acc, secret, "That code was not accepted. Check the clock of your device and try the next code.")
		return
	}
	s.success(r, key)
	http.Redirect(w, r, "/account/totp", http.StatusSeeOther)
}

func (s *Service) totpDisable(w http.ResponseWriter, r *http.Request) {
	uid, ok := s.signedIn(w, r)
	if !ok || !s.requireStepUp(w, r, "/account/totp") {
		return
	}
	m := s.meta(r)
	if err := s.cfg.Store.DisableTOTP(r.Context(), m, uid); err != nil {
		if errors.Is(err, ErrTOTPRequired) {
			s.audit(r, m, "authn.totp.disable.refused", "user", fmt.Sprint(uid), map[string]any{"reason": "organisation requires TOTP"})
			s.cfg.Shell.Error(w, r, http.StatusConflict)
			return
		}
		if errors.Is(err, ErrNotFound) {
			// Nothing to turn off (a second click, another tab): done.
			http.Redirect(w, r, "/account/totp", http.StatusSeeOther)
			return
		}
		s.fail(w, r, "disable totp", err)
		return
	}
	http.Redirect(w, r, "/account/totp", http.StatusSeeOther)
}

// ---- recovery codes ----

func (s *Service) recoveryCodesPage(w http.ResponseWriter, r *http.Request) {
	uid, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	left, err := s.cfg.Store.RecoveryCodesLeft(r.Context(), uid)
	if err != nil {
		s.fail(w, r, "recovery codes", err)
		return
	}
	s.render(w, r, http.StatusOK, "Recovery codes", "recovery_codes", map[string]any{
		"Left": left, "New": r.URL.Query().Get("new") != "",
	})
}

func (s *Service) recoveryCodesCreate(w http.ResponseWriter, r *http.Request) {
	uid, ok := s.signedIn(w, r)
	if !ok || !s.requireStepUp(w, r, "/account/recovery-codes") {
		return
	}
	codes, hashes := NewRecoveryCodes(uid)
	if err := s.cfg.Store.ReplaceRecoveryCodes(r.Context(), s.meta(r), uid, hashes); err != nil {
		s.fail(w, r, "recovery codes", err)
		return
	}
	// Shown once: the response must not be stored anywhere on the way.
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, http.StatusOK, "Your recovery codes", "recovery_codes_new", map[string]any{"Codes": codes})
}

// ---- account recovery with a recovery code ----

func (s *Service) recoverPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "Recover your account", "recover", map[string]any{"Error": "", "Email": ""})
}

func (s *Service) recoverWithCode(w http.ResponseWriter, r *http.Request) {
	m := s.meta(r)
	email := strings.TrimSpace(r.PostFormValue("email"))
	key := accountKey("email", strings.ToLower(email))
	if s.limited(w, r, key) {
		return
	}
	refuse := func(reason string, userID int64) {
		s.failure(r, key)
		id := ""
		if userID != 0 {
			id = fmt.Sprint(userID)
		}
		s.audit(r, m, "authn.recover.failure", "user", id, map[string]any{"reason": reason, "method": "recovery code"})
		// One message for every reason: do not reveal which accounts exist.
		s.render(w, r, http.StatusUnauthorized, "Recover your account", "recover", map[string]any{
			"Error": "That e-mail address and recovery code do not match.", "Email": email,
		})
	}
	acc, err := s.cfg.Store.AccountByEmail(r.Context(), email)
	if err != nil || !acc.Active {
		refuse("unknown or inactive account", 0)
		return
	}
	m.ActorID = acc.ID
	if acc.TOTPEnabled {
		// With an authenticator app set up, a recovery code alone is one
		// factor; the app's code makes the recovery two-factor again.
		if status, reason := s.checkTOTP(r.Context(), m, acc.ID, r.PostFormValue("totp"), false); status != http.StatusOK {
			refuse(reason, acc.ID)
			return
		}
	}
	if err := s.cfg.Store.UseRecoveryCode(r.Context(), m, acc.ID, HashRecoveryCode(acc.ID, r.PostFormValue("code"))); err != nil {
		refuse("wrong or used recovery code", acc.ID)
		return
	}
	s.success(r, key)
	if err := s.cfg.Shell.StartSession(w, r, acc.ID); err != nil {
		s.fail(w, r, "start session", err)
		return
	}
	s.audit(r, m, "authn.signin.success", "user", fmt.Sprint(acc.ID), map[string]any{"method": "recovery code"})
	http.Redirect(w, r, "/account/passkeys?recovered=1", http.StatusSeeOther)
}

// ---- sessions ----

func (s *Service) sessionsPage(w http.ResponseWriter, r *http.Request) {
	uid, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	ss, err := s.cfg.Store.Sessions(r.Context(), uid)
	if err != nil {
		s.fail(w, r, "sessions", err)
		return
	}
	s.render(w, r, http.StatusOK, "Sessions", "sessions", map[string]any{
		"Sessions": ss, "Current": principal(r).Session.ID,
	})
}

func (s *Service) revokeSession(w http.ResponseWriter, r *http.Request) {
	uid, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	if id == principal(r).Session.ID {
		// Ending the current session is signing out.
		s.signOut(w, r)
		return
	}
	if err := s.cfg.Store.RevokeSession(r.Context(), s.meta(r), uid, id); err != nil {
		if errors.Is(err, ErrNotFound) {
			s.cfg.Shell.Error(w, r, http.StatusNotFound)
			return
		}
		s.fail(w, r, "revoke session", err)
		return
	}
	http.Redirect(w, r, "/account/sessions", http.StatusSeeOther)
}

// ---- API tokens ----

// maxTokenLifetime bounds token expiry; a token that never expires is a
// credential nobody remembers to rotate.
const maxTokenLifetime = 366 * 24 * time.Hour

func (s *Service) tokensPage(w http.ResponseWriter, r *http.Request) {
	uid, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	s.renderTokens(w, r, uid, http.StatusOK, "", "")
}

func (s *Service) renderTokens(w http.ResponseWriter, r *http.Request, uid int64, status int, created, msg string) {
	ts, err := s.cfg.Store.Tokens(r.Context(), uid)
	if err != nil {
		s.fail(w, r, "tokens", err)
		return
	}
	if created != "" {
		w.Header().Set("Cache-Control", "no-store")
	}
	s.render(w, r, status, "API tokens", "tokens", map[string]any{
		"Tokens": ts, "Created": created, "Error": msg, "Now": s.now(),
	})
}

func (s *Service) createToken(w http.ResponseWriter, r *http.Request) {
	uid, ok := s.signedIn(w, r)
	if !ok || !s.requireStepUp(w, r, "/account/tokens") {
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	scope := TokenScope(r.PostFormValue("scope"))
	days, err := strconv.Atoi(r.PostFormValue("days"))
	life := time.Duration(days) * 24 * time.Hour
	switch {
	case !validName(name):
		s.renderTokens(w, r, uid, http.StatusBadRequest, "", "Please enter a name of 1 to 100 characters, without control characters.")
		return
	case scope != ScopeRead && scope != ScopeWrite:
		s.renderTokens(w, r, uid, http.StatusBadRequest, "", "Please choose read or write.")
		return
	case err != nil || days < 1 || life > maxTokenLifetime:
		s.renderTokens(w, r, uid, http.StatusBadRequest, "", "Please choose a lifetime between 1 and 366 days.")
		return
	}
	token, _, err := s.cfg.Store.CreateToken(r.Context(), s.meta(r), uid, name, scope, s.now().Add(life))
	if errors.Is(err, ErrInvalid) {
		s.renderTokens(w, r, uid, http.StatusBadRequest, "", "Please enter a name of 1 to 100 characters, without control characters.")
		return
	}
	if err != nil {
		s.fail(w, r, "create token", err)
		return
	}
	s.renderTokens(w, r, uid, http.StatusCreated, token, "")
}

func (s *Service) revokeToken(w http.ResponseWriter, r *http.Request) {
	uid, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.cfg.Shell.Error(w, r, http.StatusNotFound)
		return
	}
	if err := s.cfg.Store.RevokeToken(r.Context(), s.meta(r), uid, id); err != nil {
		if errors.Is(err, ErrNotFound) {
			s.cfg.Shell.Error(w, r, http.StatusNotFound)
			return
		}
		s.fail(w, r, "revoke token", err)
		return
	}
	http.Redirect(w, r, "/account/tokens", http.StatusSeeOther)
}
