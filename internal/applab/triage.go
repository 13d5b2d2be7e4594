package applab

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/appscan"
	"github.com/dfslab/dfslab/internal/blob"
	"github.com/dfslab/dfslab/internal/db"
)

// Decision is a triage decision on a finding.
type Decision string

// Triage decisions. A finding without one is open.
const (
	Open          Decision = ""
	FalsePositive Decision = "false_positive"
	AcceptedRisk  Decision = "accepted_risk"
	Fixed         Decision = "fixed"
)

// Label names a decision for people.
func (d Decision) Label() string {
	switch d {
	case FalsePositive:
		return "False positive"
	case AcceptedRisk:
		return "Accepted risk"
	case Fixed:
		return "Fixed"
	}
	return "Open"
}

// Triage is the decision on one fingerprint of one app. It carries over to
// every later version in which the same finding appears.
type Triage struct {
	Fingerprint string
	RuleID      string
	Decision    Decision
	Reason      string
	Expires     string // YYYY-MM-DD for accepted risks
	DecidedBy   int64
	DecidedName string
	DecidedAt   time.Time
}

// Effective is the decision as it applies on day today: an accepted risk
// past its expiry is open again.
func (t Triage) Effective(today string) Decision {
	if t.Decision == AcceptedRisk && t.Expires != "" && t.Expires < today {
		return Open
	}
	return t.Decision
}

// TriageOf returns an app's decisions by fingerprint.
func (s *Store) TriageOf(ctx context.Context, appID int64) (map[string]Triage, error) {
	rows, err := s.db.Query(ctx, `SELECT t.fingerprint, t.rule_id, t.decision, t.reason, t.expires, COALESCE(t.decided_by, 0),
		COALESCE(u.display_name, ''), t.decided_at FROM applab_triage t LEFT JOIN users u ON u.id = t.decided_by WHERE t.app_id = ?`, appID)
	if err != nil {
		return nil, fmt.Errorf("applab: triage: %w", err)
	}
	defer rows.Close()
	out := map[string]Triage{}
	for rows.Next() {
		var t Triage
		var at int64
		if err := rows.Scan(&t.Fingerprint, &t.RuleID, &t.Decision, &t.Reason, &t.Expires, &t.DecidedBy, &t.DecidedName, &at); err != nil {
			return nil, err
		}
		t.DecidedAt = time.UnixMicro(at).UTC()
		out[t.Fingerprint] = t
	}
	return out, rows.Err()
}

// SetTriage records (or, with Open, clears) the decision on a finding of
// version v, which the caller owns. Accepted risks need a reason and an
// expiry in the future; false positives a reason.
func (s *Store) SetTriage(ctx context.Context, v Version, user int64, t Triage) error {
	return s.SetTriageMany(ctx, v, user, []string{t.Fingerprint}, t)
}

// MaxBulkTriage bounds the findings one bulk decision covers (a page of
// the report holds fewer).
const MaxBulkTriage = 500

// SetTriageMany records decision t (its fingerprint ignored) on each of
// the findings fps of version v, all or none: one unknown fingerprint, or
// an invalid decision, writes nothing.
func (s *Store) SetTriageMany(ctx context.Context, v Version, user int64, fps []string, t Triage) error {
	t.Reason = strings.TrimSpace(t.Reason)
	switch t.Decision {
	case Open, Fixed:
	case FalsePositive:
		if t.Reason == "" {
			return invalid("reason", "say why this finding is a false positive")
		}
	case AcceptedRisk:
		if t.Reason == "" {
			return invalid("reason", "say why the risk is accepted")
		}
		d, err := time.Parse(time.DateOnly, t.Expires)
		if err != nil {
			return invalid("expires", "give the date the acceptance expires (YYYY-MM-DD)")
		}
		if !d.After(s.now().UTC()) {
			return invalid("expires", "the expiry must be in the future")
		}
	default:
		return invalid("decision", "unknown decision")
	}
	if len(t.Reason) > 4000 {
		return invalid("reason", "keep the reason under 4000 characters")
	}
	if len(fps) == 0 {
		return invalid("fingerprint", "select at least one finding")
	}
	if len(fps) > MaxBulkTriage {
		return invalid("fingerprint", fmt.Sprintf("select at most %d findings at once", MaxBulkTriage))
	}
	if t.Decision != AcceptedRisk {
		t.Expires = ""
	}
	res, err := s.Result(ctx, v.ScanID)
	if err != nil {
		return err
	}
	rules := make(map[string]string, len(res.Findings))
	for _, f := range res.Findings {
		rules[f.Fingerprint] = f.RuleID
	}
	for _, fp := range fps {
		if _, ok := rules[fp]; !ok || fp == "" {
			return ErrNotFound
		}
	}
	now := s.nowUTC().UnixMicro()
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		for _, fp := range slices.Compact(slices.Sorted(slices.Values(fps))) {
			t.Fingerprint, t.RuleID = fp, rules[fp]
			if t.Decision == Open {
				if _, err := tx.Exec(ctx, "DELETE FROM applab_triage WHERE app_id = ? AND fingerprint = ?", v.AppID, t.Fingerprint); err != nil {
					return err
				}
			} else if _, err := tx.Exec(ctx, `INSERT INTO applab_triage (app_id, fingerprint, rule_id, decision, reason, expires, decided_by, decided_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (app_id, fingerprint) DO UPDATE SET decision = excluded.decision,
			reason = excluded.reason, expires = excluded.expires, decided_by = excluded.decided_by, decided_at = excluded.decided_at`,
				v.AppID, t.Fingerprint, t.RuleID, t.Decision, t.Reason, t.Expires, nullID(user), now); err != nil {
				return fmt.Errorf("applab: triage: %w", err)
			}
			if err := s.record(ctx, tx, v.UploaderOrg, "applab.triage", "version", v.ID, map[string]any{"fingerprint": t.Fingerprint,
				"rule": t.RuleID, "decision": string(t.Decision), "reason": t.Reason, "expires": t.Expires}); err != nil {
				return err
			}
		}
		return nil
	})
}

