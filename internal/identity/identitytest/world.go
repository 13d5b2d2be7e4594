// Package identitytest seeds the organisations and members that the
// modules' tests share: two countries' regulators and providers, each
// with an org admin, an analyst and a viewer.
package identitytest

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/dfslab/dfslab/internal/identity"
)

// World is what Seed created: organisations by key ("macra", "p1", …)
// and user IDs by name ("p1-analyst", …; each user's display name is the
// same, the e-mail address is NAME@example.org).
type World struct {
	Orgs  map[string]identity.Org
	Users map[string]int64
}

// orgs are the seeded organisations: key, name, type, country.
var orgs = []struct {
	key, name string
	typ       identity.OrgType
	country   string
}{
	{"macra", "MACRA", identity.OrgTelecomRegulator, "MW"},
	{"rbm", "Reserve Bank of Malawi", identity.OrgCentralBank, "MW"},
	{"p1", "Mpamba Money", identity.OrgDFSProvider, "MW"},
	{"p2", "Airtel Money MW", identity.OrgMNO, "MW"},
	{"ca", "Communications Authority of Kenya", identity.OrgTelecomRegulator, "KE"},
	{"k1", "Kenya Wallet", identity.OrgDFSProvider, "KE"},
}

var roleNames = []struct {
	role identity.Role
	name string
}{
	{identity.RoleOrgAdmin, "admin"},
	{identity.RoleAnalyst, "analyst"},
	{identity.RoleViewer, "viewer"},
}

// Seed creates the organisations of Malawi (the telecom regulator MACRA,
// the Reserve Bank, the provider "p1" and the operator "p2") and of Kenya
// (the regulator "ca" and the provider "k1"), and in each an invited
// member per role, named KEY-admin, KEY-analyst and KEY-viewer.
func Seed(t testing.TB, ids *identity.Store) World {
	t.Helper()
	ctx := context.Background()
	w := World{Orgs: map[string]identity.Org{}, Users: map[string]int64{}}
	for _, o := range orgs {
		org, err := ids.CreateOrg(ctx, identity.NewOrg{Name: o.name, Type: o.typ, Country: o.country})
		if err != nil {
			t.Fatal(err)
		}
		w.Orgs[o.key] = org
		for _, r := range roleNames {
			name := o.key + "-" + r.name
			w.Users[name] = Member(t, ids, org.ID, name+"@example.org", name, r.role).ID
		}
	}
	return w
}

// Member makes the person of email a member of orgID with role the way
// people join: the organisation invites the address, and the person
// enrols with the link (a new account, named name, with a stand-in
// passkey) or, if the address has an account, accepts in the app.
func Member(t testing.TB, ids *identity.Store, orgID int64, email, name string, role identity.Role) identity.User {
	t.Helper()
	ctx := context.Background()
	inv, err := ids.Invite(ctx, orgID, email, role)
	if err != nil {
		t.Fatalf("invite %s: %v", email, err)
	}
	if u, err := ids.UserByEmail(ctx, email); err == nil && u.IsEnrolled() {
		if _, err := ids.AcceptInvitationLink(ctx, u.ID, identity.HashToken(inv.Token)); err != nil {
			t.Fatalf("accept %s: %v", email, err)
		}
		return u
	} else if err != nil && !errors.Is(err, identity.ErrNotFound) {
		t.Fatal(err)
	}
	u, err := ids.RedeemEnrolment(ctx, inv.Token, identity.Enrolment{DisplayName: name, Passkey: StandInPasskey()})
	if err != nil {
		t.Fatalf("enrol %s: %v", email, err)
	}
	return u
}

// StandInPasskey is a passkey record with a random credential ID, for
// tests that do not run WebAuthn ceremonies (internal/authn tests those).
func StandInPasskey() identity.Passkey {
	cred := make([]byte, 32)
	rand.Read(cred)
	return identity.Passkey{CredentialID: cred, PublicKey: []byte{0xa5}, Name: "test key"}
}
