package appscan

import (
	"strings"

	"github.com/dfslab/dfslab/internal/apk"
)

func resMap(masvs string, cwe int, m2016, m2024 string, itu ...string) Mappings {
	return mp(masvs, cwe, m2016, m2024, itu...)
}

// stringHit returns an onString hook matching strings that contain (or,
// with exact, equal) one of needles.
func stringHit(exact bool, needles ...string) func(*methodCtx, string, emitFunc) {
	sigs := make([]uint64, len(needles))
	for i, n := range needles {
		sigs[i] = byteSig(n)
	}
	return func(mc *methodCtx, s string, emit emitFunc) {
		for i, n := range needles {
			if !mayContain(mc.sig, sigs[i]) {
				continue
			}
			if exact && s == n || !exact && strings.Contains(s, n) {
				emit(mc.hit("", quote(s, 60)))
				return
			}
		}
	}
}

func anyCall(mc *methodCtx, c *apk.Call, emit emitFunc) { emit(mc.hit("", callText(c))) }

// obfuscationShare is the share of the app's own classes whose simple name
// is one or two characters, the signature of R8/ProGuard renaming. Library
// classes, generated resource classes (R, R$id) and BuildConfig do not
// count, and a nested or anonymous class ($1) counts by its outer name.
func obfuscationShare(classes []apk.Class, at *attribution) (short, total int) {
	for _, c := range classes {
		if hasAnyPrefix(c.Name, "android.", "java.", "javax.", "dalvik.") || at.library(c.Name) != "" {
			continue
		}
		simple := c.Name[strings.LastIndexByte(c.Name, '.')+1:]
		if i := strings.IndexByte(simple, '$'); i >= 0 {
			simple = simple[:i]
		}
		if simple == "R" || simple == "BuildConfig" || simple == "Manifest" || simple == "" {
			continue
		}
		total++
		if len(simple) <= 2 {
			short++
		}
	}
	return short, total
}

// nativeStrings reports the first string of the app's own native
// libraries (not those of known libraries) that contains one of needles,
// ASCII case ignored; needles are lower case.
func nativeStrings(sc *scanCtx, emit emitFunc, needles ...string) {
	sigs := make([]uint64, len(needles))
	for i, n := range needles {
		sigs[i] = byteSig(n)
	}
	for i, l := range sc.app.Native {
		if nativeLibrary(l.Path) != "" {
			continue
		}
		for j, s := range l.Strings {
			for k, n := range needles {
				if mayContain(sc.nativeSigs[i][j], sigs[k]) && containsLowerASCII(s, n) {
					emit(hit{loc: Location{File: l.Path}, evidence: quote(s, 60)})
					return
				}
			}
		}
	}
}

