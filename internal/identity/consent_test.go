package identity_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity"
)

// The identity model of the security issue: an account belongs to its
// person; an organisation acts on its memberships only. Each test plays one
// finding of the outside assessment and fails on the model before it.

// notices records what the store asked to notify.
type notices struct {
	mu   sync.Mutex
	sent []notice
}

type notice struct {
	users      []int64
	kind, text string
}

func (n *notices) Notify(_ context.Context, users []int64, kind, text, _ string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent = append(n.sent, notice{slices.Clone(users), kind, text})
	return nil
}

// to reports whether user was sent a notice containing text.
func (n *notices) to(user int64, text string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, s := range n.sent {
		if slices.Contains(s.users, user) && strings.Contains(s.text, text) {
			return true
		}
	}
	return false
}

func newConsentFixture(t *testing.T, d *db.DB) (*fixture, *notices) {
	f := newFixture(t, d)
	n := &notices{}
	f.s = identity.NewStore(d, identity.Options{Now: f.clock.Now, Notifier: n})
	return f, n
}

// as returns f's context acting as user.
func (f *fixture) as(user int64) context.Context {
	return audit.WithActor(f.ctx, audit.Actor{UserID: user, IP: "192.0.2.9", RequestID: "as"})
}

// platformAdmin enrols a platform administrator with an operator link.
func (f *fixture) platformAdmin(email string) identity.User {
	f.t.Helper()
	tok, _, err := f.s.EnrolLink(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	u, err := f.s.RedeemEnrolment(f.ctx, tok, identity.Enrolment{DisplayName: "PA", Email: email, Passkey: f.passkey()})
	if err != nil {
		f.t.Fatal(err)
	}
	return u
}

// TestTakeoverOfAnotherOrganisationsAccountFails plays finding 1 step by
// step: org B's admin invites an enrolled member of org A, tries to make
// them a member without consent, issues a recovery link, and would register
// a passkey with it. Every step fails, and the victim's sessions survive.
func TestTakeoverOfAnotherOrganisationsAccountFails(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f, _ := newConsentFixture(t, d)
		a, b := f.org("Regulator A"), f.org("Provider B")
		victim := f.member(a, "victim@a.example", identity.RoleAnalyst)
		attacker := f.member(b, "mallory@b.example", identity.RoleOrgAdmin)
		pa := f.platformAdmin("root@platform.example")
		if err := f.s.AddMember(f.ctx, a.ID, pa.ID, identity.RoleViewer); err != nil {
			t.Fatal(err)
		}
		victimSession, _, err := f.s.CreateSession(f.ctx, victim.ID, identity.SessionMeta{}, "passkey")
		if err != nil {
			t.Fatal(err)
		}
		ctx := f.as(attacker.ID)

		for _, target := range []identity.User{victim, pa} {
			// Step 1: the invitation adds nothing by itself.
			inv, err := f.s.Invite(ctx, b.ID, target.Email, identity.RoleViewer)
			if err != nil || inv.Token == "" {
				t.Fatalf("invite %s: %+v, %v", target.Email, inv, err)
			}
			if _, err := f.s.Role(f.ctx, b.ID, target.ID); !errors.Is(err, identity.ErrNotFound) {
				t.Fatalf("%s became a member of B without accepting: %v", target.Email, err)
			}
			// Step 2: no recovery link for someone who is not a member.
			if _, err := f.s.IssueRecoveryLink(ctx, b.ID, target.ID); !errors.Is(err, identity.ErrNotFound) {
				t.Fatalf("recovery link for a non-member %s: %v", target.Email, err)
			}
			// Step 3: the invitation link cannot put a passkey on the account.
			if _, err := f.s.RedeemEnrolment(ctx, inv.Token, identity.Enrolment{DisplayName: "Mallory", Passkey: f.passkey()}); !errors.Is(err, identity.ErrConflict) {
				t.Fatalf("invitation link enrolled over %s's account: %v", target.Email, err)
			}
			if pks, _ := f.s.ListPasskeys(f.ctx, target.ID); len(pks) != 1 {
				t.Fatalf("%s has %d passkeys", target.Email, len(pks))
			}
			// Step 4: the link cannot be accepted by another account.
			if _, err := f.s.AcceptInvitationLink(ctx, attacker.ID, identity.HashToken(inv.Token)); !errors.Is(err, identity.ErrForbidden) {
				t.Fatalf("attacker accepted the invitation of %s: %v", target.Email, err)
			}
		}

		// Even when the person accepts B's invitation, B did not enrol the
		// account and may not recover it.
		open, err := f.s.InvitationsFor(f.ctx, victim.ID)
		if err != nil || len(open) != 1 {
			t.Fatalf("victim's invitations: %+v, %v", open, err)
		}
		if _, err := f.s.AcceptInvitation(f.as(victim.ID), victim.ID, open[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.IssueRecoveryLink(ctx, b.ID, victim.ID); !errors.Is(err, identity.ErrForbidden) {
			t.Fatalf("recovery link by an organisation that did not enrol the account: %v", err)
		}
		// The organisation rule never covers a platform administrator, and
		// the platform rule needs a platform administrator as actor.
		if _, err := f.s.IssueRecoveryLink(f.as(victim.ID), 0, pa.ID); !errors.Is(err, identity.ErrForbidden) {
			t.Fatalf("platform rule used by a non-administrator: %v", err)
		}
		if _, err := f.s.IssueRecoveryLink(f.as(pa.ID), 0, pa.ID); !errors.Is(err, identity.ErrForbidden) {
			t.Fatalf("platform administrator recovered their own account: %v", err)
		}
		if _, _, err := f.s.Authenticate(f.ctx, victimSession); err != nil {
			t.Fatalf("victim's session ended: %v", err)
		}
		// The organisation that enrolled the victim may recover them.
		if _, err := f.s.IssueRecoveryLink(f.as(victim.ID+1000), a.ID, victim.ID); err != nil {
			t.Fatalf("recovery by the enrolling organisation: %v", err)
		}
		f.verifyAudit()
	})
}

// TestPlatformAdminRecovery: only another platform administrator (or the
// operator CLI, which has no actor) recovers a platform administrator, and
// an org admin of the organisation that enrolled them cannot.
func TestPlatformAdminRecovery(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f, _ := newConsentFixture(t, d)
		a := f.org("Regulator A")
		admin := f.member(a, "admin@a.example", identity.RoleOrgAdmin)
		promoted := f.member(a, "promoted@a.example", identity.RoleAnalyst)
		if err := f.s.SetPlatformAdmin(f.ctx, promoted.ID, true); err != nil {
			t.Fatal(err)
		}
		other := f.platformAdmin("other@platform.example")
		if _, err := f.s.IssueRecoveryLink(f.as(admin.ID), a.ID, promoted.ID); !errors.Is(err, identity.ErrForbidden) {
			t.Fatalf("org admin recovered a platform administrator: %v", err)
		}
		if _, err := f.s.IssueRecoveryLink(f.as(other.ID), 0, promoted.ID); err != nil {
			t.Fatalf("another platform administrator: %v", err)
		}
		if _, err := f.s.IssueRecoveryLink(f.ctx, 0, promoted.ID); err != nil {
			t.Fatalf("operator CLI: %v", err)
		}
	})
}

