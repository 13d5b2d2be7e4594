package report

import (
	"time"

	"github.com/dfslab/dfslab/internal/appscan"
	"github.com/dfslab/dfslab/internal/appscan/baseline"
	"github.com/dfslab/dfslab/internal/appscan/suppress"
)

// Hand-made rules and results: the report writers are tested on fixed
// values, independent of the scan engine, so golden files change only when
// a writer changes.

func fixtureRules() []appscan.RuleMeta {
	return []appscan.RuleMeta{
		{
			ID: "DFS-MAN-001", Title: "Debuggable build", Category: appscan.CategoryManifest,
			Severity: appscan.High, Confidence: appscan.ConfidenceHigh,
			Description: "The manifest sets `android:debuggable=\"true\"`, so anyone with USB access can attach a debugger.",
			Remediation: "Remove android:debuggable; release builds set it to false.",
			Mappings: appscan.Mappings{MASVS: []string{"MASVS-RESILIENCE-4"}, CWE: []int{489}, OWASPMobile2016: []string{"M10"},
				OWASPMobile2024: []string{"M8"}, ITUTest: []string{"T1.2"}},
		},
		{
			ID: "DFS-NET-002", Title: "Trust-all TrustManager", Category: appscan.CategoryNetwork,
			Severity: appscan.Critical, Confidence: appscan.ConfidenceMedium,
			Description: "A TrustManager accepts every certificate chain, which turns TLS into plain text for any attacker on the path.",
			Remediation: "Use the platform trust manager; pin with a network security configuration.",
			Mappings:    appscan.Mappings{MASVS: []string{"MASVS-NETWORK-1"}, CWE: []int{295}, OWASPMobile2016: []string{"M3"}, OWASPMobile2024: []string{"M5"}, ITUTest: []string{"T1.7"}},
		},
		{
			ID: "DFS-CRY-003", Title: "ECB mode", Category: appscan.CategoryCrypto,
			Severity: appscan.Medium, Confidence: appscan.ConfidenceHigh,
			Description: "Cipher.getInstance with ECB mode leaks patterns of the plaintext.",
			Remediation: "Use AES/GCM/NoPadding with a random IV.",
			Mappings:    appscan.Mappings{MASVS: []string{"MASVS-CRYPTO-1"}, CWE: []int{327}},
		},
		{
			ID: "DFS-RES-001", Title: "No root detection", Category: appscan.CategoryResilience,
			Severity: appscan.Low, Confidence: appscan.ConfidenceLow, Control: true,
			Description: "No check for a rooted device was found.",
			Remediation: "Detect rooted devices and restrict sensitive operations.",
			Mappings:    appscan.Mappings{MASVS: []string{"MASVS-RESILIENCE-1"}, CWE: []int{919}},
		},
		{
			ID: "DFS-SEC-004", Title: "Hard-coded API key", Category: appscan.CategorySecrets,
			Severity: appscan.High, Confidence: appscan.ConfidenceMedium,
			Description: "An API key is embedded in the app.",
			Remediation: "Move the key to a server-side proxy.",
			Mappings:    appscan.Mappings{MASVS: []string{"MASVS-STORAGE-1"}, CWE: []int{798}},
		},
	}
}

func finding(rule string, sev appscan.Severity, title, msg string, loc appscan.Location, evidence string) appscan.Finding {
	f := appscan.Finding{RuleID: rule, Title: title, Severity: sev, Confidence: appscan.ConfidenceHigh, Message: msg, Location: loc, Evidence: evidence}
	f.ComputeFingerprint()
	return f
}

func libraryFinding(f appscan.Finding, lib string) appscan.Finding {
	f.InLibrary, f.Library = true, lib
	return f
}

