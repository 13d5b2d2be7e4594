package tabletop_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/tabletop"
)

// TestGroupAnswers runs the payday scenario with two players of the
// incident-response group (one of another organisation), a player of
// the governance group and an observer: the group shares one draft,
// a stale save is refused and changes nothing, the final answer is
// time-stamped in exercise time and locked, a facilitator scores it,
// hints reach one group, observers keep notes, and the decision log
// lists it all in order.
func TestGroupAnswers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		a, b := f.org("Regulator A"), f.org("Provider B")
		_, fac := f.person(a, "fac@a.example")
		_, p1 := f.person(a, "ir1@a.example")
		_, p2 := f.person(b, "ir2@b.example")
		_, gov := f.person(a, "gov@a.example")
		_, obs := f.person(a, "obs@a.example")
		e, err := f.s.CreateExercise(fac, a, tabletop.NewExercise{Title: "Drill", ScenarioKey: "payday-sim-swap@2026.1", Speed: 60})
		if err != nil {
			t.Fatal(err)
		}
		groups, err := f.s.Groups(f.ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		govG, ir := groups[1], groups[5]
		if err := f.s.InviteOrg(fac, e.ID, b); err != nil {
			t.Fatal(err)
		}
		for _, p := range []struct {
			email string
			org   int64
			role  tabletop.ExerciseRole
			group int64
		}{
			{"ir1@a.example", a, tabletop.RolePlayer, ir.ID},
			{"ir2@b.example", b, tabletop.RolePlayer, ir.ID},
			{"gov@a.example", a, tabletop.RolePlayer, govG.ID},
			{"obs@a.example", a, tabletop.RoleObserver, 0},
		} {
			if _, err := f.s.InvitePerson(fac, e.ID, p.email, p.org, p.role, p.group); err != nil {
				t.Fatal(err)
			}
		}
		for ctx, org := range map[context.Context]int64{p1: a, p2: b, gov: a, obs: a} {
			if err := f.s.Join(ctx, e.ID, 0, []int64{org}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.s.SaveAnswer(p1, e.ID, 1, tabletop.AnswerInput{Actions: "x"}); !errors.Is(err, tabletop.ErrInvalid) {
			t.Errorf("answer before the start: %v", err)
		}
		if _, err := f.s.Start(fac, e.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.s.ReleaseDue(f.ctx, e.ID); err != nil {
			t.Fatal(err)
		}
		rel, err := f.s.ReleasedInjects(f.ctx, e.ID)
		if err != nil || len(rel) != 1 || rel[0].InjectID != "I1" {
			t.Fatalf("released at the start: %+v %v", rel, err)
		}
		i1 := rel[0].ID
		// Who may answer: players of a group the inject addresses.
		for name, c := range map[string]struct {
			ctx  context.Context
			want error
		}{
			"facilitator":          {fac, tabletop.ErrNotAllowed},
			"observer":             {obs, tabletop.ErrNotAllowed},
			"player not addressed": {gov, tabletop.ErrNotFound},
		} {
			if _, err := f.s.SaveAnswer(c.ctx, e.ID, i1, tabletop.AnswerInput{Actions: "x"}); !errors.Is(err, c.want) {
				t.Errorf("%s answers: %v, want %v", name, err, c.want)
			}
		}
		// Bad input is refused and nothing is stored.
		for name, in := range map[string]tabletop.AnswerInput{
			"final without actions": {Owner: "MNO", Final: true},
			"too long":              {Actions: strings.Repeat("a", tabletop.MaxAnswerField+1)},
			"control characters":    {Actions: "a\x00b"},
			"invalid UTF-8":         {Gap: "\xff"},
		} {
			if _, err := f.s.SaveAnswer(p1, e.ID, i1, in); !errors.Is(err, tabletop.ErrInvalid) {
				t.Errorf("%s: %v", name, err)
			}
		}
		if as, _ := f.s.Answers(f.ctx, e.ID); len(as) != 0 {
			t.Fatalf("answers stored after refusals: %+v", as)
		}
		// A shared draft: p1 writes, p2 of another organisation edits it,
		// p1's save from the old version is refused.
		v1, err := f.s.SaveAnswer(p1, e.ID, i1, tabletop.AnswerInput{Actions: "Open an incident", Owner: "DFS provider"})
		if err != nil || v1.Version != 1 {
			t.Fatalf("first draft: %+v %v", v1, err)
		}
		if _, err := f.s.SaveAnswer(p2, e.ID, i1, tabletop.AnswerInput{Actions: "new answer"}); !errors.Is(err, tabletop.ErrStale) {
			t.Errorf("a second first draft: %v", err)
		}
		v2, err := f.s.SaveAnswer(p2, e.ID, i1, tabletop.AnswerInput{Version: 1, Actions: "Open an incident; call the MNO", Owner: "DFS provider", Gap: "<b>no IMSI feed</b>"})
		if err != nil || v2.Version != 2 {
			t.Fatalf("second draft: %+v %v", v2, err)
		}
		if _, err := f.s.SaveAnswer(p1, e.ID, i1, tabletop.AnswerInput{Version: 1, Actions: "mine"}); !errors.Is(err, tabletop.ErrStale) {
			t.Errorf("stale save: %v", err)
		}
		as, err := f.s.Answers(f.ctx, e.ID)
		if err != nil || len(as) != 1 || as[0].Actions != "Open an incident; call the MNO" || as[0].IsFinal() || as[0].EditedBy != "ir2@b.example" {
			t.Fatalf("draft after a stale save: %+v %v", as, err)
		}
		if err := f.s.ScoreAnswer(fac, e.ID, as[0].ID, 2, ""); !errors.Is(err, tabletop.ErrInvalid) {
			t.Errorf("score a draft: %v", err)
		}
		// The final answer, at exercise time 30m.
		f.now = f.now.Add(30 * time.Second)
		if _, err := f.s.SaveAnswer(p1, e.ID, i1, tabletop.AnswerInput{Version: 2, Actions: "Open an incident; call the MNO", Owner: "DFS provider", Gap: "<b>no IMSI feed</b>", Final: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.SaveAnswer(p2, e.ID, i1, tabletop.AnswerInput{Version: 3, Actions: "late"}); !errors.Is(err, tabletop.ErrConflict) {
			t.Errorf("edit after the final answer: %v", err)
		}
		as, _ = f.s.Answers(f.ctx, e.ID)
		if !as[0].IsFinal() || as[0].FinalAt != 30*time.Minute || as[0].FinalBy != "ir1@a.example" {
			t.Errorf("final answer: %+v", as[0])
		}
		// Scores, hints and notes.
		for name, c := range map[string]struct {
			ctx   context.Context
			score int
			want  error
		}{
			"player":       {p1, 3, tabletop.ErrNotAllowed},
			"observer":     {obs, 3, tabletop.ErrNotAllowed},
			"out of range": {fac, 4, tabletop.ErrInvalid},
		} {
			if err := f.s.ScoreAnswer(c.ctx, e.ID, as[0].ID, c.score, ""); !errors.Is(err, c.want) {
				t.Errorf("score by %s: %v, want %v", name, err, c.want)
			}
		}
		if err := f.s.ScoreAnswer(fac, e.ID, as[0].ID, 2, "Missed the customer message."); err != nil {
			t.Fatal(err)
		}
		if err := f.s.Hint(p1, e.ID, ir.ID, "Ask the MNO"); !errors.Is(err, tabletop.ErrNotAllowed) {
			t.Errorf("a player sends a hint: %v", err)
		}
		if err := f.s.Hint(fac, e.ID, 0, "Ask the MNO"); !errors.Is(err, tabletop.ErrInvalid) {
			t.Errorf("hint without a group: %v", err)
		}
		if err := f.s.Hint(fac, e.ID, govG.ID, "Who tells the central bank?"); err != nil {
			t.Fatal(err)
		}
		if err := f.s.Note(p1, e.ID, "seen"); !errors.Is(err, tabletop.ErrNotAllowed) {
			t.Errorf("a player keeps a note: %v", err)
		}
		if err := f.s.Note(obs, e.ID, ""); !errors.Is(err, tabletop.ErrInvalid) {
			t.Errorf("empty note: %v", err)
		}
		if err := f.s.Note(obs, e.ID, "IR group waited for the MNO."); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.End(fac, e.ID); err != nil {
			t.Fatal(err)
		}
		// Scoring stays open for the debrief.
		if err := f.s.ScoreAnswer(fac, e.ID, as[0].ID, 3, ""); err != nil {
			t.Errorf("score after the end: %v", err)
		}
		log, err := f.s.Log(f.ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, l := range log {
			kinds = append(kinds, l.Kind)
		}
		want := []string{"state", "inject", "answer", "score", "hint", "note", "state", "score"}
		if !slices.Equal(kinds, want) {
			t.Errorf("decision log: %v, want %v", kinds, want)
		}
		if log[2].At != 30*time.Minute || log[2].GroupID != ir.ID || log[4].GroupID != govG.ID || log[1].Actor != "" {
			t.Errorf("log entries: %+v", log)
		}
		acts := f.actions(a)
		for _, w := range []string{"tabletop.answer.draft", "tabletop.answer.final", "tabletop.answer.score", "tabletop.hint", "tabletop.note"} {
			if !slices.Contains(acts, w) {
				t.Errorf("audit log has no %s: %v", w, acts)
			}
		}
	})
}
