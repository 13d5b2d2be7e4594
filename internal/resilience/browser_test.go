package resilience_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/browsertest"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/identity/identitytest"
	"github.com/dfslab/dfslab/internal/pdf"
	"github.com/dfslab/dfslab/internal/resilience"
	"github.com/dfslab/dfslab/internal/web"
	"github.com/dfslab/dfslab/internal/web/webtest"
)

// server is the module alone behind the platform's shell, with the seeded
// two-country world of identitytest and stand-in sessions.
type server struct {
	*fixture
	srv    *web.Server
	cookie string
	users  map[string]int64
	orgs   map[string]resilience.Org
}

func newServer(t testing.TB) *server {
	return newServerOn(t, dbtest.SQLite(t))
}

func newServerOn(t testing.TB, d *db.DB) *server {
	f := newFixture(t, d)
	w := identitytest.Seed(t, f.ids)
	s := &server{fixture: f, users: w.Users, orgs: map[string]resilience.Org{}}
	for k, o := range w.Orgs {
		s.orgs[k] = resilience.Org{ID: o.ID, Name: o.Name, Country: o.Country,
			Regulator: o.Type == identity.OrgTelecomRegulator || o.Type == identity.OrgCentralBank}
	}
	// Two more providers and an operator in Malawi, each with an admin.
	for _, o := range []struct {
		key, name string
		typ       identity.OrgType
	}{{"p3", "Chuma Wallet", identity.OrgDFSProvider}, {"p4", "Kwacha Pay", identity.OrgDFSProvider}, {"p5", "TNM", identity.OrgMNO}} {
		org, err := f.ids.CreateOrg(f.ctx, identity.NewOrg{Name: o.name, Type: o.typ, Country: "MW"})
		if err != nil {
			t.Fatal(err)
		}
		s.orgs[o.key] = resilience.Org{ID: org.ID, Name: org.Name, Country: "MW"}
		s.users[o.key+"-admin"] = identitytest.Member(t, f.ids, org.ID, o.key+"-admin@example.org", o.key+"-admin", identity.RoleOrgAdmin).ID
	}
	clock := func() time.Time { return f.now }
	rd, err := web.NewRenderer(web.StaticTree{Prefix: "resilience", FS: resilience.StaticFS()})
	if err != nil {
		t.Fatal(err)
	}
	var render pdf.Renderer
	if p := pdf.ChromiumPath(); p != "" {
		render = pdf.Chromium(p)
	}
	mod, err := resilience.New(f.s, rd, render, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ses := web.NewSessions(webtest.Sessions{IDs: f.ids, Now: clock}, false, clock)
	base, _ := url.Parse("http://localhost:8080")
	s.srv, err = web.New(web.Config{BaseURL: base}, web.Deps{Sessions: ses, Audit: webtest.Auditor{DB: f.d}, Limiter: web.NewLimiter(web.LimiterConfig{}, clock),
		Renderer: rd, Ready: f.d.Ping, WithActor: func(ctx context.Context, a web.Actor) context.Context {
			return audit.WithActor(ctx, audit.Actor{UserID: a.UserID, OrgID: a.OrgID, IP: a.IP, RequestID: a.RequestID})
		}}, mod)
	if err != nil {
		t.Fatal(err)
	}
	s.cookie = ses.CookieName()
	return s
}

func (s *server) path(org, rest string) string {
	return fmt.Sprintf("/orgs/%d/resilience%s", s.orgs[org].ID, rest)
}

// api sends an API request with a stand-in token of user.
func (s *server) api(user, method, target, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+webtest.Token(s.users[user], web.ScopeWrite))
	rec := httptest.NewRecorder()
	s.srv.ServeHTTP(rec, r)
	return rec
}