func resilienceRules() []*rule {
	return []*rule{
		{RuleMeta: meta("DFS-RES-001", Medium, med, "Root detection missing",
			"Checks whether the app looks for signs of a rooted device (su binaries, Magisk or SuperSU packages, RootBeer). A payment app running on a rooted device can be inspected and manipulated.",
			"Detect root with platform attestation (Play Integrity) plus local checks, and refuse or limit sensitive functions on compromised devices.",
			resMap("MASVS-RESILIENCE-1", 919, "M8", "M7", "T8.1")),
			controlName: "Root detection", absent: "No root detection found in the code.",
			onString: stringHit(false, "/system/xbin/su", "/system/bin/su", "/sbin/su", "com.topjohnwu.magisk", "eu.chainfire.supersu",
				"com.noshufou.android.su", "com.koushikdutta.superuser", "Superuser.apk", "test-keys", "/su/bin/su", "busybox", "/system/sd/xbin/su"),
			calls:  []string{"com.scottyab.rootbeer.RootBeer.isRooted"},
			onCall: anyCall},
		{RuleMeta: meta("DFS-RES-002", Low, med, "Emulator detection missing",
			"Checks whether the app recognises emulators (goldfish/ranchu hardware, generic build fingerprints, QEMU pipes); attackers analyse apps in emulators.",
			"Combine emulator checks with server-side attestation.",
			resMap("MASVS-RESILIENCE-4", 919, "M8", "M7")),
			controlName: "Emulator detection", absent: "No emulator detection found in the code.",
			onString: stringHit(false, "goldfish", "ranchu", "generic_x86", "sdk_gphone", "Genymotion", "/dev/qemu_pipe", "ro.kernel.qemu", "vbox86")},
		{RuleMeta: meta("DFS-RES-003", Low, med, "Debugger detection missing",
			"Checks whether the app detects an attached debugger (Debug.isDebuggerConnected, TracerPid).",
			"Check for debuggers at start-up and before sensitive operations, and react (exit, report).",
			resMap("MASVS-RESILIENCE-4", 388, "M8", "M7")),
			controlName: "Debugger detection", absent: "No debugger detection found in the code.",
			calls:    []string{"android.os.Debug.isDebuggerConnected", "android.os.Debug.waitingForDebugger"},
			onCall:   anyCall,
			onString: stringHit(true, "TracerPid", "TracerPid:")},
		{RuleMeta: meta("DFS-RES-004", Low, high, "No Play Integrity or SafetyNet attestation",
			"Checks whether the app requests a Play Integrity (or legacy SafetyNet) verdict that its back end can use to reject modified apps and compromised devices.",
			"Integrate the Play Integrity API and verify the verdict on the server before sensitive transactions.",
			resMap("MASVS-RESILIENCE-2", 693, "M8", "M7", "T8.1")),
			controlName: "Play Integrity / SafetyNet", absent: "No Play Integrity or SafetyNet attestation found.",
			calls: []string{"com.google.android.play.core.integrity.IntegrityManagerFactory.create", "com.google.android.play.core.integrity.IntegrityManager.requestIntegrityToken",
				"com.google.android.play.core.integrity.StandardIntegrityManager.prepareIntegrityToken", "com.google.android.play.core.integrity.IntegrityManagerFactory.createStandard",
				"com.google.android.gms.safetynet.SafetyNetClient.attest", "com.google.android.gms.safetynet.SafetyNet.getClient"},
			onCall: anyCall},
		{RuleMeta: meta("DFS-RES-005", Medium, med, "No certificate pinning",
			"Checks whether the app pins its servers' certificates or keys (OkHttp CertificatePinner, pin-sets in the network security configuration, pinned hashes in code). Without pinning a trusted-CA proxy can read the traffic (ITU test T3.3).",
			"Pin the public keys of your API servers with at least one backup pin, in the network security configuration or OkHttp's CertificatePinner.",
			resMap("MASVS-NETWORK-2", 295, "M3", "M5", "T3.3")),
			controlName: "Certificate pinning", absent: "No certificate pinning found in code or network security configuration.",
			calls:  []string{"okhttp3.CertificatePinner$Builder.add", "com.datatheorem.android.trustkit.TrustKit.initializeWithNetworkSecurityConfiguration"},
			onCall: anyCall,
			onString: func(mc *methodCtx, s string, emit emitFunc) {
				if strings.HasPrefix(s, "sha256/") && len(s) == len("sha256/")+44 {
					emit(mc.hit("", quote(s, 60)))
				}
			},
			check: func(sc *scanCtx, emit emitFunc) {
				for _, c := range nscConfigs(sc.app.NetworkConfig, false) {
					if len(c.cfg.Pins) > 0 {
						emit(hit{loc: sc.nscLoc(c.el), evidence: itoa(int64(len(c.cfg.Pins))) + " pins"})
					}
				}
			}},
		{RuleMeta: meta("DFS-RES-006", Medium, med, "Screens not protected with FLAG_SECURE",
			"Checks whether the app sets FLAG_SECURE on windows, which blocks screenshots, screen recording and the recent-apps thumbnail of balances and PINs.",
			"Set WindowManager.LayoutParams.FLAG_SECURE on screens that show credentials, balances or transactions.",
			resMap("MASVS-PLATFORM-3", 200, "M2", "M9")),
			controlName: "FLAG_SECURE", absent: "No window sets FLAG_SECURE; screens can be captured.",
			calls: []string{"android.view.Window.setFlags", "android.view.Window.addFlags"},
			onCall: func(mc *methodCtx, c *apk.Call, emit emitFunc) {
				if a := arg(c, 0); a.Kind == apk.ValueInt && a.Int&0x2000 != 0 {
					emit(mc.hit("", callText(c)))
				}
			}},
		{RuleMeta: meta("DFS-RES-007", Medium, med, "Biometric prompt without CryptoObject",
			"A biometric prompt is shown without a CryptoObject, so authentication is only an event in the app that a hooked or patched app can fake; no key is unlocked by it.",
			"Pass a CryptoObject wrapping a Keystore key that requires user authentication, and use that key for the sensitive operation.",
			resMap("MASVS-AUTH-2", 287, "M4", "M3", "T4.1")),
			calls: []string{"androidx.biometric.BiometricPrompt.authenticate", "android.hardware.biometrics.BiometricPrompt.authenticate",
				"android.hardware.fingerprint.FingerprintManager.authenticate", "androidx.core.hardware.fingerprint.FingerprintManagerCompat.authenticate"},
			onCall: func(mc *methodCtx, c *apk.Call, emit emitFunc) {
				if !biometricWithCrypto(c) {
					emit(mc.hit("", callText(c)))
				}
			}},
		{RuleMeta: meta("DFS-RES-008", Info, med, "Biometric prompt bound to a CryptoObject",
			"Checks whether a biometric prompt unlocks a Keystore key through a CryptoObject, the strong form of biometric authentication.",
			"Bind biometric authentication to a Keystore key with setUserAuthenticationRequired.",
			resMap("MASVS-AUTH-2", 287, "M4", "M3", "T4.1")),
			controlName: "Biometric authentication with CryptoObject",
			calls: []string{"androidx.biometric.BiometricPrompt.authenticate", "android.hardware.biometrics.BiometricPrompt.authenticate",
				"android.hardware.fingerprint.FingerprintManager.authenticate", "androidx.core.hardware.fingerprint.FingerprintManagerCompat.authenticate"},
			onCall: func(mc *methodCtx, c *apk.Call, emit emitFunc) {
				if biometricWithCrypto(c) {
					emit(mc.hit("", callText(c)))
				}
			}},
		{RuleMeta: meta("DFS-RES-009", Medium, med, "Code not obfuscated",
			"Checks whether class names are obfuscated (most app classes renamed to one or two letters by R8/ProGuard), which slows reverse engineering (ITU test T9.1).",
			"Enable R8 full mode (minifyEnabled true) for release builds; consider a commercial obfuscator for payment logic.",
			resMap("MASVS-RESILIENCE-3", 656, "M9", "M7", "T9.1")),
			controlName: "Obfuscation", absent: "Class names are not obfuscated.",
			check: func(sc *scanCtx, emit emitFunc) {
				short, total := obfuscationShare(sc.app.Classes, sc.attr)
				if total > 0 && short*100 >= total*30 {
					emit(hit{evidence: itoa(int64(short*100/total)) + "% of " + itoa(int64(total)) + " app classes have short names"})
				}
			}},
		{RuleMeta: meta("DFS-RES-010", Low, low, "No app signature check at run time",
			"Checks whether the app reads its own signing certificate at run time (GET_SIGNATURES / GET_SIGNING_CERTIFICATES), a basic defence against repackaging.",
			"Verify the signing certificate at run time and, better, let the server verify a Play Integrity verdict.",
			resMap("MASVS-RESILIENCE-2", 354, "M8", "M7")),
			controlName: "Signature check", absent: "The app never reads its own signing certificate.",
			calls: []string{"android.content.pm.PackageManager.getPackageInfo"},
			onCall: func(mc *methodCtx, c *apk.Call, emit emitFunc) {
				// A constant package name other than the app's is a check
				// of another app (Play services verifying Google's), not
				// of this one.
				if p := arg(c, 0); p.Kind == apk.ValueString && p.Str != mc.scan.man.Package {
					return
				}
				if a := arg(c, 1); a.Kind == apk.ValueInt && a.Int&(0x40|0x08000000) != 0 {
					emit(mc.hit("", callText(c)))
				}
			}},
		{RuleMeta: meta("DFS-RES-011", Low, low, "No hooking framework detection",
			"Checks whether the app looks for instrumentation frameworks (Frida, Xposed, Substrate) used to bypass its checks at run time.",
			"Detect common hooking frameworks and report them to the back end.",
			resMap("MASVS-RESILIENCE-4", 693, "M8", "M7")),
			controlName: "Hooking detection", absent: "No detection of Frida, Xposed or similar frameworks found.",
			onString: stringHit(false, "frida-server", "frida-agent", "re.frida", "de.robv.android.xposed", "XposedBridge", "com.saurik.substrate", "libsubstrate"),
			// Detection often lives in native code, out of reach of hooks
			// on Java methods.
			check: func(sc *scanCtx, emit emitFunc) { nativeStrings(sc, emit, "frida", "xposed", "substrate") }},
	}
}

