package appscan

import (
	"regexp"
	"slices"
	"strings"

	"github.com/dfslab/dfslab/internal/apk"
)

// exportedClass reports whether class is an exported component of the app
// that no permission guards: code in it runs for any app that asks.
func (sc *scanCtx) exportedClass(class string) bool {
	for i := range sc.man.Application.Components {
		c := &sc.man.Application.Components[i]
		if c.Name == class && sc.unprotectedExport(c) {
			return true
		}
	}
	return false
}

// filterRule reports components with an intent filter that match accepts.
func filterRule(m RuleMeta, match func(f *apk.IntentFilter) (string, bool)) *rule {
	return &rule{RuleMeta: m, check: func(sc *scanCtx, emit emitFunc) {
		for i := range sc.man.Application.Components {
			c := &sc.man.Application.Components[i]
			for j := range c.Filters {
				if ev, ok := match(&c.Filters[j]); ok {
					emit(hit{loc: compLoc(c), evidence: ev})
					break
				}
			}
		}
	}}
}

// sensitiveExtra reports whether an extra's name suggests it carries
// credentials or account data.
func sensitiveExtra(name string) bool {
	return containsFold(name, "password", "passwd", "pin", "otp", "token", "secret", "session", "account", "balance", "card", "cvv", "iban", "msisdn")
}

var ipLiteral = regexp.MustCompile(`^(?:[a-z][a-z0-9+.\-]*://)?((?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3})(?::\d{1,5})?(?:/\S*)?$`)

// disclosedIP returns the IP address a string names, unless it is one
// that says nothing about the app's infrastructure.
func disclosedIP(s string) (string, bool) {
	if len(s) < 7 || len(s) > 200 || s[0] < '0' && !strings.Contains(s, "://") {
		return "", false
	}
	m := ipLiteral.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	ip := m[1]
	for _, benign := range []string{"0.", "127.", "255.", "10.0.2.", "1.1.1.1", "8.8.8.8", "8.8.4.4", "224.", "239."} {
		if strings.HasPrefix(ip, benign) || ip == benign {
			return "", false
		}
	}
	// A bare four-part number is as often a version ("1.2.3.4") as an
	// address: only a URL, or an address with a port, counts.
	if !strings.Contains(s, "://") && !strings.Contains(s, ":") {
		return "", false
	}
	return ip, true
}

// packers are the markers of commercial packers and protectors, as APKiD
// recognises them: files inside the app and class name prefixes.
var packers = []struct {
	name  string
	files []string
	class []string
}{
	{"Jiagu (Qihoo 360)", []string{"libjiagu.so", "libjiagu_x86.so", "libjiagu_a64.so"}, []string{"com.stub.StubApp", "com.qihoo.util."}},
	{"Bangcle (SecNeo)", []string{"libsecexe.so", "libsecmain.so", "bangcle_classes.jar"}, []string{"com.secneo.apkwrapper."}},
	{"Ijiami", []string{"libexec.so", "libexecmain.so", "ijiami.dat"}, []string{"com.shell.SuperApplication"}},
	{"Tencent Legu", []string{"libshella.so", "libshellx.so", "tencent_stub"}, []string{"com.tencent.StubShell."}},
	{"Baidu protection", []string{"libbaiduprotect.so", "baiduprotect.jar"}, []string{"com.baidu.protect."}},
	{"DexProtector", []string{"libdexprotector.so", "classes.dex.dat"}, []string{"com.licel.dexprotector."}},
	{"DexGuard", nil, []string{"com.guardsquare.dexguard.", "dexguard.runtime."}},
	{"AppSealing", []string{"libcovault-appsec.so"}, []string{"com.inka.appsealing."}},
	{"Promon Shield", []string{"libshield.so"}, []string{"no.promon.shield."}},
	{"Arxan / Digital.ai", nil, []string{"com.arxan."}},
}

