package applab_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/applab"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
)

// TestLabUploadNeverJoinsProviderRecords: a regulator's lab-mode upload of
// a binary with the package and version code of a provider's unshared
// version, whether the very same file or another build, gets records of
// its own: it neither sees nor changes the provider's version, its tester
// notes, evidence and results.
func TestLabUploadNeverJoinsProviderRecords(t *testing.T) {
	tests := []struct {
		name string
		lab  func(t testing.TB, provider []byte) []byte
	}{
		{"same binary", func(_ testing.TB, provider []byte) []byte { return provider }},
		{"other build, same package and version code", func(t testing.TB, _ []byte) []byte { return build(t, "org.test.pay", 1, false, true) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, d *db.DB) {
				f := newFixture(t, d)
				ctx := context.Background()
				provider := build(t, "org.test.pay", 1, true, false)
				own := f.upload("p1-analyst", "p1", "p1", provider)
				f.drain()
				own, err := f.store.ScanByID(ctx, own.ID)
				must(t, err)
				pv, _, err := f.store.VersionFor(ctx, f.orgs["p1"], own.VersionID)
				must(t, err)
				must(t, f.store.Record(f.as("p1-analyst"), pv, f.orgs["p1"], f.users["p1-analyst"],
					applab.Recorded{TestID: "T3.3", Result: applab.Fail, Notes: "provider's own finding"}, nil))

				lab := f.upload("macra-analyst", "p1", "macra", tt.lab(t, provider))
				f.drain()
				lab, err = f.store.ScanByID(ctx, lab.ID)
				must(t, err)
				if lab.State != applab.Done || lab.VersionID == 0 {
					t.Fatalf("lab scan: %+v", lab)
				}
				if lab.VersionID == pv.ID {
					t.Fatalf("the lab upload joined the provider's version %d", pv.ID)
				}
				// The regulator cannot open the provider's unshared version…
				if _, _, err := f.store.VersionFor(ctx, f.orgs["macra"], pv.ID); !errors.Is(err, applab.ErrNotFound) {
					t.Errorf("regulator opens the provider's unshared version: %v", err)
				}
				// …but its own lab record, where it records its own results.
				lv, acc, err := f.store.VersionFor(ctx, f.orgs["macra"], lab.VersionID)
				must(t, err)
				if acc != applab.LabTest {
					t.Errorf("regulator's access to its lab record = %v, want LabTest", acc)
				}
				rec, err := f.store.Recorded(ctx, lv.ID)
				must(t, err)
				if len(rec) != 0 {
					t.Errorf("the lab record shows the provider's results: %+v", rec)
				}
				must(t, f.store.Record(f.as("macra-analyst"), lv, f.orgs["macra"], f.users["macra-analyst"],
					applab.Recorded{TestID: "T3.3", Result: applab.Pass, Notes: "regulator's lab note"}, nil))
				// The provider's version, results and list are unchanged.
				rec, err = f.store.Recorded(ctx, pv.ID)
				must(t, err)
				if r := rec["T3.3"]; r.Result != applab.Fail || r.Notes != "provider's own finding" || len(rec) != 1 {
					t.Errorf("provider's results after the lab upload: %+v", rec)
				}
				pv2, _, err := f.store.VersionFor(ctx, f.orgs["p1"], pv.ID)
				must(t, err)
				if pv2.ScanID != own.ID || pv2.Scans != 1 {
					t.Errorf("provider's version now shows scan %d of %d (want its own %d of 1)", pv2.ScanID, pv2.Scans, own.ID)
				}
				apps, err := f.store.Apps(ctx, f.orgs["p1"].ID)
				must(t, err)
				if len(apps) != 1 || apps[0].Versions != 1 {
					t.Errorf("provider's apps after the lab upload: %+v", apps)
				}
				// The provider does not see the regulator's lab record either.
				if _, _, err := f.store.VersionFor(ctx, f.orgs["p1"], lv.ID); !errors.Is(err, applab.ErrNotFound) {
					t.Errorf("provider opens the regulator's lab record: %v", err)
				}
				if _, err := f.store.ScanFor(ctx, f.orgs["p1"].ID, lab.ID); !errors.Is(err, applab.ErrNotFound) {
					t.Errorf("provider opens the regulator's lab scan: %v", err)
				}
			})
		})
	}
}

