package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
)

// TestAuditHeadAndVerifyWithCheckpoint plays the truncation that the chain
// alone cannot show: the operator kept the head printed by audit-head;
// someone with database access removes the newest entries; verify-audit
// with that head names them.
func TestAuditHeadAndVerifyWithCheckpoint(t *testing.T) {
	dir := t.TempDir()
	dsn := filepath.Join(dir, "dfslab.db")
	t.Setenv("DFSLAB_DB", dsn)
	t.Setenv("DFSLAB_SECRET_KEY", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32)))
	for _, name := range []string{"MACRA", "RBM", "TNM"} {
		if code, _, stderr := admin(t, "create-org", "--name", name, "--type", "other", "--country", "MW"); code != 0 {
			t.Fatalf("create-org: %s", stderr)
		}
	}
	code, head, stderr := admin(t, "audit-head")
	cp, err := audit.ParseCheckpoint(head)
	if code != 0 || err != nil || !strings.Contains(stderr, "keyed with key") {
		t.Fatalf("audit-head: exit %d, %q (%v), %s", code, head, err, stderr)
	}
	if code, out, _ := admin(t, "verify-audit", "--head", head); code != 0 || !strings.Contains(out, "holds all 1 kept checkpoint") {
		t.Fatalf("verify-audit --head: exit %d, %q", code, out)
	}
	for _, bad := range []string{"12", "x:y", "0:" + cp.Hash} {
		if code, _, _ := admin(t, "verify-audit", "--head", bad); code != 2 {
			t.Errorf("verify-audit --head %q: exit %d, want 2", bad, code)
		}
	}
	// Without the key, the keyed chain cannot be verified, nor extended.
	t.Setenv("DFSLAB_SECRET_KEY", "")
	if code, out, _ := admin(t, "verify-audit"); code != 1 || !strings.Contains(out, "was not given") {
		t.Fatalf("verify-audit without the key: exit %d, %q", code, out)
	}
	t.Setenv("DFSLAB_SECRET_KEY", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32)))

	ctx := context.Background()
	d, err := db.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, q := range []string{"DROP TRIGGER audit_log_no_delete", "DELETE FROM audit_log WHERE seq >= ?"} {
		if _, err := d.Exec(ctx, q, cp.Seq-1); err != nil {
			t.Fatal(err)
		}
	}
	if code, out, _ := admin(t, "verify-audit"); code != 0 || !strings.Contains(out, "no --head given") {
		t.Fatalf("truncated, no checkpoint: exit %d, %q", code, out)
	}
	code, out, _ := admin(t, "verify-audit", "--head", head)
	if code != 1 || !strings.Contains(out, "removed from the end") {
		t.Fatalf("truncated, with checkpoint: exit %d, %q", code, out)
	}
}

func TestAuditCheckpointsLogged(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "cp.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var logs syncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	done := make(chan struct{})
	go func() {
		auditCheckpoints(ctx, d, log, 20*time.Millisecond)
		close(done)
	}()
	// An empty log has no head to log; each entry then moves it.
	for i := range 2 {
		e, err := audit.Record(ctx, d, audit.Entry{Action: "test.event"})
		if err != nil {
			t.Fatal(err)
		}
		want := audit.Checkpoint{Seq: e.Seq, Hash: e.Hash}.String()
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(logs.String(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("entry %d: no checkpoint %s logged:\n%s", i, want, logs.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	cancel()
	<-done
	n := 0
	for line := range strings.Lines(logs.String()) {
		var rec struct {
			Msg, Checkpoint string
			Seq             int64
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Msg != "audit checkpoint" {
			t.Fatalf("log line %q (%v)", line, err)
		}
		if _, err := audit.ParseCheckpoint(rec.Checkpoint); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("%d checkpoints logged, want 2 (one per change of the head):\n%s", n, logs.String())
	}
}
