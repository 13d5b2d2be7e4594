package adoption_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/adoption"
	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity"
)

// thirdProvider adds a third DFS provider to Malawi, so that aggregates
// over providers reach the threshold.
func thirdProvider(t *testing.T, f *fixture) adoption.Org {
	t.Helper()
	o, err := f.ids.CreateOrg(context.Background(), identity.NewOrg{Name: "Zed Pay", Type: identity.OrgDFSProvider, Country: "MW"})
	must(t, err)
	return adoption.Org{ID: o.ID, Name: o.Name, Type: o.Type, Country: o.Country, Licensee: o.Licensee}
}

// TestPublicSummary: the summary exists only while published; its
// aggregates name no provider and leave out any figure over fewer than
// three organisations.
func TestPublicSummary(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		macra, rbm := f.orgs["macra"], f.orgs["rbm"]
		var ie *adoption.InvalidError
		if err := f.store.SetPublicSummary(f.as("macra-admin"), macra, true); !errors.As(err, &ie) || ie.Field != "on" {
			t.Fatalf("publishing a summary without a baseline: %v", err)
		}
		f.publish()
		if _, err := f.store.PublicSummary(ctx, "MW"); !errors.Is(err, adoption.ErrNotFound) {
			t.Fatalf("summary before publication: %v", err)
		}
		if err := f.store.SetPublicSummary(f.as("p1-admin"), f.orgs["p1"], true); !errors.Is(err, adoption.ErrWrongOrg) {
			t.Fatalf("a provider publishes the summary: %v", err)
		}
		must(t, f.store.SetPublicSummary(f.as("macra-admin"), macra, true))
		_, err := f.store.OpenPeriod(f.as("macra-analyst"), macra, "Q2 2026", "2026-06-30")
		must(t, err)

		steps := []struct {
			name      string
			submit    func()
			reporting int // 0: hidden
			dfsShown  bool
			submitted int // of the period; -1 hidden
		}{
			{"two providers reported", func() {
				_, err := f.store.Submit(f.as("p1-admin"), f.orgs["p1"], "We confirm.")
				must(t, err)
				_, err = f.store.Submit(f.as("p2-admin"), f.orgs["p2"], "We confirm.")
				must(t, err)
			}, 0, false, -1},
			{"a third provider reported", func() {
				z := thirdProvider(t, f)
				_, err := f.store.Submit(f.as("p1-admin"), z, "We confirm.")
				must(t, err)
			}, 3, false, 3},
		}
		for _, st := range steps {
			st.submit()
			ps, err := f.store.PublicSummary(ctx, "MW")
			must(t, err)
			if got := ps.Reporting.Orgs; got != st.reporting || ps.Reporting.Hidden != (st.reporting == 0) {
				t.Errorf("%s: reporting %+v, want %d", st.name, ps.Reporting, st.reporting)
			}
			if st.reporting == 0 && (ps.Reporting.Share != 0 || ps.Overdue != 0) {
				t.Errorf("%s: hidden figures leak: %+v, overdue %d", st.name, ps.Reporting, ps.Overdue)
			}
			for _, a := range ps.ByType {
				// Two DFS providers and one operator: both below three.
				if !a.Hidden || a.Orgs != 0 || a.Share != 0 {
					t.Errorf("%s: type aggregate shown over fewer than 3: %+v", st.name, a)
				}
			}
			for _, a := range ps.ByLayer {
				if a.Hidden == (a.Orgs >= adoption.MinAggregate) {
					t.Errorf("%s: layer aggregate %+v", st.name, a)
				}
			}
			if st.submitted < 0 && (!ps.PeriodHid || ps.Submitted != 0) || st.submitted >= 0 && ps.Submitted != st.submitted {
				t.Errorf("%s: period %d of %d (hidden %v), want %d", st.name, ps.Submitted, ps.InScope, ps.PeriodHid, st.submitted)
			}
			if len(ps.Rows) != ps.Version.Applicable() {
				t.Errorf("%s: %d items, want the %d that apply", st.name, len(ps.Rows), ps.Version.Applicable())
			}
		}
		// Withdrawn by the other regulator: gone.
		must(t, f.store.SetPublicSummary(f.as("rbm-admin"), rbm, false))
		if _, err := f.store.PublicSummary(ctx, "MW"); !errors.Is(err, adoption.ErrNotFound) {
			t.Fatalf("summary after withdrawal: %v", err)
		}
		es, err := audit.List(ctx, d, audit.Filter{OrgID: macra.ID, Action: "baseline.public.set"})
		must(t, err)
		if len(es) != 2 {
			t.Errorf("MACRA's log has %d public summary entries, want its own and the Reserve Bank's", len(es))
		}
	})
}

