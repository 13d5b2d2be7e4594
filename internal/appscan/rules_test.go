package appscan

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/apk"
	"github.com/dfslab/dfslab/internal/apk/apktest"
	"github.com/dfslab/dfslab/internal/apk/axml"
	"github.com/dfslab/dfslab/internal/dex/dexbuild"
)

// Shorthands for the case table.
type app = apktest.App

const (
	perm   = "android.permission."
	worker = "Lcom/example/app/Worker;"
)

func attr(name string, v any) axml.Attr {
	switch x := v.(type) {
	case bool:
		return apktest.A(name, axml.Bool(x))
	case int:
		return apktest.A(name, axml.Int(int32(x)))
	case string:
		return apktest.A(name, axml.Str(x))
	case axml.Value:
		return apktest.A(name, x)
	}
	panic(fmt.Sprintf("attr %T", v))
}

func appAttrs(kv ...any) *app {
	a := &app{}
	for i := 0; i+1 < len(kv); i += 2 {
		a.AppAttrs = append(a.AppAttrs, attr(kv[i].(string), kv[i+1]))
	}
	return a
}

func comps(cs ...*axml.Element) *app { return &app{Components: cs} }

func comp(kind, name string, kv ...any) *axml.Element { return apktest.Component(kind, name, kv) }

func perms(ps ...string) *app {
	a := &app{}
	for _, p := range ps {
		a.Permissions = append(a.Permissions, perm+p)
	}
	return a
}

// nsc attaches a network security configuration with the given children.
func nsc(children ...*axml.Element) *app {
	return &app{
		AppAttrs: []axml.Attr{apktest.A("networkSecurityConfig", apktest.Ref("xml/nsc"))},
		XML:      map[string]*axml.Element{"nsc": apktest.Plain("network-security-config").Append(children...)},
	}
}

func domainCfg(cleartext bool, sub bool, extra ...*axml.Element) *axml.Element {
	return apktest.Plain("domain-config", "cleartextTrafficPermitted", cleartext).
		Append(apktest.Text("domain", "pay.example.org", "includeSubdomains", sub)).Append(extra...)
}

func pinSet(expiration string, n int) *axml.Element {
	p := apktest.Plain("pin-set", "expiration", expiration)
	for i := range n {
		p.Append(apktest.Text("pin", fmt.Sprintf("%043d=", i), "digest", "SHA-256"))
	}
	return p
}

func anchors(src string, override bool) *axml.Element {
	return apktest.Plain("trust-anchors").Append(apktest.Plain("certificates", "src", src, "overridePins", override))
}

// body gives one method of Worker the code fn writes.
func body(fn func(m *dexbuild.Method)) *app {
	return classBody(worker, "", nil, "run", "()V", fn)
}

func classBody(cls, super string, ifaces []string, name, proto string, fn func(m *dexbuild.Method)) *app {
	return &app{Dex: func(b *dexbuild.Builder) {
		c := b.Class(cls)
		if super != "" {
			c.Extends(super)
		}
		if len(ifaces) > 0 {
			c.Implements(ifaces...)
		}
		m := c.Method(name, proto)
		fn(m)
		// A stand-in Activity subclass, to exercise call resolution through
		// app subclasses of framework classes.
		b.Class("Lcom/example/app/Main;").Extends("Landroid/app/Activity;").Method("onResume", "()V").ReturnVoid()
	}}
}

// calls is a method calling ref (dexbuild syntax) with args.
func calls(kind int, ref string, args ...dexbuild.Arg) *app {
	return body(func(m *dexbuild.Method) { m.Call(kind, ref, args...) })
}

func static(ref string, args ...dexbuild.Arg) *app { return calls(dexbuild.InvokeStatic, ref, args...) }

func virtual(ref string, args ...dexbuild.Arg) *app {
	cls, _, _ := strings.Cut(ref, "->")
	return calls(dexbuild.InvokeVirtual, ref, append([]dexbuild.Arg{dexbuild.NewObj(cls)}, args...)...)
}

func ctor(ref string, args ...dexbuild.Arg) *app {
	cls, _, _ := strings.Cut(ref, "->")
	return calls(dexbuild.InvokeDirect, ref, append([]dexbuild.Arg{dexbuild.NewObj(cls)}, args...)...)
}

func str(s string) *app { return body(func(m *dexbuild.Method) { m.ConstString(0, s) }) }

func asset(name, text string) *app { return &app{Files: map[string][]byte{name: []byte(text)}} }

func resString(name, text string) *app { return &app{Strings: map[string]string{name: text}} }

func signed(s apktest.Signature) *app { return &app{Sign: &s} }

func key(mod func(k *apktest.Signature)) *app {
	s := apktest.Signature{V2: true, V3: true}
	mod(&s)
	return &app{Sign: &s}
}

var hardened = apktest.ELF{RELRO: "full", Imports: []string{"__stack_chk_fail", "__memcpy_chk"}}

func lib(mod func(e *apktest.ELF)) *app {
	e := hardened
	e.Imports = slices.Clone(e.Imports)
	mod(&e)
	return &app{Files: map[string][]byte{"lib/arm64-v8a/libpay.so": e.Bytes()}}
}

// with applies changes to an app spec.
func with(a *app, mod func(a *app)) *app { mod(a); return a }

func rep(s string, n int) string { return strings.Repeat(s, n)[:n] }

// mixed is a high-entropy alphanumeric string of length n, deterministic.
func mixed(n int) string {
	const alphabet = "Q7fK2mZ9xW4pL8vR3tY6nB1cJ5hG0dS"
	var b strings.Builder
	for i := range n {
		b.WriteByte(alphabet[(i*7+3)%len(alphabet)])
	}
	return b.String()
}

func hexs(n int) string {
	const h = "0123456789abcdef"
	var b strings.Builder
	for i := range n {
		b.WriteByte(h[(i*5+1)%16])
	}
	return b.String()
}

const (
	cipherGet  = "Ljavax/crypto/Cipher;->getInstance(Ljava/lang/String;)Ljavax/crypto/Cipher;"
	digestGet  = "Ljava/security/MessageDigest;->getInstance(Ljava/lang/String;)Ljava/security/MessageDigest;"
	settings   = "Landroid/webkit/WebSettings;->"
	webView    = "Landroid/webkit/WebView;->"
	pendingGet = "Landroid/app/PendingIntent;->getActivity(Landroid/content/Context;ILandroid/content/Intent;I)Landroid/app/PendingIntent;"
	authX      = "Landroidx/biometric/BiometricPrompt;->authenticate("
	promptInfo = "Landroidx/biometric/BiometricPrompt$PromptInfo;"
)

