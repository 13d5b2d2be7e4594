package adoption_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dfslab/dfslab/internal/adoption"
	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/testenv"
)

// issue13Migrations are the migrations issue 13 added (0130: catalogue
// 2026.2's withdrawals); a database of the release before has every other
// one.
var issue13Migrations = []int{4, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 130}

// TestMigrationKeepsAdoptionData upgrades a database of the release
// before issue 13, with a published baseline, a draft, a provider's
// tracking and a submission, and checks that nothing was lost:
// organisations get the licensee type of their type, the published
// version still applies to providers and operators as it did, the draft
// takes the catalogue's defaults, and the provider's statuses and report
// are as entered.
func TestMigrationKeepsAdoptionData(t *testing.T) {
	for _, dialect := range []db.Dialect{db.SQLite, db.Postgres} {
		t.Run(dialect.String(), func(t *testing.T) {
			ctx := context.Background()
			old, dsn := oldDatabase(t, dialect, "old.db", func(v int) bool { return slices.Contains(issue13Migrations, v) })
			for _, q := range []string{
				`INSERT INTO orgs (id, name, name_key, type, country, created_at) VALUES
					(1, 'MACRA', 'macra', 'telecom_regulator', 'MW', 0), (2, 'RBM', 'rbm', 'central_bank', 'MW', 0),
					(3, 'Mpamba', 'mpamba', 'dfs_provider', 'MW', 0), (4, 'Airtel', 'airtel', 'mno', 'MW', 0), (5, 'CERT', 'cert', 'cert', 'MW', 0)`,
				`INSERT INTO baselines (id, country, created_at) VALUES (1, 'MW', 0)`,
				`INSERT INTO baseline_drafts (baseline_id, rec_id, decision, updated_org, updated_at) VALUES
					(1, 'APP-001', 'adopted', 1, 1), (1, 'TEL-001', 'adopted', 1, 1), (1, 'APP-002', 'not_adopted', 2, 1)`,
				`INSERT INTO baseline_versions (id, baseline_id, number, notes, catalog_ver, published_org, published_at) VALUES (1, 1, 1, 'v1', '2026.1', 2, 10)`,
				`INSERT INTO baseline_version_items (version_id, rec_id, decision, reason) VALUES
					(1, 'APP-001', 'adopted', ''), (1, 'TEL-001', 'adopted', ''), (1, 'APP-002', 'not_adopted', 'Out of scope.')`,
				`INSERT INTO tracking_items (id, org_id, rec_id, status, justification, target_date, version, updated_at) VALUES
					(1, 3, 'APP-001', 'implemented', '', '2026-05-01', 3, 20), (2, 4, 'APP-001', 'not_applicable', 'We ship no app.', '', 1, 20),
					(3, 3, 'TEL-001', 'verified', '', '', 2, 20)`,
				`INSERT INTO submissions (id, org_id, country, version_id, signed_by, signed_name, statement, submitted_at, applicable, implemented, overdue) VALUES
					(1, 3, 'MW', 1, 9, 'Signer', 'We confirm.', 30, 2, 1, 0)`,
				`INSERT INTO submission_items (submission_id, rec_id, status, target_date) VALUES (1, 'APP-001', 'implemented', '2026-05-01'), (1, 'TEL-001', 'not_started', '')`,
			} {
				if _, err := old.ExecContext(ctx, q); err != nil {
					t.Fatalf("%v\n%s", err, q)
				}
			}
			if dialect == db.Postgres {
				// Explicit ids leave the sequences behind; the platform never
				// writes ids itself.
				for _, tb := range []string{"orgs", "baselines", "baseline_versions", "tracking_items", "submissions"} {
					_, err := old.ExecContext(ctx, "SELECT setval(pg_get_serial_sequence('"+tb+"', 'id'), 100)")
					must(t, err)
				}
			}
			old.Close()

			d, err := db.Open(ctx, dsn)
			must(t, err)
			defer d.Close()
			cat, err := catalog.Default()
			must(t, err)
			st := adoption.NewStore(d, cat, nil)
			orgs := map[int64]adoption.Org{}
			for id, want := range map[int64]identity.LicenseeType{1: identity.LicenseeRegulator, 2: identity.LicenseeRegulator,
				3: identity.LicenseeDFSProvider, 4: identity.LicenseeMNO, 5: identity.LicenseeNone} {
				orgs[id], err = st.Org(ctx, id)
				must(t, err)
				if orgs[id].Licensee != want {
					t.Errorf("org %d: licensee %q, want %q", id, orgs[id].Licensee, want)
				}
			}
			v, err := st.Latest(ctx, "MW")
			must(t, err)
			for _, id := range []string{"APP-001", "TEL-001"} {
				if it, _ := v.Item(id); !slices.Equal(it.AppliesTo, adoption.Licensees{identity.LicenseeMNO, identity.LicenseeDFSProvider}) {
					t.Errorf("published %s applies to %v, want providers and operators as published", id, it.AppliesTo)
				}
			}
			if it, _ := v.Item("APP-002"); it.Reason != "Out of scope." || it.AppliesTo != nil {
				t.Errorf("published APP-002: %+v", it)
			}
			// Both the provider and the operator keep what they entered.
			for org, want := range map[int64]adoption.Status{3: adoption.Implemented, 4: adoption.StatusNA} {
				it, err := st.Item(ctx, orgs[org], "APP-001")
				if err != nil || it.Status != want || it.Version == 0 {
					t.Errorf("org %d APP-001: %+v, %v; want %s", org, it, err, want)
				}
			}
			if it, _ := st.Item(ctx, orgs[3], "APP-001"); it.TargetDate != "2026-05-01" {
				t.Errorf("target date lost: %+v", it)
			}
			// "Verified" was the provider's own claim: it becomes
			// "implemented", one version later, with a history line.
			if it, err := st.Item(ctx, orgs[3], "TEL-001"); err != nil || it.Status != adoption.Implemented || it.Version != 3 {
				t.Errorf("provider-verified TEL-001 after the upgrade: %+v, %v; want implemented, version 3", it, err)
			}
			var lines int
			must(t, d.QueryRow(ctx, "SELECT COUNT(*) FROM tracking_history WHERE item_id = 3 AND version = 3 AND user_id IS NULL").Scan(&lines))
			if lines != 1 {
				t.Errorf("history lines of the migrated item: %d, want 1", lines)
			}
			// The regulators' own tracking starts empty: v1 applied nothing to them.
			if tr, err := st.Items(ctx, orgs[1]); err != nil || len(tr.Items) != 0 {
				t.Errorf("regulator's items from v1: %d, %v", len(tr.Items), err)
			}
			draft, err := st.Draft(ctx, orgs[1])
			must(t, err)
			if it := draft["TEL-001"]; !it.Defaulted || !slices.Equal(it.AppliesTo, adoption.Licensees{identity.LicenseeMNO}) {
				t.Errorf("draft TEL-001: %+v, want the catalogue default", it)
			}
			sub, err := st.Submission(ctx, orgs[3], 1)
			if err != nil || sub.Statement != "We confirm." || len(sub.Items) != 2 || sub.Items[0].Status != adoption.Implemented || sub.Review.Outcome != "" {
				t.Errorf("submission: %+v, %v", sub, err)
			}
			if sv, err := st.Sector(ctx, orgs[2]); err != nil || len(sv.Rows) != 1 {
				t.Errorf("sector after the upgrade: %+v, %v", sv.Rows, err)
			}
		})
	}
}

