// Package identitytest seeds the organisations and members that the
// modules' tests share: two countries' regulators and providers, each
// with an org admin, an analyst and a viewer.
package identitytest

import (
	"context"
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
			inv, err := ids.Invite(ctx, org.ID, name+"@example.org", r.role)
			if err != nil {
				t.Fatal(err)
			}
			if err := ids.SetDisplayName(ctx, inv.User.ID, name); err != nil {
				t.Fatal(err)
			}
			w.Users[name] = inv.User.ID
		}
	}
	return w
}
