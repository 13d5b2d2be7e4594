package appscan

import (
	"strings"

	"github.com/dfslab/dfslab/internal/apk"
)

// callRule reports every call to one of targets, optionally filtered by when.
func callRule(m RuleMeta, msg string, when func(mc *methodCtx, c *apk.Call) bool, targets ...string) *rule {
	return &rule{RuleMeta: m, calls: targets, onCall: func(mc *methodCtx, c *apk.Call, emit emitFunc) {
		if when == nil || when(mc, c) {
			emit(mc.hit(msg, callText(c)))
		}
	}}
}

// onlyBookkeeping reports whether calls do nothing that could check a
// certificate: none at all, Kotlin's parameter null checks, or logging.
func onlyBookkeeping(calls []apk.Call) bool {
	for _, c := range calls {
		if c.Class != "kotlin.jvm.internal.Intrinsics" && c.Class != "android.util.Log" {
			return false
		}
	}
	return true
}

// appCodeOnly limits a rule to the app's own code: what a library logs or
// where its helpers store files is not the app's decision, and for helpers
// that act for the app (ContextCompat) the app's call is what the finding
// should point at.
func appCodeOnly(r *rule) *rule {
	r.appOnly = true
	return r
}

// argIs returns a filter matching calls whose argument i is the constant true (1).
func argTrue(i int) func(*methodCtx, *apk.Call) bool {
	return func(_ *methodCtx, c *apk.Call) bool { a := arg(c, i); return a.Kind == apk.ValueInt && a.Int != 0 }
}

// argFlags matches calls whose int argument i has any bit of mask set.
func argFlags(i int, mask int64) func(*methodCtx, *apk.Call) bool {
	return func(_ *methodCtx, c *apk.Call) bool { a := arg(c, i); return a.Kind == apk.ValueInt && a.Int&mask != 0 }
}

// overrides reports whether the current method overrides name in a class
// that is or extends/implements base.
func (mc *methodCtx) overrides(base, name string) bool {
	return mc.method.Name == name && mc.scan.isA(mc.class.Name, base)
}

const (
	flagMutable   = 0x02000000 // PendingIntent.FLAG_MUTABLE
	flagImmutable = 0x04000000 // PendingIntent.FLAG_IMMUTABLE
)