func fixtureResults() []*appscan.Result {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	wallet := &appscan.Result{
		Target: appscan.Target{Path: "build/wallet-release.apk", SHA256: "9f2c3a0b5e8d4c1f7a6b2e9d0c3f8a1b4e7d2c5f8a0b3e6d9c2f5a8b1e4d7c0a", Size: 3_456_789, Format: "apk"},
		App: appscan.AppInfo{Package: "com.example.wallet", Label: "Example Wallet", VersionName: "2.4.1", VersionCode: 241,
			MinSDK: 21, TargetSDK: 34, DexFiles: 2, Classes: 5120, Methods: 40211},
		Findings: []appscan.Finding{
			finding("DFS-CRY-003", appscan.Medium, "ECB mode", "Cipher.getInstance is called with an ECB transformation.",
				appscan.Location{File: "classes2.dex", Class: "com.example.wallet.crypto.Vault", Method: "seal([B)[B"}, "AES/ECB/PKCS5Padding"),
			finding("DFS-NET-002", appscan.Critical, "Trust-all TrustManager", "checkServerTrusted returns without checking the chain.",
				appscan.Location{File: "classes.dex", Class: "com.example.wallet.net.OpenTrust"}, ""),
			finding("DFS-MAN-001", appscan.High, "Debuggable build", "The application element sets android:debuggable.",
				appscan.Location{File: "AndroidManifest.xml", Element: "application"}, `android:debuggable="true"`),
			// Hostile strings: markup, table pipes, backticks and terminal escapes must stay inert in every format.
			finding("DFS-SEC-004", appscan.High, "Hard-coded API key", "A string constant looks like a payment API key.",
				appscan.Location{File: "assets/config.json", Line: 12}, "sk_live_****<script>alert(1)</script> | `x` \x1b[2J"),
			finding("DFS-RES-001", appscan.Low, "No root detection", "", appscan.Location{File: "AndroidManifest.xml", Element: "application"}, ""),
			// In a library's code: reported apart, not counted.
			libraryFinding(finding("DFS-NET-002", appscan.Critical, "Trust-all TrustManager", "checkServerTrusted returns without checking the chain.",
				appscan.Location{File: "classes2.dex", Class: "io.netty.handler.ssl.util.InsecureTrustManagerFactory$1", Method: "checkServerTrusted([Ljava/security/cert/X509Certificate;Ljava/lang/String;)V"}, ""), "Netty"),
		},
		Permissions: []appscan.Permission{
			{Name: "android.permission.RECEIVE_SMS", Dangerous: true, Reason: "can read one-time passwords"},
			{Name: "android.permission.INTERNET"},
		},
		Components: []appscan.Component{
			{Kind: "activity", Name: "com.example.wallet.MainActivity", Exported: true},
			{Kind: "receiver", Name: "com.example.wallet.SmsReceiver", Exported: true, Permission: "android.permission.BROADCAST_SMS"},
		},
		Signing: []appscan.SchemeStatus{{Scheme: "v1", Present: true, Verified: true}, {Scheme: "v2", Present: true, Verified: true}, {Scheme: "v3", Present: false}},
		Certificates: []appscan.Certificate{{
			Subject: "CN=Example Wallet, O=Example, C=MW", Issuer: "CN=Example Wallet, O=Example, C=MW", Serial: "1a2b",
			NotBefore: day(2024, 1, 10), NotAfter: day(2049, 1, 10), KeyAlgorithm: "RSA", KeyBits: 2048,
			SignatureAlgorithm: "SHA256-RSA", SHA256: "c0ffee", Schemes: []string{"v1", "v2"},
		}},
		NativeLibs: []appscan.NativeLib{{Path: "lib/arm64-v8a/libcore.so", Arch: "arm64-v8a", PIE: true, NX: true, Canary: false, RELRO: "partial", Stripped: true, Dangerous: []string{"strcpy", "system"}}},
		SDKs:       []appscan.SDK{{Name: "Firebase Analytics", Category: "analytics", Package: "com.google.firebase.analytics"}},
		Controls: []appscan.ControlStatus{
			{RuleID: "DFS-RES-001", Name: "Root detection", Present: false},
			{RuleID: "DFS-RES-010", Name: "Certificate pinning", Present: true, Evidence: "res/xml/network_security_config.xml"},
		},
		Score:    41,
		Warnings: []string{"classes3.dex: truncated map list, scanned what was readable"},
		Duration: 312 * time.Millisecond,
	}
	agent := &appscan.Result{
		Target: appscan.Target{Path: "build/agent.aab", SHA256: "1111111111111111111111111111111111111111111111111111111111111111", Size: 800_000, Format: "aab"},
		App:    appscan.AppInfo{Package: "com.example.agent", VersionName: "1.0", VersionCode: 1, MinSDK: 26, TargetSDK: 35, DexFiles: 1, Classes: 300, Methods: 2000},
		Findings: []appscan.Finding{
			// Same rule and location as in the wallet: SARIF must keep two alerts.
			finding("DFS-MAN-001", appscan.High, "Debuggable build", "The application element sets android:debuggable.",
				appscan.Location{File: "AndroidManifest.xml", Element: "application"}, `android:debuggable="true"`),
			// A rule missing from the metadata (newer engine): writers fall back to the finding.
			finding("DFS-XYZ-999", appscan.Info, "Unknown rule", "", appscan.Location{File: "base/manifest/AndroidManifest.xml", Element: "activity[com.example.agent.Main]"}, ""),
		},
		Score:    78,
		Duration: 90 * time.Millisecond,
	}
	// One rule matching many methods: text and Markdown summarise it.
	for _, m := range []string{"a()V", "b()V", "c()V", "d()V"} {
		agent.Findings = append(agent.Findings, finding("DFS-CODE-012", appscan.Low, "Logging calls", "writes to logcat",
			appscan.Location{File: "classes.dex", Class: "com.example.agent.Net", Method: m}, `android.util.Log.d("net", <concatenated string>)`))
	}
	return []*appscan.Result{wallet, agent}
}