// TestRebuildUnderSameVersionCode: a provider's new binary under an
// unchanged version code is another build, flagged on both, and the
// tester's results stay with the binary they were recorded on.
func TestRebuildUnderSameVersionCode(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		firstApp := build(t, "org.test.pay", 7, true, false)
		first := f.upload("p1-analyst", "p1", "p1", firstApp)
		f.drain()
		first, err := f.store.ScanByID(ctx, first.ID)
		must(t, err)
		v1, _, err := f.store.VersionFor(ctx, f.orgs["p1"], first.VersionID)
		must(t, err)
		if v1.SameCode != 0 {
			t.Errorf("a single build is flagged: %+v", v1)
		}
		must(t, f.store.Record(f.as("p1-analyst"), v1, f.orgs["p1"], f.users["p1-analyst"],
			applab.Recorded{TestID: "T8.1", Result: applab.Pass, Notes: "refuses rooted device"}, nil))

		second := f.upload("p1-analyst", "p1", "p1", build(t, "org.test.pay", 7, false, true))
		f.drain()
		second, err = f.store.ScanByID(ctx, second.ID)
		must(t, err)
		if second.VersionID == v1.ID {
			t.Fatalf("another binary under version code 7 replaced version %d", v1.ID)
		}
		v2, _, err := f.store.VersionFor(ctx, f.orgs["p1"], second.VersionID)
		must(t, err)
		v1, _, err = f.store.VersionFor(ctx, f.orgs["p1"], v1.ID)
		must(t, err)
		if v1.SameCode != 1 || v2.SameCode != 1 || v1.SHA256 == v2.SHA256 {
			t.Errorf("builds not flagged: v1 %+v, v2 %+v", v1, v2)
		}
		if v1.ScanID != first.ID {
			t.Errorf("the first build now shows scan %d", v1.ScanID)
		}
		rec, err := f.store.Recorded(ctx, v2.ID)
		must(t, err)
		if len(rec) != 0 {
			t.Errorf("the tester's results moved to the new binary: %+v", rec)
		}
		rec, err = f.store.Recorded(ctx, v1.ID)
		must(t, err)
		if rec["T8.1"].Result != applab.Pass {
			t.Errorf("the first build lost its results: %+v", rec)
		}
		// The same binary again is the same build: a rescan, not a third.
		again := f.upload("p1-analyst", "p1", "p1", firstApp)
		f.drain()
		again, err = f.store.ScanByID(ctx, again.ID)
		must(t, err)
		if again.VersionID != v1.ID {
			t.Errorf("the first binary uploaded again went to version %d, want %d", again.VersionID, v1.ID)
		}
	})
}

