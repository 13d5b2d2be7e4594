package identity_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity"
)

// totpAt computes an RFC 6238 code independently of the package (RFC 6238
// appendix B test vectors check it below).
func totpAt(secret []byte, t time.Time) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(t.Unix()/30))
	m := hmac.New(sha1.New, secret)
	m.Write(msg[:])
	s := m.Sum(nil)
	o := s[19] & 15
	v := binary.BigEndian.Uint32(s[o:o+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1000000)
}

func TestTOTPReferenceVectors(t *testing.T) {
	secret := []byte("12345678901234567890")
	for _, c := range []struct {
		unix int64
		want string
	}{{59, "287082"}, {1111111109, "081804"}, {1234567890, "005924"}, {2000000000, "279037"}} {
		if got := totpAt(secret, time.Unix(c.unix, 0)); got != c.want {
			t.Errorf("T=%d: %s, want %s", c.unix, got, c.want)
		}
	}
}

func TestPasskeyRemovalRules(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		o := f.org("CERT-MW")
		u := f.member(o, "ops@cert.example", identity.RoleOrgAdmin)
		other := f.member(o, "other@cert.example", identity.RoleViewer)
		pks, _ := f.s.ListPasskeys(f.ctx, u.ID)
		if len(pks) != 1 || pks[0].Transports[1] != "hybrid" || !pks[0].BackupEligible || pks[0].UserID != u.ID {
			t.Fatalf("passkeys = %+v", pks)
		}
		first := pks[0]

		if err := f.s.RemovePasskey(f.ctx, u.ID, first.ID); !errors.Is(err, identity.ErrLastSignIn) {
			t.Fatalf("removing the only passkey: %v", err)
		}
		if err := f.s.RemovePasskey(f.ctx, other.ID, first.ID); !errors.Is(err, identity.ErrNotFound) {
			t.Fatalf("removing someone else's passkey: %v", err)
		}
		second, err := f.s.AddPasskey(f.ctx, u.ID, f.passkey())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.AddPasskey(f.ctx, other.ID, identity.Passkey{CredentialID: second.CredentialID, PublicKey: []byte("k")}); !errors.Is(err, identity.ErrConflict) {
			t.Fatalf("registering a credential id twice: %v", err)
		}
		if err := f.s.RenamePasskey(f.ctx, u.ID, second.ID, "YubiKey 5C"); err != nil {
			t.Fatal(err)
		}
		if err := f.s.RemovePasskey(f.ctx, u.ID, first.ID); err != nil {
			t.Fatalf("removing one of two passkeys: %v", err)
		}
		if f.lastAction() != "passkey.remove" {
			t.Fatalf("last audit = %s", f.lastAction())
		}
		// The last passkey may go once TOTP and an unused recovery code
		// remain; recovery codes alone are not enough.
		if _, err := f.s.NewRecoveryCodes(f.ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.s.RemovePasskey(f.ctx, u.ID, second.ID); !errors.Is(err, identity.ErrLastSignIn) {
			t.Fatalf("last passkey with recovery codes but no TOTP: %v", err)
		}
		f.enableTOTP(u.ID)
		if err := f.s.RemovePasskey(f.ctx, u.ID, second.ID); err != nil {
			t.Fatalf("last passkey with TOTP and recovery codes: %v", err)
		}

		// UsePasskey keeps sign count and last use.
		p3, _ := f.s.AddPasskey(f.ctx, other.ID, f.passkey())
		f.clock.Add(time.Minute)
		used, err := f.s.UsePasskey(f.ctx, p3.CredentialID, identity.PasskeyUse{SignCount: 7, BackupState: true, Record: []byte(`{"id":"x"}`)})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := f.s.PasskeyByCredentialID(f.ctx, p3.CredentialID)
		if got.SignCount != 7 || !got.BackupState || !got.LastUsed.Equal(f.clock.Now()) || string(got.Record) != `{"id":"x"}` || used.ID != p3.ID {
			t.Fatalf("after use: %+v", got)
		}
		byHandle, err := f.s.UserByWebAuthnID(f.ctx, other.WebAuthnID)
		if err != nil || byHandle.ID != other.ID || len(other.WebAuthnID) != 64 {
			t.Fatalf("UserByWebAuthnID = %+v, %v", byHandle, err)
		}
		f.verifyAudit()
	})
}

