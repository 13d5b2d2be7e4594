package appscan

import (
	"cmp"
	//lint:ignore SA1019 only to recognise (and report) legacy DSA signer keys
	"crypto/dsa"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/dfslab/dfslab/internal/apk"
)

// fillInventory copies the descriptive parts of the app into the result:
// identity, permissions, components, signing, native libraries and SDKs.
func fillInventory(res *Result, app *apk.App, sc *scanCtx) {
	m := sc.man
	res.App = AppInfo{Package: m.Package, Label: m.Application.Label, VersionName: m.VersionName,
		VersionCode: m.VersionCode, MinSDK: m.MinSDK, TargetSDK: m.TargetSDK, DexFiles: app.DexFiles, Classes: len(app.Classes)}
	for _, c := range app.Classes {
		res.App.Methods += len(c.Methods)
	}
	for _, p := range m.UsesPermissions {
		reason, dangerous := dangerousPermissions[p]
		res.Permissions = append(res.Permissions, Permission{Name: p, Dangerous: dangerous, Reason: reason})
	}
	for _, c := range m.Application.Components {
		res.Components = append(res.Components, Component{Kind: c.Kind, Name: c.Name, Exported: sc.exported(&c), Permission: effectivePermission(m, &c)})
	}
	for _, s := range app.Signing.Schemes {
		res.Signing = append(res.Signing, SchemeStatus{Scheme: s.Scheme, Present: s.Present, Verified: s.Verified, Error: s.Err})
	}
	for _, s := range app.Signing.Signers {
		if s.Cert == nil {
			continue
		}
		res.Certificates = append(res.Certificates, certInfo(s))
	}
	for _, l := range app.Native {
		res.NativeLibs = append(res.NativeLibs, NativeLib{Path: l.Path, Arch: l.Arch, PIE: l.PIE, NX: l.NX, Canary: l.Canary,
			RELRO: l.RELRO, Fortify: l.Fortify, RPath: l.RPath, Stripped: l.Stripped, Dangerous: l.Dangerous})
	}
	res.SDKs = detectSDKs(app.Classes)
}

func certInfo(s apk.Signer) Certificate {
	c := s.Cert
	alg, bits := keyInfo(c)
	sum := sha256.Sum256(c.Raw)
	return Certificate{Subject: c.Subject.String(), Issuer: c.Issuer.String(), Serial: c.SerialNumber.String(),
		NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(), KeyAlgorithm: alg, KeyBits: bits,
		SignatureAlgorithm: c.SignatureAlgorithm.String(), SHA256: hex.EncodeToString(sum[:]), Schemes: slices.Clone(s.Schemes)}
}

// keyInfo names the public key algorithm and its size in bits.
func keyInfo(c *x509.Certificate) (string, int) {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return "RSA", k.N.BitLen()
	case *ecdsa.PublicKey:
		return "EC", k.Curve.Params().BitSize
	case *dsa.PublicKey:
		return "DSA", k.P.BitLen()
	case ed25519.PublicKey:
		return "Ed25519", 256
	}
	return c.PublicKeyAlgorithm.String(), 0
}

// effectivePermission is the permission guarding a component: its own or
// the application's.
func effectivePermission(m *apk.Manifest, c *apk.Component) string {
	if c.Permission != "" {
		return c.Permission
	}
	if c.Kind == "provider" && c.ReadPermission != "" && c.WritePermission != "" {
		return c.ReadPermission
	}
	return m.Application.Permission
}

// exported applies Android's defaulting: an explicit attribute wins;
// otherwise a component with an intent filter is exported (allowed only
// below target SDK 31), and a provider is exported below target SDK 17.
func (sc *scanCtx) exported(c *apk.Component) bool {
	if c.Exported != nil {
		return *c.Exported
	}
	if c.Kind == "provider" {
		return sc.targetSDK() < 17
	}
	return len(c.Filters) > 0
}

// targetSDK applies the manifest defaulting rules.
func (sc *scanCtx) targetSDK() int {
	if sc.man.TargetSDK > 0 {
		return sc.man.TargetSDK
	}
	return sc.minSDK()
}

func (sc *scanCtx) minSDK() int {
	if sc.man.MinSDK > 0 {
		return sc.man.MinSDK
	}
	return 1
}

