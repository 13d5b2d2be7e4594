package adoption_test

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
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/adoption"
	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/pdf"
	"github.com/dfslab/dfslab/internal/web"
	"github.com/dfslab/dfslab/internal/web/webtest"
)

// server is the module inside the real web shell over the fixture.
type server struct {
	*fixture
	srv     *web.Server
	cookie  string
	notices *notices
}

// notices records baseline notifications instead of sending them.
type notices struct{ sent []string }

func (n *notices) NotifyCountry(_ context.Context, country, kind, text, link string) (int, error) {
	n.sent = append(n.sent, country+"|"+kind+"|"+text+"|"+link)
	return 1, nil
}

func (n *notices) Notify(_ context.Context, users []int64, kind, text, link string) error {
	n.sent = append(n.sent, fmt.Sprintf("%v|%s|%s|%s", users, kind, text, link))
	return nil
}

func newServer(t *testing.T, d *db.DB, render pdf.Renderer) *server {
	return newServerOn(t, newFixture(t, d), render)
}

func newServerOn(t testing.TB, f *fixture, render pdf.Renderer) *server {
	d := f.db
	clock := func() time.Time { return f.now }
	rd, err := web.NewRenderer(web.StaticTree{Prefix: "adoption", FS: adoption.StaticFS()})
	if err != nil {
		t.Fatal(err)
	}
	mod, err := adoption.New(f.store, rd, render, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := &notices{}
	mod.SetNotifier(n)
	ses := web.NewSessions(webtest.Sessions{IDs: f.ids, Now: clock}, false, clock)
	base, _ := url.Parse("http://localhost:8080")
	srv, err := web.New(web.Config{BaseURL: base}, web.Deps{Sessions: ses, Audit: webtest.Auditor{DB: d}, Limiter: web.NewLimiter(web.LimiterConfig{}, clock),
		Renderer: rd, Ready: d.Ping, WithActor: func(ctx context.Context, a web.Actor) context.Context {
			return audit.WithActor(ctx, audit.Actor{UserID: a.UserID, OrgID: a.OrgID, IP: a.IP, RequestID: a.RequestID})
		}}, mod)
	if err != nil {
		t.Fatal(err)
	}
	return &server{fixture: f, srv: srv, cookie: ses.CookieName(), notices: n}
}

// do sends a request as user ("" anonymous; suffix ":stale" for a session
// that needs step-up).
func (s *server) do(user, method, target string, body io.Reader, ctype string) *httptest.ResponseRecorder {
	s.t.Helper()
	r := httptest.NewRequest(method, target, body)
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	if user != "" {
		v := webtest.Cookie(s.users[user])
		if name, stale := strings.CutSuffix(user, ":stale"); stale {
			v = webtest.StaleCookie(s.users[name])
		}
		r.AddCookie(&http.Cookie{Name: s.cookie, Value: v})
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

func (s *server) upload(user, target, name string, content []byte) *httptest.ResponseRecorder {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(content)
	mw.Close()
	return s.do(user, http.MethodPost, target, &b, mw.FormDataContentType())
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

func (s *server) blobCount() int {
	var n int
	if err := s.db.QueryRow(context.Background(), "SELECT COUNT(*) FROM blobs").Scan(&n); err != nil {
		s.t.Fatal(err)
	}
	return n
}

// TestFlow is the journey through the HTTP layer: the regulators
// publish a baseline, a provider tracks items with evidence and submits,
// the regulator sees the heat map; with the refusals on the way.
func TestFlow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newServer(t, d, nil)
		recs := s.cat.Recommendations
		rec0, rec1 := recs[0].ID, recs[1].ID

		// Regulator: decide, with validation.
		s.expect(s.get("macra-viewer", s.org("macra", "/baseline")), 200, "Draft of the next version", fmt.Sprintf("%d of %d recommendations have no decision", len(recs), len(recs)))
		s.expect(s.post("macra-viewer", s.org("macra", "/baseline/draft/"+rec0), url.Values{"decision": {"adopted"}}), 403)
		s.expect(s.post("macra-analyst", s.org("macra", "/baseline/draft/"+rec0), url.Values{"decision": {"adapted"}, "seen": {"0"}}), 400,
			"needs the local text", `aria-invalid="true"`)
		s.expect(s.post("macra-analyst", s.org("macra", "/baseline/draft/"+rec0), url.Values{"decision": {"adapted"}, "local_text": {"Malawi wording <b>"}, "seen": {"0"}}), 303)
		s.expect(s.post("rbm-analyst", s.org("rbm", "/baseline/draft/"+rec1), url.Values{"decision": {"not_adopted"}, "reason": {"Out of scope."}, "seen": {"0"}}), 303)
		s.expect(s.post("macra-analyst", s.org("macra", "/baseline/draft/NOPE-001"), url.Values{"decision": {"adopted"}}), 404)
		// Providers have no draft.
		s.expect(s.post("p1-admin", s.org("p1", "/baseline/draft/"+rec0), url.Values{"decision": {"adopted"}}), 404)
		// Publishing: incomplete draft refused with a clear message; step-up required.
		s.expect(s.post("macra-admin", s.org("macra", "/baseline/publish"), nil), 400, "cannot be published yet", strconv.Itoa(len(recs)-2)+" recommendations")
		s.expect(s.post("macra-analyst", s.org("macra", "/baseline/adopt-remaining"), nil), 303)
		if w := s.post("macra-admin:stale", s.org("macra", "/baseline/publish"), nil); w.Code != 303 || !strings.HasPrefix(w.Header().Get("Location"), web.StepUpPath) {
			t.Fatalf("publish without a fresh verification: %d %s", w.Code, w.Header().Get("Location"))
		}
		s.expect(s.post("macra-analyst", s.org("macra", "/baseline/publish"), nil), 403)
		w := s.post("rbm-admin", s.org("rbm", "/baseline/publish"), url.Values{"notes": {"First."}})
		s.expect(w, 303)
		if loc := w.Header().Get("Location"); loc != s.org("rbm", "/baseline/v/1?done=published") {
			t.Fatalf("publish redirects to %q", loc)
		}
		if len(s.notices.sent) != 1 || !strings.HasPrefix(s.notices.sent[0], "MW|baseline|National baseline MW v1 published") ||
			!strings.HasSuffix(s.notices.sent[0], "|/orgs/{org}/baseline/v/1") {
			t.Fatalf("notifications after publishing = %q, want one for MW v1", s.notices.sent)
		}
		// Both regulators and the providers of MW see v1; Kenya does not.
		s.expect(s.get("macra-viewer", s.org("macra", "/baseline/v/1")), 200, "Malawi wording &lt;b&gt;", "Out of scope.")
		s.expect(s.get("p2-viewer", s.org("p2", "/baseline/v/1")), 200, "National baseline MW v1")
		s.expect(s.get("k1-viewer", s.org("k1", "/baseline/v/1")), 404)
		md := s.get("p1-viewer", s.org("p1", "/baseline/v/1/baseline.md"))
		s.expect(md, 200, "# National DFS security baseline — MW v1", "**Local text:** Malawi wording &lt;b&gt;")
		html := s.get("p1-viewer", s.org("p1", "/baseline/v/1/baseline.html"))
		s.expect(html, 200, "<style>", "Malawi wording &lt;b&gt;")
		if strings.Contains(html.Body.String(), "<link") || strings.Contains(html.Body.String(), "<script") {
			t.Fatal("the HTML export is not self-contained")
		}
		s.expect(s.get("p1-viewer", s.org("p1", "/baseline/v/1/baseline.pdf")), 404) // no Chromium configured here
		// A second version and the diff.
		// The co-owner edits a decision it saw as undecided: refused, with
		// the current decision shown and the form armed to overwrite.
		stale := s.post("rbm-analyst", s.org("rbm", "/baseline/draft/"+recs[2].ID), url.Values{"decision": {"not_applicable"}, "reason": {"No STK."}, "seen": {"0"}})
		s.expect(stale, 409, "changed by macra-analyst", `id="current-decision"`, "No STK.")
		armed := hiddenValue(t, stale.Body.String(), "seen")
		s.expect(s.post("rbm-analyst", s.org("rbm", "/baseline/draft/"+recs[2].ID), url.Values{"decision": {"not_applicable"}, "reason": {"No STK."}, "seen": {armed}}), 303)
		s.expect(s.post("rbm-analyst", s.org("rbm", "/baseline/draft/"+recs[2].ID), url.Values{"decision": {"adopted"}, "seen": {"x"}}), 400)
		s.expect(s.post("macra-admin", s.org("macra", "/baseline/publish"), nil), 303)
		s.expect(s.get("p1-viewer", s.org("p1", "/baseline/diff?from=1&to=2")), 200, "1 recommendations differ", "No STK.", `id="diff-`+recs[2].ID+`"`)
		s.expect(s.get("p1-viewer", s.org("p1", "/baseline/diff?from=1")), 400)
		s.expect(s.get("p1-viewer", s.org("p1", "/baseline/diff?from=1&to=9")), 404)

		// Provider: tracking, overdue, concurrency.
		s.f().now = time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)
		item := s.org("p1", "/tracking/"+rec0)
		s.expect(s.get("p1-viewer", s.org("p1", "/tracking")), 200, rec0)
		s.expect(s.get("p1-viewer", s.org("p1", "/tracking/"+rec1)), 404) // not adopted: not tracked
		// The regulator tracks its own commitments; providers see them.
		s.expect(s.get("macra-viewer", s.org("macra", "/tracking")), 200, "GOV-")
		s.expect(s.get("p1-viewer", s.org("p1", "/baseline")), 200, `id="commitments-table"`, "MACRA", "Reserve Bank of Malawi")
		s.expect(s.post("p1-viewer", item, url.Values{"status": {"planned"}, "version": {"0"}}), 403)
		s.expect(s.post("p1-analyst", item, url.Values{"status": {"planned"}, "version": {"zero"}}), 400)
		s.expect(s.post("p1-analyst", item, url.Values{"status": {"not_applicable"}, "version": {"0"}}), 400, "Explain why")
		s.expect(s.post("p1-analyst", item, url.Values{"status": {"in_progress"}, "version": {"0"}, "target_date": {"2026-06-15"},
			"owner": {strconv.FormatInt(s.users["p1-viewer"], 10)}}), 303)
		s.expect(s.get("p1-viewer", s.org("p1", "/tracking?status=overdue")), 200, `id="item-`+rec0+`" class="overdue"`)
		// Two editors read version 1; the second write is refused.
		s.expect(s.post("p1-admin", item, url.Values{"status": {"implemented"}, "version": {"1"}, "target_date": {"2026-06-15"},
			"owner": {strconv.FormatInt(s.users["p1-viewer"], 10)}}), 303)
		w = s.post("p1-analyst", item, url.Values{"status": {"planned"}, "version": {"1"}, "target_date": {"2027-01-01"}})
		s.expect(w, 409, "changed by p1-admin at 2026-07-01 09:00 UTC", "Reload")
		cur, err := s.store.Item(context.Background(), s.orgs["p1"], rec0)
		if err != nil || cur.Status != adoption.Implemented || cur.TargetDate != "2026-06-15" || cur.Version != 2 {
			t.Fatalf("after the refused write: %+v %v", cur, err)
		}

		// Evidence: wrong type and oversized are refused, nothing stored.
		ev := s.org("p1", "/tracking/"+rec0+"/evidence")
		s.expect(s.upload("p1-analyst", ev, "report.pdf", []byte("MZ\x90\x00 this is an executable")), 415, "not accepted as evidence")
		s.expect(s.upload("p1-analyst", ev, "notes.txt", []byte("<html><script>alert(1)</script></html>")), 415)
		s.expect(s.upload("p1-analyst", ev, "big.pdf", append([]byte("%PDF-1.7\n"), make([]byte, 10<<20)...)), 413, "larger than 10 MB")
		s.expect(s.upload("p1-analyst", ev, "empty.txt", nil), 400, "empty")
		// Beyond the route's body limit (not only the file limit), and
		// malformed multipart bodies.
		s.expect(s.upload("p1-analyst", ev, "huge.pdf", append([]byte("%PDF-1.7\n"), make([]byte, 11<<20)...)), 413, "larger than the limit of 10 MB")
		s.expect(s.do("p1-analyst", http.MethodPost, ev, strings.NewReader("--x\r\nnot a part"), "multipart/form-data; boundary=x"), 400)
		s.expect(s.do("p1-analyst", http.MethodPost, ev, strings.NewReader("file=abc"), "application/x-www-form-urlencoded"), 400, "Choose a file")
		if n := s.blobCount(); n != 0 {
			t.Fatalf("%d blobs after refused uploads", n)
		}
		s.expect(s.upload("p1-viewer", ev, "ok.pdf", []byte("%PDF-1.7\nok\n")), 403)
		s.expect(s.upload("p1-analyst", ev, "pentest.pdf", []byte("%PDF-1.7\npen test report\n")), 303)
		s.expect(s.upload("p1-analyst", s.org("p1", "/tracking/"+recs[3].ID+"/evidence"), "same.pdf", []byte("%PDF-1.7\npen test report\n")), 303)
		if n := s.blobCount(); n != 1 {
			t.Fatalf("%d blobs after uploading the same file twice, want 1", n)
		}
		page := s.get("p1-viewer", item)
		s.expect(page, 200, "pentest.pdf", "evidence added", "status: “In progress” → “Implemented”")
		evID := evidenceID(t, page.Body.String())
		dl := s.get("p1-viewer", s.org("p1", "/evidence/"+evID))
		s.expect(dl, 200, "pen test report")
		if cd := dl.Header().Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
			t.Fatalf("evidence served inline: %q", cd)
		}
		// Provider B never sees provider A's evidence, not even by ID.
		s.expect(s.get("p2-admin", s.org("p2", "/evidence/"+evID)), 404)
		s.expect(s.get("p2-admin", s.org("p1", "/evidence/"+evID)), 404)
		// The operator tracks no app items (they are the app publisher's),
		// but it tracks the telecom ones.
		s.expect(s.get("p2-viewer", s.org("p2", "/tracking/"+rec0)), 404)
		s.expect(s.get("p2-viewer", s.org("p2", "/tracking/TEL-001")), 200, "Not started")
		s.expect(s.post("p1-analyst", item+"/comments", url.Values{"body": {"  "}}), 400, "Write a comment")
		s.expect(s.post("p1-analyst", item+"/comments", url.Values{"body": {"Verified by internal audit."}}), 303)

		// Nothing reaches the regulator before a submission.
		s.expect(s.get("macra-viewer", s.org("macra", "/sector")), 200, "No provider of MW has submitted")
		if strings.Contains(s.get("macra-viewer", s.org("macra", "/sector")).Body.String(), "Mpamba") {
			t.Fatal("provider visible before submitting")
		}
		// Sign-off: org admin, fresh verification, explicit confirmation.
		s.expect(s.post("p1-analyst", s.org("p1", "/submissions"), url.Values{"statement": {"ok"}, "confirm": {"on"}}), 403)
		if w := s.post("p1-admin:stale", s.org("p1", "/submissions"), url.Values{"statement": {"ok"}, "confirm": {"on"}}); w.Code != 303 ||
			!strings.HasPrefix(w.Header().Get("Location"), web.StepUpPath) {
			t.Fatalf("submit without step-up: %d", w.Code)
		}
		s.expect(s.post("p1-admin", s.org("p1", "/submissions"), url.Values{"statement": {"ok"}}), 400, "Tick the box")
		w = s.post("p1-admin", s.org("p1", "/submissions"), url.Values{"statement": {"We confirm."}, "confirm": {"on"}})
		s.expect(w, 303)
		subPath := w.Header().Get("Location")
		subID := strings.TrimSuffix(strings.TrimPrefix(subPath, s.org("p1", "/submissions/")), "?done=submitted")
		s.expect(s.get("p1-viewer", subPath), 200, "Signed off by <strong id=\"signed-by\">p1-admin</strong>", "pentest.pdf")
		s.expect(s.get("p2-admin", s.org("p2", "/submissions/"+subID)), 404)

		// The regulators of MW see it; Kenya's does not.
		sec := s.get("rbm-viewer", s.org("rbm", "/sector"))
		s.expect(sec, 200, "Mpamba Money", `id="heat-threats"`, `<td class="cell band-0">`, `id="trend-chart"`, "<polyline")
		s.expect(s.get("macra-viewer", s.org("macra", "/sector/submissions/"+subID)), 200, "We confirm.")
		s.expect(s.get("ca-admin", s.org("ca", "/sector/submissions/"+subID)), 404)
		// The regulator opens evidence the snapshot references, nothing else.
		snap := s.get("macra-viewer", s.org("macra", "/sector/submissions/"+subID))
		i := strings.Index(snap.Body.String(), "/evidence?sha256=")
		if i < 0 {
			t.Fatal("no evidence link in the regulator's snapshot view")
		}
		sum := snap.Body.String()[i+len("/evidence?sha256=") : i+len("/evidence?sha256=")+64]
		s.expect(s.get("macra-viewer", s.org("macra", "/sector/submissions/"+subID+"/evidence?sha256="+sum)), 200, "pen test report")
		s.expect(s.get("ca-admin", s.org("ca", "/sector/submissions/"+subID+"/evidence?sha256="+sum)), 404)
		s.expect(s.get("macra-viewer", s.org("macra", "/sector/submissions/"+subID+"/evidence?sha256="+strings.Repeat("0", 64))), 404)
		s.expect(s.get("p1-admin", s.org("p1", "/sector")), 404)
		csvOut := s.get("macra-viewer", s.org("macra", "/sector.csv"))
		s.expect(csvOut, 200, "provider,submission_id", "Mpamba Money,"+subID)
		var js struct {
			Country   string
			Providers []struct {
				Provider    string
				Implemented int
			}
		}
		jw := s.get("macra-viewer", s.org("macra", "/sector.json"))
		s.expect(jw, 200)
		if err := json.Unmarshal(jw.Body.Bytes(), &js); err != nil || js.Country != "MW" || len(js.Providers) != 1 || js.Providers[0].Implemented != 1 {
			t.Fatalf("sector JSON = %+v, %v", js, err)
		}
		s.expect(s.get("macra-viewer", s.org("macra", "/sector/submissions/"+subID+"/oscal.json")), 200, `"assessment-results"`)

		// Every write and export is in the audit log.
		es, err := audit.List(context.Background(), d, audit.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, e := range es {
			seen[e.Action] = true
		}
		for _, a := range []string{"baseline.draft.set", "baseline.publish", "tracking.update", "tracking.evidence.add", "tracking.comment",
			"submission.create", "sector.export", "submission.export", "baseline.export", "tracking.evidence.download"} {
			if !seen[a] {
				t.Errorf("no audit entry %q", a)
			}
		}
	})
}

