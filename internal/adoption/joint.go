package adoption

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/identity"
)

// Authority is the authority that issues and enforces a baseline item.
type Authority string

// The authorities of a baseline item.
const (
	AuthorityTelecom     Authority = "telecom_regulator"
	AuthorityCentralBank Authority = "central_bank"
	AuthorityBoth        Authority = "both"
)

// Authorities lists the authorities in display order.
func Authorities() []Authority {
	return []Authority{AuthorityTelecom, AuthorityCentralBank, AuthorityBoth}
}

// Valid reports whether a is a known authority.
func (a Authority) Valid() bool {
	return a == AuthorityTelecom || a == AuthorityCentralBank || a == AuthorityBoth
}

// Label is the authority for people; "" is a version published before
// items named their authority.
func (a Authority) Label() string {
	switch a {
	case AuthorityTelecom:
		return "Telecom regulator"
	case AuthorityCentralBank:
		return "Central bank"
	case AuthorityBoth:
		return "Both"
	case "":
		return "Not stated"
	}
	return string(a)
}

// DefaultAuthority is the authority of a recommendation unless the
// regulators decide otherwise: the telecom regulator for what operators
// do on their network, the central bank for what providers, agents and
// switches do with money, both where both kinds act and for governance.
func DefaultAuthority(rec *catalog.Recommendation) Authority {
	var tel, cb bool
	for _, s := range rec.Stakeholders {
		switch s {
		case "mno", "telecom_regulator":
			tel = true
		case "dfs_provider", "agent", "payment_switch", "central_bank":
			cb = true
		}
	}
	switch rec.Layer {
	case "telecom":
		tel = true
	case "app", "payment":
		cb = true
	case "governance":
		tel, cb = true, true
	}
	switch {
	case tel && !cb:
		return AuthorityTelecom
	case cb && !tel:
		return AuthorityCentralBank
	}
	return AuthorityBoth
}

// ErrApproved: the regulator already approved the draft as it stands and
// waits for the other authority.
var ErrApproved = errors.New("adoption: already approved, waiting for the other authority")

// Approval is a regulator's approval of the draft (or, kept with a
// version, of what it published).
type Approval struct {
	UserID  int64
	OrgID   int64
	OrgName string
	OrgType identity.OrgType
	By      string
	At      time.Time
	Notes   string
	Valid   bool // draft only: the draft has not changed since
}

// Approvals lists the approvals given to the draft of the regulator's
// country, each marked valid when the draft is still what was approved.
func (s *Store) Approvals(ctx context.Context, reg Org) ([]Approval, error) {
	st, err := s.DraftState(ctx, reg)
	return st.Approvals, err
}

// draftApprovals reads the approvals of baseline bid; those of the draft
// whose hash is hash are valid.
func draftApprovals(ctx context.Context, q db.Querier, bid int64, hash string) ([]Approval, error) {
	rows, err := q.Query(ctx, `SELECT COALESCE(a.user_id, 0), a.org_id, o.name, o.type, a.approver_name, a.approved_at, a.notes, a.draft_sha256
		FROM baseline_approvals a JOIN orgs o ON o.id = a.org_id WHERE a.baseline_id = ? ORDER BY a.approved_at, a.org_id`, bid)
	if err != nil {
		return nil, fmt.Errorf("adoption: approvals: %w", err)
	}
	defer rows.Close()
	var out []Approval
	for rows.Next() {
		var a Approval
		var at int64
		var h string
		if err := rows.Scan(&a.UserID, &a.OrgID, &a.OrgName, &a.OrgType, &a.By, &at, &a.Notes, &h); err != nil {
			return nil, err
		}
		a.At, a.Valid = time.UnixMicro(at).UTC(), hash != "" && h == hash
		out = append(out, a)
	}
	return out, rows.Err()
}

