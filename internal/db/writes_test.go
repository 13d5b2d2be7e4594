package db_test

import (
	"context"
	"errors"
	"testing"

	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
)

// TestWritesCounter checks what read caches rely on: every way of writing
// through a DB changes Writes after the write, and reads leave it alone.
func TestWritesCounter(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		createItems(t, d)
		steps := []struct {
			name    string
			changes bool
			run     func() error
		}{
			{"Exec", true, func() error {
				_, err := d.Exec(ctx, "INSERT INTO cache_items (id, name, n) VALUES (?, ?, ?)", 1, "a", 1)
				return err
			}},
			{"SELECT", false, func() error {
				var n int
				return d.QueryRow(ctx, "SELECT n FROM cache_items WHERE id = ?", 1).Scan(&n)
			}},
			{"Query SELECT", false, func() error {
				rows, err := d.Query(ctx, "SELECT n FROM cache_items")
				if err != nil {
					return err
				}
				return rows.Close()
			}},
			{"QueryRow RETURNING", true, func() error {
				var id int
				return d.QueryRow(ctx, "INSERT INTO cache_items (id, name, n) VALUES (?, ?, ?) RETURNING id", 2, "b", 2).Scan(&id)
			}},
			{"InTx committed", true, func() error {
				return d.InTx(ctx, func(tx *db.Tx) error {
					_, err := tx.Exec(ctx, "UPDATE cache_items SET n = n + 1")
					return err
				})
			}},
			{"InTx rolled back", true, func() error {
				err := d.InTx(ctx, func(tx *db.Tx) error {
					if _, err := tx.Exec(ctx, "UPDATE cache_items SET n = n + 1"); err != nil {
						return err
					}
					return errRollback
				})
				if errors.Is(err, errRollback) {
					return nil
				}
				return err
			}},
		}
		for _, s := range steps {
			before := d.Writes()
			if err := s.run(); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if changed := d.Writes() != before; changed != s.changes {
				t.Errorf("%s: Writes changed = %v, want %v", s.name, changed, s.changes)
			}
		}
	})
}
