package applab_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/dfslab/dfslab/internal/applab"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/testenv"
)

// TestMigrationSplitsMergedBuilds: records written before migration 0301,
// where a regulator's lab upload and a provider's rebuild under the same
// version code had joined the provider's version, come out of it as
// separate builds in the records of their uploaders, with their scans;
// the provider's first build keeps the version row and its results.
func TestMigrationSplitsMergedBuilds(t *testing.T) {
	for _, dialect := range []db.Dialect{db.SQLite, db.Postgres} {
		t.Run(dialect.String(), func(t *testing.T) {
			ctx := context.Background()
			var dsn, driver, raw string
			if dialect == db.SQLite {
				dsn = filepath.Join(t.TempDir(), "old.db")
				driver, raw = "sqlite", "file:"+dsn+"?_pragma=foreign_keys(1)"
			} else {
				testenv.Env(t, dbtest.PostgresEnv) // skips or fails as dbtest does
				dsn = dbtest.PostgresDSN(t)
				driver, raw = "pgx", dsn
			}
			old, err := sql.Open(driver, raw)
			must(t, err)
			defer old.Close()
			ms, err := db.Migrations(dialect)
			must(t, err)
			record := "INSERT INTO schema_migrations VALUES (?, ?, 0)"
			if dialect == db.Postgres {
				record = "INSERT INTO schema_migrations VALUES ($1, $2, 0)"
			}
			_, err = old.ExecContext(ctx, "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)")
			must(t, err)
			for _, m := range ms {
				if m.Version > 300 {
					break
				}
				if _, err := old.ExecContext(ctx, m.SQL); err != nil {
					t.Fatalf("%s: %v", m.Name, err)
				}
				_, err := old.ExecContext(ctx, record, m.Version, m.Name)
				must(t, err)
			}
			for _, q := range []string{
				`INSERT INTO orgs (id, name, name_key, type, country, created_at) VALUES (1, 'P', 'p', 'dfs_provider', 'MW', 0), (2, 'R', 'r', 'telecom_regulator', 'MW', 0)`,
				`INSERT INTO blobs (sha256, size, media_type, data, created_at) VALUES ('own', 1, 'application/zip', '', 0), ('lab', 1, 'application/zip', '', 0), ('rebuilt', 1, 'application/zip', '', 0)`,
				`INSERT INTO applab_apps (id, org_id, package, created_at) VALUES (1, 1, 'org.test.pay', 0)`,
				`INSERT INTO applab_versions (id, app_id, version_name, version_code, created_at) VALUES (1, 1, '1.0', 1, 0)`,
				`INSERT INTO applab_scans (id, org_id, uploader_org, blob_sha256, size, state, version_id, created_at) VALUES
					(1, 1, 1, 'own', 1, 'done', 1, 1), (2, 1, 2, 'lab', 1, 'done', 1, 2), (3, 1, 1, 'rebuilt', 1, 'done', 1, 3)`,
				`INSERT INTO applab_itu_results (version_id, test_id, result, recorder_org, recorded_at) VALUES (1, 'T1.1', 'pass', 1, 0)`,
			} {
				if _, err := old.ExecContext(ctx, q); err != nil {
					t.Fatalf("%v\n%s", err, q)
				}
			}
			if dialect == db.Postgres {
				// Explicit ids leave the sequences behind; the platform never
				// writes ids itself.
				for _, tb := range []string{"applab_apps", "applab_versions", "applab_scans"} {
					_, err := old.ExecContext(ctx, "SELECT setval(pg_get_serial_sequence('"+tb+"', 'id'), 100)")
					must(t, err)
				}
			}
			old.Close()

			d, err := db.Open(ctx, dsn)
			must(t, err)
			defer d.Close()
			st := applab.NewStore(d, nil)
			orgs := map[int64]applab.Org{}
			for _, id := range []int64{1, 2} {
				orgs[id], err = st.Org(ctx, id)
				must(t, err)
			}
			version := func(org, scan int64) applab.Version {
				t.Helper()
				sc, err := st.ScanFor(ctx, org, scan)
				must(t, err)
				v, _, err := st.VersionFor(ctx, orgs[org], sc.VersionID)
				must(t, err)
				return v
			}
			own, lab, rebuilt := version(1, 1), version(2, 2), version(1, 3)
			if own.ID != 1 || own.SHA256 != "own" || own.SameCode != 1 || own.Scans != 1 {
				t.Errorf("provider's first build: %+v", own)
			}
			if lab.UploaderOrg != 2 || lab.OrgID != 1 || lab.SHA256 != "lab" || lab.SameCode != 0 || lab.ID == own.ID {
				t.Errorf("regulator's lab build: %+v", lab)
			}
			if rebuilt.AppID != own.AppID || rebuilt.SHA256 != "rebuilt" || rebuilt.SameCode != 1 || rebuilt.ID == own.ID {
				t.Errorf("provider's rebuild: %+v", rebuilt)
			}
			if _, _, err := st.VersionFor(ctx, orgs[2], own.ID); !errors.Is(err, applab.ErrNotFound) {
				t.Errorf("the regulator opens the provider's version: %v, want ErrNotFound", err)
			}
			rec, err := st.Recorded(ctx, own.ID)
			must(t, err)
			if rec["T1.1"].Result != applab.Pass {
				t.Errorf("results of the first build: %+v", rec)
			}
		})
	}
}