// TestLabUploadPages: the same through the pages. MACRA uploads, in lab
// mode, the very binary of Mpamba's unshared version: every route of
// Mpamba's version answers MACRA "not found", writes included, and
// Mpamba's pages show Mpamba's results only. A rebuild under the same
// version code is flagged on the pages of both builds.
func TestLabUploadPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newServer(t, d, 20<<20, func(ctx context.Context, html []byte) ([]byte, error) { return []byte("%PDF-1.7 test\n"), nil })
		ctx := context.Background()
		app := build(t, "org.test.pay", 1, true, false)
		id := scanID(t, s.upload("p1-analyst", s.org("p1", "/apps/upload"), nil, "v1.apk", app))
		s.drain()
		sc, err := s.store.ScanByID(ctx, id)
		must(t, err)
		pv := fmt.Sprintf("/apps/versions/%d", sc.VersionID)
		b, ct := multipartBody(map[string]string{"test": "T3.3", "result": "fail", "notes": "provider-secret-note"}, "evidence", "proxy.txt",
			[]byte("provider-secret-evidence\n"))
		s.expect(s.do("p1-analyst", http.MethodPost, s.org("p1", pv+"/audit"), b, ct), 303)

		lid := scanID(t, s.upload("macra-analyst", s.org("macra", "/apps/upload"), map[string]string{"provider": strconv.FormatInt(s.orgs["p1"].ID, 10)},
			"same.apk", app))
		s.drain()
		lab, err := s.store.ScanByID(ctx, lid)
		must(t, err)
		if lab.VersionID == sc.VersionID {
			t.Fatalf("the lab upload joined the provider's version %d", sc.VersionID)
		}
		for _, path := range []string{"", "/diff", "/audit", "/audit/evidence?test=T3.3", "/audit.html", "/audit.pdf"} {
			s.expect(s.get("macra-admin", s.org("macra", pv+path)), 404)
		}
		b, ct = multipartBody(map[string]string{"test": "T3.3", "result": "pass", "notes": "forged"}, "", "", nil)
		s.expect(s.do("macra-analyst", http.MethodPost, s.org("macra", pv+"/audit"), b, ct), 404)
		s.expect(s.post("macra-admin", s.org("macra", pv+"/triage"), url.Values{"fingerprint": {"x"}, "decision": {"fixed"}}), 404)
		s.expect(s.post("macra-admin", s.org("macra", pv+"/share"), url.Values{"regulator": {strconv.FormatInt(s.orgs["macra"].ID, 10)}}), 404)

		// MACRA's own lab record: its results, none of the provider's.
		lv := s.org("macra", fmt.Sprintf("/apps/versions/%d", lab.VersionID))
		s.expect(s.get("macra-viewer", lv), 200, "tested by MACRA in lab mode")
		w := s.get("macra-viewer", lv+"/audit")
		s.expect(w, 200)
		if strings.Contains(w.Body.String(), "provider-secret") {
			t.Error("the lab record shows the provider's notes")
		}
		s.expect(s.get("macra-viewer", lv+"/audit/evidence?test=T3.3"), 404)
		b, ct = multipartBody(map[string]string{"test": "T3.3", "result": "pass", "notes": "regulator-lab-note"}, "", "", nil)
		s.expect(s.do("macra-analyst", http.MethodPost, lv+"/audit", b, ct), 303)

		// The provider's pages: its own scan and results, never the lab's.
		w = s.get("p1-viewer", s.org("p1", pv+"/audit"))
		s.expect(w, 200, "provider-secret-note")
		if strings.Contains(w.Body.String(), "regulator-lab-note") {
			t.Error("the provider's audit shows the regulator's lab result")
		}
		s.expect(s.get("p1-viewer", s.org("p1", pv+"/audit/evidence?test=T3.3")), 200, "provider-secret-evidence")
		s.expect(s.get("p1-viewer", s.org("p1", fmt.Sprintf("/apps/versions/%d", lab.VersionID))), 404)
		s.expect(s.get("p1-viewer", s.org("p1", fmt.Sprintf("/apps/scans/%d", lid))), 404)
		if w := s.get("p1-viewer", s.org("p1", "/apps")); strings.Contains(w.Body.String(), "same.apk") {
			t.Error("the provider's recent uploads list the regulator's lab upload")
		}

		// A rebuild under version code 1: another version, flagged on both.
		rid := scanID(t, s.upload("p1-analyst", s.org("p1", "/apps/upload"), nil, "v1-rebuilt.apk", build(t, "org.test.pay", 1, false, true)))
		s.drain()
		rb, err := s.store.ScanByID(ctx, rid)
		must(t, err)
		if rb.VersionID == sc.VersionID {
			t.Fatalf("a rebuild replaced version %d", sc.VersionID)
		}
		rv := s.org("p1", fmt.Sprintf("/apps/versions/%d", rb.VersionID))
		s.expect(s.get("p1-viewer", rv), 200, "Another build with the same version code exists")
		s.expect(s.get("p1-viewer", s.org("p1", pv)), 200, "Another build with the same version code exists", sc.SHA256)
		w = s.get("p1-viewer", rv+"/audit")
		s.expect(w, 200, "Another build with the same version code exists")
		if strings.Contains(w.Body.String(), "provider-secret-note") {
			t.Error("the tester's results moved to the rebuild")
		}
		s.expect(s.get("p1-viewer", s.org("p1", fmt.Sprintf("/apps/%d", mustApp(t, s.fixture, "p1").ID))), 200,
			"another build with the same version code exists")
	})
}

func mustApp(t testing.TB, f *fixture, org string) applab.App {
	t.Helper()
	apps, err := f.store.Apps(context.Background(), f.orgs[org].ID)
	must(t, err)
	if len(apps) != 1 {
		t.Fatalf("%s has %d apps, want 1", org, len(apps))
	}
	return apps[0]
}

// TestProviderFieldOneAnswer: the provider named for a lab-mode upload
// gets one answer whether it does not exist, is of another country or is
// not a provider, so that the field cannot tell which organisations exist
// where.
func TestProviderFieldOneAnswer(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newServer(t, d, 20<<20, nil)
		app := build(t, "org.test.pay", 1, false, false)
		refusals := map[string]int64{
			"missing":       1 << 40,
			"other country": s.orgs["k1"].ID,
			"regulator":     s.orgs["rbm"].ID,
		}
		var first string
		for name, id := range refusals {
			for _, target := range []string{"/api/v1/scans?provider=" + strconv.FormatInt(id, 10), "/api/v1/scans"} {
				w := s.upload("tok:macra-analyst:write", target, map[string]string{"provider": strconv.FormatInt(id, 10)}, "app.apk", app)
				got := fmt.Sprintf("%d %s", w.Code, w.Body)
				if w.Code != http.StatusBadRequest {
					t.Errorf("%s: %s", name, got)
				}
				if first == "" {
					first = got
				} else if got != first {
					t.Errorf("%s answers\n%s\nbut another refusal\n%s", name, got, first)
				}
			}
			w := s.upload("macra-analyst", s.org("macra", "/apps/upload"), map[string]string{"provider": strconv.FormatInt(id, 10)}, "app.apk", app)
			s.expect(w, http.StatusBadRequest, "choose a provider or operator of your country")
		}
		if n := s.count("applab_scans"); n != 0 {
			t.Errorf("%d scans stored by refused uploads", n)
		}
	})
}
