package adoption_test

import (
	"context"
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

func TestOnlyTheRegulatorVerifies(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newServer(t, d, nil)
		f := s.fixture
		f.publish()
		p1, rbm := f.orgs["p1"], f.orgs["rbm"]
		tr, err := f.store.Items(context.Background(), p1)
		must(t, err)
		done, open := tr.Items[0].RecID, tr.Items[1].RecID

		// The provider may not verify its own item; the form does not
		// offer it.
		var ie *adoption.InvalidError
		if _, err := f.store.Update(f.as("p1-analyst"), p1, done, adoption.Update{Status: adoption.Verified}); !errors.As(err, &ie) || ie.Field != "status" {
			t.Fatalf("provider sets verified: %v", err)
		}
		s.expect(s.post("p1-analyst", s.org("p1", "/tracking/"+done), url.Values{"status": {"verified"}, "version": {"0"}}), 400, "Only your regulator marks an item verified")
		if w := s.get("p1-analyst", s.org("p1", "/tracking/"+done)); strings.Contains(w.Body.String(), `value="verified"`) {
			t.Errorf("the item form offers verified to the provider")
		}
		_, err = f.store.Update(f.as("p1-analyst"), p1, done, adoption.Update{Status: adoption.Implemented})
		must(t, err)
		sub, err := f.store.Submit(f.as("p1-admin"), p1, "Accurate.")
		must(t, err)

		path := s.org("rbm", fmt.Sprintf("/sector/submissions/%d/verify", sub.ID))
		s.expect(s.get("rbm-analyst", s.org("rbm", fmt.Sprintf("/sector/submissions/%d", sub.ID))), 200, `id="verify-`+done+`"`)
		// Refusals: an item not reported as implemented, another
		// country's regulator, the provider itself, a viewer, an unknown
		// item.
		s.expect(s.post("rbm-analyst", path, url.Values{"rec_id": {open}}), 400, "only an item reported as Implemented can be verified")
		s.expect(s.post("ca-analyst", s.org("ca", fmt.Sprintf("/sector/submissions/%d/verify", sub.ID)), url.Values{"rec_id": {done}}), 404)
		s.expect(s.post("p1-admin", s.org("p1", fmt.Sprintf("/sector/submissions/%d/verify", sub.ID)), url.Values{"rec_id": {done}}), 404)
		s.expect(s.post("rbm-viewer", path, url.Values{"rec_id": {done}}), 403)
		s.expect(s.post("rbm-analyst", path, url.Values{"rec_id": {"NOPE-001"}}), 404)

		s.expect(s.post("rbm-analyst", path, url.Values{"rec_id": {done}}), 303)
		if it, _ := f.store.Item(context.Background(), p1, done); it.Status != adoption.Verified || it.UpdatedBy != "rbm-analyst" {
			t.Errorf("after verification: %+v", it)
		}
		// Audited as the regulator's act, listed under the provider too.
		for _, org := range []int64{rbm.ID, p1.ID} {
			es, err := audit.List(context.Background(), d, audit.Filter{OrgID: org, Action: "tracking.verify"})
			if err != nil || len(es) != 1 {
				t.Errorf("org %d: %d tracking.verify entries, %v", org, len(es), err)
			}
		}
		// Verified once: the item is no longer implemented as reported.
		s.expect(s.post("macra-analyst", s.org("macra", fmt.Sprintf("/sector/submissions/%d/verify", sub.ID)), url.Values{"rec_id": {done}}), 400, "has changed since this report")
		// The provider keeps "verified" while editing the rest, and may
		// move the item back, but not verify it again.
		it, _ := f.store.Item(context.Background(), p1, done)
		it, err = f.store.Update(f.as("p1-analyst"), p1, done, adoption.Update{Status: adoption.Verified, TargetDate: "2026-05-01", Version: it.Version})
		must(t, err)
		it, err = f.store.Update(f.as("p1-analyst"), p1, done, adoption.Update{Status: adoption.InProgress, Version: it.Version})
		must(t, err)
		if _, err := f.store.Update(f.as("p1-analyst"), p1, done, adoption.Update{Status: adoption.Verified, Version: it.Version}); !errors.As(err, &ie) {
			t.Errorf("provider re-verifies: %v", err)
		}
	})
}

