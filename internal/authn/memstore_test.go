package authn

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// memStore is an in-memory Store for handler tests. It keeps the rules
// the real store must keep (single use, step reuse, last passkey) so that
// the handler tests exercise them end to end.
type memStore struct {
	mu       sync.Mutex
	now      func() time.Time
	nextID   int64
	accounts map[int64]*Account
	passkeys map[int64][]Passkey
	links    map[string]*memLink
	totp     map[int64]*memTOTP
	codes    map[int64][][]byte
	sessions map[string]*memSession // by cookie hash
	tokens   map[int64]*memToken
	audit    []memAudit
}

type memLink struct {
	Link
	used bool
}

type memTOTP struct {
	secret   string
	lastStep int64
}

type memSession struct {
	Session
	revoked bool
}

type memToken struct {
	Token
	hash []byte
}

type memAudit struct {
	Meta
	AuditEvent
}

func newMemStore(now func() time.Time) *memStore {
	return &memStore{now: now,
		accounts: map[int64]*Account{}, passkeys: map[int64][]Passkey{}, links: map[string]*memLink{},
		totp: map[int64]*memTOTP{}, codes: map[int64][][]byte{}, sessions: map[string]*memSession{},
		tokens: map[int64]*memToken{},
	}
}

func (s *memStore) id() int64 { s.nextID++; return s.nextID }

func (s *memStore) log(m Meta, action, objType, objID string, details map[string]any) {
	s.audit = append(s.audit, memAudit{m, AuditEvent{Action: action, ObjectType: objType, ObjectID: objID, Details: details}})
}

// audits returns the audit actions recorded so far.
func (s *memStore) audits() []memAudit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]memAudit(nil), s.audit...)
}

func (s *memStore) addLink(kind LinkKind, userID int64, token string, expires time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	email := ""
	if a := s.accounts[userID]; a != nil {
		email = a.Email
	}
	s.links[string(HashLinkToken(token))] = &memLink{Link: Link{Kind: kind, UserID: userID, Email: email, ExpiresAt: expires}}
}

func (s *memStore) Account(_ context.Context, id int64) (Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[id]
	if !ok {
		return Account{}, ErrNotFound
	}
	acc := *a
	t := s.totp[id]
	acc.TOTPEnabled = acc.TOTPEnabled && t != nil
	return acc, nil
}

func (s *memStore) AccountByHandle(ctx context.Context, h []byte) (Account, error) {
	s.mu.Lock()
	var id int64
	for _, a := range s.accounts {
		if len(h) > 0 && bytes.Equal(a.Handle, h) {
			id = a.ID
		}
	}
	s.mu.Unlock()
	if id == 0 {
		return Account{}, ErrNotFound
	}
	return s.Account(ctx, id)
}

func (s *memStore) AccountByEmail(ctx context.Context, email string) (Account, error) {
	s.mu.Lock()
	var id int64
	for _, a := range s.accounts {
		if strings.EqualFold(a.Email, email) {
			id = a.ID
		}
	}
	s.mu.Unlock()
	if id == 0 {
		return Account{}, ErrNotFound
	}
	return s.Account(ctx, id)
}

func (s *memStore) Passkeys(_ context.Context, uid int64) ([]Passkey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Passkey(nil), s.passkeys[uid]...), nil
}

func (s *memStore) AddPasskey(_ context.Context, m Meta, uid int64, p Passkey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.passkeys[uid] = append(s.passkeys[uid], p)
	s.log(m, "passkey.add", "user", fmt.Sprint(uid), nil)
	return nil
}

func (s *memStore) PasskeyUsed(_ context.Context, m Meta, uid int64, c webauthn.Credential, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, p := range s.passkeys[uid] {
		if bytes.Equal(p.Credential.ID, c.ID) {
			s.passkeys[uid][i].Credential = c
			s.passkeys[uid][i].LastUsedAt = at
			return nil
		}
	}
	return ErrNotFound
}

func (s *memStore) RenamePasskey(_ context.Context, m Meta, uid int64, id []byte, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, p := range s.passkeys[uid] {
		if bytes.Equal(p.Credential.ID, id) {
			s.passkeys[uid][i].Name = name
			s.log(m, "passkey.rename", "passkey", hex.EncodeToString(id), nil)
			return nil
		}
	}
	return ErrNotFound
}

func (s *memStore) RemovePasskey(_ context.Context, m Meta, uid int64, id []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := s.passkeys[uid]
	for i, p := range ps {
		if bytes.Equal(p.Credential.ID, id) {
			if len(ps) == 1 {
				return ErrLastSignInMethod
			}
			s.passkeys[uid] = append(ps[:i:i], ps[i+1:]...)
			s.log(m, "passkey.remove", "passkey", hex.EncodeToString(id), nil)
			return nil
		}
	}
	return ErrNotFound
}

