package appscan

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/apk/apktest"
	"github.com/dfslab/dfslab/internal/apk/axml"
	"github.com/dfslab/dfslab/internal/dex/dexbuild"
)

const (
	rawQuery      = "Landroid/database/sqlite/SQLiteDatabase;->rawQuery(Ljava/lang/String;[Ljava/lang/String;)Landroid/database/Cursor;"
	sbAppendStr   = "Ljava/lang/StringBuilder;->append(Ljava/lang/String;)Ljava/lang/StringBuilder;"
	sbAppendInt   = "Ljava/lang/StringBuilder;->append(I)Ljava/lang/StringBuilder;"
	sbInit        = "Ljava/lang/StringBuilder;-><init>()V"
	sbToString    = "Ljava/lang/StringBuilder;->toString()Ljava/lang/String;"
	signatureGet  = "Ljava/security/Signature;->getInstance(Ljava/lang/String;)Ljava/security/Signature;"
	sendBroadcast = "Lcom/example/app/Main;->sendBroadcast(Landroid/content/Intent;)V"
	ivInit        = "Ljavax/crypto/spec/IvParameterSpec;-><init>([B)V"
)

// piece is one StringBuilder.append of sqlBuilt: its argument and whether
// it is the int overload.
type piece struct {
	arg   dexbuild.Arg
	isInt bool
}

// sqlBuilt is a method that builds a query with a StringBuilder from the
// given pieces (a string constant, an int, or a run-time string) and runs it.
func sqlBuilt(pieces ...piece) *app {
	return body(func(m *dexbuild.Method) {
		m.CallDirect(sbInit, o("Ljava/lang/StringBuilder;"))
		for _, p := range pieces {
			ref := sbAppendStr
			if p.isInt {
				ref = sbAppendInt
			}
			m.CallVirtual(ref, o("Ljava/lang/StringBuilder;"), p.arg)
		}
		m.CallVirtual(sbToString, o("Ljava/lang/StringBuilder;"))
		m.MoveResultObject(1)
		m.CallVirtual(rawQuery, o("Landroid/database/sqlite/SQLiteDatabase;"), dexbuild.Reg(1), i(0))
	})
}

