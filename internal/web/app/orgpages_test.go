package app

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/web"
)

func TestCreateOrganisation(t *testing.T) { eachDB(t, testCreateOrganisation) }

func testCreateOrganisation(t *testing.T, w *world) {
	pa := w.cookie("padmin")
	rec := w.do("POST", "/orgs", "name=Central+Bank+of+Malawi&type=central_bank&country=mw", pa, "")
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/orgs/") {
		t.Fatalf("create: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	o, err := w.app.Identity.OrgByName(context.Background(), "central bank of malawi")
	if err != nil || o.Type != identity.OrgCentralBank || o.Country != "MW" {
		t.Fatalf("created org: %+v %v", o, err)
	}
	if loc := rec.Header().Get("Location"); !strings.HasPrefix(loc, orgURL(o.ID, "")) {
		t.Fatalf("redirect %q, want the new organisation's page", loc)
	}
	for _, c := range []struct {
		body string
		want int
	}{
		{"name=Central+Bank+of+Malawi&type=central_bank&country=MW", http.StatusConflict},
		{"name=X&type=central_bank&country=ZZ", http.StatusBadRequest},
		{"name=X&type=casino&country=MW", http.StatusBadRequest},
		{"name=&type=other&country=MW", http.StatusBadRequest},
	} {
		rec := w.do("POST", "/orgs", c.body, pa, "")
		if rec.Code != c.want {
			t.Errorf("%s: %d, want %d", c.body, rec.Code, c.want)
		}
		if !strings.Contains(rec.Body.String(), `id="form-problem"`) {
			t.Errorf("%s: the form does not say what is wrong", c.body)
		}
	}
	list := w.do("GET", "/orgs", "", pa, "").Body.String()
	for _, name := range []string{"Central Bank of Malawi", "Regulator A", "Provider B"} {
		if !strings.Contains(list, name) {
			t.Errorf("organisation list lacks %s", name)
		}
	}
}

func TestOrgSettingsRequireTOTP(t *testing.T) { eachDB(t, testOrgSettingsRequireTOTP) }

func testOrgSettingsRequireTOTP(t *testing.T, w *world) {
	admin := w.cookie("admin-a")
	ctx := context.Background()
	if got := w.do("POST", orgURL(w.orgA, "/settings"), "require_totp=on", admin, "").Code; got != http.StatusSeeOther {
		t.Fatalf("settings: %d", got)
	}
	if o, _ := w.app.Identity.Org(ctx, w.orgA); !o.RequireTOTP {
		t.Fatal("TOTP requirement not stored")
	}
	// The admin has no TOTP yet, so from now on every page sends them to
	// the set-up page; a platform administrator switches it off again.
	if rec := w.do("POST", orgURL(w.orgA, "/settings"), "", admin, ""); rec.Header().Get("Location") != web.TOTPSetupPath {
		t.Fatalf("admin without TOTP after the requirement: %d to %q, want the TOTP set-up", rec.Code, rec.Header().Get("Location"))
	}
	if got := w.do("POST", orgURL(w.orgA, "/settings"), "", w.cookie("padmin"), "").Code; got != http.StatusSeeOther {
		t.Fatalf("settings off: %d", got)
	}
	if o, _ := w.app.Identity.Org(ctx, w.orgA); o.RequireTOTP {
		t.Fatal("TOTP requirement not cleared")
	}
	// A viewer sees the organisation but not its settings form.
	body := w.do("GET", orgURL(w.orgA, ""), "", w.cookie("viewer-a"), "").Body.String()
	if !strings.Contains(body, "Regulator A") || strings.Contains(body, `id="org-settings-form"`) {
		t.Fatal("viewer's organisation page: wrong content")
	}
}

func TestRecoveryLinkAndReactivation(t *testing.T) { eachDB(t, testRecoveryLinkAndReactivation) }

func testRecoveryLinkAndReactivation(t *testing.T, w *world) {
	admin := w.cookie("admin-a")
	ctx := context.Background()
	uid := w.users["analyst-a"]
	id := strconv.FormatInt(uid, 10)
	rec := w.do("POST", orgURL(w.orgA, "/members/"+id+"/recovery-link"), "", admin, "")
	body := rec.Body.String()
	i := strings.Index(body, testBaseURL+"/recover/")
	if rec.Code != 200 || i < 0 {
		t.Fatalf("recovery link: %d, link shown: %v", rec.Code, i >= 0)
	}
	tok := body[i+len(testBaseURL+"/recover/"):]
	tok = tok[:strings.IndexAny(tok, "<\" ")]
	if l, err := w.app.Identity.PeekLink(ctx, tok, identity.LinkRecovery); err != nil || l.UserID != uid {
		t.Fatalf("recovery link does not resolve to the member: %+v %v", l, err)
	}
	if got := w.do("POST", orgURL(w.orgA, "/members/"+id+"/deactivate"), "", admin, "").Code; got != http.StatusSeeOther {
		t.Fatalf("deactivate: %d", got)
	}
	// Deactivation suspends the membership; the account is the person's.
	if _, err := w.app.Identity.Role(ctx, w.orgA, uid); !errors.Is(err, identity.ErrNotFound) {
		t.Fatalf("suspended member keeps a role: %v", err)
	}
	if u, _ := w.app.Identity.User(ctx, uid); !u.Active {
		t.Fatal("an org admin suspended the whole account")
	}
	if got := w.do("GET", orgURL(w.orgA, ""), "", w.cookie("analyst-a"), "").Code; got != http.StatusNotFound {
		t.Fatalf("suspended member's access: %d, want 404", got)
	}
	if got := w.do("POST", orgURL(w.orgA, "/members/"+id+"/reactivate"), "", admin, "").Code; got != http.StatusSeeOther {
		t.Fatalf("reactivate: %d", got)
	}
	if r, err := w.app.Identity.Role(ctx, w.orgA, uid); err != nil || r != identity.RoleAnalyst {
		t.Fatalf("reinstated role = %q, %v", r, err)
	}
}

// An org admin cannot lock a person out of another organisation: a member
// who also belongs elsewhere only loses this membership.
func TestDeactivateMemberOfTwoOrganisations(t *testing.T) {
	eachDB(t, testDeactivateMemberOfTwoOrganisations)
}

func testDeactivateMemberOfTwoOrganisations(t *testing.T, w *world) {
	ctx := context.Background()
	shared := w.users["viewer-b"]
	if err := w.app.Identity.AddMember(ctx, w.orgA, shared, identity.RoleViewer); err != nil {
		t.Fatal(err)
	}
	victim := w.cookie("viewer-b")
	id := strconv.FormatInt(shared, 10)
	if got := w.do("POST", orgURL(w.orgA, "/members/"+id+"/deactivate"), "", w.cookie("admin-a"), "").Code; got != http.StatusSeeOther {
		t.Fatalf("deactivate: %d", got)
	}
	if _, err := w.app.Identity.Role(ctx, w.orgA, shared); !errors.Is(err, identity.ErrNotFound) {
		t.Fatalf("still a member of A: %v", err)
	}
	if u, _ := w.app.Identity.User(ctx, shared); !u.Active {
		t.Fatal("org A's admin deactivated a member of org B")
	}
	// Org B's admin cannot undo what org A decided (finding 3).
	if got := w.do("POST", orgURL(w.orgA, "/members/"+id+"/reactivate"), "", w.cookie("admin-b"), "").Code; got != http.StatusNotFound {
		t.Fatalf("org B's admin reactivated a membership of org A: %d", got)
	}
	if got := w.do("POST", orgURL(w.orgB, "/members/"+id+"/reactivate"), "", w.cookie("admin-b"), "").Code; got != http.StatusSeeOther {
		t.Fatalf("reactivate in B: %d", got)
	}
	if _, err := w.app.Identity.Role(ctx, w.orgA, shared); !errors.Is(err, identity.ErrNotFound) {
		t.Fatalf("org B's reactivation restored the membership of A: %v", err)
	}
	if got := w.do("GET", orgURL(w.orgB, ""), "", victim, "").Code; got != 200 {
		t.Fatalf("member's access to org B: %d, want 200", got)
	}
	if got := w.do("GET", orgURL(w.orgA, ""), "", victim, "").Code; got != http.StatusNotFound {
		t.Fatalf("removed member's access to org A: %d, want 404", got)
	}
}

func TestNavigationPerRole(t *testing.T) {
	w := newWorld(t)
	nav := func(c *http.Cookie) string {
		body := w.do("GET", "/", "", c, "").Body.String()
		a, b := strings.Index(body, "<nav"), strings.Index(body, "</nav>")
		if a < 0 || b < a {
			return ""
		}
		return body[a:b]
	}
	members := `href="` + orgURL(w.orgA, "/members") + `"`
	cases := []struct {
		who      string
		has, not []string
	}{
		{"", nil, []string{`href="/orgs"`, `href="/audit"`, `href="/account"`, members}},
		{"viewer-a", []string{`href="` + orgURL(w.orgA, "") + `"`, `href="/account"`}, []string{members, `href="/orgs"`, `href="/audit"`}},
		{"admin-a", []string{members, `href="/account"`}, []string{`href="/orgs"`, `href="/audit"`, orgURL(w.orgB, "")}},
		{"padmin", []string{`href="/orgs"`, `href="/audit"`, `href="/account"`}, []string{members}},
	}
	for _, c := range cases {
		var ck *http.Cookie
		if c.who != "" {
			ck = w.cookie(c.who)
		}
		n := nav(ck)
		for _, s := range c.has {
			if !strings.Contains(n, s) {
				t.Errorf("%q: navigation lacks %s:\n%s", c.who, s, n)
			}
		}
		for _, s := range c.not {
			if strings.Contains(n, s) {
				t.Errorf("%q: navigation shows %s:\n%s", c.who, s, n)
			}
		}
	}
}