// enableTOTP enrols TOTP for userID and returns its secret.
func (f *fixture) enableTOTP(userID int64) []byte {
	f.t.Helper()
	secret, err := f.s.StartTOTP(f.ctx, userID)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.s.ConfirmTOTP(f.ctx, userID, totpAt(secret, f.clock.Now())); err != nil {
		f.t.Fatalf("ConfirmTOTP: %v", err)
	}
	return secret
}

func TestTOTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		o := f.org("Central Bank of Lesotho")
		u := f.member(o, "fin@cbl.example", identity.RoleAnalyst)

		if err := f.s.VerifyTOTP(f.ctx, u.ID, "123456"); !errors.Is(err, identity.ErrTOTPNotEnabled) {
			t.Fatalf("verify before enrolment: %v", err)
		}
		secret, err := f.s.StartTOTP(f.ctx, u.ID)
		if err != nil || len(secret) != 20 {
			t.Fatalf("StartTOTP: %v", err)
		}
		if st, _ := f.s.TOTP(f.ctx, u.ID); !st.Pending || st.Enabled {
			t.Fatalf("status after start = %+v", st)
		}
		again, err := f.s.PendingTOTPSecret(f.ctx, u.ID)
		if err != nil || string(again) != string(secret) {
			t.Fatalf("PendingTOTPSecret: %v", err)
		}
		if err := f.s.ConfirmTOTP(f.ctx, u.ID, "000000"); !errors.Is(err, identity.ErrTOTPInvalid) && totpAt(secret, f.clock.Now()) != "000000" {
			t.Fatalf("confirm with a wrong code: %v", err)
		}
		code := totpAt(secret, f.clock.Now())
		if err := f.s.ConfirmTOTP(f.ctx, u.ID, code); err != nil {
			t.Fatalf("ConfirmTOTP: %v", err)
		}
		if _, err := f.s.PendingTOTPSecret(f.ctx, u.ID); !errors.Is(err, identity.ErrNotFound) {
			t.Fatalf("an enabled secret must not be readable as pending: %v", err)
		}
		// The code that confirmed enrolment cannot sign in again.
		if err := f.s.VerifyTOTP(f.ctx, u.ID, code); !errors.Is(err, identity.ErrTOTPReused) {
			t.Fatalf("reusing the confirmation code: %v", err)
		}
		f.clock.Add(30 * time.Second)
		next := totpAt(secret, f.clock.Now())
		if err := f.s.VerifyTOTP(f.ctx, u.ID, next); err != nil {
			t.Fatalf("fresh code: %v", err)
		}
		if err := f.s.VerifyTOTP(f.ctx, u.ID, next); !errors.Is(err, identity.ErrTOTPReused) {
			t.Fatalf("same code twice: %v", err)
		}
		if f.lastAction() != "totp.reuse" {
			t.Fatalf("reuse not audited: %s", f.lastAction())
		}
		// A code of an older step than the last accepted one is refused
		// too, though it is still inside the drift window.
		if err := f.s.VerifyTOTP(f.ctx, u.ID, code); !errors.Is(err, identity.ErrTOTPReused) {
			t.Fatalf("older step: %v", err)
		}
		f.clock.Add(5 * time.Minute)
		if err := f.s.VerifyTOTP(f.ctx, u.ID, next); !errors.Is(err, identity.ErrTOTPInvalid) {
			t.Fatalf("stale code: %v", err)
		}
		// Drift of one step either way is accepted.
		if err := f.s.VerifyTOTP(f.ctx, u.ID, totpAt(secret, f.clock.Now().Add(30*time.Second))); err != nil {
			t.Fatalf("next-step code: %v", err)
		}
		// The secret is stored encrypted.
		var box []byte
		if err := d.QueryRow(f.ctx, "SELECT secret_enc FROM totp WHERE user_id = ?", u.ID).Scan(&box); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(box), string(secret)) || len(box) < len(secret)+16 {
			t.Fatal("TOTP secret stored in clear")
		}
		// An organisation that requires TOTP keeps it on.
		o.RequireTOTP = true
		if _, err := f.s.UpdateOrg(f.ctx, o); err != nil {
			t.Fatal(err)
		}
		if req, _ := f.s.TOTPRequired(f.ctx, u.ID); !req {
			t.Fatal("TOTPRequired = false")
		}
		if err := f.s.DisableTOTP(f.ctx, u.ID); !errors.Is(err, identity.ErrForbidden) {
			t.Fatalf("disable under requirement: %v", err)
		}
		o.RequireTOTP = false
		f.s.UpdateOrg(f.ctx, o)
		if err := f.s.DisableTOTP(f.ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if st, _ := f.s.TOTP(f.ctx, u.ID); st.Enabled || st.Pending {
			t.Fatalf("status after disable = %+v", st)
		}
		// Another store with a different key cannot read the secret.
		f.enableTOTP(u.ID)
		other := identity.NewStore(d, identity.Options{Now: f.clock.Now, SecretKey: make([]byte, 32)})
		if _, _, _, err := other.TOTPSecret(f.ctx, u.ID); err == nil {
			t.Fatal("secret decrypted with the wrong key")
		}
		f.verifyAudit()
	})
}