// TestPendingInvitationCannotBeHijacked plays finding 2: org A invites an
// address that has no account; org B invites the same address and enrols
// through its own link. The account gets B's membership only, cannot accept
// A's invitation in the app, and A's link never adds a passkey to it.
func TestPendingInvitationCannotBeHijacked(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f, _ := newConsentFixture(t, d)
		a, b := f.org("Regulator A"), f.org("Provider B")
		invA, err := f.s.Invite(f.ctx, a.ID, "x@person.example", identity.RoleOrgAdmin)
		if err != nil {
			t.Fatal(err)
		}
		invB, err := f.s.Invite(f.ctx, b.ID, "x@person.example", identity.RoleViewer)
		if err != nil {
			t.Fatal(err)
		}
		if invA.Token == invB.Token || invA.InApp || invB.InApp {
			t.Fatalf("invitations %+v / %+v", invA, invB)
		}
		squatter, err := f.s.RedeemEnrolment(f.ctx, invB.Token, identity.Enrolment{DisplayName: "Squatter", Passkey: f.passkey()})
		if err != nil {
			t.Fatal(err)
		}
		ms, _ := f.s.Memberships(f.ctx, squatter.ID)
		if len(ms) != 1 || ms[0].Org.ID != b.ID || ms[0].Role != identity.RoleViewer {
			t.Fatalf("memberships after enrolling through B: %+v", ms)
		}
		if open, _ := f.s.InvitationsFor(f.ctx, squatter.ID); len(open) != 0 {
			t.Fatalf("A's invitation is acceptable in the app: %+v", open)
		}
		invs, _ := f.s.OrgInvitations(f.ctx, a.ID)
		if len(invs) != 1 {
			t.Fatalf("A's open invitations: %+v", invs)
		}
		if _, err := f.s.AcceptInvitation(f.ctx, squatter.ID, invs[0].ID); !errors.Is(err, identity.ErrNotFound) {
			t.Fatalf("A's invitation accepted in the app: %v", err)
		}
		if _, err := f.s.RedeemEnrolment(f.ctx, invA.Token, identity.Enrolment{DisplayName: "Real", Passkey: f.passkey()}); !errors.Is(err, identity.ErrConflict) {
			t.Fatalf("A's link used on the existing account: %v", err)
		}
		if pks, _ := f.s.ListPasskeys(f.ctx, squatter.ID); len(pks) != 1 {
			t.Fatalf("A's link added a passkey: %d", len(pks))
		}
		if _, err := f.s.Role(f.ctx, a.ID, squatter.ID); !errors.Is(err, identity.ErrNotFound) {
			t.Fatalf("the squatter got A's role: %v", err)
		}
		// A's link stays usable for the person it was handed to; the
		// account that exists must sign in, and may accept only because it
		// holds the link.
		if inv, exists, err := f.s.InvitationByLink(f.ctx, identity.HashToken(invA.Token)); err != nil || !exists || inv.OrgID != a.ID {
			t.Fatalf("InvitationByLink = %+v, %v, %v", inv, exists, err)
		}
		f.verifyAudit()
	})
}

