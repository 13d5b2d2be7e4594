package identity_test

import (
	"context"
	"testing"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity"
)

func TestSmoke(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := identity.NewStore(d, identity.Options{})
		o, err := s.CreateOrg(ctx, identity.NewOrg{Name: "MACRA", Type: identity.OrgTelecomRegulator, Country: "mw"})
		if err != nil {
			t.Fatal(err)
		}
		inv, err := s.Invite(ctx, o.ID, "A@x.mw", identity.RoleOrgAdmin)
		if err != nil {
			t.Fatal(err)
		}
		u, err := s.RedeemEnrolment(ctx, inv.Token, identity.Enrolment{DisplayName: "Ann", Passkey: identity.Passkey{CredentialID: []byte{1}, PublicKey: []byte{2}, Transports: []string{"usb", "internal"}}})
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := s.CreateSession(ctx, u.ID, identity.SessionMeta{IP: "127.0.0.1"}, "passkey")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Authenticate(ctx, tok); err != nil {
			t.Fatal(err)
		}
		sec, err := s.StartTOTP(ctx, u.ID)
		if err != nil || len(sec) != 20 {
			t.Fatal(err)
		}
		codes, err := s.NewRecoveryCodes(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.UseRecoveryCode(ctx, u.ID, codes[0]); err != nil {
			t.Fatal(err)
		}
		at, _, err := s.CreateAPIToken(ctx, u.ID, "ci", identity.ScopeRead, s.Now().Add(3600e9))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.AuthenticateAPIToken(ctx, at); err != nil {
			t.Fatal(err)
		}
		rep, err := audit.Verify(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		t.Log(rep.Entries)
	})
}
