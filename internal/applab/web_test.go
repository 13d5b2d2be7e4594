package applab_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/applab"
	"github.com/dfslab/dfslab/internal/appscan/report"
	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/pdf"
	"github.com/dfslab/dfslab/internal/testenv"
	"github.com/dfslab/dfslab/internal/web"
	"github.com/dfslab/dfslab/internal/web/webtest"
)

// server is the module inside the real web shell over the fixture.
type server struct {
	*fixture
	srv    *web.Server
	cookie string
	notes  *notes
}

// notes records the notifications the module sends.
type notes struct {
	mu   sync.Mutex
	sent []string // "org kind link: text"
}

func (n *notes) NotifyOrg(_ context.Context, org int64, kind, text, link string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent = append(n.sent, fmt.Sprintf("%d %s %s: %s", org, kind, link, text))
	return nil
}

func (n *notes) all() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.sent)
}

func newServer(t testing.TB, d *db.DB, maxUpload int64, render pdf.Renderer) *server {
	f := newFixture(t, d)
	clock := func() time.Time { return f.now }
	rd, err := web.NewRenderer(web.StaticTree{Prefix: "applab", FS: applab.StaticFS()})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	mod, err := applab.New(rd, applab.Config{Store: f.store, Queue: f.run, Catalog: cat, MaxUpload: maxUpload, TempDir: t.TempDir(), PDF: render})
	if err != nil {
		t.Fatal(err)
	}
	ns := &notes{}
	mod.SetNotifier(ns)
	ses := web.NewSessions(webtest.Sessions{IDs: f.ids, Now: clock}, false, clock)
	base, _ := url.Parse("http://localhost:8080")
	srv, err := web.New(web.Config{BaseURL: base, MaxBody: 1 << 20}, web.Deps{Sessions: ses, Audit: webtest.Auditor{DB: d}, Limiter: web.NewLimiter(web.LimiterConfig{}, clock),
		Renderer: rd, Ready: d.Ping, WithActor: func(ctx context.Context, a web.Actor) context.Context {
			return audit.WithActor(ctx, audit.Actor{UserID: a.UserID, OrgID: a.OrgID, IP: a.IP, RequestID: a.RequestID})
		}}, mod)
	if err != nil {
		t.Fatal(err)
	}
	return &server{fixture: f, srv: srv, cookie: ses.CookieName(), notes: ns}
}

// do sends a request as user ("" anonymous); a user "tok:<name>:<scope>"
// sends a bearer token instead of a cookie.
func (s *server) do(user, method, target string, body io.Reader, ctype string) *httptest.ResponseRecorder {
	s.t.Helper()
	r := httptest.NewRequest(method, target, body)
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	if rest, ok := strings.CutPrefix(user, "tok:"); ok {
		name, scope, _ := strings.Cut(rest, ":")
		r.Header.Set("Authorization", "Bearer "+webtest.Token(s.users[name], web.Scope(scope)))
	} else if user != "" {
		r.AddCookie(&http.Cookie{Name: s.cookie, Value: webtest.Cookie(s.users[user])})
	}
	w := httptest.NewRecorder()
	s.srv.ServeHTTP(w, r)
	return w
}

func (s *server) get(user, target string) *httptest.ResponseRecorder {
	return s.do(user, http.MethodGet, target, nil, "")
}

