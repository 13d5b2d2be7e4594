package appscan

import (
	"slices"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/dex/dexbuild"
)

const (
	keySpecInit = "Ljavax/crypto/spec/SecretKeySpec;-><init>([BLjava/lang/String;)V"
	getBytes    = "Ljava/lang/String;->getBytes()[B"
	b64Decode   = "Landroid/util/Base64;->decode(Ljava/lang/String;I)[B"
	cryptoCls   = "Lcom/example/app/Crypto;"
	keysCls     = "Lcom/example/app/Keys;"
)

// keyFromParam is Crypto.encrypt([B)V building a SecretKeySpec from its
// parameter, and Worker.run calling it with arg.
func keyFromParam(arg func(m *dexbuild.Method)) *app {
	return &app{Dex: func(b *dexbuild.Builder) {
		enc := b.Class(cryptoCls).Method("encrypt", "([B)V").Static().Locals(2)
		enc.NewInstance(0, "Ljavax/crypto/spec/SecretKeySpec;").ConstString(1, "AES").
			Invoke(dexbuild.InvokeDirect, keySpecInit, 0, enc.ParamReg(0), 1)
		run := b.Class(worker).Method("run", "()V")
		arg(run) // leaves the key in v0
		run.Invoke(dexbuild.InvokeStatic, cryptoCls+"->encrypt([B)V", 0)
	}}
}

