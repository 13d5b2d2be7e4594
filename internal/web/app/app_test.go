package app

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/web"
)

func orgURL(id int64, rest string) string { return "/orgs/" + strconv.FormatInt(id, 10) + rest }

func TestSessionTimeoutsThroughTheStore(t *testing.T) { eachDB(t, testSessionTimeoutsThroughTheStore) }

func testSessionTimeoutsThroughTheStore(t *testing.T, w *world) {
	c := w.cookie("viewer-a")
	page := orgURL(w.orgA, "")
	for i := 0; i < 3; i++ {
		w.clock.Advance(25 * time.Minute)
		if got := w.do("GET", page, "", c, "").Code; got != 200 {
			t.Fatalf("active session refused after %d×25 min: %d", i+1, got)
		}
	}
	w.clock.Advance(31 * time.Minute)
	rec := w.do("GET", page, "", c, "")
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), web.SignInPath) {
		t.Fatalf("idle session: %d %q, want redirect to sign-in", rec.Code, rec.Header().Get("Location"))
	}
	c = w.cookie("viewer-a")
	for elapsed := time.Duration(0); elapsed < 12*time.Hour-20*time.Minute; elapsed += 20 * time.Minute {
		w.clock.Advance(20 * time.Minute)
		if got := w.do("GET", page, "", c, "").Code; got != 200 {
			t.Fatalf("busy session refused after %v: %d", elapsed+20*time.Minute, got)
		}
	}
	w.clock.Advance(20 * time.Minute)
	if got := w.do("GET", page, "", c, "").Code; got != http.StatusSeeOther {
		t.Fatalf("session 12 h after sign-in: %d, want 303", got)
	}
}

func TestMembershipChangesStepUpAndDeactivation(t *testing.T) {
	eachDB(t, testMembershipChangesStepUpAndDeactivation)
}

func testMembershipChangesStepUpAndDeactivation(t *testing.T, w *world) {
	ctx := context.Background()
	admin := w.cookie("admin-a")
	victim := w.cookie("viewer-a")
	viewerID := strconv.FormatInt(w.users["viewer-a"], 10)

	// A stale verification sends the admin to step-up, then to the kept
	// form, which is sent again.
	w.clock.Advance(web.StepUpWindow + time.Minute)
	rec := w.do("POST", orgURL(w.orgA, "/members/"+viewerID+"/role"), "role=analyst&back="+url.QueryEscape(orgURL(w.orgA, "/members")), admin, "")
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), web.StepUpPath+"?next="+url.QueryEscape(web.ResumePath)) {
		t.Fatalf("role change with stale verification: %d %q, want step-up", rec.Code, rec.Header().Get("Location"))
	}
	if r, _ := w.app.Identity.Role(ctx, w.orgA, w.users["viewer-a"]); r != identity.RoleViewer {
		t.Fatalf("role changed without step-up: %s", r)
	}
	admin = w.cookie("admin-a") // fresh sign-in = fresh verification
	rec = w.do("POST", orgURL(w.orgA, "/members/"+viewerID+"/role"), "role=analyst", admin, "")
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("role change: %d", rec.Code)
	}
	if r, _ := w.app.Identity.Role(ctx, w.orgA, w.users["viewer-a"]); r != identity.RoleAnalyst {
		t.Fatalf("role after change: %s", r)
	}
	// The change is audited with the actor and the organisation.
	es, err := audit.List(ctx, w.app.DB, audit.Filter{Action: "member.role"})
	if err != nil || len(es) != 1 || es[0].ActorUserID != w.users["admin-a"] || es[0].OrgID != w.orgA || es[0].RequestID == "" {
		t.Fatalf("audit of the role change: %+v %v", es, err)
	}

	// An org admin cannot touch a member of another organisation by ID.
	otherID := strconv.FormatInt(w.users["viewer-b"], 10)
	if got := w.do("POST", orgURL(w.orgA, "/members/"+otherID+"/role"), "role=org_admin", admin, "").Code; got != http.StatusNotFound {
		t.Fatalf("role change of another org's user: %d, want 404", got)
	}
	if r, _ := w.app.Identity.Role(ctx, w.orgB, w.users["viewer-b"]); r != identity.RoleViewer {
		t.Fatalf("other org's member changed: %s", r)
	}

	// Deactivation suspends the membership at once; the person's session
	// stays theirs (the account is not the organisation's to end).
	if got := w.do("GET", orgURL(w.orgA, ""), "", victim, "").Code; got != 200 {
		t.Fatalf("victim before deactivation: %d", got)
	}
	if got := w.do("POST", orgURL(w.orgA, "/members/"+viewerID+"/deactivate"), "", admin, "").Code; got != http.StatusSeeOther {
		t.Fatalf("deactivate: %d", got)
	}
	if got := w.do("GET", orgURL(w.orgA, ""), "", victim, "").Code; got != http.StatusNotFound {
		t.Fatalf("suspended member still reaches the organisation: %d", got)
	}
	if got := w.do("GET", "/account", "", victim, "").Code; got != http.StatusOK {
		t.Fatalf("suspending a membership ended the person's session: %d", got)
	}
	// An admin cannot deactivate themselves or the last org admin.
	selfID := strconv.FormatInt(w.users["admin-a"], 10)
	if got := w.do("POST", orgURL(w.orgA, "/members/"+selfID+"/deactivate"), "", admin, "").Code; got != http.StatusConflict {
		t.Fatalf("self-deactivation: %d, want 409", got)
	}
}

