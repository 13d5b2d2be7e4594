package identity_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	t     *testing.T
	ctx   context.Context
	db    *db.DB
	s     *identity.Store
	clock *clock
	seq   int
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	c := &clock{t: time.Date(2026, 4, 16, 9, 0, 0, 0, time.UTC)}
	ctx := audit.WithActor(context.Background(), audit.Actor{IP: "192.0.2.1", RequestID: "test"})
	return &fixture{t: t, ctx: ctx, db: d, s: identity.NewStore(d, identity.Options{Now: c.Now}), clock: c}
}

func (f *fixture) org(name string) identity.Org {
	f.t.Helper()
	o, err := f.s.CreateOrg(f.ctx, identity.NewOrg{Name: name, Type: identity.OrgDFSProvider, Country: "MW"})
	if err != nil {
		f.t.Fatalf("CreateOrg(%s): %v", name, err)
	}
	return o
}

func (f *fixture) passkey() identity.Passkey {
	f.seq++
	return identity.Passkey{CredentialID: []byte(fmt.Sprintf("cred-%d", f.seq)), PublicKey: []byte("cose-key"),
		AAGUID: make([]byte, 16), Transports: []string{"internal", "hybrid"}, BackupEligible: true, Name: fmt.Sprintf("key %d", f.seq)}
}

// member invites email into org and enrols them with one passkey.
func (f *fixture) member(o identity.Org, email string, role identity.Role) identity.User {
	f.t.Helper()
	inv, err := f.s.Invite(f.ctx, o.ID, email, role)
	if err != nil {
		f.t.Fatalf("Invite(%s): %v", email, err)
	}
	u, err := f.s.RedeemEnrolment(f.ctx, inv.Token, identity.Enrolment{DisplayName: strings.Split(email, "@")[0], Passkey: f.passkey()})
	if err != nil {
		f.t.Fatalf("RedeemEnrolment(%s): %v", email, err)
	}
	return u
}

// lastAction returns the action of the newest audit entry.
func (f *fixture) lastAction() string {
	f.t.Helper()
	es, err := audit.List(f.ctx, f.db, audit.Filter{Limit: 1})
	if err != nil || len(es) == 0 {
		f.t.Fatalf("audit.List: %v (%d entries)", err, len(es))
	}
	return es[0].Action
}

func (f *fixture) verifyAudit() {
	f.t.Helper()
	if _, err := audit.Verify(f.ctx, f.db); err != nil {
		f.t.Fatalf("audit chain broken: %v", err)
	}
}

func TestOrgs(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		macra := f.org("MACRA")
		cases := []struct {
			name string
			in   identity.NewOrg
			want error
		}{
			{"ok", identity.NewOrg{Name: "Reserve Bank of Malawi", Type: identity.OrgCentralBank, Country: "mw"}, nil},
			{"duplicate name ignoring case", identity.NewOrg{Name: "macra", Type: identity.OrgCERT, Country: "MW"}, identity.ErrConflict},
			{"unknown type", identity.NewOrg{Name: "X", Type: "bank", Country: "MW"}, identity.ErrInvalid},
			{"unassigned country", identity.NewOrg{Name: "X", Type: identity.OrgMNO, Country: "XK"}, identity.ErrInvalid},
			{"three letters", identity.NewOrg{Name: "X", Type: identity.OrgMNO, Country: "MWI"}, identity.ErrInvalid},
			{"empty name", identity.NewOrg{Name: "  ", Type: identity.OrgMNO, Country: "LS"}, identity.ErrInvalid},
			{"control character", identity.NewOrg{Name: "A\x00B", Type: identity.OrgMNO, Country: "LS"}, identity.ErrInvalid},
		}
		for _, c := range cases {
			o, err := f.s.CreateOrg(f.ctx, c.in)
			if !errors.Is(err, c.want) {
				t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
				continue
			}
			if err == nil {
				if o.Country != "MW" || o.ID == 0 || f.lastAction() != "org.create" {
					t.Errorf("%s: got %+v, last audit %s", c.name, o, f.lastAction())
				}
			}
		}
		got, err := f.s.OrgByName(f.ctx, "Macra")
		if err != nil || got.ID != macra.ID || got.Type != identity.OrgDFSProvider {
			t.Fatalf("OrgByName = %+v, %v", got, err)
		}
		got.RequireTOTP, got.Type = true, identity.OrgTelecomRegulator
		if _, err := f.s.UpdateOrg(f.ctx, got); err != nil {
			t.Fatal(err)
		}
		again, _ := f.s.Org(f.ctx, macra.ID)
		if !again.RequireTOTP || again.Type != identity.OrgTelecomRegulator || f.lastAction() != "org.update" {
			t.Fatalf("after update: %+v", again)
		}
		if _, err := f.s.Org(f.ctx, 9999); !errors.Is(err, identity.ErrNotFound) {
			t.Fatalf("Org(9999) err = %v", err)
		}
		orgs, _ := f.s.ListOrgs(f.ctx)
		if len(orgs) != 2 || orgs[0].Name != "MACRA" {
			t.Fatalf("ListOrgs = %+v", orgs)
		}
		f.verifyAudit()
	})
}

