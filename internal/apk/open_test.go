package apk_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/apk"
	"github.com/dfslab/dfslab/internal/apk/apktest"
	"github.com/dfslab/dfslab/internal/apk/axml"
	"github.com/dfslab/dfslab/internal/dex/dexbuild"
)

func seedApps(f interface{ Fatal(...any) }) [][]byte {
	apps := []*apktest.App{
		{},
		{Sign: &apktest.Signature{V1: true}, MinSDK: 19},
		{
			AppAttrs: []axml.Attr{apktest.A("networkSecurityConfig", apktest.Ref("xml/nsc")), apktest.A("debuggable", axml.Bool(true))},
			XML: map[string]*axml.Element{"nsc": apktest.Plain("network-security-config").Append(
				apktest.Plain("base-config", "cleartextTrafficPermitted", true))},
			Strings: map[string]string{"api_key": "AIzaSyExampleExampleExampleExample123"},
			Layouts: map[string]*axml.Element{"pay": apktest.El("Button", "filterTouchesWhenObscured", true)},
			Styles:  map[string][]axml.Attr{"Theme.Pay": {apktest.A("filterTouchesWhenObscured", axml.Bool(true))}},
			Components: []*axml.Element{apktest.Component("activity", ".Main", []any{"exported", true},
				apktest.Filter(nil, "action:android.intent.action.VIEW", "scheme:https://example.org"))},
			Dex: func(b *dexbuild.Builder) {
				b.Class("Lcom/example/app/A;").Method("run", "()V").
					CallStatic("Ljavax/crypto/Cipher;->getInstance(Ljava/lang/String;)Ljavax/crypto/Cipher;", dexbuild.Str("DES"))
			},
			Files: map[string][]byte{"lib/arm64-v8a/liba.so": apktest.ELF{RELRO: "full"}.Bytes(), "assets/c.json": []byte(`{"password":"x"}`)},
		},
	}
	var out [][]byte
	for _, a := range apps {
		data, err := a.Build()
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// FuzzOpen feeds arbitrary bytes to the loader: it must return an app or an
// error, never panic or hang.
//
// The seeds are whole APKs and nearly every mutation reaches new code, so
// run it with -fuzzminimizetime 0: with the default the fuzzer spends its
// time minimising inputs and makes almost no executions.
func FuzzOpen(f *testing.F) {
	for _, s := range seedApps(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		app, err := apk.OpenReader(ctx, bytes.NewReader(data), int64(len(data)))
		if err == nil && app == nil {
			t.Fatal("nil app without error")
		}
	})
}

func TestOpenFormats(t *testing.T) {
	seeds := seedApps(t)
	app, err := apk.OpenReader(context.Background(), bytes.NewReader(seeds[2]), int64(len(seeds[2])))
	if err != nil {
		t.Fatal(err)
	}
	if app.Format != apk.FormatAPK || app.NetworkConfig == nil || app.Manifest.Application.Debuggable == nil || len(app.Native) != 1 || len(app.Classes) != 1 {
		t.Errorf("app = %+v", app)
	}
	// An XAPK is a zip of APKs with a manifest.json.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range map[string][]byte{"com.example.app.apk": seeds[0], "config.en.apk": seeds[1], "manifest.json": []byte(`{}`)} {
		w, _ := zw.Create(name)
		w.Write(data)
	}
	zw.Close()
	x, err := apk.OpenReader(context.Background(), bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if x.Format != apk.FormatXAPK || x.Manifest == nil {
		t.Errorf("xapk = %+v", x)
	}
	// A zip without manifest or APKs is refused with a clear error.
	buf.Reset()
	zw = zip.NewWriter(&buf)
	w, _ := zw.Create("a.txt")
	w.Write([]byte("x"))
	zw.Close()
	if _, err := apk.OpenReader(context.Background(), bytes.NewReader(buf.Bytes()), int64(buf.Len())); !errors.Is(err, apk.ErrUnsupported) {
		t.Errorf("plain zip: err = %v", err)
	}
}
