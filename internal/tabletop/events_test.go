package tabletop_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/tabletop"
)

// liveExercise is a running exercise of the payday scenario with a
// facilitator, an observer and one player in each of two groups.
type liveExercise struct {
	id                     int64
	fac, obs, pIR, pPRO    context.Context
	ir, pro                int64
	irUser, proUser, obsID int64
}

func newLiveExercise(t *testing.T, f *fixture) liveExercise {
	t.Helper()
	a := f.org("Regulator A")
	_, fac := f.person(a, "fac@a.example")
	obsID, obs := f.person(a, "obs@a.example")
	irUser, pIR := f.person(a, "ir@a.example")
	proUser, pPRO := f.person(a, "pro@a.example")
	e, err := f.s.CreateExercise(fac, a, tabletop.NewExercise{Title: "Drill", ScenarioKey: "payday-sim-swap@2026.1", Speed: 1})
	if err != nil {
		t.Fatal(err)
	}
	gs, err := f.s.Groups(f.ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	x := liveExercise{id: e.ID, fac: fac, obs: obs, pIR: pIR, pPRO: pPRO, irUser: irUser, proUser: proUser, obsID: obsID}
	for _, g := range gs {
		switch {
		case slices.Contains(g.Domains, "IR"):
			x.ir = g.ID
		case slices.Contains(g.Domains, "PRO"):
			x.pro = g.ID
		}
	}
	for _, p := range []struct {
		email string
		role  tabletop.ExerciseRole
		group int64
	}{{"obs@a.example", tabletop.RoleObserver, 0}, {"ir@a.example", tabletop.RolePlayer, x.ir}, {"pro@a.example", tabletop.RolePlayer, x.pro}} {
		if _, err := f.s.InvitePerson(fac, e.ID, p.email, a, p.role, p.group); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []context.Context{obs, pIR, pPRO} {
		if err := f.s.Join(c, e.ID, 0, []int64{a}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.s.Start(fac, e.ID); err != nil {
		t.Fatal(err)
	}
	// I1 falls due at T+0: out of the way before the tests look.
	if err := f.s.ReleaseDue(f.ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	return x
}

func kind(t *testing.T, e tabletop.Event) string {
	t.Helper()
	var d struct{ Kind string }
	if err := json.Unmarshal(e.Data, &d); err != nil || d.Kind != e.Kind {
		t.Fatalf("event %d: data %s does not name its kind %q (%v)", e.ID, e.Data, e.Kind, err)
	}
	return d.Kind
}

// TestLiveEventsAudience records one change of each kind and checks who
// may receive each: players what is addressed to their group, staff
// (facilitators and observers) everything, observer notes staff only.
func TestLiveEventsAudience(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		x := newLiveExercise(t, f)
		last, err := f.s.LastEvent(f.ctx, x.id)
		if err != nil {
			t.Fatal(err)
		}
		// I2 addresses protection, governance and training, not
		// incident response (the scenario's groups).
		steps := []func() error{
			func() error { return f.s.ReleaseNow(x.fac, x.id, "I2") },
			func() error { return f.s.Hint(x.fac, x.id, x.ir, "Call the MNO") },
			func() error { return f.s.Note(x.obs, x.id, "IR hesitates") },
			func() error {
				_, err := f.s.ReleaseAdHoc(x.fac, x.id, tabletop.AdHoc{Channel: "news", From: "Daily", Title: "Leak", Content: "text", GroupID: x.pro})
				return err
			},
			func() error { return f.s.SetParticipant(x.fac, x.id, x.obsID, tabletop.RoleObserver, 0) },
			func() error { _, err := f.s.Pause(x.fac, x.id); return err },
		}
		for i, step := range steps {
			if err := step(); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		}
		evs, err := f.s.EventsAfter(f.ctx, x.id, last)
		if err != nil {
			t.Fatal(err)
		}
		ir := tabletop.Viewer{Role: tabletop.RolePlayer, GroupID: x.ir}
		pro := tabletop.Viewer{Role: tabletop.RolePlayer, GroupID: x.pro}
		obs := tabletop.Viewer{Role: tabletop.RoleObserver}
		want := []struct {
			kind           string
			ir, pro, staff bool
		}{
			{"inject", false, true, true}, // I2: not incident response
			{"hint", true, false, true},
			{"note", false, false, true},
			{"inject", false, true, true}, // ad hoc, to Protection
			{"lobby", true, true, true},
			{"state", true, true, true},
		}
		if len(evs) != len(want) {
			t.Fatalf("%d events, want %d: %+v", len(evs), len(want), evs)
		}
		for i, w := range want {
			e := evs[i]
			if k := kind(t, e); k != w.kind || ir.Sees(e) != w.ir || pro.Sees(e) != w.pro || obs.Sees(e) != w.staff {
				t.Errorf("event %d %s: IR %v PRO %v staff %v, want %s %v %v %v", i, k, ir.Sees(e), pro.Sees(e), obs.Sees(e), w.kind, w.ir, w.pro, w.staff)
			}
			if i > 0 && e.ID <= evs[i-1].ID {
				t.Errorf("event IDs out of order: %d after %d", e.ID, evs[i-1].ID)
			}
		}
		// A failed change records nothing.
		if err := f.s.Hint(x.pIR, x.id, x.ir, "players cannot hint"); !errors.Is(err, tabletop.ErrNotAllowed) {
			t.Fatal("a player sent a hint")
		}
		if again, _ := f.s.EventsAfter(f.ctx, x.id, evs[len(evs)-1].ID); len(again) != 0 {
			t.Errorf("a refused change left events: %+v", again)
		}
	})
}

func receive(t *testing.T, s *tabletop.Subscription, who string) tabletop.Event {
	t.Helper()
	select {
	case e := <-s.Events():
		return e
	case <-s.Done():
		t.Fatalf("%s: the subscription ended", who)
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no event within 10 s", who)
	}
	return tabletop.Event{}
}

// TestHubFanOut: every subscription of an exercise gets its new events
// once, in order, as soon as they commit (the poll is set to an hour, so
// only the commit's signal can deliver them); closing the last
// subscription and stopping the hub end its goroutines' work.
func TestHubFanOut(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		x := newLiveExercise(t, f)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		h := tabletop.NewHub(ctx, f.s, nil)
		h.SetPollEvery(time.Hour)
		var subs []*tabletop.Subscription
		for range 3 {
			s, err := h.Subscribe(ctx, x.id)
			if err != nil {
				t.Fatal(err)
			}
			subs = append(subs, s)
		}
		if n := h.Streams(); n != 3 {
			t.Fatalf("Streams = %d, want 3", n)
		}
		if err := f.s.ReleaseNow(x.fac, x.id, "I3"); err != nil {
			t.Fatal(err)
		}
		if err := f.s.Hint(x.fac, x.id, x.pro, "Look at the logs"); err != nil {
			t.Fatal(err)
		}
		for i, s := range subs {
			a, b := receive(t, s, "sub"), receive(t, s, "sub")
			if a.Kind != "inject" || b.Kind != "hint" || b.ID <= a.ID {
				t.Errorf("subscription %d got %s %d then %s %d, want the inject then the hint", i, a.Kind, a.ID, b.Kind, b.ID)
			}
		}
		subs[0].Close()
		if n := h.Streams(); n != 2 {
			t.Errorf("Streams after a close = %d, want 2", n)
		}
		cancel()
		for i, s := range subs[1:] {
			select {
			case <-s.Done():
			case <-time.After(10 * time.Second):
				t.Errorf("subscription %d still open after the hub stopped", i+1)
			}
		}
		if _, err := h.Subscribe(context.Background(), x.id); !errors.Is(err, context.Canceled) {
			t.Errorf("a stopped hub's Subscribe = %v, want context.Canceled", err)
		}
	})
}

// TestHubAcrossServers: on PostgreSQL a change made through another
// server (another database handle, another store) reaches this server's
// subscriptions through LISTEN/NOTIFY, without waiting for a poll.
func TestHubAcrossServers(t *testing.T) {
	dsn := dbtest.PostgresDSN(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	open := func() *db.DB {
		d, err := db.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	}
	one, two := newFixture(t, open()), newFixture(t, open())
	x := newLiveExercise(t, two)
	h := tabletop.NewHub(ctx, one.s, nil)
	h.SetPollEvery(time.Hour)
	s, err := h.Subscribe(ctx, x.id)
	if err != nil {
		t.Fatal(err)
	}
	// The listener connects in the background; until it listens a
	// notification would be lost (and the poll, an hour away, would be
	// the only way): send changes until one arrives.
	deadline := time.Now().Add(15 * time.Second)
	for _, in := range []string{"I2", "I3", "I4", "I5"} {
		if err := two.s.ReleaseNow(x.fac, x.id, in); err != nil {
			t.Fatal(err)
		}
		select {
		case e := <-s.Events():
			if e.Kind != "inject" {
				t.Errorf("got a %s event, want the inject", e.Kind)
			}
			return
		case <-time.After(time.Until(deadline) / 4):
		}
	}
	t.Fatal("no change of the other server arrived")
}
