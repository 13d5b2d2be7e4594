package manifest_test

import (
	"fmt"

	"github.com/dfslab/dfslab/internal/apk/arsc"
	"github.com/dfslab/dfslab/internal/apk/axml"
	"github.com/dfslab/dfslab/internal/apk/manifest"
)

// The scanner's path: decode AndroidManifest.xml and resources.arsc, build
// the typed manifest, then follow android:networkSecurityConfig.
func ExampleParse() {
	res := arsc.NewPackage(0x7f, "com.example.wallet")
	nsc := res.Add("xml", "network_security_config", arsc.Config{}, axml.Str("res/xml/network_security_config.xml"))
	table, _ := arsc.Decode(mustArsc(arsc.NewTable(res)))

	doc := axml.NewElement("manifest", axml.PlainAttr("package", axml.Str("com.example.wallet"))).Append(
		axml.NewElement("uses-sdk", axml.AndroidAttr("minSdkVersion", axml.Int(21)), axml.AndroidAttr("targetSdkVersion", axml.Int(30))),
		axml.NewElement("application", axml.AndroidAttr("networkSecurityConfig", axml.Ref(nsc))).Append(
			axml.NewElement("receiver", axml.AndroidAttr("name", axml.Str(".SmsReceiver"))).Append(
				axml.NewElement("intent-filter").Append(
					axml.NewElement("action", axml.AndroidAttr("name", axml.Str("android.provider.Telephony.SMS_RECEIVED"))),
				),
			),
		),
	)
	tree, _ := axml.Decode(mustAxml(doc))
	m, err := manifest.Parse(tree, table)
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Application.NetworkSecurityConfig.Path)
	for _, c := range m.Application.Components {
		fmt.Println(c.Locator, c.Exported, c.ExportReason)
	}
	// Output:
	// res/xml/network_security_config.xml
	// receiver[com.example.wallet.SmsReceiver] true implicit-intent-filter
}

func mustArsc(t *arsc.Table) []byte {
	b, err := arsc.Encode(t)
	if err != nil {
		panic(err)
	}
	return b
}

func mustAxml(e *axml.Element) []byte {
	b, err := axml.Encode(e)
	if err != nil {
		panic(err)
	}
	return b
}