// TestBrowserCampaign drives the toolkit in headless Chromium: the
// regulator launches a campaign; three providers answer (one through the
// API, one by clicking with the autosave script) and sign off; the
// regulator's benchmark shows the three providers and says "too few to
// show" for the two operators. With DFSLAB_SCREENSHOTS=DIR it saves the
// screenshots of the documentation.
func TestBrowserCampaign(t *testing.T) {
	b := browsertest.New(t)
	s := newServer(t)
	b.Serve(s.srv, func(user string) *http.Cookie {
		return &http.Cookie{Name: s.cookie, Value: webtest.Cookie(s.users[user])}
	})
	deadline := s.now.AddDate(0, 2, 0).Format("2006-01-02")
	b.As("macra-admin", s.path("macra", ""),
		chromedp.SendKeys("#launch-title", "Sector self-assessment 2027"),
		chromedp.Click(`input[name=entity_types][value=dfs_provider]`), chromedp.Click(`input[name=entity_types][value=mno]`),
		chromedp.SetValue("#launch-deadline", deadline),
		chromedp.Click("#launch-submit"), chromedp.WaitVisible("#campaign-table"))
	cs, err := s.s.Campaigns(s.ctx, "MW")
	if err != nil || len(cs) != 1 {
		t.Fatalf("campaigns: %d, %v", len(cs), err)
	}
	camp := cs[0]

	// The first provider starts in the browser and answers two questions
	// by clicking: the script saves each at once.
	b.As("p1-admin", s.path("p1", ""),
		chromedp.WaitVisible("#open-campaigns"),
		chromedp.SendKeys("#start-title-input", "Self-assessment 2027"),
		chromedp.SetValue("#start-campaign", fmt.Sprint(camp.ID)),
		chromedp.Click("#start-submit"), chromedp.WaitVisible("#q-RM-01"),
		chromedp.Click(`#q-RM-01 input[name=level][value="3"]`),
		chromedp.WaitVisible(`#q-RM-01 .save-state`),
	)
	if got := waitText(t, b, "#q-RM-01 .save-state", "Saved"); !strings.HasPrefix(got, "Saved at") {
		t.Fatalf("autosave said %q", got)
	}
	as, err := s.s.Assessments(s.ctx, s.orgs["p1"].ID)
	if err != nil || len(as) != 1 {
		t.Fatalf("p1 assessments: %d, %v", len(as), err)
	}
	p1 := as[0]
	if got, _ := s.s.Answers(s.ctx, p1.ID); got["RM-01"].Level == nil || *got["RM-01"].Level != 3 {
		t.Fatalf("autosaved answer: %+v", got["RM-01"])
	}
	// The rest of p1's answers, then the sign-off in the browser.
	answerRest := func(org string, a resilience.Assessment, level int) {
		t.Helper()
		cur, _ := s.s.Answers(s.ctx, a.ID)
		m, _ := s.s.Model(s.ctx, a.ModelKey)
		for _, d := range m.DomainsOf(a.Variant) {
			for _, q := range d.Questions {
				if !q.Applies(a.Profile.EntityType) || cur[q.ID].Version > 0 {
					continue
				}
				if _, err := s.s.SaveAnswer(s.ctx, s.orgs[org].ID, a.ID, resilience.Answer{QuestionID: q.ID, Level: lv(level)}, 0); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	answerRest("p1", p1, 2)
	b.As("p1-admin", s.path("p1", fmt.Sprintf("/assessments/%d", p1.ID)), chromedp.Click("#signoff-submit"), chromedp.WaitVisible("#radar-title"))
	if got := b.Text("#overall-level"); !strings.Contains(got, "Developing") {
		t.Fatalf("scorecard level %q", got)
	}
	b.Shot("resilience-scorecard.png")

	// The second provider answers through the API, the third through the
	// store; both sign off.
	start := func(org string, et resilience.EntityType) resilience.Assessment {
		t.Helper()
		a, err := s.s.CreateAssessment(s.ctx, s.orgs[org], resilience.NewAssessment{Title: "2027", ModelKey: camp.ModelKey, Variant: camp.Variant,
			CampaignID: camp.ID, Profile: resilience.Profile{EntityType: et, Volume: 2}})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	p3 := start("p3", resilience.EntityDFSProvider)
	m, _ := s.s.Model(s.ctx, p3.ModelKey)
	for _, d := range m.DomainsOf(p3.Variant) {
		for _, q := range d.Questions {
			if !q.Applies(resilience.EntityDFSProvider) {
				continue
			}
			rec := s.api("p3-admin", "PUT", fmt.Sprintf("/api/v1/resilience/assessments/%d/answers/%s", p3.ID, q.ID), `{"level": 4}`)
			if rec.Code != http.StatusOK {
				t.Fatalf("API answer %s: %d %s", q.ID, rec.Code, rec.Body)
			}
		}
	}
	p4 := start("p4", resilience.EntityDFSProvider)
	answerRest("p4", p4, 3)
	// Two operators: a group of two stays hidden.
	p2 := start("p2", resilience.EntityMNO)
	answerRest("p2", p2, 1)
	p5 := start("p5", resilience.EntityMNO)
	answerRest("p5", p5, 5)
	for org, a := range map[string]resilience.Assessment{"p3": p3, "p4": p4, "p2": p2, "p5": p5} {
		if _, err := s.s.Submit(s.ctx, s.orgs[org].ID, a.ID); err != nil {
			t.Fatalf("%s sign-off: %v", org, err)
		}
	}

	b.As("macra-admin", s.path("macra", fmt.Sprintf("/campaigns/%d/benchmark", camp.ID)), chromedp.WaitVisible("#heat-map"))
	prov := b.Text("#heat-dfs_provider")
	if strings.Contains(prov, "too few") || !strings.Contains(prov, "(3)") {
		t.Fatalf("provider row: %q", prov)
	}
	if ops := b.Text("#heat-mno"); strings.Count(ops, "too few to show") != 6 || !strings.Contains(ops, "(2)") {
		t.Fatalf("operator row shows figures for two: %q", ops)
	}
	if got := b.Text("#submitted"); !strings.HasPrefix(got, "5") {
		t.Fatalf("submitted: %q", got)
	}
	b.Shot("resilience-benchmark.png")

	// On a phone the answer form fits the screen.
	b.As("p4-admin", s.path("p4", fmt.Sprintf("/assessments/%d?domain=GOV", p4.ID)),
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile), chromedp.WaitVisible("#q-GOV-01"))
	wide, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if err != nil || wide {
		t.Fatalf("answer form wider than a phone: %v %v", wide, err)
	}
}

// waitText waits until sel's text starts with prefix (or 10 s pass) and
// returns it.
func waitText(t *testing.T, b *browsertest.Browser, sel, prefix string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := b.Text(sel)
		if strings.HasPrefix(got, prefix) || time.Now().After(deadline) {
			return got
		}
		time.Sleep(100 * time.Millisecond)
	}
}
