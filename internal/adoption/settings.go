package adoption

import (
	"context"
	"fmt"
	"time"

	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/identity"
)

// RegulatorSetting is what one regulator of a country agrees to with the
// others: sharing its enforcement notes (MOU-style), and requiring that
// baseline versions be approved by both authorities (joint baseline).
type RegulatorSetting struct {
	Org          Org
	ShareNotes   bool
	RequireJoint bool
	UpdatedBy    string
	UpdatedAt    time.Time // zero: never set
}

// Arrangement is how the regulators of a country work together, as their
// settings make it.
type Arrangement struct {
	Country    string
	Regulators []RegulatorSetting // by name
}

// Setting returns the setting of regulator id (zero when it is not a
// regulator of the country).
func (a Arrangement) Setting(id int64) RegulatorSetting {
	for _, r := range a.Regulators {
		if r.Org.ID == id {
			return r
		}
	}
	return RegulatorSetting{}
}

// SharesNotesWith reports whether regulators a and b read each other's
// enforcement notes: both must have sharing on (an MOU binds both sides,
// and either ends it alone).
func (a Arrangement) SharesNotesWith(x, y int64) bool {
	return x != y && a.Setting(x).ShareNotes && a.Setting(y).ShareNotes
}

// Joint reports whether publishing a baseline version of the country
// needs the approval of both its telecom regulator and its central bank:
// one of them asked for it, and the country has both.
func (a Arrangement) Joint() bool {
	var tr, cb, asked bool
	for _, r := range a.Regulators {
		tr = tr || r.Org.Type == identity.OrgTelecomRegulator
		cb = cb || r.Org.Type == identity.OrgCentralBank
		asked = asked || r.RequireJoint
	}
	return asked && tr && cb
}

// Arrangement returns the settings of every regulator of the regulator's
// country.
func (s *Store) Arrangement(ctx context.Context, reg Org) (Arrangement, error) {
	if err := s.requireRegulator(reg); err != nil {
		return Arrangement{}, err
	}
	return arrangement(ctx, s.db, reg.Country)
}

func arrangement(ctx context.Context, q db.Querier, country string) (Arrangement, error) {
	rows, err := q.Query(ctx, `SELECT o.id, o.name, o.type, o.country, o.licensee_type, COALESCE(r.share_notes, FALSE), COALESCE(r.require_joint, FALSE),
		COALESCE(r.updated_at, 0), COALESCE(u.display_name, ''), COALESCE(u.email, '')
		FROM orgs o LEFT JOIN regulator_settings r ON r.org_id = o.id LEFT JOIN users u ON u.id = r.updated_by
		WHERE o.country = ? AND o.type IN ('telecom_regulator', 'central_bank') ORDER BY o.name, o.id`, country)
	if err != nil {
		return Arrangement{}, fmt.Errorf("adoption: arrangement: %w", err)
	}
	defer rows.Close()
	a := Arrangement{Country: country}
	for rows.Next() {
		var rs RegulatorSetting
		var at int64
		var dn, em string
		if err := rows.Scan(&rs.Org.ID, &rs.Org.Name, &rs.Org.Type, &rs.Org.Country, &rs.Org.Licensee, &rs.ShareNotes, &rs.RequireJoint, &at, &dn, &em); err != nil {
			return Arrangement{}, err
		}
		if at != 0 {
			rs.UpdatedAt, rs.UpdatedBy = time.UnixMicro(at).UTC(), personName(dn, em)
		}
		a.Regulators = append(a.Regulators, rs)
	}
	return a, rows.Err()
}

// SetShareNotes switches the regulator's sharing of enforcement notes
// with the country's other regulators on or off. The entry is listed
// under the other regulators too: what they can read changes.
func (s *Store) SetShareNotes(ctx context.Context, reg Org, on bool) error {
	return s.setRegulatorSetting(ctx, reg, "share_notes", on, "regulator.share_notes.set")
}

// SetRequireJoint makes the regulator require, or no longer require, the
// approval of both authorities for publishing a baseline version.
// Switching it changes what an approval already given means, so the
// draft's approvals are voided.
func (s *Store) SetRequireJoint(ctx context.Context, reg Org, on bool) error {
	return s.setRegulatorSetting(ctx, reg, "require_joint", on, "baseline.joint.set")
}

func (s *Store) setRegulatorSetting(ctx context.Context, reg Org, col string, on bool, action string) error {
	if err := s.requireRegulator(reg); err != nil {
		return err
	}
	now := s.nowUTC()
	actor := actorID(ctx)
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		// col is one of two constants of this file, never input.
		if _, err := tx.Exec(ctx, `INSERT INTO regulator_settings (org_id, `+col+`, updated_by, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (org_id) DO UPDATE SET `+col+` = excluded.`+col+`, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
			reg.ID, on, nullID(actor), now.UnixMicro()); err != nil {
			return fmt.Errorf("adoption: regulator setting: %w", err)
		}
		a, err := arrangement(ctx, tx, reg.Country)
		if err != nil {
			return err
		}
		var others []int64
		for _, r := range a.Regulators {
			if r.Org.ID != reg.ID {
				others = append(others, r.Org.ID)
			}
		}
		if col == "require_joint" {
			if err := voidApprovals(ctx, tx, reg.Country, reg.ID, "joint setting changed"); err != nil {
				return err
			}
		}
		return appendAuditConcerning(ctx, tx, reg.ID, others, action, "country", reg.Country, map[string]any{"on": on, "country": reg.Country})
	})
}