func TestRecoveryCodes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		o := f.org("Vodacom Lesotho")
		u := f.member(o, "sec@vcl.example", identity.RoleOrgAdmin)
		v := f.member(o, "noc@vcl.example", identity.RoleViewer)
		codes, err := f.s.NewRecoveryCodes(f.ctx, u.ID)
		if err != nil || len(codes) != identity.RecoveryCodeCount {
			t.Fatalf("NewRecoveryCodes = %d, %v", len(codes), err)
		}
		seen := map[string]bool{}
		for _, c := range codes {
			if seen[c] || len(c) != 14 {
				t.Fatalf("code %q repeated or malformed", c)
			}
			seen[c] = true
		}
		if err := f.s.UseRecoveryCode(f.ctx, v.ID, codes[0]); !errors.Is(err, identity.ErrRecoveryInvalid) {
			t.Fatalf("another user's code: %v", err)
		}
		// Typed loosely: upper case, no hyphens.
		if err := f.s.UseRecoveryCode(f.ctx, u.ID, strings.ToUpper(strings.ReplaceAll(codes[0], "-", ""))); err != nil {
			t.Fatalf("first use: %v", err)
		}
		if err := f.s.UseRecoveryCode(f.ctx, u.ID, codes[0]); !errors.Is(err, identity.ErrRecoveryInvalid) {
			t.Fatalf("second use: %v", err)
		}
		if f.lastAction() != "recovery_code.fail" {
			t.Fatalf("failure not audited: %s", f.lastAction())
		}
		if n, _ := f.s.RecoveryCodesLeft(f.ctx, u.ID); n != identity.RecoveryCodeCount-1 {
			t.Fatalf("left = %d", n)
		}
		assertNotStored(t, f, "recovery_codes", codes...)
		fresh, _ := f.s.NewRecoveryCodes(f.ctx, u.ID)
		if err := f.s.UseRecoveryCode(f.ctx, u.ID, codes[1]); !errors.Is(err, identity.ErrRecoveryInvalid) {
			t.Fatalf("old code after regeneration: %v", err)
		}
		if err := f.s.UseRecoveryCode(f.ctx, u.ID, fresh[9]); err != nil {
			t.Fatal(err)
		}
		f.verifyAudit()
	})
}