func fixtureDoc() *Document {
	res := fixtureResults()
	rules := fixtureRules()
	expired := suppress.Rule{RuleID: "DFS-CRY-003", Location: "com.example.legacy", Reason: "legacy module, ticket SEC-7", Expires: time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC), Line: 9}
	supp := suppress.Rule{RuleID: "DFS-NET-*", Location: "com.example.wallet.debug", Reason: "debug-only code, stripped by R8", Expires: time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC), Line: 3}
	sf := finding("DFS-NET-002", appscan.Critical, "Trust-all TrustManager", "checkServerTrusted returns without checking the chain.",
		appscan.Location{File: "classes.dex", Class: "com.example.wallet.debug.DevTrust"}, "")
	fixed := finding("DFS-CRY-003", appscan.Medium, "ECB mode", "Cipher.getInstance is called with an ECB transformation.",
		appscan.Location{File: "classes.dex", Class: "com.example.wallet.Old", Method: "enc()V"}, "DES/ECB/NoPadding")
	return &Document{
		Tool:                Tool{Name: "dfslab", Version: "test", InformationURI: "https://github.com/dfslab/dfslab"},
		GeneratedAt:         time.Date(2026, 11, 26, 10, 30, 0, 0, time.UTC),
		Results:             res,
		Errors:              []FileError{{Path: "build/broken.apk", Error: "zip: not a valid zip file"}},
		Suppressed:          []suppress.Suppressed{{Target: res[0].Target.Path, Package: res[0].App.Package, Finding: sf, Rule: supp}},
		ExpiredSuppressions: []suppress.Rule{expired},
		Baseline: &baseline.Summary{Path: "previous.json", New: 3, Unchanged: 4,
			Fixed: []baseline.Fixed{{Target: res[0].Target.Path, Package: res[0].App.Package, Finding: fixed}}},
		Rules: rules,
	}
}