func TestMembershipsAndRoles(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		a, b := f.org("Airtel Money"), f.org("TNM Mpamba")
		admin := f.member(a, "Admin@Airtel.example", identity.RoleOrgAdmin)
		if admin.Email != "admin@airtel.example" || !admin.IsEnrolled() || admin.PlatformAdmin {
			t.Fatalf("enrolled user = %+v", admin)
		}
		analyst := f.member(a, "analyst@airtel.example", identity.RoleAnalyst)

		// Inviting an enrolled user into another organisation makes an
		// invitation with a link, like any other; nothing changes until the
		// person accepts in the app.
		inv, err := f.s.Invite(f.ctx, b.ID, "analyst@airtel.example", identity.RoleViewer)
		if err != nil || inv.Token == "" || !inv.InApp {
			t.Fatalf("Invite existing = %+v, %v", inv, err)
		}
		if ms, _ := f.s.Memberships(f.ctx, analyst.ID); len(ms) != 1 {
			t.Fatalf("memberships before accepting = %+v", ms)
		}
		open, err := f.s.InvitationsFor(f.ctx, analyst.ID)
		if err != nil || len(open) != 1 || open[0].OrgID != b.ID {
			t.Fatalf("InvitationsFor = %+v, %v", open, err)
		}
		if _, err := f.s.AcceptInvitation(f.ctx, admin.ID, open[0].ID); !errors.Is(err, identity.ErrNotFound) {
			t.Fatalf("another account accepted the invitation: %v", err)
		}
		if _, err := f.s.AcceptInvitation(f.ctx, analyst.ID, open[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Invite(f.ctx, b.ID, "analyst@airtel.example", identity.RoleViewer); !errors.Is(err, identity.ErrConflict) {
			t.Fatalf("second invite of a member: %v", err)
		}
		ms, _ := f.s.Memberships(f.ctx, analyst.ID)
		if len(ms) != 2 || ms[0].Org.ID != a.ID || ms[0].Role != identity.RoleAnalyst || ms[1].Role != identity.RoleViewer {
			t.Fatalf("Memberships = %+v", ms)
		}
		if r, err := f.s.Role(f.ctx, b.ID, admin.ID); !errors.Is(err, identity.ErrNotFound) {
			t.Fatalf("Role of non-member = %q, %v", r, err)
		}

		// The only org admin can be neither demoted nor removed.
		if err := f.s.SetRole(f.ctx, a.ID, admin.ID, identity.RoleViewer); !errors.Is(err, identity.ErrLastAdmin) {
			t.Fatalf("demote last admin: %v", err)
		}
		if err := f.s.RemoveMember(f.ctx, a.ID, admin.ID); !errors.Is(err, identity.ErrLastAdmin) {
			t.Fatalf("remove last admin: %v", err)
		}
		if err := f.s.SetRole(f.ctx, a.ID, analyst.ID, identity.RoleOrgAdmin); err != nil {
			t.Fatal(err)
		}
		es, _ := audit.List(f.ctx, d, audit.Filter{Action: "member.role", Limit: 1})
		if len(es) != 1 || es[0].Details["from"] != "analyst" || es[0].Details["to"] != "org_admin" || es[0].OrgID != a.ID {
			t.Fatalf("role change audit = %+v", es)
		}
		if err := f.s.SetRole(f.ctx, a.ID, admin.ID, identity.RoleViewer); err != nil {
			t.Fatalf("demote with another admin left: %v", err)
		}
		if err := f.s.SetRole(f.ctx, a.ID, admin.ID, "owner"); !errors.Is(err, identity.ErrInvalid) {
			t.Fatalf("unknown role: %v", err)
		}
		if err := f.s.RemoveMember(f.ctx, a.ID, admin.ID); err != nil {
			t.Fatal(err)
		}
		members, _ := f.s.ListMembers(f.ctx, a.ID)
		if len(members) != 1 || members[0].User.ID != analyst.ID || members[0].Role != identity.RoleOrgAdmin {
			t.Fatalf("ListMembers = %+v", members)
		}

		for _, c := range []struct {
			have, min identity.Role
			want      bool
		}{
			{identity.RoleOrgAdmin, identity.RoleViewer, true},
			{identity.RoleAnalyst, identity.RoleAnalyst, true},
			{identity.RoleViewer, identity.RoleAnalyst, false},
			{"", identity.RoleViewer, false},
			{"root", identity.RoleViewer, false},
		} {
			if got := c.have.AtLeast(c.min); got != c.want {
				t.Errorf("%q.AtLeast(%q) = %v", c.have, c.min, got)
			}
		}
		f.verifyAudit()
	})
}

