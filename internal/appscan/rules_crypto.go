package appscan

import (
	"strings"

	"github.com/dfslab/dfslab/internal/apk"
)

// transformation returns the upper-cased cipher transformation of a
// Cipher.getInstance call, or "" when it is not a constant.
func transformation(c *apk.Call) string {
	if a := arg(c, 0); a.Kind == apk.ValueString {
		return strings.ToUpper(strings.TrimSpace(a.Str))
	}
	return ""
}

func algorithm(t string) string {
	a, _, _ := strings.Cut(t, "/")
	return a
}

// cipherRule matches Cipher.getInstance constants, at the call or passed
// to it through a field or a parameter.
func cipherRule(m RuleMeta, msg string, match func(t string) bool) *rule {
	return algorithmRule(m, msg, func(t string) bool { return match(strings.ToUpper(strings.TrimSpace(t))) }, "javax.crypto.Cipher.getInstance")
}

// algorithmRule reports calls whose first argument names an algorithm
// that match accepts: a constant at the call, or one that reaches it
// through a field or a parameter (a helper hash(data, "MD5")).
func algorithmRule(m RuleMeta, msg string, match func(name string) bool, targets ...string) *rule {
	return &rule{RuleMeta: m, calls: targets, onCall: func(mc *methodCtx, c *apk.Call, emit emitFunc) {
		a := arg(c, 0)
		if a.Kind == apk.ValueString {
			if match(a.Str) {
				emit(mc.hit(msg, callText(c)))
			}
			return
		}
		mc.followArg(a, mc.hit(msg, callText(c)), func(k constant) (string, bool) {
			if k.Bytes || !match(k.Str) {
				return "", false
			}
			return msg + ": " + quote(k.Str, 40) + viaText(k), true
		})
	}}
}

// constantMaterial reports hits for key or IV material that is a constant
// at the call (immediate) or reaches it through fields and parameters.
func (mc *methodCtx) constantMaterial(c *apk.Call, a apk.Value, msg string) {
	ev := c.Class + ".<init>(constant bytes)"
	if constBytes(mc, a) {
		mc.emit(mc.hit(msg, ev))
		return
	}
	mc.followArg(a, mc.hit(msg, ev), func(k constant) (string, bool) {
		if k.Str == "" {
			return "", false
		}
		return msg + viaText(k), true
	})
}

// constBytes reports whether a is a constant key/IV: a filled byte array or
// the bytes of a string constant (the typical "key".getBytes() idiom).
func constBytes(mc *methodCtx, a apk.Value) bool {
	switch a.Kind {
	case apk.ValueBytes, apk.ValueString:
		return true
	case apk.ValueUnknown:
		// new IvParameterSpec("0123456789abcdef".getBytes()): the call
		// site sees an unknown array, but the method converts a constant.
		return len(mc.method.Strings) > 0 && mc.calls("java.lang.String.getBytes") && !mc.calls("java.security.SecureRandom.nextBytes")
	}
	return false
}

// secretContext reports whether a method or class name suggests it makes
// secrets (tokens, OTPs, keys, PINs, salts, nonces).
func secretContext(mc *methodCtx) bool {
	return containsFold(mc.method.Name+" "+mc.class.Name, "token", "otp", "password", "passwd", "secret", "nonce", "salt", "session", "crypt", "key")
}

// ivDiscarded reports whether the IV built in the current method cannot be
// used: the method's cipher is ECB (which takes no IV), or every
// Cipher.init it makes passes no parameters. A helper that builds an IV
// "just in case" and then runs ECB has an ECB problem, reported as such,
// not an IV one.
func (mc *methodCtx) ivDiscarded() bool {
	inits, withParams, ecb := 0, 0, false
	for i := range mc.method.Calls {
		k := &mc.method.Calls[i]
		if k.Class != "javax.crypto.Cipher" {
			continue
		}
		switch k.Name {
		case "getInstance":
			if t := transformation(k); t != "" && (strings.Contains(t, "/ECB/") || t == "AES" || t == "DES" || t == "DESEDE") {
				ecb = true
			}
		case "init":
			inits++
			if strings.Contains(k.Descriptor, "Spec;") || strings.Contains(k.Descriptor, "AlgorithmParameters;") {
				withParams++
			}
		}
	}
	return ecb && withParams == 0 || inits > 0 && withParams == 0
}

