package adoption_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/adoption"
	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/identity"
)

// workflowMigrations are the migrations of the rest of issue 13's
// workflow (cooperation, attestation, joint baselines, frozen versions,
// the public summary); a database of the current release has every
// other one.
var workflowMigrations = []int{109, 110, 111, 112, 113}

// TestMigrationKeepsReleaseData upgrades a database of the current
// release, with what regulators and providers entered there (a published
// version with deadlines and applicability, a draft, tracking, a report
// with its review and a waiver, enforcement notes, a reporting period),
// and checks that all of it reads as before and the new features start
// from a neutral state: versions without snapshots say so, notes stay
// private, no joint approval, no attestation, no public page.
func TestMigrationKeepsReleaseData(t *testing.T) {
	for _, dialect := range []db.Dialect{db.SQLite, db.Postgres} {
		t.Run(dialect.String(), func(t *testing.T) {
			ctx := context.Background()
			old, dsn := oldDatabase(t, dialect, "release.db", func(v int) bool { return slices.Contains(workflowMigrations, v) })
			for _, q := range []string{
				`INSERT INTO orgs (id, name, name_key, type, country, licensee_type, created_at) VALUES
					(1, 'MACRA', 'macra', 'telecom_regulator', 'MW', 'regulator', 0), (2, 'RBM', 'rbm', 'central_bank', 'MW', 'regulator', 0),
					(3, 'Mpamba', 'mpamba', 'dfs_provider', 'MW', 'dfs_provider', 0), (4, 'Airtel', 'airtel', 'mno', 'MW', 'mno', 0)`,
				`INSERT INTO users (id, email, display_name, webauthn_id, created_at) VALUES (9, 'signer@example.org', 'Signer', X'01', 0)`,
				`INSERT INTO baselines (id, country, created_at, effective_date) VALUES (1, 'MW', 0, '2026-01-01')`,
				`INSERT INTO baseline_draft_phases (baseline_id, number, label, months) VALUES (1, 1, 'Phase 1', 6)`,
				`INSERT INTO baseline_drafts (baseline_id, rec_id, decision, applies_to, phase, updated_org, updated_at) VALUES
					(1, 'APP-001', 'adopted', 'dfs_provider,bank', 1, 1, 1), (1, 'TEL-001', 'adopted', '', 0, 1, 1)`,
				`INSERT INTO baseline_drafts (baseline_id, rec_id, decision, reason, updated_org, updated_at) VALUES (1, 'APP-002', 'not_adopted', 'Out of scope.', 2, 1)`,
				`INSERT INTO baseline_versions (id, baseline_id, number, notes, catalog_ver, published_org, published_at, effective_date) VALUES (1, 1, 1, 'v1', '2026.1', 2, 10, '2026-01-01')`,
				`INSERT INTO baseline_version_phases (version_id, number, label, months, deadline) VALUES (1, 1, 'Phase 1', 6, '2026-07-01')`,
				`INSERT INTO baseline_version_items (version_id, rec_id, decision, reason, applies_to, phase, deadline) VALUES
					(1, 'APP-001', 'adopted', '', 'dfs_provider,bank', 1, '2026-07-01'), (1, 'TEL-001', 'adopted', '', 'mno', 0, ''),
					(1, 'APP-002', 'not_adopted', 'Out of scope.', '', 0, '')`,
				`INSERT INTO tracking_items (id, org_id, rec_id, status, justification, target_date, version, updated_at) VALUES
					(1, 3, 'APP-001', 'implemented', 'Release builds checked.', '2026-05-01', 3, 20), (2, 4, 'TEL-001', 'in_progress', '', '', 1, 20)`,
				`INSERT INTO submissions (id, org_id, country, version_id, signed_by, signed_name, statement, submitted_at, applicable, implemented, overdue, cells) VALUES
					(1, 3, 'MW', 1, 9, 'Signer', 'We confirm.', 30, 1, 1, 0, '')`,
				`INSERT INTO submission_items (submission_id, rec_id, status, justification, target_date, waived_until) VALUES (1, 'APP-001', 'implemented', 'Release builds checked.', '2026-05-01', '')`,
				`INSERT INTO submission_reviews (submission_id, outcome, summary, reviewer_org, reviewer_name, reviewed_at) VALUES (1, 'accepted', 'Good.', 1, 'Examiner', 40)`,
				`INSERT INTO waivers (id, org_id, rec_id, reason, expires, granted_org, granter_name, granted_at) VALUES (1, 4, 'TEL-001', 'Network upgrade.', '2099-01-01', 1, 'Examiner', 50)`,
				`INSERT INTO enforcement_notes (id, author_org, provider_id, author_name, body, created_at) VALUES (1, 1, 3, 'Examiner', 'Inspection planned.', 60)`,
				`INSERT INTO reporting_periods (id, country, label, due_date, opened_at) VALUES (1, 'MW', 'Q1 2026', '2026-03-31', 5)`,
			} {
				if dialect == db.Postgres {
					q = strings.ReplaceAll(q, "X'01'", `'\x01'::bytea`)
				}
				if _, err := old.ExecContext(ctx, q); err != nil {
					t.Fatalf("%v\n%s", err, q)
				}
			}
			if dialect == db.Postgres {
				for _, tb := range []string{"orgs", "users", "baselines", "baseline_versions", "tracking_items", "submissions", "waivers", "enforcement_notes", "reporting_periods"} {
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
			for id := int64(1); id <= 4; id++ {
				orgs[id], err = st.Org(ctx, id)
				must(t, err)
			}
			macra, rbm, mpamba, airtel := orgs[1], orgs[2], orgs[3], orgs[4]

			// The published version reads as published, and says that it
			// kept no texts.
			v, err := st.Latest(ctx, "MW")
			must(t, err)
			if !v.Legacy() || len(v.Items) != 3 || len(v.Approvals) != 0 {
				t.Fatalf("v1 after the upgrade: legacy %v, %d items, %d approvals", v.Legacy(), len(v.Items), len(v.Approvals))
			}
			if it, _ := v.Item("APP-001"); it.Deadline != "2026-07-01" || it.Phase != 1 || !slices.Equal(it.AppliesTo, adoption.Licensees{identity.LicenseeDFSProvider, identity.LicenseeBank}) || it.Authority != "" {
				t.Errorf("v1 APP-001: %+v", it)
			}
			if it, _ := v.Item("APP-002"); it.Reason != "Out of scope." {
				t.Errorf("v1 APP-002: %+v", it)
			}
			// What the providers entered is as entered.
			if it, err := st.Item(ctx, mpamba, "APP-001"); err != nil || it.Status != adoption.Implemented || it.Justification != "Release builds checked." || it.TargetDate != "2026-05-01" || it.Version != 3 {
				t.Errorf("Mpamba APP-001: %+v, %v", it, err)
			}
			if it, err := st.Item(ctx, airtel, "TEL-001"); err != nil || it.Status != adoption.InProgress || it.WaivedUntil != "2099-01-01" {
				t.Errorf("Airtel TEL-001: %+v, %v", it, err)
			}
			sub, err := st.RegulatorSubmission(ctx, rbm, 1)
			must(t, err)
			if sub.Statement != "We confirm." || len(sub.Items) != 1 || sub.Items[0].Justification != "Release builds checked." || sub.Review.Summary != "Good." {
				t.Errorf("report after the upgrade: %+v", sub)
			}
			// The report can be attested now (by the default role) and
			// has no attestation yet.
			c, err := st.CheckAttestations(ctx, sub)
			must(t, err)
			if len(c.Rows) != 1 || c.Rows[0].Role != adoption.DefaultAttestRole || c.Rows[0].Attestation != nil || len(c.SHA256) != 64 {
				t.Errorf("attestations after the upgrade: %+v", c)
			}
			// Notes stay with their author; no sharing, no joint baseline,
			// no public page.
			for reg, n := range map[adoption.Org]int{macra: 1, rbm: 0} {
				p, err := st.Provider(ctx, reg, mpamba.ID, 0)
				if err != nil || len(p.Notes) != n {
					t.Errorf("%s reads %d notes, want %d (%v)", reg.Name, len(p.Notes), n, err)
				}
			}
			if a, err := st.Arrangement(ctx, macra); err != nil || a.Joint() || a.SharesNotesWith(macra.ID, rbm.ID) {
				t.Errorf("arrangement after the upgrade: %+v, %v", a, err)
			}
			if _, err := st.PublicSummary(ctx, "MW"); err == nil {
				t.Error("a public summary exists after the upgrade")
			}
			// The draft gets the catalogue's authorities, and publishing it
			// now keeps the texts.
			draft, err := st.Draft(ctx, macra)
			must(t, err)
			if it := draft["TEL-001"]; !it.AuthorityDefaulted || it.Authority != adoption.AuthorityTelecom {
				t.Errorf("draft TEL-001: %+v", it)
			}
			_, err = st.AdoptRemaining(audit.WithActor(ctx, audit.Actor{UserID: 9}), macra)
			must(t, err)
			v2, err := st.Publish(audit.WithActor(ctx, audit.Actor{UserID: 9}), macra, "")
			must(t, err)
			if v2.Legacy() || v2.Number != 2 {
				t.Fatalf("v2: %+v", v2)
			}
			rec, _ := cat.Get("APP-001")
			if it, _ := v2.Item("APP-001"); it.Statement != rec.Statement || it.Authority != adoption.AuthorityCentralBank {
				t.Errorf("v2 APP-001: %+v", it)
			}
			for _, ch := range adoption.Diff(v, v2) {
				if ch.Kind == "changed" && (ch.RecID == "APP-001" || ch.RecID == "TEL-001") {
					t.Errorf("v1 → v2 lists %s as changed only because v1 kept no text: %+v", ch.RecID, ch)
				}
			}
		})
	}
}
