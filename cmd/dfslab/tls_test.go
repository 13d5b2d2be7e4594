package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"
)

// selfSigned returns a certificate for "localhost" with key k.
func selfSigned(t *testing.T, k crypto.Signer) tls.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}
}

// handshake connects a client with cfg to a server with the serve's TLS
// configuration and certificate, and returns the client's error.
func handshake(t *testing.T, cert tls.Certificate, client *tls.Config) (tls.ConnectionState, error) {
	t.Helper()
	srv := tlsConfig()
	srv.Certificates = []tls.Certificate{cert}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", srv)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.(*tls.Conn).Handshake()
	}()
	raw, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(10 * time.Second))
	client.InsecureSkipVerify = true // the suite is under test, not the certificate
	c := tls.Client(raw, client)
	err = c.Handshake()
	return c.ConnectionState(), err
}

func TestTLSRefusesCBCSuites(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ec, rs := selfSigned(t, ecKey), selfSigned(t, rsaKey)
	tls12 := func(suite uint16) *tls.Config {
		return &tls.Config{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{suite}}
	}
	cases := []struct {
		name   string
		cert   tls.Certificate
		client *tls.Config
		ok     bool
	}{
		{"ECDHE-ECDSA-AES128-SHA", ec, tls12(tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA), false},
		{"ECDHE-ECDSA-AES256-SHA", ec, tls12(tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA), false},
		{"ECDHE-RSA-AES128-SHA", rs, tls12(tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA), false},
		{"ECDHE-RSA-AES256-SHA", rs, tls12(tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA), false},
		{"RSA-AES128-GCM (no forward secrecy)", rs, tls12(tls.TLS_RSA_WITH_AES_128_GCM_SHA256), false},
		{"ECDHE-ECDSA-AES128-GCM", ec, tls12(tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256), true},
		{"ECDHE-ECDSA-AES256-GCM", ec, tls12(tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384), true},
		{"ECDHE-ECDSA-CHACHA20", ec, tls12(tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256), true},
		{"ECDHE-RSA-AES128-GCM", rs, tls12(tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256), true},
		{"ECDHE-RSA-AES256-GCM", rs, tls12(tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384), true},
		{"ECDHE-RSA-CHACHA20", rs, tls12(tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256), true},
		{"TLS 1.3", ec, &tls.Config{MinVersion: tls.VersionTLS13}, true},
		{"TLS 1.1", rs, &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}, false},
	}
	for _, c := range cases {
		st, err := handshake(t, c.cert, c.client)
		if (err == nil) != c.ok {
			t.Errorf("%s: handshake error %v, want success %v", c.name, err, c.ok)
			continue
		}
		if err == nil {
			t.Logf("%s: %s %s", c.name, tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
		}
	}
}