func TestInvitationShowsSingleUseLink(t *testing.T) { eachDB(t, testInvitationShowsSingleUseLink) }

func testInvitationShowsSingleUseLink(t *testing.T, w *world) {
	admin := w.cookie("admin-a")
	rec := w.do("POST", orgURL(w.orgA, "/invitations"), "email=new.person%40example.org&role=analyst", admin, "")
	if rec.Code != 200 {
		t.Fatalf("invite: %d", rec.Code)
	}
	body := rec.Body.String()
	i := strings.Index(body, testBaseURL+"/enrol/")
	if i < 0 {
		t.Fatalf("no invitation link on the page:\n%s", body)
	}
	link := body[i:]
	link = link[:strings.IndexAny(link, "<\" ")]
	tok := strings.TrimPrefix(link, testBaseURL+"/enrol/")
	l, err := w.app.Identity.PeekLink(context.Background(), tok)
	if err != nil || l.Kind != identity.LinkInvitation || l.OrgID != w.orgA {
		t.Fatalf("link %q: %+v %v", link, l, err)
	}
	if rec := w.do("GET", orgURL(w.orgA, "/members"), "", admin, ""); strings.Contains(rec.Body.String(), tok) {
		t.Fatal("the members page shows the invitation token again")
	}
	// Invalid input re-renders the form with 400.
	if got := w.do("POST", orgURL(w.orgA, "/invitations"), "email=not-an-address&role=analyst", admin, "").Code; got != 400 {
		t.Fatalf("invalid invitation: %d", got)
	}
}

func TestCrossOriginPostRefusedAndAudited(t *testing.T) {
	eachDB(t, testCrossOriginPostRefusedAndAudited)
}

func testCrossOriginPostRefusedAndAudited(t *testing.T, w *world) {
	admin := w.cookie("padmin")
	req := func(hdr string) int {
		rq := newPost("/orgs", "name=Evil+Corp&type=other&country=MW")
		rq.Header.Set("Origin", hdr)
		rq.Header.Set("Sec-Fetch-Site", "cross-site")
		rq.AddCookie(admin)
		rec := recorder()
		w.app.Server.ServeHTTP(rec, rq)
		return rec.Code
	}
	if got := req("https://attacker.example"); got != http.StatusForbidden {
		t.Fatalf("cross-origin POST: %d, want 403", got)
	}
	ctx := context.Background()
	if _, err := w.app.Identity.OrgByName(ctx, "Evil Corp"); !errors.Is(err, identity.ErrNotFound) {
		t.Fatal("cross-origin POST created the organisation")
	}
	es, err := audit.List(ctx, w.app.DB, audit.Filter{Action: "web.csrf_refused"})
	if err != nil || len(es) != 1 || es[0].IP == "" || es[0].RequestID == "" {
		t.Fatalf("audit entries for the refused request: %+v %v", es, err)
	}
}

func TestAuditPagesConfinedToOwnOrganisation(t *testing.T) {
	eachDB(t, testAuditPagesConfinedToOwnOrganisation)
}

func testAuditPagesConfinedToOwnOrganisation(t *testing.T, w *world) {
	admin := w.cookie("admin-a")
	body := w.do("GET", orgURL(w.orgA, "/audit"), "", admin, "").Body.String()
	if !strings.Contains(body, "viewer-a@example.org") || !strings.Contains(body, "member.add") {
		t.Fatalf("org audit page lacks the organisation's entries:\n%s", body)
	}
	if strings.Contains(body, "viewer-b@example.org") || strings.Contains(body, "Provider B") {
		t.Fatalf("org audit page shows another organisation's entries")
	}
	// The org filter of the query string cannot widen an org admin's view.
	body = w.do("GET", orgURL(w.orgA, "/audit?org="+strconv.FormatInt(w.orgB, 10)), "", admin, "").Body.String()
	if strings.Contains(body, "Provider B") {
		t.Fatal("org admin widened the audit view with ?org=")
	}
	// Platform admins see everything and can filter by action prefix.
	pa := w.cookie("padmin")
	body = w.do("GET", "/audit?action=org.", "", pa, "").Body.String()
	if !strings.Contains(body, "Provider B") || !strings.Contains(body, "Regulator A") || strings.Contains(body, "member.add") {
		t.Fatalf("platform audit filtered by org.: unexpected content")
	}
	if got := w.do("GET", "/audit?since=yesterday", "", pa, "").Code; got != 400 {
		t.Fatalf("bad date filter: %d, want 400", got)
	}
}

