package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/pdf"
	"github.com/dfslab/dfslab/internal/resilience"
	"github.com/dfslab/dfslab/internal/testenv"
)

// TestResilienceCampaignFlow plays the toolkit's journey through the real
// server: a regulator launches a campaign; three providers of its country
// answer (one through the API) and sign off; a fourth provider cannot see
// their assessments; the regulator's benchmark shows the providers'
// figures and withholds a group of one.
func TestResilienceCampaignFlow(t *testing.T) { eachDB(t, testResilienceCampaignFlow) }

func testResilienceCampaignFlow(t *testing.T, w *world) {
	ctx := context.Background()
	ids := w.app.Identity
	// Organisation A is a telecom regulator in MW; add its providers and
	// an operator, each with an org admin.
	orgs := map[string]int64{}
	for _, o := range []struct {
		key string
		typ identity.OrgType
	}{{"p1", identity.OrgDFSProvider}, {"p2", identity.OrgDFSProvider}, {"p3", identity.OrgDFSProvider}, {"op", identity.OrgMNO}, {"p4", identity.OrgDFSProvider}} {
		org, err := ids.CreateOrg(ctx, identity.NewOrg{Name: "Entity " + o.key, Type: o.typ, Country: "MW"})
		if err != nil {
			t.Fatal(err)
		}
		orgs[o.key] = org.ID
		inv, err := ids.Invite(ctx, org.ID, "admin-"+o.key+"@example.org", identity.RoleOrgAdmin)
		if err != nil {
			t.Fatal(err)
		}
		w.users["admin-"+o.key] = w.enrol(inv.Token, "admin-"+o.key)
	}
	reg := w.cookie("admin-a")
	deadline := w.clock.Now().AddDate(0, 1, 0).Format("2006-01-02")
	form := url.Values{"title": {"Sector assessment 2027"}, "model": {"dfs-cyber-resilience@2026.1"}, "variant": {"five-pillar"},
		"entity_types": {"dfs_provider", "mno"}, "deadline": {deadline}}
	if rec := w.do("POST", orgURL(w.orgA, "/resilience/campaigns"), form.Encode(), reg, ""); rec.Code != http.StatusSeeOther {
		t.Fatalf("launch: %d %s", rec.Code, rec.Body)
	}
	// A provider cannot launch a campaign.
	if rec := w.do("POST", orgURL(orgs["p1"], "/resilience/campaigns"), form.Encode(), w.cookie("admin-p1"), ""); rec.Code != http.StatusNotFound {
		t.Fatalf("provider launched a campaign: %d", rec.Code)
	}
	page := w.do("GET", orgURL(w.orgA, "/resilience"), "", reg, "").Body.String()
	m := regexp.MustCompile(`/resilience/campaigns/(\d+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("regulator's page lists no campaign:\n%s", page)
	}
	campaign := m[1]

	// Each provider sees the campaign and starts an assessment for it.
	start := func(key string) int64 {
		t.Helper()
		c := w.cookie("admin-" + key)
		if body := w.do("GET", orgURL(orgs[key], "/resilience"), "", c, "").Body.String(); !strings.Contains(body, "Sector assessment 2027") {
			t.Fatalf("%s does not see the campaign", key)
		}
		f := url.Values{"title": {"Campaign answer"}, "campaign": {campaign}, "entity_type": {"dfs_provider"}, "volume": {"2"},
			"customers": {"2"}, "third_parties": {"1"}, "incidents": {"0"}, "channels": {"app", "ussd"}}
		rec := w.do("POST", orgURL(orgs[key], "/resilience/assessments"), f.Encode(), c, "")
		loc := rec.Header().Get("Location")
		if rec.Code != http.StatusSeeOther || !strings.Contains(loc, "/resilience/assessments/") {
			t.Fatalf("%s start: %d %s", key, rec.Code, rec.Body)
		}
		id, _ := strconv.ParseInt(strings.TrimSuffix(strings.Split(loc, "/assessments/")[1], "?created=1"), 10, 64)
		return id
	}
	m2, err := resilienceModel(w)
	if err != nil {
		t.Fatal(err)
	}
	answerAll := func(key string, id int64, level int, api string) {
		et := resilience.EntityDFSProvider
		if key == "op" {
			et = resilience.EntityMNO
		}
		t.Helper()
		c := w.cookie("admin-" + key)
		for _, d := range m2.DomainsOf("five-pillar") {
			for _, q := range d.Questions {
				if !q.Applies(et) {
					continue
				}
				if api != "" {
					body := fmt.Sprintf(`{"level": %d, "version": 0}`, level)
					rec := w.doJSON("PUT", fmt.Sprintf("/api/v1/resilience/assessments/%d/answers/%s", id, q.ID), body, api)
					if rec.Code != http.StatusOK {
						t.Fatalf("API answer %s: %d %s", q.ID, rec.Code, rec.Body)
					}
					continue
				}
				f := url.Values{"question": {q.ID}, "level": {strconv.Itoa(level)}, "version": {"0"}, "comment": {"checked " + q.ID}}
				if rec := w.do("POST", orgURL(orgs[key], fmt.Sprintf("/resilience/assessments/%d/answers", id)), f.Encode(), c, ""); rec.Code != http.StatusSeeOther {
					t.Fatalf("answer %s: %d %s", q.ID, rec.Code, rec.Body)
				}
			}
		}
	}
	p1, p2, p3 := start("p1"), start("p2"), start("p3")
	// The answer page renders, per domain, with every level described.
	body := w.do("GET", orgURL(orgs["p1"], fmt.Sprintf("/resilience/assessments/%d?domain=GOV", p1)), "", w.cookie("admin-p1"), "").Body.String()
	for _, want := range []string{`id="q-GOV-01"`, "No one is responsible for information security.", `aria-current="page" id="tab-GOV"`} {
		if !strings.Contains(body, want) {
			t.Fatalf("answer page lacks %q", want)
		}
	}
	if strings.Contains(body, `id="tab-PRO"`) {
		t.Fatal("the five-pillar variant shows protection")
	}
	answerAll("p1", p1, 1, "")
	answerAll("p2", p2, 3, "")
	tok, _, err := w.app.Identity.CreateAPIToken(ctx, w.users["admin-p3"], "ci", identity.ScopeWrite, w.clock.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	answerAll("p3", p3, 4, tok)

	// A stale autosave is refused with the current answer, nothing lost.
	stale := url.Values{"question": {"RM-01"}, "level": {"0"}, "version": {"0"}}
	rec := w.doAccept("POST", orgURL(orgs["p1"], fmt.Sprintf("/resilience/assessments/%d/answers", p1)), stale.Encode(), w.cookie("admin-p1"), "application/json")
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), `"version": 1`) {
		t.Fatalf("stale autosave: %d %s", rec.Code, rec.Body)
	}
	// The API refuses another organisation's assessment as unknown.
	if rec := w.doJSON("GET", fmt.Sprintf("/api/v1/resilience/assessments/%d", p1), "", tok); rec.Code != http.StatusNotFound {
		t.Fatalf("p3's token read p1's assessment: %d", rec.Code)
	}
	// Another provider of the country cannot open p1's assessment.
	if rec := w.do("GET", orgURL(orgs["p1"], fmt.Sprintf("/resilience/assessments/%d", p1)), "", w.cookie("admin-p4"), ""); rec.Code != http.StatusNotFound {
		t.Fatalf("p4 opened p1's assessment: %d", rec.Code)
	}
	if rec := w.do("GET", orgURL(orgs["p4"], fmt.Sprintf("/resilience/assessments/%d", p1)), "", w.cookie("admin-p4"), ""); rec.Code != http.StatusNotFound {
		t.Fatalf("p4 opened p1's assessment under its own organisation: %d", rec.Code)
	}

	for key, id := range map[string]int64{"p1": p1, "p2": p2, "p3": p3} {
		rec := w.do("POST", orgURL(orgs[key], fmt.Sprintf("/resilience/assessments/%d/submit", id)), "", w.cookie("admin-"+key), "")
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("%s sign-off: %d %s", key, rec.Code, rec.Body)
		}
	}
	sc := w.do("GET", orgURL(orgs["p2"], fmt.Sprintf("/resilience/assessments/%d/scorecard", p2)), "", w.cookie("admin-p2"), "").Body.String()
	// Moderate inherent risk (8 points): target 3 everywhere, met.
	for _, want := range []string{`<svg class="radar"`, `id="overall">3.00`, `id="no-priorities"`, "Moderate"} {
		if !strings.Contains(sc, want) {
			t.Fatalf("scorecard lacks %q", want)
		}
	}
	sc = w.do("GET", orgURL(orgs["p1"], fmt.Sprintf("/resilience/assessments/%d/scorecard", p1)), "", w.cookie("admin-p1"), "").Body.String()
	for _, want := range []string{`id="overall">1.00`, `id="priority-RM-01"`, `href="/catalogue/GOV-009"`} {
		if !strings.Contains(sc, want) {
			t.Fatalf("scorecard of p1 lacks %q", want)
		}
	}
	// The operator starts but does not submit: one MNO is a group of one.
	op := start2(t, w, orgs["op"], campaign)
	answerAll("op", op, 2, "")

	progress := w.do("GET", orgURL(w.orgA, "/resilience/campaigns/"+campaign), "", reg, "").Body.String()
	if n := strings.Count(progress, `class="state-submitted"`); n != 3 {
		t.Fatalf("progress shows %d submitted entities:\n%s", n, progress)
	}
	bench := w.do("GET", orgURL(w.orgA, "/resilience/campaigns/"+campaign+"/benchmark"), "", reg, "").Body.String()
	if !strings.Contains(bench, `id="submitted">3<`) || !strings.Contains(bench, `id="overall-median">3.00`) {
		t.Fatalf("benchmark overall:\n%s", bench)
	}
	// Submit the operator: its row is a group of one and is withheld.
	if rec := w.do("POST", orgURL(orgs["op"], fmt.Sprintf("/resilience/assessments/%d/submit", op)), "", w.cookie("admin-op"), ""); rec.Code != http.StatusSeeOther {
		t.Fatalf("operator sign-off: %d %s", rec.Code, rec.Body)
	}
	bench = w.do("GET", orgURL(w.orgA, "/resilience/campaigns/"+campaign+"/benchmark"), "", reg, "").Body.String()
	row := regexp.MustCompile(`(?s)<tr id="heat-mno">.*?</tr>`).FindString(bench)
	if row == "" || strings.Count(row, "too few to show") != 5 || strings.Contains(row, "2.00") {
		t.Fatalf("the operator's own scores show in the heat map: %s", row)
	}
	js := w.do("GET", orgURL(w.orgA, "/resilience/campaigns/"+campaign+"/benchmark.json"), "", reg, "").Body.String()
	var doc struct {
		Benchmark resilience.Benchmark `json:"benchmark"`
	}
	if err := json.Unmarshal([]byte(js), &doc); err != nil {
		t.Fatal(err)
	}
	for _, h := range doc.Benchmark.Heat {
		for _, c := range h.Cells {
			if c.N < resilience.MinGroup && (c.Median != 0 || c.Min != 0 || !c.TooFew) {
				t.Fatalf("JSON shows a group of %d: %+v", c.N, c)
			}
		}
	}
	csv := w.do("GET", orgURL(w.orgA, "/resilience/campaigns/"+campaign+"/benchmark.csv"), "", reg, "").Body.String()
	if !strings.Contains(csv, "mno,RM,1,too few to show,,,,,") {
		t.Fatalf("CSV shows a group of one:\n%s", csv)
	}
	// Printable report, PDF (with Chromium) and OSCAL of the exports.
	if rec := w.do("GET", orgURL(w.orgA, "/resilience/campaigns/"+campaign+"/report.html"), "", reg, ""); rec.Code != 200 ||
		!strings.Contains(rec.Body.String(), "Sector cyber resilience report") || !strings.Contains(rec.Body.String(), "too few to show") {
		t.Fatalf("sector report: %d", rec.Code)
	}
	if rec := w.do("GET", orgURL(orgs["p2"], fmt.Sprintf("/resilience/assessments/%d/scorecard.html", p2)), "", w.cookie("admin-p2"), ""); rec.Code != 200 ||
		!strings.Contains(rec.Body.String(), "Cyber resilience scorecard: Entity p2") {
		t.Fatalf("printable scorecard: %d", rec.Code)
	}
	if rec := w.do("GET", orgURL(orgs["p2"], fmt.Sprintf("/resilience/assessments/%d/oscal.json", p2)), "", w.cookie("admin-p2"), ""); rec.Code != 200 ||
		!strings.Contains(rec.Body.String(), `"assessment-results"`) {
		t.Fatalf("OSCAL export: %d", rec.Code)
	}
	pdfRec := w.do("GET", orgURL(w.orgA, "/resilience/campaigns/"+campaign+"/report.pdf"), "", reg, "")
	if pdf.ChromiumPath() != "" {
		if pdfRec.Code != 200 || !strings.HasPrefix(pdfRec.Body.String(), "%PDF-") {
			t.Fatalf("sector PDF: %d", pdfRec.Code)
		}
	} else if testenv.InCI() {
		t.Fatal("CI without Chromium: the PDF export is untested")
	}

	// The regulator sees an entity's scorecard; a provider sees no benchmark.
	if rec := w.do("GET", orgURL(w.orgA, fmt.Sprintf("/resilience/campaigns/%s/entities/%d", campaign, orgs["p2"])), "", reg, ""); rec.Code != 200 ||
		!strings.Contains(rec.Body.String(), "Entity p2") {
		t.Fatalf("entity scorecard: %d", rec.Code)
	}
	if rec := w.do("GET", orgURL(orgs["p1"], "/resilience/campaigns/"+campaign+"/benchmark"), "", w.cookie("admin-p1"), ""); rec.Code != http.StatusNotFound {
		t.Fatalf("a provider opened the benchmark: %d", rec.Code)
	}
}

// start2 starts an operator's assessment for the campaign.
func start2(t *testing.T, w *world, org int64, campaign string) int64 {
	t.Helper()
	f := url.Values{"title": {"Operator answer"}, "campaign": {campaign}, "entity_type": {"mno"}, "volume": {"3"}}
	rec := w.do("POST", orgURL(org, "/resilience/assessments"), f.Encode(), w.cookie("admin-op"), "")
	loc := rec.Header().Get("Location")
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("operator start: %d %s", rec.Code, rec.Body)
	}
	id, _ := strconv.ParseInt(strings.TrimSuffix(strings.Split(loc, "/assessments/")[1], "?created=1"), 10, 64)
	return id
}

func resilienceModel(w *world) (*resilience.Model, error) {
	ms, err := resilience.BuiltinModels(nil)
	if err != nil {
		return nil, err
	}
	return ms[0], nil
}

// TestResilienceModelImport: a platform administrator imports a model; a
// malformed one is refused with its line; an org admin cannot import.
func TestResilienceModelImport(t *testing.T) {
	w := newWorld(t)
	upload := func(cookie *http.Cookie, data []byte) *httptest.ResponseRecorder {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("file", "model.yaml")
		fw.Write(data)
		mw.Close()
		r := httptest.NewRequest("POST", "/resilience/models", &body)
		r.Header.Set("Content-Type", mw.FormDataContentType())
		r.RemoteAddr = "10.9.9.9:4000"
		r.AddCookie(cookie)
		rec := httptest.NewRecorder()
		w.app.Server.ServeHTTP(rec, r)
		return rec
	}
	small, err := os.ReadFile("../../resilience/testdata/small-model.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if rec := upload(w.cookie("admin-a"), small); rec.Code != http.StatusForbidden {
		t.Fatalf("org admin imported a model: %d", rec.Code)
	}
	bad := bytes.Replace(small, []byte("[TEL-011]"), []byte("[TEL-999]"), 1)
	rec := upload(w.cookie("padmin"), bad)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "line 25: question A-2: unknown recommendation") {
		t.Fatalf("malformed model: %d %s", rec.Code, rec.Body)
	}
	if rec := upload(w.cookie("padmin"), small); rec.Code != http.StatusSeeOther {
		t.Fatalf("import: %d %s", rec.Code, rec.Body)
	}
	if body := w.do("GET", "/resilience/models/small-test@1", "", w.cookie("viewer-a"), "").Body.String(); !strings.Contains(body, "Second question of alpha") {
		t.Fatal("imported model page")
	}
	if rec := w.doJSON("GET", "/api/v1/resilience/models", "", w.tokens["read"]); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"key": "small-test@1"`) {
		t.Fatalf("API models: %d", rec.Code)
	}
}

// doJSON sends a JSON request with a bearer token.
func (w *world) doJSON(method, target, body, bearer string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	w.addr++
	r.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:40000", w.addr>>16&255, w.addr>>8&255, w.addr&255)
	r.Header.Set("Authorization", "Bearer "+bearer)
	rec := httptest.NewRecorder()
	w.app.Server.ServeHTTP(rec, r)
	return rec
}

// doAccept sends a form with an Accept header (the autosave script's way).
func (w *world) doAccept(method, target, body string, cookie *http.Cookie, accept string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Accept", accept)
	w.addr++
	r.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:40000", w.addr>>16&255, w.addr>>8&255, w.addr&255)
	r.AddCookie(cookie)
	rec := httptest.NewRecorder()
	w.app.Server.ServeHTTP(rec, r)
	return rec
}