// oldDatabase creates a database of dialect as a server of an earlier
// release left it: every migration applied and recorded but those skip
// names. It returns a handle for seeding it (closed with the test) and the
// DSN that db.Open then upgrades.
func oldDatabase(t *testing.T, dialect db.Dialect, file string, skip func(version int) bool) (*sql.DB, string) {
	t.Helper()
	ctx := context.Background()
	var dsn, driver, raw string
	if dialect == db.SQLite {
		dsn = filepath.Join(t.TempDir(), file)
		driver, raw = "sqlite", "file:"+dsn+"?_pragma=foreign_keys(1)"
	} else {
		testenv.Env(t, dbtest.PostgresEnv)
		dsn = dbtest.PostgresDSN(t)
		driver, raw = "pgx", dsn
	}
	old, err := sql.Open(driver, raw)
	must(t, err)
	t.Cleanup(func() { old.Close() })
	ms, err := db.Migrations(dialect)
	must(t, err)
	record := "INSERT INTO schema_migrations VALUES (?, ?, 0)"
	if dialect == db.Postgres {
		record = "INSERT INTO schema_migrations VALUES ($1, $2, 0)"
	}
	_, err = old.ExecContext(ctx, "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)")
	must(t, err)
	for _, m := range ms {
		if skip(m.Version) {
			continue
		}
		if _, err := old.ExecContext(ctx, m.SQL); err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		_, err := old.ExecContext(ctx, record, m.Version, m.Name)
		must(t, err)
	}
	return old, dsn
}
