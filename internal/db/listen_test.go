package db_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
)

func TestAfterCommit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		var ran []string
		if err := d.InTx(ctx, func(tx *db.Tx) error {
			tx.AfterCommit(func() { ran = append(ran, "committed") })
			if len(ran) != 0 {
				t.Error("AfterCommit ran before the commit")
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		if err := d.InTx(ctx, func(tx *db.Tx) error {
			tx.AfterCommit(func() { ran = append(ran, "rolled back") })
			return boom
		}); !errors.Is(err, boom) {
			t.Fatalf("InTx = %v, want boom", err)
		}
		if len(ran) != 1 || ran[0] != "committed" {
			t.Errorf("ran %q, want only the committed transaction's function", ran)
		}
	})
}

func TestListenSQLite(t *testing.T) {
	d := dbtest.SQLite(t)
	if err := d.Listen(context.Background(), "x", nil, func(string) {}); !errors.Is(err, db.ErrNoListen) {
		t.Errorf("Listen on SQLite = %v, want ErrNoListen", err)
	}
	// Notify is a no-op there, not an error.
	if err := d.InTx(context.Background(), func(tx *db.Tx) error { return tx.Notify(context.Background(), "x", "1") }); err != nil {
		t.Errorf("Notify on SQLite: %v", err)
	}
}

// TestListenPostgres: a notification sent in a committed transaction of
// one handle reaches a listener on another (two servers of a cluster);
// one sent in a rolled-back transaction does not.
func TestListenPostgres(t *testing.T) {
	dsn := dbtest.PostgresDSN(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	open := func() *db.DB {
		d, err := db.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	}
	sender, listener := open(), open()
	got := make(chan string, 8)
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- listener.Listen(ctx, "dfslab_test_listen", func() { close(ready) }, func(p string) { got <- p })
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Listen: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("Listen never became ready")
	}
	send := func(payload string, fail bool) {
		err := sender.InTx(ctx, func(tx *db.Tx) error {
			if err := tx.Notify(ctx, "dfslab_test_listen", payload); err != nil {
				return err
			}
			if fail {
				return errors.New("roll back")
			}
			return nil
		})
		if (err != nil) != fail {
			t.Fatalf("send %s: %v", payload, err)
		}
	}
	send("rolled-back", true)
	send("42", false)
	select {
	case p := <-got:
		if p != "42" {
			t.Errorf("first notification %q, want 42 (the rolled-back one must never arrive)", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no notification within 10 s")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Listen after cancel = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Listen did not return after its context ended")
	}
}
