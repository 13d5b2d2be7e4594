package resilience

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
)

// MinGroup is the smallest number of entities an aggregate may show:
// below it, "too few to show", so that no entity's result can be read off
// a sector figure. Every page, export and API response of the benchmark
// goes through [Stats].
const MinGroup = 3

// Campaign is a regulator's call to the entities of its country to assess
// themselves against one model version by a deadline.
type Campaign struct {
	ID          int64
	OrgID       int64 // the regulator
	Country     string
	Title       string
	ModelKey    string
	Variant     string
	EntityTypes []EntityType
	Deadline    time.Time
	CreatedBy   int64
	Created     time.Time
	Closed      time.Time
}

// Open reports whether the campaign still takes submissions.
func (c Campaign) Open() bool { return c.Closed.IsZero() }

// NewCampaign is the input of [Store.CreateCampaign].
type NewCampaign struct {
	Title       string
	ModelKey    string
	Variant     string
	EntityTypes []EntityType
	Deadline    time.Time
}

// Notifier delivers in-app notifications (internal/collab's store).
type Notifier interface {
	Notify(ctx context.Context, userIDs []int64, kind, text, link string) error
}

const campaignCols = "id, org_id, country, title, model_key, variant, entity_types, deadline, created_by, created_at, closed_at"

func scanCampaign(r interface{ Scan(...any) error }) (Campaign, error) {
	var c Campaign
	var types string
	var deadline, created int64
	var by, closed sql.NullInt64
	if err := r.Scan(&c.ID, &c.OrgID, &c.Country, &c.Title, &c.ModelKey, &c.Variant, &types, &deadline, &by, &created, &closed); err != nil {
		return Campaign{}, err
	}
	if err := json.Unmarshal([]byte(types), &c.EntityTypes); err != nil {
		return Campaign{}, fmt.Errorf("resilience: campaign %d: %w", c.ID, err)
	}
	c.Deadline, c.Created, c.CreatedBy = time.UnixMicro(deadline).UTC(), time.UnixMicro(created).UTC(), by.Int64
	if closed.Valid {
		c.Closed = time.UnixMicro(closed.Int64).UTC()
	}
	return c, nil
}

func campaignTx(ctx context.Context, q db.Querier, id int64) (Campaign, error) {
	c, err := scanCampaign(q.QueryRow(ctx, "SELECT "+campaignCols+" FROM resilience_campaigns WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Campaign{}, fmt.Errorf("campaign %d: %w", id, ErrNotFound)
	}
	return c, err
}

// orgEntityType is the entity type an organisation of an identity type is
// taken to be until its assessment's profile says otherwise. Only
// operators and DFS providers have an organisation type of their own;
// banks, switches and third parties join a campaign by starting an
// assessment for it.
func orgEntityType(orgType string) EntityType {
	switch orgType {
	case "mno":
		return EntityMNO
	case "dfs_provider":
		return EntityDFSProvider
	}
	return ""
}

// CreateCampaign launches a campaign of regulator for its country and
// notifies the members of the organisations in scope.
func (s *Store) CreateCampaign(ctx context.Context, regulator Org, n NewCampaign, notify Notifier) (Campaign, error) {
	if !regulator.Regulator {
		return Campaign{}, fmt.Errorf("%w: only a regulator launches campaigns", ErrInvalid)
	}
	n.Title = strings.TrimSpace(n.Title)
	if n.Title == "" {
		return Campaign{}, fmt.Errorf("%w: give the campaign a title", ErrInvalid)
	}
	if err := checkText("title", n.Title, MaxTitle); err != nil {
		return Campaign{}, err
	}
	m, err := s.Model(ctx, n.ModelKey)
	if err != nil {
		return Campaign{}, err
	}
	if n.Variant == "" {
		n.Variant = m.DefaultVariant()
	}
	if m.Variant(n.Variant) == nil {
		return Campaign{}, fmt.Errorf("%w: model %s has no variant %q", ErrInvalid, m.Key(), n.Variant)
	}
	if len(n.EntityTypes) == 0 {
		return Campaign{}, fmt.Errorf("%w: choose at least one entity type", ErrInvalid)
	}
	for _, t := range n.EntityTypes {
		if !t.Valid() {
			return Campaign{}, fmt.Errorf("%w: unknown entity type %q", ErrInvalid, t)
		}
	}
	now := s.nowUTC()
	if !n.Deadline.After(now) {
		return Campaign{}, fmt.Errorf("%w: the deadline must be in the future", ErrInvalid)
	}
	types, err := json.Marshal(n.EntityTypes)
	if err != nil {
		return Campaign{}, err
	}
	c := Campaign{OrgID: regulator.ID, Country: regulator.Country, Title: n.Title, ModelKey: m.Key(), Variant: n.Variant,
		EntityTypes: n.EntityTypes, Deadline: n.Deadline.UTC(), CreatedBy: audit.ActorFrom(ctx).UserID, Created: now}
	var scope []scopeOrg
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO resilience_campaigns (org_id, country, title, model_key, variant, entity_types, deadline, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, c.OrgID, c.Country, c.Title, c.ModelKey, c.Variant, string(types),
			c.Deadline.UnixMicro(), nullID(c.CreatedBy), now.UnixMicro()).Scan(&c.ID); err != nil {
			return fmt.Errorf("resilience: create campaign: %w", err)
		}
		if scope, err = inScope(ctx, tx, c); err != nil {
			return err
		}
		ids := make([]int64, len(scope))
		for i, o := range scope {
			ids[i] = o.ID
		}
		return appendAudit(ctx, tx, regulator.ID, "resilience.campaign.create", "resilience_campaign", idStr(c.ID),
			map[string]any{"title": c.Title, "model": c.ModelKey, "variant": c.Variant, "deadline": c.Deadline.Format(time.RFC3339), "in_scope": len(scope)}, ids...)
	})
	if err != nil {
		return Campaign{}, err
	}
	if notify != nil {
		for _, o := range scope {
			users, err := members(ctx, s.db, o.ID)
			if err == nil && len(users) > 0 {
				err = notify.Notify(ctx, users, "resilience", fmt.Sprintf("%s asks for a cyber resilience self-assessment by %s: %s.",
					regulator.Name, c.Deadline.Format("2 January 2006"), c.Title), fmt.Sprintf("/orgs/%d/resilience", o.ID))
			}
			if err != nil {
				// The campaign stands; the entity sees it on its resilience
				// page whether or not the notification went out.
				continue
			}
		}
	}
	return c, nil
}

