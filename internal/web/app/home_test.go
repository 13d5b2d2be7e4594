package app

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/adoption"
	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/collab"
	"github.com/dfslab/dfslab/internal/identity"
)

// section returns the text of the home page's section id (empty when the
// page has none).
func section(body, id string) string {
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		return ""
	}
	s, _, _ := strings.Cut(body[i:], "</section>")
	return s
}

// TestHomeIsMyWork: the start page of a regulator shows the reporting
// status of its providers with who has not reported, the reports to
// review and the discussions awaiting an answer; a provider's shows its
// regulator's requests and its deadlines; nothing of another country or
// organisation shows.
// reporting is the data seedReporting makes: two providers of MW
// (Cedar reported, Delta did not), a published baseline, an open period.
type reporting struct {
	ad    *adoption.Store
	reg   adoption.Org
	cID   int64
	cUser string
	first adoption.Item // Cedar's first item, planned for next week
	due   string        // the period's due date
	soon  string        // the item's target date
	sub   adoption.Submission
	as    func(user string, org int64) context.Context
}

// seedReporting gives the world's regulator (A, MW) a baseline, a
// reporting period and two providers, one of which has reported; and a
// discussion by Provider B nobody answered.
func seedReporting(t *testing.T, w *world) reporting {
	t.Helper()
	ctx := context.Background()
	ids := w.app.Identity
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	ad := adoption.NewStore(w.app.DB, cat, w.clock.Now)

	// Two providers in the regulator's country, one member each.
	mk := func(name string) (int64, string) {
		o, err := ids.CreateOrg(ctx, identity.NewOrg{Name: name, Type: identity.OrgDFSProvider, Country: "MW"})
		if err != nil {
			t.Fatal(err)
		}
		user := strings.ToLower(strings.Fields(name)[0]) + "-user"
		inv, err := ids.Invite(ctx, o.ID, user+"@example.org", identity.RoleOrgAdmin)
		if err != nil {
			t.Fatal(err)
		}
		w.users[user] = w.enrol(inv.Token, user)
		return o.ID, user
	}
	cID, cUser := mk("Cedar <Money>")
	_, _ = mk("Delta Pay")

	as := func(user string, org int64) context.Context {
		return audit.WithActor(ctx, audit.Actor{UserID: w.users[user], OrgID: org})
	}
	reg, err := ad.Org(ctx, w.orgA)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ad.AdoptRemaining(as("admin-a", w.orgA), reg); err != nil {
		t.Fatal(err)
	}
	if _, err := ad.Publish(as("admin-a", w.orgA), reg, "first"); err != nil {
		t.Fatal(err)
	}
	due := w.clock.Now().AddDate(0, 0, 20).Format(time.DateOnly)
	if _, err := ad.OpenPeriod(as("admin-a", w.orgA), reg, "Q1 2027", due); err != nil {
		t.Fatal(err)
	}
	cOrg, err := ad.Org(ctx, cID)
	if err != nil {
		t.Fatal(err)
	}
	// Cedar gives one item a target date next week, then reports.
	tr, err := ad.Items(ctx, cOrg)
	if err != nil || len(tr.Items) == 0 {
		t.Fatalf("items: %d, %v", len(tr.Items), err)
	}
	first := tr.Items[0]
	soon := w.clock.Now().AddDate(0, 0, 7).Format(time.DateOnly)
	if _, err := ad.Update(as(cUser, cID), cOrg, first.RecID, adoption.Update{Status: adoption.Planned, TargetDate: soon, Version: first.Version}); err != nil {
		t.Fatal(err)
	}
	sub, err := ad.Submit(as(cUser, cID), cOrg, "We sign off.")
	if err != nil {
		t.Fatal(err)
	}
	// A discussion by Provider B (another country) for everyone, which
	// nobody answered.
	if _, err := w.app.Collab.CreateThread(ctx, collab.Viewer{UserID: w.users["admin-b"]}, collab.NewThread{
		RecID: first.RecID, OrgID: w.orgB, Audience: collab.AudienceAll, Title: "How do you <verify> this?", Body: "Question."}); err != nil {
		t.Fatal(err)
	}

	return reporting{ad: ad, reg: reg, cID: cID, cUser: cUser, first: first, due: due, soon: soon, sub: sub, as: as}
}

