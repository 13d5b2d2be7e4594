package db_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
)

var errRollback = errors.New("roll back")

func createItems(t *testing.T, d *db.DB) {
	t.Helper()
	ctx := context.Background()
	if _, err := d.Exec(ctx, "CREATE TABLE cache_items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, n INTEGER NOT NULL)"); err != nil {
		t.Fatal(err)
	}
}

func countItems(t *testing.T, d *db.DB, name string) int {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), "SELECT COUNT(*) FROM cache_items WHERE name = ?", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestStatementCache checks that DB and Tx queries reuse one prepared
// statement per SQL text and still behave exactly like unprepared ones:
// transactions see and roll back their own writes, errors surface, DDL and
// scripts run without being cached.
func TestStatementCache(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		base := db.CachedStatements(d) // migrations may have cached their bookkeeping query
		createItems(t, d)
		if got := db.CachedStatements(d); got != base {
			t.Fatalf("DDL was cached: %d statements, want %d", got, base)
		}

		for i := range 3 {
			if _, err := d.Exec(ctx, "INSERT INTO cache_items (id, name, n) VALUES (?, ?, ?)", i+1, "a", i); err != nil {
				t.Fatal(err)
			}
		}
		if got := db.CachedStatements(d); got != base+1 {
			t.Fatalf("three runs of one INSERT: %d cached statements, want %d", got, base+1)
		}
		if n := countItems(t, d, "a"); n != 3 {
			t.Fatalf("%d rows, want 3", n)
		}
		rows, err := d.Query(ctx, "SELECT n FROM cache_items WHERE name = ? ORDER BY n", "a")
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		for rows.Next() {
			var n int
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			got = append(got, n)
		}
		rows.Close()
		if fmt.Sprint(got) != "[0 1 2]" {
			t.Fatalf("query through the cache: %v", got)
		}
		if got := db.CachedStatements(d); got != base+3 {
			t.Fatalf("%d cached statements, want %d (INSERT, COUNT, SELECT)", got, base+3)
		}

		// A query first seen in a transaction runs there and is prepared
		// for later transactions.
		const upd = "UPDATE cache_items SET name = ? WHERE n >= ?"
		if err := d.InTx(ctx, func(tx *db.Tx) error {
			_, err := tx.Exec(ctx, upd, "b", 1)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if got := db.CachedStatements(d); got != base+4 {
			t.Fatalf("after the first transaction: %d cached statements, want %d", got, base+4)
		}
		if n := countItems(t, d, "b"); n != 2 {
			t.Fatalf("update in the transaction changed %d rows, want 2", n)
		}
		// The cached statement must run on the transaction's connection: a
		// rollback undoes its write, and the transaction reads it back.
		err = d.InTx(ctx, func(tx *db.Tx) error {
			if _, err := tx.Exec(ctx, upd, "c", 0); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM cache_items WHERE name = ?", "c").Scan(&n); err != nil {
				return err
			}
			if n != 3 {
				return fmt.Errorf("transaction sees %d of its own rows, want 3", n)
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatal(err)
		}
		if n := countItems(t, d, "c"); n != 0 {
			t.Fatalf("rolled-back update left %d rows", n)
		}
		if got := db.CachedStatements(d); got != base+4 {
			t.Fatalf("cached statements grew to %d on known queries, want %d", got, base+4)
		}

		// Errors in SQL surface as before and cache nothing.
		if _, err := d.Query(ctx, "SELECT nope FROM cache_items"); err == nil {
			t.Fatal("query of a missing column succeeded")
		}
		var x int
		if err := d.QueryRow(ctx, "SELECT n FROM cache_items WHERE id = ?", 99).Scan(&x); err == nil {
			t.Fatal("no row, no error")
		}
		// Scripts run without being prepared.
		if _, err := d.Exec(ctx, "INSERT INTO cache_items (id, name, n) VALUES (10, 's', 0); INSERT INTO cache_items (id, name, n) VALUES (11, 's', 1)"); err != nil {
			t.Fatal(err)
		}
		if n := countItems(t, d, "s"); n != 2 {
			t.Fatalf("script inserted %d rows, want 2", n)
		}
		if got := db.CachedStatements(d); got != base+5 {
			t.Fatalf("%d cached statements, want %d (only the row lookup is new)", got, base+5)
		}
	})
}

// TestStatementCacheConcurrent runs the same few queries from many
// goroutines: each answer is right and each query is cached once.
func TestStatementCacheConcurrent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		createItems(t, d)
		for i := range 20 {
			if _, err := d.Exec(ctx, "INSERT INTO cache_items (id, name, n) VALUES (?, ?, ?)", i, fmt.Sprint("k", i%4), i); err != nil {
				t.Fatal(err)
			}
		}
		base := db.CachedStatements(d)
		queries := []string{
			"SELECT COALESCE(SUM(n), 0) FROM cache_items WHERE name = ?",
			"SELECT COUNT(*) * 0 + COALESCE(SUM(n), 0) FROM cache_items WHERE name = ?",
			"SELECT COALESCE(SUM(n), 0) + 0 FROM cache_items WHERE name = ?",
		}
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for g := range 16 {
			wg.Go(func() {
				for i := range 40 {
					k := (g + i) % 4
					want := 0
					for j := k; j < 20; j += 4 {
						want += j
					}
					var got int
					q := queries[(g+i)%len(queries)]
					var err error
					if i%5 == 0 {
						err = d.InTx(ctx, func(tx *db.Tx) error {
							return tx.QueryRow(ctx, q, fmt.Sprint("k", k)).Scan(&got)
						})
					} else {
						err = d.QueryRow(ctx, q, fmt.Sprint("k", k)).Scan(&got)
					}
					if err == nil && got != want {
						err = fmt.Errorf("%s with k%d = %d, want %d", q, k, got, want)
					}
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if got := db.CachedStatements(d) - base; got != len(queries) {
			t.Fatalf("%d statements cached for %d distinct queries", got, len(queries))
		}
	})
}

// TestStatementCacheBound fills the cache: queries beyond its bound still
// run, unprepared.
func TestStatementCacheBound(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		for i := range db.MaxCachedStatements + 10 {
			var n int
			if err := d.QueryRow(ctx, fmt.Sprintf("SELECT %d", i)).Scan(&n); err != nil || n != i {
				t.Fatalf("SELECT %d: %d, %v", i, n, err)
			}
		}
		if got := db.CachedStatements(d); got != db.MaxCachedStatements {
			t.Fatalf("%d cached statements, want the bound %d", got, db.MaxCachedStatements)
		}
	})
}

