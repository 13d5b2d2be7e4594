package adoption_test

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/adoption"
	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
)

func TestReportingPeriods(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		macra, rbm, ca, p1, p2 := f.orgs["macra"], f.orgs["rbm"], f.orgs["ca"], f.orgs["p1"], f.orgs["p2"]
		ctx := f.as("macra-analyst")

		// Refused input names the field and the limit; nothing is saved.
		for _, c := range []struct {
			label, due, field, says string
		}{
			{"", "2026-06-30", "label", "Name the period"},
			{strings.Repeat("Q", 101), "2026-06-30", "label", "the limit is 100"},
			{"Q2\n2026", "2026-06-30", "label", "one line"},
			{"Q2 2026", "30/06/2026", "due_date", "YYYY-MM-DD"},
			{"Q2 2026", "2026-05-31", "due_date", "has passed"},
		} {
			var ie *adoption.InvalidError
			if _, err := f.store.OpenPeriod(ctx, macra, c.label, c.due); !errors.As(err, &ie) || ie.Field != c.field || !strings.Contains(ie.Problem, c.says) {
				t.Errorf("OpenPeriod(%.20q, %q) = %v, want %s: …%s…", c.label, c.due, err, c.field, c.says)
			}
		}
		if ps, _ := f.store.Periods(ctx, macra); len(ps) != 0 {
			t.Fatalf("refused periods were saved: %+v", ps)
		}
		if _, err := f.store.OpenPeriod(f.as("p1-admin"), p1, "Q2 2026", "2026-06-30"); !errors.Is(err, adoption.ErrWrongOrg) {
			t.Errorf("provider opens a period: %v", err)
		}
		if _, err := f.store.Roster(ctx, macra, 0, "", 0, 10); !errors.Is(err, adoption.ErrNotFound) {
			t.Errorf("roster without a period: %v", err)
		}

		q2, err := f.store.OpenPeriod(ctx, macra, " Q2 2026 ", "2026-06-30")
		if err != nil {
			t.Fatal(err)
		}
		if q2.Label != "Q2 2026" || q2.OpenedBy != "macra-analyst" {
			t.Errorf("period = %+v", q2)
		}
		// The two regulators of a country share its periods; another
		// country has its own.
		if _, err := f.store.OpenPeriod(f.as("rbm-analyst"), rbm, "Q2 2026", "2026-07-31"); !errors.As(err, new(*adoption.InvalidError)) {
			t.Errorf("same name twice in MW: %v", err)
		}
		f.now = f.now.Add(time.Minute)
		if _, err := f.store.OpenPeriod(f.as("ca-analyst"), ca, "Q2 2026", "2026-07-31"); err != nil {
			t.Fatalf("Kenya opens its own Q2 2026: %v", err)
		}
		if _, err := f.store.Roster(f.as("ca-viewer"), ca, q2.ID, "", 0, 10); !errors.Is(err, adoption.ErrNotFound) {
			t.Errorf("Kenya reads Malawi's period: %v", err)
		}
		if _, _, err := f.store.Remind(f.as("ca-analyst"), ca, q2.ID); !errors.Is(err, adoption.ErrNotFound) {
			t.Errorf("Kenya reminds Malawi's providers: %v", err)
		}

		state := func(reg adoption.Org, id int64) map[string]adoption.PeriodState {
			t.Helper()
			ro, err := f.store.Roster(f.as("macra-viewer"), reg, id, "", 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]adoption.PeriodState{}
			for _, r := range ro.Rows {
				out[r.OrgName] = r.State
			}
			return out
		}
		// Every provider is in the period from the start, submitted or not.
		want := map[string]adoption.PeriodState{"Mpamba Money": adoption.PeriodAwaiting, "Airtel Money MW": adoption.PeriodAwaiting}
		if got := state(rbm, 0); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("roster at opening = %v, want %v", got, want)
		}

		f.publish()
		f.now = f.now.Add(time.Hour)
		if _, err := f.store.Submit(f.as("p1-admin"), p1, "Accurate."); err != nil {
			t.Fatal(err)
		}
		// A reminder reaches the organisations that have not submitted,
		// once a day, and is in their audit log.
		p, rcpt, err := f.store.Remind(ctx, macra, q2.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(rcpt) != 1 || rcpt[0].OrgID != p2.ID || len(rcpt[0].Users) != 3 || p.RemindedAt.IsZero() {
			t.Errorf("reminder recipients = %+v, want p2's three members", rcpt)
		}
		if _, _, err := f.store.Remind(f.as("rbm-analyst"), rbm, q2.ID); !errors.As(err, new(*adoption.InvalidError)) {
			t.Errorf("second reminder the same day: %v", err)
		}
		for org, n := range map[int64]int{p2.ID: 1, p1.ID: 0, macra.ID: 1} {
			es, err := audit.List(ctx, d, audit.Filter{OrgID: org, Action: "period.remind"})
			if err != nil || len(es) != n {
				t.Errorf("org %d: %d period.remind entries (%v), want %d", org, len(es), err, n)
			}
		}

		// After the due date: p2 is missing, then late once it submits.
		f.now = time.Date(2026, 7, 2, 9, 0, 0, 0, time.UTC)
		want = map[string]adoption.PeriodState{"Mpamba Money": adoption.PeriodSubmitted, "Airtel Money MW": adoption.PeriodMissing}
		if got := state(macra, q2.ID); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("roster after the due date = %v, want %v", got, want)
		}
		if _, err := f.store.Submit(f.as("p2-admin"), p2, "Late but accurate."); err != nil {
			t.Fatal(err)
		}
		ro, err := f.store.Roster(ctx, macra, q2.ID, adoption.PeriodLate, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		if ro.Matched != 1 || len(ro.Rows) != 1 || ro.Rows[0].OrgID != p2.ID || ro.Count(adoption.PeriodSubmitted) != 1 || ro.InScope != 2 {
			t.Errorf("late filter = %+v", ro)
		}
		if _, _, err := f.store.Remind(f.as("macra-analyst"), macra, q2.ID); !errors.As(err, new(*adoption.InvalidError)) {
			t.Errorf("reminder when every one submitted: %v", err)
		}

		// A new period closes the last one: its submissions stay in it.
		f.now = f.now.Add(time.Minute)
		q3, err := f.store.OpenPeriod(ctx, macra, "Q3 2026", "2026-09-30")
		if err != nil {
			t.Fatal(err)
		}
		want = map[string]adoption.PeriodState{"Mpamba Money": adoption.PeriodAwaiting, "Airtel Money MW": adoption.PeriodAwaiting}
		if got := state(macra, 0); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("new period's roster = %v, want %v", got, want)
		}
		if got := state(macra, q2.ID); got["Airtel Money MW"] != adoption.PeriodLate {
			t.Errorf("closed period's roster = %v", got)
		}
		ps, _ := f.store.Periods(ctx, rbm)
		if len(ps) != 2 || ps[0].ID != q3.ID || !ps[0].Current() || ps[1].Current() || !ps[1].ClosedAt.Equal(q3.OpenedAt) {
			t.Errorf("periods = %+v", ps)
		}
	})
}

func TestReportingPeriodPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newServer(t, d, nil)
		s.expect(s.get("macra-viewer", s.org("macra", "/sector")), 200, "No reporting period yet")
		s.expect(s.post("macra-viewer", s.org("macra", "/sector/periods"), url.Values{"label": {"Q2 2026"}, "due_date": {"2026-06-30"}}), 403)
		s.expect(s.post("p1-admin", s.org("p1", "/sector/periods"), url.Values{"label": {"Q2 2026"}, "due_date": {"2026-06-30"}}), 404)
		// Refused: the page says why and keeps what was typed.
		long := strings.Repeat("x", 101)
		s.expect(s.post("macra-analyst", s.org("macra", "/sector/periods"), url.Values{"label": {long}, "due_date": {"2026-06-30"}}), 400,
			"the limit is 100", `value="`+long+`"`, `aria-invalid="true"`)
		s.expect(s.post("macra-analyst", s.org("macra", "/sector/periods"), url.Values{"label": {"Q2 2026"}, "due_date": {"soon"}}), 400, "YYYY-MM-DD", `value="Q2 2026"`)

		w := s.post("macra-analyst", s.org("macra", "/sector/periods"), url.Values{"label": {"Q2 2026"}, "due_date": {"2026-06-30"}})
		s.expect(w, 303)
		ps, err := s.store.Periods(s.as("macra-viewer"), s.orgs["macra"])
		if err != nil || len(ps) != 1 {
			t.Fatalf("periods = %v, %v", ps, err)
		}
		id := ps[0].ID
		if loc := w.Header().Get("Location"); loc != s.org("macra", fmt.Sprintf("/sector?period=%d&done=period#roster-title", id)) {
			t.Errorf("redirect to %q", loc)
		}
		// Both providers of MW were told, each with a link to its own page.
		var told []string
		for _, n := range s.notices.sent {
			if strings.Contains(n, "|report|") {
				told = append(told, n)
			}
		}
		if len(told) != 2 || !strings.Contains(strings.Join(told, "\n"), "|"+s.org("p1", "/submissions")) || !strings.Contains(strings.Join(told, "\n"), "|"+s.org("p2", "/submissions")) {
			t.Errorf("notifications = %q", told)
		}
		s.expect(s.get("rbm-viewer", s.org("rbm", "/sector")), 200, "Q2 2026", `id="roster"`, "Mpamba Money", "Airtel Money MW", "Not yet submitted")
		s.expect(s.get("rbm-viewer", s.org("rbm", "/sector?state=awaiting")), 200, "Organisations 1–2 of 2")
		s.expect(s.get("rbm-viewer", s.org("rbm", "/sector?state=late")), 200, "No organisation in this state")
		s.expect(s.get("rbm-viewer", s.org("rbm", "/sector?state=nope")), 400)
		s.expect(s.get("rbm-viewer", s.org("rbm", "/sector?offset=-1")), 400)
		s.expect(s.get("rbm-viewer", s.org("rbm", "/sector?period=99999")), 404)
		// Another country's regulator: the period is not there.
		s.expect(s.get("ca-viewer", s.org("ca", fmt.Sprintf("/sector?period=%d", id))), 404)
		s.expect(s.post("ca-analyst", s.org("ca", fmt.Sprintf("/sector/periods/%d/remind", id)), nil), 404)
		s.expect(s.post("p1-admin", s.org("p1", fmt.Sprintf("/sector/periods/%d/remind", id)), nil), 404)
		s.expect(s.post("rbm-viewer", s.org("rbm", fmt.Sprintf("/sector/periods/%d/remind", id)), nil), 403)

		before := len(s.notices.sent)
		s.expect(s.post("rbm-analyst", s.org("rbm", fmt.Sprintf("/sector/periods/%d/remind", id)), nil), 303)
		if len(s.notices.sent) != before+2 || !strings.Contains(s.notices.sent[before], "Reminder from Reserve Bank of Malawi") {
			t.Errorf("reminders = %q", s.notices.sent[before:])
		}
		s.expect(s.post("macra-analyst", s.org("macra", fmt.Sprintf("/sector/periods/%d/remind", id)), nil), 400, "the next one can go 24 hours after it")
	})
}
