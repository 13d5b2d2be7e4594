package appscan

import (
	"math"
	"regexp"
	"slices"
	"strings"
)

// secretSpec describes one kind of secret. hints are cheap substring tests
// that must pass before the regular expression runs: most strings of an app
// contain none of them, which keeps secret scanning linear and fast.
type secretSpec struct {
	hints []string
	fold  bool // hints are matched case-insensitively (hints are lower case)
	// need lists substrings that must all be present as well.
	need []string
	// minLen is the shortest text that can hold a match; shorter strings,
	// most of an app's, are skipped without looking at them.
	minLen int
	re     *regexp.Regexp
	group  int // submatch holding the secret (0 = whole match)
	// minEntropy rejects low-entropy matches (placeholders like "xxxx",
	// "changeme", "${API_KEY}") in bits per character.
	minEntropy float64
	hintSigs   []uint64 // byteSig of each hint, filled by secretRule
	// publicNames are resource names whose values look secret but are
	// public by design, a context check against false positives.
	publicNames []string
}

// find returns the first secret in text, with its offset. sig is
// byteSig(text).
func (s *secretSpec) find(text string, sig uint64) (string, int, bool) {
	if len(text) < s.minLen {
		return "", 0, false
	}
	ok := false
	for i, h := range s.hints {
		if !mayContain(sig, s.hintSigs[i]) {
			continue
		}
		if s.fold && containsLowerASCII(text, h) || !s.fold && strings.Contains(text, h) {
			ok = true
			break
		}
	}
	if !ok {
		return "", 0, false
	}
	for _, n := range s.need {
		if !strings.Contains(text, n) {
			return "", 0, false
		}
	}
	for _, m := range s.re.FindAllStringSubmatchIndex(text, 8) {
		lo, hi := m[2*s.group], m[2*s.group+1]
		if lo < 0 {
			continue
		}
		sec := text[lo:hi]
		if s.minEntropy > 0 && entropy(sec) < s.minEntropy {
			continue
		}
		if placeholder(sec) {
			continue
		}
		return sec, lo, true
	}
	return "", 0, false
}

// containsLowerASCII reports whether s contains the lower-case ASCII
// needle, ignoring ASCII case, without allocating a lowered copy of s.
func containsLowerASCII(s, needle string) bool {
	n := len(needle)
	if n == 0 {
		return true
	}
	first := needle[0]
	for i := 0; i+n <= len(s); i++ {
		if s[i]|0x20 != first {
			continue
		}
		j := 1
		for ; j < n; j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != needle[j] {
				break
			}
		}
		if j == n {
			return true
		}
	}
	return false
}

