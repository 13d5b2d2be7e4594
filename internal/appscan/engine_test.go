package appscan

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/apk"
	"github.com/dfslab/dfslab/internal/apk/apktest"
	"github.com/dfslab/dfslab/internal/apk/axml"
	"github.com/dfslab/dfslab/internal/dex/dexbuild"
)

// paymentApp is a small but realistic vulnerable wallet app.
func paymentApp() *apktest.App {
	return &apktest.App{
		Package:     "com.example.wallet",
		MinSDK:      21,
		Permissions: []string{perm + "INTERNET", perm + "READ_SMS", perm + "CAMERA"},
		AppAttrs:    []axml.Attr{attr("debuggable", true)},
		Components: []*axml.Element{
			apktest.Component("activity", ".Main", []any{"exported", true},
				apktest.Filter(nil, "action:android.intent.action.MAIN", "category:android.intent.category.LAUNCHER")),
			comp("service", ".Sync", "exported", true),
		},
		Dex: func(b *dexbuild.Builder) {
			m := b.Class("Lcom/example/wallet/Crypto;").Method("encrypt", "()V")
			m.CallStatic(cipherGet, s("AES/ECB/PKCS5Padding"))
			m.ConstString(0, "http://api.wallet-example.net/transfer")
			b.Class("Lcom/google/firebase/analytics/FirebaseAnalytics;").Method("logEvent", "()V").ReturnVoid()
			b.Class("Lcom/stripe/android/Stripe;").Method("pay", "()V").ReturnVoid()
		},
		Dex2: func(b *dexbuild.Builder) {
			b.Class("Lcom/example/wallet/Keys;").Method("load", "()V").ConstString(0, "sk_live_"+mixed(24))
		},
	}
}

func writeApp(t *testing.T, a *apktest.App, name string) (string, []byte) {
	t.Helper()
	data, err := a.Build()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, data
}

func findingsOf(res *Result, id string) []Finding {
	var out []Finding
	for _, f := range res.Findings {
		if f.RuleID == id {
			out = append(out, f)
		}
	}
	return out
}

