package db_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity"
)

func TestMigrationsMatchAcrossDialects(t *testing.T) {
	lite, err := db.Migrations(db.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := db.Migrations(db.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) == 0 || len(lite) != len(pg) {
		t.Fatalf("%d SQLite migrations, %d PostgreSQL", len(lite), len(pg))
	}
	for i := range lite {
		if lite[i].Version != pg[i].Version || lite[i].Name != pg[i].Name {
			t.Errorf("migration %d: %s vs %s", i, lite[i].Name, pg[i].Name)
		}
	}
}

func TestDatabase(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ms, _ := db.Migrations(d.Dialect())
		if v, err := d.SchemaVersion(ctx); err != nil || v != ms[len(ms)-1].Version {
			t.Fatalf("SchemaVersion = %d, %v", v, err)
		}
		// Migrating again is a no-op.
		if err := d.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		var n int
		d.QueryRow(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&n)
		if n != len(ms) {
			t.Fatalf("%d migration rows, want %d", n, len(ms))
		}
		if err := d.Ping(ctx); err != nil {
			t.Fatal(err)
		}

		if _, err := d.Exec(ctx, "CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT NOT NULL)"); err != nil {
			t.Fatal(err)
		}
		// Commit.
		err := d.InTx(ctx, func(tx *db.Tx) error {
			_, err := tx.Exec(ctx, "INSERT INTO kv (k, v) VALUES (?, ?)", "a", "1")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		// Error rolls back.
		boom := errors.New("boom")
		err = d.InTx(ctx, func(tx *db.Tx) error {
			if _, err := tx.Exec(ctx, "INSERT INTO kv (k, v) VALUES (?, ?)", "b", "2"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx error = %v", err)
		}
		// Panic rolls back and propagates.
		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("panic swallowed")
				}
			}()
			d.InTx(ctx, func(tx *db.Tx) error {
				tx.Exec(ctx, "INSERT INTO kv (k, v) VALUES (?, ?)", "c", "3")
				panic("boom")
			})
		}()
		rows, err := d.Query(ctx, "SELECT k FROM kv ORDER BY k")
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for rows.Next() {
			var k string
			rows.Scan(&k)
			keys = append(keys, k)
		}
		rows.Close()
		if strings.Join(keys, ",") != "a" {
			t.Fatalf("keys after rollbacks = %v", keys)
		}
		// Unique violations are recognised on both dialects.
		_, err = d.Exec(ctx, "INSERT INTO kv (k, v) VALUES (?, ?)", "a", "dup")
		if !db.IsUniqueViolation(err) {
			t.Fatalf("IsUniqueViolation(%v) = false", err)
		}
		if db.IsUniqueViolation(errors.New("other")) || db.IsUniqueViolation(nil) {
			t.Fatal("IsUniqueViolation too broad")
		}
		// Foreign keys are enforced (SQLite needs the pragma).
		_, err = d.Exec(ctx, "INSERT INTO memberships (org_id, user_id, role, created_at) VALUES (?, ?, ?, ?)", 404, 404, "viewer", 0)
		if err == nil {
			t.Fatal("foreign key not enforced")
		}
	})
}

func TestOpenSQLiteSettings(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "dir", "x.db")
	d, err := db.Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Path() != path || d.Dialect() != db.SQLite {
		t.Fatalf("Path = %q", d.Path())
	}
	for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "10000", "synchronous": "2"} {
		var got string
		if err := d.QueryRow(ctx, "PRAGMA "+pragma).Scan(&got); err != nil || got != want {
			t.Errorf("PRAGMA %s = %q (%v), want %q", pragma, got, err, want)
		}
	}
	if _, err := db.Open(ctx, ":memory:"); err == nil {
		t.Error("in-memory database accepted")
	}
}

