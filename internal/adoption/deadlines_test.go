package adoption_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/adoption"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
)

// TestDeadlines: the regulator sets an effective date and phases, gives
// items phases or deadlines; the published version writes the deadlines
// out; overdue follows the regulator's deadline, and a provider's target
// may only be earlier.
func TestDeadlines(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		macra, p1 := f.orgs["macra"], f.orgs["p1"]
		an := f.as("macra-analyst")
		var ie *adoption.InvalidError
		for _, c := range []struct {
			sc    adoption.Schedule
			field string
		}{
			{adoption.Schedule{EffectiveDate: "2026-13-01"}, "effective_date"},
			{adoption.Schedule{Phases: []adoption.Phase{{Number: 1, Label: "", Months: 6}}}, "phases"},
			{adoption.Schedule{Phases: []adoption.Phase{{Number: 1, Label: "P1", Months: 121}}}, "phases"},
			{adoption.Schedule{Phases: []adoption.Phase{{Number: 1, Label: "P1"}, {Number: 1, Label: "P1 again"}}}, "phases"},
		} {
			if err := f.store.SetSchedule(an, macra, c.sc); !errors.As(err, &ie) || ie.Field != c.field {
				t.Errorf("SetSchedule(%+v) = %v, want invalid %s", c.sc, err, c.field)
			}
		}
		must(t, f.store.SetSchedule(an, macra, adoption.Schedule{EffectiveDate: "2026-08-31",
			Phases: []adoption.Phase{{Number: 1, Label: "Phase 1", Months: 6}, {Number: 2, Label: "Phase 2", Months: 18}}}))
		sc, err := f.store.DraftSchedule(ctx, macra)
		must(t, err)
		if p, _ := sc.Phase(1); p.Deadline != "2027-02-28" {
			t.Fatalf("phase 1 deadline %q, want the end of February", p.Deadline)
		}
		if err := f.store.SetDraft(an, macra, adoption.BaselineItem{RecID: "APP-003", Decision: adoption.Adopted, Phase: 3}); !errors.As(err, &ie) || ie.Field != "phase" {
			t.Fatalf("undefined phase: %v", err)
		}
		if err := f.store.SetDraft(an, macra, adoption.BaselineItem{RecID: "APP-003", Decision: adoption.Adopted, Deadline: "soon"}); !errors.As(err, &ie) || ie.Field != "deadline" {
			t.Fatalf("bad deadline: %v", err)
		}
		must(t, f.store.SetDraft(an, macra, adoption.BaselineItem{RecID: "APP-003", Decision: adoption.Adopted, Phase: 1}))
		must(t, f.store.SetDraft(an, macra, adoption.BaselineItem{RecID: "APP-004", Decision: adoption.Adopted, Phase: 2, Deadline: "2026-06-15"}))
		// A phase in use cannot be dropped.
		if err := f.store.SetSchedule(an, macra, adoption.Schedule{EffectiveDate: "2026-08-31"}); !errors.As(err, &ie) || !strings.Contains(ie.Problem, "Phase 1 is still given to 1 draft items") {
			t.Fatalf("dropping a phase in use: %v", err)
		}
		_, err = f.store.AdoptRemaining(an, macra)
		must(t, err)
		v, err := f.store.Publish(f.as("macra-admin"), macra, "")
		must(t, err)
		if v.EffectiveDate != "2026-08-31" || len(v.Phases) != 2 || v.Phases[1].Deadline != "2028-02-29" {
			t.Fatalf("published schedule: %q %+v", v.EffectiveDate, v.Phases)
		}
		if it, _ := v.Item("APP-003"); it.Phase != 1 || it.Deadline != "2027-02-28" {
			t.Fatalf("APP-003: %+v", it)
		}
		if it, _ := v.Item("APP-004"); it.Phase != 2 || it.Deadline != "2026-06-15" {
			t.Fatalf("APP-004 (own deadline wins): %+v", it)
		}

		// The provider's target may be earlier than the deadline, not later.
		if _, err := f.store.Update(f.as("p1-analyst"), p1, "APP-003", adoption.Update{Status: adoption.Planned, TargetDate: "2027-03-01"}); !errors.As(err, &ie) ||
			ie.Field != "target_date" || !strings.Contains(ie.Problem, "2027-02-28") {
			t.Fatalf("target after the deadline: %v", err)
		}
		_, err = f.store.Update(f.as("p1-analyst"), p1, "APP-003", adoption.Update{Status: adoption.Planned, TargetDate: "2026-12-01"})
		must(t, err)
		// Past the provider's target but before the regulator's deadline:
		// not overdue. Past the deadline: overdue.
		f.now = time.Date(2027, 1, 10, 9, 0, 0, 0, time.UTC)
		if it, _ := f.store.Item(ctx, p1, "APP-003"); it.Overdue {
			t.Fatal("overdue against the provider's own target, not the regulator's deadline")
		}
		if it, _ := f.store.Item(ctx, p1, "APP-004"); !it.Overdue {
			t.Fatal("APP-004 past the regulator's deadline is not overdue")
		}
		f.now = time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
		tr, err := f.store.Items(ctx, p1)
		must(t, err)
		if tr.Overdue != 2 {
			t.Fatalf("%d overdue, want APP-003 and APP-004", tr.Overdue)
		}
		sub, err := f.store.Submit(f.as("p1-admin"), p1, "Signed.")
		must(t, err)
		if sub.Overdue != 2 {
			t.Fatalf("submission counts %d overdue", sub.Overdue)
		}
	})
}