var (
	s = dexbuild.Str
	i = dexbuild.Int
	o = dexbuild.NewObj
)

type ruleCase struct {
	id       string
	pos, neg *app
}

func ruleCases() []ruleCase {
	exported := func(kind string, withPerm bool) *app {
		kv := []any{"exported", true}
		if withPerm {
			kv = append(kv, "permission", "com.example.app.PRIVATE")
		}
		if kind == "provider" {
			kv = append(kv, "authorities", "com.example.app.data")
		}
		return comps(comp(kind, ".Thing", kv...))
	}
	viewFilter := func(scheme string, verify bool) *app {
		return comps(apktest.Component("activity", ".Link", []any{"exported", true},
			apktest.Filter([]any{"autoVerify", verify}, "action:android.intent.action.VIEW", "category:android.intent.category.DEFAULT",
				"category:android.intent.category.BROWSABLE", "scheme:"+scheme)))
	}
	backup := func(exclude bool) *app {
		rules := apktest.Plain("full-backup-content").Append(apktest.Plain("include", "domain", "sharedpref", "path", "."))
		if exclude {
			rules.Append(apktest.Plain("exclude", "domain", "sharedpref", "path", "secrets.xml"))
		}
		return &app{AppAttrs: []axml.Attr{attr("allowBackup", true), apktest.A("fullBackupContent", apktest.Ref("xml/backup"))},
			XML: map[string]*axml.Element{"backup": rules}}
	}
	trustAll := func(throw bool) *app {
		return classBody("Lcom/example/app/TrustAll;", "", []string{"Ljavax/net/ssl/X509TrustManager;"},
			"checkServerTrusted", "([Ljava/security/cert/X509Certificate;Ljava/lang/String;)V", func(m *dexbuild.Method) {
				if throw {
					m.NewInstance(0, "Ljava/security/cert/CertificateException;").Raw(0x0027) // throw v0
				} else {
					m.ReturnVoid()
				}
			})
	}
	verifier := func(ret int32) *app {
		return classBody("Lcom/example/app/AnyHost;", "", []string{"Ljavax/net/ssl/HostnameVerifier;"},
			"verify", "(Ljava/lang/String;Ljavax/net/ssl/SSLSession;)Z", func(m *dexbuild.Method) { m.Const(0, ret).Return(0, false) })
	}
	sslError := func(method string) *app {
		return classBody("Lcom/example/app/Client;", "Landroid/webkit/WebViewClient;", nil, "onReceivedSslError",
			"(Landroid/webkit/WebView;Landroid/webkit/SslErrorHandler;Landroid/net/http/SslError;)V", func(m *dexbuild.Method) {
				m.CallVirtual("Landroid/webkit/SslErrorHandler;->"+method+"()V", o("Landroid/webkit/SslErrorHandler;"))
			})
	}
	sql := func(concat bool) *app {
		return body(func(m *dexbuild.Method) {
			q := s("SELECT * FROM accounts WHERE id = ?")
			if concat {
				m.CallVirtual("Ljava/lang/StringBuilder;->append(Ljava/lang/String;)Ljava/lang/StringBuilder;", o("Ljava/lang/StringBuilder;"), s("SELECT * FROM accounts WHERE id = "))
				q = o("Ljava/lang/String;")
			}
			m.CallVirtual("Landroid/database/sqlite/SQLiteDatabase;->rawQuery(Ljava/lang/String;[Ljava/lang/String;)Landroid/database/Cursor;",
				o("Landroid/database/sqlite/SQLiteDatabase;"), q, i(0))
		})
	}
	implicitPending := func(explicit bool) *app {
		return body(func(m *dexbuild.Method) {
			if explicit {
				m.CallDirect("Landroid/content/Intent;-><init>(Landroid/content/Context;Ljava/lang/Class;)V", o("Landroid/content/Intent;"), i(0), dexbuild.ClassLit("Lcom/example/app/Main;"))
			} else {
				m.CallDirect("Landroid/content/Intent;-><init>(Ljava/lang/String;)V", o("Landroid/content/Intent;"), s("com.example.app.PAY"))
			}
			m.CallStatic(pendingGet, i(0), i(0), i(0), i(0))
		})
	}
	obfuscated := func(short bool) *app {
		return &app{Dex: func(b *dexbuild.Builder) {
			for _, n := range []string{"a", "b", "c", "d"} {
				if !short {
					n = "PaymentScreen" + n
				}
				b.Class("Lcom/example/app/"+n+";").Method("run", "()V").ReturnVoid()
			}
		}}
	}
	// xorLoop: data[i] ^= key[i], the key a constant string's bytes, or
	// bytes that came in as a parameter.
	xorLoop := func(constKey bool) *app {
		return classBody("Lcom/example/app/Payload;", "", nil, "scramble", "([B[B)V", func(m *dexbuild.Method) {
			m.Locals(5)
			key := m.ParamReg(2)
			if constKey {
				m.ConstString(4, "s3cr3t").Invoke(dexbuild.InvokeVirtual, "Ljava/lang/String;->getBytes()[B", 4).MoveResultObject(4)
				key = 4
			}
			data := m.ParamReg(1)
			m.Const(0, 0).
				Raw(0x0148, uint16(data)|0<<8). // aget-byte v1, data, v0
				Raw(0x0248, uint16(key)|0<<8).  // aget-byte v2, key, v0
				Raw(0x0397, 0x0201).            // xor-int v3, v1, v2
				Raw(0x034f, uint16(data)|0<<8)  // aput-byte v3, data, v0
		})
	}
	// compareIn: method(String input) of cls compares "constant".equals(input)
	// (the constant as the receiver) and, with url, names a server.
	compareIn := func(cls, method, constant, url string) *app {
		return classBody(cls, "", nil, method, "(Ljava/lang/String;)Z", func(m *dexbuild.Method) {
			m.Locals(2).ConstString(0, constant).Invoke(dexbuild.InvokeVirtual, "Ljava/lang/String;->equals(Ljava/lang/Object;)Z", 0, m.ParamReg(1))
			if url != "" {
				m.ConstString(1, url)
			}
		})
	}
	// redirect: an activity (exported or not) starting the intent it got
	// in an extra.
	redirect := func(exported bool) *app {
		a := classBody("Lcom/example/app/Proxy;", "Landroid/app/Activity;", nil, "onCreate", "(Landroid/os/Bundle;)V", func(m *dexbuild.Method) {
			m.CallVirtual("Landroid/content/Intent;->getParcelableExtra(Ljava/lang/String;)Landroid/os/Parcelable;", o("Landroid/content/Intent;"), s("next"))
			m.CallVirtual("Lcom/example/app/Proxy;->startActivity(Landroid/content/Intent;)V", o("Lcom/example/app/Proxy;"), i(0))
		})
		a.Components = []*axml.Element{comp("activity", ".Proxy", "exported", exported)}
		return a
	}
	// implicitExtra: an implicit intent carrying an extra named key.
	implicitExtra := func(key string) *app {
		return body(func(m *dexbuild.Method) {
			m.CallDirect("Landroid/content/Intent;-><init>(Ljava/lang/String;)V", o("Landroid/content/Intent;"), s("com.example.app.PAID"))
			m.CallVirtual("Landroid/content/Intent;->putExtra(Ljava/lang/String;Ljava/lang/String;)Landroid/content/Intent;", o("Landroid/content/Intent;"), s(key), s("x"))
		})
	}
	rsa1024 := func(k *apktest.Signature) { k.Key.Algorithm = "rsa"; k.Key.Bits = 1024 }
	now := time.Now()

	return []ruleCase{
		{"DFS-MAN-001", appAttrs("debuggable", true), appAttrs("debuggable", false)},
		{"DFS-MAN-002", appAttrs("allowBackup", true), appAttrs("allowBackup", false)},
		{"DFS-MAN-003", backup(false), backup(true)},
		{"DFS-MAN-004", appAttrs("usesCleartextTraffic", true), appAttrs("usesCleartextTraffic", false)},
		{"DFS-MAN-005", &app{TargetSDK: 27}, with(appAttrs("usesCleartextTraffic", false), func(a *app) { a.TargetSDK = 27 })},
		{"DFS-MAN-006", exported("activity", false), exported("activity", true)},
		{"DFS-MAN-007", exported("service", false), exported("service", true)},
		{"DFS-MAN-008", exported("receiver", false), exported("receiver", true)},
		{"DFS-MAN-009", exported("provider", false), exported("provider", true)},
		// An implicitly exported component that no permission guards is
		// DFS-MAN-006's (see TestDuplicatesMerged); this one is guarded.
		{"DFS-MAN-010",
			with(comps(apktest.Component("activity", ".Share", []any{"permission", "com.example.app.SHARE"}, apktest.Filter(nil, "action:android.intent.action.SEND"))), func(a *app) { a.TargetSDK = 30 }),
			with(comps(apktest.Component("activity", ".Share", []any{"exported", false}, apktest.Filter(nil, "action:android.intent.action.SEND"))), func(a *app) { a.TargetSDK = 30 })},
		{"DFS-MAN-011", comps(comp("provider", ".Files", "authorities", "x", "grantUriPermissions", true)), comps(comp("provider", ".Files", "authorities", "x", "grantUriPermissions", false))},
		{"DFS-MAN-012", &app{Elements: []*axml.Element{apktest.El("permission", "name", "com.example.app.PAY", "protectionLevel", axml.Hex(0))}},
			&app{Elements: []*axml.Element{apktest.El("permission", "name", "com.example.app.PAY", "protectionLevel", axml.Hex(2))}}},
		{"DFS-MAN-013", comps(comp("activity", ".Pay", "taskAffinity", "com.evil.app")), comps(comp("activity", ".Pay", "taskAffinity", ""))},
		{"DFS-MAN-014", with(comps(comp("activity", ".Pay", "launchMode", 2)), func(a *app) { a.TargetSDK = 27 }),
			with(comps(comp("activity", ".Pay", "launchMode", 1)), func(a *app) { a.TargetSDK = 27 })},
		{"DFS-MAN-015", viewFilter("https://pay.example.org", false), viewFilter("https://pay.example.org", true)},
		{"DFS-MAN-016", viewFilter("mpesa://pay", false), viewFilter("https://pay.example.org", true)},
		{"DFS-MAN-017", appAttrs("testOnly", true), appAttrs("testOnly", false)},
		{"DFS-MAN-018", &app{ManifestAttrs: []axml.Attr{attr("sharedUserId", "com.example.shared")}}, &app{}},
		{"DFS-MAN-019", &app{ManifestAttrs: []axml.Attr{attr("installLocation", 2)}}, &app{ManifestAttrs: []axml.Attr{attr("installLocation", 1)}}},
		{"DFS-MAN-020", &app{MinSDK: 21}, &app{MinSDK: 26}},
		{"DFS-MAN-021", &app{TargetSDK: 30}, &app{TargetSDK: 34}},
		{"DFS-MAN-022", perms("RECEIVE_SMS"), perms("INTERNET")},
		{"DFS-MAN-023", comps(comp("service", ".Helper", "permission", perm+"BIND_ACCESSIBILITY_SERVICE")), comps(comp("service", ".Helper", "permission", perm+"BIND_JOB_SERVICE"))},
		{"DFS-MAN-024", perms("SYSTEM_ALERT_WINDOW"), perms("INTERNET")},
		{"DFS-MAN-025", perms("REQUEST_INSTALL_PACKAGES"), perms("INTERNET")},
		{"DFS-MAN-026", perms("CALL_PHONE"), perms("INTERNET")},
		{"DFS-MAN-027", perms("WRITE_EXTERNAL_STORAGE"), perms("INTERNET")},
		{"DFS-MAN-028", perms("CAMERA", "READ_CONTACTS", "ACCESS_FINE_LOCATION", "RECORD_AUDIO", "READ_PHONE_STATE", "READ_CALL_LOG"), perms("CAMERA", "INTERNET")},
		{"DFS-MAN-029", perms("QUERY_ALL_PACKAGES"), perms("INTERNET")},
		{"DFS-MAN-030", comps(comp("service", ".Otp", "permission", perm+"BIND_NOTIFICATION_LISTENER_SERVICE")), comps(comp("service", ".Otp", "permission", perm+"BIND_JOB_SERVICE"))},
		{"DFS-MAN-031", comps(comp("receiver", ".Admin", "permission", perm+"BIND_DEVICE_ADMIN")), comps(comp("receiver", ".Admin", "permission", "com.example.app.PRIVATE"))},
		{"DFS-MAN-032", perms("SEND_SMS"), perms("INTERNET")},
		{"DFS-MAN-033",
			comps(apktest.Component("receiver", ".Sms", []any{"exported", true, "permission", perm + "BROADCAST_SMS"}, apktest.Filter([]any{"priority", 999}, "action:android.provider.Telephony.SMS_RECEIVED"))),
			comps(apktest.Component("receiver", ".Sms", []any{"exported", true, "permission", perm + "BROADCAST_SMS"}, apktest.Filter(nil, "action:android.provider.Telephony.SMS_RECEIVED")))},

		{"DFS-MAN-034", comps(apktest.Component("receiver", ".Secret", []any{"exported", true}, apktest.Filter(nil, "action:android.provider.Telephony.SECRET_CODE", "scheme:android_secret_code"))),
			comps(apktest.Component("receiver", ".Boot", []any{"exported", true}, apktest.Filter(nil, "action:android.intent.action.BOOT_COMPLETED")))},
		{"DFS-MAN-035", comps(apktest.Component("receiver", ".Cmd", []any{"exported", true}, apktest.Filter(nil, "action:android.intent.action.DATA_SMS_RECEIVED", "scheme:sms"))),
			comps(apktest.Component("receiver", ".Boot", []any{"exported", true}, apktest.Filter(nil, "action:android.intent.action.BOOT_COMPLETED")))},
		{"DFS-MAN-036", comps(apktest.Component("receiver", ".Out", []any{"exported", true}, apktest.Filter([]any{"priority", 1000}, "action:android.intent.action.NEW_OUTGOING_CALL"))),
			comps(apktest.Component("receiver", ".Out", []any{"exported", true}, apktest.Filter([]any{"priority", 10}, "action:android.intent.action.NEW_OUTGOING_CALL")))},
		{"DFS-MAN-037", &app{MinSDK: 24, Components: []*axml.Element{launcher("activity", ".Main")}},
			&app{MinSDK: 24, Components: []*axml.Element{launcher("activity", ".Main", "launchMode", 3)}}},
		{"DFS-NET-001", nsc(apktest.Plain("base-config", "cleartextTrafficPermitted", true)), nsc(apktest.Plain("base-config", "cleartextTrafficPermitted", false))},
		{"DFS-NET-002", nsc(domainCfg(true, false)), nsc(domainCfg(false, false))},
		{"DFS-NET-003", nsc(apktest.Plain("base-config").Append(anchors("user", false))), nsc(apktest.Plain("base-config").Append(anchors("system", false)))},
		{"DFS-NET-004", nsc(domainCfg(false, false, pinSet("2020-01-01", 2))), nsc(domainCfg(false, false, pinSet("2099-01-01", 2)))},
		{"DFS-NET-005", nsc(domainCfg(false, false, pinSet("2099-01-01", 1))), nsc(domainCfg(false, false, pinSet("2099-01-01", 2)))},
		{"DFS-NET-006", nsc(domainCfg(false, false, anchors("system", true))), nsc(domainCfg(false, false, anchors("system", false)))},
		{"DFS-NET-007", nsc(domainCfg(true, true)), nsc(domainCfg(true, false))},

		{"DFS-CODE-001", trustAll(false), trustAll(true)},
		{"DFS-CODE-002", verifier(1), verifier(0)},
		{"DFS-CODE-003",
			body(func(m *dexbuild.Method) {
				m.SGet(0, "Lorg/apache/http/conn/ssl/SSLSocketFactory;->ALLOW_ALL_HOSTNAME_VERIFIER:Lorg/apache/http/conn/ssl/X509HostnameVerifier;")
			}),
			body(func(m *dexbuild.Method) {
				m.SGet(0, "Lorg/apache/http/conn/ssl/SSLSocketFactory;->STRICT_HOSTNAME_VERIFIER:Lorg/apache/http/conn/ssl/X509HostnameVerifier;")
			})},
		{"DFS-CODE-004", sslError("proceed"), sslError("cancel")},
		{"DFS-CODE-005", virtual(settings+"setJavaScriptEnabled(Z)V", i(1)), virtual(settings+"setJavaScriptEnabled(Z)V", i(0))},
		{"DFS-CODE-006", virtual(webView+"addJavascriptInterface(Ljava/lang/Object;Ljava/lang/String;)V", i(0), s("bridge")), virtual(webView+"loadUrl(Ljava/lang/String;)V", s("https://pay.example.org"))},
		{"DFS-CODE-007", virtual(settings+"setAllowUniversalAccessFromFileURLs(Z)V", i(1)), virtual(settings+"setAllowUniversalAccessFromFileURLs(Z)V", i(0))},
		{"DFS-CODE-008", virtual(settings+"setAllowFileAccess(Z)V", i(1)), virtual(settings+"setAllowFileAccess(Z)V", i(0))},
		{"DFS-CODE-009", sql(true), sql(false)},
		// Called on an app Activity subclass: resolution must reach Context.
		{"DFS-CODE-010", virtual("Lcom/example/app/Main;->openFileOutput(Ljava/lang/String;I)Ljava/io/FileOutputStream;", s("pin.txt"), i(1)),
			virtual("Lcom/example/app/Main;->openFileOutput(Ljava/lang/String;I)Ljava/io/FileOutputStream;", s("pin.txt"), i(0))},
		{"DFS-CODE-011", static("Landroid/os/Environment;->getExternalStorageDirectory()Ljava/io/File;"), virtual("Landroid/content/Context;->getFilesDir()Ljava/io/File;")},
		// A message built at run time may carry data; a constant one cannot.
		{"DFS-CODE-012", static("Landroid/util/Log;->d(Ljava/lang/String;Ljava/lang/String;)I", s("Pay"), o("Ljava/lang/String;")),
			static("Landroid/util/Log;->d(Ljava/lang/String;Ljava/lang/String;)I", s("Pay"), s("pin entered"))},
		{"DFS-CODE-013", virtual("Landroid/content/ClipboardManager;->setPrimaryClip(Landroid/content/ClipData;)V", i(0)), virtual("Landroid/content/ClipboardManager;->hasPrimaryClip()Z")},
		{"DFS-CODE-014", ctor("Ldalvik/system/DexClassLoader;-><init>(Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;Ljava/lang/ClassLoader;)V", s("/sdcard/p.dex"), s("/data"), i(0), i(0)),
			static("Ljava/lang/Class;->forName(Ljava/lang/String;)Ljava/lang/Class;", s("com.example.app.Main"))},
		{"DFS-CODE-015", virtual("Ljava/lang/Runtime;->exec(Ljava/lang/String;)Ljava/lang/Process;", s("id")), virtual("Ljava/lang/Runtime;->availableProcessors()I")},
		{"DFS-CODE-016", static(pendingGet, i(0), i(0), i(0), i(0x02000000)), static(pendingGet, i(0), i(0), i(0), i(0x04000000))},
		{"DFS-CODE-017", implicitPending(false), implicitPending(true)},
		{"DFS-CODE-018", virtual("Lcom/example/app/Main;->sendBroadcast(Landroid/content/Intent;)V", i(0)),
			virtual("Lcom/example/app/Main;->sendBroadcast(Landroid/content/Intent;Ljava/lang/String;)V", i(0), s("com.example.app.PRIVATE"))},
		{"DFS-CODE-019", virtual("Landroid/content/Context;->registerReceiver(Landroid/content/BroadcastReceiver;Landroid/content/IntentFilter;)Landroid/content/Intent;", o("Lcom/example/app/Receiver;"), i(0)),
			virtual("Landroid/content/Context;->registerReceiver(Landroid/content/BroadcastReceiver;Landroid/content/IntentFilter;Ljava/lang/String;Landroid/os/Handler;)Landroid/content/Intent;", i(0), i(0), s("com.example.app.PRIVATE"), i(0))},
		{"DFS-CODE-020", str("http://api.pay-example.net/v1/transfer"), str("https://api.pay-example.net/v1/transfer")},
		{"DFS-CODE-021", static(webView+"setWebContentsDebuggingEnabled(Z)V", i(1)), static(webView+"setWebContentsDebuggingEnabled(Z)V", i(0))},
		{"DFS-CODE-022", static("Landroid/net/SSLCertificateSocketFactory;->getInsecure(ILandroid/net/SSLSessionCache;)Ljavax/net/ssl/SSLSocketFactory;", i(0), i(0)),
			static("Landroid/net/SSLCertificateSocketFactory;->getDefault(ILandroid/net/SSLSessionCache;)Ljavax/net/ssl/SSLSocketFactory;", i(0), i(0))},
		{"DFS-CODE-023", static("Ljavax/net/ssl/SSLContext;->getInstance(Ljava/lang/String;)Ljavax/net/ssl/SSLContext;", s("SSLv3")),
			static("Ljavax/net/ssl/SSLContext;->getInstance(Ljava/lang/String;)Ljavax/net/ssl/SSLContext;", s("TLSv1.3"))},
		{"DFS-CODE-024", virtual("Landroid/telephony/SmsManager;->sendTextMessage(Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;Landroid/app/PendingIntent;Landroid/app/PendingIntent;)V", s("+255700000000"), i(0), s("PAY 100"), i(0), i(0)),
			static("Landroid/telephony/SmsManager;->getDefault()Landroid/telephony/SmsManager;")},
		{"DFS-CODE-025", str("content://sms/inbox"), str("content://com.example.app.data/items")},
		{"DFS-CODE-026", virtual("Landroid/telephony/TelephonyManager;->sendUssdRequest(Ljava/lang/String;Landroid/telephony/TelephonyManager$UssdResponseCallback;Landroid/os/Handler;)V", s("*150*00#"), i(0), i(0)),
			virtual("Landroid/telephony/TelephonyManager;->getNetworkOperator()Ljava/lang/String;")},
		{"DFS-CODE-027", virtual("Landroid/telephony/TelephonyManager;->getDeviceId()Ljava/lang/String;"), virtual("Landroid/telephony/TelephonyManager;->getNetworkOperator()Ljava/lang/String;")},
		{"DFS-CODE-028", static("Ljava/io/File;->createTempFile(Ljava/lang/String;Ljava/lang/String;)Ljava/io/File;", s("tx"), s(".tmp")), virtual("Landroid/content/Context;->getCacheDir()Ljava/io/File;")},

		{"DFS-CODE-029", virtual("Ljava/io/ObjectInputStream;->readObject()Ljava/lang/Object;"), virtual("Ljava/io/DataInputStream;->readUTF()Ljava/lang/String;")},
		{"DFS-CODE-030", redirect(true), redirect(false)},
		{"DFS-CODE-031", implicitExtra("pin"), implicitExtra("theme")},
		{"DFS-CODE-032", virtual("Landroid/content/Context;->createPackageContext(Ljava/lang/String;I)Landroid/content/Context;", s("com.example.plugin"), i(3)),
			virtual("Landroid/content/Context;->createPackageContext(Ljava/lang/String;I)Landroid/content/Context;", s("com.example.plugin"), i(0))},
		{"DFS-CODE-033", virtual("Lcom/fasterxml/jackson/databind/ObjectMapper;->enableDefaultTyping()Lcom/fasterxml/jackson/databind/ObjectMapper;"),
			virtual("Lcom/fasterxml/jackson/databind/ObjectMapper;->readTree(Ljava/lang/String;)Lcom/fasterxml/jackson/databind/JsonNode;", s("{}"))},
		{"DFS-CODE-034", virtual("Landroid/content/ClipboardManager;->addPrimaryClipChangedListener(Landroid/content/ClipboardManager$OnPrimaryClipChangedListener;)V", i(0)),
			virtual("Landroid/content/ClipboardManager;->hasPrimaryClip()Z")},
		{"DFS-CODE-035", str("http://196.201.214.20:8080/api"), str("1.2.3.4")},
		{"DFS-CODE-036", virtual(webView+"loadUrl(Ljava/lang/String;)V", s("file:///sdcard/promo/index.html")), virtual(webView+"loadUrl(Ljava/lang/String;)V", s("file:///android_asset/index.html"))},
		{"DFS-CRYPTO-001", static(cipherGet, s("DESede/CBC/PKCS5Padding")), static(cipherGet, s("AES/GCM/NoPadding"))},
		{"DFS-CRYPTO-002", static(cipherGet, s("RC4")), static(cipherGet, s("AES/GCM/NoPadding"))},
		{"DFS-CRYPTO-003", static(cipherGet, s("Blowfish/CBC/PKCS5Padding")), static(cipherGet, s("AES/GCM/NoPadding"))},
		{"DFS-CRYPTO-004", static(cipherGet, s("AES")), static(cipherGet, s("AES/GCM/NoPadding"))},
		{"DFS-CRYPTO-005", ctor("Ljavax/crypto/spec/IvParameterSpec;-><init>([B)V", dexbuild.Bytes(make([]byte, 16))), ctor("Ljavax/crypto/spec/IvParameterSpec;-><init>([B)V", i(0))},
		{"DFS-CRYPTO-006", ctor("Ljavax/crypto/spec/SecretKeySpec;-><init>([BLjava/lang/String;)V", dexbuild.StrBytes("0123456789abcdef"), s("AES")),
			ctor("Ljavax/crypto/spec/SecretKeySpec;-><init>([BLjava/lang/String;)V", i(0), s("AES"))},
		{"DFS-CRYPTO-007", static(digestGet, s("MD5")), static(digestGet, s("SHA-256"))},
		{"DFS-CRYPTO-008", static(digestGet, s("SHA-1")), static(digestGet, s("SHA-256"))},
		{"DFS-CRYPTO-009",
			classBody("Lcom/example/app/TokenFactory;", "", nil, "newOtp", "()V", func(m *dexbuild.Method) {
				m.CallDirect("Ljava/util/Random;-><init>()V", o("Ljava/util/Random;"))
			}),
			classBody("Lcom/example/app/Dice;", "", nil, "roll", "()V", func(m *dexbuild.Method) {
				m.CallDirect("Ljava/util/Random;-><init>()V", o("Ljava/util/Random;"))
			})},
		{"DFS-CRYPTO-010", virtual("Ljava/security/SecureRandom;->setSeed(J)V", i(42)), virtual("Ljava/security/SecureRandom;->nextInt()I")},
		{"DFS-CRYPTO-011", static(cipherGet, s("RSA/ECB/PKCS1Padding")), static(cipherGet, s("RSA/ECB/OAEPWithSHA-256AndMGF1Padding"))},
		{"DFS-CRYPTO-012", ctor("Ljavax/crypto/spec/PBEKeySpec;-><init>([C[BII)V", i(0), i(0), i(1000), i(256)), ctor("Ljavax/crypto/spec/PBEKeySpec;-><init>([C[BII)V", i(0), i(0), i(310000), i(256))},
		{"DFS-CRYPTO-013", static(cipherGet, s("AES/CBC/PKCS5Padding")), static(cipherGet, s("AES/GCM/NoPadding"))},
		{"DFS-CRYPTO-014", static("Ljavax/crypto/Mac;->getInstance(Ljava/lang/String;)Ljavax/crypto/Mac;", s("HmacSHA1")), static("Ljavax/crypto/Mac;->getInstance(Ljava/lang/String;)Ljavax/crypto/Mac;", s("HmacSHA256"))},
		{"DFS-CRYPTO-015", virtual("Ljava/security/KeyPairGenerator;->initialize(I)V", i(1024)), virtual("Ljava/security/KeyPairGenerator;->initialize(I)V", i(3072))},
		{"DFS-CRYPTO-016", static("Ljava/security/Signature;->getInstance(Ljava/lang/String;)Ljava/security/Signature;", s("SHA1withRSA")),
			static("Ljava/security/Signature;->getInstance(Ljava/lang/String;)Ljava/security/Signature;", s("SHA256withRSA"))},
		{"DFS-CRYPTO-017", xorLoop(true), xorLoop(false)},

		{"DFS-SECRET-001", asset("assets/server.pem", "-----BEGIN RSA PRIVATE KEY-----\n"+mixed(64)+"\n-----END RSA PRIVATE KEY-----\n"),
			asset("assets/server.pem", "-----BEGIN PUBLIC KEY-----\n"+mixed(64)+"\n-----END PUBLIC KEY-----\n")},
		// Native strings: the AWS key sits in a library's read-only data.
		{"DFS-SECRET-002", lib(func(e *apktest.ELF) { e.Rodata = []string{"key=AKIA" + strings.ToUpper(mixed(16))} }),
			lib(func(e *apktest.ELF) { e.Rodata = []string{"key=AKIAXXXXXXXXXXXXXXXX"} })},
		{"DFS-SECRET-003", resString("maps_key", "AIza"+mixed(35)), resString("maps_key", "AIza-is-a-prefix")},
		{"DFS-SECRET-004", str("sk_live_" + mixed(24)), str("sk_test_" + mixed(24))},
		{"DFS-SECRET-005", str("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0." + mixed(43)), str("eyJhbGciOiJIUzI1NiJ9 is a header")},
		{"DFS-SECRET-006", asset("assets/config.properties", "db.user=app\ndb.password=Xk9mQ2vLr7\n"), asset("assets/config.properties", "db.user=app\ndb.password=${DB_PASSWORD}\n")},
		{"DFS-SECRET-007", str("xoxb-" + mixed(24)), str("xoxo hugs")},
		{"DFS-SECRET-008", str("ghp_" + mixed(36)), str("ghp_short")},
		{"DFS-SECRET-009", str("api_key=" + mixed(24)), str("api_key=" + rep("a", 24))},
		{"DFS-SECRET-010", str("access_token$production$" + hexs(16) + "$" + hexs(32)), str("access_token$sandbox$" + hexs(16) + "$" + hexs(32))},
		{"DFS-SECRET-011", str("SK" + hexs(32)), str("SK" + rep("0", 32))},
		{"DFS-SECRET-012", str("GOCSPX-" + mixed(28)), str("GOCSPX-short")},
		{"DFS-SECRET-013", asset("assets/azure.json", `{"conn":"DefaultEndpointsProtocol=https;AccountName=pay;AccountKey=`+mixed(86)+`=="}`),
			asset("assets/azure.json", `{"conn":"DefaultEndpointsProtocol=https;AccountName=pay"}`)},
		{"DFS-SECRET-014", str("https://admin:S3cretPw9@pay.example.net/api"), str("https://pay.example.net/api")},
		{"DFS-SECRET-015", str("SG." + mixed(22) + "." + mixed(43)), str("SG.short")},
		{"DFS-SECRET-016", str("sq0csp-" + mixed(43)), str("sq0csp-short")},
		{"DFS-SECRET-017", str("FLWSECK-" + hexs(32) + "-X"), str("FLWPUBK-" + hexs(32) + "-X")},
		{"DFS-SECRET-018", str("Basic dXNlcjpwYXNzd29yZDEyMw=="), str("Basic realm")},
		{"DFS-SECRET-019", str("whsec_" + mixed(32)), str("whsec_")},
		{"DFS-SECRET-020", resString("payment_api_secret", "pK7"+mixed(21)), resString("password_hint", "Enter your password")},
		{"DFS-SECRET-021", resString("firebase_database_url", "https://mpesa-wallet-prod.firebaseio.com"), resString("website_url", "https://www.pay.example.org")},
		{"DFS-SECRET-022", str("aws_secret_access_key=" + mixed(40)), str("aws_secret_access_key=${AWS_SECRET}")},
		{"DFS-SECRET-023", compareIn("Lcom/example/app/LoginActivity;", "checkPassword", "Adm1n@2024", ""),
			compareIn("Lcom/example/app/LoginActivity;", "checkPassword", "login", "")},
		{"DFS-SECRET-024", compareIn("Lcom/example/app/LoginActivity;", "signIn", "debug", "https://staging.pay.example.org/api/"),
			compareIn("Lcom/example/app/LoginActivity;", "signIn", "premium", "https://staging.pay.example.org/api/")},

		{"DFS-SIGN-001", signed(apktest.Signature{None: true}), &app{}},
		{"DFS-SIGN-002", key(func(k *apktest.Signature) {
			k.Key.Subject = pkix.Name{CommonName: "Android Debug", Organization: []string{"Android"}}
		}), &app{}},
		{"DFS-SIGN-003", with(signed(apktest.Signature{V1: true}), func(a *app) { a.MinSDK = 21; a.TargetSDK = 28 }),
			with(signed(apktest.Signature{V1: true, V2: true}), func(a *app) { a.MinSDK = 21; a.TargetSDK = 28 })},
		{"DFS-SIGN-004", key(rsa1024), &app{}},
		{"DFS-SIGN-005", key(func(k *apktest.Signature) { k.Key.CertSignatureAlgorithm = x509.ECDSAWithSHA1 }), &app{}},
		{"DFS-SIGN-006", key(func(k *apktest.Signature) {
			k.Key.NotBefore = now.AddDate(-3, 0, 0)
			k.Key.NotAfter = now.AddDate(-1, 0, 0)
		}), &app{}},
		// Google Play's date is the boundary: a certificate ending in the
		// last second of 22 October 2033 is refused, one ending a second
		// later is not, however far beyond a TLS lifetime either is.
		{"DFS-SIGN-007", key(func(k *apktest.Signature) {
			k.Key.NotAfter = time.Date(2033, time.October, 22, 23, 59, 59, 0, time.UTC)
		}), key(func(k *apktest.Signature) {
			k.Key.NotAfter = time.Date(2033, time.October, 23, 0, 0, 0, 0, time.UTC)
		})},
		{"DFS-SIGN-008", &app{Files: map[string][]byte{"res/raw/blob.bin": []byte("PAYLOAD-A")}, Mutate: func(b []byte) []byte {
			return bytes.Replace(b, []byte("PAYLOAD-A"), []byte("PAYLOAD-B"), 1)
		}}, &app{Files: map[string][]byte{"res/raw/blob.bin": []byte("PAYLOAD-A")}}},
		{"DFS-SIGN-009", key(func(k *apktest.Signature) {
			k.Key.NotBefore = now.Add(48 * time.Hour)
			k.Key.NotAfter = now.Add(96 * time.Hour)
		}), &app{}},
		{"DFS-SIGN-010", with(signed(apktest.Signature{V1: true}), func(a *app) { a.TargetSDK = 30 }), with(signed(apktest.Signature{V1: true, V2: true}), func(a *app) { a.TargetSDK = 30 })},

		{"DFS-NATIVE-001", lib(func(e *apktest.ELF) { e.Exec = true }), lib(func(*apktest.ELF) {})},
		{"DFS-NATIVE-002", lib(func(e *apktest.ELF) { e.ExecStack = true }), lib(func(*apktest.ELF) {})},
		{"DFS-NATIVE-003", lib(func(e *apktest.ELF) { e.Imports = []string{"__memcpy_chk"} }), lib(func(*apktest.ELF) {})},
		{"DFS-NATIVE-004", lib(func(e *apktest.ELF) { e.RELRO = "partial" }), lib(func(*apktest.ELF) {})},
		{"DFS-NATIVE-005", lib(func(e *apktest.ELF) { e.Imports = []string{"__stack_chk_fail", "memcmp"} }), lib(func(*apktest.ELF) {})},
		{"DFS-NATIVE-006", lib(func(e *apktest.ELF) { e.RPath = "/data/local/tmp" }), lib(func(*apktest.ELF) {})},
		{"DFS-NATIVE-007", lib(func(e *apktest.ELF) { e.Imports = append(e.Imports, "strcpy") }), lib(func(*apktest.ELF) {})},
		{"DFS-NATIVE-008", lib(func(e *apktest.ELF) { e.Symtab = true }), lib(func(*apktest.ELF) {})},

		{"DFS-RES-001", str("/system/xbin/su"), str("/system/xbin/ls")},
		{"DFS-RES-002", str("goldfish"), str("butterfly")},
		{"DFS-RES-003", static("Landroid/os/Debug;->isDebuggerConnected()Z"), static("Landroid/os/Debug;->getNativeHeapSize()J")},
		{"DFS-RES-004", static("Lcom/google/android/play/core/integrity/IntegrityManagerFactory;->create(Landroid/content/Context;)Lcom/google/android/play/core/integrity/IntegrityManager;", i(0)),
			static("Lcom/google/android/play/core/review/ReviewManagerFactory;->create(Landroid/content/Context;)Lcom/google/android/play/core/review/ReviewManager;", i(0))},
		{"DFS-RES-005", with(nsc(domainCfg(false, false, pinSet("2099-01-01", 2))), func(a *app) { a.Dex = str("x").Dex }),
			with(nsc(domainCfg(false, false)), func(a *app) { a.Dex = str("x").Dex })},
		{"DFS-RES-006", virtual("Landroid/view/Window;->addFlags(I)V", i(0x2000)), virtual("Landroid/view/Window;->addFlags(I)V", i(0x80))},
		{"DFS-RES-007", virtual(authX+promptInfo+")V", i(0)), virtual(authX+promptInfo+"Landroidx/biometric/BiometricPrompt$CryptoObject;)V", i(0), i(0))},
		{"DFS-RES-008", virtual(authX+promptInfo+"Landroidx/biometric/BiometricPrompt$CryptoObject;)V", i(0), i(0)), virtual(authX+promptInfo+")V", i(0))},
		{"DFS-RES-009", obfuscated(true), obfuscated(false)},
		{"DFS-RES-010", virtual("Landroid/content/pm/PackageManager;->getPackageInfo(Ljava/lang/String;I)Landroid/content/pm/PackageInfo;", s("com.example.app"), i(0x08000000)),
			virtual("Landroid/content/pm/PackageManager;->getPackageInfo(Ljava/lang/String;I)Landroid/content/pm/PackageInfo;", s("com.example.app"), i(0))},
		{"DFS-RES-011", str("de.robv.android.xposed.XposedBridge"), str("de.example.bridge")},

		{"DFS-RES-012", static("Lnet/sqlcipher/database/SQLiteDatabase;->loadLibs(Landroid/content/Context;)V", i(0)),
			static("Landroid/database/sqlite/SQLiteDatabase;->openOrCreateDatabase(Ljava/lang/String;Landroid/database/sqlite/SQLiteDatabase$CursorFactory;)Landroid/database/sqlite/SQLiteDatabase;", s("pay.db"), i(0))},
		{"DFS-RES-013", &app{Files: map[string][]byte{"lib/arm64-v8a/libjiagu.so": hardened.Bytes()}}, lib(func(*apktest.ELF) {})},
		{"DFS-RES-014", virtual("Landroid/view/View;->setFilterTouchesWhenObscured(Z)V", i(1)), virtual("Landroid/view/View;->setFilterTouchesWhenObscured(Z)V", i(0))},
		{"DFS-ZIP-001", &app{Sign: &apktest.Signature{None: true}, Extra: []apktest.Entry{{Name: "classes.dex", Data: []byte("x")}, {Name: "assets/a.txt", Data: []byte("1")}, {Name: "assets/a.txt", Data: []byte("2")}}},
			&app{Sign: &apktest.Signature{None: true}, Extra: []apktest.Entry{{Name: "assets/a.txt", Data: []byte("1")}}}},
		{"DFS-ZIP-002", &app{Sign: &apktest.Signature{None: true}, Extra: []apktest.Entry{{Name: "../../evil.sh", Data: []byte("1")}}},
			&app{Sign: &apktest.Signature{None: true}, Extra: []apktest.Entry{{Name: "assets/evil.sh", Data: []byte("1")}}}},
		{"DFS-ZIP-003", &app{Sign: &apktest.Signature{None: true}, Extra: []apktest.Entry{{Name: "assets/bomb.bin", Data: make([]byte, 4<<20), Deflate: true}}},
			&app{Sign: &apktest.Signature{None: true}, Extra: []apktest.Entry{{Name: "assets/small.bin", Data: make([]byte, 4<<10), Deflate: true}}}},
		{"DFS-ZIP-004", &app{Sign: &apktest.Signature{None: true}, Prefix: bytes.Repeat([]byte{'Z'}, 64)},
			&app{Sign: &apktest.Signature{None: true}}},
		{"DFS-ZIP-005", &app{Sign: &apktest.Signature{None: true}, Extra: []apktest.Entry{{Name: "assets/e.txt", Data: []byte("1"), Flags: 1}}},
			&app{Sign: &apktest.Signature{None: true}, Extra: []apktest.Entry{{Name: "assets/e.txt", Data: []byte("1")}}}},
		{"DFS-ZIP-006", &app{Sign: &apktest.Signature{None: true}, Extra: []apktest.Entry{{Name: "assets/zz.txt", Data: []byte("1")}},
			Mutate: func(b []byte) []byte { return bytes.Replace(b, []byte("assets/zz.txt"), []byte("assets/zy.txt"), 1) }},
			&app{Sign: &apktest.Signature{None: true}, Extra: []apktest.Entry{{Name: "assets/zz.txt", Data: []byte("1")}}}},
	}
}

