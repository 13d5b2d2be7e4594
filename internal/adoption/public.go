package adoption

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/identity"
)

// MinAggregate is the fewest organisations an aggregate of the public
// summary may cover: below it, a figure could single out a provider.
const MinAggregate = 3

// PublicState is whether the country's public summary is published.
type PublicState struct {
	Published bool
	ChangedBy string
	ChangedIn string // the regulator
	ChangedAt time.Time
}

// PublicSummaryState returns the state of the regulator's country's
// public summary.
func (s *Store) PublicSummaryState(ctx context.Context, reg Org) (PublicState, error) {
	if err := s.requireRegulator(reg); err != nil {
		return PublicState{}, err
	}
	return publicState(ctx, s.db, reg.Country)
}

func publicState(ctx context.Context, q db.Querier, country string) (PublicState, error) {
	var st PublicState
	var at int64
	var dn, em string
	err := q.QueryRow(ctx, `SELECT p.published, p.changed_at, o.name, COALESCE(u.display_name, ''), COALESCE(u.email, '')
		FROM public_summaries p JOIN orgs o ON o.id = p.changed_org LEFT JOIN users u ON u.id = p.changed_by WHERE p.country = ?`, country).
		Scan(&st.Published, &at, &st.ChangedIn, &dn, &em)
	if errors.Is(err, sql.ErrNoRows) {
		return PublicState{}, nil
	}
	if err != nil {
		return PublicState{}, fmt.Errorf("adoption: public summary: %w", err)
	}
	st.ChangedAt, st.ChangedBy = time.UnixMicro(at).UTC(), personName(dn, em)
	return st, nil
}