func TestSessions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		o := f.org("MTN")
		u := f.member(o, "u@mtn.example", identity.RoleAnalyst)
		v := f.member(o, "v@mtn.example", identity.RoleAnalyst)
		meta := identity.SessionMeta{IP: "198.51.100.7", UserAgent: "Firefox"}

		tok, sess, err := f.s.CreateSession(f.ctx, u.ID, meta, "passkey")
		if err != nil || sess.UserID != u.ID || !sess.Expires.Equal(f.clock.Now().Add(12*time.Hour)) {
			t.Fatalf("CreateSession = %+v, %v", sess, err)
		}
		assertNotStored(t, f, "sessions", tok)

		// Idle timeout: activity keeps a session alive, 30 quiet minutes end it.
		for range 5 {
			f.clock.Add(20 * time.Minute)
			if _, _, err := f.s.Authenticate(f.ctx, tok); err != nil {
				t.Fatalf("active session refused: %v", err)
			}
		}
		f.clock.Add(30 * time.Minute)
		if _, _, err := f.s.Authenticate(f.ctx, tok); !errors.Is(err, identity.ErrSessionInvalid) {
			t.Fatalf("idle session accepted: %v", err)
		}

		// Absolute timeout: 12 h, however active.
		tok, _, _ = f.s.CreateSession(f.ctx, u.ID, meta, "passkey")
		for range 12*60/20 - 1 {
			f.clock.Add(20 * time.Minute)
			if _, _, err := f.s.Authenticate(f.ctx, tok); err != nil {
				t.Fatalf("session refused before 12 h: %v", err)
			}
		}
		f.clock.Add(20 * time.Minute)
		if _, _, err := f.s.Authenticate(f.ctx, tok); !errors.Is(err, identity.ErrSessionInvalid) {
			t.Fatalf("session accepted after 12 h: %v", err)
		}

		// Step-up.
		tok, sess, _ = f.s.CreateSession(f.ctx, u.ID, meta, "passkey")
		f.clock.Add(6 * time.Minute)
		sess, _, _ = f.s.Authenticate(f.ctx, tok)
		if sess.VerifiedWithin(f.clock.Now(), identity.StepUpWindow) {
			t.Fatal("verification older than 5 min counts for step-up")
		}
		if err := f.s.MarkVerified(f.ctx, sess.ID, "totp"); err != nil {
			t.Fatal(err)
		}
		sess, _, _ = f.s.Authenticate(f.ctx, tok)
		if !sess.VerifiedWithin(f.clock.Now(), identity.StepUpWindow) {
			t.Fatal("fresh verification not seen")
		}

		// Renewal replaces the token and keeps the absolute expiry.
		newTok, renewed, err := f.s.RenewSession(f.ctx, tok)
		if err != nil || newTok == tok || !renewed.Expires.Equal(sess.Expires) {
			t.Fatalf("RenewSession = %+v, %v", renewed, err)
		}
		if _, _, err := f.s.Authenticate(f.ctx, tok); !errors.Is(err, identity.ErrSessionInvalid) {
			t.Fatal("old token valid after renewal")
		}
		tok = newTok

		// List and revoke own sessions only.
		tok2, s2, _ := f.s.CreateSession(f.ctx, u.ID, identity.SessionMeta{IP: "203.0.113.9", UserAgent: "Phone"}, "passkey")
		vtok, vs, _ := f.s.CreateSession(f.ctx, v.ID, meta, "passkey")
		list, _ := f.s.ListSessions(f.ctx, u.ID)
		if len(list) != 2 || list[0].ID != s2.ID || list[0].UserAgent != "Phone" {
			t.Fatalf("ListSessions = %+v", list)
		}
		if err := f.s.RevokeSession(f.ctx, u.ID, vs.ID); !errors.Is(err, identity.ErrNotFound) {
			t.Fatalf("revoking someone else's session: %v", err)
		}
		if err := f.s.RevokeSession(f.ctx, u.ID, s2.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.s.Authenticate(f.ctx, tok2); !errors.Is(err, identity.ErrSessionInvalid) {
			t.Fatal("revoked session still valid")
		}

		// Deactivation ends every session at once, and no new one starts.
		tok3, _, _ := f.s.CreateSession(f.ctx, u.ID, meta, "passkey")
		if err := f.s.SetActive(f.ctx, u.ID, false); err != nil {
			t.Fatal(err)
		}
		for _, tk := range []string{tok, tok3} {
			if _, _, err := f.s.Authenticate(f.ctx, tk); !errors.Is(err, identity.ErrSessionInvalid) {
				t.Fatal("session of a deactivated user still valid")
			}
		}
		var left int
		d.QueryRow(f.ctx, "SELECT COUNT(*) FROM sessions WHERE user_id = ?", u.ID).Scan(&left)
		if left != 0 {
			t.Fatalf("%d session rows left after deactivation", left)
		}
		es, _ := audit.List(f.ctx, d, audit.Filter{Action: "user.deactivate"})
		if len(es) != 1 || es[0].Details["sessions_ended"] != float64(2) {
			t.Fatalf("deactivation audit = %+v", es)
		}
		if _, _, err := f.s.CreateSession(f.ctx, u.ID, meta, "passkey"); !errors.Is(err, identity.ErrInactive) {
			t.Fatalf("session for a deactivated user: %v", err)
		}
		if _, _, err := f.s.Authenticate(f.ctx, vtok); err != nil {
			t.Fatalf("other user's session hit by deactivation: %v", err)
		}
		if err := f.s.EndSession(f.ctx, vtok); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.s.Authenticate(f.ctx, vtok); !errors.Is(err, identity.ErrSessionInvalid) {
			t.Fatal("signed-out session still valid")
		}
		f.verifyAudit()
	})
}