// scanSpec builds the app (as an APK, or an App Bundle when aab is set),
// opens it through the loader and scans it with only rule id enabled.
func scanSpec(t *testing.T, a *app, id string, aab bool) *Result {
	t.Helper()
	build := a.Build
	if aab {
		build = a.BuildAAB
	}
	data, err := build()
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	m, err := apk.OpenReader(context.Background(), bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	res, err := NewScanner(Options{Rules: []string{id}}).ScanApp(context.Background(), m)
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	return res
}

// matched is "finding reported" for defect rules and "control present" for
// control rules.
func matched(res *Result, id string) bool {
	for _, c := range res.Controls {
		if c.RuleID == id {
			return c.Present
		}
	}
	return slices.ContainsFunc(res.Findings, func(f Finding) bool { return f.RuleID == id })
}

// TestRules runs every rule against an app built to trigger it and one
// built to look almost the same but be safe.
func TestRules(t *testing.T) {
	cases := ruleCases()
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			t.Parallel()
			if res := scanSpec(t, c.pos, c.id, false); !matched(res, c.id) {
				t.Errorf("positive app: %s did not match; findings %v controls %v warnings %q", c.id, res.Findings, res.Controls, res.Warnings)
			}
			if res := scanSpec(t, c.neg, c.id, false); matched(res, c.id) {
				t.Errorf("negative app: %s matched; findings %v", c.id, res.Findings)
			}
			// Rules about the manifest, resources and code must see the
			// same in an App Bundle; signatures and zip structure are
			// APK matters.
			if strings.HasPrefix(c.id, "DFS-SIGN-") || strings.HasPrefix(c.id, "DFS-ZIP-") {
				return
			}
			if res := scanSpec(t, c.pos, c.id, true); !matched(res, c.id) {
				t.Errorf("positive bundle: %s did not match; findings %v warnings %q", c.id, res.Findings, res.Warnings)
			}
			if res := scanSpec(t, c.neg, c.id, true); matched(res, c.id) {
				t.Errorf("negative bundle: %s matched; findings %v", c.id, res.Findings)
			}
		})
	}
	// Every rule has its pair of cases.
	have := map[string]bool{}
	for _, c := range cases {
		if have[c.id] {
			t.Errorf("%s: two cases", c.id)
		}
		have[c.id] = true
	}
	for _, r := range Rules() {
		if !have[r.ID] {
			t.Errorf("%s: no positive/negative case", r.ID)
		}
	}
}
