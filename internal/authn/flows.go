package authn

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// Status codes of refused ceremonies: 400 for requests that are malformed
// or out of sequence (no pending ceremony), 401 when the authenticator's
// proof is not accepted, 410 for a link that was used or expired.

// failReason is the audit detail for a refused WebAuthn response. The
// library's error details name the failed check (origin, RP ID hash,
// signature, challenge); they go to the audit log, never to the user.
func failReason(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		r := pe.Type
		for _, d := range []string{pe.Details, pe.DevInfo} {
			if d != "" {
				r += ": " + d
			}
		}
		return r
	}
	return err.Error()
}

// ---- sign-in with a discoverable passkey (username-less) ----

func (s *Service) signInPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "Sign in", "signin", map[string]any{
		"Next": safeNext(r.URL.Query().Get("next"), "/"),
		// ?autofill=off skips the conditional (autofill) request, for
		// browsers driven by tests whose virtual authenticator would
		// answer it at once.
		"NoAutofill": r.URL.Query().Get("autofill") == "off",
	})
}

func (s *Service) signInBegin(w http.ResponseWriter, r *http.Request) {
	f, err := readBegin(w, r)
	if err != nil {
		jsonError(w, http.StatusBadRequest, "The request was not understood.")
		return
	}
	var (
		opts *protocol.CredentialAssertion
		sd   *webauthn.SessionData
	)
	if f.Conditional {
		opts, sd, err = s.wa.BeginDiscoverableMediatedLogin(protocol.MediationConditional)
	} else {
		opts, sd, err = s.wa.BeginDiscoverableLogin()
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "begin sign-in", "err", err)
		jsonError(w, http.StatusInternalServerError, "Sign-in is unavailable right now.")
		return
	}
	if err := s.putCeremony(w, r, Ceremony{Kind: kindSignIn, WebAuthn: *sd, Next: safeNext(f.Next, "/")}); err != nil {
		jsonError(w, http.StatusInternalServerError, "Sign-in is unavailable right now.")
		return
	}
	writeJSON(w, http.StatusOK, opts)
}

func (s *Service) signInFinish(w http.ResponseWriter, r *http.Request) {
	m := s.meta(r)
	c, err := s.takeCeremony(w, r, kindSignIn)
	if err != nil {
		s.audit(r, m, "authn.signin.failure", "user", "", map[string]any{"reason": "no pending sign-in (expired or already used)"})
		jsonError(w, http.StatusBadRequest, "This sign-in attempt expired. Please try again.")
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		jsonError(w, http.StatusRequestEntityTooLarge, "The request was too large.")
		return
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(body)
	if err != nil {
		s.audit(r, m, "authn.signin.failure", "user", "", map[string]any{"reason": failReason(err)})
		jsonError(w, http.StatusBadRequest, "The passkey response was not understood.")
		return
	}
	var user *waUser
	lookup := func(_, handle []byte) (webauthn.User, error) {
		acc, err := s.cfg.Store.AccountByHandle(r.Context(), handle)
		if err != nil {
			return nil, err
		}
		if !acc.Active {
			return nil, errors.New("account deactivated")
		}
		pk, err := s.cfg.Store.Passkeys(r.Context(), acc.ID)
		if err != nil {
			return nil, err
		}
		user = &waUser{acc: acc, passkeys: pk}
		return user, nil
	}
	_, cred, err := s.wa.ValidatePasskeyLogin(lookup, c.WebAuthn, parsed)
	if err != nil {
		s.failure(r, "")
		s.audit(r, m, "authn.signin.failure", "user", userIDString(user), map[string]any{"reason": failReason(err)})
		jsonError(w, http.StatusUnauthorized, "That passkey was not accepted.")
		return
	}
	m.ActorID = user.acc.ID
	if cred.Authenticator.CloneWarning {
		// A counter that does not grow means a copy of the key may exist.
		s.audit(r, m, "authn.signin.failure", "user", userIDString(user), map[string]any{"reason": "sign count did not increase (possible cloned authenticator)"})
		jsonError(w, http.StatusUnauthorized, "That passkey was not accepted.")
		return
	}
	if err := s.cfg.Store.PasskeyUsed(r.Context(), m, user.acc.ID, *cred, s.now()); err != nil {
		s.log.ErrorContext(r.Context(), "passkey used", "err", err)
		jsonError(w, http.StatusInternalServerError, "Sign-in is unavailable right now.")
		return
	}
	if user.acc.TOTPEnabled {
		if err := s.putCeremony(w, r, Ceremony{Kind: kindSignInTOTP, UserID: user.acc.ID, Next: c.Next}); err != nil {
			jsonError(w, http.StatusInternalServerError, "Sign-in is unavailable right now.")
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"redirect": "/signin/totp"})
		return
	}
	s.completeSignIn(w, r, m, user.acc, "passkey", c.Next)
}