// versionApprovals reads the approvals a version was published with.
func versionApprovals(ctx context.Context, q db.Querier, versionID int64) ([]Approval, error) {
	rows, err := q.Query(ctx, `SELECT COALESCE(a.user_id, 0), a.org_id, o.name, o.type, a.approver_name, a.approved_at
		FROM baseline_version_approvals a JOIN orgs o ON o.id = a.org_id WHERE a.version_id = ? ORDER BY a.approved_at, a.org_id`, versionID)
	if err != nil {
		return nil, fmt.Errorf("adoption: version approvals: %w", err)
	}
	defer rows.Close()
	var out []Approval
	for rows.Next() {
		a := Approval{Valid: true}
		var at int64
		if err := rows.Scan(&a.UserID, &a.OrgID, &a.OrgName, &a.OrgType, &a.By, &at); err != nil {
			return nil, err
		}
		a.At = time.UnixMicro(at).UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

// voidApprovals deletes the approvals of the country's draft after a
// change by org: an approval is of the draft as it was. The entry is
// listed under the regulators whose approval went.
func voidApprovals(ctx context.Context, tx *db.Tx, country string, org int64, why string) error {
	bid, err := baselineID(ctx, tx, country, false, time.Time{})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	rows, err := tx.Query(ctx, "SELECT org_id FROM baseline_approvals WHERE baseline_id = ?", bid)
	if err != nil {
		return fmt.Errorf("adoption: approvals: %w", err)
	}
	var orgs []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		orgs = append(orgs, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(orgs) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, "DELETE FROM baseline_approvals WHERE baseline_id = ?", bid); err != nil {
		return fmt.Errorf("adoption: void approvals: %w", err)
	}
	return appendAuditConcerning(ctx, tx, org, orgs, "baseline.approval.void", "baseline", country, map[string]any{"reason": why, "approvals": len(orgs)})
}

// ApprovalResult is what an approval led to: the version it published,
// or the approval recorded while the other authority's is awaited.
type ApprovalResult struct {
	Published *Version
	Recorded  *Approval
	Awaiting  identity.OrgType // the authority whose approval is missing
}

// Approve records the regulator's approval of the draft of a joint
// baseline. When the other authority approved the same draft, the
// approval publishes it (the second approver's notes are the version's
// notes when given, else the first's).
func (s *Store) Approve(ctx context.Context, reg Org, notes string) (ApprovalResult, error) {
	if err := s.requireRegulator(reg); err != nil {
		return ApprovalResult{}, err
	}
	notes, err := checkText("notes", "The notes", notes, maxNotes)
	if err != nil {
		return ApprovalResult{}, err
	}
	cat, err := s.current(ctx)
	if err != nil {
		return ApprovalResult{}, err
	}
	now := s.nowUTC()
	actor := actorID(ctx)
	var res ApprovalResult
	var published int
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		bid, err := baselineID(ctx, tx, reg.Country, true, now)
		if err != nil {
			return err
		}
		if err := lockBaseline(ctx, tx, bid); err != nil {
			return err
		}
		a, err := arrangement(ctx, tx, reg.Country)
		if err != nil {
			return err
		}
		if !a.Joint() {
			return invalid("joint", "The baseline of "+reg.Country+" is not joint: publish it directly.")
		}
		p, err := s.prepare(ctx, tx, cat, reg.Country, bid)
		if err != nil {
			return err
		}
		hash := p.hash()
		if err := s.refuseUnchanged(ctx, reg.Country, p); err != nil {
			return err
		}
		approvals, err := draftApprovals(ctx, tx, bid, hash)
		if err != nil {
			return err
		}
		var other *Approval
		for i, ap := range approvals {
			if !ap.Valid {
				continue
			}
			if ap.OrgID == reg.ID || ap.OrgType == reg.Type {
				if ap.OrgID == reg.ID {
					return ErrApproved
				}
				continue // the same authority's other organisation does not count twice
			}
			other = &approvals[i]
		}
		name := userName(ctx, tx, sql.NullInt64{Int64: actor, Valid: actor != 0})
		mine := Approval{UserID: actor, OrgID: reg.ID, OrgName: reg.Name, OrgType: reg.Type, By: name, At: now, Notes: notes, Valid: true}
		if other == nil {
			if _, err := tx.Exec(ctx, `INSERT INTO baseline_approvals (baseline_id, org_id, user_id, approver_name, draft_sha256, notes, approved_at)
				VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (baseline_id, org_id) DO UPDATE SET user_id = excluded.user_id,
				approver_name = excluded.approver_name, draft_sha256 = excluded.draft_sha256, notes = excluded.notes, approved_at = excluded.approved_at`,
				bid, reg.ID, nullID(actor), name, hash, notes, now.UnixMicro()); err != nil {
				return fmt.Errorf("adoption: approve: %w", err)
			}
			res.Recorded = &mine
			res.Awaiting = identity.OrgCentralBank
			if reg.Type == identity.OrgCentralBank {
				res.Awaiting = identity.OrgTelecomRegulator
			}
			var others []int64
			for _, r := range a.Regulators {
				if r.Org.ID != reg.ID {
					others = append(others, r.Org.ID)
				}
			}
			return appendAuditConcerning(ctx, tx, reg.ID, others, "baseline.approve", "baseline", reg.Country,
				map[string]any{"country": reg.Country, "draft_sha256": hash})
		}
		if notes == "" {
			notes = other.Notes
		}
		v, err := s.writeVersion(ctx, tx, reg, bid, p, notes, now, []Approval{*other, mine})
		if err != nil {
			return err
		}
		published = v.Number
		if _, err := tx.Exec(ctx, "DELETE FROM baseline_approvals WHERE baseline_id = ?", bid); err != nil {
			return fmt.Errorf("adoption: clear approvals: %w", err)
		}
		return appendAuditConcerning(ctx, tx, reg.ID, []int64{other.OrgID}, "baseline.publish", "baseline_version", reg.Country+"/"+v.Label(),
			map[string]any{"country": reg.Country, "number": v.Number, "approved_by": []int64{other.OrgID, reg.ID}, "draft_sha256": hash})
	})
	if err != nil {
		return ApprovalResult{}, err
	}
	if published != 0 {
		v, err := s.Version(ctx, reg.Country, published)
		if err != nil {
			return ApprovalResult{}, err
		}
		res.Published = &v
	}
	return res, nil
}

// lockBaseline makes concurrent publications and approvals of one
// baseline wait for each other on PostgreSQL (SQLite's write transaction
// holds the database lock already).
func lockBaseline(ctx context.Context, tx *db.Tx, bid int64) error {
	if tx.Dialect() != db.Postgres {
		return nil
	}
	_, err := tx.Exec(ctx, "SELECT id FROM baselines WHERE id = ? FOR UPDATE", bid)
	return err
}
