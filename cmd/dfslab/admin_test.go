package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/identity/identitytest"
)

// admin runs `dfslab admin args...` and returns exit code, stdout, stderr.
func admin(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runAdmin(context.Background(), args, &out, &errb)
	return code, strings.TrimSpace(out.String()), errb.String()
}

func TestAdminCommands(t *testing.T) {
	dir := t.TempDir()
	dsn := filepath.Join(dir, "dfslab.db")
	t.Setenv("DFSLAB_DB", dsn)
	t.Setenv("DFSLAB_BASE_URL", "https://lab.example")

	if code, _, _ := admin(t); code != 2 {
		t.Fatalf("no command: exit %d", code)
	}
	if code, _, _ := admin(t, "frobnicate"); code != 2 {
		t.Fatalf("unknown command: exit %d", code)
	}

	code, out, stderr := admin(t, "create-org", "--name", "MACRA", "--type", "telecom_regulator", "--country", "mw")
	if code != 0 || out != "1" {
		t.Fatalf("create-org: exit %d, out %q, err %s", code, out, stderr)
	}
	for _, c := range []struct {
		name string
		args []string
		want int
	}{
		{"missing country", []string{"create-org", "--name", "X", "--type", "mno"}, 2},
		{"bad type", []string{"create-org", "--name", "X", "--type", "bank", "--country", "MW"}, 1},
		{"duplicate", []string{"create-org", "--name", "macra", "--type", "mno", "--country", "MW"}, 1},
		{"bad role", []string{"create-user", "--org", "MACRA", "--email", "x@y.example", "--role", "god"}, 2},
		{"unknown org", []string{"create-user", "--org", "Nowhere", "--email", "x@y.example", "--role", "viewer"}, 1},
		{"bad scope", []string{"create-token", "--user", "x@y.example", "--scope", "admin"}, 2},
		{"bad lifetime", []string{"create-token", "--user", "x@y.example", "--expires", "soon"}, 2},
		{"unknown user", []string{"create-token", "--user", "nobody@y.example"}, 1},
		{"backup without file", []string{"backup"}, 2},
	} {
		if code, _, stderr := admin(t, c.args...); code != c.want {
			t.Errorf("%s: exit %d, want %d (%s)", c.name, code, c.want, stderr)
		}
	}

	code, link, stderr := admin(t, "create-user", "--org", "MACRA", "--email", "Officer@MACRA.example", "--role", "org_admin")
	if code != 0 || !strings.HasPrefix(link, "https://lab.example/enrol/") {
		t.Fatalf("create-user: exit %d, out %q, err %s", code, link, stderr)
	}
	// The person enrols with the printed link (the account is created
	// then, with this one membership).
	ctx := context.Background()
	d, err := db.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	s := identity.NewStore(d, identity.Options{})
	officer, err := s.RedeemEnrolment(ctx, strings.TrimPrefix(link, "https://lab.example/enrol/"),
		identity.Enrolment{DisplayName: "Officer", Passkey: identitytest.StandInPasskey()})
	if err != nil {
		t.Fatalf("printed invitation link: %v", err)
	}
	d.Close()
	code, enrol, _ := admin(t, "enrol-link")
	if code != 0 || !strings.HasPrefix(enrol, "https://lab.example/enrol/") || enrol == link {
		t.Fatalf("enrol-link: %q", enrol)
	}
	code, tok, stderr := admin(t, "create-token", "--user", "officer@macra.example", "--scope", "write", "--expires", "30d")
	if code != 0 || !strings.HasPrefix(tok, "dfs_") {
		t.Fatalf("create-token: exit %d, out %q, err %s", code, tok, stderr)
	}
	if strings.Contains(stderr, tok) {
		t.Fatal("token echoed to stderr as well")
	}
	code, rlink, _ := admin(t, "recovery-link", "--user", "officer@macra.example")
	if code != 0 || !strings.HasPrefix(rlink, "https://lab.example/recover/") {
		t.Fatalf("recovery-link: %q", rlink)
	}

	// What the commands printed works against the store.
	if d, err = db.Open(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	s = identity.NewStore(d, identity.Options{})
	if o, _ := s.OrgByName(ctx, "MACRA"); o.ID == 0 {
		t.Fatal("MACRA missing")
	} else if r, err := s.Role(ctx, o.ID, officer.ID); err != nil || r != identity.RoleOrgAdmin {
		t.Fatalf("officer's role in MACRA: %q, %v", r, err)
	}
	// suspend-user ends the token; reinstate-user does not bring it back.
	if code, _, stderr := admin(t, "suspend-user", "--user", "officer@macra.example"); code != 0 {
		t.Fatalf("suspend-user: %s", stderr)
	}
	if code, _, stderr := admin(t, "reinstate-user", "--user", "officer@macra.example"); code != 0 {
		t.Fatalf("reinstate-user: %s", stderr)
	}
	if _, _, err := s.AuthenticateAPIToken(ctx, tok); !errors.Is(err, identity.ErrTokenInvalid) {
		t.Fatalf("token after suspend-user and reinstate-user: %v", err)
	}
	code, tok, stderr = admin(t, "create-token", "--user", "officer@macra.example", "--scope", "write", "--expires", "30d")
	if code != 0 {
		t.Fatalf("create-token after reinstating: %s", stderr)
	}
	at, u, err := s.AuthenticateAPIToken(ctx, tok)
	if err != nil || u.Email != "officer@macra.example" || at.Scope != identity.ScopeWrite {
		t.Fatalf("printed token: %+v, %v", at, err)
	}
	if _, err := s.PeekLink(ctx, strings.TrimPrefix(enrol, "https://lab.example/enrol/"), identity.LinkEnrolAdmin); err != nil {
		t.Fatal(err)
	}
	// Every command was audited, as the CLI.
	es, _ := audit.List(ctx, d, audit.Filter{Action: "api_token.create"})
	if len(es) != 2 || es[0].RequestID != "cli:admin create-token" {
		t.Fatalf("token creation audit = %+v", es)
	}

	code, out, _ = admin(t, "verify-audit")
	if code != 0 || !strings.HasPrefix(out, "audit log intact:") {
		t.Fatalf("verify-audit: exit %d, %q", code, out)
	}

	// Backup, change, restore: the change is gone, the chain intact.
	backup := filepath.Join(dir, "backup.db")
	if code, _, stderr := admin(t, "backup", backup); code != 0 {
		t.Fatalf("backup: %s", stderr)
	}
	if code, _, _ := admin(t, "backup", backup); code != 1 {
		t.Fatal("backup over an existing file")
	}
	if code, _, _ := admin(t, "create-org", "--name", "After backup", "--type", "cert", "--country", "LS"); code != 0 {
		t.Fatal("create-org after backup")
	}
	d.Close()
	if code, _, _ := admin(t, "restore", backup); code != 2 {
		t.Fatal("restore over a live file without --yes")
	}
	if code, _, stderr := admin(t, "restore", "--yes", backup); code != 0 {
		t.Fatalf("restore: %s", stderr)
	}
	d, err = db.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	s = identity.NewStore(d, identity.Options{})
	if _, err := s.OrgByName(ctx, "After backup"); !errors.Is(err, identity.ErrNotFound) {
		t.Fatal("restore kept a change made after the backup")
	}
	if es, _ := audit.List(ctx, d, audit.Filter{Limit: 1}); len(es) != 1 || es[0].Action != "db.restore" {
		t.Fatalf("restore not audited: %+v", es)
	}

	// Tamper with one entry: verify-audit names it and fails.
	for _, q := range []string{"DROP TRIGGER audit_log_no_update", "UPDATE audit_log SET object_id = 'forged' WHERE seq = 3"} {
		if _, err := d.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	code, out, _ = admin(t, "verify-audit")
	if code != 1 || !strings.Contains(out, "entry 3 was altered") {
		t.Fatalf("verify-audit after tampering: exit %d, %q", code, out)
	}
}

func TestParseLifetime(t *testing.T) {
	for in, ok := range map[string]bool{"30d": true, "1d": true, "12h": true, "0d": false, "-1d": false, "d": false, "soon": false, "-5h": false} {
		if _, err := parseLifetime(in); (err == nil) != ok {
			t.Errorf("parseLifetime(%q) err = %v", in, err)
		}
	}
}