// TestInvitationLifecycle: re-inviting withdraws the earlier link;
// withdrawing, declining and expiry end an invitation; answers are
// notified to the inviting organisation's admins with the organisation the
// account was set up through.
func TestInvitationLifecycle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f, n := newConsentFixture(t, d)
		a, b := f.org("Regulator A"), f.org("Provider B")
		adminB := f.member(b, "admin@b.example", identity.RoleOrgAdmin)
		person := f.member(a, "p@a.example", identity.RoleAnalyst)

		first, _ := f.s.Invite(f.ctx, b.ID, person.Email, identity.RoleViewer)
		second, err := f.s.Invite(f.ctx, b.ID, person.Email, identity.RoleAnalyst)
		if err != nil {
			t.Fatal(err)
		}
		if !n.to(person.ID, "Provider B invites you") {
			t.Fatalf("invitee not notified: %+v", n.sent)
		}
		if _, err := f.s.AcceptInvitationLink(f.ctx, person.ID, identity.HashToken(first.Token)); !errors.Is(err, identity.ErrLinkUsed) {
			t.Fatalf("withdrawn link accepted: %v", err)
		}
		if _, err := f.s.DeclineInvitation(f.ctx, person.ID, second.ID); err != nil {
			t.Fatal(err)
		}
		if !n.to(adminB.ID, "declined") {
			t.Fatalf("inviting admin not told of the answer: %+v", n.sent)
		}
		if _, err := f.s.AcceptInvitation(f.ctx, person.ID, second.ID); !errors.Is(err, identity.ErrLinkUsed) {
			t.Fatalf("declined invitation accepted: %v", err)
		}

		third, _ := f.s.Invite(f.ctx, b.ID, person.Email, identity.RoleAnalyst)
		if err := f.s.RevokeInvitation(f.ctx, a.ID, third.ID); !errors.Is(err, identity.ErrNotFound) {
			t.Fatalf("another organisation withdrew B's invitation: %v", err)
		}
		f.clock.Add(8 * 24 * time.Hour)
		if _, err := f.s.AcceptInvitation(f.ctx, person.ID, third.ID); !errors.Is(err, identity.ErrNotFound) && !errors.Is(err, identity.ErrLinkExpired) {
			t.Fatalf("expired invitation accepted: %v", err)
		}

		fourth, _ := f.s.Invite(f.ctx, b.ID, person.Email, identity.RoleAnalyst)
		if _, err := f.s.AcceptInvitationLink(f.ctx, person.ID, identity.HashToken(fourth.Token)); err != nil {
			t.Fatal(err)
		}
		if !n.to(adminB.ID, "account set up through Regulator A") {
			t.Fatalf("accepting admin notice does not name the enrolling organisation: %+v", n.sent)
		}
		// The acceptance of B's invitation is in both organisations' audit
		// views (A's also holds the person's first acceptance, into A).
		for _, o := range []int64{a.ID, b.ID} {
			es, err := audit.List(f.ctx, d, audit.Filter{OrgID: o, Action: "invitation.accept"})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(es, func(e audit.Entry) bool { return e.OrgID == b.ID && e.ActorUserID == person.ID }) {
				t.Fatalf("org %d audit view lacks the acceptance of B's invitation: %+v", o, es)
			}
		}
		f.verifyAudit()
	})
}