func TestLinks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		o := f.org("Lesotho Communications Authority")

		// First admin: the user is created when the link is used.
		tok, l, err := f.s.EnrolLink(f.ctx)
		if err != nil || l.Kind != identity.LinkEnrolAdmin || !l.Expires.Equal(f.clock.Now().Add(24*time.Hour)) {
			t.Fatalf("EnrolLink = %+v, %v", l, err)
		}
		if n, _ := f.s.CountUsers(f.ctx); n != 0 {
			t.Fatalf("users before enrolment = %d", n)
		}
		if _, err := f.s.PeekLink(f.ctx, tok, identity.LinkRecovery); !errors.Is(err, identity.ErrLinkNotFound) {
			t.Fatalf("peek with wrong kind: %v", err)
		}
		handle := bytes.Repeat([]byte{7}, 32)
		admin, err := f.s.RedeemEnrolment(f.ctx, tok, identity.Enrolment{DisplayName: "First Admin", Email: "root@lca.example",
			WebAuthnID: handle, Passkey: f.passkey()})
		if err != nil || !admin.PlatformAdmin || !bytes.Equal(admin.WebAuthnID, handle) {
			t.Fatalf("first admin = %+v, %v", admin, err)
		}
		if _, err := f.s.RedeemEnrolment(f.ctx, tok, identity.Enrolment{DisplayName: "Mallory", Passkey: f.passkey()}); !errors.Is(err, identity.ErrLinkUsed) {
			t.Fatalf("second use of an enrolment link: %v", err)
		}
		if n, _ := f.s.CountUsers(f.ctx); n != 1 {
			t.Fatalf("users after reuse attempt = %d", n)
		}

		// Invitations expire.
		inv, err := f.s.Invite(f.ctx, o.ID, "late@lca.example", identity.RoleViewer)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := f.s.PeekLink(f.ctx, inv.Token); err != nil || got.UserID != 0 || got.OrgID != o.ID {
			t.Fatalf("PeekLink = %+v, %v", got, err)
		}
		f.clock.Add(7*24*time.Hour + time.Second)
		if _, err := f.s.RedeemEnrolment(f.ctx, inv.Token, identity.Enrolment{DisplayName: "Late", Passkey: f.passkey()}); !errors.Is(err, identity.ErrLinkExpired) {
			t.Fatalf("expired invitation: %v", err)
		}
		if _, err := f.s.PeekLink(f.ctx, "no-such-token"); !errors.Is(err, identity.ErrLinkNotFound) {
			t.Fatalf("unknown token: %v", err)
		}

		// Concurrent redemptions of one link: exactly one wins.
		inv2, _ := f.s.Invite(f.ctx, o.ID, "race@lca.example", identity.RoleViewer)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		keys := make([]identity.Passkey, len(errs))
		for i := range keys {
			keys[i] = f.passkey()
		}
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = f.s.RedeemEnrolment(f.ctx, inv2.Token, identity.Enrolment{DisplayName: "Racer", Passkey: keys[i]})
			}()
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, identity.ErrLinkUsed):
				t.Errorf("racing redemption: %v", err)
			}
		}
		if wins != 1 {
			t.Fatalf("%d concurrent redemptions succeeded, want 1", wins)
		}

		// Recovery link: adds a passkey and ends the user's sessions.
		racer, _ := f.s.UserByEmail(f.ctx, "race@lca.example")
		stok, _, _ := f.s.CreateSession(f.ctx, racer.ID, identity.SessionMeta{}, "passkey")
		rl, err := f.s.IssueRecoveryLink(f.ctx, o.ID, racer.ID)
		if err != nil {
			t.Fatal(err)
		}
		rtok := rl.Token
		if _, err := f.s.IssueRecoveryLink(f.ctx, o.ID, admin.ID); !errors.Is(err, identity.ErrNotFound) {
			t.Fatalf("recovery link for a non-member: %v", err)
		}
		if _, err := f.s.RedeemEnrolment(f.ctx, rtok, identity.Enrolment{DisplayName: "x", Passkey: f.passkey()}); !errors.Is(err, identity.ErrLinkNotFound) {
			t.Fatalf("recovery link used for enrolment: %v", err)
		}
		if _, err := f.s.RedeemRecovery(f.ctx, rtok, f.passkey()); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.RedeemRecovery(f.ctx, rtok, f.passkey()); !errors.Is(err, identity.ErrLinkUsed) {
			t.Fatalf("reused recovery link: %v", err)
		}
		if _, _, err := f.s.Authenticate(f.ctx, stok); !errors.Is(err, identity.ErrSessionInvalid) {
			t.Fatalf("session survived recovery: %v", err)
		}
		if pks, _ := f.s.ListPasskeys(f.ctx, racer.ID); len(pks) != 2 {
			t.Fatalf("passkeys after recovery = %d", len(pks))
		}
		if !strings.HasSuffix(identity.LinkURL("https://lab.example/", identity.LinkRecovery, "abc"), "lab.example/recover/abc") ||
			identity.LinkURL("http://127.0.0.1:8080", identity.LinkInvitation, "t") != "http://127.0.0.1:8080/enrol/t" {
			t.Fatal("LinkURL paths changed")
		}
		// Links are stored hashed only.
		assertNotStored(t, f, "links", tok, inv.Token, rtok)
		f.verifyAudit()
	})
}