// TestFalsePositives holds one generated app per false-positive pattern the
// review of real apps found, each beside the true positive it must keep.
func TestFalsePositives(t *testing.T) {
	pemBody := strings.Repeat(mixed(64)+"\n", 4)
	cases := []struct {
		name string
		rule string
		app  *app
		want bool
	}{
		{"PEM header constant alone", "DFS-SECRET-001",
			classBody("Lcom/example/app/Pem;", "", nil, "<clinit>", "()V", func(m *dexbuild.Method) {
				m.ConstString(0, "-----BEGIN PRIVATE KEY-----")
				m.ConstString(1, "-----END PRIVATE KEY-----")
			}), false},
		{"PEM header with a body", "DFS-SECRET-001", str("-----BEGIN PRIVATE KEY-----\n" + pemBody + "-----END PRIVATE KEY-----"), true},
		{"PEM with an escaped body in JSON", "DFS-SECRET-001",
			asset("assets/sa.json", `{"private_key":"-----BEGIN PRIVATE KEY-----\n`+strings.ReplaceAll(pemBody, "\n", `\n`)+`-----END PRIVATE KEY-----\n"}`), true},

		{"SQL from constants only", "DFS-CODE-009", sqlBuilt(piece{arg: s("SELECT * FROM accounts")}, piece{arg: s(" LIMIT 0")}), false},
		{"SQL with only an integer concatenated", "DFS-CODE-009", sqlBuilt(piece{arg: s("SELECT * FROM accounts LIMIT ")}, piece{arg: o("Ljava/lang/Integer;"), isInt: true}), false},
		{"SQL with a run-time string", "DFS-CODE-009", sqlBuilt(piece{arg: s("SELECT * FROM accounts WHERE name = '")}, piece{arg: o("Ljava/lang/String;")}, piece{arg: s("'")}), true},

		{"broadcast after setPackage", "DFS-CODE-018", body(func(m *dexbuild.Method) {
			m.CallVirtual("Landroid/content/Intent;->setPackage(Ljava/lang/String;)Landroid/content/Intent;", o("Landroid/content/Intent;"), s("com.example.peer"))
			m.CallVirtual(sendBroadcast, o("Lcom/example/app/Main;"), i(0))
		}), false},
		{"broadcast of an implicit intent", "DFS-CODE-018", body(func(m *dexbuild.Method) {
			m.CallDirect("Landroid/content/Intent;-><init>(Ljava/lang/String;)V", o("Landroid/content/Intent;"), s("com.example.app.PAID"))
			m.CallVirtual(sendBroadcast, o("Lcom/example/app/Main;"), i(0))
		}), true},

		{"IV object discarded with ECB", "DFS-CRYPTO-005", body(func(m *dexbuild.Method) {
			m.CallDirect(ivInit, o("Ljavax/crypto/spec/IvParameterSpec;"), dexbuild.Bytes(make([]byte, 16)))
			m.CallStatic(cipherGet, s("AES/ECB/PKCS5Padding"))
			m.CallVirtual("Ljavax/crypto/Cipher;->init(ILjava/security/Key;)V", o("Ljavax/crypto/Cipher;"), i(1), i(0))
		}), false},
		{"constant IV passed to CBC", "DFS-CRYPTO-005", body(func(m *dexbuild.Method) {
			m.CallDirect(ivInit, o("Ljavax/crypto/spec/IvParameterSpec;"), dexbuild.Bytes(make([]byte, 16)))
			m.CallStatic(cipherGet, s("AES/CBC/PKCS5Padding"))
			m.CallVirtual("Ljavax/crypto/Cipher;->init(ILjava/security/Key;Ljava/security/spec/AlgorithmParameterSpec;)V", o("Ljavax/crypto/Cipher;"), i(1), i(0), i(0))
		}), true},

		{"unreferenced zip padding entry first", "DFS-ZIP-004",
			&app{Sign: &apktest.Signature{None: true}, Prefix: append([]byte("PK\x03\x04"), make([]byte, 60)...)}, false},
		{"DEX before the first entry (Janus)", "DFS-ZIP-004",
			&app{Sign: &apktest.Signature{None: true}, Prefix: append([]byte("dex\n035\x00"), make([]byte, 56)...)}, true},

		{"SHA1withRSA verifying a Play billing signature", "DFS-CRYPTO-016",
			classBody("Lcom/example/app/billing/Security;", "", nil, "verifyPurchase", "(Ljava/lang/String;)Z", func(m *dexbuild.Method) {
				m.CallStatic(signatureGet, s("SHA1withRSA"))
				m.CallVirtual("Ljava/security/Signature;->initVerify(Ljava/security/PublicKey;)V", o("Ljava/security/Signature;"), i(0))
				m.CallVirtual("Ljava/security/Signature;->verify([B)Z", o("Ljava/security/Signature;"), i(0))
			}), false},
		{"SHA1withRSA signing the app's own data", "DFS-CRYPTO-016",
			classBody("Lcom/example/app/Signer;", "", nil, "signTransfer", "(Ljava/lang/String;)V", func(m *dexbuild.Method) {
				m.CallStatic(signatureGet, s("SHA1withRSA"))
				m.CallVirtual("Ljava/security/Signature;->initSign(Ljava/security/PrivateKey;)V", o("Ljava/security/Signature;"), i(0))
			}), true},

		{"reading a sticky broadcast with a null receiver", "DFS-CODE-019",
			virtual("Landroid/content/Context;->registerReceiver(Landroid/content/BroadcastReceiver;Landroid/content/IntentFilter;)Landroid/content/Intent;", i(0), i(0)), false},
		{"logging a constant message", "DFS-CODE-012",
			static("Landroid/util/Log;->i(Ljava/lang/String;Ljava/lang/String;)I", s("Pay"), s("request started")), false},
		{"logging in library code", "DFS-CODE-012",
			classBody("Lokhttp3/internal/Logger;", "", nil, "log", "(Ljava/lang/String;)V", func(m *dexbuild.Method) {
				m.CallStatic("Landroid/util/Log;->d(Ljava/lang/String;Ljava/lang/String;)I", s("OkHttp"), o("Ljava/lang/String;"))
			}), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res := scanSpec(t, c.app, c.rule, false)
			if got := matched(res, c.rule); got != c.want {
				t.Errorf("%s matched = %v, want %v; findings %v warnings %q", c.rule, got, c.want, res.Findings, res.Warnings)
			}
		})
	}
}