func codeRules() []*rule {
	return []*rule{
		{RuleMeta: meta("DFS-CODE-001", Critical, high, "TrustManager accepts every certificate",
			"A class implementing X509TrustManager has a checkServerTrusted that returns without throwing, so any certificate, including an attacker's, is accepted and TLS protects nothing.",
			"Delete the custom TrustManager and use the platform default; for a private CA, configure it in the network security configuration.",
			mp("MASVS-NETWORK-1", 295, "M3", "M5", "T3.2")),
			onMethod: func(mc *methodCtx, emit emitFunc) {
				m := mc.method
				if mc.overrides("javax.net.ssl.X509TrustManager", "checkServerTrusted") && m.Insns > 0 && !m.Throws && onlyBookkeeping(m.Calls) {
					emit(mc.hit("checkServerTrusted never rejects a certificate", "empty checkServerTrusted"))
				}
			}},
		{RuleMeta: meta("DFS-CODE-002", High, high, "HostnameVerifier accepts every host",
			"A HostnameVerifier's verify method always returns true, so a valid certificate for any domain is accepted for the app's servers.",
			"Use the default hostname verifier; never override verify to return true.",
			mp("MASVS-NETWORK-1", 297, "M3", "M5", "T3.2")),
			onMethod: func(mc *methodCtx, emit emitFunc) {
				m := mc.method
				if mc.overrides("javax.net.ssl.HostnameVerifier", "verify") && m.ReturnsConst && m.ConstReturn == 1 {
					emit(mc.hit("verify always returns true", "return true"))
				}
			}},
		{RuleMeta: meta("DFS-CODE-003", High, high, "Allow-all hostname verifier used",
			"The code uses the ALLOW_ALL_HOSTNAME_VERIFIER constant or the AllowAllHostnameVerifier class, which disable hostname checks.",
			"Use the default (strict) hostname verifier.",
			mp("MASVS-NETWORK-1", 297, "M3", "M5", "T3.2")),
			calls:  []string{"org.apache.http.conn.ssl.AllowAllHostnameVerifier.<init>"},
			onCall: func(mc *methodCtx, c *apk.Call, emit emitFunc) { emit(mc.hit("", callText(c))) },
			onMethod: func(mc *methodCtx, emit emitFunc) {
				for _, f := range mc.method.StaticGets {
					if strings.HasSuffix(f, ".ALLOW_ALL_HOSTNAME_VERIFIER") {
						emit(mc.hit("", f))
					}
				}
			}},
		{RuleMeta: meta("DFS-CODE-004", Critical, high, "WebView ignores TLS errors",
			"A WebViewClient's onReceivedSslError calls SslErrorHandler.proceed(), so pages load over broken or intercepted TLS.",
			"Call handler.cancel() (the default) and fix the server certificate instead.",
			mp("MASVS-NETWORK-1", 295, "M3", "M5", "T3.2")),
			onMethod: func(mc *methodCtx, emit emitFunc) {
				if mc.overrides("android.webkit.WebViewClient", "onReceivedSslError") && mc.calls("android.webkit.SslErrorHandler.proceed") {
					emit(mc.hit("onReceivedSslError proceeds", "SslErrorHandler.proceed()"))
				}
			}},
		callRule(meta("DFS-CODE-005", Medium, med, "JavaScript enabled in WebView",
			"setJavaScriptEnabled(true) lets any page loaded in the WebView run scripts in the app; with untrusted or cleartext content this is cross-site scripting inside the app.",
			"Keep JavaScript off unless required, and load only trusted https content when it is on.",
			mp("MASVS-PLATFORM-2", 79, "M1", "M4")), "WebView JavaScript enabled", argTrue(0), "android.webkit.WebSettings.setJavaScriptEnabled"),
		callRule(meta("DFS-CODE-006", High, med, "JavaScript interface exposed to WebView",
			"addJavascriptInterface exposes Java objects to page scripts; any script in the WebView, including injected ones, can call them.",
			"Avoid JavaScript bridges, or expose minimal methods and load only trusted https origins.",
			mp("MASVS-PLATFORM-2", 749, "M1", "M4")), "Java object exposed to JavaScript", nil, "android.webkit.WebView.addJavascriptInterface"),
		callRule(meta("DFS-CODE-007", High, high, "WebView file URLs may read other files",
			"setAllowFileAccessFromFileURLs(true) or setAllowUniversalAccessFromFileURLs(true) lets a file:// page read other local files or any origin, a route to stealing app data.",
			"Leave both settings false (their default since API 16).",
			mp("MASVS-PLATFORM-2", 200, "M1", "M4")), "file URL access widened", argTrue(0),
			"android.webkit.WebSettings.setAllowFileAccessFromFileURLs", "android.webkit.WebSettings.setAllowUniversalAccessFromFileURLs"),
		callRule(meta("DFS-CODE-008", Low, med, "WebView file access enabled",
			"setAllowFileAccess(true) lets the WebView open file:// URLs from the app's storage.",
			"Call setAllowFileAccess(false) and load local content through WebViewAssetLoader.",
			mp("MASVS-PLATFORM-2", 200, "M1", "M4")), "WebView file access enabled", argTrue(0), "android.webkit.WebSettings.setAllowFileAccess"),
		{RuleMeta: meta("DFS-CODE-009", High, med, "SQL built by string concatenation",
			"rawQuery or execSQL receives a statement built by concatenating strings; input in it can change the SQL (injection).",
			"Use ? placeholders with selectionArgs or bindArgs, or a query builder.",
			mp("MASVS-CODE-4", 89, "M7", "M4")),
			calls: []string{"android.database.sqlite.SQLiteDatabase.rawQuery", "android.database.sqlite.SQLiteDatabase.execSQL",
				"net.sqlcipher.database.SQLiteDatabase.rawQuery", "net.sqlcipher.database.SQLiteDatabase.execSQL"},
			onCall: func(mc *methodCtx, c *apk.Call, emit emitFunc) {
				a := arg(c, 0)
				built := a.Kind == apk.ValueConcat || (a.Kind == apk.ValueUnknown && (mc.calls("java.lang.StringBuilder.append") || mc.calls("java.lang.String.concat") || mc.calls("java.lang.String.format")))
				// Constant pieces and numbers ("SELECT … FROM " + TABLE +
				// " LIMIT " + n) cannot change the statement's structure.
				if built && !mc.constantBuild(c) {
					emit(mc.hit("SQL statement built from strings", callText(c)))
				}
			}},
		callRule(meta("DFS-CODE-010", High, high, "World-readable or world-writable file mode",
			"A file or preferences store is opened with MODE_WORLD_READABLE or MODE_WORLD_WRITEABLE, so any app can read or change it.",
			"Use MODE_PRIVATE and share through a FileProvider with explicit grants.",
			mp("MASVS-STORAGE-2", 732, "M2", "M9")), "world-accessible file mode", argFlags(1, 3),
			"android.content.Context.openFileOutput", "android.content.Context.getSharedPreferences", "android.content.Context.getDir",
			"android.content.Context.openOrCreateDatabase"),
		appCodeOnly(callRule(meta("DFS-CODE-011", Medium, med, "Writes to external storage",
			"The code uses shared external storage paths; other apps with storage access can read or replace these files.",
			"Keep sensitive files in internal storage (getFilesDir) and encrypt anything that must leave it.",
			mp("MASVS-STORAGE-2", 922, "M2", "M9", "T2.1")), "external storage used", nil,
			"android.os.Environment.getExternalStorageDirectory", "android.os.Environment.getExternalStoragePublicDirectory",
			"android.content.Context.getExternalFilesDir", "android.content.Context.getExternalCacheDir",
			"androidx.core.content.ContextCompat.getExternalFilesDirs", "androidx.core.content.ContextCompat.getExternalCacheDirs",
			"android.support.v4.content.ContextCompat.getExternalFilesDirs", "android.support.v4.content.ContextCompat.getExternalCacheDirs")),
		appCodeOnly(callRule(meta("DFS-CODE-012", Low, low, "Logging calls",
			"The app's own code writes values to the system log (messages built at run time, not constant text); on older devices and through adb, logs are readable and often leak tokens, phone numbers or transaction data.",
			"Strip verbose, debug and info logging from release builds (R8 rules) and never log sensitive values.",
			mp("MASVS-STORAGE-2", 532, "M2", "M9")), "writes run-time values to logcat",
			// A constant message ("request started") carries no data.
			func(_ *methodCtx, c *apk.Call) bool { return arg(c, 1).Kind != apk.ValueString },
			"android.util.Log.d", "android.util.Log.v", "android.util.Log.i", "android.util.Log.w", "android.util.Log.e", "android.util.Log.wtf")),
		appCodeOnly(callRule(meta("DFS-CODE-013", Low, med, "Copies data to the clipboard",
			"Text placed on the clipboard is readable by other apps (and by keyboards), a leak for account numbers, OTPs and PINs.",
			"Avoid copying sensitive values; on Android 13+ mark clips sensitive with ClipDescription.EXTRA_IS_SENSITIVE.",
			mp("MASVS-PLATFORM-3", 200, "M2", "M9")), "clipboard write", nil, "android.content.ClipboardManager.setPrimaryClip", "android.text.ClipboardManager.setText")),
		callRule(meta("DFS-CODE-014", High, med, "Dynamic code loading",
			"The app loads DEX code at run time; if that code comes from storage or the network, an attacker who can replace it runs code inside the app.",
			"Ship all code in the APK; if dynamic loading is unavoidable, load only from app-private storage and verify a signature first.",
			mp("MASVS-CODE-4", 94, "M8", "M2")), "loads code at run time", nil,
			"dalvik.system.DexClassLoader.<init>", "dalvik.system.InMemoryDexClassLoader.<init>", "dalvik.system.PathClassLoader.<init>", "dalvik.system.DexFile.loadDex"),
		callRule(meta("DFS-CODE-015", Medium, med, "Executes OS commands",
			"Runtime.exec or ProcessBuilder runs shell commands; commands built from input enable command injection, and the calls are common in root-tool abuse.",
			"Avoid shelling out; use platform APIs. Never pass untrusted input to a command.",
			mp("MASVS-CODE-4", 78, "M7", "M4")), "runs an OS command", nil, "java.lang.Runtime.exec", "java.lang.ProcessBuilder.<init>"),
		callRule(meta("DFS-CODE-016", High, med, "Mutable PendingIntent",
			"A PendingIntent is created with FLAG_MUTABLE; an app that receives it can change the wrapped intent and act with this app's identity and permissions.",
			"Use FLAG_IMMUTABLE unless the intent must be filled in, and then wrap an explicit intent.",
			mp("MASVS-PLATFORM-1", 927, "M1", "M8")), "mutable PendingIntent", argFlags(3, flagMutable),
			"android.app.PendingIntent.getActivity", "android.app.PendingIntent.getService", "android.app.PendingIntent.getBroadcast", "android.app.PendingIntent.getForegroundService"),
		callRule(meta("DFS-CODE-017", Medium, low, "PendingIntent wraps an implicit intent",
			"A PendingIntent is built in a method that creates an intent from an action only (no component or package), so another app may receive it and use the granted identity.",
			"Make the wrapped intent explicit (setClass, setComponent or setPackage) and immutable.",
			mp("MASVS-PLATFORM-1", 927, "M1", "M8")), "PendingIntent over an implicit intent",
			func(mc *methodCtx, c *apk.Call) bool {
				if a := arg(c, 3); a.Kind == apk.ValueInt && a.Int&flagImmutable != 0 {
					return false
				}
				implicit := false
				for _, k := range mc.method.Calls {
					if k.Class == "android.content.Intent" && k.Name == "<init>" {
						if len(k.Args) == 1 && k.Args[0].Kind == apk.ValueString {
							implicit = true
						} else if len(k.Args) >= 2 {
							return false
						}
					}
					if k.Class == "android.content.Intent" && (k.Name == "setClass" || k.Name == "setComponent" || k.Name == "setPackage" || k.Name == "setClassName") {
						return false
					}
				}
				return implicit
			},
			"android.app.PendingIntent.getActivity", "android.app.PendingIntent.getService", "android.app.PendingIntent.getBroadcast"),
		appCodeOnly(callRule(meta("DFS-CODE-018", Medium, med, "Broadcast sent without a receiver permission",
			"sendBroadcast is called without a receiverPermission, so any app registered for the action receives the intent and its extras.",
			"Pass a signature permission to sendBroadcast, set an explicit package, or use in-process mechanisms.",
			mp("MASVS-PLATFORM-1", 927, "M1", "M8")), "broadcast without permission",
			func(mc *methodCtx, c *apk.Call) bool {
				// An intent given a package or component before it is sent
				// reaches that app only.
				if mc.explicitIntent() {
					return false
				}
				return len(c.Args) < 2 || (arg(c, 1).Kind == apk.ValueInt && arg(c, 1).Int == 0) // absent or null
			},
			"android.content.Context.sendBroadcast", "android.content.Context.sendOrderedBroadcast", "android.content.Context.sendStickyBroadcast")),
		appCodeOnly(callRule(meta("DFS-CODE-019", Low, low, "Receiver registered without permission",
			"registerReceiver is called without a broadcastPermission, so any app can send this receiver intents.",
			"Pass a permission, use RECEIVER_NOT_EXPORTED (Android 13+), or ContextCompat.registerReceiver with the right flag.",
			mp("MASVS-PLATFORM-1", 925, "M1", "M8")), "dynamic receiver without permission",
			func(_ *methodCtx, c *apk.Call) bool {
				// registerReceiver(null, filter) reads a sticky broadcast
				// (the battery state) and registers nothing.
				r := arg(c, 0)
				return len(c.Args) == 2 && !(r.Kind == apk.ValueInt && r.Int == 0)
			},
			"android.content.Context.registerReceiver")),
		appCodeOnly(&rule{RuleMeta: meta("DFS-CODE-020", Medium, med, "Plain HTTP endpoint in code",
			"The code contains an http:// URL, written out or built at run time (\"http://\" + host + …); requests to it are unencrypted and can be read or changed in transit.",
			"Use https:// for every endpoint and forbid cleartext in the network security configuration.",
			mp("MASVS-NETWORK-1", 319, "M3", "M5", "T3.1")),
			onString: func(mc *methodCtx, s string, emit emitFunc) {
				if isPlainHTTP(s) {
					emit(mc.hit("cleartext URL", quote(s, 120)))
				}
			},
			onMethod: func(mc *methodCtx, emit emitFunc) {
				// A URL whose host is added at run time: the literal
				// "http://" alone is no URL for onString, but the string
				// built from it is one.
				seen := ""
				report := func(v apk.Value) {
					if v.Kind == apk.ValueConcat && strings.HasPrefix(v.Str, "http://"+apk.ConcatHole) && v.Str != seen {
						seen = v.Str
						emit(mc.hit("cleartext URL built at run time", concatText(v.Str)))
					}
				}
				for i := range mc.method.Calls {
					for _, a := range mc.method.Calls[i].Args {
						report(a)
					}
				}
				for _, w := range mc.method.FieldWrites {
					report(w.Value)
				}
			}}),
		callRule(meta("DFS-CODE-021", Medium, high, "WebView debugging enabled",
			"WebView.setWebContentsDebuggingEnabled(true) lets anyone with USB access inspect and script the app's WebViews.",
			"Enable it only in debug builds (guard with BuildConfig.DEBUG).",
			mp("MASVS-RESILIENCE-4", 489, "M10", "M8")), "WebView debugging on", argTrue(0), "android.webkit.WebView.setWebContentsDebuggingEnabled"),
		callRule(meta("DFS-CODE-022", Critical, high, "Insecure SSL socket factory",
			"SSLCertificateSocketFactory.getInsecure returns a factory that skips all certificate checks.",
			"Use SSLCertificateSocketFactory.getDefault or the platform SSLSocketFactory.",
			mp("MASVS-NETWORK-1", 295, "M3", "M5", "T3.2")), "certificate checks disabled", nil, "android.net.SSLCertificateSocketFactory.getInsecure"),
		callRule(meta("DFS-CODE-023", Medium, high, "Outdated TLS/SSL protocol requested",
			"SSLContext.getInstance asks for SSL or TLS 1.0/1.1, protocols with known weaknesses that current servers reject.",
			"Request \"TLS\" (the platform negotiates 1.2/1.3) or \"TLSv1.2\"/\"TLSv1.3\".",
			mp("MASVS-NETWORK-1", 326, "M3", "M5", "T3.1")), "weak TLS version",
			func(_ *methodCtx, c *apk.Call) bool {
				a := arg(c, 0)
				return a.Kind == apk.ValueString && (strings.HasPrefix(a.Str, "SSL") || a.Str == "TLSv1" || a.Str == "TLSv1.1")
			}, "javax.net.ssl.SSLContext.getInstance"),
		callRule(meta("DFS-CODE-024", Medium, med, "Sends SMS from code",
			"SmsManager sends text messages without user interaction, which can cost money or trigger SMS-based transactions.",
			"Let the user send messages through an SMS intent.",
			mp("MASVS-PLATFORM-1", 250, "M1", "M6", "T1.4")), "sends SMS", nil,
			"android.telephony.SmsManager.sendTextMessage", "android.telephony.SmsManager.sendMultipartTextMessage", "android.telephony.SmsManager.sendDataMessage"),
		{RuleMeta: meta("DFS-CODE-025", High, med, "Reads the SMS inbox",
			"The code queries the SMS content provider (content://sms), which exposes every message and one-time password on the device.",
			"Do not read the SMS store; use the SMS Retriever API for OTPs.",
			mp("MASVS-PRIVACY-1", 359, "M1", "M6", "T1.4")),
			onString: func(mc *methodCtx, s string, emit emitFunc) {
				if strings.HasPrefix(s, "content://sms") {
					emit(mc.hit("reads SMS content provider", quote(s, 60)))
				}
			}},
		callRule(meta("DFS-CODE-026", Medium, med, "Runs USSD requests from code",
			"TelephonyManager.sendUssdRequest runs USSD codes without the dialler; on USSD-based mobile money this can move funds without the user seeing it.",
			"Let the user dial USSD codes through ACTION_DIAL.",
			mp("MASVS-PLATFORM-1", 250, "M1", "M6", "T1.4")), "USSD from code", nil, "android.telephony.TelephonyManager.sendUssdRequest"),
		callRule(meta("DFS-CODE-027", Low, med, "Reads hardware device identifiers",
			"The app reads the IMEI, MEID, serial number or subscriber ID; these permanent identifiers track users across resets and apps.",
			"Use a per-install identifier or the advertising ID within its policy.",
			mp("MASVS-PRIVACY-1", 359, "M1", "M6")), "reads a device identifier", nil,
			"android.telephony.TelephonyManager.getDeviceId", "android.telephony.TelephonyManager.getImei", "android.telephony.TelephonyManager.getMeid",
			"android.telephony.TelephonyManager.getSubscriberId", "android.telephony.TelephonyManager.getSimSerialNumber", "android.os.Build.getSerial"),
		appCodeOnly(callRule(meta("DFS-CODE-028", Low, low, "Temporary file creation",
			"File.createTempFile creates files that may land in shared locations and outlive the session; sensitive data written there can leak.",
			"Create temporary files under getCacheDir() and delete them after use.",
			mp("MASVS-STORAGE-2", 377, "M2", "M9")), "temporary file", nil, "java.io.File.createTempFile")),
	}
}