func (s *memStore) PeekLink(_ context.Context, h []byte) (Link, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.links[string(h)]
	if !ok {
		return Link{}, ErrNotFound
	}
	if l.used || s.now().After(l.ExpiresAt) {
		return Link{}, ErrLinkUsed
	}
	out := l.Link
	if out.Kind == LinkInvitation {
		for _, a := range s.accounts {
			out.AccountExists = out.AccountExists || a.Email == out.Email
		}
	}
	return out, nil
}

func (s *memStore) consume(h []byte, kinds ...LinkKind) (*memLink, error) {
	l, ok := s.links[string(h)]
	if !ok {
		return nil, ErrNotFound
	}
	if l.used || s.now().After(l.ExpiresAt) {
		return nil, ErrLinkUsed
	}
	for _, k := range kinds {
		if l.Kind == k {
			l.used = true
			return l, nil
		}
	}
	return nil, ErrNotFound
}

func (s *memStore) CompleteEnrolment(_ context.Context, m Meta, h []byte, e Enrolment) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.consume(h, LinkEnrolFirstAdmin, LinkInvitation)
	if err != nil {
		return 0, err
	}
	uid := l.UserID
	if uid == 0 {
		email := e.Email
		if l.Kind == LinkInvitation {
			// The account of an invitation gets the invited address, and
			// an address with an account cannot enrol again.
			email = l.Email
			for _, a := range s.accounts {
				if a.Email == email {
					l.used = false
					return 0, ErrAccountExists
				}
			}
		}
		uid = s.id()
		s.accounts[uid] = &Account{ID: uid, Email: email, Active: true}
	}
	a := s.accounts[uid]
	a.DisplayName = e.DisplayName
	if len(a.Handle) == 0 {
		a.Handle = e.Handle
	}
	s.passkeys[uid] = append(s.passkeys[uid], e.Passkey)
	s.log(m, "user.enrol", "user", fmt.Sprint(uid), nil)
	return uid, nil
}

// addInvitation adds an invitation link for email (the account is made
// when the link is used).
func (s *memStore) addInvitation(email, tok string, expires time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := HashLinkToken(tok)
	s.links[string(h)] = &memLink{Link: Link{Kind: LinkInvitation, Email: email, ExpiresAt: expires}}
}

func (s *memStore) AcceptInvitation(_ context.Context, m Meta, uid int64, h []byte) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.links[string(h)]
	if !ok || l.Kind != LinkInvitation {
		return 0, ErrNotFound
	}
	if a := s.accounts[uid]; a == nil || a.Email != l.Email {
		return 0, ErrOtherAddress
	}
	if _, err := s.consume(h, LinkInvitation); err != nil {
		return 0, err
	}
	s.log(m, "invitation.accept", "user", fmt.Sprint(uid), nil)
	return 0, nil
}

func (s *memStore) CompleteRecovery(_ context.Context, m Meta, h []byte, p Passkey) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.consume(h, LinkRecovery)
	if err != nil {
		return 0, err
	}
	s.passkeys[l.UserID] = append(s.passkeys[l.UserID], p)
	s.log(m, "user.recover", "user", fmt.Sprint(l.UserID), nil)
	return l.UserID, nil
}

func (s *memStore) StartTOTP(_ context.Context, m Meta, uid int64) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	secret := strings.ToUpper(randomCode(32))
	secret = strings.Map(func(r rune) rune { // base32 alphabet only
		if r >= '0' && r <= '9' {
			return 'A' + (r - '0')
		}
		return r
	}, secret)
	s.totp[uid] = &memTOTP{secret: secret}
	s.accounts[uid].TOTPEnabled = false
	return secret, nil
}

func (s *memStore) PendingTOTP(_ context.Context, uid int64) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.totp[uid]
	if t == nil || s.accounts[uid].TOTPEnabled {
		return "", ErrNotFound
	}
	return t.secret, nil
}

func (s *memStore) VerifyTOTP(_ context.Context, m Meta, uid int64, code string, confirm bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.totp[uid]
	if t == nil || s.accounts[uid].TOTPEnabled == confirm {
		return ErrNotFound
	}
	step := int64(0)
	now := s.now().Unix() / 30
	for _, st := range []int64{now - 1, now, now + 1} {
		if totpCodeAt(t.secret, st) == code {
			step = st
		}
	}
	switch {
	case step == 0:
		s.log(m, "totp.fail", "user", fmt.Sprint(uid), nil)
		return ErrTOTPWrong
	case step <= t.lastStep:
		s.log(m, "totp.reuse", "user", fmt.Sprint(uid), nil)
		return ErrTOTPReused
	}
	t.lastStep = step
	if confirm {
		s.accounts[uid].TOTPEnabled = true
		s.log(m, "totp.enable", "user", fmt.Sprint(uid), nil)
	}
	return nil
}

