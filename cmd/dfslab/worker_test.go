package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/db"
)

func TestWorkerRefusesBadSetups(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"SQLite file that serve never created", []string{"--db", filepath.Join(dir, "typo.db")}, "does not exist"},
		{"no concurrency", []string{"--db", filepath.Join(dir, "x.db"), "--concurrency", "0"}, "--concurrency"},
		{"no job timeout", []string{"--job-timeout", "-1s"}, "--job-timeout"},
		{"stray argument", []string{"extra"}, "unexpected argument"},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		code := dispatch(context.Background(), append([]string{"worker"}, tt.args...), &out, &errb)
		if code != 2 || !strings.Contains(errb.String(), tt.want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", tt.name, code, errb.String(), tt.want)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "typo.db*")); len(m) > 0 {
		t.Errorf("the refused worker created %v", m)
	}
}

func TestWorkerMigratesRunsAndStops(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dfslab.db")
	d, err := db.Open(context.Background(), path) // what serve leaves behind
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	var out, errb bytes.Buffer
	go func() { done <- dispatch(ctx, []string{"worker", "--db", path, "--concurrency", "2"}, &out, &errb) }()
	// The worker applies River's migrations before it runs.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		err := d.QueryRow(context.Background(), "SELECT COUNT(*) FROM river_migration").Scan(&n)
		if err == nil && n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no River migrations after 30 s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel() // as SIGTERM does
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("worker did not stop")
	}
}

func TestScanWorkersShareTheCores(t *testing.T) {
	for _, tt := range []struct{ cores, concurrency, want int }{
		{2, 1, 2}, {2, 2, 1}, {2, 4, 1}, {8, 2, 4}, {8, 3, 2}, {4, 0, 4}, {1, 1, 1},
	} {
		if got := scanWorkers(tt.cores, tt.concurrency); got != tt.want {
			t.Errorf("scanWorkers(%d cores, %d jobs) = %d, want %d", tt.cores, tt.concurrency, got, tt.want)
		}
	}
}
