package authn

import (
	"bytes"
	"net/http"
	"net/url"
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

func TestSessionsListAndRevoke(t *testing.T) {
	eachBackend(t, func(t *testing.T, newH func(*testing.T) *harness) {
		h, laptop, uid := enrolled(t, newH)
		phone := h.newClient()
		phone.auth = laptop.auth // the same synced passkey
		if st, body := phone.signIn(); st != http.StatusOK {
			t.Fatalf("second sign-in: %d %s", st, body)
		}
		ss, err := h.st.Sessions(t.Context(), uid)
		if err != nil || len(ss) != 2 {
			t.Fatalf("sessions = %d (%v), want 2", len(ss), err)
		}
		res, body := laptop.get("/account/sessions")
		if res.StatusCode != http.StatusOK || strings.Count(body, "/revoke") != 2 || !strings.Contains(body, "(this session)") {
			t.Fatalf("sessions page: %d", res.StatusCode)
		}
		// The laptop ends the phone's session.
		var phoneID string
		for _, s := range ss {
			if !strings.Contains(body, `action="/account/sessions/`+s.ID+`/revoke"><button type="submit">Sign out`) {
				phoneID = s.ID
			}
		}
		if res, _ := laptop.postForm("/account/sessions/"+phoneID+"/revoke", nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoke: %d", res.StatusCode)
		}
		if res, _ := phone.get("/account"); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("revoked session still works: %d", res.StatusCode)
		}
		if res, _ := laptop.get("/account"); res.StatusCode != http.StatusOK {
			t.Errorf("revoking another session ended this one: %d", res.StatusCode)
		}
		// Someone else's session ID is not found.
		if res, _ := laptop.postForm("/account/sessions/999999/revoke", nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("revoke unknown session = %d, want 404", res.StatusCode)
		}
	})
}

func TestRenamePasskey(t *testing.T) {
	eachBackend(t, func(t *testing.T, newH func(*testing.T) *harness) {
		h, c, uid := enrolled(t, newH)
		id := b64.EncodeToString(c.auth.creds[0].id)
		if res, _ := c.postForm("/account/passkeys/"+id+"/rename", url.Values{"name": {"YubiKey 5C"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("rename: %d", res.StatusCode)
		}
		if pk, _ := h.st.Passkeys(t.Context(), uid); len(pk) != 1 || pk[0].Name != "YubiKey 5C" {
			t.Fatalf("passkeys = %+v", pk)
		}
		if res, _ := c.postForm("/account/passkeys/"+id+"/rename", url.Values{"name": {strings.Repeat("x", 101)}}); res.StatusCode != http.StatusBadRequest {
			t.Errorf("overlong name = %d", res.StatusCode)
		}
		other := b64.EncodeToString([]byte("someone-elses-credential"))
		if res, _ := c.postForm("/account/passkeys/"+other+"/rename", url.Values{"name": {"mine"}}); res.StatusCode != http.StatusNotFound {
			t.Errorf("rename of an unknown passkey = %d, want 404", res.StatusCode)
		}
	})
}