// ITUResult is a test's outcome.
type ITUResult string

// Outcomes of an ITU lab test.
const (
	NotTested ITUResult = ""
	Pass      ITUResult = "pass"
	Fail      ITUResult = "fail"
	NA        ITUResult = "na"
)

// Label names an outcome for people.
func (r ITUResult) Label() string {
	switch r {
	case Pass:
		return "Pass"
	case Fail:
		return "Fail"
	case NA:
		return "Not applicable"
	}
	return "Not tested"
}

// Recorded is a tester's result for one test of one version.
type Recorded struct {
	TestID       string
	Result       ITUResult
	Notes        string
	Evidence     string // blob key, "" when none
	EvidenceName string
	RecordedBy   string
	RecorderOrg  int64
	RecordedAt   time.Time
}

// Recorded returns the tester results of a version by test ID.
func (s *Store) Recorded(ctx context.Context, versionID int64) (map[string]Recorded, error) {
	rows, err := s.db.Query(ctx, `SELECT r.test_id, r.result, r.notes, COALESCE(r.evidence, ''), r.evidence_name, COALESCE(u.display_name, ''),
		r.recorder_org, r.recorded_at FROM applab_itu_results r LEFT JOIN users u ON u.id = r.recorded_by WHERE r.version_id = ?`, versionID)
	if err != nil {
		return nil, fmt.Errorf("applab: itu results: %w", err)
	}
	defer rows.Close()
	out := map[string]Recorded{}
	for rows.Next() {
		var r Recorded
		var at int64
		if err := rows.Scan(&r.TestID, &r.Result, &r.Notes, &r.Evidence, &r.EvidenceName, &r.RecordedBy, &r.RecorderOrg, &at); err != nil {
			return nil, err
		}
		r.RecordedAt = time.UnixMicro(at).UTC()
		out[r.TestID] = r
	}
	return out, rows.Err()
}

