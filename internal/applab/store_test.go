package applab_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/applab"
	"github.com/dfslab/dfslab/internal/appscan"
	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
)

func ruleIDs(fs []appscan.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.RuleID)
	}
	slices.Sort(out)
	return out
}

// TestScanLifecycle: upload, claim, complete; the app and version come
// from the manifest; the same file twice is one blob and two scans.
func TestScanLifecycle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		app := build(t, "org.test.pay", 1, true, false)
		s1 := f.upload("p1-analyst", "p1", "p1", app)
		s2 := f.upload("p1-analyst", "p1", "p1", app)
		if s1.SHA256 != s2.SHA256 || f.count("blobs") != 1 || f.count("applab_scans") != 2 {
			t.Fatalf("same file twice: blobs %d, scans %d", f.count("blobs"), f.count("applab_scans"))
		}
		if s1.State != applab.Queued {
			t.Fatalf("new scan state %q", s1.State)
		}
		f.drain()
		got, err := f.store.ScanFor(ctx, f.orgs["p1"].ID, s1.ID)
		must(t, err)
		if got.State != applab.Done || got.VersionID == 0 || got.Counts.High != 1 || got.Attempts != 1 {
			t.Fatalf("scan after run: %+v", got)
		}
		apps, err := f.store.Apps(ctx, f.orgs["p1"].ID)
		must(t, err)
		if len(apps) != 1 || apps[0].Package != "org.test.pay" || apps[0].Versions != 1 {
			t.Fatalf("apps = %+v", apps)
		}
		// Another provider sees neither the scan nor the app.
		if _, err := f.store.ScanFor(ctx, f.orgs["p2"].ID, s1.ID); !errors.Is(err, applab.ErrNotFound) {
			t.Errorf("p2 reads p1's scan: %v", err)
		}
		if _, err := f.store.AppFor(ctx, f.orgs["p2"].ID, apps[0].ID); !errors.Is(err, applab.ErrNotFound) {
			t.Errorf("p2 reads p1's app: %v", err)
		}
		// Completing again (a retried job) changes nothing.
		res, err := f.store.Result(ctx, s1.ID)
		must(t, err)
		again, err := f.store.Complete(ctx, s1.ID, &appscan.Result{App: appscan.AppInfo{Package: "other"}})
		must(t, err)
		if again.VersionID != got.VersionID {
			t.Errorf("second completion moved the scan to version %d", again.VersionID)
		}
		if res2, _ := f.store.Result(ctx, s1.ID); res2.App.Package != res.App.Package {
			t.Errorf("second completion replaced the result")
		}
		// Audited.
		es, err := audit.List(ctx, d, audit.Filter{})
		must(t, err)
		var actions []string
		for _, e := range es {
			actions = append(actions, e.Action)
		}
		if !slices.Contains(actions, "applab.upload") || !slices.Contains(actions, "applab.scan.done") {
			t.Errorf("audit actions %q", actions)
		}
	})
}

// TestClaim: a scan is held by one worker at a time, a dead worker's scan
// is taken over once its heartbeat is stale, and a scan is given up after
// the maximum attempts.
func TestClaim(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		sc := f.upload("p1-analyst", "p1", "p1", build(t, "org.test.pay", 1, false, false))
		c1, err := f.store.Claim(ctx, time.Minute, 3)
		must(t, err)
		if c1.ID != sc.ID || c1.State != applab.Running || c1.Attempts != 1 {
			t.Fatalf("claim = %+v", c1)
		}
		if _, err := f.store.Claim(ctx, time.Minute, 3); !errors.Is(err, applab.ErrNoWork) {
			t.Fatalf("second claim of a held scan: %v", err)
		}
		// The worker dies: after the stale period the scan is claimed again.
		f.now = f.now.Add(2 * time.Minute)
		c2, err := f.store.Claim(ctx, time.Minute, 3)
		must(t, err)
		if c2.ID != sc.ID || c2.Attempts != 2 {
			t.Fatalf("reclaim = %+v", c2)
		}
		f.now = f.now.Add(2 * time.Minute)
		if _, err := f.store.Claim(ctx, time.Minute, 3); err != nil {
			t.Fatal(err)
		}
		f.now = f.now.Add(2 * time.Minute)
		if _, err := f.store.Claim(ctx, time.Minute, 3); !errors.Is(err, applab.ErrNoWork) {
			t.Fatalf("claim after the last attempt: %v", err)
		}
		got, err := f.store.ScanByID(ctx, sc.ID)
		must(t, err)
		if got.State != applab.Failed || got.Reason == "" {
			t.Fatalf("scan after 3 dead attempts: %+v", got)
		}
	})
}

