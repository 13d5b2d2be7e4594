package main

import (
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/dfslab/dfslab/internal/identity"
)

// secretKeyUsage documents --secret-key-file for serve and admin alike.
const secretKeyUsage = "`file` holding the 32-byte key (base64 or hex) that encrypts TOTP secrets; " +
	"or give the key itself in DFSLAB_SECRET_KEY. Without either, the key is kept in the database (DFSLAB_SECRET_KEY_FILE)"

// loadSecretKey returns the TOTP encryption key from file, or from
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
	fi, err := os.Stat(file)
	if err != nil {
		return nil, "", fmt.Errorf("--secret-key-file: %w", err)
	}
	if fi.Size() > 4096 {
		return nil, "", fmt.Errorf("--secret-key-file %s: %d bytes, too large for a key", file, fi.Size())
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, "", fmt.Errorf("--secret-key-file: %w", err)
	}
	key, err = identity.ParseSecretKey(string(b))
	if err != nil {
		return nil, "", fmt.Errorf("--secret-key-file %s: %w", file, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		warning = fmt.Sprintf("secret key file %s can be read by other users (mode %v); chmod 600 it", file, fi.Mode().Perm())
	}
	return key, warning, nil
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
