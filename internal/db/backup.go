package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// ErrNotSQLite is returned by Backup and Restore on PostgreSQL, which has
// its own tools (pg_dump, pg_restore).
var ErrNotSQLite = errors.New("db: backup and restore are for SQLite; use pg_dump/pg_restore for PostgreSQL")

// Backup writes a consistent copy of a live SQLite database to dest with
// VACUUM INTO: it reads one snapshot, so writers may go on meanwhile, and
// the copy is compacted. dest must not exist.
func (d *DB) Backup(ctx context.Context, dest string) error {
	if d.dialect != SQLite {
		return ErrNotSQLite
	}
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("db: backup: %s already exists", dest)
	}
	if _, err := d.sql.ExecContext(ctx, "VACUUM INTO ?", dest); err != nil {
		return fmt.Errorf("db: backup to %s: %w", dest, err)
	}
	return nil
}

// CheckBackup opens a SQLite file read-only and checks that it is an intact
// dfslab database: integrity_check passes and its schema version is one
// this binary knows.
func CheckBackup(ctx context.Context, path string) (version int, err error) {
	if _, err := os.Stat(path); err != nil {
		return 0, fmt.Errorf("db: %w", err)
	}
	s, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return 0, err
	}
	defer s.Close()
	var res string
	if err := s.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		return 0, fmt.Errorf("db: %s is not a SQLite database: %w", path, err)
	}
	if res != "ok" {
		return 0, fmt.Errorf("db: %s is damaged: %s", path, res)
	}
	if err := s.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&version); err != nil {
		return 0, fmt.Errorf("db: %s is not a dfslab database: %w", path, err)
	}
	ms, err := Migrations(SQLite)
	if err != nil {
		return 0, err
	}
	if n := len(ms); n > 0 && version > ms[n-1].Version {
		return version, fmt.Errorf("db: %s has schema version %d, newer than this dfslab (%d)", path, version, ms[n-1].Version)
	}
	return version, nil
}

// Restore replaces the SQLite database at dest with the backup src. The
// server must be stopped. The current file, if any, is kept beside it as
// DEST.before-restore-TIME and its path returned; the copy is written to a
// temporary file, synced and renamed into place, so a crash leaves either
// the old or the new database. Open the result with Open, which applies
// newer migrations.
func Restore(ctx context.Context, src, dest string) (kept string, err error) {
	if _, err := CheckBackup(ctx, src); err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o700); err != nil {
		return "", err
	}
	tmp := dest + ".restore-tmp"
	if err := copyFile(src, tmp); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("db: restore: %w", err)
	}
	if _, err := os.Stat(dest); err == nil {
		kept = dest + ".before-restore-" + time.Now().UTC().Format("20060102T150405Z")
		if err := os.Rename(dest, kept); err != nil {
			os.Remove(tmp)
			return "", fmt.Errorf("db: restore: keep current database: %w", err)
		}
		// The WAL and shared-memory files belong to the old database;
		// left behind they would be replayed into the restored one.
		for _, suffix := range []string{"-wal", "-shm"} {
			if _, err := os.Stat(dest + suffix); err == nil {
				if err := os.Rename(dest+suffix, kept+suffix); err != nil {
					return kept, fmt.Errorf("db: restore: %w", err)
				}
			}
		}
	}
	if err := os.Rename(tmp, dest); err != nil {
		return kept, fmt.Errorf("db: restore: %w", err)
	}
	return kept, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
