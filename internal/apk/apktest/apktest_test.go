package apktest

import (
	"bytes"
	"context"
	"testing"

	"github.com/dfslab/dfslab/internal/apk"
	"github.com/dfslab/dfslab/internal/apk/axml"
	"github.com/dfslab/dfslab/internal/dex/dexbuild"
)

// TestRoundTrip checks that what the builder writes is what the loader
// reads back: identity, components, resources by reference, code and
// signatures.
func TestRoundTrip(t *testing.T) {
	a := &App{
		Package:     "org.test.pay",
		Permissions: []string{"android.permission.INTERNET"},
		AppAttrs:    []axml.Attr{A("networkSecurityConfig", Ref("xml/nsc"))},
		Components: []*axml.Element{Component("activity", ".Main", []any{"exported", true},
			Filter(nil, "action:android.intent.action.MAIN", "category:android.intent.category.LAUNCHER"))},
		XML: map[string]*axml.Element{"nsc": Plain("network-security-config").Append(
			Plain("base-config", "cleartextTrafficPermitted", false),
			Plain("domain-config").Append(Text("domain", "pay.example.org", "includeSubdomains", true),
				Plain("pin-set", "expiration", "2030-01-01").Append(Text("pin", "AAAA", "digest", "SHA-256"))))},
		Strings: map[string]string{"api_key": "k3y-value-for-tests"},
		Dex: func(b *dexbuild.Builder) {
			b.Class("Lorg/test/pay/Main;").Extends("Landroid/app/Activity;").Method("onCreate", "(Landroid/os/Bundle;)V").
				CallStatic("Ljavax/crypto/Cipher;->getInstance(Ljava/lang/String;)Ljavax/crypto/Cipher;", dexbuild.Str("AES/ECB/PKCS5Padding"))
		},
		Sign: &Signature{V1: true, V2: true, V3: true},
	}
	data, err := a.Build()
	if err != nil {
		t.Fatal(err)
	}
	app, err := apk.OpenReader(context.Background(), bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if len(app.Warnings) > 0 {
		t.Errorf("warnings: %q", app.Warnings)
	}
	m := app.Manifest
	if m == nil || m.Package != "org.test.pay" || m.MinSDK != 26 || m.TargetSDK != 34 {
		t.Fatalf("manifest = %+v", m)
	}
	if len(m.Application.Components) != 1 || m.Application.Components[0].Name != "org.test.pay.Main" {
		t.Errorf("components = %+v", m.Application.Components)
	}
	nc := app.NetworkConfig
	if nc == nil || nc.Base == nil || nc.Base.CleartextPermitted == nil || *nc.Base.CleartextPermitted ||
		len(nc.Domains) != 1 || nc.Domains[0].Domains[0].Name != "pay.example.org" || len(nc.Domains[0].Pins) != 1 {
		t.Errorf("network config = %+v", nc)
	}
	if len(app.Classes) != 1 || len(app.Classes[0].Methods) != 1 {
		t.Fatalf("classes = %+v", app.Classes)
	}
	calls := app.Classes[0].Methods[0].Calls
	if len(calls) != 1 || calls[0].Class != "javax.crypto.Cipher" || calls[0].Args[0].Str != "AES/ECB/PKCS5Padding" {
		t.Errorf("calls = %+v", calls)
	}
	for _, s := range app.Signing.Schemes {
		if s.Scheme == "v3.1" {
			continue
		}
		if !s.Present || !s.Verified {
			t.Errorf("scheme %s present=%v verified=%v %s", s.Scheme, s.Present, s.Verified, s.Err)
		}
	}
	found := false
	for _, tx := range app.Texts {
		found = found || tx.Name == "string/api_key"
	}
	if !found {
		t.Errorf("string resource not among texts: %+v", app.Texts)
	}
}

// TestELF checks that generated libraries carry exactly the hardening
// properties asked for.
func TestELF(t *testing.T) {
	hard := ELF{RELRO: "full", Imports: []string{"__stack_chk_fail", "__memcpy_chk"}, Rodata: []string{"hello native world"}}
	weak := ELF{Exec: true, ExecStack: true, RPath: "/data/local/tmp", Imports: []string{"strcpy", "system"}, Symtab: true}
	a := &App{Files: map[string][]byte{"lib/arm64-v8a/libhard.so": hard.Bytes(), "lib/arm64-v8a/libweak.so": weak.Bytes()}}
	data, err := a.Build()
	if err != nil {
		t.Fatal(err)
	}
	app, err := apk.OpenReader(context.Background(), bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if len(app.Native) != 2 {
		t.Fatalf("native = %+v, warnings %q", app.Native, app.Warnings)
	}
	h, w := app.Native[0], app.Native[1]
	if !h.PIE || !h.NX || !h.Canary || !h.Fortify || h.RELRO != "full" || !h.Stripped || h.RPath != "" || len(h.Dangerous) != 0 || h.Arch != "arm64-v8a" {
		t.Errorf("hardened lib = %+v", h)
	}
	if len(h.Strings) != 1 || h.Strings[0] != "hello native world" {
		t.Errorf("strings = %q", h.Strings)
	}
	if w.PIE || w.NX || w.Canary || w.Fortify || w.RELRO != "none" || w.Stripped || w.RPath != "/data/local/tmp" || len(w.Dangerous) != 2 {
		t.Errorf("weak lib = %+v", w)
	}
}

// TestAAB checks that a bundle built from the same spec loads into the same
// model: protobuf manifest and XML, resources.pb references, base/dex code.
func TestAAB(t *testing.T) {
	a := &App{
		Package:  "org.test.bundle",
		AppAttrs: []axml.Attr{A("networkSecurityConfig", Ref("xml/nsc")), A("debuggable", axml.Bool(true))},
		XML: map[string]*axml.Element{"nsc": Plain("network-security-config").Append(
			Plain("base-config", "cleartextTrafficPermitted", true))},
		Strings: map[string]string{"greeting": "hello from resources.pb"},
		Dex: func(b *dexbuild.Builder) {
			b.Class("Lorg/test/bundle/Main;").Method("run", "()V").ConstString(0, "x")
		},
		Files: map[string][]byte{"assets/conf.json": []byte(`{"k":"v"}`)},
	}
	data, err := a.BuildAAB()
	if err != nil {
		t.Fatal(err)
	}
	app, err := apk.OpenReader(context.Background(), bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if app.Format != apk.FormatAAB || len(app.Warnings) > 0 {
		t.Errorf("format %s, warnings %q", app.Format, app.Warnings)
	}
	if m := app.Manifest; m == nil || m.Package != "org.test.bundle" || m.Application.Debuggable == nil || !*m.Application.Debuggable {
		t.Fatalf("manifest = %+v", app.Manifest)
	}
	if nc := app.NetworkConfig; nc == nil || nc.Base == nil || nc.Base.CleartextPermitted == nil || !*nc.Base.CleartextPermitted {
		t.Errorf("network config = %+v", app.NetworkConfig)
	}
	if len(app.Classes) != 1 || app.Classes[0].Source != "base/classes.dex" {
		t.Errorf("classes = %+v", app.Classes)
	}
	texts := map[string]bool{}
	for _, tx := range app.Texts {
		texts[tx.File+"|"+tx.Name] = true
	}
	if !texts["base/assets/conf.json|"] || !texts["base/resources.pb|string/greeting"] {
		t.Errorf("texts = %v", texts)
	}
}