func TestScanFile(t *testing.T) {
	path, data := writeApp(t, paymentApp(), "wallet.apk")
	res, err := NewScanner(Options{}).ScanFile(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if res.Target.Path != path || res.Target.SHA256 != hex.EncodeToString(sum[:]) || res.Target.Size != int64(len(data)) || res.Target.Format != "apk" {
		t.Errorf("target = %+v", res.Target)
	}
	if res.App.Package != "com.example.wallet" || res.App.MinSDK != 21 || res.App.TargetSDK != 34 || res.App.DexFiles != 2 || res.App.Classes != 4 {
		t.Errorf("app = %+v", res.App)
	}
	wantPerms := map[string]bool{perm + "INTERNET": false, perm + "READ_SMS": true, perm + "CAMERA": true}
	if len(res.Permissions) != len(wantPerms) {
		t.Errorf("permissions = %+v", res.Permissions)
	}
	for _, p := range res.Permissions {
		if d, ok := wantPerms[p.Name]; !ok || d != p.Dangerous {
			t.Errorf("permission %+v: want dangerous=%v", p, d)
		}
	}
	if len(res.Components) != 2 || res.Components[1].Name != "com.example.wallet.Sync" || !res.Components[1].Exported {
		t.Errorf("components = %+v", res.Components)
	}
	if len(res.Certificates) != 1 || res.Certificates[0].KeyAlgorithm != "EC" || res.Certificates[0].KeyBits != 256 {
		t.Errorf("certificates = %+v", res.Certificates)
	}
	verified := 0
	for _, s := range res.Signing {
		if s.Verified {
			verified++
		}
	}
	if verified < 2 {
		t.Errorf("signing = %+v", res.Signing)
	}
	var sdks []string
	for _, s := range res.SDKs {
		sdks = append(sdks, s.Name+"/"+s.Category)
	}
	if !slices.Equal(sdks, []string{"Firebase Analytics/analytics", "Stripe/payments"}) {
		t.Errorf("sdks = %v", sdks)
	}
	for _, id := range []string{"DFS-MAN-001", "DFS-MAN-007", "DFS-MAN-022", "DFS-CRYPTO-004", "DFS-CODE-020", "DFS-SECRET-004", "DFS-RES-001"} {
		if len(findingsOf(res, id)) == 0 {
			t.Errorf("missing %s", id)
		}
	}
	if len(res.Controls) != countControls() {
		t.Errorf("%d controls, want one per control rule (%d)", len(res.Controls), countControls())
	}
	// Findings are ordered most severe first.
	if !slices.IsSortedFunc(res.Findings, func(a, b Finding) int { return int(b.Severity) - int(a.Severity) }) {
		t.Error("findings not sorted by severity")
	}
	// The secret never appears in the report.
	for _, f := range findingsOf(res, "DFS-SECRET-004") {
		if strings.Contains(f.Evidence, mixed(24)) || !strings.Contains(f.Evidence, "*") || f.Location.File != "classes2.dex" {
			t.Errorf("secret finding = %+v", f)
		}
	}
	clean, err := NewScanner(Options{}).ScanApp(context.Background(), openBytes(t, &apktest.App{}))
	if err != nil {
		t.Fatal(err)
	}
	if clean.Score <= res.Score || res.Score >= 60 {
		t.Errorf("score: clean %d, vulnerable %d", clean.Score, res.Score)
	}
}

func countControls() int {
	n := 0
	for _, r := range Rules() {
		if r.Control {
			n++
		}
	}
	return n
}

func openBytes(t *testing.T, a *apktest.App) *apk.App {
	t.Helper()
	data, err := a.Build()
	if err != nil {
		t.Fatal(err)
	}
	m, err := apk.OpenReader(context.Background(), bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestOptions(t *testing.T) {
	app := openBytes(t, paymentApp())
	ctx := context.Background()
	tests := []struct {
		name string
		opts Options
		ok   func(f Finding) bool
	}{
		{"prefix", Options{Rules: []string{"DFS-MAN-"}}, func(f Finding) bool { return strings.HasPrefix(f.RuleID, "DFS-MAN-") }},
		{"exact", Options{Rules: []string{"DFS-CRYPTO-004"}}, func(f Finding) bool { return f.RuleID == "DFS-CRYPTO-004" }},
		{"exclude", Options{Exclude: []string{"DFS-MAN-", "DFS-RES-"}}, func(f Finding) bool {
			return !strings.HasPrefix(f.RuleID, "DFS-MAN-") && !strings.HasPrefix(f.RuleID, "DFS-RES-")
		}},
		{"severity", Options{MinSeverity: High}, func(f Finding) bool { return f.Severity >= High }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := NewScanner(tt.opts).ScanApp(ctx, app)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Findings) == 0 {
				t.Fatal("no findings")
			}
			for _, f := range res.Findings {
				if !tt.ok(f) {
					t.Errorf("unexpected finding %s (%s)", f.RuleID, f.Severity)
				}
			}
		})
	}
	// The per-rule cap keeps one noisy rule from flooding the report, and
	// drops library findings before the app's own: 30 library methods sort
	// before the app's 5 by name, yet all 5 app findings stay.
	noisy := &apktest.App{Dex: func(b *dexbuild.Builder) {
		for k := range 30 {
			b.Class("Landroidx/security/Digest;").Method("md5"+itoa(int64(k)), "()V").CallStatic(digestGet, s("MD5"))
		}
		for k := range 5 {
			b.Class(worker).Method("md5"+itoa(int64(k)), "()V").CallStatic(digestGet, s("MD5"))
		}
		b.Class("Lorg/apache/commons/Hash;").Method("md5", "()V").CallStatic(digestGet, s("MD5"))
	}}
	res, err := NewScanner(Options{Rules: []string{"DFS-CRYPTO-007"}, MaxFindingsPerRule: 10}).ScanApp(ctx, openBytes(t, noisy))
	if err != nil {
		t.Fatal(err)
	}
	fs := findingsOf(res, "DFS-CRYPTO-007")
	if len(fs) != 10 || len(res.Warnings) != 1 {
		t.Errorf("%d findings, warnings %q; want 10 and a warning", len(fs), res.Warnings)
	}
	if n := len(slices.DeleteFunc(slices.Clone(fs), func(f Finding) bool { return f.Location.Class != "com.example.app.Worker" })); n != 5 {
		t.Errorf("%d of the app's 5 findings kept under the cap", n)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := NewScanner(Options{}).ScanApp(cctx, app); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled scan: err = %v", err)
	}
}

// TestFingerprintStable checks that moving a class to another dex file (as
// R8 does between builds) keeps the finding's fingerprint.
func TestFingerprintStable(t *testing.T) {
	code := func(b *dexbuild.Builder) {
		b.Class("Lcom/example/app/Crypto;").Method("enc", "()V").CallStatic(cipherGet, s("DES"))
	}
	fp := func(a *apktest.App) string {
		res, err := NewScanner(Options{Rules: []string{"DFS-CRYPTO-001"}}).ScanApp(context.Background(), openBytes(t, a))
		if err != nil {
			t.Fatal(err)
		}
		fs := findingsOf(res, "DFS-CRYPTO-001")
		if len(fs) != 1 {
			t.Fatalf("findings = %+v", res.Findings)
		}
		return fs[0].Fingerprint
	}
	one := fp(&apktest.App{Dex: code})
	two := fp(&apktest.App{Dex: func(b *dexbuild.Builder) { b.Class("Lcom/example/app/Other;") }, Dex2: code})
	if one != two || one == "" {
		t.Errorf("fingerprints differ: %s vs %s", one, two)
	}
}

// TestSplitSet scans an APKS file: base and a config split as one app.
func TestSplitSet(t *testing.T) {
	base, err := (&apktest.App{Package: "com.example.split", Permissions: []string{perm + "READ_SMS"}}).Build()
	if err != nil {
		t.Fatal(err)
	}
	split, err := (&apktest.App{Package: "com.example.split", Files: map[string][]byte{
		"lib/arm64-v8a/libx.so": apktest.ELF{Exec: true}.Bytes()}}).Build()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range map[string][]byte{"splits/base-master.apk": base, "splits/base-arm64_v8a.apk": split, "toc.pb": {1, 2}} {
		w, _ := zw.Create(name)
		w.Write(data)
	}
	zw.Close()
	p := filepath.Join(t.TempDir(), "app.apks")
	os.WriteFile(p, buf.Bytes(), 0o644)
	res, err := NewScanner(Options{}).ScanFile(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if res.Target.Format != "apks" || res.App.Package != "com.example.split" {
		t.Errorf("target %+v app %+v", res.Target, res.App)
	}
	if len(findingsOf(res, "DFS-MAN-022")) != 1 || len(findingsOf(res, "DFS-NATIVE-001")) != 1 {
		t.Errorf("findings from base and split missing: %+v", res.Findings)
	}
	if len(res.NativeLibs) != 1 || !strings.HasPrefix(res.NativeLibs[0].Path, "splits/base-arm64_v8a.apk!/lib/") {
		t.Errorf("native libs = %+v", res.NativeLibs)
	}
}

// TestUnreadableParts: a broken DEX is a warning, not a failed scan.
func TestUnreadableParts(t *testing.T) {
	a := &apktest.App{Files: map[string][]byte{"classes.dex": []byte("dex\n035\x00 truncated"), "lib/x86/libbad.so": []byte("\x7fELF garbage")}}
	res, err := NewScanner(Options{}).ScanApp(context.Background(), openBytes(t, a))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) < 2 || res.App.Package == "" {
		t.Errorf("warnings %q, app %+v", res.Warnings, res.App)
	}
	// No code was read, so missing controls are not reported as findings.
	if len(findingsOf(res, "DFS-RES-001")) != 0 {
		t.Error("absence of root detection reported without code")
	}
}

func TestNotAnApp(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("readme.txt")
	w.Write([]byte("hello"))
	zw.Close()
	dir := t.TempDir()
	for name, data := range map[string][]byte{"plain.zip": buf.Bytes(), "text.apk": []byte("not a zip at all")} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o644)
		if _, err := NewScanner(Options{}).ScanFile(context.Background(), p); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v, want an error naming the file", name, err)
		}
	}
	if _, err := NewScanner(Options{MaxFileSize: 10}).ScanFile(context.Background(), filepath.Join(dir, "plain.zip")); err == nil {
		t.Error("size limit not enforced")
	}
}