// assertNotStored fails when any secret appears in any column of table,
// in clear or as it could be stored (text or bytes).
func assertNotStored(t *testing.T, f *fixture, table string, secrets ...string) {
	t.Helper()
	rows, err := f.db.Query(f.ctx, "SELECT * FROM "+table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	n := 0
	for rows.Next() {
		n++
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			var s string
			switch v := v.(type) {
			case []byte:
				s = string(v)
			case string:
				s = v
			default:
				continue
			}
			for _, sec := range secrets {
				if sec != "" && strings.Contains(s, sec) {
					t.Fatalf("%s.%s holds a secret in clear", table, cols[i])
				}
			}
		}
	}
	if n == 0 {
		t.Fatalf("%s is empty: nothing was checked", table)
	}
}

// TestConcurrentWrites mixes writes that lock the same organisation row in
// different orders (rename vs. invite into it): no deadlock, no error, an
// intact chain.
func TestConcurrentWrites(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		o := f.org("Shared")
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 5 {
					var err error
					if w%2 == 0 {
						org := o
						org.Name = fmt.Sprintf("Shared %d-%d", w, i)
						_, err = f.s.UpdateOrg(f.ctx, org)
					} else {
						_, err = f.s.Invite(f.ctx, o.ID, fmt.Sprintf("w%d-%d@shared.example", w, i), identity.RoleViewer)
					}
					if err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if invs, _ := f.s.OrgInvitations(f.ctx, o.ID); len(invs) != 10 {
			t.Fatalf("%d invitations, want 10", len(invs))
		}
		f.verifyAudit()
	})
}