type scopeOrg struct {
	ID     int64
	Name   string
	Entity EntityType
}

// inScope lists the organisations of the campaign's country whose
// organisation type maps to one of its entity types.
func inScope(ctx context.Context, q db.Querier, c Campaign) ([]scopeOrg, error) {
	rows, err := q.Query(ctx, "SELECT id, name, type FROM orgs WHERE country = ? ORDER BY name_key", c.Country)
	if err != nil {
		return nil, fmt.Errorf("resilience: organisations in scope: %w", err)
	}
	defer rows.Close()
	var out []scopeOrg
	for rows.Next() {
		var o scopeOrg
		var typ string
		if err := rows.Scan(&o.ID, &o.Name, &typ); err != nil {
			return nil, fmt.Errorf("resilience: organisations in scope: %w", err)
		}
		if o.Entity = orgEntityType(typ); o.Entity != "" && slices.Contains(c.EntityTypes, o.Entity) {
			out = append(out, o)
		}
	}
	return out, rows.Err()
}

// members lists the members of an organisation who act on its behalf
// (analysts and org admins) for notifications.
func members(ctx context.Context, q db.Querier, orgID int64) ([]int64, error) {
	rows, err := q.Query(ctx, "SELECT user_id FROM memberships WHERE org_id = ? AND role IN ('org_admin', 'analyst') ORDER BY user_id", orgID)
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

// Campaign returns a campaign visible to org: its own (regulator) or one
// of its country.
func (s *Store) Campaign(ctx context.Context, org Org, id int64) (Campaign, error) {
	c, err := campaignTx(ctx, s.db, id)
	if err != nil {
		return Campaign{}, err
	}
	if c.OrgID != org.ID && c.Country != org.Country {
		return Campaign{}, fmt.Errorf("campaign %d: %w", id, ErrNotFound)
	}
	return c, nil
}

// Campaigns lists the campaigns of a country, newest first.
func (s *Store) Campaigns(ctx context.Context, country string) ([]Campaign, error) {
	rows, err := s.db.Query(ctx, "SELECT "+campaignCols+" FROM resilience_campaigns WHERE country = ? ORDER BY created_at DESC, id DESC", country)
	if err != nil {
		return nil, fmt.Errorf("resilience: campaigns: %w", err)
	}
	defer rows.Close()
	var out []Campaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ownCampaign returns campaign id of regulator, or ErrNotFound.
func (s *Store) ownCampaign(ctx context.Context, regulator Org, id int64) (Campaign, error) {
	c, err := campaignTx(ctx, s.db, id)
	if err != nil {
		return Campaign{}, err
	}
	if c.OrgID != regulator.ID {
		return Campaign{}, fmt.Errorf("campaign %d: %w", id, ErrNotFound)
	}
	return c, nil
}

// CloseCampaign stops a campaign from taking new assessments.
func (s *Store) CloseCampaign(ctx context.Context, regulator Org, id int64) error {
	c, err := s.ownCampaign(ctx, regulator, id)
	if err != nil {
		return err
	}
	if !c.Open() {
		return nil
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE resilience_campaigns SET closed_at = ? WHERE id = ? AND closed_at IS NULL", s.nowUTC().UnixMicro(), id); err != nil {
			return fmt.Errorf("resilience: close campaign: %w", err)
		}
		return appendAudit(ctx, tx, regulator.ID, "resilience.campaign.close", "resilience_campaign", idStr(id), nil)
	})
}

