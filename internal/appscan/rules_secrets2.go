package appscan

import (
	"regexp"
	"slices"
	"strings"

	"github.com/dfslab/dfslab/internal/apk"
)

// publicResourceNames are string resources whose names sound secret but
// whose values are public by design: the Google services plugin and the
// Facebook SDK put them in every app that uses them.
var publicResourceNames = []string{"google_api_key", "google_crash_reporting_api_key", "google_app_id", "default_web_client_id",
	"facebook_client_token", "facebook_app_id", "gcm_defaultsenderid", "firebase_database_url", "google_storage_bucket", "project_id"}

// secretResourceName reports whether a string resource's name says it
// holds a secret: *secret*, *_key, *token*, *password*.
func secretResourceName(name string) bool {
	n := strings.ToLower(name)
	if slices.Contains(publicResourceNames, n) || uiResourceName(n) {
		return false
	}
	return strings.Contains(n, "secret") || strings.HasSuffix(n, "_key") || strings.HasSuffix(n, "apikey") ||
		strings.Contains(n, "token") || strings.Contains(n, "password") || strings.Contains(n, "passwd")
}

var identifierLike = regexp.MustCompile(`^[a-z][a-z0-9_.\-]*$`)

// uiResourceName reports whether a (lower-case) string resource name
// names text shown to people about a secret (a field's title, hint or
// error) rather than the secret: "pref_title_password", "password_hint".
func uiResourceName(n string) bool {
	for _, part := range strings.FieldsFunc(n, func(r rune) bool { return r == '_' || r == '.' || r == '-' }) {
		switch part {
		case "hint", "title", "label", "summary", "prompt", "message", "msg", "text", "desc", "description", "error", "button",
			"btn", "caption", "header", "heading", "placeholder", "instructions", "help", "dialog", "toast", "checking", "forgot",
			"change", "reset", "enter", "confirm", "show", "hide":
			return true
		}
	}
	return false
}

// labelLike matches a word with at most an initial capital and trailing
// punctuation ("Password", "Checking…", "token:"): a label, not a key.
var labelLike = regexp.MustCompile(`^[A-Z]?[a-z]+[.:!?…]*$`)

// secretValue reports whether a value can be a credential rather than a
// label, a preference key or a resource reference: one word, long enough,
// varied, with digits or mixed case or symbols.
func secretValue(v string, minLen int) bool {
	if len(v) < minLen || len(v) > 512 || strings.ContainsAny(v, " \t\n") || strings.HasPrefix(v, "@") || strings.HasPrefix(v, "?") ||
		strings.Contains(v, "://") || placeholder(v) || identifierLike.MatchString(v) || labelLike.MatchString(v) {
		return false
	}
	digit, upper, lower, other := false, false, false, false
	for _, c := range v {
		switch {
		case '0' <= c && c <= '9':
			digit = true
		case 'A' <= c && c <= 'Z':
			upper = true
		case 'a' <= c && c <= 'z':
			lower = true
		default:
			other = true
		}
	}
	kinds := 0
	for _, b := range []bool{digit, upper, lower, other} {
		if b {
			kinds++
		}
	}
	return kinds >= 2 && entropy(v) >= 2.5
}

var (
	firebaseURL = regexp.MustCompile(`https://[a-z0-9\-]+(?:\.firebaseio\.com|\.[a-z0-9\-]+\.firebasedatabase\.app)`)
	awsSecret   = regexp.MustCompile(`(?i)aws.{0,24}secret.{0,24}?["']?\s*[:=]\s*["']?([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)`)
	awsShape    = regexp.MustCompile(`^[A-Za-z0-9/+]{40}$`)
)

// authContext reports whether the current method is on an authentication
// path, by its class and method names.
func authContext(mc *methodCtx) bool {
	return containsFold(mc.class.Name+"."+mc.method.Name, "login", "logon", "signin", "sign_in", "auth", "password", "passwd", "passcode",
		"credential", "unlock", "checkpin", "verifypin", "validatepin", "pincode")
}

// comparedConstant returns the constant string an equality call compares
// with (String.equals and friends, whose constant the model puts in the
// argument, or Kotlin's Intrinsics.areEqual).
func comparedConstant(c *apk.Call) (string, bool) {
	for i := range c.Args {
		if a := c.Args[i]; a.Kind == apk.ValueString {
			// The other side must come from somewhere: two constants
			// compared are not a check of input.
			if c.Class == "kotlin.jvm.internal.Intrinsics" && arg(c, 1-i).Kind == apk.ValueString {
				return "", false
			}
			return a.Str, true
		}
	}
	return "", false
}

var equalityCalls = []string{"java.lang.String.equals", "java.lang.String.equalsIgnoreCase", "java.lang.String.contentEquals",
	"kotlin.jvm.internal.Intrinsics.areEqual", "android.text.TextUtils.equals", "java.util.Objects.equals"}

// backdoorNames are user names that debug and test back doors compare with.
var backdoorNames = []string{"admin", "administrator", "debug", "test", "tester", "demo", "qa", "staging", "dev", "developer", "backdoor", "root", "superuser", "master"}

