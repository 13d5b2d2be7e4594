package authn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func challengeOf(t *testing.T, opts []byte) string {
	t.Helper()
	var o requestOptions
	if err := json.Unmarshal(opts, &o); err != nil {
		t.Fatal(err)
	}
	return o.PublicKey.Challenge
}

// TestSignInRefusals sends hostile assertions; each must be refused with
// the right status and leave an audit entry naming why.
func TestSignInRefusals(t *testing.T) {
	eachBackend(t, func(t *testing.T, newH func(*testing.T) *harness) {
		otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tests := []struct {
			name       string
			attack     func(t *testing.T, c *client, cred *softCredential) (int, []byte)
			wantStatus int
			wantReason string // substring of the audit entry's reason
			// signsInFirst: the attack starts with a genuine sign-in, so the
			// browser legitimately holds a session afterwards.
			signsInFirst bool
		}{
			{
				name: "forged signature",
				attack: func(t *testing.T, c *client, cred *softCredential) (int, []byte) {
					resp, _ := c.auth.assert(cred, challengeOf(t, c.beginSignIn()), cred.counter+1, otherKey)
					return c.postJSON("/signin/finish", resp)
				},
				wantStatus: http.StatusUnauthorized, wantReason: "signature",
			},
			{
				name: "replayed assertion, same ceremony",
				attack: func(t *testing.T, c *client, cred *softCredential) (int, []byte) {
					resp, _ := c.auth.get(c.beginSignIn(), cred)
					if st, b := c.postJSON("/signin/finish", resp); st != http.StatusOK {
						t.Fatalf("first use refused: %d %s", st, b)
					}
					return c.postJSON("/signin/finish", resp)
				},
				signsInFirst: true, wantStatus: http.StatusBadRequest, wantReason: "no pending sign-in",
			},
			{
				name: "replayed assertion, new ceremony",
				attack: func(t *testing.T, c *client, cred *softCredential) (int, []byte) {
					resp, _ := c.auth.get(c.beginSignIn(), cred)
					if st, b := c.postJSON("/signin/finish", resp); st != http.StatusOK {
						t.Fatalf("first use refused: %d %s", st, b)
					}
					c.beginSignIn() // a fresh challenge the old response does not sign
					return c.postJSON("/signin/finish", resp)
				},
				signsInFirst: true, wantStatus: http.StatusUnauthorized, wantReason: "challenge",
			},
			{
				name: "wrong origin",
				attack: func(t *testing.T, c *client, cred *softCredential) (int, []byte) {
					c.auth.origin = "https://dfslab.example.evil.test"
					resp, _ := c.auth.get(c.beginSignIn(), cred)
					return c.postJSON("/signin/finish", resp)
				},
				wantStatus: http.StatusUnauthorized, wantReason: "origin",
			},
			{
				name: "wrong RP ID",
				attack: func(t *testing.T, c *client, cred *softCredential) (int, []byte) {
					c.auth.rpID = "evil.test"
					resp, _ := c.auth.get(c.beginSignIn(), cred)
					return c.postJSON("/signin/finish", resp)
				},
				wantStatus: http.StatusUnauthorized, wantReason: "RP",
			},
			{
				name: "sign-count regression",
				attack: func(t *testing.T, c *client, cred *softCredential) (int, []byte) {
					for range 3 { // counter goes to 3
						if st, b := c.signIn(); st != http.StatusOK {
							t.Fatalf("sign-in: %d %s", st, b)
						}
					}
					resp, _ := c.auth.assert(cred, challengeOf(t, c.beginSignIn()), 2, cred.key)
					return c.postJSON("/signin/finish", resp)
				},
				signsInFirst: true, wantStatus: http.StatusUnauthorized, wantReason: "sign count",
			},
			{
				name: "unknown credential",
				attack: func(t *testing.T, c *client, cred *softCredential) (int, []byte) {
					stranger := &softCredential{id: []byte("not-registered-credential-id-000"), key: otherKey, userHandle: []byte("nobody")}
					resp, _ := c.auth.assert(stranger, challengeOf(t, c.beginSignIn()), 1, otherKey)
					return c.postJSON("/signin/finish", resp)
				},
				wantStatus: http.StatusUnauthorized, wantReason: "lookup",
			},
			{
				name: "garbage body",
				attack: func(t *testing.T, c *client, cred *softCredential) (int, []byte) {
					c.beginSignIn()
					return c.postJSON("/signin/finish", []byte(`{"id":`))
				},
				wantStatus: http.StatusBadRequest, wantReason: "",
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				h, c, _ := enrolled(t, newH)
				cred := c.auth.creds[0]
				c.signOut()
				from := h.auditN()
				st, body := tt.attack(t, c, cred)
				if st != tt.wantStatus {
					t.Fatalf("status = %d (%s), want %d", st, body, tt.wantStatus)
				}
				if strings.Contains(string(body), "challenge") || strings.Contains(string(body), "signature") {
					t.Errorf("refusal leaks the failed check to the client: %s", body)
				}
				fails := h.auditSince(from, "authn.signin.failure")
				if len(fails) == 0 {
					t.Fatalf("no authn.signin.failure audit entry; have %+v", h.b.audits(t)[from:])
				}
				reason, _ := fails[len(fails)-1].Details["reason"].(string)
				if !strings.Contains(strings.ToLower(reason), strings.ToLower(tt.wantReason)) {
					t.Errorf("audit reason %q does not mention %q", reason, tt.wantReason)
				}
				if res, _ := c.get("/account"); !tt.signsInFirst && res.StatusCode != http.StatusUnauthorized {
					t.Errorf("refused sign-in left a session: GET /account = %d", res.StatusCode)
				}
			})
		}
	})
}