// TestCommittedWriteSurvivesKill runs the test binary again as a child
// that commits rows and reports each commit on stdout; the parent kills
// it with SIGKILL in the middle of further writes, reopens the database
// and expects every reported row.
func TestCommittedWriteSurvivesKill(t *testing.T) {
	if path := os.Getenv("DFSLAB_TEST_KILL_CHILD"); path != "" {
		killChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "kill.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCommittedWriteSurvivesKill$", "-test.count=1")
	cmd.Env = append(os.Environ(), "DFSLAB_TEST_KILL_CHILD="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var committed []int
	for sc.Scan() && len(committed) < 25 {
		if n, ok := strings.CutPrefix(sc.Text(), "committed "); ok {
			i, _ := strconv.Atoi(n)
			committed = append(committed, i)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if len(committed) < 25 {
		t.Fatalf("child reported only %d commits", len(committed))
	}

	ctx := context.Background()
	d, err := db.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen after kill -9: %v", err)
	}
	defer d.Close()
	var check string
	if err := d.QueryRow(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	for _, i := range committed {
		if _, err := identity.NewStore(d, identity.Options{}).OrgByName(ctx, fmt.Sprintf("Org %d", i)); err != nil {
			t.Fatalf("committed org %d lost after kill -9: %v", i, err)
		}
	}
	if _, err := audit.Verify(ctx, d); err != nil {
		t.Fatalf("audit chain after kill -9: %v", err)
	}
}

// killChild writes organisations (each with its audit entry) until killed.
func killChild(path string) {
	ctx := context.Background()
	d, err := db.Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	s := identity.NewStore(d, identity.Options{})
	for i := 0; ; i++ {
		if _, err := s.CreateOrg(ctx, identity.NewOrg{Name: fmt.Sprintf("Org %d", i), Type: identity.OrgOther, Country: "MW"}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		fmt.Printf("committed %d\n", i)
	}
}

func TestBackupRestoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	live := filepath.Join(dir, "live.db")
	d, err := db.Open(ctx, live)
	if err != nil {
		t.Fatal(err)
	}
	s := identity.NewStore(d, identity.Options{})
	if _, err := s.CreateOrg(ctx, identity.NewOrg{Name: "Before", Type: identity.OrgMNO, Country: "LS"}); err != nil {
		t.Fatal(err)
	}
	// A writer keeps going while the backup runs: the copy is one
	// consistent snapshot either way.
	stop := make(chan struct{})
	done := make(chan error)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			if _, err := s.CreateOrg(ctx, identity.NewOrg{Name: fmt.Sprintf("During %d", i), Type: identity.OrgMNO, Country: "LS"}); err != nil {
				done <- err
				return
			}
		}
	}()
	time.Sleep(20 * time.Millisecond)
	backup := filepath.Join(dir, "backup.db")
	if err := d.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := d.Backup(ctx, backup); err == nil {
		t.Fatal("backup over an existing file accepted")
	}
	if _, err := s.CreateOrg(ctx, identity.NewOrg{Name: "After", Type: identity.OrgMNO, Country: "LS"}); err != nil {
		t.Fatal(err)
	}
	d.Close()

	if v, err := db.CheckBackup(ctx, backup); err != nil || v == 0 {
		t.Fatalf("CheckBackup = %d, %v", v, err)
	}
	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, []byte("not a database"), 0o600)
	if _, err := db.Restore(ctx, junk, live); err == nil {
		t.Fatal("restore from junk accepted")
	}
	kept, err := db.Restore(ctx, backup, live)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(kept); err != nil {
		t.Fatalf("previous database not kept: %v", err)
	}
	d, err = db.Open(ctx, live)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	s = identity.NewStore(d, identity.Options{})
	if _, err := s.OrgByName(ctx, "Before"); err != nil {
		t.Fatalf("restored database lacks data from before the backup: %v", err)
	}
	if _, err := s.OrgByName(ctx, "After"); !errors.Is(err, identity.ErrNotFound) {
		t.Fatal("restored database has data from after the backup")
	}
	if _, err := audit.Verify(ctx, d); err != nil {
		t.Fatalf("audit chain of the restore: %v", err)
	}
	// The old database is intact beside it.
	old, err := db.Open(ctx, kept)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if _, err := identity.NewStore(old, identity.Options{}).OrgByName(ctx, "After"); err != nil {
		t.Fatalf("kept database lost data: %v", err)
	}
}

// TestConcurrentOpen starts several "nodes" on an empty database at once:
// the migrations run exactly once (advisory lock on PostgreSQL, write lock
// on SQLite) and every node opens.
func TestConcurrentOpen(t *testing.T) {
	for _, c := range []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nodes.db") }},
		{"postgres", func(t *testing.T) string { return dbtest.PostgresDSN(t) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			dsn := c.dsn(t)
			ctx := context.Background()
			const nodes = 4
			dbs := make([]*db.DB, nodes)
			errs := make([]error, nodes)
			done := make(chan int)
			for i := range nodes {
				go func() { dbs[i], errs[i] = db.Open(ctx, dsn); done <- i }()
			}
			for range nodes {
				<-done
			}
			for i, err := range errs {
				if err != nil {
					t.Fatalf("node %d: %v", i, err)
				}
				defer dbs[i].Close()
			}
			ms, _ := db.Migrations(dbs[0].Dialect())
			var n int
			if err := dbs[0].QueryRow(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil || n != len(ms) {
				t.Fatalf("%d migration rows (%v), want %d", n, err, len(ms))
			}
		})
	}
}

// TestConstraintErrors: unique and foreign-key violations are recognised
// by their codes on both dialects (not by their text, which drivers word
// as they like), and not confused with each other.
func TestConstraintErrors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		for _, q := range []string{
			"CREATE TABLE parent (id BIGINT PRIMARY KEY, name TEXT UNIQUE)",
			"CREATE TABLE child (id BIGINT PRIMARY KEY, parent_id BIGINT NOT NULL REFERENCES parent (id))",
			"INSERT INTO parent (id, name) VALUES (1, 'a')",
		} {
			if _, err := d.Exec(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		_, dup := d.Exec(ctx, "INSERT INTO parent (id, name) VALUES (2, 'a')")
		_, pk := d.Exec(ctx, "INSERT INTO parent (id, name) VALUES (1, 'b')")
		_, fk := d.Exec(ctx, "INSERT INTO child (id, parent_id) VALUES (1, 99)")
		if !db.IsUniqueViolation(dup) || !db.IsUniqueViolation(pk) || db.IsForeignKeyViolation(dup) {
			t.Errorf("unique: %v / %v", dup, pk)
		}
		if !db.IsForeignKeyViolation(fk) || db.IsUniqueViolation(fk) {
			t.Errorf("foreign key: %v", fk)
		}
		if db.IsUniqueViolation(errors.New("UNIQUE constraint failed: x")) {
			t.Error("an error is recognised by its text")
		}
	})
}
