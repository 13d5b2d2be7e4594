package identity_test

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity"
)

// The hash-level primitives are what internal/authn builds on; their
// single-use guarantees must hold under concurrency too.
func TestPrimitives(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		o := f.org("Primitives")
		u := f.member(o, "p@prim.example", identity.RoleAnalyst)

		// TOTP steps: of several concurrent uses of one step, one wins.
		if err := f.s.SetPendingTOTP(f.ctx, u.ID, []byte("JBSWY3DPEHPK3PXP")); err != nil {
			t.Fatal(err)
		}
		sec, enabled, last, err := f.s.TOTPSecret(f.ctx, u.ID)
		if err != nil || enabled || last != 0 || string(sec) != "JBSWY3DPEHPK3PXP" {
			t.Fatalf("TOTPSecret = %q %v %d %v", sec, enabled, last, err)
		}
		if err := f.s.UseTOTPStep(f.ctx, u.ID, 100, false); !errors.Is(err, identity.ErrTOTPNotEnabled) {
			t.Fatalf("verify against a pending secret: %v", err)
		}
		if err := f.s.UseTOTPStep(f.ctx, u.ID, 100, true); err != nil {
			t.Fatal(err)
		}
		if err := f.s.SetPendingTOTP(f.ctx, u.ID, []byte("other")); !errors.Is(err, identity.ErrConflict) {
			t.Fatalf("replacing an enabled secret: %v", err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 5)
		for i := range errs {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = f.s.UseTOTPStep(f.ctx, u.ID, 101, false) }()
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			if err == nil {
				wins++
			} else if !errors.Is(err, identity.ErrTOTPReused) {
				t.Fatal(err)
			}
		}
		if wins != 1 {
			t.Fatalf("%d concurrent uses of one TOTP step succeeded", wins)
		}
		if err := f.s.UseTOTPStep(f.ctx, u.ID, 100, false); !errors.Is(err, identity.ErrTOTPReused) {
			t.Fatalf("older step: %v", err)
		}

		// Recovery code hashes: single use under concurrency.
		h1, h2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
		if err := f.s.ReplaceRecoveryCodeHashes(f.ctx, u.ID, [][]byte{h1, h2}); err != nil {
			t.Fatal(err)
		}
		for i := range errs {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = f.s.UseRecoveryCodeHash(f.ctx, u.ID, h1) }()
		}
		wg.Wait()
		wins = 0
		for _, err := range errs {
			if err == nil {
				wins++
			} else if !errors.Is(err, identity.ErrRecoveryInvalid) {
				t.Fatal(err)
			}
		}
		if n, _ := f.s.RecoveryCodesLeft(f.ctx, u.ID); wins != 1 || n != 1 {
			t.Fatalf("%d concurrent uses of one recovery code succeeded, %d left", wins, n)
		}

		// Links by hash.
		rl, _ := f.s.IssueRecoveryLink(f.ctx, 0, u.ID)
		tok := rl.Token
		if l, err := f.s.PeekLinkHash(f.ctx, identity.HashToken(tok)); err != nil || l.UserID != u.ID {
			t.Fatalf("PeekLinkHash = %+v, %v", l, err)
		}
		if _, err := f.s.RedeemRecoveryHash(f.ctx, identity.HashToken(tok), f.passkey()); err != nil {
			t.Fatal(err)
		}

		// API tokens made by the caller: found by prefix, hash returned.
		hash := identity.HashToken("dfs_abcdefgh_secret")
		at, err := f.s.InsertAPIToken(f.ctx, identity.NewAPIToken{UserID: u.ID, Prefix: "abcdefgh", Hash: hash, Scope: identity.ScopeRead,
			Expires: f.clock.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.InsertAPIToken(f.ctx, identity.NewAPIToken{UserID: u.ID, Prefix: "abcdefgh", Hash: identity.HashToken("x"),
			Scope: identity.ScopeRead, Expires: f.clock.Now().Add(time.Hour)}); !errors.Is(err, identity.ErrConflict) {
			t.Fatalf("duplicate prefix: %v", err)
		}
		got, gotHash, err := f.s.APITokenByPrefix(f.ctx, "abcdefgh")
		if err != nil || got.ID != at.ID || !bytes.Equal(gotHash, hash) || got.Name != "API token" {
			t.Fatalf("APITokenByPrefix = %+v, %v", got, err)
		}
		if _, _, err := f.s.AuthenticateAPIToken(f.ctx, "dfs_abcdefgh_secret"); err != nil {
			t.Fatalf("token made by the caller: %v", err)
		}
		if err := f.s.TouchAPIToken(f.ctx, at.ID); err != nil {
			t.Fatal(err)
		}

		// Sessions by id; lookup without touch; purge.
		stok, sess, _ := f.s.CreateSession(f.ctx, u.ID, identity.SessionMeta{}, "passkey")
		f.clock.Add(10 * time.Minute)
		s1, _, err := f.s.Session(f.ctx, stok)
		if err != nil || !s1.LastSeen.Equal(sess.LastSeen) {
			t.Fatalf("Session touched or failed: %+v, %v", s1, err)
		}
		if err := f.s.TouchSession(f.ctx, sess.ID); err != nil {
			t.Fatal(err)
		}
		if s2, _, _ := f.s.Session(f.ctx, stok); !s2.LastSeen.Equal(f.clock.Now()) {
			t.Fatalf("TouchSession: last seen %v", s2.LastSeen)
		}
		if err := f.s.EndSessionID(f.ctx, sess.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.s.Session(f.ctx, stok); !errors.Is(err, identity.ErrSessionInvalid) {
			t.Fatal("ended session still valid")
		}
		if err := f.s.EndSessionID(f.ctx, sess.ID); err != nil {
			t.Fatalf("ending twice: %v", err)
		}
		f.s.CreateSession(f.ctx, u.ID, identity.SessionMeta{}, "passkey")
		f.s.CreateSession(f.ctx, u.ID, identity.SessionMeta{}, "passkey")
		f.clock.Add(31 * time.Minute)
		live, _, _ := f.s.CreateSession(f.ctx, u.ID, identity.SessionMeta{}, "passkey")
		if n, err := f.s.PurgeExpiredSessions(f.ctx); err != nil || n != 2 {
			t.Fatalf("PurgeExpiredSessions = %d, %v", n, err)
		}
		if _, _, err := f.s.Session(f.ctx, live); err != nil {
			t.Fatal("purge removed a live session")
		}
		f.verifyAudit()
	})
}

func TestParseSecretKey(t *testing.T) {
	key := bytes.Repeat([]byte{0xab}, 32)
	for _, c := range []struct {
		in string
		ok bool
	}{
		{"q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=", true},
		{"q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s", true},
		{"abababababababababababababababababababababababababababababababab", true},
		{"short", false},
		{"", false},
	} {
		got, err := identity.ParseSecretKey(c.in)
		if (err == nil) != c.ok || (c.ok && !bytes.Equal(got, key)) {
			t.Errorf("ParseSecretKey(%q) = %x, %v", c.in, got, err)
		}
	}
}