// TestTxQueryWithBusyPool: a transaction meeting a new query while every
// other pool connection is taken must not wait for one to prepare it. With
// a pool of one connection, preparing on the pool from inside the
// transaction could never get a connection and would run into the deadline.
func TestTxQueryWithBusyPool(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		createItems(t, d)
		d.SQL().SetMaxOpenConns(1)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		err := d.InTx(ctx, func(tx *db.Tx) error {
			if _, err := tx.Exec(ctx, "INSERT INTO cache_items (id, name, n) VALUES (?, ?, ?)", 1, "tx", 1); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRow(ctx, "SELECT n FROM cache_items WHERE name = ?", "tx").Scan(&n); err != nil {
				return err
			}
			if n != 1 {
				return fmt.Errorf("read %d, want 1", n)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := countItems(t, d, "tx"); n != 1 {
			t.Fatalf("%d rows, want 1", n)
		}
	})
}

// TestCloseClosesStatements: after Close, the cache is empty and queries
// fail instead of using a statement of a closed pool.
func TestCloseClosesStatements(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		var n int
		if err := d.QueryRow(ctx, "SELECT 1 + ?", 1).Scan(&n); err != nil || n != 2 {
			t.Fatalf("%d, %v", n, err)
		}
		if db.CachedStatements(d) == 0 {
			t.Fatal("nothing cached")
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		if got := db.CachedStatements(d); got != 0 {
			t.Fatalf("%d statements left after Close", got)
		}
		if err := d.QueryRow(ctx, "SELECT 1 + ?", 1).Scan(&n); err == nil {
			t.Fatal("query after Close succeeded")
		}
	})
}

// TestCacheOpensNoConnections: one caller at a time needs one connection,
// with or without statements to prepare, inside transactions or not.
func TestCacheOpensNoConnections(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		createItems(t, d)
		// Down to one open connection (migrating used several), then room
		// for idle ones again: any connection opened below stays open.
		d.SQL().SetMaxIdleConns(1)
		d.SQL().SetMaxIdleConns(4)
		open := d.SQL().Stats().OpenConnections
		for i := range 5 {
			err := d.InTx(ctx, func(tx *db.Tx) error {
				_, err := tx.Exec(ctx, fmt.Sprintf("INSERT INTO cache_items (id, name, n) VALUES (?, ?, %d)", i), i, "conn")
				// Holding the connection a little gives anything that would
				// prepare on the pool during the transaction the time to open
				// a second connection.
				time.Sleep(20 * time.Millisecond)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if n := countItems(t, d, "conn"); n != i+1 {
				t.Fatalf("%d rows, want %d", n, i+1)
			}
		}
		if got := d.SQL().Stats().OpenConnections; got != open {
			t.Fatalf("%d open connections after sequential use, want %d", got, open)
		}
	})
}