func (s *server) post(user, target string, form url.Values) *httptest.ResponseRecorder {
	return s.do(user, http.MethodPost, target, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
}

// multipartBody builds a form with fields and one file.
func multipartBody(fields map[string]string, fileField, name string, content []byte) (*bytes.Buffer, string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if fileField != "" {
		fw, _ := mw.CreateFormFile(fileField, name)
		fw.Write(content)
	}
	mw.Close()
	return &b, mw.FormDataContentType()
}

func (s *server) upload(user, target string, fields map[string]string, name string, content []byte) *httptest.ResponseRecorder {
	b, ct := multipartBody(fields, "file", name, content)
	return s.do(user, http.MethodPost, target, b, ct)
}

func (s *server) org(key, rest string) string {
	return "/orgs/" + strconv.FormatInt(s.orgs[key].ID, 10) + rest
}

func (s *server) expect(w *httptest.ResponseRecorder, status int, contains ...string) {
	s.t.Helper()
	if w.Code != status {
		s.t.Fatalf("status %d, want %d; body:\n%.2000s", w.Code, status, w.Body.String())
	}
	for _, c := range contains {
		if !strings.Contains(w.Body.String(), c) {
			s.t.Fatalf("response lacks %q; body:\n%.3000s", c, w.Body.String())
		}
	}
}

var versionLink = regexp.MustCompile(`/apps/versions/(\d+)`)

// scanID follows an upload's redirect to its scan.
func scanID(t testing.TB, w *httptest.ResponseRecorder) int64 {
	t.Helper()
	loc := w.Header().Get("Location")
	i := strings.LastIndex(loc, "/")
	id, err := strconv.ParseInt(loc[i+1:], 10, 64)
	if w.Code != http.StatusSeeOther || err != nil {
		t.Fatalf("upload: %d %q\n%.2000s", w.Code, loc, w.Body.String())
	}
	return id
}

// TestFlow is the journey through the HTTP layer: upload, progress,
// report with catalogue links, a second version with its diff and trend,
// triage carried over, the ITU audit with a tester's result and evidence,
// the export, sharing with the regulator and its market view; with the
// refusals on the way.
func TestFlow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newServer(t, d, 20<<20, func(ctx context.Context, html []byte) ([]byte, error) {
			return append([]byte("%PDF-1.7 test\n"), html[:20]...), nil
		})
		// Viewers may not upload; analysts may.
		s.expect(s.upload("p1-viewer", s.org("p1", "/apps/upload"), nil, "v1.apk", build(t, "org.test.pay", 1, true, true)), 403)
		id := scanID(t, s.upload("p1-analyst", s.org("p1", "/apps/upload"), nil, "v1.apk", build(t, "org.test.pay", 1, true, true)))
		s.expect(s.get("p1-viewer", s.org("p1", fmt.Sprintf("/apps/scans/%d", id))), 200, "queued", `http-equiv="refresh"`, "applab.js")
		s.expect(s.get("p1-viewer", s.org("p1", fmt.Sprintf("/apps/scans/%d/status.json", id))), 200, `"state": "queued"`)
		// Another provider: not found.
		s.expect(s.get("p2-admin", s.org("p2", fmt.Sprintf("/apps/scans/%d", id))), 404)
		s.drain()
		w := s.get("p1-viewer", s.org("p1", fmt.Sprintf("/apps/scans/%d/status.json", id)))
		s.expect(w, 200, `"state": "done"`, `"percent": 100`, `"version_url"`)
		var st applab.ScanStatus
		must(t, json.Unmarshal(w.Body.Bytes(), &st))
		v1 := st.VersionURL
		s.expect(s.get("p1-viewer", s.org("p1", fmt.Sprintf("/apps/scans/%d", id))), 200, "Open the report")

		// The report: scanner body, findings with catalogue links, no triage form for viewers.
		w = s.get("p1-viewer", v1)
		s.expect(w, 200, "DFS-MAN-001", "dfslab-report", `href="/catalogue/`, "applab/report")
		if strings.Contains(w.Body.String(), "triage-form") {
			t.Error("viewer gets a triage form")
		}
		w = s.get("p1-analyst", v1)
		s.expect(w, 200, "triage-form")
		// Each finding has its row's form and its box for the bulk form.
		fp := slices.CompactFunc(regexp.MustCompile(`name="fingerprint" value="([0-9a-f]+)"`).FindAllStringSubmatch(w.Body.String(), -1),
			func(a, b []string) bool { return a[1] == b[1] })
		if len(fp) != 2 {
			t.Fatalf("fingerprints in the triage forms: %v", fp)
		}
		// Triage: validation, then an accepted risk.
		s.expect(s.post("p1-analyst", v1+"/triage", url.Values{"fingerprint": {fp[0][1]}, "decision": {"accepted_risk"}}), 400, "say why")
		s.expect(s.post("p1-viewer", v1+"/triage", url.Values{"fingerprint": {fp[0][1]}, "decision": {"fixed"}}), 403)
		for _, f := range fp {
			s.expect(s.post("p1-analyst", v1+"/triage", url.Values{"fingerprint": {f[1]}, "decision": {"accepted_risk"}, "reason": {"Pilot build <b>"},
				"expires": {"2026-12-31"}}), 303)
		}

		// Version 2 fixes the debuggable build.
		id2 := scanID(t, s.upload("p1-analyst", s.org("p1", "/apps/upload"), nil, "v2.apk", build(t, "org.test.pay", 2, false, true)))
		s.drain()
		sc2, err := s.store.ScanByID(context.Background(), id2)
		must(t, err)
		v2 := s.org("p1", fmt.Sprintf("/apps/versions/%d", sc2.VersionID))
		s.expect(s.get("p1-viewer", v2+"/diff"), 200, "0 new", "1 fixed", "1 unchanged", "Application is debuggable")
		w = s.get("p1-viewer", v2)
		s.expect(w, 200, "Accepted risk", "Pilot build &lt;b&gt;") // carried over, escaped
		apps, _ := s.store.Apps(context.Background(), s.orgs["p1"].ID)
		s.expect(s.get("p1-viewer", s.org("p1", fmt.Sprintf("/apps/%d", apps[0].ID))), 200, "<svg", "polyline", "2.0 (2)", "1.0 (1)")

		// ITU audit: T1.2 passes statically in v2, T3.1 fails (cleartext), T3.3 needs a tester.
		w = s.get("p1-viewer", v2+"/audit")
		s.expect(w, 200, "T9.1", "device / proxy")
		if strings.Contains(w.Body.String(), "record-form") {
			t.Error("viewer gets the record form")
		}
		row := func(body, id string) string {
			i := strings.Index(body, `id="t-`+id+`"`)
			j := strings.Index(body[i:], "</tr>")
			return body[i : i+j]
		}
		if r := row(w.Body.String(), "T1.2"); !strings.Contains(r, `class="r-pass"><strong>Pass`) {
			t.Errorf("T1.2 row: %s", r)
		}
		if r := row(w.Body.String(), "T3.3"); !strings.Contains(r, "Not tested") {
			t.Errorf("T3.3 row before the tester: %s", r)
		}
		b, ct := multipartBody(map[string]string{"test": "T3.3", "result": "fail", "notes": "Accepted a mitmproxy CA installed as user CA."}, "evidence", "proxy.txt", []byte("CONNECT api.example:443 intercepted\n"))
		s.expect(s.do("p1-analyst", http.MethodPost, v2+"/audit", b, ct), 303)
		b, ct = multipartBody(map[string]string{"test": "T9.9", "result": "fail"}, "", "", nil)
		s.expect(s.do("p1-analyst", http.MethodPost, v2+"/audit", b, ct), 400, "unknown test")
		b, ct = multipartBody(map[string]string{"test": "T4.1", "result": "pass"}, "evidence", "x.html", []byte("<html><script>alert(1)</script>"))
		s.expect(s.do("p1-analyst", http.MethodPost, v2+"/audit", b, ct), 415)
		// Control characters in a multipart text field: 400 naming the
		// field, nothing recorded (issue 9, finding 7).
		b, ct = multipartBody(map[string]string{"test": "T4.1", "result": "pass", "notes": "ok\x00\x1b[2J"}, "", "", nil)
		s.expect(s.do("p1-analyst", http.MethodPost, v2+"/audit", b, ct), 400, "notes")
		w = s.get("p1-viewer", v2+"/audit")
		if r := row(w.Body.String(), "T3.3"); !strings.Contains(r, "Accepted a mitmproxy CA") || !strings.Contains(r, "tester") || !strings.Contains(r, "proxy.txt") {
			t.Errorf("T3.3 row after the tester: %s", r)
		}
		w = s.get("p1-viewer", v2+"/audit/evidence?test=T3.3")
		s.expect(w, 200, "intercepted")
		if cd := w.Header().Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
			t.Errorf("evidence disposition %q", cd)
		}
		w = s.get("p1-viewer", v2+"/audit.html")
		s.expect(w, 200, "<!doctype html>", "ITU app security audit", "Accepted a mitmproxy CA", "dfslab-report", "<style>")
		if ctype := w.Header().Get("Content-Type"); !strings.HasPrefix(ctype, "text/html") {
			t.Errorf("export content type %q", ctype)
		}
		w = s.get("p1-viewer", v2+"/audit.pdf")
		s.expect(w, 200, "%PDF-")

		// Sharing: org admins only, with the regulator of the country.
		s.expect(s.get("macra-viewer", s.org("macra", fmt.Sprintf("/apps/versions/%d", sc2.VersionID))), 404)
		s.expect(s.post("p1-analyst", v2+"/share", url.Values{"regulator": {strconv.FormatInt(s.orgs["macra"].ID, 10)}}), 403)
		s.expect(s.post("p1-admin", v2+"/share", url.Values{"regulator": {strconv.FormatInt(s.orgs["ca"].ID, 10)}}), 400, "regulator of your country")
		if n := s.notes.all(); len(n) != 0 {
			t.Errorf("notifications before any share: %v", n)
		}
		s.expect(s.post("p1-admin", v2+"/share", url.Values{"regulator": {strconv.FormatInt(s.orgs["macra"].ID, 10)}}), 303)
		// The regulator's members are told, with a link to the version.
		if n := s.notes.all(); len(n) != 1 || !strings.HasPrefix(n[0], fmt.Sprintf("%d applab.shared /orgs/%d/apps/versions/%d: Mpamba Money shared the audit of org.test.pay",
			s.orgs["macra"].ID, s.orgs["macra"].ID, sc2.VersionID)) {
			t.Errorf("notifications after the share: %v", n)
		}
		s.expect(s.get("p1-admin", v2), 200, "MACRA (shared)", "share-form")
		if strings.Contains(s.get("p1-admin", v2).Body.String(), "seen as its regulator") {
			t.Error("the owner is told it sees its app as a regulator")
		}
		mv := s.org("macra", fmt.Sprintf("/apps/versions/%d", sc2.VersionID))
		w = s.get("macra-viewer", mv)
		s.expect(w, 200, "seen as its regulator", "DFS-MAN-004")
		if strings.Contains(w.Body.String(), "triage-form") || strings.Contains(w.Body.String(), "share-form") {
			t.Error("the regulator gets the owner's forms")
		}
		s.expect(s.post("macra-analyst", mv+"/triage", url.Values{"fingerprint": {fp[0][1]}, "decision": {"fixed"}}), 403)
		s.expect(s.get("macra-viewer", mv+"/audit"), 200, "Accepted a mitmproxy CA")
		s.expect(s.get("macra-viewer", s.org("macra", "/market")), 200, "Mpamba Money", "org.test.pay", "shared by the provider")
		// Version 1 was not shared.
		s.expect(s.get("macra-viewer", s.org("macra", versionLink.FindString(v1))), 404)
		// Other organisations never.
		for _, who := range []string{"p2-admin", "ca-admin", "rbm-admin"} {
			key, _, _ := strings.Cut(who, "-")
			s.expect(s.get(who, s.org(key, fmt.Sprintf("/apps/versions/%d", sc2.VersionID))), 404)
			s.expect(s.get(who, s.org(key, fmt.Sprintf("/apps/versions/%d/audit.html", sc2.VersionID))), 404)
		}
		// A member of p1 cannot look at p2's pages at all.
		s.expect(s.get("p1-admin", s.org("p2", "/apps")), 404)

		// Lab mode: MACRA uploads p2's app; a provider cannot upload for another.
		s.expect(s.upload("p1-analyst", s.org("p1", "/apps/upload"), map[string]string{"provider": strconv.FormatInt(s.orgs["p2"].ID, 10)},
			"x.apk", build(t, "mw.airtel", 1, false, false)), 400, "Nothing was stored")
		s.expect(s.get("macra-analyst", s.org("macra", "/apps")), 200, "Airtel Money MW", "lab mode")
		lid := scanID(t, s.upload("macra-analyst", s.org("macra", "/apps/upload"), map[string]string{"provider": strconv.FormatInt(s.orgs["p2"].ID, 10)},
			"airtel.apk", build(t, "mw.airtel", 1, true, false)))
		s.drain()
		s.expect(s.get("macra-viewer", s.org("macra", "/market")), 200, "mw.airtel", "our lab test")
		// The lab test is the regulator's record: the provider sees neither
		// the scan nor its version.
		s.expect(s.get("macra-viewer", s.org("macra", fmt.Sprintf("/apps/scans/%d", lid))), 200, "done")
		s.expect(s.get("p2-viewer", s.org("p2", fmt.Sprintf("/apps/scans/%d", lid))), 404)
		s.expect(s.get("p1-viewer", s.org("p1", fmt.Sprintf("/apps/scans/%d", lid))), 404)

		// Everything audited.
		es, err := audit.List(context.Background(), d, audit.Filter{})
		must(t, err)
		seen := map[string]int{}
		for _, e := range es {
			seen[e.Action]++
		}
		for _, a := range []string{"applab.upload", "applab.scan.done", "applab.triage", "applab.itu.record", "applab.share", "applab.audit.export"} {
			if seen[a] == 0 {
				t.Errorf("no %s in the audit log (%v)", a, seen)
			}
		}
	})
}

