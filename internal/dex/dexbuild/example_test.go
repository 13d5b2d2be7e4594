package dexbuild_test

import (
	"fmt"

	"github.com/dfslab/dfslab/internal/dex"
	"github.com/dfslab/dfslab/internal/dex/dexbuild"
)

// A test app in which method m of class C calls Cipher.getInstance with a
// weak transformation, read back with the dex package.
func Example() {
	b := dexbuild.New()
	b.Class("Lcom/app/C;").Method("m", "()V").CallStatic(
		"Ljavax/crypto/Cipher;->getInstance(Ljava/lang/String;)Ljavax/crypto/Cipher;",
		dexbuild.Str("AES/ECB/PKCS5Padding"))
	data, err := b.Bytes()
	if err != nil {
		panic(err)
	}

	f, err := dex.Parse(data, nil)
	if err != nil {
		panic(err)
	}
	c := &f.Classes()[0]
	var a dex.Analyzer
	cd, err := a.ClassData(f, c)
	if err != nil {
		panic(err)
	}
	m := cd.VirtualMethods[0] // m, the only method
	code, err := f.Code(m.CodeOff)
	if err != nil {
		panic(err)
	}
	var facts dex.Facts
	if err := a.AnalyzeMethod(f, m.Method, &code, &facts); err != nil {
		panic(err)
	}
	for i := range facts.Calls {
		cs := &facts.Calls[i]
		fmt.Printf("%s calls %s with %q\n", f.Method(cs.Caller), f.Method(cs.Method).Name, facts.Args(cs)[0].Str)
	}
	// Output: Lcom/app/C;->m()V calls getInstance with "AES/ECB/PKCS5Padding"
}

// Constants that rules look for: a static IV, a key from a string, a
// world-readable file mode and FLAG_SECURE.
func ExampleMethod_Call() {
	b := dexbuild.New()
	act := b.Class("Lcom/app/MainActivity;").Extends("Landroid/app/Activity;")
	m := act.Method("onCreate", "(Landroid/os/Bundle;)V")
	m.CallDirect("Ljavax/crypto/spec/IvParameterSpec;-><init>([B)V",
		dexbuild.NewObj("Ljavax/crypto/spec/IvParameterSpec;"), dexbuild.Bytes([]byte{0, 1, 2, 3}))
	m.CallDirect("Ljavax/crypto/spec/SecretKeySpec;-><init>([BLjava/lang/String;)V",
		dexbuild.NewObj("Ljavax/crypto/spec/SecretKeySpec;"), dexbuild.StrBytes("hunter2"), dexbuild.Str("AES"))
	// v0 is "this" by convention of these tests: any register will do for
	// the receiver, the analysis only looks at the arguments.
	m.CallVirtual("Lcom/app/MainActivity;->openFileOutput(Ljava/lang/String;I)Ljava/io/FileOutputStream;",
		dexbuild.Reg(0), dexbuild.Str("pin.txt"), dexbuild.Int(1))
	data := b.MustBytes()
	fmt.Println(len(data) > 0)
	// Output: true
}
