package identity_test

import (
	"errors"
	"testing"

	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity"
)

func TestLicensee(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		for _, c := range []struct {
			typ  identity.OrgType
			lic  identity.LicenseeType
			want identity.LicenseeType
		}{
			{identity.OrgTelecomRegulator, "", identity.LicenseeRegulator},
			{identity.OrgCentralBank, "", identity.LicenseeRegulator},
			{identity.OrgDFSProvider, "", identity.LicenseeDFSProvider},
			{identity.OrgMNO, "", identity.LicenseeMNO},
			{identity.OrgCERT, "", identity.LicenseeNone},
			{identity.OrgOther, identity.LicenseeBank, identity.LicenseeBank},
			{identity.OrgOther, identity.LicenseePaymentSwitch, identity.LicenseePaymentSwitch},
		} {
			o, err := f.s.CreateOrg(f.ctx, identity.NewOrg{Name: string(c.typ) + "/" + string(c.lic), Type: c.typ, Country: "MW", Licensee: c.lic})
			if err != nil {
				t.Fatalf("%s/%s: %v", c.typ, c.lic, err)
			}
			again, err := f.s.Org(f.ctx, o.ID)
			if err != nil || o.Licensee != c.want || again.Licensee != c.want {
				t.Errorf("%s/%s: created %q, read %q (%v), want %q", c.typ, c.lic, o.Licensee, again.Licensee, err, c.want)
			}
		}
		if _, err := f.s.CreateOrg(f.ctx, identity.NewOrg{Name: "X", Type: identity.OrgOther, Country: "MW", Licensee: "casino"}); !errors.Is(err, identity.ErrInvalid) {
			t.Errorf("unknown licensee type: %v", err)
		}

		o := f.org("Bank of Lilongwe")
		got, err := f.s.SetLicensee(f.ctx, o.ID, identity.LicenseeBank)
		if err != nil || got.Licensee != identity.LicenseeBank || f.lastAction() != "org.licensee.set" {
			t.Fatalf("SetLicensee = %+v, %v (last %s)", got, err, f.lastAction())
		}
		// An update of the other settings keeps the licensee type.
		got.RequireTOTP = true
		if upd, err := f.s.UpdateOrg(f.ctx, got); err != nil || upd.Licensee != identity.LicenseeBank {
			t.Fatalf("UpdateOrg = %+v, %v", upd, err)
		}
		if again, _ := f.s.Org(f.ctx, o.ID); again.Licensee != identity.LicenseeBank || !again.RequireTOTP {
			t.Fatalf("after update: %+v", again)
		}
		if _, err := f.s.SetLicensee(f.ctx, o.ID, "casino"); !errors.Is(err, identity.ErrInvalid) {
			t.Errorf("SetLicensee(casino) = %v", err)
		}
		if _, err := f.s.SetLicensee(f.ctx, 9999, identity.LicenseeBank); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("SetLicensee(9999) = %v", err)
		}
		if got, err := f.s.SetLicensee(f.ctx, o.ID, identity.LicenseeNone); err != nil || got.Licensee != identity.LicenseeNone {
			t.Errorf("SetLicensee(none) = %+v, %v", got, err)
		}
		f.verifyAudit()
	})
}