func userIDString(u *waUser) string {
	if u == nil {
		return ""
	}
	return fmt.Sprint(u.acc.ID)
}

// completeSignIn starts the session and tells the page where to go.
func (s *Service) completeSignIn(w http.ResponseWriter, r *http.Request, m Meta, acc Account, method, next string) {
	if err := s.cfg.Shell.StartSession(w, r, acc.ID); err != nil {
		s.log.ErrorContext(r.Context(), "start session", "err", err)
		jsonError(w, http.StatusInternalServerError, "Sign-in is unavailable right now.")
		return
	}
	s.audit(r, m, "authn.signin.success", "user", fmt.Sprint(acc.ID), map[string]any{"method": method})
	if acc.TOTPRequired && !acc.TOTPEnabled {
		next = "/account/totp"
	}
	writeJSON(w, http.StatusOK, map[string]string{"redirect": next})
}

// ---- second factor at sign-in ----

func (s *Service) signInTOTPPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "Authenticator code", "signin_totp", map[string]any{"Error": ""})
}

func (s *Service) signInTOTP(w http.ResponseWriter, r *http.Request) {
	m := s.meta(r)
	c, err := s.takeCeremony(w, r, kindSignInTOTP)
	if err != nil {
		s.audit(r, m, "authn.signin.failure", "user", "", map[string]any{"reason": "no pending second factor", "method": "totp"})
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return
	}
	m.ActorID = c.UserID
	key := accountKey("user", c.UserID)
	if s.limited(w, r, key) {
		_ = s.putCeremony(w, r, c) // a delay, not the end of the attempt
		return
	}
	acc, err := s.cfg.Store.Account(r.Context(), c.UserID)
	if err != nil || !acc.Active {
		s.cfg.Shell.Error(w, r, http.StatusUnauthorized)
		return
	}
	status, reason := s.checkTOTP(r.Context(), m, acc.ID, r.PostFormValue("code"), false)
	if status != http.StatusOK {
		s.failure(r, key)
		s.audit(r, m, "authn.signin.failure", "user", fmt.Sprint(acc.ID), map[string]any{"reason": reason, "method": "totp"})
		c.Attempts++
		if c.Attempts < maxTOTPAttempts {
			_ = s.putCeremony(w, r, c)
		}
		s.render(w, r, status, "Authenticator code", "signin_totp", map[string]any{"Error": "That code was not accepted. Wait for the next code and try again."})
		return
	}
	s.success(r, key)
	if err := s.cfg.Shell.StartSession(w, r, acc.ID); err != nil {
		s.cfg.Shell.Error(w, r, http.StatusInternalServerError)
		return
	}
	s.audit(r, m, "authn.signin.success", "user", fmt.Sprint(acc.ID), map[string]any{"method": "passkey+totp"})
	http.Redirect(w, r, safeNext(c.Next, "/"), http.StatusSeeOther)
}

// maxTOTPAttempts per passkey sign-in; then the passkey step starts over.
const maxTOTPAttempts = 5

// checkTOTP verifies a code and consumes its time step. It returns 200, or
// 401 with the reason for the audit log.
func (s *Service) checkTOTP(ctx context.Context, m Meta, userID int64, code string, confirm bool) (int, string) {
	err := s.cfg.Store.VerifyTOTP(ctx, m, userID, strings.TrimSpace(code), confirm)
	switch {
	case err == nil:
		return http.StatusOK, ""
	case errors.Is(err, ErrTOTPReused):
		return http.StatusUnauthorized, "TOTP code reused (time step already used)"
	case errors.Is(err, ErrTOTPWrong), errors.Is(err, ErrNotFound):
		return http.StatusUnauthorized, "wrong TOTP code"
	}
	s.log.ErrorContext(ctx, "verify TOTP", "err", err)
	return http.StatusInternalServerError, "TOTP check failed"
}

// ---- enrolment and recovery links ----

