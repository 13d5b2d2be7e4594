package app

import (
	"net/http"
	"strings"
	"testing"
)

// TestOrgPageFromSessionMatchesStore checks that the organisation page a
// member gets (organisation taken from the memberships read with the
// session) shows exactly what a platform administrator who is not a
// member gets (organisation read from the store), people list included.
func TestOrgPageFromSessionMatchesStore(t *testing.T) {
	w := newWorld(t)
	main := func(user string) string {
		t.Helper()
		rec := w.do("GET", orgURL(w.orgA, ""), "", w.cookie(user), "")
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d", user, rec.Code)
		}
		body := rec.Body.String()
		a, b := strings.Index(body, `<main`), strings.Index(body, `</main>`)
		if a < 0 || b < a {
			t.Fatalf("%s: no <main> in page", user)
		}
		return body[a:b]
	}
	member, padmin := main("admin-a"), main("padmin")
	if member != padmin {
		t.Errorf("member's page differs from the platform administrator's:\n%s\n---\n%s", member, padmin)
	}
	for _, want := range []string{"Regulator A", "Telecom regulator · MW", "viewer-a", "target-a", "Org admin"} {
		if !strings.Contains(member, want) {
			t.Errorf("organisation page lacks %q:\n%s", want, member)
		}
	}
}
