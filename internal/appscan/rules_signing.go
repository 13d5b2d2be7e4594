package appscan

import (
	"crypto/x509"
	"slices"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/apk"
)

func (sc *scanCtx) schemePresent(name string) bool {
	for _, s := range sc.app.Signing.Schemes {
		if s.Scheme == name && s.Present {
			return true
		}
	}
	return false
}

func certLoc(s apk.Signer) Location {
	return Location{File: "META-INF", Element: "certificate[" + s.Cert.Subject.String() + "]"}
}

// eachCert runs f over the signer certificates.
func eachCert(f func(sc *scanCtx, s apk.Signer, emit emitFunc)) func(*scanCtx, emitFunc) {
	return func(sc *scanCtx, emit emitFunc) {
		for _, s := range sc.app.Signing.Signers {
			if s.Cert != nil {
				f(sc, s, emit)
			}
		}
	}
}

// playSigningDeadline is the first instant after 22 October 2033: Google
// Play requires the signing certificate of a new app to stay valid after
// that day, so one that ends before this instant falls short.
var playSigningDeadline = time.Date(2033, time.October, 23, 0, 0, 0, 0, time.UTC)

func signMap(masvs string, cwe int) Mappings {
	return Mappings{MASVS: []string{masvs}, CWE: []int{cwe}, OWASPMobile2016: []string{"M8"}, OWASPMobile2024: []string{"M7"}}
}

