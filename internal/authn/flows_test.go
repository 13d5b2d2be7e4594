package authn

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// enrolled returns a harness with a first admin enrolled and signed in.
func enrolled(t *testing.T) (*harness, *client, int64) {
	t.Helper()
	h := newHarness(t)
	h.store.addLink(LinkEnrolFirstAdmin, 0, "first-link", time.Now().Add(24*time.Hour))
	c := h.newClient()
	c.enrol("first-link")
	acc, err := h.store.AccountByEmail(t.Context(), "first@example.org")
	if err != nil {
		t.Fatal(err)
	}
	return h, c, acc.ID
}

func TestEnrolSignOutSignIn(t *testing.T) {
	h, c, uid := enrolled(t)
	res, body := c.get("/account")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Chikondi Banda") {
		t.Fatalf("account page after enrolment: %d %s", res.StatusCode, body)
	}
	acc, _ := h.store.Account(t.Context(), uid)
	if len(acc.Handle) != 32 || strings.Contains(string(acc.Handle), "first@") {
		t.Errorf("user handle must be 32 random bytes, got %q", acc.Handle)
	}
	c.signOut()
	if res, _ := c.get("/account"); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("account after sign-out: %d", res.StatusCode)
	}
	from := len(h.store.audits())
	st, sb := c.signIn()
	if st != http.StatusOK || redirectOf(t, sb) != "/" {
		t.Fatalf("sign-in: %d %s %+v", st, sb, h.store.audits())
	}
	if got := h.auditSince(from, "authn.signin.success"); len(got) != 1 || got[0].ActorID != uid {
		t.Errorf("sign-in success audit = %+v", got)
	}
	if res, _ := c.get("/account"); res.StatusCode != http.StatusOK {
		t.Fatalf("account after sign-in: %d", res.StatusCode)
	}
	pk, _ := h.store.Passkeys(t.Context(), uid)
	if len(pk) != 1 || pk[0].Name != "laptop" || pk[0].Credential.Authenticator.SignCount != 1 {
		t.Errorf("passkey after sign-in = %+v", pk)
	}
}