// biometricWithCrypto tells the prompt overloads apart by their arguments:
// androidx authenticate(info, crypto) vs authenticate(info); the platform
// prompt takes (crypto, cancel, executor, callback) vs 3 arguments; the
// fingerprint managers take the CryptoObject first, null when absent.
func biometricWithCrypto(c *apk.Call) bool {
	switch c.Class {
	case "androidx.biometric.BiometricPrompt":
		return len(c.Args) >= 2
	case "android.hardware.biometrics.BiometricPrompt":
		return len(c.Args) >= 4
	default:
		a := arg(c, 0)
		return !(a.Kind == apk.ValueInt && a.Int == 0)
	}
}

func zipRule(m RuleMeta, kinds ...apk.ZipIssueKind) *rule {
	return &rule{RuleMeta: m, check: func(sc *scanCtx, emit emitFunc) {
		for _, z := range sc.app.ZipIssues {
			for _, k := range kinds {
				if z.Kind == k {
					emit(hit{msg: cmpOr(z.Note, m.Title), loc: Location{File: z.Name}, evidence: string(z.Kind)})
				}
			}
		}
	}}
}

func zipMap(cwe int) Mappings {
	return Mappings{MASVS: []string{"MASVS-RESILIENCE-2"}, CWE: []int{cwe}, OWASPMobile2016: []string{"M8"}, OWASPMobile2024: []string{"M7"}}
}

