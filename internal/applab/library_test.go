package applab_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/applab"
	"github.com/dfslab/dfslab/internal/appscan"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
)

// libraryResult is a scan result with one finding in the app's own code and
// two in library code, as a scanner of schema 1.1 reports them.
func libraryResult() *appscan.Result {
	fs := []appscan.Finding{
		{RuleID: "DFS-MAN-001", Title: "Application is debuggable", Severity: appscan.High, Message: "debuggable build",
			Location: appscan.Location{Element: "application"}},
		{RuleID: "DFS-CRYPTO-007", Title: "MD5 hash in use", Severity: appscan.Critical, Message: "MD5 in a library",
			Location: appscan.Location{File: "classes.dex", Class: "okhttp3.internal.Util", Method: "md5()V"}, InLibrary: true, Library: "OkHttp"},
		{RuleID: "DFS-CODE-020", Title: "Plain HTTP endpoint in code", Severity: appscan.Medium, Message: "http URL in a library",
			Location: appscan.Location{File: "classes.dex", Class: "com.google.android.gms.Ads"}, InLibrary: true, Library: "Google Play services"},
	}
	for i := range fs {
		fs[i].ComputeFingerprint()
	}
	return &appscan.Result{App: appscan.AppInfo{Package: "org.test.pay", VersionName: "1.0", VersionCode: 1}, Findings: fs}
}

// TestLibraryFindings: findings in library code are kept, shown apart on
// the version page and in the export, and counted neither in the
// version's counts (trends) nor in the ITU matrix's static results.
func TestLibraryFindings(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newServer(t, d, 1<<20, nil)
		ctx := context.Background()
		sc := s.fixture.upload("p1-analyst", "p1", "p1", build(t, "org.test.pay", 1, false, false))
		done, err := s.store.Complete(ctx, sc.ID, libraryResult())
		must(t, err)
		if want := (applab.Counts{High: 1}); done.Counts != want {
			t.Fatalf("counts %+v, want %+v (library findings left out)", done.Counts, want)
		}
		apps, err := s.store.Apps(ctx, s.orgs["p1"].ID)
		must(t, err)
		vs, err := s.store.Versions(ctx, apps[0].ID)
		must(t, err)
		if len(vs) != 1 || vs[0].Counts.Critical != 0 || vs[0].Counts.Total() != 1 {
			t.Errorf("trend counts %+v, want the app's one finding", vs)
		}
		vpath := s.org("p1", fmt.Sprintf("/apps/versions/%d", done.VersionID))
		page := s.get("p1-analyst", vpath)
		s.expect(page, 200, `id="scope-library"`, "Library code (2)", "1 finding")
		if own := page.Body.String(); !strings.Contains(own, "DFS-MAN-001") || strings.Contains(own, `id="g-DFS-CRYPTO-007"`) || strings.Contains(own, `id="g-DFS-CODE-020"`) {
			t.Errorf("the app's findings mix library findings in:\n%s", own)
		}
		lib := s.get("p1-analyst", vpath+"?scope=library")
		s.expect(lib, 200, `id="g-DFS-CRYPTO-007"`, `id="g-DFS-CODE-020"`, "OkHttp", "Google Play services", "okhttp3.internal.Util.md5()")
		if strings.Contains(lib.Body.String(), `id="g-DFS-MAN-001"`) {
			t.Error("the library view lists the app's own finding")
		}
		audit := s.get("p1-analyst", s.org("p1", fmt.Sprintf("/apps/versions/%d/audit", done.VersionID)))
		s.expect(audit, 200, "In library code, not counted", "DFS-CRYPTO-007")
		export := s.get("p1-analyst", s.org("p1", fmt.Sprintf("/apps/versions/%d/audit.html", done.VersionID)))
		s.expect(export, 200, "<h3>Findings in library code</h3>", "Google Play services")
		// The API carries the report of schema 1.1, whose summary
		// counts the library's findings apart.
		st := s.get("tok:p1-analyst:read", fmt.Sprintf("/api/v1/scans/%d", sc.ID))
		s.expect(st, 200, `"schema_version": "1.1"`, `"in_library": 2`, `"high": 1`, `"critical": 0`)
	})
}
