package main

import (
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/identity"
)

// secretKeyUsage documents --secret-key-file for serve and admin alike.
const secretKeyUsage = "`file` holding the 32-byte key (base64 or hex) that encrypts TOTP secrets and keys the audit chain; " +
	"or give the key itself in DFSLAB_SECRET_KEY. Without either, the TOTP key is kept in the database and the audit chain is not keyed (DFSLAB_SECRET_KEY_FILE)"

// loadSecretKey returns the instance secret key from file, or from
// DFSLAB_SECRET_KEY when file is "", or nil when neither is set. A key in
// a file others may read comes back with a warning.
func loadSecretKey(file string) (key []byte, warning string, err error) {
	env, inEnv := os.LookupEnv("DFSLAB_SECRET_KEY")
	if file != "" && inEnv && env != "" {
		// Two sources that might disagree: refuse rather than guess which
		// key encrypted the stored secrets.
		return nil, "", errors.New("--secret-key-file and DFSLAB_SECRET_KEY are both set; use one")
	}
	if file == "" {
		if !inEnv || env == "" {
			return nil, "", nil
		}
		key, err := identity.ParseSecretKey(env)
		if err != nil {
			return nil, "", fmt.Errorf("DFSLAB_SECRET_KEY: %w", err)
		}
		return key, "", nil
	}
	key, warning, err = loadSecretKeyFile(file)
	if err != nil {
		return nil, "", fmt.Errorf("--secret-key-file: %w", err)
	}
	return key, warning, nil
}

// loadSecretKeyFile reads a key from file, with a warning when others may
// read the file.
func loadSecretKeyFile(file string) (key []byte, warning string, err error) {
	fi, err := os.Stat(file)
	if err != nil {
		return nil, "", err
	}
	if fi.Size() > 4096 {
		return nil, "", fmt.Errorf("%s: %d bytes, too large for a key", file, fi.Size())
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, "", err
	}
	key, err = identity.ParseSecretKey(string(b))
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", file, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		warning = fmt.Sprintf("secret key file %s can be read by other users (mode %v); chmod 600 it", file, fi.Mode().Perm())
	}
	return key, warning, nil
}

// auditKeys is the database option that carries the audit chain keys
// derived from the instance secret key (nil: the chain is not keyed) and
// from former secret keys, which only verify entries written under them.
// Every process that writes to the database (serve, worker, admin) opens it
// with the same key, or the chain refuses its entries.
func auditKeys(secret []byte, former ...[]byte) (db.Option, error) {
	var keys [][]byte
	for _, s := range append([][]byte{secret}, former...) {
		k, err := audit.DeriveKey(s)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k) // the first may be nil: new entries then use the empty key
	}
	return db.WithAuditKeys(keys...), nil
}

// secretKeyMissing is the start-up warning for a server reachable beyond
// loopback without its own key, or "" when there is nothing to warn about.
func secretKeyMissing(addr string, key []byte) string {
	if key != nil || loopbackAddr(addr) {
		return ""
	}
	return "no --secret-key-file or DFSLAB_SECRET_KEY: TOTP secrets are encrypted with a key kept in the same database, " +
		"so a copy of the database (or a backup) reveals them; generate a key with `openssl rand -base64 32`"
}

// loopbackAddr reports whether a listen address host:port is loopback only.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