// TestTriageCarriesOver: a decision on a finding of version 1 applies to
// the same finding in version 2; an accepted risk opens again after its
// expiry; the diff tells new, fixed and unchanged findings apart.
func TestTriageCarriesOver(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		p1 := f.orgs["p1"]
		f.upload("p1-analyst", "p1", "p1", build(t, "org.test.pay", 1, true, true))
		f.drain()
		apps, err := f.store.Apps(ctx, p1.ID)
		must(t, err)
		vs, err := f.store.Versions(ctx, apps[0].ID)
		must(t, err)
		v1, _, err := f.store.VersionFor(ctx, p1, vs[0].ID)
		must(t, err)
		r1, err := f.store.Result(ctx, v1.ScanID)
		must(t, err)
		var clear, debug appscan.Finding
		for _, fd := range r1.Findings {
			switch fd.RuleID {
			case "DFS-MAN-004":
				clear = fd
			case "DFS-MAN-001":
				debug = fd
			}
		}
		if clear.Fingerprint == "" || debug.Fingerprint == "" {
			t.Fatalf("findings of v1: %q", ruleIDs(r1.Findings))
		}
		// Validation.
		err = f.store.SetTriage(f.as("p1-analyst"), v1, f.users["p1-analyst"], applab.Triage{Fingerprint: clear.Fingerprint, Decision: applab.AcceptedRisk, Reason: "Test server only"})
		if !errors.Is(err, applab.ErrInvalid) {
			t.Fatalf("accepted risk without expiry: %v", err)
		}
		err = f.store.SetTriage(f.as("p1-analyst"), v1, f.users["p1-analyst"], applab.Triage{Fingerprint: "nope", Decision: applab.Fixed})
		if !errors.Is(err, applab.ErrNotFound) {
			t.Fatalf("unknown fingerprint: %v", err)
		}
		must(t, f.store.SetTriage(f.as("p1-analyst"), v1, f.users["p1-analyst"],
			applab.Triage{Fingerprint: clear.Fingerprint, Decision: applab.AcceptedRisk, Reason: "Test server only", Expires: "2026-07-01"}))

		// Version 2 fixes the debuggable build.
		f.upload("p1-analyst", "p1", "p1", build(t, "org.test.pay", 2, false, true))
		f.drain()
		vs, err = f.store.Versions(ctx, apps[0].ID)
		must(t, err)
		if len(vs) != 2 || vs[1].VersionCode != 2 {
			t.Fatalf("versions = %+v", vs)
		}
		v2 := vs[1]
		prev, err := f.store.Previous(ctx, v2)
		must(t, err)
		if prev.ID != v1.ID {
			t.Fatalf("previous of v2 = %d, want %d", prev.ID, v1.ID)
		}
		r2, err := f.store.Result(ctx, v2.ScanID)
		must(t, err)
		added, fixed, same := applab.Diff(r1.Findings, r2.Findings)
		if len(added) != 0 || !slices.Equal(ruleIDs(fixed), []string{"DFS-MAN-001"}) || !slices.Equal(ruleIDs(same), []string{"DFS-MAN-004"}) {
			t.Fatalf("diff: new %q fixed %q unchanged %q", ruleIDs(added), ruleIDs(fixed), ruleIDs(same))
		}
		tri, err := f.store.TriageOf(ctx, v2.AppID)
		must(t, err)
		if got := tri[clear.Fingerprint]; got.Effective("2026-06-02") != applab.AcceptedRisk || got.DecidedName != "p1-analyst" {
			t.Fatalf("decision on v2: %+v", got)
		}
		if got := tri[clear.Fingerprint].Effective("2026-07-02"); got != applab.Open {
			t.Errorf("expired acceptance is %q, want open", got)
		}
		// Clearing the decision.
		must(t, f.store.SetTriage(f.as("p1-analyst"), v2, 0, applab.Triage{Fingerprint: clear.Fingerprint, Decision: applab.Open}))
		tri, _ = f.store.TriageOf(ctx, v2.AppID)
		if len(tri) != 0 {
			t.Errorf("cleared decision still there: %+v", tri)
		}
		n := 0
		es, _ := audit.List(ctx, d, audit.Filter{})
		for _, e := range es {
			if e.Action == "applab.triage" {
				n++
			}
		}
		if n != 2 {
			t.Errorf("%d triage audit entries, want 2", n)
		}
	})
}

