package adoption_test

import (
	"context"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/adoption"
	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/db"
)

// pay002Default is PAY-002 as catalogue 2026.2 words it at its default,
// as a version of the current release snapshotted it.
const pay002Default = "DFS providers must hold, or require step-up verification for, beneficiary additions, PIN resets and transfers above the customer's usual amounts for 48 hours after a SIM swap on the account's number."

// TestMigration0114KeepsData upgrades a database of the current release
// (every migration but 0114) holding a published version with its
// snapshots, a draft, tracking and a report, and checks that all of it
// reads as before: the version's texts as published and no values (so
// no upstream change is invented), the draft's decisions without values
// (the catalogue's defaults), the provider's item and report as entered;
// and that a value set afterwards reaches the next version.
func TestMigration0114KeepsData(t *testing.T) {
	for _, dialect := range []db.Dialect{db.SQLite, db.Postgres} {
		t.Run(dialect.String(), func(t *testing.T) {
			ctx := context.Background()
			old, dsn := oldDatabase(t, dialect, "release.db", func(v int) bool { return v == 114 })
			for _, q := range []string{
				`INSERT INTO orgs (id, name, name_key, type, country, licensee_type, created_at) VALUES
					(1, 'MACRA', 'macra', 'telecom_regulator', 'MW', 'regulator', 0), (2, 'RBM', 'rbm', 'central_bank', 'MW', 'regulator', 0),
					(3, 'Mpamba', 'mpamba', 'dfs_provider', 'MW', 'dfs_provider', 0)`,
				`INSERT INTO users (id, email, display_name, webauthn_id, created_at) VALUES (9, 'signer@example.org', 'Signer', X'01', 0)`,
				`INSERT INTO baselines (id, country, created_at) VALUES (1, 'MW', 0)`,
				`INSERT INTO baseline_drafts (baseline_id, rec_id, decision, updated_org, updated_at) VALUES (1, 'PAY-002', 'adopted', 1, 1), (1, 'CHN-002', 'adopted', 2, 1)`,
				`INSERT INTO baseline_versions (id, baseline_id, number, notes, catalog_ver, published_org, published_at) VALUES (1, 1, 1, 'v1', '2026.2', 2, 10)`,
				`INSERT INTO baseline_version_items (version_id, rec_id, decision, reason, applies_to, authority, title, statement) VALUES
					(1, 'PAY-002', 'adopted', '', 'dfs_provider,bank', 'central_bank', 'Hold risky actions right after a SIM swap', '` + strings.ReplaceAll(pay002Default, "'", "''") + `')`,
				`INSERT INTO tracking_items (id, org_id, rec_id, status, justification, target_date, version, updated_at) VALUES
					(1, 3, 'PAY-002', 'in_progress', 'Hold of 48 hours being built.', '2026-09-01', 2, 20)`,
				`INSERT INTO submissions (id, org_id, country, version_id, signed_by, signed_name, statement, submitted_at, applicable, implemented, overdue, cells) VALUES
					(1, 3, 'MW', 1, 9, 'Signer', 'We confirm.', 30, 1, 0, 0, '')`,
				`INSERT INTO submission_items (submission_id, rec_id, status, justification, target_date, waived_until) VALUES (1, 'PAY-002', 'in_progress', 'Hold of 48 hours being built.', '2026-09-01', '')`,
			} {
				if dialect == db.Postgres {
					q = strings.ReplaceAll(q, "X'01'", `'\x01'::bytea`)
				}
				if _, err := old.ExecContext(ctx, q); err != nil {
					t.Fatalf("%v\n%s", err, q)
				}
			}
			if dialect == db.Postgres {
				for _, tb := range []string{"orgs", "users", "baselines", "baseline_versions", "tracking_items", "submissions"} {
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
			macra, err := st.Org(ctx, 1)
			must(t, err)
			mpamba, err := st.Org(ctx, 3)
			must(t, err)

			v, err := st.Latest(ctx, "MW")
			must(t, err)
			it, _ := v.Item("PAY-002")
			if v.Legacy() || it.Statement != pay002Default || it.Params != nil || it.Authority != adoption.AuthorityCentralBank {
				t.Fatalf("v1 PAY-002 after the upgrade: %+v", it)
			}
			ups, err := st.Upstream(ctx, macra)
			must(t, err)
			for _, u := range ups {
				if u.RecID == "PAY-002" {
					t.Errorf("PAY-002 shows as changed upstream after the upgrade: %+v", u)
				}
			}
			draft, err := st.Draft(ctx, macra)
			must(t, err)
			if it := draft["PAY-002"]; it.Decision != adoption.Adopted || it.Values != nil {
				t.Errorf("draft PAY-002: %+v", it)
			}
			if it, err := st.Item(ctx, mpamba, "PAY-002"); err != nil || it.Status != adoption.InProgress || it.Justification != "Hold of 48 hours being built." || it.Version != 2 {
				t.Errorf("Mpamba PAY-002: %+v, %v", it, err)
			}
			sub, err := st.RegulatorSubmission(ctx, macra, 1)
			must(t, err)
			if len(sub.Items) != 1 || sub.Items[0].Justification != "Hold of 48 hours being built." {
				t.Errorf("report after the upgrade: %+v", sub.Items)
			}

			// A value set now reaches the next version.
			actor := audit.WithActor(ctx, audit.Actor{UserID: 9})
			must(t, st.SetDraft(actor, macra, adoption.BaselineItem{RecID: "PAY-002", Decision: adoption.Adopted, Values: map[string]int{"hold": 72}}))
			_, err = st.AdoptRemaining(actor, macra)
			must(t, err)
			v2, err := st.Publish(actor, macra, "")
			must(t, err)
			it2, _ := v2.Item("PAY-002")
			if !strings.HasSuffix(it2.Statement, "for 72 hours after a SIM swap on the account's number.") || len(it2.Params) != 1 || it2.Params[0].Value != 72 {
				t.Errorf("v2 PAY-002: %+v", it2)
			}
		})
	}
}
