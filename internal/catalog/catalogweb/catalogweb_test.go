package catalogweb

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/web"
)

// oneUser is a session store with a single signed-in user (cookie "good").
type oneUser struct{}

func (oneUser) CreateSession(context.Context, web.NewSession) (string, error) { return "good", nil }
func (oneUser) LookupSession(_ context.Context, tok string) (*web.Principal, error) {
	if tok != "good" {
		return nil, web.ErrNoSession
	}
	now := time.Now()
	return &web.Principal{User: web.User{ID: 7, Email: "analyst@example.org"},
		Session: &web.Session{ID: "s1", CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(time.Hour), VerifiedAt: now}}, nil
}
func (oneUser) TouchSession(context.Context, string, time.Time) error        { return nil }
func (oneUser) MarkSessionVerified(context.Context, string, time.Time) error { return nil }
func (oneUser) EndSession(context.Context, string) error                     { return nil }
func (oneUser) RenewSession(context.Context, string) (string, time.Time, error) {
	return "good", time.Now().Add(time.Hour), nil
}
func (oneUser) LookupToken(context.Context, string) (*web.Principal, error) {
	return nil, web.ErrNoSession
}

type recorder struct {
	mu      sync.Mutex
	entries []string
}

func (r *recorder) Record(_ context.Context, action, objType, objID string, details map[string]any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entries = append(r.entries, action+" "+objType+" "+objID)
	return nil
}

func newServer(t *testing.T, public bool, opts ...func(*Module)) (*httptest.Server, *recorder) {
	t.Helper()
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	rd, err := web.NewRenderer(web.StaticTree{Prefix: "catalog", FS: StaticFS()})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	m, err := New(cat, rd, public, rec)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range opts {
		o(m)
	}
	base, _ := url.Parse("http://127.0.0.1")
	srv, err := web.New(web.Config{BaseURL: base}, web.Deps{Sessions: web.NewSessions(oneUser{}, false, nil), Renderer: rd}, m)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts, rec
}