func TestSupervisoryReview(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newServer(t, d, nil)
		f := s.fixture
		f.publish()
		p1, rbm := f.orgs["p1"], f.orgs["rbm"]
		tr, err := f.store.Items(context.Background(), p1)
		must(t, err)
		rec := tr.Items[0].RecID
		sub, err := f.store.Submit(f.as("p1-admin"), p1, "First report.")
		must(t, err)
		path := s.org("rbm", fmt.Sprintf("/sector/submissions/%d/review", sub.ID))

		// Refused reviews say why, keep what was typed and save nothing.
		long := strings.Repeat("y", 2001)
		for _, c := range []struct {
			form url.Values
			says string
		}{
			{url.Values{"summary": {"Fine."}}, "Choose whether to accept"},
			{url.Values{"outcome": {"returned"}}, "Say what the provider must fix"},
			{url.Values{"outcome": {"returned"}, "finding_" + rec: {long}}, "the limit is 2000"},
			{url.Values{"outcome": {"returned"}, "summary": {strings.Repeat("z", 4001)}}, "the limit is 4000"},
		} {
			w := s.post("rbm-analyst", path, c.form)
			s.expect(w, 400, c.says)
			for _, v := range c.form {
				if len(v[0]) > 100 && !strings.Contains(w.Body.String(), v[0]) {
					t.Errorf("%s: the typed text was not kept", c.says)
				}
			}
		}
		if got, _ := f.store.Submission(context.Background(), p1, sub.ID); got.Review.Outcome != "" {
			t.Fatalf("a refused review was saved: %+v", got.Review)
		}
		if _, err := f.store.ReviewSubmission(f.as("rbm-analyst"), rbm, sub.ID, adoption.ReviewInput{Outcome: adoption.Returned,
			Findings: map[string]string{"NOPE-001": "x"}}); !errors.As(err, new(*adoption.InvalidError)) {
			t.Errorf("finding on an item not in the report: %v", err)
		}
		// Other organisations and countries, and viewers, cannot review.
		s.expect(s.post("ca-analyst", s.org("ca", fmt.Sprintf("/sector/submissions/%d/review", sub.ID)), url.Values{"outcome": {"accepted"}}), 404)
		s.expect(s.post("p1-admin", s.org("p1", fmt.Sprintf("/sector/submissions/%d/review", sub.ID)), url.Values{"outcome": {"accepted"}}), 404)
		s.expect(s.post("p2-admin", s.org("p2", fmt.Sprintf("/sector/submissions/%d/review", sub.ID)), url.Values{"outcome": {"accepted"}}), 404)
		s.expect(s.post("rbm-viewer", path, url.Values{"outcome": {"accepted"}}), 403)

		before := len(s.notices.sent)
		s.expect(s.post("rbm-analyst", path, url.Values{"outcome": {"returned"}, "summary": {"Two gaps."}, "finding_" + rec: {"No evidence of the test."}}), 303)
		if len(s.notices.sent) != before+1 || !strings.HasSuffix(s.notices.sent[before], fmt.Sprintf("|/orgs/%d/submissions/%d", p1.ID, sub.ID)) {
			t.Errorf("review notifications = %q", s.notices.sent[before:])
		}
		// The provider sees the outcome and the finding on its report.
		s.expect(s.get("p1-viewer", s.org("p1", fmt.Sprintf("/submissions/%d", sub.ID))), 200, "Returned with findings", "No evidence of the test.", "Two gaps.", "submit a new report")
		s.expect(s.post("macra-analyst", s.org("macra", fmt.Sprintf("/sector/submissions/%d/review", sub.ID)), url.Values{"outcome": {"accepted"}}), 400, "already reviewed")
		for _, org := range []int64{rbm.ID, p1.ID} {
			es, err := audit.List(context.Background(), d, audit.Filter{OrgID: org, Action: "submission.return"})
			if err != nil || len(es) != 1 {
				t.Errorf("org %d: %d submission.return entries, %v", org, len(es), err)
			}
		}

		// The provider fixes and resubmits; the regulator accepts.
		f.now = f.now.Add(time.Hour)
		next, err := f.store.Submit(f.as("p1-admin"), p1, "Fixed.")
		must(t, err)
		s.expect(s.post("macra-analyst", s.org("macra", fmt.Sprintf("/sector/submissions/%d/review", next.ID)), url.Values{"outcome": {"accepted"}}), 303)
		s.expect(s.get("p1-viewer", s.org("p1", fmt.Sprintf("/submissions/%d", next.ID))), 200, "Accepted")
		s.expect(s.get("p1-viewer", s.org("p1", "/submissions")), 200, "Returned with findings", "Accepted")
	})
}