func platformRules() []*rule {
	return []*rule{
		appCodeOnly(&rule{RuleMeta: meta("DFS-CODE-029", High, low, "Java deserialization of untrusted data",
			"ObjectInputStream.readObject turns a byte stream into objects of any Serializable class on the class path; fed from a file, an intent or the network, crafted data runs the side effects of those classes (gadget chains).",
			"Exchange data as JSON or protocol buffers with explicit types; if Java serialization cannot be avoided, subclass ObjectInputStream and allow only the expected classes in resolveClass (or use an ObjectInputFilter).",
			mp("MASVS-CODE-4", 502, "M7", "M4")),
			calls: []string{"java.io.ObjectInputStream.readObject", "java.io.ObjectInputStream.readUnshared"},
			onCall: func(mc *methodCtx, c *apk.Call, emit emitFunc) {
				// A subclass of ObjectInputStream is where an allow-list
				// lives; reading from it is the fix, not the flaw.
				// A method handed the stream (a class's own readObject)
				// restores its fields; the flaw is where the stream is
				// opened on untrusted bytes.
				if mc.scan.isA(mc.class.Name, "java.io.ObjectInputStream") || strings.Contains(mc.method.Descriptor, "Ljava/io/ObjectInputStream;") {
					return
				}
				emit(mc.hit("", callText(c)))
			}}),
		appCodeOnly(&rule{RuleMeta: meta("DFS-CODE-030", High, med, "Intent redirection",
			"An exported component takes an Intent from the extras of the intent that started it (getParcelableExtra) and starts it: any app can then reach the app's private components, and the content providers it grants URI permissions on, through it.",
			"Do not launch intents received from other apps; if you must, check the target component with resolveActivity against an allow-list of your own components and strip URI grant flags, or use a PendingIntent.",
			mp("MASVS-PLATFORM-1", 940, "M1", "M4")),
			onMethod: func(mc *methodCtx, emit emitFunc) {
				if !mc.scan.exportedClass(mc.class.Name) || !mc.calls("android.content.Intent.getParcelableExtra") {
					return
				}
				for _, t := range []string{"android.content.Context.startActivity", "android.app.Activity.startActivity", "android.app.Activity.startActivityForResult",
					"android.content.Context.startService", "android.content.Context.sendBroadcast", "android.app.Activity.setResult"} {
					if c := mc.findCall(t); c != nil {
						emit(mc.hit("intent from getParcelableExtra started by an exported component", callText(c)))
						return
					}
				}
			}}),
		appCodeOnly(&rule{RuleMeta: meta("DFS-CODE-031", Medium, low, "Sensitive data in an implicit intent",
			"An intent addressed by action only (no package or component) carries an extra whose name suggests credentials or account data; any app with a matching intent filter receives it.",
			"Address intents explicitly (setPackage or setComponent) or keep sensitive data out of them.",
			mp("MASVS-PLATFORM-1", 927, "M1", "M6")),
			calls: []string{"android.content.Intent.putExtra"},
			onCall: func(mc *methodCtx, c *apk.Call, emit emitFunc) {
				k := arg(c, 0)
				if k.Kind != apk.ValueString || !sensitiveExtra(k.Str) {
					return
				}
				implicit := false
				for i := range mc.method.Calls {
					x := &mc.method.Calls[i]
					if x.Class == "android.content.Intent" && x.Name == "<init>" && len(x.Args) == 1 && x.Args[0].Kind == apk.ValueString {
						implicit = true
					}
				}
				if implicit && !mc.calls("android.content.Intent.setPackage") && !mc.calls("android.content.Intent.setComponent") &&
					!mc.calls("android.content.Intent.setClass") && !mc.calls("android.content.Intent.setClassName") {
					emit(mc.hit("extra "+quote(k.Str, 40)+" in an implicit intent", callText(c)))
				}
			}}),
		callRule(meta("DFS-CODE-032", High, high, "Code of another package loaded",
			"createPackageContext with CONTEXT_INCLUDE_CODE (and CONTEXT_IGNORE_SECURITY) loads another app's code into this one; whoever can install a package of that name runs code with the app's identity.",
			"Do not load code from other packages; if a plug-in is unavoidable, verify the signing certificate of the package before loading it.",
			mp("MASVS-CODE-4", 94, "M7", "M4")), "another package's code loaded", argFlags(1, 0x1),
			"android.content.Context.createPackageContext"),
		callRule(meta("DFS-CODE-033", High, med, "Jackson default typing enabled",
			"ObjectMapper.enableDefaultTyping or activateDefaultTyping lets JSON name the class to instantiate; with a gadget class on the class path, crafted JSON runs code.",
			"Remove default typing; use explicit types, or a PolymorphicTypeValidator that allows only your own classes.",
			mp("MASVS-CODE-4", 502, "M7", "M4")), "polymorphic deserialization", nil,
			"com.fasterxml.jackson.databind.ObjectMapper.enableDefaultTyping", "com.fasterxml.jackson.databind.ObjectMapper.activateDefaultTyping",
			"com.fasterxml.jackson.databind.ObjectMapper.enableDefaultTypingAsProperty"),
		appCodeOnly(callRule(meta("DFS-CODE-034", Low, med, "Clipboard listener",
			"The app listens to every clipboard change (addPrimaryClipChangedListener); what users copy (passwords, OTPs, account numbers) is read whenever it changes.",
			"Read the clipboard only when the user pastes; remove the listener.",
			mp("MASVS-PLATFORM-3", 200, "M1", "M6")), "clipboard listener", nil,
			"android.content.ClipboardManager.addPrimaryClipChangedListener")),
		appCodeOnly(&rule{RuleMeta: meta("DFS-CODE-035", Info, med, "IP address in code",
			"The code names a server by its IP address; it discloses infrastructure, and a fixed address cannot be moved behind TLS certificates for a name.",
			"Use host names with TLS, configured per build type.",
			mp("MASVS-CODE-4", 200, "M10", "M8")),
			onString: func(mc *methodCtx, s string, emit emitFunc) {
				if ip, ok := disclosedIP(s); ok {
					emit(mc.hit("IP address "+ip, quote(s, 80)))
				}
			}}),
		callRule(meta("DFS-CODE-036", High, med, "WebView loads files from external storage",
			"A WebView loads a file:// URL from shared storage (/sdcard, /storage, getExternalStorageDirectory), which any app with storage access can replace with a page that runs in the app's WebView.",
			"Load local content from the app's assets through WebViewAssetLoader; never from shared storage.",
			mp("MASVS-PLATFORM-2", 829, "M1", "M4")), "WebView loads a file from shared storage",
			func(mc *methodCtx, c *apk.Call) bool {
				a := arg(c, 0)
				switch a.Kind {
				case apk.ValueString:
					return strings.HasPrefix(a.Str, "file:///sdcard") || strings.HasPrefix(a.Str, "file:///storage") || strings.HasPrefix(a.Str, "file:///mnt/sdcard")
				case apk.ValueConcat:
					return strings.HasPrefix(a.Str, "file://") && (mc.calls("android.os.Environment.getExternalStorageDirectory") ||
						mc.calls("android.content.Context.getExternalFilesDir") || mc.calls("android.os.Environment.getExternalStoragePublicDirectory"))
				}
				return false
			}, "android.webkit.WebView.loadUrl"),

		filterRule(meta("DFS-MAN-034", Medium, high, "Secret dialer code",
			"A receiver listens for android.provider.Telephony.SECRET_CODE (android_secret_code://): typing *#*#code#*#* in the dialer, or any app sending that broadcast, opens a hidden function, often a debug or test menu.",
			"Remove secret codes from release builds, or require authentication in what they open.",
			mp("MASVS-CODE-4", 912, "M10", "M7")), func(f *apk.IntentFilter) (string, bool) {
			for _, d := range f.Data {
				if d.Scheme == "android_secret_code" {
					return "android_secret_code://" + d.Host, true
				}
			}
			return "SECRET_CODE", slices.Contains(f.Actions, "android.provider.Telephony.SECRET_CODE")
		}),
		filterRule(meta("DFS-MAN-035", Medium, high, "Data SMS port receiver",
			"A receiver takes binary SMS sent to a port (DATA_SMS_RECEIVED); anyone who knows the number can send it commands or data, outside the user's view.",
			"Do not take commands by SMS; if a data SMS is required, authenticate its content (e.g. a MAC with a server key) and accept it only from expected senders.",
			mp("MASVS-PLATFORM-1", 925, "M1", "M6")), func(f *apk.IntentFilter) (string, bool) {
			if !slices.Contains(f.Actions, "android.intent.action.DATA_SMS_RECEIVED") {
				return "", false
			}
			for _, d := range f.Data {
				if d.Scheme == "sms" {
					return "sms://" + d.Host, true
				}
			}
			return "DATA_SMS_RECEIVED", true
		}),
		filterRule(meta("DFS-MAN-036", Low, med, "Intent filter with the highest priority",
			"An intent filter claims priority 999 or more for an action other than incoming SMS (DFS-MAN-033): the app receives ordered broadcasts first and can abort them, or is preferred over other handlers.",
			"Leave the priority at its default unless the app must act first, and never to hide broadcasts from other apps.",
			mp("MASVS-PLATFORM-1", 925, "M1", "M6")), func(f *apk.IntentFilter) (string, bool) {
			if f.Priority < 999 || slices.Contains(f.Actions, "android.provider.Telephony.SMS_RECEIVED") {
				return "", false
			}
			return "priority=" + itoa(int64(f.Priority)) + " " + strings.Join(f.Actions, ","), true
		}),

		{RuleMeta: meta("DFS-RES-012", Info, med, "Encrypted local storage",
			"Checks whether the app stores data with encryption: SQLCipher databases, Jetpack Security's EncryptedSharedPreferences or EncryptedFile, Realm with an encryption key.",
			"Encrypt sensitive local data with keys from the Android Keystore (Jetpack Security, SQLCipher with a Keystore-wrapped key).",
			resMap("MASVS-STORAGE-1", 311, "M2", "M9")),
			controlName: "Encrypted storage",
			calls: []string{"net.sqlcipher.database.SQLiteDatabase.openOrCreateDatabase", "net.sqlcipher.database.SQLiteDatabase.openDatabase",
				"net.sqlcipher.database.SQLiteDatabase.loadLibs", "net.zetetic.database.sqlcipher.SQLiteDatabase.openOrCreateDatabase",
				"net.zetetic.database.sqlcipher.SupportOpenHelperFactory.<init>", "net.sqlcipher.database.SupportFactory.<init>",
				"androidx.security.crypto.EncryptedSharedPreferences.create", "androidx.security.crypto.EncryptedFile$Builder.<init>",
				"io.realm.RealmConfiguration$Builder.encryptionKey"},
			onCall: anyCall},
		{RuleMeta: meta("DFS-RES-013", Info, high, "Packer or commercial protector",
			"Checks for the markers of commercial packers and protectors (Jiagu, Bangcle, Ijiami, Tencent Legu, DexProtector, DexGuard, AppSealing, Promon, …), as APKiD does. Protection slows reverse engineering; packers also hide code from static scanners, so a clean report of a packed app proves little.",
			"Scan the unprotected build as well; keep protection as a layer over secure code, not instead of it.",
			resMap("MASVS-RESILIENCE-3", 656, "M9", "M7")),
			controlName: "Packer or protector",
			check: func(sc *scanCtx, emit emitFunc) {
				for _, p := range packers {
					for _, f := range sc.app.Files {
						base := f[strings.LastIndexByte(f, '/')+1:]
						if slices.Contains(p.files, base) {
							emit(hit{loc: Location{File: f}, evidence: p.name + ": " + f})
							return
						}
					}
					for i := range sc.app.Classes {
						name := sc.app.Classes[i].Name
						if slices.ContainsFunc(p.class, func(pre string) bool { return strings.HasPrefix(name, pre) }) {
							emit(hit{loc: Location{Class: name}, evidence: p.name + ": " + name})
							return
						}
					}
				}
			}},
		{RuleMeta: meta("DFS-RES-014", Low, low, "No tapjacking protection",
			"Checks whether the app filters touches on screens covered by another window: android:filterTouchesWhenObscured=\"true\" in one of its compiled layouts or in a style or theme of its own (library layouts and styles, such as AppCompat's, do not count), or in code setFilterTouchesWhenObscured(true), onFilterTouchEventForSecurity, or a check of FLAG_WINDOW_IS_OBSCURED. Without it, an overlay can trick the user into confirming a payment.",
			"Set android:filterTouchesWhenObscured=\"true\" (or call setFilterTouchesWhenObscured(true)) on payment and PIN screens, or reject touches flagged FLAG_WINDOW_IS_OBSCURED / FLAG_WINDOW_IS_PARTIALLY_OBSCURED.",
			resMap("MASVS-PLATFORM-3", 1021, "M1", "M4")),
			controlName: "Tapjacking protection", absent: "No screen filters touches when another window covers it.",
			check: func(sc *scanCtx, emit emitFunc) {
				for _, u := range sc.app.TouchFilters {
					if resourceLibrary(u.Name) == "" {
						emit(hit{loc: Location{File: u.File, Element: u.Name}, evidence: `android:filterTouchesWhenObscured="true"`})
					}
				}
			},
			calls: []string{"android.view.View.setFilterTouchesWhenObscured", "android.view.MotionEvent.getFlags"},
			onCall: func(mc *methodCtx, c *apk.Call, emit emitFunc) {
				if c.Name == "getFlags" && !mc.overrides("android.view.View", "onFilterTouchEventForSecurity") && !mc.overrides("android.app.Activity", "dispatchTouchEvent") &&
					!mc.overrides("android.view.View", "dispatchTouchEvent") {
					return
				}
				if c.Name == "setFilterTouchesWhenObscured" && arg(c, 0).Kind == apk.ValueInt && arg(c, 0).Int == 0 {
					return
				}
				emit(mc.hit("", callText(c)))
			},
			onMethod: func(mc *methodCtx, emit emitFunc) {
				if mc.method.Name == "onFilterTouchEventForSecurity" && mc.method.Insns > 0 {
					emit(mc.hit("", mc.class.Name+".onFilterTouchEventForSecurity"))
				}
			}},
	}
}