func signingRules() []*rule {
	return []*rule{
		{RuleMeta: meta("DFS-SIGN-001", Critical, high, "App is not signed",
			"No APK signature scheme is present; Android refuses to install the app and its origin cannot be verified.",
			"Sign the release with your upload or app-signing key using v2 and v3 signatures (apksigner).",
			signMap("MASVS-RESILIENCE-2", 347)),
			check: func(sc *scanCtx, emit emitFunc) {
				ss := sc.app.Signing.Schemes
				if sc.app.Format == apk.FormatAAB {
					return // bundles are uploaded unsigned or JAR-signed; the store signs the APKs
				}
				if len(ss) > 0 && !slices.ContainsFunc(ss, func(s apk.SchemeResult) bool { return s.Present }) {
					emit(hit{loc: Location{File: "META-INF"}, evidence: "no v1, v2 or v3 signature"})
				}
			}},
		{RuleMeta: meta("DFS-SIGN-002", High, high, "Signed with a debug certificate",
			"The signing certificate is the Android SDK debug certificate (CN=Android Debug), whose key is on every developer machine.",
			"Sign releases with a protected release key, ideally through Play App Signing.",
			signMap("MASVS-RESILIENCE-2", 321)),
			check: eachCert(func(_ *scanCtx, s apk.Signer, emit emitFunc) {
				if s.Cert.Subject.CommonName == "Android Debug" {
					emit(hit{loc: certLoc(s), evidence: s.Cert.Subject.String()})
				}
			})},
		{RuleMeta: meta("DFS-SIGN-003", High, high, "Only v1 signature on Android < 7 (Janus)",
			"The app has only a JAR (v1) signature and supports Android versions before 7.0, where a DEX file can be prepended to the APK without breaking the signature (Janus, CVE-2017-13156).",
			"Add v2 and v3 signatures, and raise minSdkVersion to 24 if possible.",
			signMap("MASVS-RESILIENCE-2", 347)),
			check: func(sc *scanCtx, emit emitFunc) {
				if sc.app.Format != apk.FormatAAB && sc.schemePresent("v1") && !sc.schemePresent("v2") && !sc.schemePresent("v3") && !sc.schemePresent("v3.1") && sc.minSDK() < 24 {
					emit(hit{loc: Location{File: "META-INF"}, evidence: "v1 only, minSdkVersion=" + itoa(int64(sc.minSDK()))})
				}
			}},
		{RuleMeta: meta("DFS-SIGN-004", High, high, "Weak signing key",
			"The signing key is too short (RSA or DSA below 2048 bits, EC below 256 bits); such keys can be factored or forged with enough computing power, and the key lives as long as the app.",
			"Sign with RSA 3072+ or EC P-256+, and rotate to it with a v3 signature lineage.",
			signMap("MASVS-CRYPTO-1", 326)),
			check: eachCert(func(_ *scanCtx, s apk.Signer, emit emitFunc) {
				alg, bits := keyInfo(s.Cert)
				if (alg == "RSA" || alg == "DSA") && bits < 2048 || alg == "EC" && bits < 256 {
					emit(hit{loc: certLoc(s), evidence: alg + " " + itoa(int64(bits)) + " bits"})
				}
			})},
		{RuleMeta: meta("DFS-SIGN-005", Medium, high, "Certificate signed with MD5 or SHA-1",
			"The signing certificate uses an MD5- or SHA-1-based signature algorithm, which is open to collision attacks.",
			"Issue the certificate with SHA-256 or better.",
			signMap("MASVS-CRYPTO-1", 328)),
			check: eachCert(func(_ *scanCtx, s apk.Signer, emit emitFunc) {
				switch s.Cert.SignatureAlgorithm {
				case x509.MD2WithRSA, x509.MD5WithRSA, x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1:
					emit(hit{loc: certLoc(s), evidence: s.Cert.SignatureAlgorithm.String()})
				}
			})},
		{RuleMeta: meta("DFS-SIGN-006", Medium, high, "Signing certificate expired",
			"The signing certificate's validity has ended. Android does not check it at install time, but it shows poor key management and breaks policies that do check.",
			"Plan key rotation with a v3 signature lineage.",
			signMap("MASVS-RESILIENCE-2", 298)),
			check: eachCert(func(sc *scanCtx, s apk.Signer, emit emitFunc) {
				if sc.now.After(s.Cert.NotAfter) {
					emit(hit{loc: certLoc(s), evidence: "notAfter=" + s.Cert.NotAfter.UTC().Format("2006-01-02")})
				}
			})},
		{RuleMeta: meta("DFS-SIGN-007", Medium, high, "Signing certificate ends on or before 22 October 2033",
			"The signing certificate stops being valid on or before 22 October 2033. Google Play refuses new apps whose signing key expires by then, and since Android installs an update only when it carries the same signer, a certificate that runs out early leaves the app with a key it has to rotate rather than renew. Long validity is normal and wanted for APK signing keys: the lifetime limits for TLS server certificates do not apply to them.",
			"Create signing and upload keys valid for 25 years or more; for an app already published, rotate to such a key with an APK Signature Scheme v3 lineage (apksigner rotate) or Play App Signing.",
			signMap("MASVS-RESILIENCE-2", 298)),
			check: eachCert(func(sc *scanCtx, s apk.Signer, emit emitFunc) {
				// An expired certificate is DFS-SIGN-006's finding; this rule
				// looks ahead for those still valid.
				if !sc.now.After(s.Cert.NotAfter) && s.Cert.NotAfter.Before(playSigningDeadline) {
					emit(hit{loc: certLoc(s), evidence: "notAfter=" + s.Cert.NotAfter.UTC().Format("2006-01-02")})
				}
			})},
		{RuleMeta: meta("DFS-SIGN-008", Critical, high, "Signature does not verify",
			"A signature scheme is present but does not verify: the APK was modified after signing, or the signature is malformed.",
			"Re-sign the exact artefact you distribute and verify it with apksigner before release; treat unexplained failures as tampering.",
			signMap("MASVS-RESILIENCE-2", 347)),
			check: func(sc *scanCtx, emit emitFunc) {
				for _, s := range sc.app.Signing.Schemes {
					if s.Present && !s.Verified {
						emit(hit{loc: Location{File: "META-INF", Element: "scheme[" + s.Scheme + "]"}, evidence: cmpOr(s.Err, "verification failed")})
					}
				}
			}},
		{RuleMeta: meta("DFS-SIGN-009", Low, high, "Signing certificate not yet valid",
			"The signing certificate's validity starts in the future, which suggests a wrong clock or a forged certificate.",
			"Check how the key was generated and re-issue the certificate.",
			signMap("MASVS-RESILIENCE-2", 298)),
			check: eachCert(func(sc *scanCtx, s apk.Signer, emit emitFunc) {
				if sc.now.Before(s.Cert.NotBefore) {
					emit(hit{loc: certLoc(s), evidence: "notBefore=" + s.Cert.NotBefore.UTC().Format("2006-01-02")})
				}
			})},
		{RuleMeta: meta("DFS-SIGN-010", Medium, high, "No v2/v3 signature on target SDK 30+",
			"The app targets Android 11 or later but has no v2 or v3 signature, which those versions require; it also loses the whole-file integrity protection of v2.",
			"Sign with v2 and v3 (apksigner does by default).",
			signMap("MASVS-RESILIENCE-2", 347)),
			check: func(sc *scanCtx, emit emitFunc) {
				if sc.app.Format != apk.FormatAAB && sc.schemePresent("v1") && !sc.schemePresent("v2") && !sc.schemePresent("v3") && sc.targetSDK() >= 30 {
					emit(hit{loc: Location{File: "META-INF"}, evidence: "v1 only, targetSdkVersion=" + itoa(int64(sc.targetSDK()))})
				}
			}},
	}
}

// nativeRule reports each native library for which f holds, once for all
// the ABIs that ship it (lib/arm64-v8a/libpay.so and lib/x86_64/libpay.so
// are one library built twice): the finding points at the first ABI's file
// in sorted order and lists the ABIs.
func nativeRule(m RuleMeta, f func(l *apk.NativeLib) (string, bool)) *rule {
	return &rule{RuleMeta: m, check: func(sc *scanCtx, emit emitFunc) {
		type group struct {
			path, evidence string
			abis           []string
		}
		var order []string
		groups := map[string]*group{}
		for i := range sc.app.Native {
			l := &sc.app.Native[i]
			ev, ok := f(l)
			if !ok {
				continue
			}
			key := nativeKey(l.Path)
			g := groups[key]
			if g == nil {
				g = &group{path: l.Path, evidence: ev}
				groups[key] = g
				order = append(order, key)
			} else if l.Path < g.path {
				g.path, g.evidence = l.Path, ev
			}
			g.abis = append(g.abis, nativeABI(l.Path))
		}
		for _, k := range order {
			g := groups[k]
			slices.Sort(g.abis)
			g.abis = slices.Compact(g.abis)
			emit(hit{msg: m.Title + " (" + strings.Join(g.abis, ", ") + ")", loc: Location{File: g.path}, evidence: g.evidence})
		}
	}}
}

