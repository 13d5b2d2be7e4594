package authn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
)

// softAuthenticator is a platform authenticator in Go: it creates ECDSA
// P-256 credentials with "none" attestation and signs assertions, so the
// tests can register and sign in without a browser. Its fields let a test
// lie the way an attacker would (origin, RP ID, counter).
type softAuthenticator struct {
	origin string // put into clientDataJSON
	rpID   string // hashed into authenticatorData
	creds  []*softCredential
}

type softCredential struct {
	id         []byte
	key        *ecdsa.PrivateKey
	userHandle []byte
	counter    uint32
}

func newSoftAuthenticator(origin, rpID string) *softAuthenticator {
	return &softAuthenticator{origin: origin, rpID: rpID}
}

var b64 = base64.RawURLEncoding

// Authenticator data flags (WebAuthn §6.1).
const (
	flagUP = 0x01
	flagUV = 0x04
	flagAT = 0x40
)

// creationOptions is the part of PublicKeyCredentialCreationOptions read here.
type creationOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	} `json:"publicKey"`
}

type requestOptions struct {
	PublicKey struct {
		Challenge        string `json:"challenge"`
		RPID             string `json:"rpId"`
		AllowCredentials []struct {
			ID string `json:"id"`
		} `json:"allowCredentials"`
	} `json:"publicKey"`
}

func (a *softAuthenticator) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.origin, "crossOrigin": false})
	return b
}

func (a *softAuthenticator) authData(flags byte, counter uint32, attested []byte) []byte {
	h := sha256.Sum256([]byte(a.rpID))
	out := append(h[:], flags)
	out = binary.BigEndian.AppendUint32(out, counter)
	return append(out, attested...)
}

// create answers navigator.credentials.create for the options JSON.
func (a *softAuthenticator) create(optionsJSON []byte) (response []byte, cred *softCredential, err error) {
	var o creationOptions
	if err := json.Unmarshal(optionsJSON, &o); err != nil {
		return nil, nil, fmt.Errorf("creation options: %w (%s)", err, optionsJSON)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	handle, err := b64.DecodeString(o.PublicKey.User.ID)
	if err != nil {
		return nil, nil, err
	}
	cred = &softCredential{id: make([]byte, 32), key: key, userHandle: handle}
	_, _ = rand.Read(cred.id)

	pub, err := key.PublicKey.ECDH()
	if err != nil {
		return nil, nil, err
	}
	raw := pub.Bytes() // 0x04 || X || Y
	cose := cborMap(
		cborInt(1), cborInt(2), // kty: EC2
		cborInt(3), cborInt(-7), // alg: ES256
		cborInt(-1), cborInt(1), // crv: P-256
		cborInt(-2), cborBytes(raw[1:33]),
		cborInt(-3), cborBytes(raw[33:65]),
	)
	attested := make([]byte, 16) // AAGUID: zero for "none" attestation
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(cred.id)))
	attested = append(attested, cred.id...)
	attested = append(attested, cose...)
	authData := a.authData(flagUP|flagUV|flagAT, 0, attested)
	attObj := cborMap(
		cborText("fmt"), cborText("none"),
		cborText("attStmt"), cborMap(),
		cborText("authData"), cborBytes(authData),
	)
	a.creds = append(a.creds, cred)
	response, err = json.Marshal(map[string]any{
		"id": b64.EncodeToString(cred.id), "rawId": b64.EncodeToString(cred.id), "type": "public-key",
		"clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(a.clientData("webauthn.create", o.PublicKey.Challenge)),
			"attestationObject": b64.EncodeToString(attObj),
			"transports":        []string{"internal"},
		},
	})
	return response, cred, err
}

// get answers navigator.credentials.get with credential c (or the first
// allowed or known credential when c is nil).
func (a *softAuthenticator) get(optionsJSON []byte, c *softCredential) ([]byte, error) {
	var o requestOptions
	if err := json.Unmarshal(optionsJSON, &o); err != nil {
		return nil, fmt.Errorf("request options: %w (%s)", err, optionsJSON)
	}
	if c == nil {
		if len(a.creds) == 0 {
			return nil, fmt.Errorf("no credential")
		}
		c = a.creds[len(a.creds)-1]
	}
	c.counter++
	return a.assert(c, o.PublicKey.Challenge, c.counter, c.key)
}

// assert builds an assertion for challenge with the given counter, signed
// by key (a different key forges the signature).
func (a *softAuthenticator) assert(c *softCredential, challenge string, counter uint32, key *ecdsa.PrivateKey) ([]byte, error) {
	cd := a.clientData("webauthn.get", challenge)
	authData := a.authData(flagUP|flagUV, counter, nil)
	h := sha256.Sum256(cd)
	// The signature covers authenticatorData || SHA-256(clientDataJSON);
	// ECDSA signs its SHA-256 digest.
	digest := sha256.Sum256(append(append([]byte{}, authData...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(c.id), "rawId": b64.EncodeToString(c.id), "type": "public-key",
		"clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(cd),
			"authenticatorData": b64.EncodeToString(authData),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString(c.userHandle),
		},
	})
}

// Minimal CBOR encoding (RFC 8949) for the attestation object.

func cborHead(major byte, n uint64) []byte {
	switch {
	case n < 24:
		return []byte{major<<5 | byte(n)}
	case n < 1<<8:
		return []byte{major<<5 | 24, byte(n)}
	case n < 1<<16:
		return binary.BigEndian.AppendUint16([]byte{major<<5 | 25}, uint16(n))
	default:
		return binary.BigEndian.AppendUint32([]byte{major<<5 | 26}, uint32(n))
	}
}

func cborInt(v int64) []byte {
	if v >= 0 {
		return cborHead(0, uint64(v))
	}
	return cborHead(1, uint64(-1-v))
}

func cborBytes(b []byte) []byte { return append(cborHead(2, uint64(len(b))), b...) }
func cborText(s string) []byte  { return append(cborHead(3, uint64(len(s))), s...) }

func cborMap(kv ...[]byte) []byte {
	out := cborHead(5, uint64(len(kv)/2))
	for _, b := range kv {
		out = append(out, b...)
	}
	return out
}