func TestAPITokens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		o := f.org("Ecocash")
		u := f.member(o, "ci@ecocash.example", identity.RoleAnalyst)
		v := f.member(o, "other@ecocash.example", identity.RoleAnalyst)
		now := f.clock.Now()

		cases := []struct {
			name    string
			scope   identity.Scope
			expires time.Time
			want    error
		}{
			{"read", identity.ScopeRead, now.Add(30 * 24 * time.Hour), nil},
			{"write", identity.ScopeWrite, now.Add(time.Hour), nil},
			{"admin scope", "admin", now.Add(time.Hour), identity.ErrInvalid},
			{"already expired", identity.ScopeRead, now.Add(-time.Second), identity.ErrInvalid},
			{"over a year", identity.ScopeRead, now.Add(400 * 24 * time.Hour), identity.ErrInvalid},
		}
		toks := map[string]string{}
		for _, c := range cases {
			tok, at, err := f.s.CreateAPIToken(f.ctx, u.ID, c.name, c.scope, c.expires)
			if !errors.Is(err, c.want) {
				t.Fatalf("%s: %v", c.name, err)
			}
			if err != nil {
				continue
			}
			if !strings.HasPrefix(tok, "dfs_"+at.Prefix+"_") {
				t.Fatalf("%s: token %q does not start with prefix %q", c.name, tok[:8], at.Prefix)
			}
			toks[c.name] = tok
			got, user, err := f.s.AuthenticateAPIToken(f.ctx, tok)
			if err != nil || user.ID != u.ID || got.Scope != c.scope {
				t.Fatalf("%s: AuthenticateAPIToken = %+v, %v", c.name, got, err)
			}
		}
		read, _, _ := f.s.AuthenticateAPIToken(f.ctx, toks["read"])
		if !read.Scope.Allows(identity.ScopeRead) || read.Scope.Allows(identity.ScopeWrite) || !identity.ScopeWrite.Allows(identity.ScopeRead) {
			t.Fatal("scope rules broken")
		}
		assertNotStored(t, f, "api_tokens", toks["read"], toks["write"], toks["read"][13:])
		assertNotStored(t, f, "audit_log", toks["read"], toks["write"])

		for _, bad := range []string{"", "dfs_", toks["read"] + "x", strings.ToUpper(toks["read"])} {
			if _, _, err := f.s.AuthenticateAPIToken(f.ctx, bad); !errors.Is(err, identity.ErrTokenInvalid) {
				t.Fatalf("token %q accepted: %v", bad, err)
			}
		}
		f.clock.Add(time.Hour)
		if _, _, err := f.s.AuthenticateAPIToken(f.ctx, toks["write"]); !errors.Is(err, identity.ErrTokenInvalid) {
			t.Fatalf("expired token accepted: %v", err)
		}
		list, _ := f.s.ListAPITokens(f.ctx, u.ID)
		if len(list) != 2 || list[1].LastUsed.IsZero() {
			t.Fatalf("ListAPITokens = %+v", list)
		}
		if err := f.s.RevokeAPIToken(f.ctx, v.ID, list[1].ID); !errors.Is(err, identity.ErrNotFound) {
			t.Fatalf("revoking someone else's token: %v", err)
		}
		if err := f.s.RevokeAPIToken(f.ctx, u.ID, list[1].ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.s.AuthenticateAPIToken(f.ctx, toks["read"]); !errors.Is(err, identity.ErrTokenInvalid) {
			t.Fatal("revoked token accepted")
		}
		// Deactivation stops a user's tokens.
		vt, _, _ := f.s.CreateAPIToken(f.ctx, v.ID, "ci", identity.ScopeWrite, f.clock.Now().Add(time.Hour))
		f.s.SetActive(f.ctx, v.ID, false)
		if _, _, err := f.s.AuthenticateAPIToken(f.ctx, vt); !errors.Is(err, identity.ErrTokenInvalid) {
			t.Fatal("token of a deactivated user accepted")
		}
		if _, _, err := f.s.CreateAPIToken(f.ctx, v.ID, "ci", identity.ScopeRead, f.clock.Now().Add(time.Hour)); !errors.Is(err, identity.ErrInactive) {
			t.Fatalf("token for a deactivated user: %v", err)
		}
		f.verifyAudit()
	})
}