// TestConstantFlow: constants that reach a sensitive call through fields,
// parameters, Base64 decoding and string builders are found; values that
// are not constants are not.
func TestConstantFlow(t *testing.T) {
	tests := []struct {
		name string
		rule string
		app  *app
		want string // substring of the finding's message; "" means no finding
	}{
		{
			name: "key through a parameter",
			rule: "DFS-CRYPTO-006",
			app: keyFromParam(func(m *dexbuild.Method) {
				m.ConstString(1, "0123456789abcdef").Invoke(dexbuild.InvokeVirtual, getBytes, 1).MoveResultObject(0)
			}),
			want: "parameter 0 of com.example.app.Crypto.encrypt, from com.example.app.Worker.run",
		},
		{
			name: "random key through a parameter",
			rule: "DFS-CRYPTO-006",
			app: keyFromParam(func(m *dexbuild.Method) {
				m.Const(1, 16).NewArray(0, 1, "[B").NewInstance(2, "Ljava/security/SecureRandom;").
					Invoke(dexbuild.InvokeVirtual, "Ljava/security/SecureRandom;->nextBytes([B)V", 2, 0)
			}),
		},
		{
			name: "Base64 key through a parameter",
			rule: "DFS-CRYPTO-006",
			app: keyFromParam(func(m *dexbuild.Method) {
				m.ConstString(1, "MDEyMzQ1Njc4OWFiY2RlZg==").Const(2, 0).Invoke(dexbuild.InvokeStatic, b64Decode, 1, 2).MoveResultObject(0)
			}),
			want: "constant key material",
		},
		{
			name: "key in a static field set by <clinit>",
			rule: "DFS-CRYPTO-006",
			app: &app{Dex: func(b *dexbuild.Builder) {
				k := b.Class(keysCls).Field("KEY", "Ljava/lang/String;", dexbuild.AccStatic)
				k.Method("<clinit>", "()V").ConstString(0, "s3cr3t-k3y-0123!").SPut(0, keysCls+"->KEY:Ljava/lang/String;")
				m := b.Class(worker).Method("run", "()V")
				m.SGet(0, keysCls+"->KEY:Ljava/lang/String;").Invoke(dexbuild.InvokeVirtual, getBytes, 0).MoveResultObject(1).
					NewInstance(2, "Ljavax/crypto/spec/SecretKeySpec;").ConstString(3, "AES").Invoke(dexbuild.InvokeDirect, keySpecInit, 2, 1, 3)
			}},
			want: "field com.example.app.Keys.KEY",
		},
		{
			name: "IV kept by a constructor, from the caller's constant",
			rule: "DFS-CRYPTO-005",
			app: &app{Dex: func(b *dexbuild.Builder) {
				c := b.Class(cryptoCls).Field("iv", "[B", 0)
				ctor := c.Method("<init>", "([B)V").Locals(0)
				ctor.IPut(ctor.ParamReg(1), ctor.ParamReg(0), cryptoCls+"->iv:[B")
				enc := c.Method("encrypt", "()V")
				enc.Locals(2).IGet(1, enc.ParamReg(0), cryptoCls+"->iv:[B").NewInstance(0, "Ljavax/crypto/spec/IvParameterSpec;").
					Invoke(dexbuild.InvokeDirect, ivInit, 0, 1)
				m := b.Class(worker).Method("run", "()V")
				m.ConstString(1, "fedcba9876543210").Invoke(dexbuild.InvokeVirtual, getBytes, 1).MoveResultObject(1).
					NewInstance(0, cryptoCls).Invoke(dexbuild.InvokeDirect, cryptoCls+"-><init>([B)V", 0, 1)
			}},
			want: "field com.example.app.Crypto.iv, parameter 0 of com.example.app.Crypto.<init>",
		},
		{
			name: "MD5 named by the caller of a hash helper",
			rule: "DFS-CRYPTO-007",
			app: &app{Dex: func(b *dexbuild.Builder) {
				h := b.Class(cryptoCls).Method("hash", "(Ljava/lang/String;)V").Static().Locals(1)
				h.Invoke(dexbuild.InvokeStatic, digestGet, h.ParamReg(0))
				b.Class(worker).Method("run", "()V").ConstString(0, "MD5").Invoke(dexbuild.InvokeStatic, cryptoCls+"->hash(Ljava/lang/String;)V", 0)
			}},
			want: `MD5 digest: "MD5" (through parameter 0`,
		},
		{
			name: "SHA-256 named by the caller of a hash helper",
			rule: "DFS-CRYPTO-007",
			app: &app{Dex: func(b *dexbuild.Builder) {
				h := b.Class(cryptoCls).Method("hash", "(Ljava/lang/String;)V").Static().Locals(1)
				h.Invoke(dexbuild.InvokeStatic, digestGet, h.ParamReg(0))
				b.Class(worker).Method("run", "()V").ConstString(0, "SHA-256").Invoke(dexbuild.InvokeStatic, cryptoCls+"->hash(Ljava/lang/String;)V", 0)
			}},
		},
		{
			name: "cleartext URL built from a host",
			rule: "DFS-CODE-020",
			app: body(func(m *dexbuild.Method) {
				m.NewInstance(0, "Ljava/lang/StringBuilder;").Invoke(dexbuild.InvokeDirect, sbInit, 0).
					ConstString(1, "http://").Invoke(dexbuild.InvokeVirtual, sbAppendStr, 0, 1).MoveResultObject(0).
					SGet(2, "Lcom/example/app/Config;->host:Ljava/lang/String;").Invoke(dexbuild.InvokeVirtual, sbAppendStr, 0, 2).
					ConstString(1, "/api/v1/transfer").Invoke(dexbuild.InvokeVirtual, sbAppendStr, 0, 1).
					Invoke(dexbuild.InvokeVirtual, sbToString, 0).MoveResultObject(3).
					NewInstance(4, "Ljava/net/URL;").Invoke(dexbuild.InvokeDirect, "Ljava/net/URL;-><init>(Ljava/lang/String;)V", 4, 3)
			}),
			want: `"http://" + … + "/api/v1/transfer"`,
		},
		{
			name: "https URL built from a host",
			rule: "DFS-CODE-020",
			app: body(func(m *dexbuild.Method) {
				m.NewInstance(0, "Ljava/lang/StringBuilder;").Invoke(dexbuild.InvokeDirect, sbInit, 0).
					ConstString(1, "https://").Invoke(dexbuild.InvokeVirtual, sbAppendStr, 0, 1).
					SGet(2, "Lcom/example/app/Config;->host:Ljava/lang/String;").Invoke(dexbuild.InvokeVirtual, sbAppendStr, 0, 2).
					Invoke(dexbuild.InvokeVirtual, sbToString, 0).MoveResultObject(3).
					NewInstance(4, "Ljava/net/URL;").Invoke(dexbuild.InvokeDirect, "Ljava/net/URL;-><init>(Ljava/lang/String;)V", 4, 3)
			}),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := scanSpec(t, tc.app, tc.rule, false)
			i := slices.IndexFunc(res.Findings, func(f Finding) bool { return f.RuleID == tc.rule })
			switch {
			case tc.want == "" && i >= 0:
				t.Errorf("unexpected %s: %s (%s)", tc.rule, res.Findings[i].Message, res.Findings[i].Evidence)
			case tc.want != "" && i < 0:
				t.Errorf("no %s; findings %v warnings %q", tc.rule, res.Findings, res.Warnings)
			case tc.want != "" && !strings.Contains(res.Findings[i].Message+" "+res.Findings[i].Evidence, tc.want):
				t.Errorf("%s: %q / %q, want %q in it", tc.rule, res.Findings[i].Message, res.Findings[i].Evidence, tc.want)
			}
		})
	}
}