// nativeKey identifies a native library across ABIs: the split or
// container prefix and the file name, without the lib/<abi>/ folder.
func nativeKey(p string) string {
	i := strings.Index(p, "lib/")
	if i < 0 {
		return p
	}
	rest := p[i+len("lib/"):]
	if j := strings.IndexByte(rest, '/'); j >= 0 {
		rest = rest[j+1:]
	}
	return p[:i] + rest
}

// nativeABI is the ABI folder of lib/<abi>/<name>.so.
func nativeABI(p string) string {
	i := strings.Index(p, "lib/")
	if i < 0 {
		return ""
	}
	abi, _, _ := strings.Cut(p[i+len("lib/"):], "/")
	return abi
}

func nativeMap(masvs string, cwe int) Mappings {
	return Mappings{MASVS: []string{masvs}, CWE: []int{cwe}, OWASPMobile2016: []string{"M7"}, OWASPMobile2024: []string{"M7"}}
}

func nativeRules() []*rule {
	return []*rule{
		nativeRule(meta("DFS-NATIVE-001", High, high, "Native library not position-independent",
			"The library is not built as position-independent code, so ASLR cannot randomise where it loads and memory bugs are easier to exploit.",
			"Build with -fPIC/-fPIE (the NDK default) and a current NDK.",
			nativeMap("MASVS-CODE-4", 121)), func(l *apk.NativeLib) (string, bool) { return "ET_EXEC / no PIE", !l.PIE }),
		nativeRule(meta("DFS-NATIVE-002", High, high, "Native library with executable stack",
			"The library's stack is executable (no NX), so injected code on the stack can run.",
			"Link with -z noexecstack (the NDK default).",
			nativeMap("MASVS-CODE-4", 119)), func(l *apk.NativeLib) (string, bool) { return "GNU_STACK executable", !l.NX }),
		nativeRule(meta("DFS-NATIVE-003", Medium, med, "Native library without stack canaries",
			"The library has no stack-protector symbols, so stack buffer overflows are not detected.",
			"Compile with -fstack-protector-strong.",
			nativeMap("MASVS-CODE-4", 121)), func(l *apk.NativeLib) (string, bool) { return "no __stack_chk_fail", !l.Canary }),
		nativeRule(meta("DFS-NATIVE-004", Low, high, "Native library without full RELRO",
			"The library's relocation table stays writable (no or partial RELRO), so a memory bug can redirect calls through the GOT.",
			"Link with -Wl,-z,relro,-z,now.",
			nativeMap("MASVS-CODE-4", 119)), func(l *apk.NativeLib) (string, bool) { return "RELRO " + cmpOr(l.RELRO, "none"), l.RELRO != "full" }),
		nativeRule(meta("DFS-NATIVE-005", Low, low, "Native library without FORTIFY",
			"No fortified libc functions (__*_chk) are used, so buffer sizes are not checked at run time.",
			"Compile with -D_FORTIFY_SOURCE=2 and optimisation on.",
			nativeMap("MASVS-CODE-4", 120)), func(l *apk.NativeLib) (string, bool) { return "no __*_chk imports", !l.Fortify }),
		nativeRule(meta("DFS-NATIVE-006", Medium, high, "Native library with RPATH/RUNPATH",
			"The library sets an RPATH or RUNPATH, telling the loader to search extra directories that may be writable by others.",
			"Remove RPATH/RUNPATH from the link flags.",
			nativeMap("MASVS-CODE-4", 426)), func(l *apk.NativeLib) (string, bool) { return "RPATH=" + l.RPath, l.RPath != "" }),
		nativeRule(meta("DFS-NATIVE-007", Low, med, "Native library imports unsafe functions",
			"The library imports libc functions without bounds checking or that run shell commands (strcpy, sprintf, gets, system, …).",
			"Replace them with bounded variants (strlcpy, snprintf) and avoid system().",
			nativeMap("MASVS-CODE-4", 676)), func(l *apk.NativeLib) (string, bool) {
			return strings.Join(l.Dangerous, ", "), len(l.Dangerous) > 0
		}),
		nativeRule(meta("DFS-NATIVE-008", Info, high, "Native library not stripped",
			"The library keeps its symbol table or debug information, which makes reverse engineering easier.",
			"Strip release libraries (the Android Gradle plugin does so by default).",
			nativeMap("MASVS-RESILIENCE-3", 1295)), func(l *apk.NativeLib) (string, bool) { return ".symtab present", !l.Stripped }),
	}
}