func moreSecretRules() []*rule {
	httpsSig := byteSig("https://")
	return []*rule{
		{RuleMeta: meta("DFS-SECRET-020", High, med, "Secret in a string resource named as one",
			"A string resource whose name says it holds a secret (*secret*, *_key, *token*, *password*) has a value shaped like a credential; resources are read from the app with any APK tool.",
			secretFix, secretMap()),
			check: func(sc *scanCtx, emit emitFunc) {
				for _, t := range sc.app.Texts {
					name, ok := strings.CutPrefix(t.Name, "string/")
					if !ok || !secretResourceName(name) || !secretValue(t.Text, 8) {
						continue
					}
					emit(hit{msg: "string resource " + name + " holds a credential-like value", loc: Location{File: t.File, Element: t.Name}, evidence: redact(t.Text)})
				}
			}},
		{RuleMeta: meta("DFS-SECRET-021", Low, med, "Firebase Realtime Database URL",
			"The app names a Firebase Realtime Database. That is normal for a Firebase app, but a database whose security rules allow public reads or writes leaks every user's records to anyone who finds the URL in the app.",
			"Check the database's rules: `curl https://<db>.firebaseio.com/.json` (or the firebasedatabase.app URL) must answer 401 \"Permission denied\"; a 200 with data or null means the database is open. Write rules that require authentication and limit each user to their own records (`auth.uid`), and test them with the Firebase emulator.",
			Mappings{MASVS: []string{"MASVS-STORAGE-2"}, CWE: []int{284}, OWASPMobile2016: []string{"M2"}, OWASPMobile2024: []string{"M8"}}),
			onString: func(mc *methodCtx, s string, emit emitFunc) {
				if !mayContain(mc.sig, httpsSig) || !strings.Contains(s, "https://") {
					return
				}
				if u := firebaseURL.FindString(s); u != "" {
					emit(mc.hit("Firebase database "+u+": check that its rules refuse unauthenticated reads (curl "+u+"/.json must answer 401)", u))
				}
			},
			check: func(sc *scanCtx, emit emitFunc) {
				for _, t := range sc.app.Texts {
					if !strings.Contains(t.Text, "https://") {
						continue
					}
					if u := firebaseURL.FindString(t.Text); u != "" {
						emit(hit{msg: "Firebase database " + u + ": check that its rules refuse unauthenticated reads (curl " + u + "/.json must answer 401)",
							loc: Location{File: t.File, Element: t.Name}, evidence: u})
					}
				}
			}},
		awsSecretRule(),
		appCodeOnly(&rule{RuleMeta: meta("DFS-SECRET-023", High, low, "Hard-coded credential compared in code",
			"Code on an authentication path (login, PIN, password, unlock) compares input with a constant that looks like a credential: a password or PIN that works on every install and is read from the app in minutes.",
			"Never check credentials in the app: verify them on the server, against a salted slow hash, with rate limiting; remove test accounts from release builds.",
			secretMap()),
			calls: equalityCalls,
			onCall: func(mc *methodCtx, c *apk.Call, emit emitFunc) {
				if !authContext(mc) {
					return
				}
				if k, ok := comparedConstant(c); ok && secretValue(k, 4) {
					emit(mc.hit("input compared with a constant credential", redact(k)))
				}
			}}),
		appCodeOnly(&rule{RuleMeta: meta("DFS-SECRET-024", Medium, low, "Debug or backdoor user name switches the back end",
			"A method compares input with a debug or test user name (admin, debug, test, demo, qa, …) and names another server: whoever types that name reaches a test or staging back end, or a debug mode, from a production app.",
			"Remove debug accounts and endpoint switches from release builds (build types and flavours), and never select the back end from user input.",
			Mappings{MASVS: []string{"MASVS-CODE-4"}, CWE: []int{912}, OWASPMobile2016: []string{"M10"}, OWASPMobile2024: []string{"M7"}}),
			onMethod: func(mc *methodCtx, emit emitFunc) {
				m := mc.method
				url := ""
				for _, s := range m.Strings {
					if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
						url = s
						break
					}
				}
				if url == "" {
					return
				}
				for i := range m.Calls {
					c := &m.Calls[i]
					if !slices.ContainsFunc(equalityCalls, func(t string) bool { k := splitTarget(t); return c.Class == k.class && c.Name == k.name }) {
						continue
					}
					if k, ok := comparedConstant(c); ok && slices.Contains(backdoorNames, strings.ToLower(strings.TrimSpace(k))) {
						emit(mc.hit("user name "+quote(k, 20)+" selects "+quote(url, 80), quote(k, 20)+" → "+quote(url, 80)))
						return
					}
				}
			}}),
	}
}

// awsSecretRule finds AWS secret access keys: 40 characters of base64
// after a name that says so, in code, texts and native strings, or as the
// value of a string resource named for one.
func awsSecretRule() *rule {
	r := secretRule(meta("DFS-SECRET-022", Critical, high, "AWS secret access key",
		"An AWS secret access key (40 characters, named as one) is embedded; with its access key ID it signs requests to the cloud account.",
		secretFix, secretMap()), secretSpec{minLen: 50, hints: []string{"secret"}, fold: true, re: awsSecret, group: 1, minEntropy: 4})
	strs := r.check
	r.check = func(sc *scanCtx, emit emitFunc) {
		strs(sc, emit)
		for _, t := range sc.app.Texts {
			name, ok := strings.CutPrefix(t.Name, "string/")
			if !ok || !containsFold(name, "aws") || !containsFold(name, "secret") || !awsShape.MatchString(t.Text) || entropy(t.Text) < 4 {
				continue
			}
			emit(hit{loc: Location{File: t.File, Element: t.Name}, evidence: redact(t.Text)})
		}
	}
	return r
}