func TestEveryWriteIsAudited(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		o := f.org("Airtel")
		u := f.member(o, "a@airtel.example", identity.RoleOrgAdmin)
		count := func() int64 {
			r, err := audit.Verify(f.ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			return r.Entries
		}
		steps := []struct {
			action string
			do     func() error
		}{
			{"user.rename", func() error { return f.s.SetDisplayName(f.ctx, u.ID, "Alice") }},
			{"user.platform_admin", func() error { return f.s.SetPlatformAdmin(f.ctx, u.ID, true) }},
			{"passkey.add", func() error { _, err := f.s.AddPasskey(f.ctx, u.ID, f.passkey()); return err }},
			{"recovery_codes.generate", func() error { _, err := f.s.NewRecoveryCodes(f.ctx, u.ID); return err }},
			{"session.create", func() error {
				_, _, err := f.s.CreateSession(f.ctx, u.ID, identity.SessionMeta{}, "passkey")
				return err
			}},
			{"session.revoke_all", func() error { _, err := f.s.RevokeAllSessions(f.ctx, u.ID, 0); return err }},
			{"api_token.create", func() error {
				_, _, err := f.s.CreateAPIToken(f.ctx, u.ID, "t", identity.ScopeRead, f.clock.Now().Add(time.Hour))
				return err
			}},
			{"link.create", func() error { _, err := f.s.IssueRecoveryLink(f.ctx, 0, u.ID); return err }},
			{"user.activate", func() error { return f.s.SetActive(f.ctx, u.ID, true) }},
		}
		for _, st := range steps {
			before := count()
			if err := st.do(); err != nil {
				t.Fatalf("%s: %v", st.action, err)
			}
			if got := f.lastAction(); got != st.action || count() <= before {
				t.Errorf("%s: last audit entry is %s", st.action, got)
			}
		}
		// The actor, address and request id come from the context.
		es, _ := audit.List(f.ctx, d, audit.Filter{Limit: 1})
		if es[0].IP != "192.0.2.1" || es[0].RequestID != "test" {
			t.Fatalf("actor fields not taken from the context: %+v", es[0])
		}
		// A failed write leaves no entry behind (same transaction).
		before := count()
		if err := f.s.SetRole(f.ctx, o.ID, u.ID, identity.RoleViewer); !errors.Is(err, identity.ErrLastAdmin) {
			t.Fatal(err)
		}
		if count() != before {
			t.Fatal("refused write left an audit entry")
		}
	})
}