// TestCeremonyBoundToBrowser: a challenge begun by one browser cannot be
// finished by another (the state is bound to the pre-auth cookie).
func TestCeremonyBoundToBrowser(t *testing.T) {
	eachBackend(t, func(t *testing.T, newH func(*testing.T) *harness) {
		h, victim, _ := enrolled(t, newH)
		victim.signOut()
		attacker := h.newClient()
		resp, err := victim.auth.get(attacker.beginSignIn(), nil)
		if err != nil {
			t.Fatal(err)
		}
		// The victim's browser posts an assertion for the attacker's challenge.
		st, _ := victim.postJSON("/signin/finish", resp)
		if st != http.StatusBadRequest {
			t.Fatalf("finish from another browser = %d, want 400", st)
		}
	})
}

// TestRegistrationRefusals: a registration with the wrong origin or RP ID
// must not add a passkey nor consume the link.
func TestRegistrationRefusals(t *testing.T) {
	eachBackend(t, func(t *testing.T, newH func(*testing.T) *harness) {
		for _, tt := range []struct {
			name         string
			origin, rpID string
		}{
			{"wrong origin", "https://evil.test", testRPID},
			{"wrong RP ID", testOrigin, "evil.test"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				h := newH(t)
				tok := h.b.enrolLink(t)
				c := h.newClient()
				c.auth.origin, c.auth.rpID = tt.origin, tt.rpID
				st, body, _ := c.register("/enrol/"+tok+"/begin", "/enrol/"+tok+"/finish",
					map[string]string{"email": "a@example.org", "displayName": "A", "passkeyName": "k"})
				if st != http.StatusBadRequest {
					t.Fatalf("status = %d %s, want 400", st, body)
				}
				if len(h.auditSince(0, "authn.enrol.failure")) != 1 {
					t.Errorf("no audit entry for the refused registration")
				}
				if _, err := h.st.PeekLink(t.Context(), HashLinkToken(tok)); err != nil {
					t.Errorf("refused registration consumed the link: %v", err)
				}
			})
		}
	})
}

// TestLinksSingleUse: enrolment, invitation and recovery links work once.
func TestLinksSingleUse(t *testing.T) {
	eachBackend(t, func(t *testing.T, newH func(*testing.T) *harness) {
		tests := []struct {
			name string
			path string
			// setup returns the user (0: created by the link) and the token.
			setup func(t *testing.T, h *harness) (int64, string)
		}{
			{"first admin", "/enrol/", func(t *testing.T, h *harness) (int64, string) { return 0, h.b.enrolLink(t) }},
			{"invitation", "/enrol/", func(t *testing.T, h *harness) (int64, string) { return 0, h.b.invite(t, "invitee@example.org") }},
			{"recovery", "/recover/", func(t *testing.T, h *harness) (int64, string) {
				tok := h.b.invite(t, "lost@example.org")
				c := h.newClient()
				if st, body, _ := c.register("/enrol/"+tok+"/begin", "/enrol/"+tok+"/finish",
					map[string]string{"displayName": "Lost", "passkeyName": "old phone"}); st != http.StatusOK {
					t.Fatalf("enrol invitee: %d %s", st, body)
				}
				acc, err := h.st.AccountByEmail(t.Context(), "lost@example.org")
				if err != nil {
					t.Fatal(err)
				}
				return acc.ID, h.b.recoveryLink(t, acc.ID)
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				h := newH(t)
				uid, tok := tt.setup(t, h)
				before := 0
				if uid != 0 {
					pk, _ := h.st.Passkeys(t.Context(), uid)
					before = len(pk)
				}
				form := map[string]string{"email": "first@example.org", "displayName": "Thandiwe", "passkeyName": "phone"}
				c := h.newClient()
				st, body, _ := c.register(tt.path+tok+"/begin", tt.path+tok+"/finish", form)
				if st != http.StatusOK {
					t.Fatalf("first use: %d %s", st, body)
				}
				if uid != 0 {
					if pk, _ := h.st.Passkeys(t.Context(), uid); len(pk) != before+1 {
						t.Fatalf("passkeys after link = %d, want %d", len(pk), before+1)
					}
				}
				from := h.auditN()
				other := h.newClient()
				if res, _ := other.get(tt.path + tok); res.StatusCode != http.StatusGone {
					t.Errorf("GET used link = %d, want 410", res.StatusCode)
				}
				if st, _ := other.postJSON(tt.path+tok+"/begin", form); st != http.StatusGone {
					t.Errorf("begin on used link = %d, want 410", st)
				}
				refused := h.auditSince(from, "authn.link.refused")
				if len(refused) != 2 {
					t.Errorf("audit entries for refused link = %d, want 2", len(refused))
				}
				for _, a := range refused {
					if p, _ := a.Details["path"].(string); p == "" || strings.Contains(p, tok) {
						t.Errorf("audit path %q is missing or carries the link token", p)
					}
				}
			})
		}
	})
}

