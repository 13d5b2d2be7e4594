package identity_test

import (
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity"
)

// TestPeopleMatchesListMembers checks that the narrow people list says
// what ListMembers says, member for member and in the same order:
// enrolled, suspended members and suspended accounts, in two
// organisations; an invitation is not a member until accepted.
func TestPeopleMatchesListMembers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		a, b := f.org("Alpha"), f.org("Beta")
		f.member(a, "zed@example.org", identity.RoleOrgAdmin)
		off := f.member(a, "amy@example.org", identity.RoleViewer)
		if _, err := f.s.Invite(f.ctx, a.ID, "invited@example.org", identity.RoleAnalyst); err != nil {
			t.Fatal(err)
		}
		// A suspended membership is listed by both, flagged.
		susp := f.member(a, "sue@example.org", identity.RoleAnalyst)
		if err := f.s.SuspendMember(f.ctx, a.ID, susp.ID); err != nil {
			t.Fatal(err)
		}
		f.member(b, "bob@example.org", identity.RoleViewer)
		if err := f.s.SetActive(f.ctx, off.ID, false); err != nil {
			t.Fatal(err)
		}
		for _, o := range []identity.Org{a, b} {
			ms, err := f.s.ListMembers(f.ctx, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			ps, err := f.s.People(f.ctx, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) != len(ms) {
				t.Fatalf("%s: %d people, %d members", o.Name, len(ps), len(ms))
			}
			for i, m := range ms {
				want := identity.Person{UserID: m.User.ID, Email: m.User.Email, DisplayName: m.User.DisplayName,
					Role: m.Role, Active: m.User.Active, Enrolled: m.User.IsEnrolled(), Suspended: m.Suspended}
				if ps[i] != want {
					t.Errorf("%s #%d: %+v, want %+v", o.Name, i, ps[i], want)
				}
			}
		}
		ps, _ := f.s.People(f.ctx, a.ID)
		var states []string
		for _, p := range ps {
			s := p.Name()
			if !p.Active {
				s += " off"
			}
			if p.Suspended {
				s += " suspended"
			}
			states = append(states, s)
		}
		if got, want := strings.Join(states, "|"), "amy off|sue suspended|zed"; got != want {
			t.Errorf("people of Alpha: %s, want %s", got, want)
		}
	})
}