func TestHomeIsMyWork(t *testing.T) {
	w := newWorld(t)
	sd := seedReporting(t, w)
	ad, reg, cUser, first, due, soon, sub, as := sd.ad, sd.reg, sd.cUser, sd.first, sd.due, sd.soon, sd.sub, sd.as
	body := w.do("GET", "/", "", w.cookie("viewer-a"), "").Body.String()
	rep := section(body, "home-reporting")
	for _, want := range []string{"Q1 2027", "due " + due, "2 providers in scope", "Not reported yet", "Delta Pay", "not due yet"} {
		if !strings.Contains(rep, want) {
			t.Errorf("regulator's reporting status lacks %q:\n%s", want, rep)
		}
	}
	if strings.Contains(rep, "Cedar") {
		t.Errorf("Cedar reported, but is listed as not reported:\n%s", rep)
	}
	if review := section(body, "home-review"); !strings.Contains(review, "Cedar &lt;Money&gt;") || !strings.Contains(review, "/sector/submissions/") {
		t.Errorf("reports to review:\n%s", review)
	}
	if d := section(body, "home-discussions"); !strings.Contains(d, "How do you &lt;verify&gt; this?") {
		t.Errorf("discussions awaiting an answer:\n%s", d)
	}
	if strings.Contains(body, `id="home-triage"`) || strings.Contains(body, `id="home-requests"`) {
		t.Error("a regulator's home shows a provider's panels")
	}

	// The provider: its item due next week, nothing overdue, no request.
	cc := w.cookie(cUser)
	body = w.do("GET", "/", "", cc, "").Body.String()
	if s := section(body, "home-soon"); !strings.Contains(s, first.RecID) || !strings.Contains(s, "due "+soon) {
		t.Errorf("provider's items due soon:\n%s", s)
	}
	if s := section(body, "home-overdue"); !strings.Contains(s, "Nothing is overdue.") {
		t.Errorf("provider's overdue items:\n%s", s)
	}
	if s := section(body, "home-requests"); !strings.Contains(s, "no open request") {
		t.Errorf("requests before the review:\n%s", s)
	}
	if strings.Contains(body, `id="home-reporting"`) || strings.Contains(body, "Delta Pay") {
		t.Error("a provider's home shows the regulator's panels or another provider")
	}
	// The regulator returns the report: a request on the provider's home.
	if _, err := ad.ReviewSubmission(as("admin-a", w.orgA), reg, sub.ID, adoption.ReviewInput{Outcome: adoption.Returned, Summary: "Evidence missing."}); err != nil {
		t.Fatal(err)
	}
	body = w.do("GET", "/", "", cc, "").Body.String()
	if s := section(body, "home-requests"); !strings.Contains(s, "returned with findings") {
		t.Errorf("requests after the report was returned:\n%s", s)
	}
	if s := section(w.do("GET", "/", "", w.cookie("viewer-a"), "").Body.String(), "home-review"); strings.Contains(s, "Cedar") {
		t.Errorf("a reviewed report is still to review:\n%s", s)
	}

	// Someone of Provider B (LS) sees nothing of MW's reporting.
	body = w.do("GET", "/", "", w.cookie("admin-b"), "").Body.String()
	if strings.Contains(body, "Cedar") || strings.Contains(body, "Delta") || strings.Contains(body, "Q1 2027") {
		t.Error("another country's provider sees MW's reporting")
	}
	// A recommendation page says where it stands for the reader.
	recPage := func(c *http.Cookie) string {
		t.Helper()
		rec := w.do("GET", "/catalogue/"+first.RecID, "", c, "")
		if rec.Code != http.StatusOK {
			t.Fatalf("recommendation page: %d", rec.Code)
		}
		return section(rec.Body.String(), "standing")
	}
	if s := recPage(cc); !strings.Contains(s, "Baseline of MW") || !strings.Contains(s, ">v1</a>: <strong>Adopted</strong>") ||
		!strings.Contains(s, "Tracking of Cedar &lt;Money&gt;") || !strings.Contains(s, ">Planned</a>, target "+soon) {
		t.Errorf("standing for Cedar:\n%s", s)
	}
	if s := recPage(w.cookie("admin-b")); !strings.Contains(s, "Baseline of LS") || !strings.Contains(s, "no baseline published yet") || strings.Contains(s, "Cedar") {
		t.Errorf("standing for Provider B (LS):\n%s", s)
	}
	if s := recPage(w.cookie("padmin")); s != "" {
		t.Errorf("standing for someone without an organisation:\n%s", s)
	}
	if list := w.do("GET", "/catalogue", "", cc, "").Body.String(); !strings.Contains(list, "catalog/facets.js") || !strings.Contains(list, `id="search-submit"`) {
		t.Error("the catalogue does not apply facets as they are ticked")
	}

	if rec := w.do("GET", "/", "", nil, ""); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "DFS Security Lab") {
		t.Errorf("anonymous home: %d", rec.Code)
	}
}
