package adoption

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/db"
)

// Waiver exempts a provider from one baseline item until Expires.
type Waiver struct {
	ID        int64
	OrgID     int64
	RecID     string
	Reason    string
	Expires   string // YYYY-MM-DD, the last day it applies
	GrantedBy string
	GrantedAt time.Time
	RevokedAt time.Time // zero: not revoked
	RevokedBy string
}

// Active reports whether the waiver applies on day today (YYYY-MM-DD).
func (w Waiver) Active(today string) bool { return w.RevokedAt.IsZero() && w.Expires >= today }

const (
	maxWaiverReason = 2000
	maxWaiverYears  = 3
)

const waiverCols = "id, org_id, rec_id, reason, expires, granter_name, granted_at, revoked_at, revoked_name"

func scanWaiver(r interface{ Scan(...any) error }) (Waiver, error) {
	var w Waiver
	var at, rev int64
	err := r.Scan(&w.ID, &w.OrgID, &w.RecID, &w.Reason, &w.Expires, &w.GrantedBy, &at, &rev, &w.RevokedBy)
	w.GrantedAt = time.UnixMicro(at).UTC()
	if rev != 0 {
		w.RevokedAt = time.UnixMicro(rev).UTC()
	}
	return w, err
}

// activeWaivers returns the provider's running waivers by item.
func activeWaivers(ctx context.Context, q db.Querier, orgID int64, today string) (map[string]Waiver, error) {
	rows, err := q.Query(ctx, "SELECT "+waiverCols+" FROM waivers WHERE org_id = ? AND revoked_at = 0 AND expires >= ?", orgID, today)
	if err != nil {
		return nil, fmt.Errorf("adoption: waivers: %w", err)
	}
	defer rows.Close()
	out := map[string]Waiver{}
	for rows.Next() {
		w, err := scanWaiver(rows)
		if err != nil {
			return nil, err
		}
		out[w.RecID] = w
	}
	return out, rows.Err()
}

// Waivers lists every waiver of provider id of the regulator's country,
// newest first.
func (s *Store) Waivers(ctx context.Context, reg Org, id int64) ([]Waiver, error) {
	p, err := s.regulatedProvider(ctx, s.db, reg, id)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, "SELECT "+waiverCols+" FROM waivers WHERE org_id = ? ORDER BY granted_at DESC, id DESC", p.ID)
	if err != nil {
		return nil, fmt.Errorf("adoption: waivers: %w", err)
	}
	defer rows.Close()
	var out []Waiver
	for rows.Next() {
		w, err := scanWaiver(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// GrantWaiver exempts provider id from item recID of the latest baseline
// until expires, for reason. One waiver runs per item at a time.
func (s *Store) GrantWaiver(ctx context.Context, reg Org, id int64, recID, reason, expires string) (Waiver, error) {
	p, err := s.regulatedProvider(ctx, s.db, reg, id)
	if err != nil {
		return Waiver{}, err
	}
	recID = strings.TrimSpace(recID)
	v, err := s.Latest(ctx, reg.Country)
	if err != nil {
		return Waiver{}, err
	}
	bi, ok := v.Item(recID)
	if !ok || !bi.Decision.Applies() || !bi.AppliesToLicensee(p.Licensee) {
		return Waiver{}, invalid("rec_id", fmt.Sprintf("Choose an item of baseline %s that applies to %s.", v.Label(), p.Name))
	}
	if reason, err = checkText("reason", "The reason", reason, maxWaiverReason); err != nil {
		return Waiver{}, err
	}
	if reason == "" {
		return Waiver{}, invalid("reason", "Give the reason for the waiver; the provider reads it.")
	}
	expires = strings.TrimSpace(expires)
	today := s.today()
	limit := s.now().UTC().AddDate(maxWaiverYears, 0, 0).Format(time.DateOnly)
	switch {
	case !validDate(expires):
		return Waiver{}, invalid("expires", "Give the expiry date as YYYY-MM-DD.")
	case expires < today:
		return Waiver{}, invalid("expires", fmt.Sprintf("The expiry date %s has passed; give today (%s) or a later date.", expires, today))
	case expires > limit:
		return Waiver{}, invalid("expires", fmt.Sprintf("A waiver runs at most %d years: until %s at the latest.", maxWaiverYears, limit))
	}
	now := s.nowUTC()
	actor := actorID(ctx)
	w := Waiver{OrgID: p.ID, RecID: recID, Reason: reason, Expires: expires, GrantedAt: now}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		running, err := activeWaivers(ctx, tx, p.ID, today)
		if err != nil {
			return err
		}
		if cur, ok := running[recID]; ok {
			return invalid("rec_id", fmt.Sprintf("%s is already waived until %s; revoke that waiver first to set another.", recID, cur.Expires))
		}
		w.GrantedBy = userName(ctx, tx, sql.NullInt64{Int64: actor, Valid: actor != 0})
		if err := tx.QueryRow(ctx, `INSERT INTO waivers (org_id, rec_id, reason, expires, granted_org, granted_by, granter_name, granted_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, p.ID, recID, reason, expires, reg.ID, nullID(actor), w.GrantedBy, now.UnixMicro()).Scan(&w.ID); err != nil {
			return fmt.Errorf("adoption: grant waiver: %w", err)
		}
		return appendAuditConcerning(ctx, tx, reg.ID, []int64{p.ID}, "waiver.grant", "waiver", idStr(w.ID), map[string]any{
			"provider": p.ID, "rec": recID, "expires": expires})
	})
	if err != nil {
		return Waiver{}, err
	}
	return w, nil
}

// RevokeWaiver ends waiver wid, of a provider of the regulator's
// country, before its expiry; it returns the waiver.
func (s *Store) RevokeWaiver(ctx context.Context, reg Org, wid int64) (Waiver, error) {
	if err := s.requireRegulator(reg); err != nil {
		return Waiver{}, err
	}
	now := s.nowUTC()
	actor := actorID(ctx)
	var w Waiver
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		w, err = scanWaiver(tx.QueryRow(ctx, "SELECT w."+strings.ReplaceAll(waiverCols, ", ", ", w.")+` FROM waivers w JOIN orgs o ON o.id = w.org_id
			WHERE w.id = ? AND o.country = ? AND o.licensee_type IN `+providerLicensees, wid, reg.Country))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("adoption: waiver: %w", err)
		}
		if !w.Active(s.today()) {
			return invalid("waiver", fmt.Sprintf("The waiver of %s no longer runs; nothing to revoke.", w.RecID))
		}
		name := userName(ctx, tx, sql.NullInt64{Int64: actor, Valid: actor != 0})
		if _, err := tx.Exec(ctx, "UPDATE waivers SET revoked_at = ?, revoked_name = ? WHERE id = ?", now.UnixMicro(), name, w.ID); err != nil {
			return fmt.Errorf("adoption: revoke waiver: %w", err)
		}
		w.RevokedAt, w.RevokedBy = now, name
		return appendAuditConcerning(ctx, tx, reg.ID, []int64{w.OrgID}, "waiver.revoke", "waiver", idStr(w.ID), map[string]any{"provider": w.OrgID, "rec": w.RecID})
	})
	return w, err
}