// TestFrameworkResolution: JobService is only in the DEX reader's framework
// table, so finding this call proves the loader passes that hierarchy on.
func TestFrameworkResolution(t *testing.T) {
	for _, tc := range []struct {
		class string
		want  bool
	}{
		{"Landroid/app/job/JobService;", true},
		{"Lcom/example/app/Unrelated;", false},
	} {
		a := virtual(tc.class+"->sendBroadcast(Landroid/content/Intent;)V", i(0))
		res, err := NewScanner(Options{Rules: []string{"DFS-CODE-018"}}).ScanApp(context.Background(), openBytes(t, a))
		if err != nil {
			t.Fatal(err)
		}
		if got := len(findingsOf(res, "DFS-CODE-018")) > 0; got != tc.want {
			t.Errorf("%s.sendBroadcast: found=%v, want %v", tc.class, got, tc.want)
		}
	}
}

// TestRuleBugIsWarning: a rule that panics on an odd app costs that rule,
// not the scan.
func TestRuleBugIsWarning(t *testing.T) {
	boom := &rule{RuleMeta: RuleMeta{ID: "DFS-TEST-001"}}
	boom.check = func(*scanCtx, emitFunc) { panic("boom") }
	boom.onMethod = func(*methodCtx, emitFunc) { panic("boom") }
	app := openBytes(t, str("x"))
	sc := newScanCtx(app, time.Now())
	if err := runCheck(boom, sc, nil); err == nil || !strings.Contains(err.Error(), "DFS-TEST-001") {
		t.Errorf("runCheck: err = %v", err)
	}
	s := &Scanner{codeRules: []*rule{boom}, opts: Options{Workers: 1}}
	hits, _, warns, err := s.codePass(context.Background(), sc)
	if err != nil || len(hits) != 0 || len(warns) == 0 || !strings.Contains(warns[0], "DFS-TEST-001") {
		t.Errorf("codePass: hits %v warnings %q err %v", hits, warns, err)
	}
}

