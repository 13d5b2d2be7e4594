package collab

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/catalog/catalogweb"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/web"
	"github.com/dfslab/dfslab/internal/web/webtest"
)

type site struct {
	*fixture
	srv  *web.Server
	sess *web.Sessions
}

func newSite(t *testing.T, d *db.DB) *site {
	t.Helper()
	f := newFixture(t, d)
	ids := identity.NewStore(d, identity.Options{Now: f.clock.Now})
	rd, err := web.NewRenderer(web.StaticTree{Prefix: "catalog", FS: catalogweb.StaticFS()})
	if err != nil {
		t.Fatal(err)
	}
	cats := NewCatalogues(f.s)
	mod, err := New(f.s, cats, rd, nil)
	if err != nil {
		t.Fatal(err)
	}
	cw, err := catalogweb.New(f.cat, rd, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	cw.SetSource(cats)
	cw.SetExtras(mod)
	sess := web.NewSessions(webtest.Sessions{IDs: ids, Now: time.Now}, false, nil)
	base, _ := url.Parse("http://127.0.0.1")
	srv, err := web.New(web.Config{BaseURL: base}, web.Deps{Sessions: sess, Renderer: rd,
		WithActor: func(ctx context.Context, a web.Actor) context.Context {
			return audit.WithActor(ctx, audit.Actor{UserID: a.UserID, IP: a.IP, RequestID: a.RequestID})
		}}, cw, mod)
	if err != nil {
		t.Fatal(err)
	}
	return &site{fixture: f, srv: srv, sess: sess}
}

// do sends a request as v (zero Viewer: anonymous); form is url-encoded.
func (s *site) do(v Viewer, method, target string, form url.Values) *httptest.ResponseRecorder {
	s.t.Helper()
	var r *http.Request
	if form != nil {
		r = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	if v.UserID != 0 {
		tok := webtest.Cookie(v.UserID)
		r.AddCookie(&http.Cookie{Name: s.sess.CookieName(), Value: tok})
	}
	rec := httptest.NewRecorder()
	s.srv.ServeHTTP(rec, r)
	return rec
}

func (s *site) body(v Viewer, target string) string {
	s.t.Helper()
	rec := s.do(v, "GET", target, nil)
	if rec.Code != http.StatusOK {
		s.t.Fatalf("GET %s: status %d", target, rec.Code)
	}
	return rec.Body.String()
}

func (s *site) post(v Viewer, target string, form url.Values, want int) *httptest.ResponseRecorder {
	s.t.Helper()
	rec := s.do(v, "POST", target, form)
	if rec.Code != want {
		s.t.Fatalf("POST %s: status %d, want %d\n%s", target, rec.Code, want, rec.Body.String())
	}
	return rec
}

var threadLink = regexp.MustCompile(`^/discussions/(\d+)$`)

func (s *site) startThread(v Viewer, org int64, aud Audience, title, body string) int64 {
	s.t.Helper()
	rec := s.post(v, "/discussions", url.Values{"rec": {s.rec}, "org": {fmt.Sprint(org)}, "audience": {string(aud)},
		"title": {title}, "body": {body}}, http.StatusSeeOther)
	m := threadLink.FindStringSubmatch(rec.Header().Get("Location"))
	if m == nil {
		s.t.Fatalf("created thread redirects to %q", rec.Header().Get("Location"))
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

func TestPagesEscapeAndEnforceAudience(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d)
		evil := `<script>alert("x")</script>`
		id := s.startThread(s.a1, s.orgA, AudienceOrg, "Internal "+evil, "Body <img src=x onerror=alert(1)>\nsecond line")
		page := s.body(s.a2, fmt.Sprintf("/discussions/%d", id))
		if strings.Contains(page, "<script>alert") || strings.Contains(page, "<img src=x") {
			t.Errorf("thread page does not escape HTML of posts")
		}
		// The title is text (escaped); the body is Markdown, whose raw HTML
		// is dropped, and its line break stays.
		if !strings.Contains(page, "&lt;script&gt;") || !strings.Contains(page, "<p>Body <br>\nsecond line</p>") {
			t.Errorf("thread page lacks the escaped title or the body with its line break")
		}
		rec := s.body(s.a2, "/catalogue/"+s.rec)
		if !strings.Contains(rec, `id="discussion-section"`) || !strings.Contains(rec, "Internal &lt;script&gt;") {
			t.Errorf("recommendation page lacks the discussion with the colleague's thread")
		}
		// Provider B in another country: not by ID, not in lists, not by
		// search, not on the recommendation page.
		if code := s.do(s.b, "GET", fmt.Sprintf("/discussions/%d", id), nil).Code; code != http.StatusNotFound {
			t.Errorf("outsider opens the thread: %d", code)
		}
		for _, target := range []string{"/discussions", "/discussions?q=internal", "/discussions?rec=" + s.rec, "/catalogue/" + s.rec} {
			if strings.Contains(s.body(s.b, target), "Internal &lt;script&gt;") {
				t.Errorf("outsider sees the org-only thread on %s", target)
			}
		}
		s.post(s.b, fmt.Sprintf("/discussions/%d/replies", id), url.Values{"body": {"hi"}}, http.StatusNotFound)
		// Anonymous visitors get the sign-in page, not the discussion.
		if code := s.do(Viewer{}, "GET", "/discussions", nil).Code; code != http.StatusSeeOther {
			t.Errorf("anonymous /discussions: %d", code)
		}
	})
}

func TestBadInputPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d)
		draft := strings.Repeat("a", MaxBody+1)
		rec := s.post(s.a1, "/discussions", url.Values{"rec": {s.rec}, "org": {fmt.Sprint(s.orgA)}, "audience": {"org"},
			"title": {"Kept title"}, "body": {draft}}, http.StatusBadRequest)
		if !strings.Contains(rec.Body.String(), "too long") || !strings.Contains(rec.Body.String(), "Kept title") {
			t.Errorf("oversized post: page lacks the reason or the typed title")
		}
		rec = s.post(s.a1, "/discussions", url.Values{"rec": {"APP-999"}, "org": {fmt.Sprint(s.orgA)}, "audience": {"org"},
			"title": {"t"}, "body": {"b"}}, http.StatusBadRequest)
		if !strings.Contains(rec.Body.String(), "no recommendation") {
			t.Errorf("unknown recommendation: reason missing")
		}
		s.post(s.a1, "/discussions", url.Values{"rec": {s.rec}, "org": {fmt.Sprint(s.orgB)}, "audience": {"org"},
			"title": {"t"}, "body": {"b"}}, http.StatusBadRequest)
		s.post(s.a1, "/notes", url.Values{"rec": {s.rec}, "org": {fmt.Sprint(s.orgA)}, "audience": {"all"}, "body": {"  "}}, http.StatusBadRequest)
		s.post(s.a1, "/proposals", url.Values{"rec": {s.rec}, "org": {fmt.Sprint(s.orgA)}, "reason": {"r"}}, http.StatusBadRequest)
		if code := s.do(s.a1, "GET", "/discussions/abc", nil).Code; code != http.StatusNotFound {
			t.Errorf("non-numeric thread ID: %d", code)
		}
		var n int
		d.QueryRow(context.Background(), `SELECT (SELECT COUNT(*) FROM collab_threads) + (SELECT COUNT(*) FROM collab_notes) +
			(SELECT COUNT(*) FROM collab_proposals)`).Scan(&n)
		if n != 0 {
			t.Errorf("refused forms wrote %d rows", n)
		}
	})
}

