package authn

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// codeNow is the current TOTP code of uid at the harness clock.
func (h *harness) codeNow(uid int64, offsetSteps int64) string {
	return totpCodeAt(h.b.totpSecret(h.t, uid), h.clock.Now().Unix()/30+offsetSteps)
}

// enableTOTP sets up TOTP through the pages and returns the code used.
func enableTOTP(t *testing.T, h *harness, c *client, uid int64) string {
	t.Helper()
	res, body := c.postForm("/account/totp/setup", nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "<svg") || !strings.Contains(body, "<rect") {
		t.Fatalf("TOTP setup page: %d", res.StatusCode)
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("TOTP setup page is cacheable: %q", res.Header.Get("Cache-Control"))
	}
	code := h.codeNow(uid, 0)
	res, body = c.postForm("/account/totp/confirm", url.Values{"code": {code}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("TOTP confirm: %d %s", res.StatusCode, body)
	}
	return code
}

func TestTOTPEnrolAndSignIn(t *testing.T) {
	eachBackend(t, func(t *testing.T, newH func(*testing.T) *harness) {
		h, c, uid := enrolled(t, newH)
		used := enableTOTP(t, h, c, uid)
		if acc, _ := h.st.Account(t.Context(), uid); !acc.TOTPEnabled {
			t.Fatal("TOTP not enabled after confirmation")
		}
		c.signOut()

		// Passkey first: the answer sends the browser to the second factor
		// and no session exists yet.
		st, body := c.signIn()
		if st != http.StatusOK || redirectOf(t, body) != "/signin/totp" {
			t.Fatalf("passkey step: %d %s", st, body)
		}
		if res, _ := c.get("/account"); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("session exists before the second factor: %d", res.StatusCode)
		}

		// The code used for the confirmation is in the same time step: reused.
		from := h.auditN()
		res, _ := c.postForm("/signin/totp", url.Values{"code": {used}})
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("reused TOTP code = %d, want 401", res.StatusCode)
		}
		fails := h.auditSince(from, "authn.signin.failure")
		if len(fails) != 1 || !strings.Contains(fails[0].Details["reason"].(string), "reused") {
			t.Fatalf("audit of reused code = %+v", fails)
		}
		if len(h.auditSince(from, "totp.reuse")) != 1 {
			t.Error("store did not record the reuse")
		}
		if h.limiter.failures["user:"+itoa(uid)] != 1 {
			t.Errorf("reused code not counted by the limiter: %v", h.limiter.failures)
		}

		// A wrong code is refused too; the pending sign-in survives both.
		if res, _ := c.postForm("/signin/totp", url.Values{"code": {"000000"}}); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong code = %d", res.StatusCode)
		}
		h.clock.Add(30 * time.Second)
		next := h.codeNow(uid, 0)
		res, _ = c.postForm("/signin/totp", url.Values{"code": {next}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
			t.Fatalf("next step's code: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		if res, _ := c.get("/account"); res.StatusCode != http.StatusOK {
			t.Fatalf("no session after TOTP: %d", res.StatusCode)
		}
		// The same code once more (another browser, after its passkey) is refused.
		c.signOut()
		if st, body := c.signIn(); st != http.StatusOK || redirectOf(t, body) != "/signin/totp" {
			t.Fatalf("passkey step: %d %s", st, body)
		}
		if res, _ := c.postForm("/signin/totp", url.Values{"code": {next}}); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("code reused across sign-ins = %d", res.StatusCode)
		}
	})
}

