package authn

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// enrolled returns a harness with a first admin enrolled and signed in.
func enrolled(t *testing.T, newH func(*testing.T) *harness) (*harness, *client, int64) {
	t.Helper()
	h := newH(t)
	c := h.newClient()
	c.enrol(h.b.enrolLink(t))
	acc, err := h.st.AccountByEmail(t.Context(), "first@example.org")
	if err != nil {
		t.Fatal(err)
	}
	return h, c, acc.ID
}

func TestEnrolSignOutSignIn(t *testing.T) {
	eachBackend(t, func(t *testing.T, newH func(*testing.T) *harness) {
		h, c, uid := enrolled(t, newH)
		res, body := c.get("/account")
		if res.StatusCode != http.StatusOK || !strings.Contains(body, "Chikondi Banda") {
			t.Fatalf("account page after enrolment: %d %s", res.StatusCode, body)
		}
		acc, _ := h.st.Account(t.Context(), uid)
		if len(acc.Handle) != 32 || !bytes.Equal(acc.Handle, c.auth.creds[0].userHandle) {
			t.Errorf("user handle = %x, want the 32 random bytes the passkey was made with", acc.Handle)
		}
		c.signOut()
		if res, _ := c.get("/account"); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("account after sign-out: %d", res.StatusCode)
		}
		from := h.auditN()
		st, sb := c.signIn()
		if st != http.StatusOK || redirectOf(t, sb) != "/" {
			t.Fatalf("sign-in: %d %s %+v", st, sb, h.b.audits(t))
		}
		if got := h.auditSince(from, "authn.signin.success"); len(got) != 1 || got[0].ActorID != uid {
			t.Errorf("sign-in success audit = %+v", got)
		}
		if res, _ := c.get("/account"); res.StatusCode != http.StatusOK {
			t.Fatalf("account after sign-in: %d", res.StatusCode)
		}
		pk, _ := h.st.Passkeys(t.Context(), uid)
		if len(pk) != 1 || pk[0].Name != "laptop" || pk[0].Credential.Authenticator.SignCount != 1 {
			t.Errorf("passkey after sign-in = %+v", pk)
		}
	})
}