// explicitIntent reports whether the current method makes an intent
// explicit: setPackage, setComponent, setClass or setClassName, or the
// Intent(Context, Class) constructor.
func (mc *methodCtx) explicitIntent() bool {
	for _, k := range mc.method.Calls {
		if k.Class != "android.content.Intent" {
			continue
		}
		switch k.Name {
		case "setPackage", "setComponent", "setClass", "setClassName", "setSelector":
			return true
		case "<init>":
			if strings.Contains(k.Descriptor, "Ljava/lang/Class;") {
				return true
			}
		}
	}
	return false
}

// constantBuild reports whether the string passed to call c is built only
// from constants and numbers: every StringBuilder append (and the
// builder's initial string) between the builder's creation and c takes a
// constant string or a primitive. The look-back ignores branches, as the
// value analysis does.
func (mc *methodCtx) constantBuild(c *apk.Call) bool {
	calls := mc.method.Calls
	at := -1
	for i := range calls {
		if &calls[i] == c {
			at = i
			break
		}
	}
	if at < 0 {
		return false
	}
	pieces := 0
	for i := at - 1; i >= 0; i-- {
		k := &calls[i]
		if k.Class != "java.lang.StringBuilder" && k.Class != "java.lang.StringBuffer" {
			if k.Class == "java.lang.String" && (k.Name == "concat" || k.Name == "format" || k.Name == "valueOf") {
				return false
			}
			continue
		}
		switch k.Name {
		case "append", "<init>":
			if len(k.Args) == 1 && !constantPiece(k.Args[0], k.Descriptor) {
				return false
			}
			pieces++
			if k.Name == "<init>" {
				return pieces > 0
			}
		}
	}
	return false
}

