package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadSecretKey(t *testing.T) {
	raw := bytes.Repeat([]byte{0x5a}, 32)
	b64, hx := base64.StdEncoding.EncodeToString(raw), hex.EncodeToString(raw)
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name, file, env string
		want            []byte
		warn, fail      bool
	}{
		{name: "nothing set"},
		{name: "base64 file", file: write("b64", b64+"\n", 0o600), want: raw},
		{name: "hex file", file: write("hex", hx, 0o600), want: raw},
		{name: "readable by others", file: write("open", b64, 0o644), want: raw, warn: true},
		{name: "environment", env: b64, want: raw},
		{name: "both", file: write("both", b64, 0o600), env: b64, fail: true},
		{name: "short key", file: write("short", base64.StdEncoding.EncodeToString(raw[:16]), 0o600), fail: true},
		{name: "bad environment", env: "not a key", fail: true},
		{name: "missing file", file: filepath.Join(dir, "absent"), fail: true},
		{name: "huge file", file: write("huge", strings.Repeat("A", 10000), 0o600), fail: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.env != "" {
				t.Setenv("DFSLAB_SECRET_KEY", c.env)
			} else {
				t.Setenv("DFSLAB_SECRET_KEY", "")
			}
			key, warning, err := loadSecretKey(c.file)
			if c.fail {
				if err == nil {
					t.Fatalf("accepted, key %x", key)
				}
				if strings.Contains(err.Error(), b64) {
					t.Errorf("error shows the key: %v", err)
				}
				return
			}
			if err != nil || !bytes.Equal(key, c.want) || (warning != "") != c.warn {
				t.Fatalf("key %x, warning %q, err %v; want %x, warning %v", key, warning, err, c.want, c.warn)
			}
		})
	}
}

func TestSecretKeyMissingWarning(t *testing.T) {
	key := make([]byte, 32)
	for _, c := range []struct {
		addr string
		key  []byte
		warn bool
	}{
		{"127.0.0.1:8080", nil, false},
		{"[::1]:8080", nil, false},
		{"localhost:8080", nil, false},
		{"0.0.0.0:8443", nil, true},
		{":8443", nil, true},
		{"192.0.2.4:8443", nil, true},
		{"0.0.0.0:8443", key, false},
	} {
		if got := secretKeyMissing(c.addr, c.key) != ""; got != c.warn {
			t.Errorf("%s key=%v: warning %v, want %v", c.addr, c.key != nil, got, c.warn)
		}
	}
}

// A bad key setting stops serve and admin before the database is opened.
func TestBadSecretKeyStopsBeforeTheDatabase(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "key")
	if err := os.WriteFile(bad, []byte("too short"), 0o600); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "dfslab.db")
	t.Setenv("DFSLAB_SECRET_KEY", "")
	var out, errb bytes.Buffer
	if code := runServe(context.Background(), []string{"--db", dbPath, "--secret-key-file", bad}, &out, &errb); code != 2 {
		t.Errorf("serve with a bad key: exit %d, want 2 (%s)", code, errb.String())
	}
	errb.Reset()
	if code := runAdmin(context.Background(), []string{"enrol-link", "--db", dbPath, "--secret-key-file", bad}, &out, &errb); code != 1 {
		t.Errorf("admin with a bad key: exit %d, want 1 (%s)", code, errb.String())
	}
	if !strings.Contains(errb.String(), "secret-key-file") {
		t.Errorf("admin does not name the bad setting: %q", errb.String())
	}
	if _, err := os.Stat(dbPath); !os.IsNotExist(err) {
		t.Errorf("the database was created despite the bad key: %v", err)
	}
}