// entropy is the Shannon entropy of s in bits per byte.
func entropy(s string) float64 {
	if s == "" {
		return 0
	}
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	var h float64
	n := float64(len(s))
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// placeholder recognises values that look like secrets but are templates or
// examples.
func placeholder(s string) bool {
	ls := strings.ToLower(s)
	for _, p := range []string{"example", "your_", "your-", "yourkey", "placeholder", "xxxxxx", "changeme", "${", "{{", "<", "dummy", "sample", "insert", "redacted", "test_key", "*****"} {
		if strings.Contains(ls, p) {
			return true
		}
	}
	return false
}

// redact keeps enough of a secret to recognise it (its first characters and
// length) but not enough to use it.
func redact(s string) string {
	r := []rune(s)
	keep := min(4, len(r)/4)
	return string(r[:keep]) + strings.Repeat("*", 8) + " (" + itoa(int64(len(r))) + " chars)"
}

func secretRule(m RuleMeta, spec secretSpec) *rule {
	r := &rule{RuleMeta: m}
	for _, h := range spec.hints {
		spec.hintSigs = append(spec.hintSigs, byteSig(h))
	}
	r.onString = func(mc *methodCtx, s string, emit emitFunc) {
		if sec, _, ok := spec.find(s, mc.sig); ok {
			emit(mc.hit("", redact(sec)))
		}
	}
	r.check = func(sc *scanCtx, emit emitFunc) {
		for i, t := range sc.app.Texts {
			if t.Name != "" && slices.Contains(spec.publicNames, t.Name) {
				continue
			}
			if sec, off, ok := spec.find(t.Text, sc.textSigs[i]); ok {
				loc := Location{File: t.File, Element: t.Name}
				if t.Name == "" {
					loc.Line = 1 + strings.Count(t.Text[:off], "\n")
				}
				emit(hit{loc: loc, evidence: redact(sec)})
			}
		}
		// The same library built for several ABIs holds the same secret:
		// one finding, at the first ABI's file.
		seen := map[string]bool{}
		for i, l := range sc.app.Native {
			for j, s := range l.Strings {
				if sec, _, ok := spec.find(s, sc.nativeSigs[i][j]); ok {
					key := nativeKey(l.Path) + "\x00" + sec
					if !seen[key] {
						seen[key] = true
						emit(hit{loc: Location{File: l.Path}, evidence: redact(sec)})
					}
					break
				}
			}
		}
	}
	return r
}

func secretMap(itu ...string) Mappings {
	return Mappings{MASVS: []string{"MASVS-CRYPTO-2"}, CWE: []int{798}, OWASPMobile2016: []string{"M2"}, OWASPMobile2024: []string{"M1"}, ITUTest: itu}
}

const secretFix = "Remove the secret from the app, revoke and rotate it, and fetch short-lived, user-bound credentials from your back end at run time."

func secretRules() []*rule {
	re := regexp.MustCompile
	return []*rule{
		secretRule(meta("DFS-SECRET-001", Critical, high, "Private key embedded",
			"A PEM private key is embedded in the app; whoever extracts it can impersonate the app's owner or decrypt its traffic.",
			secretFix, secretMap()), secretSpec{minLen: 27 + 64, hints: []string{"PRIVATE KEY-----"},
			// The header alone is a constant of every TLS library (Netty,
			// Bouncy Castle): an embedded key needs its base64 body.
			re: re(`-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----(?:\\[rn]|\s)*[A-Za-z0-9+/=]{16,}(?:(?:\\[rn]|\s)*[A-Za-z0-9+/=]{16,}){3,}`)}),
		secretRule(meta("DFS-SECRET-002", Critical, high, "AWS access key",
			"An AWS access key ID is embedded; combined with its secret it grants access to the cloud account.",
			secretFix, secretMap()), secretSpec{minLen: 20, hints: []string{"AKIA", "ASIA"}, re: re(`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`), minEntropy: 3}),
		secretRule(meta("DFS-SECRET-003", Medium, med, "Google API key",
			"A Google API key is embedded; unless restricted to the app's package and signature in the console, anyone can use it and bill the owner.",
			"Restrict the key to the app's package name and signing certificate and to the APIs it needs; move server-side APIs behind your back end.",
			secretMap()), secretSpec{minLen: 39, hints: []string{"AIza"}, re: re(`\bAIza[0-9A-Za-z_\-]{35}\b`), minEntropy: 3.5,
			// Generated by the Google services plugin in every Firebase app;
			// they identify the project and are meant to ship in the app.
			publicNames: []string{"string/google_api_key", "string/google_crash_reporting_api_key"}}),
		secretRule(meta("DFS-SECRET-004", Critical, high, "Payment API secret key (Stripe/Paystack)",
			"A live secret key of a card-payment API (sk_live_…) is embedded; it allows charges, refunds and access to customer data.",
			secretFix, secretMap()), secretSpec{minLen: 28, hints: []string{"sk_live_", "rk_live_"}, re: re(`\b[sr]k_live_[0-9a-zA-Z]{20,}\b`), minEntropy: 3}),
		secretRule(meta("DFS-SECRET-005", High, med, "JSON Web Token embedded",
			"A signed JWT is embedded; tokens baked into apps are usually long-lived credentials shared by every user.",
			secretFix, secretMap()), secretSpec{minLen: 38, hints: []string{"eyJ"}, re: re(`\beyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}`)}),
		secretRule(meta("DFS-SECRET-006", High, med, "Hard-coded password",
			"A string assigns a literal password (password=…, \"pwd\": …); credentials in the app are the same for every install and easy to extract.",
			secretFix, secretMap()), secretSpec{minLen: 10, hints: []string{"passw", "pwd"}, fold: true,
			re: re(`(?i)\b(?:password|passwd|pwd)["']?\s*[:=]\s*["']?([^\s"'&;,]{6,})`), group: 1, minEntropy: 2.5}),
		secretRule(meta("DFS-SECRET-007", High, high, "Slack token",
			"A Slack bot or user token is embedded; it gives access to the workspace's messages.",
			secretFix, secretMap()), secretSpec{minLen: 15, hints: []string{"xox"}, re: re(`\bxox[abprs]-[0-9A-Za-z\-]{10,}`), minEntropy: 3}),
		secretRule(meta("DFS-SECRET-008", High, high, "GitHub token",
			"A GitHub personal access or app token is embedded; it gives access to source code and CI secrets.",
			secretFix, secretMap()), secretSpec{minLen: 40, hints: []string{"ghp_", "gho_", "ghs_", "github_pat_"}, re: re(`\b(?:gh[pos]_[0-9A-Za-z]{36}|github_pat_[0-9A-Za-z_]{40,})\b`), minEntropy: 3}),
		secretRule(meta("DFS-SECRET-009", High, med, "Generic API secret",
			"A string assigns a high-entropy value to a key, secret or token name; such values are usually live credentials.",
			secretFix, secretMap()), secretSpec{minLen: 26, hints: []string{"secret", "token", "apikey", "api_key", "api-key", "access_key", "client_secret"}, fold: true,
			re: re(`(?i)(?:api[_\-]?key|secret|access[_\-]?key|token)["']?\s*[:=]\s*["']?([A-Za-z0-9_\-+/=]{20,})`), group: 1, minEntropy: 3.8}),
		secretRule(meta("DFS-SECRET-010", High, high, "PayPal/Braintree access token",
			"A Braintree or PayPal production access token is embedded; it authorises payment API calls.",
			secretFix, secretMap()), secretSpec{minLen: 73, hints: []string{"access_token$production$"}, re: re(`access_token\$production\$[0-9a-z]{16}\$[0-9a-f]{32}`)}),
		secretRule(meta("DFS-SECRET-011", High, med, "Twilio API key",
			"A Twilio API key SID is embedded; with its secret it sends SMS and calls billed to the owner, including OTP traffic.",
			secretFix, secretMap()), secretSpec{minLen: 34, hints: []string{"SK"}, re: re(`\bSK[0-9a-f]{32}\b`), minEntropy: 3}),
		secretRule(meta("DFS-SECRET-012", High, high, "Google OAuth client secret",
			"A Google OAuth client secret is embedded; it should live only on servers.",
			secretFix, secretMap()), secretSpec{minLen: 35, hints: []string{"GOCSPX-"}, re: re(`GOCSPX-[0-9A-Za-z_\-]{28}`)}),
		secretRule(meta("DFS-SECRET-013", Critical, high, "Azure storage account key",
			"An Azure storage connection string with its AccountKey is embedded; it gives full access to the storage account.",
			secretFix, secretMap()), secretSpec{minLen: 51, hints: []string{"AccountKey="}, re: re(`AccountKey=([A-Za-z0-9+/=]{40,})`), group: 1, minEntropy: 4}),
		secretRule(meta("DFS-SECRET-014", High, high, "Credentials in a URL",
			"A URL carries a user name and password (scheme://user:password@host); they travel and are stored with the URL.",
			secretFix, secretMap()), secretSpec{minLen: 12, hints: []string{"://"}, need: []string{"@", ":"}, re: re(`\b[a-z][a-z0-9+.\-]*://[^\s/:@"']{1,64}:([^\s/@"']{4,64})@[a-zA-Z0-9.\-]+`), group: 1, minEntropy: 2}),
		secretRule(meta("DFS-SECRET-015", High, high, "SendGrid API key",
			"A SendGrid API key is embedded; it sends e-mail in the owner's name (phishing from a trusted domain).",
			secretFix, secretMap()), secretSpec{minLen: 69, hints: []string{"SG."}, re: re(`\bSG\.[0-9A-Za-z_\-]{22}\.[0-9A-Za-z_\-]{43}\b`)}),
		secretRule(meta("DFS-SECRET-016", Critical, high, "Square access token",
			"A Square production access token or OAuth secret is embedded; it authorises payments and refunds.",
			secretFix, secretMap()), secretSpec{minLen: 29, hints: []string{"sq0atp-", "sq0csp-"}, re: re(`\b(?:sq0atp-[0-9A-Za-z_\-]{22}|sq0csp-[0-9A-Za-z_\-]{43})\b`)}),
		secretRule(meta("DFS-SECRET-017", Critical, high, "Flutterwave secret key",
			"A Flutterwave secret key is embedded; it authorises transfers and refunds on the merchant account.",
			secretFix, secretMap()), secretSpec{minLen: 42, hints: []string{"FLWSECK"}, re: re(`FLWSECK(?:_TEST)?-[0-9a-zA-Z]{32}-X`)}),
		secretRule(meta("DFS-SECRET-018", Medium, med, "Basic authentication header value",
			"A literal HTTP Basic Authorization value is embedded; it is a base64-encoded user name and password.",
			secretFix, secretMap()), secretSpec{minLen: 18, hints: []string{"Basic "}, re: re(`\bBasic ([A-Za-z0-9+/]{12,}={0,2})`), group: 1, minEntropy: 3}),
		secretRule(meta("DFS-SECRET-019", Critical, high, "Stripe restricted or webhook secret",
			"A Stripe webhook signing secret is embedded; with it, forged payment events pass verification.",
			secretFix, secretMap()), secretSpec{minLen: 30, hints: []string{"whsec_"}, re: re(`\bwhsec_[0-9A-Za-z]{24,}\b`), minEntropy: 3}),
	}
}