// verifiesPlatformSignature reports whether the current method only
// verifies a signature in a billing or purchase context: Google Play signs
// purchase data with SHA1withRSA, and the app can only verify it that way.
func (mc *methodCtx) verifiesPlatformSignature() bool {
	verify, sign := false, false
	for _, k := range mc.method.Calls {
		if k.Class == "java.security.Signature" {
			verify = verify || k.Name == "initVerify" || k.Name == "verify"
			sign = sign || k.Name == "initSign" || k.Name == "sign"
		}
	}
	return verify && !sign && containsFold(mc.class.Name+" "+mc.method.Name, "billing", "purchase", "iab", "inapp", "receipt")
}

func cryptoRules() []*rule {
	return []*rule{
		cipherRule(meta("DFS-CRYPTO-001", High, high, "DES or Triple DES cipher",
			"The app encrypts with DES or 3DES (DESede); DES keys are brute-forceable and 3DES has a 64-bit block that leaks data (Sweet32).",
			"Use AES-GCM with 128- or 256-bit keys held in the Android Keystore.",
			mp("MASVS-CRYPTO-1", 327, "M5", "M10", "T5.1")), "DES/3DES cipher",
			func(t string) bool {
				a := algorithm(t)
				return a == "DES" || a == "DESEDE" || a == "TRIPLEDES" || a == "3DES"
			}),
		cipherRule(meta("DFS-CRYPTO-002", High, high, "RC4 cipher",
			"RC4 (ARCFOUR) has biased output and is broken for confidentiality.",
			"Use AES-GCM or ChaCha20-Poly1305.",
			mp("MASVS-CRYPTO-1", 327, "M5", "M10", "T5.1")), "RC4 cipher",
			func(t string) bool { a := algorithm(t); return a == "RC4" || a == "ARCFOUR" || a == "ARC4" }),
		cipherRule(meta("DFS-CRYPTO-003", Medium, high, "Blowfish cipher",
			"Blowfish has a 64-bit block size, which is unsafe for large amounts of data, and is not a recommended algorithm.",
			"Use AES-GCM.",
			mp("MASVS-CRYPTO-1", 327, "M5", "M10", "T5.1")), "Blowfish cipher",
			func(t string) bool { return algorithm(t) == "BLOWFISH" }),
		cipherRule(meta("DFS-CRYPTO-004", High, high, "ECB mode encryption",
			"The cipher uses ECB mode, explicitly or by naming only \"AES\" (which defaults to ECB); equal plaintext blocks give equal ciphertext blocks, so patterns leak.",
			"Use AES/GCM/NoPadding with a fresh random IV per message.",
			mp("MASVS-CRYPTO-1", 327, "M5", "M10", "T5.1")), "ECB mode",
			func(t string) bool { return strings.Contains(t, "/ECB/") || t == "AES" || t == "DES" || t == "DESEDE" }),
		{RuleMeta: meta("DFS-CRYPTO-005", High, med, "Static initialisation vector",
			"IvParameterSpec is built from constant bytes, so every message uses the same IV; for CBC this reveals equal prefixes, for GCM it breaks confidentiality and integrity.",
			"Generate a fresh IV with SecureRandom for every encryption and store it next to the ciphertext.",
			mp("MASVS-CRYPTO-1", 329, "M5", "M10", "T5.1")),
			calls: []string{"javax.crypto.spec.IvParameterSpec.<init>", "javax.crypto.spec.GCMParameterSpec.<init>"},
			onCall: func(mc *methodCtx, c *apk.Call, emit emitFunc) {
				i := 0
				if c.Class == "javax.crypto.spec.GCMParameterSpec" {
					i = 1
				}
				if !mc.ivDiscarded() {
					mc.constantMaterial(c, arg(c, i), "constant IV")
				}
			}},
		{RuleMeta: meta("DFS-CRYPTO-006", Critical, med, "Hard-coded encryption key",
			"A key (SecretKeySpec, DESKeySpec, DESedeKeySpec) or a password-based key's password (PBEKeySpec) is built from constant bytes, at the call or through a field or a parameter of another method, Base64 decoding included; the key ships inside the app, so anyone can extract it and decrypt or forge the protected data (Cipher.init and Mac.init with such a key).",
			"Generate keys in the Android Keystore, or derive them from user secrets with a slow KDF; never embed them.",
			mp("MASVS-CRYPTO-2", 321, "M5", "M10", "T5.1")),
			calls: []string{"javax.crypto.spec.SecretKeySpec.<init>", "javax.crypto.spec.DESKeySpec.<init>", "javax.crypto.spec.DESedeKeySpec.<init>",
				"javax.crypto.spec.PBEKeySpec.<init>"},
			onCall: func(mc *methodCtx, c *apk.Call, emit emitFunc) {
				a := arg(c, 0)
				if c.Class == "javax.crypto.spec.PBEKeySpec" {
					// The password: "pw".toCharArray() or a field holding it.
					if a.Kind == apk.ValueBytes || a.Kind == apk.ValueField || a.Kind == apk.ValueParam {
						mc.constantMaterial(c, a, "constant password of a password-based key")
					}
					return
				}
				mc.constantMaterial(c, a, "constant key material")
			}},
		algorithmRule(meta("DFS-CRYPTO-007", Medium, med, "MD5 hash in use",
			"MD5 is broken for collision resistance and must not protect integrity, passwords or signatures. The name is followed from the callers of a helper that takes it as a parameter.",
			"Use SHA-256 or better; for passwords, a slow KDF (PBKDF2, scrypt, Argon2).",
			mp("MASVS-CRYPTO-1", 328, "M5", "M10", "T5.1")), "MD5 digest",
			func(name string) bool { return strings.EqualFold(name, "MD5") },
			"java.security.MessageDigest.getInstance"),
		algorithmRule(meta("DFS-CRYPTO-008", Medium, med, "SHA-1 hash in use",
			"SHA-1 has practical collisions and must not protect integrity or signatures. The name is followed from the callers of a helper that takes it as a parameter.",
			"Use SHA-256 or better.",
			mp("MASVS-CRYPTO-1", 328, "M5", "M10", "T5.1")), "SHA-1 digest",
			func(name string) bool {
				return strings.EqualFold(name, "SHA-1") || strings.EqualFold(name, "SHA1") || strings.EqualFold(name, "SHA")
			}, "java.security.MessageDigest.getInstance"),
		callRule(meta("DFS-CRYPTO-009", Medium, low, "Non-cryptographic random for secrets",
			"java.util.Random or Math.random is used in code that makes tokens, OTPs, keys or salts; its output is predictable from a few samples.",
			"Use java.security.SecureRandom for every security-relevant random value.",
			mp("MASVS-CRYPTO-1", 338, "M5", "M10", "T5.1")), "predictable random",
			func(mc *methodCtx, _ *apk.Call) bool { return secretContext(mc) }, "java.util.Random.<init>", "java.lang.Math.random"),
		callRule(meta("DFS-CRYPTO-010", Medium, med, "SecureRandom seeded with a constant",
			"SecureRandom receives a fixed seed (setSeed or the seed constructor); on some providers that makes the output predictable.",
			"Do not seed SecureRandom; let the platform seed it.",
			mp("MASVS-CRYPTO-1", 336, "M5", "M10", "T5.1")), "constant seed",
			func(mc *methodCtx, c *apk.Call) bool {
				a := arg(c, 0)
				return a.Kind == apk.ValueInt || constBytes(mc, a)
			},
			"java.security.SecureRandom.setSeed", "java.security.SecureRandom.<init>"),
		cipherRule(meta("DFS-CRYPTO-011", Medium, high, "RSA without OAEP padding",
			"RSA is used with PKCS#1 v1.5 or no padding; these are open to padding-oracle and malleability attacks.",
			"Use RSA/ECB/OAEPWithSHA-256AndMGF1Padding, or hybrid encryption with AES-GCM.",
			mp("MASVS-CRYPTO-1", 780, "M5", "M10", "T5.1")), "RSA without OAEP",
			func(t string) bool {
				return algorithm(t) == "RSA" && !strings.Contains(t, "OAEP")
			}),
		{RuleMeta: meta("DFS-CRYPTO-012", Medium, med, "Low PBKDF iteration count",
			"PBEKeySpec is given fewer than 10 000 iterations, which makes brute-forcing the password cheap.",
			"Use at least 210 000 iterations of PBKDF2-HMAC-SHA256, or scrypt/Argon2.",
			mp("MASVS-CRYPTO-1", 916, "M5", "M10", "T5.1")),
			calls: []string{"javax.crypto.spec.PBEKeySpec.<init>"},
			onCall: func(mc *methodCtx, c *apk.Call, emit emitFunc) {
				if a := arg(c, 2); a.Kind == apk.ValueInt && a.Int < 10000 {
					emit(mc.hit("iterations="+itoa(a.Int), callText(c)))
				}
			}},
		cipherRule(meta("DFS-CRYPTO-013", Low, low, "Unauthenticated CBC encryption",
			"AES in CBC mode without a MAC lets an attacker flip bits and, with error feedback, decrypt data (padding oracle).",
			"Prefer AES-GCM, or add an HMAC over IV and ciphertext (encrypt-then-MAC).",
			mp("MASVS-CRYPTO-1", 649, "M5", "M10", "T5.1")), "CBC without authentication",
			func(t string) bool { return strings.Contains(t, "/CBC/") }),
		callRule(meta("DFS-CRYPTO-014", Low, med, "HMAC with MD5 or SHA-1",
			"HmacMD5 or HmacSHA1 is used; while not broken as HMACs, they are deprecated and fail most compliance baselines.",
			"Use HmacSHA256 or stronger.",
			mp("MASVS-CRYPTO-1", 328, "M5", "M10", "T5.1")), "weak HMAC",
			func(_ *methodCtx, c *apk.Call) bool {
				a := arg(c, 0)
				return a.Kind == apk.ValueString && (strings.EqualFold(a.Str, "HmacMD5") || strings.EqualFold(a.Str, "HmacSHA1"))
			}, "javax.crypto.Mac.getInstance"),
		callRule(meta("DFS-CRYPTO-015", High, med, "Weak key size",
			"A key generator is initialised with a size below today's minimum (RSA/DSA/DH below 2048 bits, symmetric below 128).",
			"Use RSA 3072 (at least 2048), EC P-256 or better, AES 128/256.",
			mp("MASVS-CRYPTO-1", 326, "M5", "M10", "T5.1")), "short key",
			func(_ *methodCtx, c *apk.Call) bool {
				a := arg(c, 0)
				if a.Kind != apk.ValueInt {
					return false
				}
				if c.Class == "javax.crypto.KeyGenerator" {
					return a.Int < 128
				}
				return a.Int < 2048 && a.Int > 521 || a.Int < 224
			}, "java.security.KeyPairGenerator.initialize", "javax.crypto.KeyGenerator.init"),
		appCodeOnly(&rule{RuleMeta: meta("DFS-CRYPTO-017", High, med, "XOR \"encryption\" with a constant key",
			"A method reads a byte or char array, XORs it and writes it back with a key that is a constant (a literal, or a constant string or field); anyone can recover the key from the app and undo the \"encryption\" of the data it protects.",
			"Encrypt with AES-GCM and a key held in the Android Keystore; XOR with a fixed key is obfuscation, not encryption.",
			mp("MASVS-CRYPTO-1", 327, "M5", "M10", "T5.1")),
			onMethod: func(mc *methodCtx, emit emitFunc) {
				m := mc.method
				if m.Ops&(apk.OpArrayRead|apk.OpArrayWrite) != apk.OpArrayRead|apk.OpArrayWrite || m.Ops&(apk.OpXor|apk.OpXorLit) == 0 {
					return
				}
				// Checksums and hashes XOR too, with constants of their
				// own; they are not encryption.
				if m.Name == "hashCode" || containsFold(mc.class.Name+"."+m.Name, "crc", "hash", "checksum", "digest", "murmur", "base64", "uuid", "random") {
					return
				}
				if key, ok := mc.xorKey(); ok {
					emit(mc.hit("XOR with a constant key", key))
				}
			}}),
		callRule(meta("DFS-CRYPTO-016", Medium, med, "Weak signature algorithm",
			"Signatures are made or checked with MD5 or SHA-1 digests, which allow forgeries through collisions.",
			"Use SHA256withRSA/ECDSA or stronger.",
			mp("MASVS-CRYPTO-1", 327, "M5", "M10", "T5.1")), "weak signature algorithm",
			func(mc *methodCtx, c *apk.Call) bool {
				a := arg(c, 0)
				weak := a.Kind == apk.ValueString && (strings.HasPrefix(strings.ToUpper(a.Str), "MD5WITH") || strings.HasPrefix(strings.ToUpper(a.Str), "SHA1WITH"))
				return weak && !mc.verifiesPlatformSignature()
			}, "java.security.Signature.getInstance"),
	}
}

// xorKey finds the constant key of an XOR loop in the current method: a
// constant string turned into bytes or chars, a field holding a constant,
// or, failing those, the literal of xor-int/lit.
func (mc *methodCtx) xorKey() (string, bool) {
	m := mc.method
	if m.Ops&apk.OpXor != 0 {
		for i := range m.Calls {
			c := &m.Calls[i]
			if c.Class == "java.lang.String" && (c.Name == "getBytes" || c.Name == "toCharArray" || c.Name == "charAt") && len(m.Strings) > 0 {
				return "key " + quote(m.Strings[0], 40), true
			}
		}
		for _, f := range m.StaticGets {
			if c, ok := mc.scan.resolve(follow{v: apk.Value{Kind: apk.ValueField, Str: f}}, nil); ok && c.Str != "" {
				return "key from field " + f, true
			}
		}
	}
	if m.Ops&apk.OpXorLit != 0 {
		return "XOR with a literal", true
	}
	return "", false
}