func (s *Service) peekLink(w http.ResponseWriter, r *http.Request, kinds ...LinkKind) (Link, []byte, bool) {
	hash := HashLinkToken(r.PathValue("token"))
	l, err := s.cfg.Store.PeekLink(r.Context(), hash)
	ok := err == nil
	if ok {
		ok = false
		for _, k := range kinds {
			ok = ok || l.Kind == k
		}
	}
	if !ok {
		reason := "unknown, used or expired link"
		if err == nil {
			reason = "link of another kind"
		} else if !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrLinkUsed) {
			s.log.ErrorContext(r.Context(), "peek link", "err", err)
		}
		s.failure(r, "") // guessing links from one address is slowed down too
		s.audit(r, s.meta(r), "authn.link.refused", "link", "", map[string]any{"reason": reason, "path": linkPath(r)})
		s.linkGone(w, r)
		return Link{}, nil, false
	}
	return l, hash, true
}

// linkPath is the request path without the link's token, which must not
// reach the audit log (for a live link it is still a credential).
func linkPath(r *http.Request) string {
	if tok := r.PathValue("token"); tok != "" {
		return strings.Replace(r.URL.Path, tok, "…", 1)
	}
	return r.URL.Path
}

func (s *Service) linkGone(w http.ResponseWriter, r *http.Request) {
	if wantsJSON(r) {
		jsonError(w, http.StatusGone, "This link was already used or has expired. Ask your organisation admin for a new one.")
		return
	}
	s.render(w, r, http.StatusGone, "Link no longer valid", "link_gone", nil)
}

func (s *Service) enrolPage(w http.ResponseWriter, r *http.Request) {
	l, _, ok := s.peekLink(w, r, LinkEnrolFirstAdmin, LinkInvitation)
	if !ok {
		return
	}
	p := principal(r)
	if l.Kind == LinkInvitation && (l.AccountExists || p != nil) {
		// The address has an account (or someone is signed in): the person
		// joins by accepting while signed in; this link never enrols a
		// second account nor adds a passkey to an existing one.
		d := map[string]any{"Link": l, "Token": r.PathValue("token")}
		switch {
		case p == nil:
			d["SignIn"] = true
		case !strings.EqualFold(p.User.Email, l.Email):
			d["Other"] = p.User.Email
		}
		s.render(w, r, http.StatusOK, "Join "+l.OrgName, "join", d)
		return
	}
	s.render(w, r, http.StatusOK, "Set up your account", "enrol", map[string]any{
		"Link":  l,
		"Token": r.PathValue("token"),
		"First": l.Kind == LinkEnrolFirstAdmin,
	})
}

// acceptInvitation accepts the invitation of a link for the signed-in
// account it is addressed to.
func (s *Service) acceptInvitation(w http.ResponseWriter, r *http.Request) {
	uid, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	l, hash, ok := s.peekLink(w, r, LinkInvitation)
	if !ok {
		return
	}
	m := s.meta(r)
	m.ActorID = uid
	org, err := s.cfg.Store.AcceptInvitation(r.Context(), m, uid, hash)
	switch {
	case errors.Is(err, ErrOtherAddress):
		s.render(w, r, http.StatusForbidden, "Join "+l.OrgName, "join", map[string]any{"Link": l, "Token": r.PathValue("token"), "Other": principal(r).User.Email})
		return
	case errors.Is(err, ErrLinkUsed), errors.Is(err, ErrNotFound):
		s.linkGone(w, r)
		return
	case err != nil:
		s.fail(w, r, "accept invitation", err)
		return
	}
	http.Redirect(w, r, "/orgs/"+strconv.FormatInt(org, 10)+"?joined=1", http.StatusSeeOther)
}

func (s *Service) recoverLinkPage(w http.ResponseWriter, r *http.Request) {
	l, _, ok := s.peekLink(w, r, LinkRecovery)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "Recover your account", "recover_link", map[string]any{
		"Link":  l,
		"Token": r.PathValue("token"),
	})
}

func newHandle() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

const maxNameLen = 100

// validName accepts 1–100 characters of valid UTF-8 without control
// characters (C0, DEL, C1): names end up in lists, logs and audit entries.
func validName(s string) bool {
	return s != "" && utf8.ValidString(s) && utf8.RuneCountInString(s) <= maxNameLen &&
		!strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || (r >= 0x7f && r <= 0x9f) })
}