func TestTOTPWithoutPendingSignIn(t *testing.T) {
	eachBackend(t, func(t *testing.T, newH func(*testing.T) *harness) {
		h, c, uid := enrolled(t, newH)
		enableTOTP(t, h, c, uid)
		c.signOut()
		h.clock.Add(30 * time.Second)
		// No passkey step first: a code alone never signs in.
		res, _ := c.postForm("/signin/totp", url.Values{"code": {h.codeNow(uid, 0)}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/signin" {
			t.Fatalf("code without passkey: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		if res, _ := c.get("/account"); res.StatusCode != http.StatusUnauthorized {
			t.Fatal("signed in by TOTP alone")
		}
		if len(h.auditSince(0, "authn.signin.failure")) != 1 {
			t.Error("not audited")
		}
	})
}

func TestStepUpWithTOTP(t *testing.T) {
	eachBackend(t, func(t *testing.T, newH func(*testing.T) *harness) {
		h, c, uid := enrolled(t, newH)
		used := enableTOTP(t, h, c, uid)
		h.clock.Add(StepUpWindow + time.Second)
		// The confirmation's code cannot be replayed for step-up.
		res, _ := c.postForm("/account/step-up/totp", url.Values{"code": {used}, "next": {"/account/tokens"}})
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("replayed code for step-up = %d", res.StatusCode)
		}
		if len(h.auditSince(0, "authn.step_up.failure")) != 1 {
			t.Error("step-up failure not audited")
		}
		res, _ = c.postForm("/account/step-up/totp", url.Values{"code": {h.codeNow(uid, 0)}, "next": {"//evil.test/x"}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account" {
			t.Fatalf("step-up: %d %q (an off-site next must fall back)", res.StatusCode, res.Header.Get("Location"))
		}
		if res, _ := c.postForm("/account/recovery-codes", nil); res.StatusCode != http.StatusOK {
			t.Fatalf("sensitive action after TOTP step-up = %d", res.StatusCode)
		}
	})
}

func TestTOTPRequiredByOrganisation(t *testing.T) {
	eachBackend(t, func(t *testing.T, newH func(*testing.T) *harness) {
		h, c, uid := enrolled(t, newH)
		h.b.requireTOTP(t, uid)
		c.signOut()
		st, body := c.signIn()
		if st != http.StatusOK || redirectOf(t, body) != "/account/totp" {
			t.Fatalf("member of a TOTP-requiring org is not sent to set it up: %d %s", st, body)
		}
		enableTOTP(t, h, c, uid)
		h.clock.Add(time.Minute)
		if res, _ := c.get("/account/step-up"); res.StatusCode != http.StatusOK {
			t.Fatal(res.StatusCode)
		}
		res, _ := c.postForm("/account/step-up/totp", url.Values{"code": {h.codeNow(uid, 0)}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatal(res.StatusCode)
		}
		if res, _ := c.postForm("/account/totp/disable", nil); res.StatusCode != http.StatusConflict {
			t.Fatalf("disable required TOTP = %d, want 409", res.StatusCode)
		}
		if len(h.auditSince(0, "authn.totp.disable.refused")) != 1 {
			t.Error("refusal not audited")
		}
	})
}

func TestRecoveryCodes(t *testing.T) {
	eachBackend(t, func(t *testing.T, newH func(*testing.T) *harness) {
		h, c, uid := enrolled(t, newH)
		res, body := c.postForm("/account/recovery-codes", nil)
		if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("create codes: %d cache=%q", res.StatusCode, res.Header.Get("Cache-Control"))
		}
		codes := codesOf(t, body)
		if len(codes) != RecoveryCodeCount {
			t.Fatalf("codes shown = %d", len(codes))
		}
		if res, body := c.get("/account/recovery-codes"); strings.Contains(body, codes[0]) || res.StatusCode != http.StatusOK {
			t.Fatal("codes are shown again")
		}
		c.signOut()

		recoverWith := func(email, code string) *http.Response {
			res, _ := c.postForm("/recover", url.Values{"email": {email}, "code": {code}})
			return res
		}
		// Typed loosely: upper case, spaces instead of the hyphen.
		loose := strings.ToUpper(strings.ReplaceAll(codes[0], "-", " "))
		if res := recoverWith("FIRST@example.org", loose); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account/passkeys?recovered=1" {
			t.Fatalf("recovery with a code: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		if res, _ := c.get("/account"); res.StatusCode != http.StatusOK {
			t.Fatal("not signed in after recovery")
		}
		c.signOut()
		from := h.auditN()
		for _, tt := range []struct{ name, email, code string }{
			{"reused code", "first@example.org", codes[0]},
			{"unknown account", "nobody@example.org", codes[1]},
			{"wrong code", "first@example.org", "aaaaa-bbbbb"},
		} {
			if res := recoverWith(tt.email, tt.code); res.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s: status %d, want 401", tt.name, res.StatusCode)
			}
		}
		if n := len(h.auditSince(from, "authn.recover.failure")); n != 3 {
			t.Errorf("recovery failures audited = %d, want 3", n)
		}
		if left, _ := h.st.RecoveryCodesLeft(t.Context(), uid); left != RecoveryCodeCount-1 {
			t.Errorf("codes left = %d", left)
		}
		// Guessing is slowed per account: when the limiter says wait, 429.
		h.limiter.blocked["email:first@example.org"] = true
		if res := recoverWith("first@example.org", codes[1]); res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
			t.Fatalf("limited recovery = %d", res.StatusCode)
		}
		if len(h.auditSince(from, "authn.rate_limited")) != 1 {
			t.Error("rate limiting not audited")
		}
	})
}