func TestEnforcementNotes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newServer(t, d, nil)
		f := s.fixture
		p1, k1 := f.orgs["p1"], f.orgs["k1"]
		page := s.org("macra", fmt.Sprintf("/sector/providers/%d", p1.ID))
		s.expect(s.get("macra-viewer", page), 200, "Mpamba Money", "No report submitted yet", "No note yet")
		s.expect(s.post("macra-viewer", page+"/notes", url.Values{"body": {"x"}}), 403)
		long := strings.Repeat("n", 4001)
		s.expect(s.post("macra-analyst", page+"/notes", url.Values{"body": {long}}), 400, "the limit is 4000", long)
		s.expect(s.post("macra-analyst", page+"/notes", url.Values{"body": {"  "}}), 400, "Write the note")
		s.expect(s.post("macra-analyst", page+"/notes", url.Values{"body": {"Warning letter sent about SIM-swap checks."}}), 303)
		s.expect(s.get("macra-viewer", page), 200, "Warning letter sent", "macra-analyst")

		// Nobody else reads it: the other regulator of the country, another
		// country's regulator, the provider itself; a regulator has no page
		// for a provider of another country, nor for a regulator.
		if w := s.get("rbm-viewer", s.org("rbm", fmt.Sprintf("/sector/providers/%d", p1.ID))); w.Code != 200 || strings.Contains(w.Body.String(), "Warning letter") {
			t.Errorf("the other regulator of MW: %d, note shown: %v", w.Code, strings.Contains(w.Body.String(), "Warning letter"))
		}
		s.expect(s.get("ca-viewer", s.org("ca", fmt.Sprintf("/sector/providers/%d", p1.ID))), 404)
		s.expect(s.post("ca-analyst", s.org("ca", fmt.Sprintf("/sector/providers/%d/notes", p1.ID)), url.Values{"body": {"x"}}), 404)
		s.expect(s.get("p1-admin", s.org("p1", fmt.Sprintf("/sector/providers/%d", p1.ID))), 404)
		s.expect(s.post("p1-admin", s.org("p1", fmt.Sprintf("/sector/providers/%d/notes", p1.ID)), url.Values{"body": {"x"}}), 404)
		s.expect(s.get("macra-viewer", s.org("macra", fmt.Sprintf("/sector/providers/%d", k1.ID))), 404)
		s.expect(s.get("macra-viewer", s.org("macra", fmt.Sprintf("/sector/providers/%d", f.orgs["rbm"].ID))), 404)
		s.expect(s.get("macra-viewer", page+"?offset=-1"), 400)
		// Audited under the regulator only: the provider's audit log does
		// not reveal that a note exists.
		for org, n := range map[int64]int{f.orgs["macra"].ID: 1, p1.ID: 0} {
			es, err := audit.List(context.Background(), d, audit.Filter{OrgID: org, Action: "enforcement_note.create"})
			if err != nil || len(es) != n {
				t.Errorf("org %d: %d enforcement_note.create entries, %v; want %d", org, len(es), err, n)
			}
		}
		// Paged at volume.
		for i := range 55 {
			if _, err := f.store.AddNote(f.as("macra-analyst"), f.orgs["macra"], p1.ID, fmt.Sprintf("Note %d.", i)); err != nil {
				t.Fatal(err)
			}
		}
		s.expect(s.get("macra-viewer", page), 200, `rel="next"`)
		s.expect(s.get("macra-viewer", page+"?offset=50"), 200, `rel="prev"`, "Warning letter sent")
	})
}