// TestLinkRaceConsumedBetweenBeginAndFinish: two browsers begin on the same
// link; only the first finish wins.
func TestLinkRaceConsumedBetweenBeginAndFinish(t *testing.T) {
	eachBackend(t, func(t *testing.T, newH func(*testing.T) *harness) {
		h := newH(t)
		p := "/enrol/" + h.b.enrolLink(t)
		form := map[string]string{"email": "x@example.org", "displayName": "X", "passkeyName": "k"}
		a, b := h.newClient(), h.newClient()
		_, optsA := a.postJSON(p+"/begin", form)
		_, optsB := b.postJSON(p+"/begin", form)
		respA, _, _ := a.auth.create(optsA)
		respB, _, _ := b.auth.create(optsB)
		if st, body := a.postJSON(p+"/finish", respA); st != http.StatusOK {
			t.Fatalf("first finish: %d %s", st, body)
		}
		if st, _ := b.postJSON(p+"/finish", respB); st != http.StatusGone {
			t.Fatalf("second finish = %d, want 410", st)
		}
		if len(h.auditSince(0, "authn.enrol.failure")) != 1 {
			t.Error("second finish not audited")
		}
	})
}

func TestExpiredLinkRefused(t *testing.T) {
	eachBackend(t, func(t *testing.T, newH func(*testing.T) *harness) {
		h := newH(t)
		tok := h.b.enrolLink(t)
		h.clock.Add(24*time.Hour + time.Second)
		if res, _ := h.newClient().get("/enrol/" + tok); res.StatusCode != http.StatusGone {
			t.Fatalf("expired link = %d, want 410", res.StatusCode)
		}
		if len(h.auditSince(0, "authn.link.refused")) != 1 {
			t.Error("expired link not audited")
		}
	})
}

// TestStepUp: a sensitive action more than 5 minutes after the last
// verification is sent to re-verify; after a passkey step-up it works.
func TestStepUp(t *testing.T) {
	eachBackend(t, func(t *testing.T, newH func(*testing.T) *harness) {
		h, c, uid := enrolled(t, newH)
		form := url.Values{"name": {"ci"}, "scope": {"read"}, "days": {"30"}}
		if res, body := c.postForm("/account/tokens", form); res.StatusCode != http.StatusCreated {
			t.Fatalf("fresh session: create token = %d %s", res.StatusCode, body)
		}
		h.clock.Add(StepUpWindow + time.Second)
		from := h.auditN()
		res, _ := c.postForm("/account/tokens", form)
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/account/step-up?next=") {
			t.Fatalf("stale session: %d Location=%q, want 303 to step-up", res.StatusCode, res.Header.Get("Location"))
		}
		if len(h.auditSince(from, "authn.step_up.required")) != 1 {
			t.Error("refused sensitive action not audited")
		}
		if ts, _ := h.st.Tokens(t.Context(), uid); len(ts) != 1 {
			t.Fatalf("tokens = %d, want 1 (the stale request must not create one)", len(ts))
		}
		// JSON callers (the passkey ceremony script) get 403 with the page.
		if st, body := c.postJSON("/account/passkeys/begin", map[string]string{"passkeyName": "x"}); st != http.StatusForbidden || redirectOf(t, body) == "" {
			t.Fatalf("stale JSON begin = %d %s", st, body)
		}

		st, opts := c.postJSON("/account/step-up/begin", map[string]string{"next": "/account/tokens"})
		if st != http.StatusOK {
			t.Fatalf("step-up begin: %d %s", st, opts)
		}
		resp, _ := c.auth.get(opts, nil)
		st, body := c.postJSON("/account/step-up/finish", resp)
		if st != http.StatusOK || redirectOf(t, body) != "/account/tokens" {
			t.Fatalf("step-up finish: %d %s", st, body)
		}
		if res, body := c.postForm("/account/tokens", form); res.StatusCode != http.StatusCreated {
			t.Fatalf("after step-up: create token = %d %s", res.StatusCode, body)
		}
		// A step-up assertion cannot be replayed.
		if st, _ := c.postJSON("/account/step-up/finish", resp); st != http.StatusBadRequest {
			t.Errorf("replayed step-up = %d, want 400", st)
		}
	})
}

