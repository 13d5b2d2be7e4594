package identity_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity"
)

// TestAuthenticateMember checks the one-query lookup against the two
// queries it replaces (Authenticate, then Memberships) for users with no,
// one and several memberships, and that it refuses what Authenticate
// refuses.
func TestAuthenticateMember(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		zeta, alpha, mid := f.org("Zeta Bank"), f.org("Alpha Telecom"), f.org("Mid Money")
		many := f.member(zeta, "many@example.org", identity.RoleViewer)
		if err := f.s.AddMember(f.ctx, alpha.ID, many.ID, identity.RoleOrgAdmin); err != nil {
			t.Fatal(err)
		}
		if err := f.s.AddMember(f.ctx, mid.ID, many.ID, identity.RoleAnalyst); err != nil {
			t.Fatal(err)
		}
		one := f.member(mid, "one@example.org", identity.RoleAnalyst)
		none := f.member(mid, "none@example.org", identity.RoleViewer)
		if err := f.s.RemoveMember(f.ctx, mid.ID, none.ID); err != nil {
			t.Fatal(err)
		}
		meta := identity.SessionMeta{IP: "192.0.2.9", UserAgent: "test"}

		for _, c := range []struct {
			name  string
			user  identity.User
			names []string
		}{
			{"several", many, []string{"Alpha Telecom", "Mid Money", "Zeta Bank"}},
			{"one", one, []string{"Mid Money"}},
			{"none", none, nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				tok, _, err := f.s.CreateSession(f.ctx, c.user.ID, meta, "passkey")
				if err != nil {
					t.Fatal(err)
				}
				sess, u, ms, err := f.s.AuthenticateMember(f.ctx, tok)
				if err != nil {
					t.Fatal(err)
				}
				wantSess, wantU, err := f.s.Authenticate(f.ctx, tok)
				if err != nil {
					t.Fatal(err)
				}
				wantMs, err := f.s.Memberships(f.ctx, c.user.ID)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(sess, wantSess) {
					t.Errorf("session %+v, want %+v", sess, wantSess)
				}
				if !reflect.DeepEqual(u, wantU) {
					t.Errorf("user %+v, want %+v", u, wantU)
				}
				if !reflect.DeepEqual(ms, wantMs) {
					t.Errorf("memberships %+v, want %+v", ms, wantMs)
				}
				var names []string
				for _, m := range ms {
					names = append(names, m.Org.Name)
				}
				if !reflect.DeepEqual(names, c.names) {
					t.Errorf("organisations %q, want %q (by name)", names, c.names)
				}
			})
		}

		// A role change shows on the next lookup.
		tok, _, err := f.s.CreateSession(f.ctx, one.ID, meta, "passkey")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.s.SetRole(f.ctx, mid.ID, one.ID, identity.RoleOrgAdmin); err != nil {
			t.Fatal(err)
		}
		if _, _, ms, err := f.s.AuthenticateMember(f.ctx, tok); err != nil || len(ms) != 1 || ms[0].Role != identity.RoleOrgAdmin {
			t.Fatalf("after SetRole: %+v, %v", ms, err)
		}

		// Refusals: unknown and empty tokens, idle sessions, deactivated users.
		for _, tk := range []string{"", "not-a-token"} {
			if _, _, _, err := f.s.AuthenticateMember(f.ctx, tk); !errors.Is(err, identity.ErrSessionInvalid) {
				t.Errorf("token %q: %v, want ErrSessionInvalid", tk, err)
			}
		}
		f.clock.Add(31 * time.Minute)
		if _, _, _, err := f.s.AuthenticateMember(f.ctx, tok); !errors.Is(err, identity.ErrSessionInvalid) {
			t.Fatalf("idle session accepted: %v", err)
		}
		if _, _, err := f.s.Authenticate(f.ctx, tok); !errors.Is(err, identity.ErrSessionInvalid) {
			t.Fatalf("idle session not deleted: %v", err)
		}
		tok, _, err = f.s.CreateSession(f.ctx, many.ID, meta, "passkey")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.s.SetActive(f.ctx, many.ID, false); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := f.s.AuthenticateMember(f.ctx, tok); !errors.Is(err, identity.ErrSessionInvalid) {
			t.Fatalf("session of a deactivated user accepted: %v", err)
		}
	})
}

// TestAuthenticateMemberTouches: the last-seen time is refreshed at most
// every TouchEvery, which keeps an active session from idling out.
func TestAuthenticateMemberTouches(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		o := f.org("MTN")
		u := f.member(o, "u@mtn.example", identity.RoleAnalyst)
		tok, created, err := f.s.CreateSession(f.ctx, u.ID, identity.SessionMeta{}, "passkey")
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Add(30 * time.Second)
		sess, _, _, err := f.s.AuthenticateMember(f.ctx, tok)
		if err != nil || !sess.LastSeen.Equal(created.LastSeen) {
			t.Fatalf("touched within a minute: %v, %v", sess.LastSeen, err)
		}
		for range 4 {
			f.clock.Add(20 * time.Minute)
			sess, _, _, err = f.s.AuthenticateMember(f.ctx, tok)
			if err != nil {
				t.Fatalf("active session refused: %v", err)
			}
			if !sess.LastSeen.Equal(f.clock.Now()) {
				t.Fatalf("last seen %v, want now %v", sess.LastSeen, f.clock.Now())
			}
		}
	})
}
