package tabletop_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/tabletop"
)

func released(t *testing.T, f *fixture, id int64) (ids []string, at []time.Duration) {
	t.Helper()
	if err := f.s.ReleaseDue(f.ctx, id); err != nil {
		t.Fatal(err)
	}
	rs, err := f.s.ReleasedInjects(f.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		ids, at = append(ids, r.InjectID), append(at, r.At)
	}
	return ids, at
}

// TestExerciseClock runs the payday scenario (injects at 0m, 1h, 2h, 4h,
// 1d) at 60× real time: the clock releases injects at their own
// exercise time, stands still while paused, resumes where it stopped,
// and a fresh store (a restarted server) reads the same exercise time.
func TestExerciseClock(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		a := f.org("Regulator A")
		_, fac := f.person(a, "fac@a.example")
		_, pbCtx := f.person(a, "player@a.example")
		e, err := f.s.CreateExercise(fac, a, tabletop.NewExercise{Title: "Drill", ScenarioKey: "payday-sim-swap@2026.1", Speed: 60})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.InvitePerson(fac, e.ID, "player@a.example", a, tabletop.RolePlayer, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Pause(fac, e.ID); !errors.Is(err, tabletop.ErrInvalid) {
			t.Errorf("pause before start: %v", err)
		}
		if _, err := f.s.Start(pbCtx, e.ID); !errors.Is(err, tabletop.ErrNotAllowed) {
			t.Errorf("a player starts: %v", err)
		}
		if ids, _ := released(t, f, e.ID); len(ids) != 0 {
			t.Fatalf("released before the start: %v", ids)
		}
		if _, err := f.s.Start(fac, e.ID); err != nil {
			t.Fatal(err)
		}
		f.now = f.now.Add(90 * time.Second) // 1h30m of exercise time
		ids, at := released(t, f, e.ID)
		if !slices.Equal(ids, []string{"I1", "I2"}) || at[1] != time.Hour {
			t.Fatalf("after 1h30m: %v at %v", ids, at)
		}
		if _, err := f.s.Pause(fac, e.ID); err != nil {
			t.Fatal(err)
		}
		f.now = f.now.Add(time.Hour) // paused: the clock stands still
		if ids, _ := released(t, f, e.ID); len(ids) != 2 {
			t.Fatalf("released while paused: %v", ids)
		}
		// A restarted server reads the same exercise time.
		s2, err := tabletop.NewStore(d, refs(t), func() time.Time { return f.now })
		if err != nil {
			t.Fatal(err)
		}
		e2, err := s2.Exercise(f.ctx, e.ID)
		if err != nil || e2.ExerciseTime(f.now) != 90*time.Minute || e2.Status != tabletop.StatusPaused {
			t.Fatalf("after restart: %v, %v", e2.ExerciseTime(f.now), err)
		}
		if _, err := f.s.Resume(fac, e.ID); err != nil {
			t.Fatal(err)
		}
		// Released by hand ahead of time, and an ad-hoc inject to every group.
		if err := f.s.ReleaseNow(fac, e.ID, "I4"); err != nil {
			t.Fatal(err)
		}
		if err := f.s.ReleaseNow(fac, e.ID, "I4"); !errors.Is(err, tabletop.ErrConflict) {
			t.Errorf("second release: %v", err)
		}
		if _, err := f.s.ReleaseAdHoc(fac, e.ID, tabletop.AdHoc{Channel: "news", From: "Radio", Title: "Breaking", Content: "<b>text</b>"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.ReleaseAdHoc(fac, e.ID, tabletop.AdHoc{Channel: "news", From: "Radio", Title: "T", Content: string(make([]byte, 4001))}); !errors.Is(err, tabletop.ErrInvalid) {
			t.Errorf("over-limit ad-hoc text: %v", err)
		}
		f.now = f.now.Add(31 * time.Second) // 2h01m
		ids, at = released(t, f, e.ID)
		want := []string{"I1", "I2", "I4", "adhoc-1", "I3"}
		if !slices.Equal(ids, want) || at[2] != 90*time.Minute || at[4] != 2*time.Hour {
			t.Fatalf("after resume: %v at %v, want %v", ids, at, want)
		}
		if _, err := f.s.End(fac, e.ID); err != nil {
			t.Fatal(err)
		}
		f.now = f.now.Add(24 * time.Hour)
		if ids, _ := released(t, f, e.ID); len(ids) != 5 {
			t.Errorf("released after the end: %v", ids)
		}
		if _, err := f.s.Resume(fac, e.ID); !errors.Is(err, tabletop.ErrInvalid) {
			t.Errorf("resume after the end: %v", err)
		}
	})
}