func TestWaivers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newServer(t, d, nil)
		f := s.fixture
		f.publish()
		p1, macra := f.orgs["p1"], f.orgs["macra"]
		tr, err := f.store.Items(context.Background(), p1)
		must(t, err)
		rec := tr.Items[0].RecID
		_, err = f.store.Update(f.as("p1-analyst"), p1, rec, adoption.Update{Status: adoption.InProgress, TargetDate: "2026-06-15"})
		must(t, err)
		f.now = time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)
		if it, _ := f.store.Item(context.Background(), p1, rec); !it.Overdue {
			t.Fatalf("item not overdue before the waiver: %+v", it)
		}
		base := s.org("macra", fmt.Sprintf("/sector/providers/%d/waivers", p1.ID))
		for _, c := range []struct {
			form url.Values
			says string
		}{
			{url.Values{"rec_id": {"NOPE-001"}, "reason": {"r"}, "expires": {"2026-12-31"}}, "Choose an item of baseline v1"},
			{url.Values{"rec_id": {rec}, "reason": {" "}, "expires": {"2026-12-31"}}, "Give the reason"},
			{url.Values{"rec_id": {rec}, "reason": {strings.Repeat("r", 2001)}, "expires": {"2026-12-31"}}, "the limit is 2000"},
			{url.Values{"rec_id": {rec}, "reason": {"Vendor delay."}, "expires": {"2026-06-30"}}, "has passed"},
			{url.Values{"rec_id": {rec}, "reason": {"Vendor delay."}, "expires": {"2030-01-01"}}, "at most 3 years"},
		} {
			s.expect(s.post("macra-analyst", base, c.form), 400, c.says)
		}
		if ws, _ := f.store.Waivers(context.Background(), macra, p1.ID); len(ws) != 0 {
			t.Fatalf("refused waivers saved: %+v", ws)
		}
		// Cross-organisation and other-country refusals.
		s.expect(s.post("ca-analyst", s.org("ca", fmt.Sprintf("/sector/providers/%d/waivers", p1.ID)), url.Values{"rec_id": {rec}, "reason": {"x"}, "expires": {"2026-12-31"}}), 404)
		s.expect(s.post("p1-admin", s.org("p1", fmt.Sprintf("/sector/providers/%d/waivers", p1.ID)), url.Values{"rec_id": {rec}, "reason": {"x"}, "expires": {"2026-12-31"}}), 404)
		s.expect(s.post("macra-viewer", base, url.Values{"rec_id": {rec}, "reason": {"x"}, "expires": {"2026-12-31"}}), 403)

		s.expect(s.post("macra-analyst", base, url.Values{"rec_id": {rec}, "reason": {"Vendor delay."}, "expires": {"2026-12-31"}}), 303)
		s.expect(s.post("rbm-analyst", s.org("rbm", fmt.Sprintf("/sector/providers/%d/waivers", p1.ID)), url.Values{"rec_id": {rec}, "reason": {"Again."}, "expires": {"2026-11-30"}}), 400, "already waived until 2026-12-31")
		if it, _ := f.store.Item(context.Background(), p1, rec); it.Overdue || it.WaivedUntil != "2026-12-31" {
			t.Errorf("waived item: %+v", it)
		}
		s.expect(s.get("p1-viewer", s.org("p1", "/tracking/"+rec)), 200, "Waived until 2026-12-31", "Vendor delay.")
		sub, err := f.store.Submit(f.as("p1-admin"), p1, "With the waiver.")
		must(t, err)
		if got, _ := f.store.Submission(context.Background(), p1, sub.ID); got.Overdue != 0 || got.Items[0].WaivedUntil != "2026-12-31" {
			t.Errorf("report with a waiver: overdue %d, item %+v", got.Overdue, got.Items[0])
		}
		for _, org := range []int64{macra.ID, p1.ID} {
			es, err := audit.List(context.Background(), d, audit.Filter{OrgID: org, Action: "waiver.grant"})
			if err != nil || len(es) != 1 {
				t.Errorf("org %d: %d waiver.grant entries, %v", org, len(es), err)
			}
		}

		ws, _ := f.store.Waivers(context.Background(), macra, p1.ID)
		revoke := s.org("macra", fmt.Sprintf("/sector/waivers/%d/revoke", ws[0].ID))
		s.expect(s.post("ca-analyst", s.org("ca", fmt.Sprintf("/sector/waivers/%d/revoke", ws[0].ID)), nil), 404)
		s.expect(s.post("p1-admin", s.org("p1", fmt.Sprintf("/sector/waivers/%d/revoke", ws[0].ID)), nil), 404)
		s.expect(s.post("macra-viewer", revoke, nil), 403)
		s.expect(s.post("macra-analyst", revoke, nil), 303)
		s.expect(s.post("macra-analyst", revoke, nil), 400, "no longer runs")
		if it, _ := f.store.Item(context.Background(), p1, rec); !it.Overdue || it.WaivedUntil != "" {
			t.Errorf("item after the revocation: %+v", it)
		}
		s.expect(s.get("macra-viewer", s.org("macra", fmt.Sprintf("/sector/providers/%d", p1.ID))), 200, "Revoked by macra-analyst")
		// A waiver that expired no longer applies.
		_, err = f.store.GrantWaiver(f.as("macra-analyst"), macra, p1.ID, rec, "Short.", "2026-07-05")
		must(t, err)
		f.now = time.Date(2026, 7, 6, 9, 0, 0, 0, time.UTC)
		if it, _ := f.store.Item(context.Background(), p1, rec); !it.Overdue {
			t.Errorf("item after its waiver expired: %+v", it)
		}
	})
}