// TestRegulatorAccess: a regulator sees a provider's version only once
// shared or when it uploaded it itself; other providers and other
// countries' regulators never; the market view lists what it may see.
func TestRegulatorAccess(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		f.upload("p1-analyst", "p1", "p1", build(t, "org.test.pay", 1, true, false))
		f.drain()
		apps, _ := f.store.Apps(ctx, f.orgs["p1"].ID)
		vs, _ := f.store.Versions(ctx, apps[0].ID)
		v := vs[0]
		for _, who := range []string{"macra", "p2", "ca", "k1"} {
			if _, _, err := f.store.VersionFor(ctx, f.orgs[who], v.ID); !errors.Is(err, applab.ErrNotFound) {
				t.Errorf("%s sees an unshared version: %v", who, err)
			}
		}
		if rows, _ := f.store.Market(ctx, f.orgs["macra"]); len(rows) != 0 {
			t.Errorf("market before sharing: %+v", rows)
		}
		// Only regulators of the provider's country.
		if err := f.store.Share(f.as("p1-admin"), v, f.orgs["p1"], f.orgs["ca"].ID, f.users["p1-admin"]); !errors.Is(err, applab.ErrInvalid) {
			t.Errorf("share with a foreign regulator: %v", err)
		}
		if err := f.store.Share(f.as("p1-admin"), v, f.orgs["p1"], f.orgs["p2"].ID, f.users["p1-admin"]); !errors.Is(err, applab.ErrInvalid) {
			t.Errorf("share with a provider: %v", err)
		}
		must(t, f.store.Share(f.as("p1-admin"), v, f.orgs["p1"], f.orgs["macra"].ID, f.users["p1-admin"]))
		if _, acc, err := f.store.VersionFor(ctx, f.orgs["macra"], v.ID); err != nil || acc != applab.Regulator {
			t.Errorf("macra after sharing: %v %v", acc, err)
		}
		for _, who := range []string{"rbm", "p2", "ca"} {
			if _, _, err := f.store.VersionFor(ctx, f.orgs[who], v.ID); !errors.Is(err, applab.ErrNotFound) {
				t.Errorf("%s sees a version shared with macra: %v", who, err)
			}
		}
		rows, err := f.store.Market(ctx, f.orgs["macra"])
		must(t, err)
		if len(rows) != 1 || rows[0].Provider.ID != f.orgs["p1"].ID || rows[0].OpenHigh != 1 || !rows[0].Shared {
			t.Fatalf("market = %+v", rows)
		}

		// Lab mode: MACRA uploads p2's app; a foreign regulator may not.
		up := f.upload("macra-analyst", "p2", "macra", build(t, "mw.airtel.money", 7, false, false))
		f.drain()
		sc, err := f.store.ScanFor(ctx, f.orgs["macra"].ID, up.ID)
		must(t, err)
		if _, acc, err := f.store.VersionFor(ctx, f.orgs["macra"], sc.VersionID); err != nil || acc != applab.LabTest {
			t.Errorf("macra on the version it uploaded: %v %v", acc, err)
		}
		// The lab test is in the regulator's records, not the provider's.
		if _, _, err := f.store.VersionFor(ctx, f.orgs["p2"], sc.VersionID); !errors.Is(err, applab.ErrNotFound) {
			t.Errorf("p2 on the regulator's lab test of its app: %v", err)
		}
		rows, _ = f.store.Market(ctx, f.orgs["macra"])
		if len(rows) != 2 {
			t.Errorf("market after a lab upload: %+v", rows)
		}
		if rows, _ := f.store.Market(ctx, f.orgs["ca"]); len(rows) != 0 {
			t.Errorf("foreign market: %+v", rows)
		}
	})
}