func zipRules() []*rule {
	return []*rule{
		zipRule(meta("DFS-ZIP-001", High, high, "Duplicate zip entry names",
			"Two entries share a name; tools and Android may pick different copies, so what is analysed or verified may not be what runs (a known signature-bypass trick).",
			"Rebuild the APK with the official tools; treat duplicates in third-party apps as tampering.",
			zipMap(434)), apk.ZipDuplicate),
		zipRule(meta("DFS-ZIP-002", High, high, "Path traversal in zip entry name",
			"An entry name contains \"..\" or starts with \"/\"; unpacking it with a naive tool writes outside the target folder (Zip Slip).",
			"Rebuild the APK with the official tools; never extract such archives.",
			zipMap(22)), apk.ZipTraversal),
		zipRule(meta("DFS-ZIP-003", Medium, high, "Zip limits exceeded",
			"An entry or the archive exceeds size, count or compression-ratio limits (zip bomb); parts of the app were not analysed.",
			"Inspect the archive by hand; legitimate apps stay far below these limits.",
			zipMap(409)), apk.ZipLimit),
		zipRule(meta("DFS-ZIP-004", High, med, "Data before the first zip entry",
			"The file has bytes before the first zip entry; a DEX or other file hidden there is a sign of Janus-style tampering or polyglot files.",
			"Rebuild the APK with the official tools and sign it with v2/v3.",
			zipMap(434)), apk.ZipPrefix),
		zipRule(meta("DFS-ZIP-005", Low, high, "Zip entries flagged as encrypted",
			"Entries carry the encryption flag, which Android ignores; it is used to break analysis tools.",
			"Treat as an anti-analysis trick; legitimate builds do not set it.",
			zipMap(693)), apk.ZipEncrypted),
		zipRule(meta("DFS-ZIP-006", Medium, high, "Local header disagrees with central directory",
			"An entry's local header differs from its central-directory record (name, size or method); tools reading either can see different content.",
			"Rebuild the APK with the official tools.",
			zipMap(436)), apk.ZipMismatch),
	}
}
