package axml_test

import (
	"fmt"

	"github.com/dfslab/dfslab/internal/apk/axml"
)

// Building a manifest for a test APK: android: attributes get their
// framework resource IDs automatically.
func ExampleEncode() {
	manifest := axml.NewElement("manifest", axml.PlainAttr("package", axml.Str("com.example.wallet"))).Append(
		axml.NewElement("uses-sdk", axml.AndroidAttr("minSdkVersion", axml.Int(21))),
		axml.NewElement("application", axml.AndroidAttr("debuggable", axml.Bool(true))),
	)
	b, err := axml.Encode(manifest)
	if err != nil {
		panic(err)
	}
	root, err := axml.Decode(b)
	if err != nil {
		panic(err)
	}
	fmt.Print(root)
	// Output:
	// E: manifest
	//   A: package="com.example.wallet"
	//   E: uses-sdk
	//     A: {http://schemas.android.com/apk/res/android}minSdkVersion(0x0101020c)=21
	//   E: application
	//     A: {http://schemas.android.com/apk/res/android}debuggable(0x0101000f)=true
}