// TestAPI: a CI pipeline uploads with a write token, polls, and gets the
// findings in the scan command's JSON schema.
func TestAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newServer(t, d, 20<<20, nil)
		app := build(t, "org.test.pay", 3, true, false)
		s.expect(s.upload("tok:p1-analyst:read", "/api/v1/scans", nil, "app.apk", app), 403)
		s.expect(s.upload("p1-analyst", "/api/v1/scans", nil, "app.apk", app), 401) // cookies do not open the API
		s.expect(s.upload("tok:p1-viewer:write", "/api/v1/scans", nil, "app.apk", app), 403, "analyst")
		w := s.upload("tok:p1-analyst:write", "/api/v1/scans", nil, "app.apk", app)
		s.expect(w, 202, `"id"`, `"url"`)
		var acc struct {
			ID  int64  `json:"id"`
			URL string `json:"url"`
		}
		must(t, json.Unmarshal(w.Body.Bytes(), &acc))
		if acc.URL != s.org("p1", fmt.Sprintf("/apps/scans/%d", acc.ID)) {
			t.Errorf("url %q", acc.URL)
		}
		s.expect(s.get("tok:p1-viewer:read", fmt.Sprintf("/api/v1/scans/%d", acc.ID)), 200, `"state": "queued"`)
		s.expect(s.get("tok:p2-admin:read", fmt.Sprintf("/api/v1/scans/%d", acc.ID)), 404)
		s.drain()
		w = s.get("tok:p1-viewer:read", fmt.Sprintf("/api/v1/scans/%d", acc.ID))
		s.expect(w, 200)
		var st struct {
			State  string          `json:"state"`
			Report report.Document `json:"report"`
		}
		must(t, json.Unmarshal(w.Body.Bytes(), &st))
		if st.State != "done" || st.Report.SchemaVersion == "" || len(st.Report.Results) != 1 || st.Report.Summary.High != 1 ||
			st.Report.Results[0].App.VersionCode != 3 || st.Report.Results[0].Findings[0].Fingerprint == "" {
			t.Fatalf("API result: %.2000s", w.Body.String())
		}
		// A hostile upload by API: a clear JSON error.
		w = s.upload("tok:p1-analyst:write", "/api/v1/scans", nil, "x.apk", []byte("%PDF-1.4 not an app"))
		s.expect(w, 415, `"error"`, "not an Android app", "nothing was stored")
	})
}