// Record stores a tester's result for a test of version v; evidence (may
// be nil) is stored as a blob in the same transaction.
func (s *Store) Record(ctx context.Context, v Version, by Org, user int64, r Recorded, evidence *blob.Upload) error {
	if _, ok := testByID(r.TestID); !ok {
		return invalid("test", "unknown test")
	}
	switch r.Result {
	case Pass, Fail, NA:
	default:
		return invalid("result", "choose pass, fail or not applicable")
	}
	r.Notes = strings.TrimSpace(r.Notes)
	if len(r.Notes) > 8000 {
		return invalid("notes", "keep the notes under 8000 characters")
	}
	now := s.nowUTC().UnixMicro()
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var ev any
		name := ""
		if evidence != nil {
			b, err := s.blobs.Insert(ctx, tx, *evidence)
			if err != nil {
				return err
			}
			ev, name = b.SHA256, cleanName(r.EvidenceName)
		} else {
			// Keep earlier evidence when the tester only edits the notes.
			var old sql.NullString
			err := tx.QueryRow(ctx, "SELECT evidence, evidence_name FROM applab_itu_results WHERE version_id = ? AND test_id = ?", v.ID, r.TestID).
				Scan(&old, &name)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if old.Valid {
				ev = old.String
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO applab_itu_results (version_id, test_id, result, notes, evidence, evidence_name, recorded_by, recorder_org, recorded_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (version_id, test_id) DO UPDATE SET result = excluded.result, notes = excluded.notes,
			evidence = excluded.evidence, evidence_name = excluded.evidence_name, recorded_by = excluded.recorded_by,
			recorder_org = excluded.recorder_org, recorded_at = excluded.recorded_at`,
			v.ID, r.TestID, r.Result, r.Notes, ev, name, nullID(user), by.ID, now); err != nil {
			return fmt.Errorf("applab: record test: %w", err)
		}
		return s.record(ctx, tx, v.UploaderOrg, "applab.itu.record", "version", v.ID, map[string]any{"test": r.TestID, "result": string(r.Result),
			"recorder_org": by.ID, "evidence": ev != nil})
	})
}

// Evidence returns the evidence file of a recorded test.
func (s *Store) Evidence(ctx context.Context, versionID int64, test string) (Recorded, blob.Blob, []byte, error) {
	recs, err := s.Recorded(ctx, versionID)
	if err != nil {
		return Recorded{}, blob.Blob{}, nil, err
	}
	r, ok := recs[test]
	if !ok || r.Evidence == "" {
		return Recorded{}, blob.Blob{}, nil, ErrNotFound
	}
	b, data, err := s.blobs.Get(ctx, r.Evidence)
	return r, b, data, err
}

// Share shares a version's audit with a regulator of the owner's country.
func (s *Store) Share(ctx context.Context, v Version, owner Org, regulatorID, user int64) error {
	regs, err := s.Regulators(ctx, owner)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(regs, func(o Org) bool { return o.ID == regulatorID }) {
		return invalid("regulator", "choose a regulator of your country")
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO applab_shares (version_id, regulator_id, shared_by, shared_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (version_id, regulator_id) DO NOTHING`, v.ID, regulatorID, nullID(user), s.nowUTC().UnixMicro()); err != nil {
			return fmt.Errorf("applab: share: %w", err)
		}
		return s.record(ctx, tx, v.UploaderOrg, "applab.share", "version", v.ID, map[string]any{"regulator": regulatorID})
	})
}

// SharedWith lists the regulators a version was shared with.
func (s *Store) SharedWith(ctx context.Context, versionID int64) ([]int64, error) {
	rows, err := s.db.Query(ctx, "SELECT regulator_id FROM applab_shares WHERE version_id = ? ORDER BY regulator_id", versionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// MarketRow is one app in a regulator's market view: its latest version
// the regulator may see, in the provider's records or in its own lab
// tests (one row each).
type MarketRow struct {
	Provider     Org
	Version      Version
	OpenCritical int // critical findings of the app's own code without an effective triage decision
	OpenHigh     int
	Shared       bool // shared by the provider (else the regulator's lab test)
}

// Market lists, for a regulator, the apps of its country's providers with
// the latest version it may see: shared by the provider, or tested by the
// regulator itself in lab mode.
func (s *Store) Market(ctx context.Context, reg Org) ([]MarketRow, error) {
	if !reg.IsRegulator() {
		return nil, nil
	}
	vs, err := s.versions(ctx, `JOIN orgs o ON o.id = a.org_id WHERE o.country = ? AND a.org_id <> ? AND (
		(a.uploader_org = a.org_id AND EXISTS (SELECT 1 FROM applab_shares sh WHERE sh.version_id = v.id AND sh.regulator_id = ?))
		OR a.uploader_org = ?)
		ORDER BY a.package, a.uploader_org, v.version_code DESC, v.id DESC`, reg.Country, reg.ID, reg.ID, reg.ID)
	if err != nil {
		return nil, err
	}
	today := s.now().UTC().Format(time.DateOnly)
	var out []MarketRow
	seen := map[int64]bool{}
	for _, v := range vs {
		if seen[v.AppID] || v.ScanID == 0 {
			continue
		}
		seen[v.AppID] = true
		p, err := s.Org(ctx, v.OrgID)
		if err != nil {
			return nil, err
		}
		row := MarketRow{Provider: p, Version: v}
		shared, err := s.SharedWith(ctx, v.ID)
		if err != nil {
			return nil, err
		}
		row.Shared = slices.Contains(shared, reg.ID)
		res, err := s.Result(ctx, v.ScanID)
		if err != nil {
			return nil, err
		}
		tri, err := s.TriageOf(ctx, v.AppID)
		if err != nil {
			return nil, err
		}
		for _, f := range res.Findings {
			if f.InLibrary || tri[f.Fingerprint].Effective(today) != Open {
				continue
			}
			switch f.Severity {
			case appscan.Critical:
				row.OpenCritical++
			case appscan.High:
				row.OpenHigh++
			}
		}
		out = append(out, row)
	}
	return out, nil
}