func TestRecoveryCodeNeedsTOTPWhenEnabled(t *testing.T) {
	eachBackend(t, func(t *testing.T, newH func(*testing.T) *harness) {
		h, c, uid := enrolled(t, newH)
		enableTOTP(t, h, c, uid)
		res, body := c.postForm("/account/recovery-codes", nil)
		if res.StatusCode != http.StatusOK {
			t.Fatal(res.StatusCode)
		}
		codes := codesOf(t, body)
		c.signOut()
		h.clock.Add(30 * time.Second)
		if res, _ := c.postForm("/recover", url.Values{"email": {"first@example.org"}, "code": {codes[0]}}); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("recovery code without TOTP = %d, want 401", res.StatusCode)
		}
		res, _ = c.postForm("/recover", url.Values{"email": {"first@example.org"}, "code": {codes[0]}, "totp": {h.codeNow(uid, 0)}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("recovery code with TOTP = %d", res.StatusCode)
		}
	})
}

func codesOf(t *testing.T, body string) []string {
	t.Helper()
	var codes []string
	for _, part := range strings.Split(body, "<li><code>")[1:] {
		codes = append(codes, part[:strings.Index(part, "</code>")])
	}
	return codes
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestPendingSecondFactorExpires: wrong codes do not extend the 5 minutes
// a passkey step stays valid, and five wrong codes end it.
func TestPendingSecondFactorExpires(t *testing.T) {
	eachBackend(t, func(t *testing.T, newH func(*testing.T) *harness) {
		h, c, uid := enrolled(t, newH)
		enableTOTP(t, h, c, uid)
		c.signOut()
		if st, body := c.signIn(); st != http.StatusOK || redirectOf(t, body) != "/signin/totp" {
			t.Fatalf("passkey step: %d %s", st, body)
		}
		h.clock.Add(4 * time.Minute)
		if res, _ := c.postForm("/signin/totp", url.Values{"code": {"000000"}}); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong code = %d", res.StatusCode)
		}
		h.clock.Add(2 * time.Minute)
		res, _ := c.postForm("/signin/totp", url.Values{"code": {h.codeNow(uid, 0)}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/signin" {
			t.Fatalf("code after 6 minutes: %d %q, want back to /signin", res.StatusCode, res.Header.Get("Location"))
		}

		if st, _ := c.signIn(); st != http.StatusOK {
			t.Fatal(st)
		}
		for range maxTOTPAttempts {
			c.postForm("/signin/totp", url.Values{"code": {"000000"}})
		}
		h.clock.Add(30 * time.Second)
		res, _ = c.postForm("/signin/totp", url.Values{"code": {h.codeNow(uid, 0)}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/signin" {
			t.Fatalf("right code after %d wrong ones: %d %q, want back to /signin", maxTOTPAttempts, res.StatusCode, res.Header.Get("Location"))
		}
	})
}

func TestDisableTOTP(t *testing.T) {
	eachBackend(t, func(t *testing.T, newH func(*testing.T) *harness) {
		h, c, uid := enrolled(t, newH)
		// Not enabled yet: nothing to do, no error.
		if res, _ := c.postForm("/account/totp/disable", nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("disable without TOTP = %d, want 303", res.StatusCode)
		}
		enableTOTP(t, h, c, uid)
		if res, _ := c.postForm("/account/totp/disable", nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("disable = %d", res.StatusCode)
		}
		if acc, _ := h.st.Account(t.Context(), uid); acc.TOTPEnabled {
			t.Fatal("TOTP still enabled")
		}
	})
}