// TestHostileUploads: each refused with a clear message, and no blob,
// scan or job left behind.
func TestHostileUploads(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newServer(t, d, 2<<20, nil)
		good := build(t, "org.test.pay", 1, false, false)
		bomb := zipOf(t, map[string][]byte{"AndroidManifest.xml": []byte("x"), "assets/zeros.bin": make([]byte, 64<<20)})
		noManifest := zipOf(t, map[string][]byte{"readme.txt": []byte("hello")})
		big := zipOf(t, map[string][]byte{"AndroidManifest.xml": []byte("x"), "assets/noise.bin": noise(5 << 19)})
		for _, c := range []struct {
			name    string
			content []byte
			status  int
			msg     string
		}{
			{"not a zip", []byte("%PDF-1.4\n% a document, not an app"), 415, "not an Android app"},
			{"zip without app layout", noManifest, 415, "without AndroidManifest.xml"},
			{"zip bomb", bomb, 415, "zip bomb"},
			{"oversized", big, 413, "larger than the upload limit"},
			{"cut in half", good[:len(good)/2], 415, "damaged or incomplete"},
			{"empty", nil, 400, "empty"},
		} {
			t.Run(c.name, func(t *testing.T) {
				s.t = t
				s.expect(s.upload("p1-analyst", s.org("p1", "/apps/upload"), nil, "app.apk", c.content), c.status, c.msg, "Nothing was stored")
			})
		}
		t.Run("truncated mid-stream", func(t *testing.T) {
			b, ct := multipartBody(nil, "file", "app.apk", good)
			cut := b.Bytes()[:b.Len()/2]
			r := httptest.NewRequest(http.MethodPost, s.org("p1", "/apps/upload"), io.MultiReader(bytes.NewReader(cut), errReader{io.ErrUnexpectedEOF}))
			r.Header.Set("Content-Type", ct)
			r.AddCookie(&http.Cookie{Name: s.cookie, Value: strconv.FormatInt(s.users["p1-analyst"], 10)})
			w := httptest.NewRecorder()
			s.srv.ServeHTTP(w, r)
			if w.Code != 400 || !strings.Contains(w.Body.String(), "did not arrive completely") {
				t.Fatalf("status %d\n%.1500s", w.Code, w.Body.String())
			}
		})
		s.t = t
		for _, table := range []string{"blobs", "applab_scans", "applab_apps"} {
			if n := s.count(table); n != 0 {
				t.Errorf("%d rows left in %s", n, table)
			}
		}
		// The good one still goes through.
		scanID(t, s.upload("p1-analyst", s.org("p1", "/apps/upload"), nil, "app.apk", good))
		if s.count("blobs") != 1 || s.count("applab_scans") != 1 {
			t.Error("a good upload after the refusals was not stored")
		}
	})
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// TestAuditPDF prints the exported audit with headless Chromium.
func TestAuditPDF(t *testing.T) {
	path := pdf.ChromiumPath()
	if path == "" {
		testenv.Missing(t, "headless Chromium (set DFSLAB_CHROMIUM)")
	}
	s := newServer(t, dbtest.SQLite(t), 20<<20, pdf.Chromium(path))
	scanID(t, s.upload("p1-analyst", s.org("p1", "/apps/upload"), nil, "v1.apk", build(t, "org.test.pay", 1, true, false)))
	s.drain()
	apps, _ := s.store.Apps(context.Background(), s.orgs["p1"].ID)
	vs, _ := s.store.Versions(context.Background(), apps[0].ID)
	w := s.get("p1-viewer", s.org("p1", fmt.Sprintf("/apps/versions/%d/audit.pdf", vs[0].ID)))
	s.expect(w, 200, "%PDF-")
	if w.Body.Len() < 5000 || w.Header().Get("Content-Type") != "application/pdf" {
		t.Errorf("PDF of %d bytes, type %q", w.Body.Len(), w.Header().Get("Content-Type"))
	}
}