// TestSuspensionIsPerMembership plays finding 3: what org A suspends, org
// B cannot undo; org admins cannot suspend accounts; account suspension by
// a platform administrator revokes API tokens for good.
func TestSuspensionIsPerMembership(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f, n := newConsentFixture(t, d)
		a, b := f.org("Regulator A"), f.org("Provider B")
		f.member(a, "admin@a.example", identity.RoleOrgAdmin)
		adminB := f.member(b, "admin@b.example", identity.RoleOrgAdmin)
		person := f.member(a, "p@a.example", identity.RoleAnalyst)
		inv, _ := f.s.Invite(f.ctx, b.ID, person.Email, identity.RoleViewer)
		if _, err := f.s.AcceptInvitationLink(f.ctx, person.ID, identity.HashToken(inv.Token)); err != nil {
			t.Fatal(err)
		}
		tok, _, err := f.s.CreateAPIToken(f.ctx, person.ID, "ci", identity.ScopeRead, f.clock.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}

		if err := f.s.SuspendMember(f.ctx, a.ID, person.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Role(f.ctx, a.ID, person.ID); !errors.Is(err, identity.ErrNotFound) {
			t.Fatalf("suspended membership still grants a role: %v", err)
		}
		if _, err := f.s.Role(f.ctx, b.ID, person.ID); err != nil {
			t.Fatalf("suspension in A ended the membership of B: %v", err)
		}
		if err := f.s.ReinstateMember(f.as(adminB.ID), b.ID, person.ID); !errors.Is(err, identity.ErrNotFound) {
			t.Fatalf("B reinstated A's suspension: %v", err)
		}
		if _, _, err := f.s.AuthenticateAPIToken(f.ctx, tok); err != nil {
			t.Fatalf("membership suspension revoked the account's token: %v", err)
		}
		if err := f.s.SetActive(f.as(adminB.ID), person.ID, false); !errors.Is(err, identity.ErrForbidden) {
			t.Fatalf("org admin suspended an account: %v", err)
		}

		pa := f.platformAdmin("root@platform.example")
		if err := f.s.SetActive(f.as(pa.ID), person.ID, false); err != nil {
			t.Fatal(err)
		}
		if err := f.s.SetActive(f.as(pa.ID), person.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.s.AuthenticateAPIToken(f.ctx, tok); !errors.Is(err, identity.ErrTokenInvalid) {
			t.Fatalf("token works again after reinstating the account: %v", err)
		}
		if err := f.s.SetActive(f.as(pa.ID), pa.ID, false); !errors.Is(err, identity.ErrForbidden) {
			t.Fatalf("platform administrator suspended themselves: %v", err)
		}
		// The suspension is in every organisation's audit view.
		for _, o := range []int64{a.ID, b.ID} {
			es, _ := audit.List(f.ctx, d, audit.Filter{OrgID: o, Action: "user.deactivate"})
			if len(es) != 1 {
				t.Fatalf("org %d sees %d account suspensions", o, len(es))
			}
		}
		if err := f.s.ReinstateMember(f.ctx, a.ID, person.ID); err != nil {
			t.Fatal(err)
		}
		if r, err := f.s.Role(f.ctx, a.ID, person.ID); err != nil || r != identity.RoleAnalyst {
			t.Fatalf("reinstated role = %q, %v", r, err)
		}
		_ = n
		f.verifyAudit()
	})
}

// TestRecoveryIsToldToEveryOrganisation: a recovery link for an account in
// two organisations is recorded under both and notified to both
// organisations' admins and the person.
func TestRecoveryIsToldToEveryOrganisation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f, n := newConsentFixture(t, d)
		a, b := f.org("Regulator A"), f.org("Provider B")
		adminA := f.member(a, "admin@a.example", identity.RoleOrgAdmin)
		adminB := f.member(b, "admin@b.example", identity.RoleOrgAdmin)
		person := f.member(a, "p@a.example", identity.RoleAnalyst)
		inv, _ := f.s.Invite(f.ctx, b.ID, person.Email, identity.RoleViewer)
		if _, err := f.s.AcceptInvitationLink(f.ctx, person.ID, identity.HashToken(inv.Token)); err != nil {
			t.Fatal(err)
		}
		rl, err := f.s.IssueRecoveryLink(f.as(adminA.ID), a.ID, person.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(rl.Orgs, []int64{a.ID, b.ID}) {
			t.Fatalf("RecoveryLink.Orgs = %v", rl.Orgs)
		}
		for _, u := range []int64{person.ID, adminA.ID, adminB.ID} {
			if !n.to(u, "recovery link was issued") {
				t.Fatalf("user %d not notified: %+v", u, n.sent)
			}
		}
		if _, err := f.s.RedeemRecovery(f.ctx, rl.Token, f.passkey()); err != nil {
			t.Fatal(err)
		}
		for _, o := range []int64{a.ID, b.ID} {
			for _, action := range []string{"link.create", "user.recover"} {
				es, _ := audit.List(f.ctx, d, audit.Filter{OrgID: o, Action: action})
				if len(es) == 0 {
					t.Fatalf("org %d does not see %s", o, action)
				}
			}
		}
		if !n.to(adminB.ID, "was recovered") {
			t.Fatalf("B's admin not told of the recovery: %+v", n.sent)
		}
		f.verifyAudit()
	})
}