// constantPiece reports whether an appended value cannot carry text from
// outside: a string constant, or any primitive (an int, a boolean).
func constantPiece(v apk.Value, desc string) bool {
	if v.Kind == apk.ValueString {
		return true
	}
	if len(desc) >= 3 && desc[0] == '(' && desc[2] == ')' {
		switch desc[1] {
		case 'I', 'J', 'Z', 'S', 'B', 'C', 'F', 'D':
			return true
		}
	}
	return false
}

// isPlainHTTP matches http:// URLs to real hosts, not XML namespaces or
// local addresses, which are what most http:// strings in apps are.
func isPlainHTTP(s string) bool {
	if !strings.HasPrefix(s, "http://") || len(s) < 12 || strings.ContainsAny(s, " \n") {
		return false
	}
	host := s[len("http://"):]
	if i := strings.IndexAny(host, "/:?#"); i >= 0 {
		host = host[:i]
	}
	if host == "" || !strings.Contains(host, ".") || strings.ContainsAny(host, "%{}<>") {
		return false
	}
	for _, benign := range []string{"schemas.android.com", "www.w3.org", "ns.adobe.com", "xmlpull.org", "localhost", "127.0.0.1", "10.0.2.2",
		"xml.org", "xmlns.com", "purl.org", "schemas.xmlsoap.org", "www.apache.org", "apache.org", "json-schema.org", "example.com", "www.example.com", "schemas.microsoft.com", "java.sun.com"} {
		if host == benign {
			return false
		}
	}
	return true
}

// concatText renders a string built at run time for evidence:
// "http://" + … + "/api".
func concatText(tpl string) string {
	var parts []string
	for i, p := range strings.Split(tpl, apk.ConcatHole) {
		if i > 0 {
			parts = append(parts, "…")
		}
		if p != "" {
			parts = append(parts, quote(p, 60))
		}
	}
	return strings.Join(parts, " + ")
}