func TestNotificationBadgeAndRead(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d)
		id := s.startThread(s.a1, s.orgA, AudienceCountry, "Country thread", "first")
		if strings.Contains(s.body(s.a1, "/discussions"), `aria-label="1 unread"`) {
			t.Errorf("badge counts the author's own post")
		}
		s.post(s.mw, fmt.Sprintf("/discussions/%d/replies", id), url.Values{"body": {"from the central bank"}}, http.StatusSeeOther)
		page := s.body(s.a1, "/discussions")
		if !strings.Contains(page, `id="notifications-badge"`) || !strings.Contains(page, `aria-label="1 unread"`) {
			t.Fatalf("a1's badge does not show 1 unread")
		}
		ns, _ := s.s.Notifications(s.ctx, s.a1.UserID, 0)
		rec := s.post(s.a1, fmt.Sprintf("/notifications/%d/read", ns[0].ID), url.Values{}, http.StatusSeeOther)
		if loc := rec.Header().Get("Location"); !strings.HasPrefix(loc, fmt.Sprintf("/discussions/%d#post-", id)) {
			t.Errorf("opening the notification goes to %q", loc)
		}
		if strings.Contains(s.body(s.a1, "/notifications"), `aria-label="1 unread"`) {
			t.Errorf("badge still counts a read notification")
		}
		// Someone else's notification is not theirs to mark.
		s.post(s.b, fmt.Sprintf("/notifications/%d/read", ns[0].ID), url.Values{}, http.StatusNotFound)
	})
}

func TestProposalFlowPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d)
		orig, _ := s.cat.Get(s.rec)
		rec := s.post(s.a1, "/proposals", url.Values{"rec": {s.rec}, "org": {fmt.Sprint(s.orgA)},
			"statement": {"A clearer statement <em>now</em>."}, "rationale": {orig.Rationale}, "reason": {"Examiners asked."}}, http.StatusSeeOther)
		loc := rec.Header().Get("Location")
		if p, _ := s.s.Proposals(s.ctx, s.admin, ""); len(p) != 1 || p[0].Rationale != "" {
			t.Fatalf("an unchanged rationale was proposed as a change: %+v", p)
		}
		if code := s.do(s.b, "GET", loc, nil).Code; code != http.StatusNotFound {
			t.Errorf("another member opens the proposal: %d", code)
		}
		s.post(s.a1, loc+"/accept", url.Values{}, http.StatusForbidden)
		s.post(s.admin, loc+"/accept", url.Values{}, http.StatusSeeOther)
		page := s.body(s.b, "/catalogue/"+s.rec)
		if !strings.Contains(page, "A clearer statement &lt;em&gt;now&lt;/em&gt;.") || !strings.Contains(page, s.cat.Version+"-r1") {
			t.Errorf("recommendation page does not show the accepted text and revision")
		}
		exp := s.do(s.b, "GET", "/catalogue/export/json", nil)
		if !strings.Contains(exp.Body.String(), "A clearer statement") {
			t.Errorf("export does not carry the accepted text")
		}
		s.post(s.admin, loc+"/accept", url.Values{}, http.StatusConflict)
		if !strings.Contains(s.body(s.a1, "/notifications"), "was accepted") {
			t.Errorf("proposer not notified of the acceptance")
		}
	})
}

func TestAnonymousNotePage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d)
		// Three DFS providers in MW: "a DFS provider in MW" names none.
		for _, name := range []string{"Provider C", "Provider D"} {
			if _, err := s.ids.CreateOrg(s.ctx, identity.NewOrg{Name: name, Type: identity.OrgDFSProvider, Country: "MW"}); err != nil {
				t.Fatal(err)
			}
		}
		s.post(s.a1, "/notes", url.Values{"rec": {s.rec}, "org": {fmt.Sprint(s.orgA)}, "audience": {"all"}, "anonymous": {"1"},
			"body": {"We ran a pilot first."}}, http.StatusSeeOther)
		page := s.body(s.b, "/catalogue/"+s.rec)
		if !strings.Contains(page, "We ran a pilot first.") || !strings.Contains(page, "a DFS provider in MW") {
			t.Errorf("note or its anonymised byline missing")
		}
		if strings.Contains(page, "Provider A") || strings.Contains(page, "a1@example.org") {
			t.Errorf("anonymous note reveals its organisation or author")
		}
	})
}