// EntityState is where an entity of a campaign stands.
type EntityState string

const (
	StateNotStarted EntityState = "not_started"
	StateInProgress EntityState = "in_progress"
	StateSubmitted  EntityState = "submitted"
	StateOverdue    EntityState = "overdue" // deadline passed without a submission
)

// Label is the English name shown in the UI.
func (st EntityState) Label() string {
	return map[EntityState]string{StateNotStarted: "Not started", StateInProgress: "In progress",
		StateSubmitted: "Submitted", StateOverdue: "Overdue"}[st]
}

// EntityProgress is one line of a campaign's progress view.
type EntityProgress struct {
	OrgID        int64
	OrgName      string
	EntityType   EntityType
	State        EntityState
	AssessmentID int64
	Submitted    time.Time
	Overall      float64
	Level        string
}

// Progress lists every organisation in scope of regulator's campaign and
// every organisation that started an assessment for it, with its state.
func (s *Store) Progress(ctx context.Context, regulator Org, campaignID int64) (Campaign, []EntityProgress, error) {
	c, err := s.ownCampaign(ctx, regulator, campaignID)
	if err != nil {
		return Campaign{}, nil, err
	}
	m, err := s.Model(ctx, c.ModelKey)
	if err != nil {
		return Campaign{}, nil, err
	}
	scope, err := inScope(ctx, s.db, c)
	if err != nil {
		return Campaign{}, nil, err
	}
	byOrg := map[int64]*EntityProgress{}
	var out []*EntityProgress
	for _, o := range scope {
		p := &EntityProgress{OrgID: o.ID, OrgName: o.Name, EntityType: o.Entity, State: StateNotStarted}
		byOrg[o.ID] = p
		out = append(out, p)
	}
	rows, err := s.db.Query(ctx, `SELECT a.id, a.org_id, o.name, a.entity_type, a.status, a.submitted_at, a.overall
		FROM resilience_assessments a JOIN orgs o ON o.id = a.org_id WHERE a.campaign_id = ? ORDER BY a.id`, c.ID)
	if err != nil {
		return Campaign{}, nil, fmt.Errorf("resilience: progress: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, org int64
		var name, entity, status string
		var at sql.NullInt64
		var overall sql.NullFloat64
		if err := rows.Scan(&id, &org, &name, &entity, &status, &at, &overall); err != nil {
			return Campaign{}, nil, fmt.Errorf("resilience: progress: %w", err)
		}
		p := byOrg[org]
		if p == nil {
			p = &EntityProgress{OrgID: org, OrgName: name}
			byOrg[org] = p
			out = append(out, p)
		}
		p.EntityType, p.AssessmentID, p.State = EntityType(entity), id, StateInProgress
		if status == string(StatusSubmitted) {
			p.State, p.Submitted, p.Overall = StateSubmitted, time.UnixMicro(at.Int64).UTC(), overall.Float64
			p.Level = m.LevelName(p.Overall)
		}
	}
	if err := rows.Err(); err != nil {
		return Campaign{}, nil, err
	}
	now := s.nowUTC()
	res := make([]EntityProgress, len(out))
	for i, p := range out {
		if p.State != StateSubmitted && now.After(c.Deadline) {
			p.State = StateOverdue
		}
		res[i] = *p
	}
	sort.SliceStable(res, func(i, j int) bool { return res[i].OrgName < res[j].OrgName })
	return c, res, nil
}

// EntityScorecard returns the scorecard of an entity's signed-off
// assessment in regulator's campaign (the regulator's view).
func (s *Store) EntityScorecard(ctx context.Context, regulator Org, campaignID, orgID int64) (Assessment, *Model, Scorecard, error) {
	c, err := s.ownCampaign(ctx, regulator, campaignID)
	if err != nil {
		return Assessment{}, nil, Scorecard{}, err
	}
	var id int64
	err = s.db.QueryRow(ctx, "SELECT id FROM resilience_assessments WHERE campaign_id = ? AND org_id = ? AND status = 'submitted' ORDER BY id DESC LIMIT 1",
		c.ID, orgID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Assessment{}, nil, Scorecard{}, fmt.Errorf("no signed-off assessment: %w", ErrNotFound)
	}
	if err != nil {
		return Assessment{}, nil, Scorecard{}, err
	}
	return s.Scorecard(ctx, orgID, id)
}

// Stat summarises the scores of a group of entities. With fewer than
// MinGroup entities only N and TooFew are set.
type Stat struct {
	N      int     `json:"n"`
	TooFew bool    `json:"too_few"`
	Min    float64 `json:"min,omitempty"`
	Q1     float64 `json:"q1,omitempty"`
	Median float64 `json:"median,omitempty"`
	Q3     float64 `json:"q3,omitempty"`
	Max    float64 `json:"max,omitempty"`
}

// Stats summarises xs, withholding every figure below MinGroup values.
func Stats(xs []float64) Stat {
	st := Stat{N: len(xs)}
	if len(xs) < MinGroup {
		st.TooFew = true
		return st
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	st.Min, st.Max = s[0], s[len(s)-1]
	st.Q1, st.Median, st.Q3 = round2(quantile(s, 0.25)), round2(quantile(s, 0.5)), round2(quantile(s, 0.75))
	return st
}

// quantile interpolates linearly between order statistics (the method of
// most spreadsheets).
func quantile(sorted []float64, p float64) float64 {
	pos := p * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	return sorted[lo] + (sorted[hi]-sorted[lo])*(pos-float64(lo))
}

// HeatRow is one entity type's row of the heat map.
type HeatRow struct {
	EntityType EntityType `json:"entity_type"`
	N          int        `json:"n"`
	Cells      []Stat     `json:"cells"` // per domain, in Benchmark.Domains order
}

// DomainBench is the sector's distribution in one domain.
type DomainBench struct {
	ID   string `json:"domain"`
	Name string `json:"name"`
	Stat Stat   `json:"stat"`
}

// LevelCount counts entities at one maturity level.
type LevelCount struct {
	Name  string `json:"level"`
	Count int    `json:"count"`
}

// WeakQuestion is a question with a low sector-wide mean.
type WeakQuestion struct {
	ID     string  `json:"question"`
	Text   string  `json:"text"`
	Domain string  `json:"domain"`
	Mean   float64 `json:"mean"`
	N      int     `json:"n"`
}

// TrendPoint is the overall distribution in one campaign.
type TrendPoint struct {
	CampaignID int64     `json:"campaign"`
	Title      string    `json:"title"`
	Created    time.Time `json:"created"`
	Overall    Stat      `json:"overall"`
}

// Benchmark is the sector view of a campaign. Every number in it covers at
// least MinGroup entities; smaller groups say TooFew and nothing else.
type Benchmark struct {
	Campaign  Campaign      `json:"-"`
	Submitted int           `json:"submitted"`
	Overall   Stat          `json:"overall"`
	Domains   []DomainBench `json:"domains"`
	Heat      []HeatRow     `json:"heat_map"`
	// Levels is the distribution of overall maturity levels; nil when
	// fewer than MinGroup entities submitted.
	Levels  []LevelCount   `json:"levels"`
	Weakest []WeakQuestion `json:"weakest_questions"`
	Trend   []TrendPoint   `json:"trend"`
}

// Benchmark aggregates the signed-off assessments of regulator's campaign.
// It reads the scores stored at sign-off, not the snapshots, so that it
// stays fast with hundreds of entities.
func (s *Store) Benchmark(ctx context.Context, regulator Org, campaignID int64) (Benchmark, error) {
	c, err := s.ownCampaign(ctx, regulator, campaignID)
	if err != nil {
		return Benchmark{}, err
	}
	m, err := s.Model(ctx, c.ModelKey)
	if err != nil {
		return Benchmark{}, err
	}
	b := Benchmark{Campaign: c}
	type entity struct {
		typ     EntityType
		overall float64
		domains map[string]float64
	}
	ents := map[int64]*entity{}
	rows, err := s.db.Query(ctx, `SELECT a.id, a.entity_type, a.overall, d.domain_id, d.score
		FROM resilience_assessments a LEFT JOIN resilience_domain_scores d ON d.assessment_id = a.id
		WHERE a.campaign_id = ? AND a.status = 'submitted'`, c.ID)
	if err != nil {
		return Benchmark{}, fmt.Errorf("resilience: benchmark: %w", err)
	}
	for rows.Next() {
		var id int64
		var typ string
		var overall sql.NullFloat64
		var dom sql.NullString
		var score sql.NullFloat64
		if err := rows.Scan(&id, &typ, &overall, &dom, &score); err != nil {
			rows.Close()
			return Benchmark{}, fmt.Errorf("resilience: benchmark: %w", err)
		}
		e := ents[id]
		if e == nil {
			e = &entity{typ: EntityType(typ), overall: overall.Float64, domains: map[string]float64{}}
			ents[id] = e
		}
		if dom.Valid {
			e.domains[dom.String] = score.Float64
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Benchmark{}, err
	}
	b.Submitted = len(ents)
	var overall []float64
	for _, e := range ents {
		overall = append(overall, e.overall)
	}
	b.Overall = Stats(overall)
	domains := m.DomainsOf(c.Variant)
	for _, d := range domains {
		var xs []float64
		for _, e := range ents {
			if v, ok := e.domains[d.ID]; ok {
				xs = append(xs, v)
			}
		}
		b.Domains = append(b.Domains, DomainBench{ID: d.ID, Name: d.Name, Stat: Stats(xs)})
	}
	for _, t := range EntityTypes() {
		row := HeatRow{EntityType: t}
		for _, e := range ents {
			if e.typ == t {
				row.N++
			}
		}
		if row.N == 0 {
			continue
		}
		for _, d := range domains {
			var xs []float64
			for _, e := range ents {
				if v, ok := e.domains[d.ID]; ok && e.typ == t {
					xs = append(xs, v)
				}
			}
			row.Cells = append(row.Cells, Stats(xs))
		}
		b.Heat = append(b.Heat, row)
	}
	if len(ents) >= MinGroup {
		counts := map[string]int{}
		for _, e := range ents {
			counts[m.LevelName(e.overall)]++
		}
		for _, l := range m.Levels {
			b.Levels = append(b.Levels, LevelCount{Name: l.Name, Count: counts[l.Name]})
		}
	}
	wrows, err := s.db.Query(ctx, `SELECT r.question_id, AVG(r.level), COUNT(*) FROM resilience_answers r
		JOIN resilience_assessments a ON a.id = r.assessment_id
		WHERE a.campaign_id = ? AND a.status = 'submitted' AND r.level IS NOT NULL
		GROUP BY r.question_id HAVING COUNT(*) >= ? ORDER BY AVG(r.level), r.question_id LIMIT 10`, c.ID, MinGroup)
	if err != nil {
		return Benchmark{}, fmt.Errorf("resilience: weakest questions: %w", err)
	}
	for wrows.Next() {
		var w WeakQuestion
		if err := wrows.Scan(&w.ID, &w.Mean, &w.N); err != nil {
			wrows.Close()
			return Benchmark{}, fmt.Errorf("resilience: weakest questions: %w", err)
		}
		w.Mean = round2(w.Mean)
		if q := m.Question(w.ID); q != nil {
			w.Text, w.Domain = q.Text, q.Domain().ID
		}
		b.Weakest = append(b.Weakest, w)
	}
	wrows.Close()
	if err := wrows.Err(); err != nil {
		return Benchmark{}, err
	}
	// Trend: this regulator's campaigns of the same model, oldest first.
	modelID, _, _ := strings.Cut(c.ModelKey, "@")
	trows, err := s.db.Query(ctx, `SELECT c.id, c.title, c.created_at, a.overall FROM resilience_campaigns c
		LEFT JOIN resilience_assessments a ON a.campaign_id = c.id AND a.status = 'submitted'
		WHERE c.org_id = ? AND c.model_key LIKE ? AND c.created_at <= ? ORDER BY c.created_at, c.id`, c.OrgID, modelID+"@%", c.Created.UnixMicro())
	if err != nil {
		return Benchmark{}, fmt.Errorf("resilience: trend: %w", err)
	}
	defer trows.Close()
	var order []int64
	points := map[int64]*TrendPoint{}
	values := map[int64][]float64{}
	for trows.Next() {
		var id, created int64
		var title string
		var overall sql.NullFloat64
		if err := trows.Scan(&id, &title, &created, &overall); err != nil {
			return Benchmark{}, fmt.Errorf("resilience: trend: %w", err)
		}
		if points[id] == nil {
			points[id] = &TrendPoint{CampaignID: id, Title: title, Created: time.UnixMicro(created).UTC()}
			order = append(order, id)
		}
		if overall.Valid {
			values[id] = append(values[id], overall.Float64)
		}
	}
	if err := trows.Err(); err != nil {
		return Benchmark{}, err
	}
	for _, id := range order {
		p := points[id]
		p.Overall = Stats(values[id])
		b.Trend = append(b.Trend, *p)
	}
	return b, nil
}