// linkBegin starts the registration of a first passkey from a link.
func (s *Service) linkBegin(kind ceremonyKind, kinds ...LinkKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		l, hash, ok := s.peekLink(w, r, kinds...)
		if !ok {
			return
		}
		f, err := readBegin(w, r)
		if err != nil {
			jsonError(w, http.StatusBadRequest, "The request was not understood.")
			return
		}
		if f.PasskeyName == "" {
			f.PasskeyName = "Passkey"
		}
		acc := Account{Email: l.Email, DisplayName: f.DisplayName}
		if l.Kind == LinkInvitation {
			if l.AccountExists {
				jsonError(w, http.StatusConflict, "An account with this address exists: sign in and accept the invitation.")
				return
			}
			// The account is created when the link is used, with the
			// address the organisation invited.
		} else if l.UserID != 0 {
			if acc, err = s.cfg.Store.Account(r.Context(), l.UserID); err != nil {
				jsonError(w, http.StatusGone, "This link is no longer valid.")
				return
			}
			if kind == kindEnrol {
				acc.DisplayName = f.DisplayName
			}
		} else {
			if _, err := mail.ParseAddress(f.Email); err != nil || len(f.Email) > 254 {
				jsonError(w, http.StatusBadRequest, "Please enter a valid e-mail address.")
				return
			}
			acc.Email = f.Email
		}
		if kind == kindEnrol && !validName(f.DisplayName) {
			jsonError(w, http.StatusBadRequest, "Please enter a display name of up to 100 characters.")
			return
		}
		if !validName(f.PasskeyName) {
			jsonError(w, http.StatusBadRequest, "Please enter a passkey name of up to 100 characters.")
			return
		}
		if len(acc.Handle) == 0 {
			acc.Handle = newHandle()
		}
		u := &waUser{acc: acc}
		if acc.ID != 0 {
			// The exclusion list keeps an authenticator from registering
			// twice; without it the ceremony could not keep that promise.
			if u.passkeys, err = s.cfg.Store.Passkeys(r.Context(), acc.ID); err != nil {
				s.log.ErrorContext(r.Context(), "passkeys for the exclusion list", "err", err)
				jsonError(w, http.StatusInternalServerError, "Passkey set-up is unavailable right now.")
				return
			}
		}
		opts, sd, err := s.wa.BeginRegistration(u, webauthn.WithExclusions(webauthn.Credentials(u.WebAuthnCredentials()).CredentialDescriptors()))
		if err != nil {
			s.log.ErrorContext(r.Context(), "begin registration", "err", err)
			jsonError(w, http.StatusInternalServerError, "Passkey set-up is unavailable right now.")
			return
		}
		c := Ceremony{Kind: kind, WebAuthn: *sd, UserID: acc.ID, LinkHash: hash, Handle: acc.Handle,
			Email: acc.Email, DisplayName: acc.DisplayName, PasskeyName: f.PasskeyName}
		if err := s.putCeremony(w, r, c); err != nil {
			jsonError(w, http.StatusInternalServerError, "Passkey set-up is unavailable right now.")
			return
		}
		writeJSON(w, http.StatusOK, opts)
	}
}

// linkFinish verifies the new passkey and consumes the link.
func (s *Service) linkFinish(kind ceremonyKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		m := s.meta(r)
		action := "authn.enrol"
		if kind == kindRecover {
			action = "authn.recover"
		}
		c, err := s.takeCeremony(w, r, kind)
		hash := HashLinkToken(r.PathValue("token"))
		if err != nil || !equalHash(c.LinkHash, hash) {
			s.audit(r, m, action+".failure", "link", "", map[string]any{"reason": "no pending registration for this link"})
			jsonError(w, http.StatusBadRequest, "This set-up attempt expired. Please start again.")
			return
		}
		u := &waUser{acc: Account{ID: c.UserID, Email: c.Email, DisplayName: c.DisplayName, Handle: c.Handle}}
		p, ok := s.verifyRegistration(w, r, m, u, c, action)
		if !ok {
			return
		}
		var userID int64
		if kind == kindRecover {
			userID, err = s.cfg.Store.CompleteRecovery(r.Context(), m, hash, p)
		} else {
			userID, err = s.cfg.Store.CompleteEnrolment(r.Context(), m, hash, Enrolment{
				Email: c.Email, DisplayName: c.DisplayName, Handle: c.Handle, Passkey: p,
			})
		}
		if err != nil {
			if errors.Is(err, ErrLinkUsed) || errors.Is(err, ErrNotFound) {
				s.audit(r, m, action+".failure", "link", "", map[string]any{"reason": "link already used or expired"})
				s.linkGone(w, r)
				return
			}
			if errors.Is(err, ErrAccountExists) {
				jsonError(w, http.StatusConflict, "An account with this address exists: sign in and accept the invitation.")
				return
			}
			s.log.ErrorContext(r.Context(), "complete link", "err", err)
			jsonError(w, http.StatusInternalServerError, "Set-up is unavailable right now.")
			return
		}
		m.ActorID = userID
		if err := s.cfg.Shell.StartSession(w, r, userID); err != nil {
			jsonError(w, http.StatusInternalServerError, "Set-up is unavailable right now.")
			return
		}
		next := "/account/recovery-codes?new=1"
		if kind == kindRecover {
			next = "/account/passkeys?recovered=1"
		}
		writeJSON(w, http.StatusOK, map[string]string{"redirect": next})
	}
}