// TestPlatformLibraries: logging inside androidx is the library's business;
// the same call in the app's code is reported, and so is the app's call to
// a support-library storage helper.
func TestPlatformLibraries(t *testing.T) {
	logCall := func(cls string) *apktest.App {
		return classBody(cls, "", nil, "run", "()V", func(m *dexbuild.Method) {
			m.CallStatic("Landroid/util/Log;->d(Ljava/lang/String;Ljava/lang/String;)I", s("t"), o("Ljava/lang/String;"))
		})
	}
	for _, tc := range []struct {
		app  *apktest.App
		rule string
		want bool
	}{
		{logCall("Landroidx/core/app/Helper;"), "DFS-CODE-012", false},
		{logCall("Lcom/example/app/Helper;"), "DFS-CODE-012", true},
		{static("Landroidx/core/content/ContextCompat;->getExternalFilesDirs(Landroid/content/Context;Ljava/lang/String;)[Ljava/io/File;", i(0), i(0)), "DFS-CODE-011", true},
	} {
		res, err := NewScanner(Options{Rules: []string{tc.rule}}).ScanApp(context.Background(), openBytes(t, tc.app))
		if err != nil {
			t.Fatal(err)
		}
		if got := len(findingsOf(res, tc.rule)) > 0; got != tc.want {
			t.Errorf("%s: found=%v, want %v (%v)", tc.rule, got, tc.want, res.Findings)
		}
	}
}

// TestSecretContext: the Firebase key the Google services plugin puts in
// every app is public by design; the same key under another name is not.
func TestSecretContext(t *testing.T) {
	key := "AIza" + mixed(35)
	for name, want := range map[string]bool{"google_api_key": false, "payments_api_key": true} {
		res, err := NewScanner(Options{Rules: []string{"DFS-SECRET-003"}}).ScanApp(context.Background(), openBytes(t, resString(name, key)))
		if err != nil {
			t.Fatal(err)
		}
		if got := len(findingsOf(res, "DFS-SECRET-003")) > 0; got != want {
			t.Errorf("%s: found=%v, want %v", name, got, want)
		}
	}
}