func get(t *testing.T, ts *httptest.Server, path string, signedIn bool) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", ts.URL+path, nil)
	if signedIn {
		for _, name := range []string{"__Host-dfslab_session", "dfslab_session"} {
			req.AddCookie(&http.Cookie{Name: name, Value: "good"})
		}
	}
	c := ts.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestCataloguePages(t *testing.T) {
	ts, rec := newServer(t, false)
	tests := []struct {
		name     string
		path     string
		signedIn bool
		status   int
		contains []string
		absent   []string
	}{
		{"list needs sign-in", "/catalogue", false, http.StatusSeeOther, nil, nil},
		{"list", "/catalogue", true, 200, []string{`id="rec-APP-001"`, `id="facet-layer"`, "Telecom regulator", `<span class="badge badge-quiet">DFS provider</span>`}, []string{`<span class="badge badge-quiet">dfs_provider</span>`}},
		{"search", "/catalogue?q=sim+swap", true, 200, []string{`id="rec-TEL-001"`}, []string{`id="rec-APP-031"`}},
		{"facet", "/catalogue?layer=governance", true, 200, []string{`id="rec-GOV-001"`, "Remove filter Layer: Regulation and governance"}, []string{`id="rec-APP-001"`}},
		{"unknown facet values are ignored", "/catalogue?layer=%3Cscript%3E", true, 200, []string{`id="rec-APP-001"`}, []string{"<script>"}},
		{"scan rule filter", "/catalogue?rule=DFS-CRYPTO-004", true, 200, []string{`id="rec-APP-031"`, "Scanner rule: DFS-CRYPTO-004"}, []string{`id="rec-TEL-001"`}},
		{"detail", "/catalogue/APP-013", true, 200, []string{"Pin the back-end certificates", `href="/catalogue?threat=mitm_social_engineering"`, "DFS-RES-005", "T3.3"}, nil},
		{"detail lower-case id", "/catalogue/tel-001", true, 200, []string{"Verify identity before every SIM swap"}, nil},
		{"unknown id", "/catalogue/APP-999", true, 404, nil, []string{"APP-999"}},
		{"list shows live items only", "/catalogue", true, 200, []string{"189 recommendations for regulators", `id="facet-priority"`, `<span class="badge badge-essential">Essential</span>`},
			[]string{`id="rec-APP-049"`, `id="rec-PAY-001"`}},
		{"priority facet", "/catalogue?priority=advanced&layer=app", true, 200, []string{`id="rec-APP-046"`, "Remove filter Priority: Advanced"}, []string{`id="rec-APP-001"`}},
		{"parameters", "/catalogue/PAY-002", true, 200, []string{"for 48 hours after a SIM swap", `id="param-hold"`, "<td>48 hours</td><td>24–72 hours</td>",
			`<dd id="priority"><a href="/catalogue?priority=essential">Essential</a></dd>`}, []string{"{hold} after"}},
		{"two parameters", "/catalogue/PAY-013", true, 200, []string{`id="param-rto"`, `id="param-rpo"`, "<td>15 minutes</td><td>0–60 minutes</td>"}, nil},
		{"release notes", "/catalogue/releases", true, 200, []string{`id="release-2026.2"`, `id="release-2026.1"`, "CA/Browser Forum",
			`<tr id="withdrawn-PAY-001"><td><a href="/catalogue/PAY-001">PAY-001</a> Detect SIM changes in real time</td><td>2026.2</td><td><a href="/catalogue/TEL-005">TEL-005</a></td></tr>`}, nil},
		{"release notes need sign-in", "/catalogue/releases", false, http.StatusSeeOther, nil, nil},
		{"withdrawn item", "/catalogue/APP-049", true, 200, []string{`id="withdrawn"`, "Withdrawn in release 2026.2.", `Replaced by <a href="/catalogue/APP-012">`}, nil},
		{"survivor lists what it replaces", "/catalogue/TEL-005", true, 200, []string{`id="replaces"`, `href="/catalogue/PAY-001"`, `href="/catalogue/TEL-024"`, "within 60 seconds"}, []string{`id="withdrawn"`}},
		{"two checks and dimensions", "/catalogue/APP-012", true, 200, []string{"Static scan of the app; Device or proxy test",
			`href="/catalogue?dimension=communication_security">Communication security</a>, <a href="/catalogue?dimension=authentication">Authentication</a>`}, nil},
		{"governance item without dimension", "/catalogue/GOV-021", true, 200, []string{"None: a governance item"}, nil},
		{"stronger than source", "/catalogue/TEL-026", true, 200, []string{`id="stronger-than-source"`}, nil},
		{"as strong as the source", "/catalogue/PAY-046", true, 200, nil, []string{`id="stronger-than-source"`}},
		{"bad export format", "/catalogue/export/xml", true, 404, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, _ := get(t, ts, tt.path, tt.signedIn)
			if status != tt.status {
				t.Fatalf("GET %s = %d, want %d", tt.path, status, tt.status)
			}
			for _, s := range tt.contains {
				if !strings.Contains(body, s) {
					t.Errorf("GET %s: body lacks %q", tt.path, s)
				}
			}
			for _, s := range tt.absent {
				if strings.Contains(body, s) {
					t.Errorf("GET %s: body contains %q", tt.path, s)
				}
			}
		})
	}
	status, body, hdr := get(t, ts, "/catalogue/export/oscal", true)
	if status != 200 || !strings.Contains(body, `"oscal-version"`) || !strings.Contains(hdr.Get("Content-Disposition"), "attachment") {
		t.Fatalf("OSCAL export: %d %s", status, hdr.Get("Content-Disposition"))
	}
	if len(rec.entries) != 1 || !strings.HasPrefix(rec.entries[0], "catalog.export catalog ") {
		t.Fatalf("audit entries = %v, want one catalog.export", rec.entries)
	}
}

func TestPublicCatalogue(t *testing.T) {
	ts, rec := newServer(t, true)
	for _, p := range []string{"/catalogue", "/catalogue/GOV-001", "/catalogue/export/csv"} {
		if status, _, _ := get(t, ts, p, false); status != 200 {
			t.Errorf("GET %s anonymously = %d, want 200 with --public-catalogue", p, status)
		}
	}
	if len(rec.entries) != 0 {
		t.Errorf("anonymous export audited as %v; there is no actor to record", rec.entries)
	}
}