func (s *memStore) DisableTOTP(_ context.Context, m Meta, uid int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.accounts[uid].TOTPRequired {
		return ErrTOTPRequired
	}
	delete(s.totp, uid)
	s.accounts[uid].TOTPEnabled = false
	return nil
}

func (s *memStore) ReplaceRecoveryCodes(_ context.Context, m Meta, uid int64, hs [][]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[uid] = hs
	s.log(m, "recovery_codes.replace", "user", fmt.Sprint(uid), nil)
	return nil
}

func (s *memStore) RecoveryCodesLeft(_ context.Context, uid int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.codes[uid]), nil
}

func (s *memStore) UseRecoveryCode(_ context.Context, m Meta, uid int64, h []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, c := range s.codes[uid] {
		if bytes.Equal(c, h) {
			s.codes[uid] = append(s.codes[uid][:i:i], s.codes[uid][i+1:]...)
			s.log(m, "recovery_code.use", "user", fmt.Sprint(uid), nil)
			return nil
		}
	}
	return ErrNotFound
}

// startSession is the fake shell's session start; it returns the cookie.
func (s *memStore) startSession(uid int64, now time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	cookie := randomCode(32)
	h := sha256.Sum256([]byte(cookie))
	id := fmt.Sprintf("s%d", s.id())
	s.sessions[hex.EncodeToString(h[:])] = &memSession{Session: Session{
		ID: id, UserID: uid, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(12 * time.Hour), VerifiedAt: now,
	}}
	return cookie
}

func (s *memStore) sessionByCookie(cookie string) (Session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := sha256.Sum256([]byte(cookie))
	ss, ok := s.sessions[hex.EncodeToString(h[:])]
	if !ok || ss.revoked {
		return Session{}, false
	}
	return ss.Session, true
}

func (s *memStore) endSession(cookie string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := sha256.Sum256([]byte(cookie))
	delete(s.sessions, hex.EncodeToString(h[:]))
}

func (s *memStore) Sessions(_ context.Context, uid int64) ([]Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Session
	for _, ss := range s.sessions {
		if ss.UserID == uid && !ss.revoked {
			out = append(out, ss.Session)
		}
	}
	return out, nil
}

func (s *memStore) RevokeSession(_ context.Context, m Meta, uid int64, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ss := range s.sessions {
		if ss.ID == id && ss.UserID == uid {
			ss.revoked = true
			s.log(m, "session.revoke", "session", id, nil)
			return nil
		}
	}
	return ErrNotFound
}

func (s *memStore) markVerified(id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ss := range s.sessions {
		if ss.ID == id {
			ss.VerifiedAt = at
			return nil
		}
	}
	return ErrNotFound
}

func (s *memStore) CreateToken(_ context.Context, m Meta, uid int64, name string, scope TokenScope, expires time.Time) (string, Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := "dfs_" + randomCode(8) + "_" + randomCode(32)
	t := Token{ID: s.id(), UserID: uid, Name: name, Prefix: tok[4:12], Scope: scope, CreatedAt: s.now(), ExpiresAt: expires}
	h := sha256.Sum256([]byte(tok))
	s.tokens[t.ID] = &memToken{Token: t, hash: h[:]}
	s.log(m, "api_token.create", "api_token", fmt.Sprint(t.ID), nil)
	return tok, t, nil
}

func (s *memStore) AuthenticateToken(ctx context.Context, tok string) (Token, Account, error) {
	h := sha256.Sum256([]byte(tok))
	s.mu.Lock()
	var found *memToken
	for _, t := range s.tokens {
		if bytes.Equal(t.hash, h[:]) {
			found = t
		}
	}
	s.mu.Unlock()
	if found == nil || found.Revoked || !s.now().Before(found.ExpiresAt) {
		return Token{}, Account{}, ErrTokenInvalid
	}
	acc, err := s.Account(ctx, found.UserID)
	if err != nil || !acc.Active {
		return Token{}, Account{}, ErrTokenInvalid
	}
	return found.Token, acc, nil
}

func (s *memStore) Tokens(_ context.Context, uid int64) ([]Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Token
	for _, t := range s.tokens {
		if t.UserID == uid {
			out = append(out, t.Token)
		}
	}
	return out, nil
}

func (s *memStore) RevokeToken(_ context.Context, m Meta, uid, id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[id]
	if !ok || t.UserID != uid {
		return ErrNotFound
	}
	t.Revoked = true
	s.log(m, "api_token.revoke", "api_token", fmt.Sprint(id), nil)
	return nil
}

func (s *memStore) Audit(_ context.Context, m Meta, e AuditEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.audit = append(s.audit, memAudit{m, e})
	return nil
}

// totpCodeAt is RFC 6238 with SHA-1, 6 digits, 30 s steps, from the
// otp library, so the fake store checks codes the way apps make them.
func totpCodeAt(secret string, step int64) string {
	c, err := totp.GenerateCodeCustom(secret, time.Unix(step*30, 0).UTC(),
		totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		panic(err)
	}
	return c
}