// TestControlsInAppCode: controls count only in the app's own code and
// native libraries, and naming shapes that are not obfuscation do not
// count as obfuscation.
func TestControlsInAppCode(t *testing.T) {
	getInfo := "Landroid/content/pm/PackageManager;->getPackageInfo(Ljava/lang/String;I)Landroid/content/pm/PackageInfo;"
	cases := []struct {
		name string
		rule string
		app  *app
		want bool
	}{
		{"root check strings in an SDK", "DFS-RES-001",
			classBody("Lcom/appsflyer/internal/Device;", "", nil, "rooted", "()Z", func(m *dexbuild.Method) { m.ConstString(0, "/system/xbin/su") }), false},
		{"root check strings in the app", "DFS-RES-001",
			classBody("Lcom/example/app/security/Device;", "", nil, "rooted", "()Z", func(m *dexbuild.Method) { m.ConstString(0, "/system/xbin/su") }), true},
		{"resource classes, BuildConfig and anonymous classes", "DFS-RES-009", &app{Dex: func(b *dexbuild.Builder) {
			for _, n := range []string{"R", "R$id", "R$string", "R$layout", "BuildConfig", "PaymentActivity", "PaymentActivity$1", "TransferScreen$2"} {
				b.Class("Lcom/example/app/"+n+";").Method("run", "()V").ReturnVoid()
			}
		}}, false},
		{"a library checking another package's signature", "DFS-RES-010",
			classBody("Lcom/example/app/Peers;", "", nil, "check", "()V", func(m *dexbuild.Method) {
				m.CallVirtual(getInfo, o("Landroid/content/pm/PackageManager;"), s("com.google.android.gms"), i(0x40))
			}), false},
		{"the app checking its own signature at run time", "DFS-RES-010",
			classBody("Lcom/example/app/Integrity;", "", nil, "check", "()V", func(m *dexbuild.Method) {
				m.CallVirtual("Landroid/content/Context;->getPackageName()Ljava/lang/String;", o("Landroid/content/Context;"))
				m.MoveResultObject(1)
				m.CallVirtual(getInfo, o("Landroid/content/pm/PackageManager;"), dexbuild.Reg(1), i(0x08000000))
			}), true},
		{"hooking detection in a native library", "DFS-RES-011",
			with(lib(func(e *apktest.ELF) { e.Rodata = []string{"/data/local/tmp/frida-helper"} }), func(a *app) { a.Dex = str("x").Dex }), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res := scanSpec(t, c.app, c.rule, false)
			if got := matched(res, c.rule); got != c.want {
				t.Errorf("%s present = %v, want %v; controls %v", c.rule, got, c.want, res.Controls)
			}
		})
	}
}

