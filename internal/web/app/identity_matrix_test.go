package app

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/identity"
)

// The cross-organisation identity cases of the authorisation matrix
// (security issue, finding 1–3): for every kind of organisation role and
// for platform administrators, what they may do to people of their own
// organisation, of another organisation, to a person who belongs to both,
// and to a platform administrator. Written from the rules, not from the
// handlers:
//
//   - an invitation never makes anyone a member; only the invitee accepts;
//   - recovery: org admins only for accounts enrolled through their
//     organisation, never for a platform administrator; platform
//     administrators for everyone but themselves;
//   - suspension is per membership; no organisation undoes another's;
//   - account suspension is the platform administrators' and revokes API
//     tokens for good.

// identityWorld adds to the matrix world a person enrolled through B who
// accepted an invitation to A ("shared"), and makes the platform
// administrator a viewer of A.
func identityWorld(t *testing.T, w *world) {
	t.Helper()
	ctx := context.Background()
	ids := w.app.Identity
	inv, err := ids.Invite(ctx, w.orgB, "shared@example.org", identity.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	w.users["shared"] = w.enrol(inv.Token, "shared")
	inv, err = ids.Invite(ctx, w.orgA, "shared@example.org", identity.RoleAnalyst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ids.AcceptInvitationLink(ctx, w.users["shared"], identity.HashToken(inv.Token)); err != nil {
		t.Fatal(err)
	}
	if err := ids.AddMember(ctx, w.orgA, w.users["padmin"], identity.RoleViewer); err != nil {
		t.Fatal(err)
	}
}

func TestCrossOrganisationIdentity(t *testing.T) { eachDB(t, testCrossOrganisationIdentity) }

func testCrossOrganisationIdentity(t *testing.T, w *world) {
	identityWorld(t, w)
	ctx := context.Background()
	id := func(name string) string { return strconv.FormatInt(w.users[name], 10) }
	orgPath := func(org int64, rest string) string { return "/orgs/" + strconv.FormatInt(org, 10) + rest }

	// Recovery links: actor × organisation of the path × target → status.
	// 404: the path's organisation is not the actor's, or the target is
	// not its member; 403: the role or the recovery rule refuses.
	recovery := []struct {
		actor  string
		org    int64
		target string
		want   int
	}{
		{"viewer-a", w.orgA, "target-a", http.StatusForbidden},
		{"analyst-a", w.orgA, "target-a", http.StatusForbidden},
		{"admin-a", w.orgA, "target-a", http.StatusOK},
		{"admin-a", w.orgA, "target-b", http.StatusNotFound}, // not a member of A
		{"admin-a", w.orgB, "target-b", http.StatusNotFound}, // not admin-a's organisation
		{"admin-a", w.orgA, "shared", http.StatusForbidden},  // member of A, enrolled through B
		{"admin-b", w.orgB, "shared", http.StatusOK},         // enrolled through B
		{"admin-a", w.orgA, "padmin", http.StatusForbidden},  // never a platform administrator
		{"admin-b", w.orgA, "target-a", http.StatusNotFound},
		{"viewer-b", w.orgB, "shared", http.StatusForbidden},
		{"padmin", w.orgA, "target-a", http.StatusOK},
		{"padmin", w.orgB, "target-b", http.StatusOK},
		{"padmin", w.orgA, "padmin", http.StatusForbidden}, // not their own account
	}
	for _, c := range recovery {
		rec := w.do("POST", orgPath(c.org, "/members/"+id(c.target)+"/recovery-link"), "", w.cookie(c.actor), "")
		if rec.Code != c.want {
			t.Errorf("recovery link by %s in org %d for %s: %d, want %d", c.actor, c.org, c.target, rec.Code, c.want)
		}
		if c.want != http.StatusOK && strings.Contains(rec.Body.String(), "/recover/") {
			t.Errorf("recovery link by %s for %s: a link is shown with status %d", c.actor, c.target, rec.Code)
		}
	}
	for _, c := range []struct {
		actor, target string
		want          int
	}{
		{"admin-a", "target-b", http.StatusForbidden}, // platform route
		{"padmin", "target-b", http.StatusOK},
		{"padmin", "padmin", http.StatusForbidden},
	} {
		if got := w.do("POST", "/admin/users/"+id(c.target)+"/recovery-link", "", w.cookie(c.actor), "").Code; got != c.want {
			t.Errorf("platform recovery link by %s for %s: %d, want %d", c.actor, c.target, got, c.want)
		}
	}

	// Invitations: whoever invites, nobody becomes a member without
	// accepting, and the inviter's answer does not depend on whether the
	// address has an account.
	for _, c := range []struct {
		actor  string
		org    int64
		target string
		want   int
	}{
		{"viewer-a", w.orgA, "target-b", http.StatusForbidden},
		{"analyst-a", w.orgA, "target-b", http.StatusForbidden},
		{"admin-b", w.orgA, "target-b", http.StatusNotFound},
		{"admin-a", w.orgA, "target-b", http.StatusOK},
		{"admin-a", w.orgA, "nobody-yet", http.StatusOK},
		{"padmin", w.orgB, "target-a", http.StatusOK},
	} {
		rec := w.do("POST", orgPath(c.org, "/invitations"), "role=org_admin&email="+c.target+"%40example.org", w.cookie(c.actor), "")
		if rec.Code != c.want {
			t.Errorf("invitation by %s into %d of %s: %d, want %d", c.actor, c.org, c.target, rec.Code, c.want)
			continue
		}
		if uid, ok := w.users[c.target]; ok {
			if _, err := w.app.Identity.Role(ctx, c.org, uid); !errors.Is(err, identity.ErrNotFound) {
				t.Errorf("invitation by %s made %s a member of %d: %v", c.actor, c.target, c.org, err)
			}
		}
		if c.want == http.StatusOK && !strings.Contains(rec.Body.String(), testBaseURL+"/enrol/") {
			t.Errorf("invitation by %s of %s: no link shown", c.actor, c.target)
		}
	}
	// The invitation of target-b into A is target-b's to accept, no one else's.
	open, err := w.app.Identity.InvitationsFor(ctx, w.users["target-b"])
	if err != nil || len(open) != 1 {
		t.Fatalf("target-b's open invitations: %+v, %v", open, err)
	}
	accept := "/invitations/" + strconv.FormatInt(open[0].ID, 10) + "/accept"
	for _, actor := range []string{"viewer-a", "admin-a", "admin-b", "padmin", "shared"} {
		if got := w.do("POST", accept, "", w.cookie(actor), "").Code; got != http.StatusNotFound {
			t.Errorf("%s accepted target-b's invitation: %d", actor, got)
		}
	}
	if got := w.do("POST", accept, "", w.cookie("target-b"), "").Code; got != http.StatusSeeOther {
		t.Fatalf("target-b accepting: %d", got)
	}
	if r, err := w.app.Identity.Role(ctx, w.orgA, w.users["target-b"]); err != nil || r != identity.RoleOrgAdmin {
		t.Fatalf("after accepting: %q, %v", r, err)
	}

	// Suspension is per membership: A suspends shared; B cannot undo it,
	// shared keeps B and their API token.
	tok, _, err := w.app.Identity.CreateAPIToken(ctx, w.users["shared"], "ci", identity.ScopeRead, w.clock.Now().Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		actor, path string
		want        int
	}{
		{"viewer-a", orgPath(w.orgA, "/members/"+id("shared")+"/deactivate"), http.StatusForbidden},
		{"admin-b", orgPath(w.orgA, "/members/"+id("shared")+"/deactivate"), http.StatusNotFound},
		{"admin-a", orgPath(w.orgA, "/members/"+id("shared")+"/deactivate"), http.StatusSeeOther},
		{"admin-b", orgPath(w.orgA, "/members/"+id("shared")+"/reactivate"), http.StatusNotFound},
		{"admin-b", orgPath(w.orgB, "/members/"+id("shared")+"/reactivate"), http.StatusSeeOther},   // B's own membership: nothing to undo
		{"admin-a", orgPath(w.orgA, "/members/"+id("target-b")+"/deactivate"), http.StatusSeeOther}, // target-b joined A above
		{"admin-a", orgPath(w.orgB, "/members/"+id("target-b")+"/deactivate"), http.StatusNotFound},
	} {
		if got := w.do("POST", c.path, "", w.cookie(c.actor), "").Code; got != c.want {
			t.Errorf("%s POST %s: %d, want %d", c.actor, c.path, got, c.want)
		}
	}
	if _, err := w.app.Identity.Role(ctx, w.orgA, w.users["shared"]); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("shared still a member of A: %v", err)
	}
	if _, err := w.app.Identity.Role(ctx, w.orgB, w.users["target-b"]); err != nil {
		t.Errorf("A's suspension ended target-b's membership of B: %v", err)
	}
	me := func() int { return w.do("GET", "/api/v1/me", "", nil, tok).Code }
	if got := me(); got != http.StatusOK {
		t.Fatalf("shared's token after a membership suspension: %d", got)
	}

	// Account suspension: platform administrators only; tokens do not
	// survive it, not even after reinstatement.
	for _, actor := range []string{"admin-a", "admin-b", "viewer-b"} {
		if got := w.do("POST", "/admin/users/"+id("shared")+"/suspend", "", w.cookie(actor), "").Code; got != http.StatusForbidden {
			t.Errorf("%s suspended an account: %d", actor, got)
		}
	}
	if got := w.do("POST", "/admin/users/"+id("shared")+"/suspend", "", w.cookie("padmin"), "").Code; got != http.StatusSeeOther {
		t.Fatalf("platform administrator suspending: %d", got)
	}
	if got := me(); got != http.StatusUnauthorized {
		t.Errorf("token of a suspended account: %d", got)
	}
	if got := w.do("POST", "/admin/users/"+id("shared")+"/reinstate", "", w.cookie("padmin"), "").Code; got != http.StatusSeeOther {
		t.Fatalf("platform administrator reinstating: %d", got)
	}
	if got := me(); got != http.StatusUnauthorized {
		t.Errorf("token came back with the account: %d", got)
	}
	if got := w.do("POST", "/admin/users/"+id("padmin")+"/suspend", "", w.cookie("padmin"), "").Code; got != http.StatusForbidden {
		t.Errorf("platform administrator suspended themselves: %d", got)
	}
}