func TestRoadmapPage(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), nil)
	s.expect(s.post("macra-analyst", s.org("macra", "/baseline/schedule"), url.Values{"effective_date": {"2026-07-01"},
		"phase_1_label": {"Phase 1"}, "phase_1_months": {"six"}}), 400, "whole number", `value="Phase 1"`)
	s.expect(s.post("macra-viewer", s.org("macra", "/baseline/schedule"), url.Values{"effective_date": {"2026-07-01"}}), 403)
	s.expect(s.post("p1-admin", s.org("p1", "/baseline/schedule"), url.Values{"effective_date": {"2026-07-01"}}), 404)
	s.expect(s.post("macra-analyst", s.org("macra", "/baseline/schedule"), url.Values{"effective_date": {"2026-07-01"},
		"phase_1_label": {"Phase 1"}, "phase_1_months": {"6"}, "phase_2_label": {"Phase 2"}, "phase_2_months": {"18"}}), 303)
	s.expect(s.get("macra-viewer", s.org("macra", "/baseline")), 200, "Phase 2: 18 months (2028-01-01)")
	s.expect(s.get("macra-analyst", s.org("macra", "/baseline")), 200, `value="Phase 2"`, "2027-01-01")
	s.expect(s.get("macra-analyst", s.org("macra", "/baseline/draft/APP-003")), 200, `<option value="1">Phase 1 (6 months, 2027-01-01)</option>`)
	s.expect(s.post("macra-analyst", s.org("macra", "/baseline/draft/APP-003"), url.Values{"decision": {"adopted"}, "phase": {"1"}, "seen": {"0"}}), 303)
	s.expect(s.post("macra-analyst", s.org("macra", "/baseline/draft/TEL-001"), url.Values{"decision": {"adopted"}, "phase": {"2"}, "seen": {"0"}}), 303)
	s.expect(s.post("macra-analyst", s.org("macra", "/baseline/draft/APP-004"), url.Values{"decision": {"adopted"}, "phase": {"x"}, "seen": {"0"}}), 400)
	s.expect(s.post("macra-analyst", s.org("macra", "/baseline/adopt-remaining"), nil), 303)
	s.expect(s.post("macra-admin", s.org("macra", "/baseline/publish"), nil), 303)
	s.expect(s.get("p1-viewer", s.org("p1", "/baseline/v/1")), 200, "Phase 1: by 2027-01-01", `id="roadmap-link"`)
	rm := s.get("p1-viewer", s.org("p1", "/baseline/v/1/roadmap"))
	s.expect(rm, 200, "Phase 1 · by 2027-01-01", "APP-003", "No phase", "Not started")
	if strings.Contains(rm.Body.String(), "TEL-001") {
		t.Fatal("the provider's roadmap lists an operator's item")
	}
	s.expect(s.get("p2-viewer", s.org("p2", "/baseline/v/1/roadmap")), 200, "Phase 2 · by 2028-01-01", "TEL-001")
	s.expect(s.get("ca-admin", s.org("ca", "/baseline/v/1/roadmap")), 404)
	s.expect(s.get("p1-viewer", s.org("p1", "/tracking/APP-003")), 200, `<dd id="regulator-deadline">2027-01-01</dd>`)
	s.expect(s.post("p1-analyst", s.org("p1", "/tracking/APP-003"), url.Values{"status": {"planned"}, "target_date": {"2027-02-01"}, "version": {"0"}}),
		400, "your target date may be that day or earlier")
}