func (s *server) f() *fixture { return s.fixture }

// evidenceID finds the first evidence download link on an item page.
func evidenceID(t *testing.T, page string) string {
	t.Helper()
	i := strings.Index(page, "/evidence/")
	for i >= 0 && !(page[i+10] >= '0' && page[i+10] <= '9') {
		j := strings.Index(page[i+1:], "/evidence/")
		if j < 0 {
			i = -1
			break
		}
		i += 1 + j
	}
	if i < 0 {
		t.Fatal("no evidence link on the page")
	}
	j := i + 10
	for j < len(page) && page[j] >= '0' && page[j] <= '9' {
		j++
	}
	return page[i+10 : j]
}

// TestPDFRoute: the PDF export hands the self-contained HTML document to
// the renderer and serves what it returns as a download.
func TestPDFRoute(t *testing.T) {
	var got []byte
	fake := func(_ context.Context, html []byte) ([]byte, error) {
		got = html
		return []byte("%PDF-1.7 fake"), nil
	}
	s := newServer(t, dbtest.SQLite(t), fake)
	s.publish()
	w := s.get("p1-viewer", s.org("p1", "/baseline/v/1/baseline.pdf"))
	s.expect(w, 200, "%PDF-1.7 fake")
	if ct := w.Header().Get("Content-Type"); ct != "application/pdf" {
		t.Errorf("Content-Type %q", ct)
	}
	if !bytes.Contains(got, []byte("National DFS security baseline — MW v1")) || !bytes.Contains(got, []byte("<style>")) {
		t.Errorf("renderer got %.300q", got)
	}
	s.expect(s.get("p1-viewer", s.org("p1", "/baseline/v/2/baseline.pdf")), 404)
	// The version page offers the PDF only when a renderer exists.
	s.expect(s.get("p1-viewer", s.org("p1", "/baseline/v/1")), 200, `id="export-pdf"`)
}

// hiddenValue returns the value of the hidden input name on a page.
func hiddenValue(t *testing.T, page, name string) string {
	t.Helper()
	marker := `name="` + name + `" value="`
	i := strings.Index(page, marker)
	if i < 0 {
		t.Fatalf("no hidden input %s on the page", name)
	}
	rest := page[i+len(marker):]
	return rest[:strings.IndexByte(rest, '"')]
}
