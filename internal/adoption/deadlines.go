package adoption

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/db"
)

// Phase is a step of a baseline's roadmap: "Phase 1, within 6 months of
// the effective date".
type Phase struct {
	Number   int // 1–9
	Label    string
	Months   int    // after the effective date
	Deadline string // published versions: the effective date plus Months
}

// Schedule is the draft's effective date and phases.
type Schedule struct {
	EffectiveDate string // YYYY-MM-DD or ""
	Phases        []Phase
}

// Phase returns phase n of the schedule.
func (sc Schedule) Phase(n int) (Phase, bool) {
	for _, p := range sc.Phases {
		if p.Number == n {
			return p, true
		}
	}
	return Phase{}, false
}

const (
	maxPhases     = 9
	maxPhaseLabel = 200
	maxMonths     = 120
)

// validDate reports whether s is a YYYY-MM-DD date.
func validDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// addMonths is the deadline of a phase: months after date, on the same
// day of the month (or the last day when the month is shorter, so that
// 31 August plus 6 months is 28 February, not 3 March).
func addMonths(date string, months int) string {
	t, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return ""
	}
	first := time.Date(t.Year(), t.Month()+time.Month(months), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(t.Day(), last), 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
}

func (sc Schedule) validate() (Schedule, error) {
	sc.EffectiveDate = strings.TrimSpace(sc.EffectiveDate)
	if sc.EffectiveDate != "" && !validDate(sc.EffectiveDate) {
		return sc, invalid("effective_date", "Give the effective date as YYYY-MM-DD.")
	}
	if len(sc.Phases) > maxPhases {
		return sc, invalid("phases", fmt.Sprintf("A baseline has at most %d phases.", maxPhases))
	}
	seen := map[int]bool{}
	for i := range sc.Phases {
		p := &sc.Phases[i]
		if p.Number < 1 || p.Number > maxPhases || seen[p.Number] {
			return sc, invalid("phases", fmt.Sprintf("Number the phases 1 to %d, each once.", maxPhases))
		}
		seen[p.Number] = true
		label, err := checkText("phases", fmt.Sprintf("The name of phase %d", p.Number), p.Label, maxPhaseLabel)
		if err != nil {
			return sc, err
		}
		if label == "" {
			return sc, invalid("phases", fmt.Sprintf("Name phase %d, for example “Phase %d”.", p.Number, p.Number))
		}
		p.Label = label
		if p.Months < 0 || p.Months > maxMonths {
			return sc, invalid("phases", fmt.Sprintf("Phase %d: give the months after the effective date, from 0 to %d.", p.Number, maxMonths))
		}
		p.Deadline = ""
	}
	return sc, nil
}

// DraftSchedule returns the effective date and phases of the regulator's
// draft.
func (s *Store) DraftSchedule(ctx context.Context, reg Org) (Schedule, error) {
	if err := s.requireRegulator(reg); err != nil {
		return Schedule{}, err
	}
	bid, err := baselineID(ctx, s.db, reg.Country, false, time.Time{})
	if err == ErrNotFound {
		return Schedule{}, nil
	}
	if err != nil {
		return Schedule{}, err
	}
	return draftSchedule(ctx, s.db, bid)
}

func draftSchedule(ctx context.Context, q db.Querier, bid int64) (Schedule, error) {
	var sc Schedule
	if err := q.QueryRow(ctx, "SELECT effective_date FROM baselines WHERE id = ?", bid).Scan(&sc.EffectiveDate); err != nil {
		return sc, fmt.Errorf("adoption: schedule: %w", err)
	}
	rows, err := q.Query(ctx, "SELECT number, label, months FROM baseline_draft_phases WHERE baseline_id = ? ORDER BY number", bid)
	if err != nil {
		return sc, fmt.Errorf("adoption: phases: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p Phase
		if err := rows.Scan(&p.Number, &p.Label, &p.Months); err != nil {
			return sc, err
		}
		if sc.EffectiveDate != "" {
			p.Deadline = addMonths(sc.EffectiveDate, p.Months)
		}
		sc.Phases = append(sc.Phases, p)
	}
	return sc, rows.Err()
}

// SetSchedule replaces the effective date and the phases of the draft.
// A phase that draft items still name cannot be removed.
func (s *Store) SetSchedule(ctx context.Context, reg Org, sc Schedule) error {
	if err := s.requireRegulator(reg); err != nil {
		return err
	}
	sc, err := sc.validate()
	if err != nil {
		return err
	}
	now := s.nowUTC()
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		bid, err := baselineID(ctx, tx, reg.Country, true, now)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT phase, COUNT(*) FROM baseline_drafts WHERE baseline_id = ? AND phase > 0 GROUP BY phase ORDER BY phase", bid)
		if err != nil {
			return fmt.Errorf("adoption: phases in use: %w", err)
		}
		var dropped error // the first phase in use that the new schedule lacks
		for rows.Next() {
			var ph, n int
			if err := rows.Scan(&ph, &n); err != nil {
				rows.Close()
				return err
			}
			if _, ok := sc.Phase(ph); !ok && dropped == nil {
				dropped = invalid("phases", fmt.Sprintf("Phase %d is still given to %d draft items; move them to another phase first.", ph, n))
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if dropped != nil {
			return dropped
		}
		if _, err := tx.Exec(ctx, "UPDATE baselines SET effective_date = ? WHERE id = ?", sc.EffectiveDate, bid); err != nil {
			return fmt.Errorf("adoption: set effective date: %w", err)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM baseline_draft_phases WHERE baseline_id = ?", bid); err != nil {
			return fmt.Errorf("adoption: set phases: %w", err)
		}
		det := map[string]any{"country": reg.Country, "effective_date": sc.EffectiveDate}
		for _, p := range sc.Phases {
			if _, err := tx.Exec(ctx, "INSERT INTO baseline_draft_phases (baseline_id, number, label, months) VALUES (?, ?, ?, ?)",
				bid, p.Number, p.Label, p.Months); err != nil {
				return fmt.Errorf("adoption: set phases: %w", err)
			}
			det[fmt.Sprintf("phase_%d", p.Number)] = fmt.Sprintf("%s (%d months)", p.Label, p.Months)
		}
		if err := voidApprovals(ctx, tx, reg.Country, reg.ID, "schedule changed"); err != nil {
			return err
		}
		return appendAudit(ctx, tx, reg.ID, "baseline.schedule.set", "baseline", reg.Country, det)
	})
}

// overdue is the one overdue rule: an open item whose deadline passed.
// The regulator's deadline is the measure where there is one; otherwise
// the organisation's own target date.
func overdue(st Status, deadline, target, today string) bool {
	due := deadline
	if due == "" {
		due = target
	}
	return st.Open() && due != "" && due < today
}