func TestFirstRunLink(t *testing.T) {
	ctx := context.Background()
	empty, err := New(ctx, dbtest.SQLite(t), Config{BaseURL: testBaseURL})
	if err != nil {
		t.Fatal(err)
	}
	l, exp, err := empty.FirstRunLink(ctx, testBaseURL)
	if err != nil || !strings.HasPrefix(l, testBaseURL+"/enrol/") || time.Until(exp) < 23*time.Hour || time.Until(exp) > 25*time.Hour {
		t.Fatalf("first run: %q expires %v, %v; want an enrolment link valid for 24 h", l, exp, err)
	}
	if _, err := empty.Identity.PeekLink(ctx, strings.TrimPrefix(l, testBaseURL+"/enrol/")); err != nil {
		t.Fatalf("printed link does not resolve: %v", err)
	}
	if l, _, err := newWorld(t).app.FirstRunLink(ctx, testBaseURL); err != nil || l != "" {
		t.Fatalf("with users: %q %v, want no link", l, err)
	}
}

func TestSignInBackOffPerAddress(t *testing.T) {
	w := newWorld(t)
	from := func(ip, target, body string) *httptest.ResponseRecorder {
		r := newPost(target, body)
		r.RemoteAddr = ip + ":4444"
		rec := recorder()
		w.app.Server.ServeHTTP(rec, r)
		return rec
	}
	const attacker = "203.0.113.5"
	guess := "email=viewer-a%40example.org&code=AAAA-BBBB-CCCC"
	var last *httptest.ResponseRecorder
	for i := 0; i < 12; i++ {
		last = from(attacker, "/recover", guess)
		if last.Code == http.StatusTooManyRequests {
			break
		}
		if last.Code != http.StatusUnauthorized {
			t.Fatalf("wrong recovery code: %d, want 401", last.Code)
		}
	}
	if last.Code != http.StatusTooManyRequests || last.Header().Get("Retry-After") == "" {
		t.Fatalf("repeated wrong recovery codes from one address: %d, Retry-After %q; want 429 with Retry-After",
			last.Code, last.Header().Get("Retry-After"))
	}
	// The address is slowed down on every authentication endpoint …
	if got := from(attacker, "/signin/begin", "").Code; got != http.StatusTooManyRequests {
		t.Fatalf("throttled address starting a passkey sign-in: %d, want 429", got)
	}
	// … but the real user, elsewhere, can start a passkey sign-in at once.
	if got := from("198.51.100.20", "/signin/begin", "").Code; got != http.StatusOK {
		t.Fatalf("passkey sign-in from another address: %d, want 200", got)
	}
	// Back-off, not lock-out: once the delay has passed, the address may
	// try again.
	w.clock.Advance(2 * time.Minute)
	if got := from(attacker, "/signin/begin", "").Code; got != http.StatusOK {
		t.Fatalf("address after the back-off: %d, want 200", got)
	}
}

func TestOversizedFormRefused(t *testing.T) {
	w := newWorld(t)
	pa := w.cookie("padmin")
	big := "name=" + strings.Repeat("x", 2<<20) + "&type=other&country=MW"
	if got := w.do("POST", "/orgs", big, pa, "").Code; got != http.StatusRequestEntityTooLarge {
		t.Fatalf("2 MiB form: %d, want 413", got)
	}
}

func TestDatabaseFailureGivesGenericPage(t *testing.T) {
	w := newWorld(t)
	c := w.cookie("viewer-a")
	w.app.DB.Close()
	for _, tc := range []struct {
		target string
		want   int
	}{
		// A page or API call fails (500); the readiness probe says the
		// instance is not ready (503) so a load balancer takes it out.
		{orgURL(w.orgA, ""), http.StatusInternalServerError},
		{"/api/v1/me", http.StatusInternalServerError},
		{"/readyz", http.StatusServiceUnavailable},
	} {
		target := tc.target
		bearer := ""
		if strings.HasPrefix(target, "/api/") {
			bearer = w.tokens["read"]
		}
		rec := w.do("GET", target, "", c, bearer)
		if rec.Code != tc.want {
			t.Errorf("%s with the database gone: %d, want %d", target, rec.Code, tc.want)
		}
		body := strings.ToLower(rec.Body.String())
		for _, leak := range []string{"sql", "database", "closed", "select", "goroutine", ".go:"} {
			if strings.Contains(body, leak) {
				t.Errorf("%s: error response leaks %q:\n%s", target, leak, rec.Body.String())
			}
		}
	}
}
