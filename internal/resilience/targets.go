package resilience

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
)

// Targets returns the targets the regulators of country set for entity
// type t under model key, by domain ID (empty when none).
func (s *Store) Targets(ctx context.Context, country, modelKey string, t EntityType) (Overrides, error) {
	return targets(ctx, s.db, country, modelKey, t)
}

func targets(ctx context.Context, q db.Querier, country, modelKey string, t EntityType) (Overrides, error) {
	rows, err := q.Query(ctx, "SELECT domain_id, target FROM resilience_targets WHERE country = ? AND model_key = ? AND entity_type = ?",
		country, modelKey, string(t))
	if err != nil {
		return nil, fmt.Errorf("resilience: targets: %w", err)
	}
	defer rows.Close()
	out := Overrides{}
	for rows.Next() {
		var d string
		var v float64
		if err := rows.Scan(&d, &v); err != nil {
			return nil, fmt.Errorf("resilience: targets: %w", err)
		}
		out[d] = v
	}
	return out, rows.Err()
}

// SetTargets sets (or, for a nil value, clears) regulator's targets for
// entity type t under model key in its country, by domain ID. Targets are
// between 0 and 5 in steps of 0.5. Scores of assessments signed off
// before keep the targets they were signed off with (their snapshot).
func (s *Store) SetTargets(ctx context.Context, regulator Org, modelKey string, t EntityType, set map[string]*float64) error {
	if !regulator.Regulator {
		return fmt.Errorf("%w: only a regulator sets targets", ErrInvalid)
	}
	if !t.Valid() {
		return fmt.Errorf("%w: unknown entity type %q", ErrInvalid, t)
	}
	m, err := s.Model(ctx, modelKey)
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(set))
	for id, v := range set {
		if m.Domain(id) == nil {
			return fmt.Errorf("%w: unknown domain %q", ErrInvalid, id)
		}
		if v != nil && (*v < MinLevel || *v > MaxLevel || math.Mod(*v*2, 1) != 0) {
			return fmt.Errorf("%w: the target of %s must be between %d and %d in steps of 0.5", ErrInvalid, id, MinLevel, MaxLevel)
		}
		ids = append(ids, id)
	}
	sort.Strings(ids)
	now := s.nowUTC().UnixMicro()
	actor := audit.ActorFrom(ctx).UserID
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		details := map[string]any{"model": modelKey, "entity_type": string(t)}
		for _, id := range ids {
			if _, err := tx.Exec(ctx, "DELETE FROM resilience_targets WHERE country = ? AND model_key = ? AND entity_type = ? AND domain_id = ?",
				regulator.Country, modelKey, string(t), id); err != nil {
				return fmt.Errorf("resilience: set targets: %w", err)
			}
			v := set[id]
			if v == nil {
				details[id] = "model default"
				continue
			}
			if _, err := tx.Exec(ctx, `INSERT INTO resilience_targets (country, model_key, entity_type, domain_id, target, set_by_org, set_by, set_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, regulator.Country, modelKey, string(t), id, *v, regulator.ID, nullID(actor), now); err != nil {
				return fmt.Errorf("resilience: set targets: %w", err)
			}
			details[id] = *v
		}
		return appendAudit(ctx, tx, regulator.ID, "resilience.targets.set", "resilience_targets", regulator.Country+"/"+modelKey+"/"+string(t), details)
	})
}