// TestLimits: Options.Limits reaches the loader.
func TestLimits(t *testing.T) {
	path, _ := writeApp(t, asset("assets/config.properties", "db.password=Xk9mQ2vLr7\n"), "limits.apk")
	for _, tc := range []struct {
		lim  apk.Limits
		want bool
	}{{apk.Limits{}, true}, {apk.Limits{MaxTextSize: 8}, false}} {
		res, err := NewScanner(Options{Rules: []string{"DFS-SECRET-006"}, Limits: tc.lim}).ScanFile(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(findingsOf(res, "DFS-SECRET-006")) > 0; got != tc.want {
			t.Errorf("limits %+v: found=%v, want %v", tc.lim, got, tc.want)
		}
	}
}

// TestKotlinShapes: Kotlin compiles the classic trust-all and allow-all
// bodies with parameter null checks first; they must still be found, and
// a verifier that can return false must not.
func TestKotlinShapes(t *testing.T) {
	nullCheck := func(m *dexbuild.Method) {
		m.CallStatic("Lkotlin/jvm/internal/Intrinsics;->checkNotNullParameter(Ljava/lang/Object;Ljava/lang/String;)V", i(0), s("chain"))
	}
	trustAll := classBody("Lcom/example/app/KtTrust;", "", []string{"Ljavax/net/ssl/X509TrustManager;"},
		"checkServerTrusted", "([Ljava/security/cert/X509Certificate;Ljava/lang/String;)V", func(m *dexbuild.Method) { nullCheck(m); m.ReturnVoid() })
	verifier := func(values ...int32) *apktest.App {
		return classBody("Lcom/example/app/KtVerifier;", "", []string{"Ljavax/net/ssl/HostnameVerifier;"},
			"verify", "(Ljava/lang/String;Ljavax/net/ssl/SSLSession;)Z", func(m *dexbuild.Method) {
				nullCheck(m)
				for _, v := range values {
					m.Const(9, v).Return(9, false)
				}
			})
	}
	for _, tc := range []struct {
		name string
		app  *apktest.App
		rule string
		want bool
	}{
		{"trust-all", trustAll, "DFS-CODE-001", true},
		{"verify-true", verifier(1), "DFS-CODE-002", true},
		{"verify-true-twice", verifier(1, 1), "DFS-CODE-002", true},
		{"verify-either", verifier(1, 0), "DFS-CODE-002", false},
	} {
		res, err := NewScanner(Options{Rules: []string{tc.rule}}).ScanApp(context.Background(), openBytes(t, tc.app))
		if err != nil {
			t.Fatal(err)
		}
		if got := len(findingsOf(res, tc.rule)) > 0; got != tc.want {
			t.Errorf("%s: found=%v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestBundleSigning: an App Bundle is uploaded unsigned or JAR-signed and
// the store signs the APKs, so APK signing rules do not apply to it.
func TestBundleSigning(t *testing.T) {
	data, err := (&apktest.App{MinSDK: 21}).BuildAAB()
	if err != nil {
		t.Fatal(err)
	}
	app, err := apk.OpenReader(context.Background(), bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	res, err := NewScanner(Options{Rules: []string{"DFS-SIGN-"}}).ScanApp(context.Background(), app)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 0 {
		t.Errorf("signing findings on a bundle: %+v", res.Findings)
	}
	if res.Target.Format != "aab" {
		t.Errorf("format %q", res.Target.Format)
	}
}

// TestTimeout: the per-file deadline ends a scan with a clear error.
func TestTimeout(t *testing.T) {
	path, _ := writeApp(t, paymentApp(), "slow.apk")
	_, err := NewScanner(Options{Timeout: time.Nanosecond}).ScanFile(context.Background(), path)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "slow.apk") {
		t.Errorf("err = %v, want a deadline error naming the file", err)
	}
}
