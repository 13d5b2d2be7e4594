package adoption_test

import (
	"context"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/adoption"
	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/db"
)

// TestMigrationCarriesWithdrawnItemsOver upgrades a database of release
// 2026.1 (every migration before 0130) in which a regulator drafted and
// published, and providers tracked, reported on and were waived from,
// items that catalogue 2026.2 merged into others, and checks the rules
// migration 0130 documents: drafts, tracking and waivers move to the
// surviving item, both histories are kept when both items were tracked,
// the merged status is the less advanced one, and published versions and
// submitted reports still say what was published and submitted.
func TestMigrationCarriesWithdrawnItemsOver(t *testing.T) {
	for _, dialect := range []db.Dialect{db.SQLite, db.Postgres} {
		t.Run(dialect.String(), func(t *testing.T) {
			ctx := context.Background()
			old, dsn := oldDatabase(t, dialect, "old.db", func(v int) bool { return v >= 130 && v < 140 })
			for _, q := range []string{
				`INSERT INTO orgs (id, name, name_key, type, country, created_at, licensee_type) VALUES
					(1, 'MACRA', 'macra', 'telecom_regulator', 'MW', 0, 'regulator'),
					(3, 'Mpamba', 'mpamba', 'dfs_provider', 'MW', 0, 'dfs_provider'), (4, 'Airtel', 'airtel', 'mno', 'MW', 0, 'mno')`,
				`INSERT INTO baselines (id, country, created_at) VALUES (1, 'MW', 0)`,
				// Draft: APP-049 alone (renamed); USR-012 beside its survivor
				// PAY-007 (the survivor's decision stands); PAY-001 and TEL-024,
				// both into TEL-005 (the first by ID is renamed).
				`INSERT INTO baseline_drafts (baseline_id, rec_id, decision, local_text, reason, updated_org, updated_at) VALUES
					(1, 'APP-049', 'adapted', 'Refuse untrusted proxies.', '', 1, 1), (1, 'USR-012', 'adopted', '', '', 1, 1),
					(1, 'PAY-007', 'not_adopted', '', 'Later.', 1, 1), (1, 'PAY-001', 'adapted', 'Detect swaps.', '', 1, 1),
					(1, 'TEL-024', 'adopted', '', '', 1, 1)`,
				`INSERT INTO baseline_versions (id, baseline_id, number, notes, catalog_ver, published_org, published_at) VALUES (1, 1, 1, 'v1', '2026.1', 1, 10)`,
				`INSERT INTO baseline_version_items (version_id, rec_id, decision, local_text, reason) VALUES
					(1, 'APP-049', 'adapted', 'Refuse untrusted proxies.', ''), (1, 'PAY-004', 'adopted', '', ''), (1, 'TEL-015', 'adopted', '', ''),
					(1, 'PAY-001', 'adopted', '', ''), (1, 'TEL-024', 'adopted', '', ''), (1, 'USR-012', 'adopted', '', ''), (1, 'PAY-007', 'adopted', '', '')`,
				`INSERT INTO blobs (sha256, size, media_type, data, created_at) VALUES ('` + strings.Repeat("ab", 32) + `', 3, 'text/plain', 'abc', 0)`,
				// Provider: APP-049 only; PAY-004 and TEL-015 both; PAY-001
				// and TEL-024 but not TEL-005. Operator: USR-012 and PAY-007,
				// both not applicable.
				`INSERT INTO tracking_items (id, org_id, rec_id, status, justification, target_date, version, updated_at) VALUES
					(1, 3, 'APP-049', 'implemented', '', '2026-05-01', 2, 20),
					(2, 3, 'PAY-004', 'planned', 'Block list in design.', '2027-03-01', 1, 20), (3, 3, 'TEL-015', 'implemented', '', '2026-09-01', 4, 20),
					(4, 3, 'PAY-001', 'in_progress', '', '', 1, 20), (5, 3, 'TEL-024', 'implemented', '', '', 1, 20),
					(6, 4, 'USR-012', 'not_applicable', 'No customers.', '', 1, 20), (7, 4, 'PAY-007', 'not_applicable', 'Not our platform.', '', 1, 20)`,
				`INSERT INTO tracking_history (item_id, org_id, version, at, user_id, kind, changes) VALUES
					(1, 3, 1, 5, NULL, 'update', '{"status":["not_started","in_progress"]}'), (1, 3, 2, 6, NULL, 'update', '{"status":["in_progress","implemented"]}'),
					(2, 3, 1, 7, NULL, 'update', '{"status":["not_started","planned"]}'), (3, 3, 4, 8, NULL, 'update', '{"status":["planned","implemented"]}')`,
				`INSERT INTO tracking_comments (item_id, org_id, user_id, at, body) VALUES (1, 3, NULL, 9, 'Pen test passed.'), (2, 3, NULL, 9, 'Waiting for the MNO feed.')`,
				`INSERT INTO tracking_evidence (item_id, org_id, blob_sha256, filename, user_id, at) VALUES
					(1, 3, '` + strings.Repeat("ab", 32) + `', 'mitm.txt', NULL, 9), (2, 3, '` + strings.Repeat("ab", 32) + `', 'design.txt', NULL, 9)`,
				`INSERT INTO waivers (id, org_id, rec_id, reason, expires, granted_org, granter_name, granted_at) VALUES
					(1, 3, 'PAY-004', 'Vendor delay.', '2099-01-01', 1, 'Regulator', 10)`,
				`INSERT INTO submissions (id, org_id, country, version_id, signed_by, signed_name, statement, submitted_at, applicable, implemented, overdue) VALUES
					(1, 3, 'MW', 1, 9, 'Signer', 'We confirm.', 30, 2, 1, 0)`,
				`INSERT INTO submission_items (submission_id, rec_id, status, target_date) VALUES (1, 'APP-049', 'implemented', '2026-05-01'), (1, 'PAY-004', 'planned', '2027-03-01')`,
			} {
				if _, err := old.ExecContext(ctx, q); err != nil {
					t.Fatalf("%v\n%s", err, q)
				}
			}
			if dialect == db.Postgres {
				for _, tb := range []string{"orgs", "baselines", "baseline_versions", "tracking_items", "tracking_history", "tracking_comments", "tracking_evidence", "submissions", "waivers"} {
					_, err := old.ExecContext(ctx, "SELECT setval(pg_get_serial_sequence('"+tb+"', 'id'), 100)")
					must(t, err)
				}
			}
			old.Close()

			d, err := db.Open(ctx, dsn) // runs 0130
			must(t, err)
			defer d.Close()
			cat, err := catalog.Default()
			must(t, err)
			st := adoption.NewStore(d, cat, nil)
			reg, err := st.Org(ctx, 1)
			must(t, err)
			prov, err := st.Org(ctx, 3)
			must(t, err)

			// The draft decides on survivors only.
			draft, err := st.Draft(ctx, reg)
			must(t, err)
			if it := draft["APP-012"]; it.Decision != adoption.Adapted || it.LocalText != "Refuse untrusted proxies." {
				t.Errorf("draft APP-012 = %+v, want APP-049's adapted text", it)
			}
			if it := draft["PAY-007"]; it.Decision != adoption.NotAdopted || it.Reason != "Later." {
				t.Errorf("draft PAY-007 = %+v, want its own decision", it)
			}
			if it := draft["TEL-005"]; it.Decision != adoption.Adapted || it.LocalText != "Detect swaps." {
				t.Errorf("draft TEL-005 = %+v, want PAY-001's decision", it)
			}
			var left int
			must(t, d.QueryRow(ctx, "SELECT COUNT(*) FROM baseline_drafts WHERE rec_id IN ('APP-049', 'USR-012', 'PAY-001', 'TEL-024')").Scan(&left))
			if left != 0 {
				t.Errorf("%d draft rows still name withdrawn items", left)
			}

			// The published version still holds what was published, read
			// as the survivors, once each.
			var published int
			must(t, d.QueryRow(ctx, "SELECT COUNT(*) FROM baseline_version_items WHERE version_id = 1 AND rec_id IN ('APP-049', 'PAY-004', 'PAY-001', 'TEL-024', 'USR-012')").Scan(&published))
			if published != 5 {
				t.Errorf("published version rows with withdrawn IDs: %d, want the 5 published", published)
			}
			v, err := st.Latest(ctx, "MW")
			must(t, err)
			wantItems := map[string]string{"APP-012": "APP-049", "TEL-015": "", "TEL-005": "PAY-001", "PAY-007": ""}
			if len(v.Items) != len(wantItems) {
				t.Errorf("version items %+v, want %d", v.Items, len(wantItems))
			}
			for id, as := range wantItems {
				if it, ok := v.Item(id); !ok || it.PublishedAs != as {
					t.Errorf("version item %s = %+v, %v; want published as %q", id, it, ok, as)
				}
			}

			// The provider's tracking, under the survivors.
			tr, err := st.Items(ctx, prov)
			must(t, err)
			got := map[string]adoption.Item{}
			for _, it := range tr.Items {
				if _, dup := got[it.RecID]; dup {
					t.Errorf("%s tracked twice", it.RecID)
				}
				got[it.RecID] = it
			}
			if it := got["APP-012"]; it.Status != adoption.Implemented || it.TargetDate != "2026-05-01" || it.Evidence != 1 || it.Version != 3 {
				t.Errorf("APP-012 (was APP-049) = %+v, want implemented, its target, its evidence, version 3", it)
			}
			// planned (PAY-004) and implemented (TEL-015): the less advanced.
			if it := got["TEL-015"]; it.Status != adoption.Planned || it.Justification != "Block list in design." || it.TargetDate != "2027-03-01" || it.Evidence != 1 || it.Version != 5 {
				t.Errorf("TEL-015 merged = %+v, want planned, PAY-004's justification, the later target, PAY-004's evidence, version 5", it)
			}
			// PAY-001 renamed to TEL-005 (in progress), then TEL-024 (implemented) merged in.
			if it := got["TEL-005"]; it.Status != adoption.InProgress || it.Version != 3 {
				t.Errorf("TEL-005 = %+v, want in progress at version 3", it)
			}
			if it := got["PAY-007"]; it.Status != adoption.NotStarted {
				t.Errorf("provider PAY-007 = %+v, want untouched (never tracked)", it)
			}
			// Not applicable stays only when both were, with both reasons.
			var status, just string
			must(t, d.QueryRow(ctx, "SELECT status, justification FROM tracking_items WHERE org_id = 4 AND rec_id = 'PAY-007'").Scan(&status, &just))
			if status != "not_applicable" || just != "Not our platform. / USR-012: No customers." {
				t.Errorf("operator PAY-007 = %s %q", status, just)
			}

			// Histories: the renamed item keeps its own and records the
			// rename; the merged survivor gains the withdrawn item's lines
			// and a merge line; the withdrawn item keeps its own.
			lines := func(item int64) []string {
				rows, err := d.Query(ctx, "SELECT changes FROM tracking_history WHERE item_id = ? ORDER BY id", item)
				must(t, err)
				defer rows.Close()
				var out []string
				for rows.Next() {
					var c string
					must(t, rows.Scan(&c))
					out = append(out, c)
				}
				return out
			}
			h1 := lines(1)
			if len(h1) != 3 || h1[2] != `{"recommendation":["APP-049","APP-012"]}` {
				t.Errorf("APP-012 history %q", h1)
			}
			h3 := lines(3)
			if len(h3) != 3 || h3[1] != `{"status":["not_started","planned"]}` || h3[2] != `{"merged_from":["PAY-004","planned"],"status":["implemented","planned"]}` {
				t.Errorf("TEL-015 history %q", h3)
			}
			if h2 := lines(2); len(h2) != 1 {
				t.Errorf("PAY-004's own history %q, want it kept", h2)
			}
			h4 := lines(4)
			if len(h4) != 2 || h4[1] != `{"merged_from":["TEL-024","implemented"],"status":["in_progress","in_progress"]}` {
				t.Errorf("TEL-005 history %q", h4)
			}
			var comment string
			must(t, d.QueryRow(ctx, "SELECT body FROM tracking_comments WHERE item_id = 3").Scan(&comment))
			if comment != "[PAY-004] Waiting for the MNO feed." {
				t.Errorf("copied comment %q", comment)
			}
			if it := got["TEL-015"]; it.WaivedUntil != "2099-01-01" {
				t.Errorf("the waiver on PAY-004 did not follow to TEL-015: %+v", it)
			}

			// The submitted report says what was submitted.
			sub, err := st.Submission(ctx, prov, 1)
			must(t, err)
			if len(sub.Items) != 2 || sub.Items[0].RecID != "APP-049" || sub.Items[0].Status != adoption.Implemented ||
				sub.Items[1].RecID != "PAY-004" || sub.Items[1].Status != adoption.Planned {
				t.Errorf("submission items %+v, want APP-049 implemented and PAY-004 planned as submitted", sub.Items)
			}
			if sub.Items[0].Rec == nil || !sub.Items[0].Rec.IsWithdrawn() || sub.Items[0].Rec.ReplacedBy != "APP-012" {
				t.Errorf("submitted APP-049 does not resolve to its withdrawn catalogue entry: %+v", sub.Items[0].Rec)
			}
		})
	}
}
