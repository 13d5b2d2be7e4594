package applab_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/db/dbtest"
)

// TestVersionReport: the report of a version leads with its summary and
// downloads, filters its findings (a value it does not know is a 400
// that keeps the form), decides on a selection at once (all or nothing),
// and lists library code apart; the downloads are the owner's and its
// regulator's only.
func TestVersionReport(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), 20<<20, func(_ context.Context, html []byte) ([]byte, error) {
		return append([]byte("%PDF-1.7 test\n"), html[:20]...), nil
	})
	id := scanID(t, s.upload("p1-analyst", s.org("p1", "/apps/upload"), nil, "v1.apk", build(t, "org.test.pay", 1, true, true)))
	s.drain()
	sc, err := s.store.ScanByID(context.Background(), id)
	must(t, err)
	v := s.org("p1", fmt.Sprintf("/apps/versions/%d", sc.VersionID))

	w := s.get("p1-analyst", v)
	body := w.Body.String()
	s.expect(w, 200, `id="summary"`, "score out of 100", `id="summary-permissions">1 requested, 0 dangerous`, "/report.json", "/report.sarif", "/report.pdf", "/report.html",
		"own code (2)", `id="bulk-triage"`, `form="bulk-triage"`)
	if i, j := strings.Index(body, `id="summary"`), strings.Index(body, `id="findings"`); i < 0 || j < i {
		t.Error("the summary does not come before the findings")
	}
	fps := slices.Compact(slices.Sorted(slices.Values(func() []string {
		var out []string
		for _, m := range regexp.MustCompile(`name="fingerprint" value="([0-9a-f]+)" form="bulk-triage"`).FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}())))
	if len(fps) != 2 {
		t.Fatalf("selectable findings: %v", fps)
	}
	rules := regexp.MustCompile(`<h3 id="g-([A-Z0-9-]+)"`).FindAllStringSubmatch(body, -1)
	if len(rules) == 0 {
		t.Fatal("no findings grouped by rule")
	}
	rule := rules[0][1]

	// Filters.
	w = s.get("p1-analyst", v+"?rule="+rule)
	s.expect(w, 200, `id="g-`+rule+`"`, `<option value="`+rule+`" selected>`)
	if n := strings.Count(w.Body.String(), `<h3 id="g-`); n != 1 {
		t.Errorf("filtered by rule %s: %d groups", rule, n)
	}
	s.expect(s.get("p1-analyst", v+"?severity=info&rule="+rule), 200, "No finding matches.")
	for _, q := range []string{"severity=urgent", "status=maybe", "page=0"} {
		w := s.get("p1-analyst", v+"?"+q)
		s.expect(w, 400, `id="form-problem"`, `id="finding-filters"`)
	}

	// Bulk decision: all or nothing, kept as typed when refused.
	form := url.Values{"bulk": {"1"}, "fingerprint": fps, "decision": {"accepted_risk"}, "reason": {"Pilot <build>"}, "back": {v + "?rule=" + rule}}
	w = s.post("p1-analyst", v+"/triage", form)
	s.expect(w, 400, "expires", `value="Pilot &lt;build&gt;"`, `<option value="accepted_risk" selected>`)
	s.expect(s.post("p1-analyst", v+"/triage", url.Values{"fingerprint": {fps[0], "00000000000000000000000000000000"}, "decision": {"fixed"}}), 404)
	s.expect(s.get("p1-analyst", v+"?status=fixed"), 200, "No finding matches.")
	s.expect(s.post("p1-viewer", v+"/triage", url.Values{"fingerprint": fps, "decision": {"fixed"}}), 403)
	w = s.post("p1-analyst", v+"/triage", url.Values{"bulk": {"1"}, "fingerprint": fps, "decision": {"false_positive"}, "reason": {"Test build"},
		"back": {v + "?rule=" + rule}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != v+"?rule="+rule+"&done=triaged" {
		t.Fatalf("bulk triage: %d → %q", w.Code, w.Header().Get("Location"))
	}
	s.expect(s.get("p1-analyst", v+"?status=false_positive"), 200, "2 findings")
	s.expect(s.get("p1-analyst", v+"?status=open"), 200, "No finding matches.")
	// A "back" elsewhere is not followed.
	w = s.post("p1-analyst", v+"/triage", url.Values{"fingerprint": fps[:1], "decision": {"fixed"}, "back": {"https://evil.example/"}})
	if loc := w.Header().Get("Location"); !strings.HasPrefix(loc, v+"?done=triaged#f-") {
		t.Errorf("triage with a foreign back: → %q", loc)
	}

	// Library code is apart.
	s.expect(s.get("p1-analyst", v+"?scope=library"), 200, `id="scope-library" aria-current="true"`, "Library code (")

	// Downloads.
	w = s.get("p1-viewer", v+"/report.json")
	s.expect(w, 200)
	var doc map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Errorf("report.json: %v", err)
	}
	if cd := w.Header().Get("Content-Disposition"); !strings.Contains(cd, "scan-report-org.test.pay-1.json") {
		t.Errorf("report.json disposition %q", cd)
	}
	s.expect(s.get("p1-viewer", v+"/report.sarif"), 200, `"version": "2.1.0"`)
	s.expect(s.get("p1-viewer", v+"/report.html"), 200, "<!DOCTYPE html>", "dfslab-report")
	s.expect(s.get("p1-viewer", v+"/report.pdf"), 200, "%PDF-")
	for _, f := range []string{"json", "sarif", "html", "pdf"} {
		s.expect(s.get("p2-admin", s.org("p2", fmt.Sprintf("/apps/versions/%d/report.%s", sc.VersionID, f))), 404)
		s.expect(s.get("macra-viewer", s.org("macra", fmt.Sprintf("/apps/versions/%d/report.%s", sc.VersionID, f))), 404)
	}

	// The scan page: size in words, no "Attempts" without a retry.
	w = s.get("p1-viewer", s.org("p1", fmt.Sprintf("/apps/scans/%d", id)))
	s.expect(w, 200, " KB</td>")
	if strings.Contains(w.Body.String(), "Attempts") {
		t.Error("the scan page shows Attempts although the scan ran once")
	}
}