// sdkPrefixes maps package prefixes to third-party SDKs; the first match
// wins, so more specific prefixes come first.
var sdkPrefixes = []SDK{
	{"Firebase Analytics", "analytics", "com.google.firebase.analytics"},
	{"Firebase Crashlytics", "crash-reporting", "com.google.firebase.crashlytics"},
	{"Firebase Messaging", "messaging", "com.google.firebase.messaging"},
	{"Google Analytics", "analytics", "com.google.android.gms.analytics"},
	{"Google Mobile Ads (AdMob)", "ads", "com.google.android.gms.ads"},
	{"Google Play Integrity", "attestation", "com.google.android.play.core.integrity"},
	{"SafetyNet", "attestation", "com.google.android.gms.safetynet"},
	{"Crashlytics (Fabric)", "crash-reporting", "com.crashlytics"},
	{"Fabric", "crash-reporting", "io.fabric"},
	{"Sentry", "crash-reporting", "io.sentry"},
	{"Bugsnag", "crash-reporting", "com.bugsnag"},
	{"ACRA", "crash-reporting", "org.acra"},
	{"Instabug", "crash-reporting", "com.instabug"},
	{"Facebook SDK", "social", "com.facebook"},
	{"Twitter Kit", "social", "com.twitter.sdk"},
	{"AppsFlyer", "analytics", "com.appsflyer"},
	{"Adjust", "analytics", "com.adjust.sdk"},
	{"Branch", "analytics", "io.branch"},
	{"Mixpanel", "analytics", "com.mixpanel"},
	{"Amplitude", "analytics", "com.amplitude"},
	{"Segment", "analytics", "com.segment.analytics"},
	{"Flurry", "analytics", "com.flurry"},
	{"CleverTap", "analytics", "com.clevertap"},
	{"MoEngage", "analytics", "com.moengage"},
	{"OneSignal", "messaging", "com.onesignal"},
	{"Microsoft App Center", "analytics", "com.microsoft.appcenter"},
	{"Huawei HMS", "platform", "com.huawei.hms"},
	{"Unity Ads", "ads", "com.unity3d.ads"},
	{"AppLovin", "ads", "com.applovin"},
	{"IronSource", "ads", "com.ironsource"},
	{"Vungle", "ads", "com.vungle"},
	{"InMobi", "ads", "com.inmobi"},
	{"Chartboost", "ads", "com.chartboost"},
	{"Mintegral", "ads", "com.mbridge"},
	{"Pangle", "ads", "com.bytedance.sdk.openadsdk"},
	{"Stripe", "payments", "com.stripe.android"},
	{"PayPal", "payments", "com.paypal"},
	{"Braintree", "payments", "com.braintreepayments"},
	{"Flutterwave", "payments", "com.flutterwave"},
	{"Paystack", "payments", "co.paystack"},
	{"Razorpay", "payments", "com.razorpay"},
	{"Google Pay", "payments", "com.google.android.gms.wallet"},
	{"Square In-App Payments", "payments", "sqip"},
	{"OkHttp", "networking", "okhttp3"},
	{"Retrofit", "networking", "retrofit2"},
	{"Volley", "networking", "com.android.volley"},
	{"Bouncy Castle", "crypto", "org.bouncycastle"},
	{"SQLCipher", "crypto", "net.sqlcipher"},
	{"RootBeer", "security", "com.scottyab.rootbeer"},
	{"React Native", "framework", "com.facebook.react"},
	{"Flutter", "framework", "io.flutter"},
	{"Xamarin", "framework", "mono.android"},
	{"Apache Cordova", "framework", "org.apache.cordova"},
	{"Kotlin stdlib", "runtime", "kotlin"},
}

// detectSDKs looks at the distinct packages once, not at every class.
func detectSDKs(classes []apk.Class) []SDK {
	pkgs := map[string]bool{}
	for _, c := range classes {
		if i := strings.LastIndexByte(c.Name, '.'); i > 0 {
			pkgs[c.Name[:i]] = true
		}
	}
	found := map[string]SDK{}
	for p := range pkgs {
		for _, s := range sdkPrefixes {
			if p == s.Package || strings.HasPrefix(p, s.Package+".") {
				found[s.Name] = s
				break
			}
		}
	}
	out := make([]SDK, 0, len(found))
	for _, s := range found {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b SDK) int { return cmp.Or(cmp.Compare(a.Category, b.Category), cmp.Compare(a.Name, b.Name)) })
	if len(out) == 0 {
		return nil
	}
	return out
}

