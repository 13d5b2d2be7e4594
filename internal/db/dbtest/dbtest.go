// Package dbtest gives store tests a fresh, migrated database of each
// dialect: always SQLite, and PostgreSQL when DFSLAB_TEST_POSTGRES names a
// server (a postgres:// DSN whose user may create schemas). Outside CI a
// missing PostgreSQL skips that half with a clear message; with CI=true it
// fails.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/testenv"
)

// PostgresEnv names the DSN of the test PostgreSQL server.
const PostgresEnv = "DFSLAB_TEST_POSTGRES"

// Each runs fn as two subtests, "sqlite" and "postgres", each on a fresh
// database.
func Each(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite opens a fresh migrated SQLite database in a temporary folder.
func SQLite(t testing.TB) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// Postgres opens a fresh migrated database in a new schema of the server
// named by DFSLAB_TEST_POSTGRES, dropped when the test ends.
func Postgres(t testing.TB) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), PostgresDSN(t))
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// PostgresDSN creates an empty schema on the server named by
// DFSLAB_TEST_POSTGRES, dropped when the test ends, and returns a DSN whose
// search_path points at it (nothing migrated yet).
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := testenv.Env(t, PostgresEnv)
	ctx := context.Background()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	defer admin.Close()
	var b [6]byte
	rand.Read(b[:])
	schema := "dfslab_test_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("%s: create schema: %v", PostgresEnv, err)
	}
	t.Cleanup(func() {
		c, err := sql.Open("pgx", dsn)
		if err != nil {
			return
		}
		defer c.Close()
		c.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema) // pgx passes unknown parameters to the server
	u.RawQuery = q.Encode()
	return u.String()
}