// TestRemoveLastPasskeyRefused: the store's rule surfaces as 409.
func TestRemoveLastPasskeyRefused(t *testing.T) {
	eachBackend(t, func(t *testing.T, newH func(*testing.T) *harness) {
		h, c, uid := enrolled(t, newH)
		pk, _ := h.st.Passkeys(t.Context(), uid)
		id := b64.EncodeToString(pk[0].Credential.ID)
		res, body := c.postForm("/account/passkeys/"+id+"/delete", nil)
		if res.StatusCode != http.StatusConflict || !strings.Contains(body, "only way to sign in") {
			t.Fatalf("remove last passkey = %d", res.StatusCode)
		}
		if len(h.auditSince(0, "authn.passkey.remove.refused")) != 1 {
			t.Error("refusal not audited")
		}
		// With a second passkey, removal works.
		st, b, _ := c.register("/account/passkeys/begin", "/account/passkeys/finish", map[string]string{"passkeyName": "backup key"})
		if st != http.StatusOK {
			t.Fatalf("add passkey: %d %s", st, b)
		}
		if res, _ := c.postForm("/account/passkeys/"+id+"/delete", nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("remove one of two = %d", res.StatusCode)
		}
		if pk, _ := h.st.Passkeys(t.Context(), uid); len(pk) != 1 || pk[0].Name != "backup key" {
			t.Fatalf("passkeys = %+v", pk)
		}
	})
}

// TestAddPasskeyExcludesExisting: the creation options list the user's
// passkeys so an authenticator does not register twice.
func TestAddPasskeyExcludesExisting(t *testing.T) {
	eachBackend(t, func(t *testing.T, newH func(*testing.T) *harness) {
		_, c, _ := enrolled(t, newH)
		st, opts := c.postJSON("/account/passkeys/begin", map[string]string{"passkeyName": "second"})
		if st != http.StatusOK {
			t.Fatalf("begin: %d %s", st, opts)
		}
		var o struct {
			PublicKey struct {
				ExcludeCredentials     []struct{ ID string } `json:"excludeCredentials"`
				AuthenticatorSelection struct {
					ResidentKey      string `json:"residentKey"`
					UserVerification string `json:"userVerification"`
				} `json:"authenticatorSelection"`
			} `json:"publicKey"`
		}
		if err := json.Unmarshal(opts, &o); err != nil {
			t.Fatal(err)
		}
		if len(o.PublicKey.ExcludeCredentials) != 1 || o.PublicKey.ExcludeCredentials[0].ID != b64.EncodeToString(c.auth.creds[0].id) {
			t.Errorf("excludeCredentials = %+v", o.PublicKey.ExcludeCredentials)
		}
		if o.PublicKey.AuthenticatorSelection.ResidentKey != "required" || o.PublicKey.AuthenticatorSelection.UserVerification != "required" {
			t.Errorf("authenticatorSelection = %+v, want discoverable with user verification", o.PublicKey.AuthenticatorSelection)
		}
	})
}

// TestDeactivatedUser: deactivation ends the session at once, and the
// user's passkey no longer signs in.
func TestDeactivatedUser(t *testing.T) {
	eachBackend(t, func(t *testing.T, newH func(*testing.T) *harness) {
		h, c, uid := enrolled(t, newH)
		h.b.deactivate(t, uid)
		if res, _ := c.get("/account"); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("session of a deactivated user = %d, want 401", res.StatusCode)
		}
		from := h.auditN()
		if st, body := c.signIn(); st != http.StatusUnauthorized {
			t.Fatalf("sign-in of a deactivated user = %d %s, want 401", st, body)
		}
		if len(h.auditSince(from, "authn.signin.failure")) != 1 {
			t.Error("refused sign-in not audited")
		}
	})
}

// TestOversizedCeremonyBody: a ceremony answer larger than any real one is
// refused before it is parsed.
func TestOversizedCeremonyBody(t *testing.T) {
	eachBackend(t, func(t *testing.T, newH func(*testing.T) *harness) {
		h := newH(t)
		c := h.newClient()
		c.beginSignIn()
		body := []byte(`{"id":"` + strings.Repeat("A", maxCeremonyBody) + `"}`)
		if st, _ := c.postJSON("/signin/finish", body); st != http.StatusRequestEntityTooLarge {
			t.Fatalf("oversized finish = %d, want 413", st)
		}
	})
}
