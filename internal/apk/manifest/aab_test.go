package manifest

import (
	"testing"

	"github.com/dfslab/dfslab/internal/apk/aabproto"
	"github.com/dfslab/dfslab/internal/apk/axml"
)

// An App Bundle carries the same manifest as protobuf and its resource table
// as resources.pb; the typed model must come out identical.
func TestBundleMatchesAPK(t *testing.T) {
	f := resources()
	root := el("manifest", plain("package", axml.Str("com.example.pay")), an("versionCode", axml.Int(3))).Append(
		el("uses-sdk", an("minSdkVersion", axml.Int(21)), an("targetSdkVersion", axml.Int(29))),
		el("uses-permission", an("name", axml.Str("android.permission.READ_SMS"))),
		el("application", an("label", axml.Ref(f.label)), an("usesCleartextTraffic", axml.Ref(f.cleartext)),
			an("networkSecurityConfig", axml.Ref(f.nsc)), an("allowBackup", axml.Bool(true))).Append(
			el("activity", an("name", axml.Str(".Deep")), an("launchMode", axml.Int(3))).Append(
				el("intent-filter").Append(
					el("action", an("name", axml.Str("android.intent.action.VIEW"))),
					el("data", an("scheme", axml.Str("expay")), an("host", axml.Str("tx"))),
				),
			),
		),
	)
	apk, err := Parse(roundTrip(t, root), f.table)
	if err != nil {
		t.Fatal(err)
	}
	pbXML, err := aabproto.EncodeXML(root)
	if err != nil {
		t.Fatal(err)
	}
	pbRes, err := aabproto.EncodeResourceTable(f.table)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := aabproto.DecodeXML(pbXML)
	if err != nil {
		t.Fatal(err)
	}
	table, err := aabproto.DecodeResourceTable(pbRes)
	if err != nil {
		t.Fatal(err)
	}
	aab, err := Parse(tree, table)
	if err != nil {
		t.Fatal(err)
	}
	a, b := summary(&scanned{m: apk}), summary(&scanned{m: aab})
	if a != b {
		t.Errorf("APK and AAB parse differently:\nAPK:\n%s\nAAB:\n%s", a, b)
	}
	if aab.Application.Label != "Example Pay" || aab.Application.NetworkSecurityConfig.Path != "res/xml/b.xml" ||
		!aab.Application.UsesCleartextTraffic.IsTrue() || aab.Components(Activity)[0].LaunchMode != "singleInstance" {
		t.Errorf("bundle manifest = %+v", aab.Application)
	}
}