// verifyRegistration checks a registration response against c.
func (s *Service) verifyRegistration(w http.ResponseWriter, r *http.Request, m Meta, u *waUser, c Ceremony, action string) (Passkey, bool) {
	body, err := readBody(w, r)
	if err != nil {
		jsonError(w, http.StatusRequestEntityTooLarge, "The request was too large.")
		return Passkey{}, false
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(body)
	if err == nil {
		var cred *webauthn.Credential
		if cred, err = s.wa.CreateCredential(u, c.WebAuthn, parsed); err == nil {
			now := s.now()
			return Passkey{Credential: *cred, Name: c.PasskeyName, CreatedAt: now, LastUsedAt: now}, true
		}
	}
	s.audit(r, m, action+".failure", "user", userIDString(u), map[string]any{"reason": failReason(err)})
	jsonError(w, http.StatusBadRequest, "The new passkey was not accepted.")
	return Passkey{}, false
}

// ---- passkeys of a signed-in user ----

func (s *Service) addPasskeyBegin(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if !s.requireStepUp(w, r, "/account/passkeys") {
		return
	}
	f, err := readBegin(w, r)
	if err != nil || !validName(f.PasskeyName) {
		jsonError(w, http.StatusBadRequest, "Please enter a passkey name of up to 100 characters.")
		return
	}
	u, err := s.loadUser(r.Context(), p.User.ID)
	if err != nil {
		jsonError(w, http.StatusInternalServerError, "Passkey set-up is unavailable right now.")
		return
	}
	opts, sd, err := s.wa.BeginRegistration(u, webauthn.WithExclusions(webauthn.Credentials(u.WebAuthnCredentials()).CredentialDescriptors()))
	if err != nil {
		jsonError(w, http.StatusInternalServerError, "Passkey set-up is unavailable right now.")
		return
	}
	if err := s.putCeremony(w, r, Ceremony{Kind: kindAddPasskey, WebAuthn: *sd, UserID: u.acc.ID, PasskeyName: f.PasskeyName}); err != nil {
		jsonError(w, http.StatusInternalServerError, "Passkey set-up is unavailable right now.")
		return
	}
	writeJSON(w, http.StatusOK, opts)
}

func (s *Service) addPasskeyFinish(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if !s.requireStepUp(w, r, "/account/passkeys") {
		return
	}
	m := s.meta(r)
	c, err := s.takeCeremony(w, r, kindAddPasskey)
	if err != nil || c.UserID != p.User.ID {
		s.audit(r, m, "authn.passkey.add.failure", "user", fmt.Sprint(p.User.ID), map[string]any{"reason": "no pending registration"})
		jsonError(w, http.StatusBadRequest, "This set-up attempt expired. Please start again.")
		return
	}
	u, err := s.loadUser(r.Context(), p.User.ID)
	if err != nil {
		jsonError(w, http.StatusInternalServerError, "Passkey set-up is unavailable right now.")
		return
	}
	pk, ok := s.verifyRegistration(w, r, m, u, c, "authn.passkey.add")
	if !ok {
		return
	}
	if err := s.cfg.Store.AddPasskey(r.Context(), m, u.acc.ID, pk); err != nil {
		s.log.ErrorContext(r.Context(), "add passkey", "err", err)
		jsonError(w, http.StatusInternalServerError, "Passkey set-up is unavailable right now.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"redirect": "/account/passkeys"})
}

// ---- step-up re-verification ----

func (s *Service) stepUpPage(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if p == nil {
		s.cfg.Shell.Error(w, r, http.StatusUnauthorized)
		return
	}
	acc, err := s.cfg.Store.Account(r.Context(), p.User.ID)
	if err != nil {
		s.cfg.Shell.Error(w, r, http.StatusInternalServerError)
		return
	}
	s.render(w, r, http.StatusOK, "Confirm it is you", "stepup", map[string]any{
		"Next": safeNext(r.URL.Query().Get("next"), "/account"), "TOTP": acc.TOTPEnabled, "Error": "",
	})
}

func (s *Service) stepUpBegin(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if p == nil {
		jsonError(w, http.StatusUnauthorized, "Please sign in.")
		return
	}
	f, err := readBegin(w, r)
	if err != nil {
		jsonError(w, http.StatusBadRequest, "The request was not understood.")
		return
	}
	u, err := s.loadUser(r.Context(), p.User.ID)
	if err != nil || len(u.passkeys) == 0 {
		jsonError(w, http.StatusBadRequest, "You have no passkey yet.")
		return
	}
	opts, sd, err := s.wa.BeginLogin(u)
	if err != nil {
		jsonError(w, http.StatusInternalServerError, "Verification is unavailable right now.")
		return
	}
	if err := s.putCeremony(w, r, Ceremony{Kind: kindStepUp, WebAuthn: *sd, UserID: u.acc.ID, Next: safeNext(f.Next, "/account")}); err != nil {
		jsonError(w, http.StatusInternalServerError, "Verification is unavailable right now.")
		return
	}
	writeJSON(w, http.StatusOK, opts)
}

func (s *Service) stepUpFinish(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if p == nil {
		jsonError(w, http.StatusUnauthorized, "Please sign in.")
		return
	}
	m := s.meta(r)
	c, err := s.takeCeremony(w, r, kindStepUp)
	if err != nil || c.UserID != p.User.ID {
		s.audit(r, m, "authn.step_up.failure", "user", fmt.Sprint(p.User.ID), map[string]any{"reason": "no pending verification"})
		jsonError(w, http.StatusBadRequest, "This verification expired. Please try again.")
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		jsonError(w, http.StatusRequestEntityTooLarge, "The request was too large.")
		return
	}
	u, err := s.loadUser(r.Context(), p.User.ID)
	if err != nil {
		jsonError(w, http.StatusInternalServerError, "Verification is unavailable right now.")
		return
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(body)
	var cred *webauthn.Credential
	if err == nil {
		cred, err = s.wa.ValidateLogin(u, c.WebAuthn, parsed)
	}
	if err == nil && cred.Authenticator.CloneWarning {
		err = errors.New("sign count did not increase (possible cloned authenticator)")
	}
	if err != nil {
		s.audit(r, m, "authn.step_up.failure", "user", fmt.Sprint(p.User.ID), map[string]any{"reason": failReason(err), "method": "passkey"})
		jsonError(w, http.StatusUnauthorized, "That passkey was not accepted.")
		return
	}
	if err := s.cfg.Store.PasskeyUsed(r.Context(), m, u.acc.ID, *cred, s.now()); err != nil {
		jsonError(w, http.StatusInternalServerError, "Verification is unavailable right now.")
		return
	}
	if err := s.cfg.MarkVerified(r); err != nil {
		jsonError(w, http.StatusInternalServerError, "Verification is unavailable right now.")
		return
	}
	s.audit(r, m, "authn.step_up.success", "user", fmt.Sprint(p.User.ID), map[string]any{"method": "passkey"})
	writeJSON(w, http.StatusOK, map[string]string{"redirect": c.Next})
}

func (s *Service) stepUpTOTP(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if p == nil {
		s.cfg.Shell.Error(w, r, http.StatusUnauthorized)
		return
	}
	m := s.meta(r)
	next := safeNext(r.PostFormValue("next"), "/account")
	key := accountKey("user", p.User.ID)
	if s.limited(w, r, key) {
		return
	}
	status, reason := s.checkTOTP(r.Context(), m, p.User.ID, r.PostFormValue("code"), false)
	if status != http.StatusOK {
		s.failure(r, key)
		s.audit(r, m, "authn.step_up.failure", "user", fmt.Sprint(p.User.ID), map[string]any{"reason": reason, "method": "totp"})
		s.render(w, r, status, "Confirm it is you", "stepup", map[string]any{
			"Next": next, "TOTP": true, "Error": "That code was not accepted. Wait for the next code and try again.",
		})
		return
	}
	s.success(r, key)
	if err := s.cfg.MarkVerified(r); err != nil {
		s.cfg.Shell.Error(w, r, http.StatusInternalServerError)
		return
	}
	s.audit(r, m, "authn.step_up.success", "user", fmt.Sprint(p.User.ID), map[string]any{"method": "totp"})
	http.Redirect(w, r, next, http.StatusSeeOther)
}