// TestLibraryAttribution: findings in known libraries are flagged and
// named, do not count in the score unless asked, and the app's own code
// under its manifest and component packages is never a library's.
func TestLibraryAttribution(t *testing.T) {
	md5 := func(b *dexbuild.Builder, cls string) {
		b.Class(cls).Method("hash", "()V").CallStatic(digestGet, s("MD5"))
	}
	spec := &apktest.App{
		Package: "com.squareup.wallet", // under a library prefix: its own code stays the app's
		Components: []*axml.Element{
			comp("activity", "com.squareup.wallet.Main", "exported", false),
			comp("activity", "androidx.test.core.app.InstrumentationActivityInvoker$EmptyActivity", "exported", true),
		},
		Dex: func(b *dexbuild.Builder) {
			md5(b, "Lio/netty/handler/codec/http/websocketx/WebSocketUtil$1;")
			md5(b, "Lcom/squareup/wallet/Ledger;")
			md5(b, "Lcom/squareup/okhttp/Cache;")
			// Repackaged by R8 into a short package, recognisable by its
			// supertypes.
			for _, n := range []string{"a", "b", "c"} {
				b.Class("Lx/y/"+n+";").Implements("Lcom/google/android/gms/common/api/Api$Client;").Method("hash", "()V").CallStatic(digestGet, s("MD5"))
			}
		},
	}
	data := openBytes(t, spec)
	res, err := NewScanner(Options{Rules: []string{"DFS-CRYPTO-007", "DFS-MAN-006"}}).ScanApp(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"io.netty.handler.codec.http.websocketx.WebSocketUtil$1": "Netty",
		"com.squareup.wallet.Ledger":                             "",
		"com.squareup.okhttp.Cache":                              "Square libraries",
		"x.y.a":                                                  "Google Play services",
		"activity[androidx.test.core.app.InstrumentationActivityInvoker$EmptyActivity]": "AndroidX Test",
	}
	got := map[string]string{}
	for _, f := range res.Findings {
		k := cmpOr(f.Location.Class, f.Location.Element)
		got[k] = f.Library
		if f.InLibrary != (f.Library != "") {
			t.Errorf("%s: in_library %v with library %q", k, f.InLibrary, f.Library)
		}
		if len(f.CWE) == 0 || len(f.MASVS) == 0 || f.Remediation == "" {
			t.Errorf("%s: finding without its rule's references: %+v", k, f)
		}
	}
	for k, lib := range want {
		if g, ok := got[k]; !ok || g != lib {
			t.Errorf("%s: library %q (found %v), want %q", k, g, ok, lib)
		}
	}
	// Only the app's own findings count by default.
	own := []Finding{{RuleID: "DFS-CRYPTO-007", Severity: Medium, Confidence: ConfidenceMedium}}
	if res.Score != score(own, false) {
		t.Errorf("score %d, want %d (library findings must not count)", res.Score, score(own, false))
	}
	all, err := NewScanner(Options{Rules: []string{"DFS-CRYPTO-007", "DFS-MAN-006"}, IncludeLibraries: true}).ScanApp(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	if all.Score >= res.Score {
		t.Errorf("with libraries counted the score is %d, not below %d", all.Score, res.Score)
	}
}

// TestDuplicatesMerged: one weakness, one finding.
func TestDuplicatesMerged(t *testing.T) {
	implicit := with(comps(apktest.Component("activity", ".Share", nil, apktest.Filter(nil, "action:android.intent.action.SEND"))), func(a *app) { a.TargetSDK = 30 })
	res := scanSpec(t, implicit, "DFS-MAN-0", false)
	var ids []string
	for _, f := range res.Findings {
		if f.Location.Element == "activity[com.example.app.Share]" {
			ids = append(ids, f.RuleID)
		}
	}
	if !slices.Equal(ids, []string{"DFS-MAN-006"}) || !strings.Contains(findingsOf(res, "DFS-MAN-006")[0].Message, "implicitly") {
		t.Errorf("implicitly exported activity: rules %v, want DFS-MAN-006 alone saying how (%v)", ids, res.Findings)
	}

	abis := &app{Files: map[string][]byte{}}
	for _, abi := range []string{"x86_64", "arm64-v8a", "armeabi-v7a"} {
		abis.Files["lib/"+abi+"/libpay.so"] = apktest.ELF{RELRO: "partial", Imports: []string{"__stack_chk_fail", "__memcpy_chk"}}.Bytes()
	}
	res = scanSpec(t, abis, "DFS-NATIVE-004", false)
	fs := findingsOf(res, "DFS-NATIVE-004")
	if len(fs) != 1 || fs[0].Location.File != "lib/arm64-v8a/libpay.so" || !strings.Contains(fs[0].Message, "arm64-v8a, armeabi-v7a, x86_64") {
		t.Errorf("one library in three ABIs: %+v", fs)
	}
}

// TestSourceLines: with debug information, code findings carry the source
// file and the line of the call.
func TestSourceLines(t *testing.T) {
	a := &app{Dex: func(b *dexbuild.Builder) {
		m := b.Class("Lcom/example/app/Vault;").Source("Vault.kt").Method("seal", "()V")
		m.Line(30).CallStatic("Ljava/lang/System;->gc()V")
		m.Line(42).CallStatic(cipherGet, s("AES/ECB/PKCS5Padding"))
	}}
	res := scanSpec(t, a, "DFS-CRYPTO-004", false)
	fs := findingsOf(res, "DFS-CRYPTO-004")
	if len(fs) != 1 || fs[0].Location.SourceFile != "Vault.kt" || fs[0].Location.Line != 42 {
		t.Errorf("findings %+v, want one at Vault.kt:42", fs)
	}
}
