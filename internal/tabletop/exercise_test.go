package tabletop_test

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/tabletop"
)

// person adds a member with an account to org and returns a context in
// which they act.
func (f *fixture) person(org int64, email string) (int64, context.Context) {
	f.t.Helper()
	inv, err := f.ids.Invite(f.ctx, org, email, identity.RoleViewer)
	if err != nil {
		f.t.Fatal(err)
	}
	cred := make([]byte, 32)
	rand.Read(cred)
	u, err := f.ids.RedeemEnrolment(f.ctx, inv.Token, identity.Enrolment{DisplayName: email, Email: email,
		Passkey: identity.Passkey{CredentialID: cred, PublicKey: []byte{0xa5}, Name: "test key"}})
	if err != nil {
		f.t.Fatal(err)
	}
	return u.ID, audit.WithActor(context.Background(), audit.Actor{UserID: u.ID, OrgID: org, IP: "192.0.2.2"})
}

func TestExerciseSetup(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		a, b, c := f.org("Regulator A"), f.org("Provider B"), f.org("Operator C")
		fac, facCtx := f.person(a, "fac@a.example")
		pb, pbCtx := f.person(b, "player@b.example")
		_, pcCtx := f.person(c, "outsider@c.example")

		if _, err := f.s.CreateExercise(facCtx, a, tabletop.NewExercise{Title: "x", ScenarioKey: "payday-sim-swap@2026.1", Speed: 1000}); !errors.Is(err, tabletop.ErrInvalid) {
			t.Errorf("speed 1000: %v", err)
		}
		if _, err := f.s.CreateExercise(facCtx, a, tabletop.NewExercise{Title: strings.Repeat("t", 201), ScenarioKey: "payday-sim-swap@2026.1"}); err == nil || !strings.Contains(err.Error(), "longer than 200") {
			t.Errorf("long title: %v", err)
		}
		e, err := f.s.CreateExercise(facCtx, a, tabletop.NewExercise{Title: "National drill", ScenarioKey: "payday-sim-swap@2026.1", Speed: 60})
		if err != nil {
			t.Fatal(err)
		}
		groups, err := f.s.Groups(f.ctx, e.ID)
		if err != nil || len(groups) != 6 || groups[5].Name != "Incident response and recovery" || !slices.Equal(groups[5].Domains, []string{"IR"}) {
			t.Fatalf("default groups: %+v, %v", groups, err)
		}
		if _, err := f.s.AccessOf(f.ctx, e.ID, pb, []int64{b}); !errors.Is(err, tabletop.ErrNotFound) {
			t.Errorf("B's person before B is invited: %v, want ErrNotFound", err)
		}
		if err := f.s.InviteOrg(pbCtx, e.ID, b); !errors.Is(err, tabletop.ErrNotFound) {
			t.Errorf("an outsider invites: %v", err)
		}
		if err := f.s.InviteOrg(facCtx, e.ID, b); err != nil {
			t.Fatal(err)
		}
		if err := f.s.InviteOrg(facCtx, e.ID, b); !errors.Is(err, tabletop.ErrConflict) {
			t.Errorf("second invitation: %v", err)
		}
		// A person of an organisation that is not invited cannot be found.
		if _, err := f.s.InvitePerson(facCtx, e.ID, "outsider@c.example", c, tabletop.RolePlayer, 0); !errors.Is(err, tabletop.ErrInvalid) {
			t.Errorf("person of an uninvited organisation: %v", err)
		}
		if _, err := f.s.InvitePerson(facCtx, e.ID, "nobody@b.example", b, tabletop.RolePlayer, 0); err == nil || !strings.Contains(err.Error(), "no member of this organisation") {
			t.Errorf("unknown address: %v", err)
		}
		p, err := f.s.InvitePerson(facCtx, e.ID, "Player@B.example", b, tabletop.RolePlayer, groups[5].ID)
		if err != nil || p.UserID != pb {
			t.Fatalf("invite person: %+v %v", p, err)
		}
		acc, err := f.s.AccessOf(f.ctx, e.ID, pb, []int64{b})
		if err != nil || acc.Participant == nil || !acc.Participant.Joined.IsZero() || acc.Facilitates() {
			t.Fatalf("access of the invited player: %+v %v", acc, err)
		}
		if err := f.s.Join(pbCtx, e.ID, 0, []int64{b}); err != nil {
			t.Fatal(err)
		}
		if err := f.s.Join(pcCtx, e.ID, c, []int64{c}); !errors.Is(err, tabletop.ErrNotFound) {
			t.Errorf("outsider joins: %v", err)
		}
		if _, err := f.s.AddGroup(pbCtx, e.ID, "Mine"); !errors.Is(err, tabletop.ErrNotAllowed) {
			t.Errorf("a player adds a group: %v", err)
		}

		// Groups: add, rename, merge (domains and people move).
		g, err := f.s.AddGroup(facCtx, e.ID, "Communications")
		if err != nil || g.Position != 7 {
			t.Fatalf("add group: %+v %v", g, err)
		}
		if err := f.s.RenameGroup(facCtx, e.ID, groups[0].ID, "Risk and governance"); err != nil {
			t.Fatal(err)
		}
		if err := f.s.MergeGroups(facCtx, e.ID, groups[5].ID, groups[4].ID); err != nil {
			t.Fatal(err)
		}
		if err := f.s.MergeGroups(facCtx, e.ID, groups[4].ID, groups[4].ID); !errors.Is(err, tabletop.ErrInvalid) {
			t.Errorf("merge into itself: %v", err)
		}
		groups, _ = f.s.Groups(f.ctx, e.ID)
		if len(groups) != 6 || groups[0].Name != "Risk and governance" || !slices.Equal(groups[4].Domains, []string{"PRO", "IR"}) {
			t.Errorf("groups after rename and merge: %+v", groups)
		}
		people, _ := f.s.Participants(f.ctx, e.ID)
		for _, pp := range people {
			if pp.UserID == pb && (pp.GroupID != groups[4].ID || pp.Joined.IsZero()) {
				t.Errorf("player after merge: %+v", pp)
			}
		}
		// The exercise keeps a facilitator.
		if err := f.s.SetParticipant(facCtx, e.ID, fac, tabletop.RolePlayer, 0); !errors.Is(err, tabletop.ErrInvalid) {
			t.Errorf("last facilitator demoted: %v", err)
		}
		if err := f.s.SetParticipant(facCtx, e.ID, pb, tabletop.RoleObserver, 0); err != nil {
			t.Fatal(err)
		}
		rows, err := f.s.ExercisesOf(f.ctx, b, pb)
		if err != nil || len(rows) != 1 || rows[0].Role != tabletop.RoleObserver || !rows[0].Joined {
			t.Errorf("B's exercises: %+v %v", rows, err)
		}
		if rows, _ := f.s.ExercisesOf(f.ctx, c, 0); len(rows) != 0 {
			t.Errorf("C sees %d exercises", len(rows))
		}
		// B sees the entries that concern it in its own audit view.
		var concernsB []string
		r2, err := d.Query(f.ctx, `SELECT l.action FROM audit_log l WHERE l.org_id = ? AND l.action LIKE 'tabletop.exercise.%'
			AND (l.actor_org_id = ? OR EXISTS (SELECT 1 FROM audit_log_orgs c WHERE c.seq = l.seq AND c.org_id = ?)) ORDER BY l.seq`, a, b, b)
		if err != nil {
			t.Fatal(err)
		}
		for r2.Next() {
			var action string
			if err := r2.Scan(&action); err != nil {
				t.Fatal(err)
			}
			concernsB = append(concernsB, action)
		}
		r2.Close()
		want := []string{"tabletop.exercise.invite_org", "tabletop.exercise.invite_person", "tabletop.exercise.join", "tabletop.exercise.assign"}
		if !slices.Equal(concernsB, want) {
			t.Errorf("entries concerning B: %v, want %v", concernsB, want)
		}
	})
}
