package app

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/identity"
)

// TestMembersPaginated: an organisation's members list shows 50 people a
// page with links to the others; a bad page number is a 400 that keeps
// the list; the pages of another organisation stay closed.
func TestMembersPaginated(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for i := range 52 {
		name := fmt.Sprintf("bulk-%02d", i)
		inv, err := w.app.Identity.Invite(ctx, w.orgA, name+"@example.org", identity.RoleViewer)
		if err != nil {
			t.Fatal(err)
		}
		w.users[name] = w.enrol(inv.Token, name)
	}
	admin := w.cookie("admin-a")
	first := w.do("GET", orgURL(w.orgA, "/members"), "", admin, "")
	body := first.Body.String()
	if first.Code != http.StatusOK || !strings.Contains(body, "Page 1 · 56 members") || !strings.Contains(body, `href="`+orgURL(w.orgA, "/members?page=2")+`"`) {
		t.Fatalf("first page: %d", first.Code)
	}
	second := w.do("GET", orgURL(w.orgA, "/members?page=2"), "", admin, "").Body.String()
	if !strings.Contains(second, "Page 2 · 56 members") || strings.Contains(second, `id="members-next"`) || !strings.Contains(second, `id="members-prev"`) {
		t.Error("second page's pager")
	}
	// Every member is on exactly one page.
	for i := range 52 {
		name := fmt.Sprintf("bulk-%02d@example.org", i)
		if strings.Contains(body, name) == strings.Contains(second, name) {
			t.Errorf("%s is on both pages or on none", name)
		}
	}
	if rec := w.do("GET", orgURL(w.orgA, "/members?page=x"), "", admin, ""); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "page number") {
		t.Errorf("bad page: %d", rec.Code)
	}
	if rec := w.do("GET", orgURL(w.orgA, "/members?page=2"), "", w.cookie("admin-b"), ""); rec.Code != http.StatusNotFound {
		t.Errorf("another organisation's members, page 2: %d", rec.Code)
	}
}