// SetPublicSummary publishes (on) or withdraws the public summary of the
// regulator's country. Publishing needs a published baseline.
func (s *Store) SetPublicSummary(ctx context.Context, reg Org, on bool) error {
	if err := s.requireRegulator(reg); err != nil {
		return err
	}
	if on {
		if _, err := s.Latest(ctx, reg.Country); errors.Is(err, ErrNoBaseline) {
			return invalid("on", "Publish a baseline version first: the public summary shows the latest one.")
		} else if err != nil {
			return err
		}
	}
	now := s.nowUTC()
	actor := actorID(ctx)
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO public_summaries (country, published, changed_by, changed_org, changed_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (country) DO UPDATE SET published = excluded.published, changed_by = excluded.changed_by,
			changed_org = excluded.changed_org, changed_at = excluded.changed_at`, reg.Country, on, nullID(actor), reg.ID, now.UnixMicro()); err != nil {
			return fmt.Errorf("adoption: set public summary: %w", err)
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
		return appendAuditConcerning(ctx, tx, reg.ID, others, "baseline.public.set", "country", reg.Country, map[string]any{"on": on, "country": reg.Country})
	})
}

// PublicCountries lists the countries whose public summary is published.
func (s *Store) PublicCountries(ctx context.Context) ([]string, error) {
	rows, err := s.db.Query(ctx, "SELECT country FROM public_summaries WHERE published ORDER BY country")
	if err != nil {
		return nil, fmt.Errorf("adoption: public summaries: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Aggregate is a figure over Orgs organisations; Hidden when they are
// fewer than MinAggregate (then the figures are zero, never shown).
type Aggregate struct {
	Label       string
	Orgs        int
	Implemented int // items, summed
	Applicable  int
	Share       int // mean of the organisations' implemented shares, in percent
	Hidden      bool
}

// PublicSummary is what anyone may read of a country: its latest
// baseline (items and deadlines) and the sector's progress in
// aggregates that name no provider.
type PublicSummary struct {
	Country   string
	Version   Version
	Rows      []versionRow
	Reporting Aggregate   // every provider that has reported
	ByType    []Aggregate // per licensee type
	ByLayer   []Aggregate // per catalogue layer
	Overdue   int         // overdue items over the reporting providers (shown when Reporting is)
	Period    *Period     // the current reporting period, if any
	InScope   int         // organisations in scope of it
	Submitted int         // of them, submitted in it (on time or late)
	PeriodHid bool        // fewer than MinAggregate in scope: the period's figures are hidden
}

// hide zeroes an aggregate over too few organisations.
func (a Aggregate) hide() Aggregate {
	if a.Orgs < MinAggregate {
		return Aggregate{Label: a.Label, Orgs: 0, Hidden: true}
	}
	return a
}

// PublicSummary returns the public summary of country, or ErrNotFound
// when its regulators have not published one (or withdrew it).
func (s *Store) PublicSummary(ctx context.Context, country string) (PublicSummary, error) {
	st, err := publicState(ctx, s.db, country)
	if err != nil {
		return PublicSummary{}, err
	}
	if !st.Published {
		return PublicSummary{}, ErrNotFound
	}
	v, err := s.Latest(ctx, country)
	if errors.Is(err, ErrNoBaseline) {
		return PublicSummary{}, ErrNotFound
	}
	if err != nil {
		return PublicSummary{}, err
	}
	ps := PublicSummary{Country: country, Version: v}
	for _, row := range versionRows(v, s.cat) {
		if row.Item.Decision.Applies() {
			ps.Rows = append(ps.Rows, row)
		}
	}
	sv, err := s.sector(ctx, country)
	if err != nil {
		return PublicSummary{}, err
	}
	licensee, err := orgLicensees(ctx, s.db, country)
	if err != nil {
		return PublicSummary{}, err
	}
	sum := map[string]float64{}
	all := Aggregate{Label: "All reporting organisations"}
	byType := map[Licensee]*Aggregate{}
	byLayer := make([]Aggregate, len(sv.Layers))
	for i, l := range sv.Layers {
		byLayer[i].Label = l.Name
	}
	for _, row := range sv.Rows {
		sub := row.Latest
		share := 0.0
		if sub.Applicable > 0 {
			share = 100 * float64(sub.Implemented) / float64(sub.Applicable)
		}
		all.Orgs++
		all.Implemented += sub.Implemented
		all.Applicable += sub.Applicable
		sum[""] += share
		ps.Overdue += sub.Overdue
		l := licensee[sub.OrgID]
		if byType[l] == nil {
			byType[l] = &Aggregate{Label: l.Label()}
		}
		t := byType[l]
		t.Orgs++
		t.Implemented += sub.Implemented
		t.Applicable += sub.Applicable
		sum[string(l)] += share
		for i, c := range row.ByLayer {
			if c.Applicable > 0 {
				byLayer[i].Orgs++
				byLayer[i].Implemented += c.Implemented
				byLayer[i].Applicable += c.Applicable
				sum["layer:"+sv.Layers[i].Key] += 100 * float64(c.Implemented) / float64(c.Applicable)
			}
		}
	}
	mean := func(a *Aggregate, key string) {
		if a.Orgs > 0 {
			a.Share = int(sum[key]/float64(a.Orgs) + 0.5)
		}
	}
	mean(&all, "")
	ps.Reporting = all.hide()
	if ps.Reporting.Hidden {
		ps.Overdue = 0
	}
	for _, l := range identity.LicenseeTypes() {
		if a := byType[l]; a != nil {
			mean(a, string(l))
			ps.ByType = append(ps.ByType, a.hide())
		}
	}
	for i := range byLayer {
		mean(&byLayer[i], "layer:"+sv.Layers[i].Key)
		if byLayer[i].Orgs > 0 {
			ps.ByLayer = append(ps.ByLayer, byLayer[i].hide())
		}
	}
	if p, err := findPeriod(ctx, s.db, country, 0); err == nil {
		rs, err := s.roster(ctx, s.db, country, p)
		if err != nil {
			return PublicSummary{}, err
		}
		ps.Period, ps.InScope = &p, len(rs)
		for _, r := range rs {
			if r.State == PeriodSubmitted || r.State == PeriodLate {
				ps.Submitted++
			}
		}
		if ps.InScope < MinAggregate {
			ps.InScope, ps.Submitted, ps.PeriodHid = 0, 0, true
		}
	} else if !errors.Is(err, ErrNotFound) {
		return PublicSummary{}, err
	}
	return ps, nil
}

// orgLicensees maps the providers of country to their licensee types.
func orgLicensees(ctx context.Context, q db.Querier, country string) (map[int64]Licensee, error) {
	rows, err := q.Query(ctx, "SELECT id, licensee_type FROM orgs WHERE country = ? AND licensee_type IN "+providerLicensees, country)
	if err != nil {
		return nil, fmt.Errorf("adoption: licensees: %w", err)
	}
	defer rows.Close()
	out := map[int64]Licensee{}
	for rows.Next() {
		var id int64
		var l Licensee
		if err := rows.Scan(&id, &l); err != nil {
			return nil, err
		}
		out[id] = l
	}
	return out, rows.Err()
}