// dangerousPermissions are the "dangerous" protection-level permissions
// and special-access ones that matter for mobile money, with why.
var dangerousPermissions = map[string]string{
	"android.permission.READ_SMS":                           "reads SMS, including one-time passwords",
	"android.permission.RECEIVE_SMS":                        "intercepts incoming SMS, including one-time passwords",
	"android.permission.SEND_SMS":                           "sends SMS, possibly to premium numbers",
	"android.permission.RECEIVE_MMS":                        "receives MMS",
	"android.permission.RECEIVE_WAP_PUSH":                   "receives WAP push messages",
	"android.permission.READ_CELL_BROADCASTS":               "reads cell broadcasts",
	"android.permission.CALL_PHONE":                         "dials numbers and USSD codes without the user",
	"android.permission.READ_PHONE_STATE":                   "reads phone identity and state",
	"android.permission.READ_PHONE_NUMBERS":                 "reads the phone number",
	"android.permission.READ_CALL_LOG":                      "reads the call log",
	"android.permission.WRITE_CALL_LOG":                     "modifies the call log",
	"android.permission.PROCESS_OUTGOING_CALLS":             "sees and redirects outgoing calls",
	"android.permission.ANSWER_PHONE_CALLS":                 "answers calls",
	"android.permission.ADD_VOICEMAIL":                      "adds voicemail",
	"android.permission.USE_SIP":                            "uses SIP",
	"android.permission.READ_CONTACTS":                      "reads contacts",
	"android.permission.WRITE_CONTACTS":                     "modifies contacts",
	"android.permission.GET_ACCOUNTS":                       "lists accounts on the device",
	"android.permission.READ_CALENDAR":                      "reads the calendar",
	"android.permission.WRITE_CALENDAR":                     "modifies the calendar",
	"android.permission.CAMERA":                             "uses the camera",
	"android.permission.RECORD_AUDIO":                       "records audio",
	"android.permission.ACCESS_FINE_LOCATION":               "precise location",
	"android.permission.ACCESS_COARSE_LOCATION":             "approximate location",
	"android.permission.ACCESS_BACKGROUND_LOCATION":         "location in the background",
	"android.permission.BODY_SENSORS":                       "body sensors",
	"android.permission.ACTIVITY_RECOGNITION":               "physical activity",
	"android.permission.READ_EXTERNAL_STORAGE":              "reads shared storage",
	"android.permission.WRITE_EXTERNAL_STORAGE":             "writes shared storage readable by other apps",
	"android.permission.MANAGE_EXTERNAL_STORAGE":            "all-files access",
	"android.permission.READ_MEDIA_IMAGES":                  "reads images",
	"android.permission.READ_MEDIA_VIDEO":                   "reads videos",
	"android.permission.READ_MEDIA_AUDIO":                   "reads audio files",
	"android.permission.POST_NOTIFICATIONS":                 "posts notifications",
	"android.permission.NEARBY_WIFI_DEVICES":                "nearby Wi-Fi devices",
	"android.permission.BLUETOOTH_SCAN":                     "nearby Bluetooth devices",
	"android.permission.BLUETOOTH_CONNECT":                  "connects to Bluetooth devices",
	"android.permission.SYSTEM_ALERT_WINDOW":                "draws over other apps (overlay attacks)",
	"android.permission.REQUEST_INSTALL_PACKAGES":           "installs other packages",
	"android.permission.BIND_ACCESSIBILITY_SERVICE":         "accessibility service: reads and drives the screen",
	"android.permission.BIND_NOTIFICATION_LISTENER_SERVICE": "reads all notifications, including OTPs",
	"android.permission.BIND_DEVICE_ADMIN":                  "device administrator",
	"android.permission.PACKAGE_USAGE_STATS":                "usage statistics of other apps",
	"android.permission.QUERY_ALL_PACKAGES":                 "lists every installed app",
	"android.permission.WRITE_SETTINGS":                     "modifies system settings",
}