// TestPublicPages: readable without signing in once published, with no
// provider named, hostile text escaped, cache headers for anonymous
// readers, withdrawal effective at once, and a per-address budget.
func TestPublicPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newServer(t, d, nil)
		f := s.fixture
		rec := f.cat.Recommendations[0].ID
		s.expect(s.get("", "/public/baselines/MW"), 404)
		s.expect(s.post("macra-admin", s.org("macra", "/baseline/public"), url.Values{"on": {"maybe"}}), 400, "field &#34;on&#34;")
		f.publish()
		must(t, f.store.SetDraft(f.as("macra-analyst"), f.orgs["macra"], adoption.BaselineItem{RecID: rec, Decision: adoption.Adapted, LocalText: "<script>x()</script> local"}))
		_, err := f.store.Publish(f.as("macra-admin"), f.orgs["macra"], "")
		must(t, err)
		for _, org := range []adoption.Org{f.orgs["p1"], f.orgs["p2"], thirdProvider(t, f)} {
			_, err := f.store.Submit(f.as("p1-admin"), org, "We confirm.")
			must(t, err)
		}
		s.expect(s.post("macra-analyst", s.org("macra", "/baseline/public"), url.Values{"on": {"1"}}), 403)
		s.expect(s.post("p1-admin", s.org("p1", "/baseline/public"), url.Values{"on": {"1"}}), 404)
		s.expect(s.post("macra-admin", s.org("macra", "/baseline/public"), url.Values{"on": {"1"}}), 303)
		s.expect(s.get("macra-viewer", s.org("macra", "/baseline/settings")), 200, "Published", `href="/public/baselines/MW"`)
		s.expect(s.get("", "/public/baselines"), 200, `href="/public/baselines/MW"`)
		w := s.get("", "/public/baselines/MW")
		s.expect(w, 200, "National DFS security baseline · MW v2", "organisations reporting", "&lt;script&gt;x()&lt;/script&gt; local", `rel="next"`)
		body := w.Body.String()
		// Two DFS providers and one operator: no row per licensee type.
		for _, row := range []string{"DFS provider / e-money issuer</th>", "Mobile network operator</th>"} {
			if strings.Contains(body, row) {
				t.Errorf("the public page has a row %q over fewer than 3 organisations", row)
			}
		}
		for _, name := range []string{"Mpamba", "Airtel", "Zed Pay", "<script>x()"} {
			if strings.Contains(body, name) {
				t.Errorf("the public page contains %q", name)
			}
		}
		if cc := w.Header().Get("Cache-Control"); cc != "public, max-age=60" {
			t.Errorf("anonymous Cache-Control %q", cc)
		}
		if w.Header().Get("Content-Security-Policy") == "" || w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Error("security headers missing on the public page")
		}
		if cc := s.get("p1-viewer", "/public/baselines/MW").Header().Get("Cache-Control"); cc != "private, no-store" {
			t.Errorf("signed-in Cache-Control %q", cc)
		}
		s.expect(s.get("", "/public/baselines/MW?offset=50"), 200, `rel="prev"`)
		// A new version shows at once, though the summary was cached.
		must(t, f.store.SetDraft(f.as("macra-analyst"), f.orgs["macra"], adoption.BaselineItem{RecID: rec, Decision: adoption.Adopted}))
		s.expect(s.post("macra-admin", s.org("macra", "/baseline/publish"), nil), 303)
		s.expect(s.get("", "/public/baselines/MW"), 200, "National DFS security baseline · MW v3")
		for _, bad := range []string{"/public/baselines/mw", "/public/baselines/MWI", "/public/baselines/KE"} {
			s.expect(s.get("", bad), 404)
		}
		s.expect(s.get("", "/public/baselines/MW?offset=-1"), 400)
		// Withdrawn: gone at once, cache or not.
		s.expect(s.post("rbm-admin", s.org("rbm", "/baseline/public"), url.Values{"on": {"0"}}), 303)
		s.expect(s.get("", "/public/baselines/MW"), 404)
		// One address gets 60 public pages a minute (the clock stands
		// still here); the ones above used 14.
		status := 0
		for i := 0; i < 60 && status != 429; i++ {
			status = s.get("", "/public/baselines").Code
		}
		if status != 429 {
			t.Fatalf("no budget per address: last status %d", status)
		}
	})
}
