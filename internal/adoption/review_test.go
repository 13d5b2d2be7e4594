package adoption_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

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
