package adoption

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/db"
)

// Submission is a signed-off, immutable snapshot of a provider's tracking.
type Submission struct {
	ID          int64
	OrgID       int64
	OrgName     string
	Country     string
	VersionID   int64
	Baseline    string // "v2"
	SignedBy    string
	Statement   string
	SubmittedAt time.Time
	Applicable  int // items not marked not applicable
	Implemented int
	Overdue     int
	Items       []SubmittedItem // filled by Submission / RegulatorSubmission
	Review      Review          // the regulator's decision (Outcome "": none yet)
	// Attested are the roles that attested the report, in the order
	// they did (filled by Submissions, for the lists).
	Attested []string
	cells    string // stored heat-map counts (CellsJSON)
}

// Share is the implemented share in percent (0 when nothing applies).
func (s Submission) Share() int { return share(s.Implemented, s.Applicable) }

func share(n, of int) int {
	if of == 0 {
		return 0
	}
	return (n*100 + of/2) / of
}

// SubmittedItem is one item as submitted.
type SubmittedItem struct {
	RecID         string
	Rec           *catalog.Recommendation
	Status        Status
	Justification string
	Owner         string
	TargetDate    string
	Overdue       bool
	Evidence      []EvidenceRef
	Finding       string // the regulator's finding on the item, if any
	WaivedUntil   string // the waiver running when submitted ("" none)
}

// EvidenceRef names an evidence file in a snapshot by its content hash:
// the regulator can ask for the file and check it is the one submitted.
type EvidenceRef struct {
	SHA256    string `json:"sha256"`
	Name      string `json:"name"`
	Size      int64  `json:"size"`
	MediaType string `json:"media_type"`
}

const maxStatement = 2000

// Submit signs off the provider's current tracking state as a snapshot for
// the regulators of its jurisdiction. The caller (the handler) has checked
// that the signer is an org admin with a fresh verification.
func (s *Store) Submit(ctx context.Context, p Org, statement string) (Submission, error) {
	if !p.IsProvider() {
		// A regulator tracks its commitments but reports to no one here.
		return Submission{}, ErrWrongOrg
	}
	statement, err := checkText("statement", "The sign-off statement", statement, maxStatement)
	if err != nil {
		return Submission{}, err
	}
	if statement == "" {
		return Submission{}, invalid("statement", "Write the sign-off statement.")
	}
	t, err := s.Items(ctx, p)
	if err != nil {
		return Submission{}, err
	}
	now := s.nowUTC()
	actor := actorID(ctx)
	if actor == 0 {
		return Submission{}, invalid("signer", "A submission needs a signed-in signer.")
	}
	sub := Submission{OrgID: p.ID, OrgName: p.Name, Country: p.Country, VersionID: t.Baseline.ID, Baseline: t.Baseline.Label(),
		Statement: statement, SubmittedAt: now}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		sub.SignedBy = userName(ctx, tx, sql.NullInt64{Int64: actor, Valid: true})
		// Re-read inside the transaction: the snapshot is the state at
		// commit, not at the moment the page was drawn.
		states, err := s.itemStates(ctx, tx, p.ID, "")
		if err != nil {
			return err
		}
		today := now.Format(time.DateOnly)
		waived, err := activeWaivers(ctx, tx, p.ID, today)
		if err != nil {
			return err
		}
		var items []SubmittedItem
		for _, ti := range t.Items {
			bi := ti.Baseline
			st, ok := states[bi.RecID]
			if !ok {
				st = Item{Status: NotStarted}
			}
			si := SubmittedItem{RecID: bi.RecID, Status: st.Status, Justification: st.Justification, Owner: st.OwnerName,
				TargetDate: st.TargetDate, WaivedUntil: waived[bi.RecID].Expires}
			si.Overdue = si.WaivedUntil == "" && overdue(st.Status, bi.Deadline, st.TargetDate, today)
			if st.ID != 0 && st.Evidence > 0 {
				ev, err := s.evidenceOf(ctx, tx, p.ID, st.ID)
				if err != nil {
					return err
				}
				for _, e := range ev {
					si.Evidence = append(si.Evidence, EvidenceRef{SHA256: e.Blob.SHA256, Name: e.Name, Size: e.Blob.Size, MediaType: e.Blob.MediaType})
				}
			}
			if si.Status != StatusNA {
				sub.Applicable++
			}
			if si.Status.Done() {
				sub.Implemented++
			}
			if si.Overdue {
				sub.Overdue++
			}
			items = append(items, si)
		}
		cells, err := CellsJSON(s.cat, items)
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `INSERT INTO submissions (org_id, country, version_id, signed_by, signed_name, statement, submitted_at, applicable, implemented, overdue, cells)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, p.ID, p.Country, sub.VersionID, actor, sub.SignedBy, statement,
			now.UnixMicro(), sub.Applicable, sub.Implemented, sub.Overdue, cells).Scan(&sub.ID)
		if err != nil {
			return fmt.Errorf("adoption: submit: %w", err)
		}
		for _, si := range items {
			ev, _ := json.Marshal(nonNil(si.Evidence))
			if _, err := tx.Exec(ctx, `INSERT INTO submission_items (submission_id, rec_id, status, justification, owner_name, target_date, overdue, evidence, waived_until)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, sub.ID, si.RecID, string(si.Status), si.Justification, si.Owner, si.TargetDate, si.Overdue, string(ev), si.WaivedUntil); err != nil {
				return fmt.Errorf("adoption: submit item: %w", err)
			}
		}
		sub.Items = items
		return appendAudit(ctx, tx, p.ID, "submission.create", "submission", idStr(sub.ID), map[string]any{
			"country": p.Country, "baseline": sub.Baseline, "applicable": sub.Applicable, "implemented": sub.Implemented, "overdue": sub.Overdue})
	})
	if err != nil {
		return Submission{}, err
	}
	for i := range sub.Items {
		sub.Items[i].Rec, _ = s.cat.Get(sub.Items[i].RecID)
	}
	return sub, nil
}

func nonNil(e []EvidenceRef) []EvidenceRef {
	if e == nil {
		return []EvidenceRef{}
	}
	return e
}

// submissionCols are read FROM submissions s JOIN orgs o ON o.id = s.org_id
// JOIN baseline_versions v ON v.id = s.version_id, with the review if any.
const submissionCols = `s.id, s.org_id, o.name, s.country, s.version_id, s.signed_name, s.statement, s.submitted_at, s.applicable, s.implemented, s.overdue,
	v.number, s.cells, COALESCE(r.outcome, ''), COALESCE(r.summary, ''), COALESCE(r.reviewer_name, ''), COALESCE(r.reviewed_at, 0)`

const submissionFrom = ` FROM submissions s JOIN orgs o ON o.id = s.org_id JOIN baseline_versions v ON v.id = s.version_id
	LEFT JOIN submission_reviews r ON r.submission_id = s.id`

func scanSubmission(r interface{ Scan(...any) error }) (Submission, error) {
	var s Submission
	var at int64
	var num int
	var reviewed int64
	err := r.Scan(&s.ID, &s.OrgID, &s.OrgName, &s.Country, &s.VersionID, &s.SignedBy, &s.Statement, &at, &s.Applicable, &s.Implemented, &s.Overdue,
		&num, &s.cells, &s.Review.Outcome, &s.Review.Summary, &s.Review.By, &reviewed)
	s.SubmittedAt, s.Baseline = time.UnixMicro(at).UTC(), fmt.Sprintf("v%d", num)
	if reviewed != 0 {
		s.Review.At = time.UnixMicro(reviewed).UTC()
	}
	return s, err
}

// cellCounts is the stored form of a submission's heat-map cells.
type cellCounts struct {
	Threats map[string][2]int `json:"threats"`
	Layers  map[string][2]int `json:"layers"`
}

// CellsJSON counts implemented and applicable items per threat category
// and per layer (an item counts once for each of its threat categories;
// not applicable items count nowhere).
func CellsJSON(cat *catalog.Catalog, items []SubmittedItem) (string, error) {
	c := cellCounts{Threats: map[string][2]int{}, Layers: map[string][2]int{}}
	for _, it := range items {
		if it.Status == StatusNA {
			continue
		}
		rec, err := cat.Get(it.RecID)
		if err != nil {
			continue
		}
		done := 0
		if it.Status.Done() {
			done = 1
		}
		for _, t := range rec.Threats {
			v := c.Threats[t]
			c.Threats[t] = [2]int{v[0] + done, v[1] + 1}
		}
		v := c.Layers[rec.Layer]
		c.Layers[rec.Layer] = [2]int{v[0] + done, v[1] + 1}
	}
	b, err := json.Marshal(c)
	return string(b), err
}

// Submissions lists a provider's own submissions, newest first.
func (s *Store) Submissions(ctx context.Context, p Org) ([]Submission, error) {
	if !p.IsProvider() {
		return nil, ErrWrongOrg
	}
	rows, err := s.db.Query(ctx, "SELECT "+submissionCols+submissionFrom+" WHERE s.org_id = ? ORDER BY s.submitted_at DESC, s.id DESC", p.ID)
	if err != nil {
		return nil, fmt.Errorf("adoption: submissions: %w", err)
	}
	defer rows.Close()
	var out []Submission
	index := map[int64]int{}
	for rows.Next() {
		sub, err := scanSubmission(rows)
		if err != nil {
			return nil, err
		}
		index[sub.ID] = len(out)
		out = append(out, sub)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close() // before the next query: SQLite may have one connection
	arows, err := s.db.Query(ctx, `SELECT a.submission_id, a.role FROM submission_attestations a JOIN submissions s ON s.id = a.submission_id
		WHERE s.org_id = ? ORDER BY a.attested_at, a.id`, p.ID)
	if err != nil {
		return nil, fmt.Errorf("adoption: attestations: %w", err)
	}
	defer arows.Close()
	for arows.Next() {
		var id int64
		var role string
		if err := arows.Scan(&id, &role); err != nil {
			return nil, err
		}
		if i, ok := index[id]; ok {
			out[i].Attested = append(out[i].Attested, role)
		}
	}
	return out, arows.Err()
}

// Submission returns one of the provider's own submissions with its items.
func (s *Store) Submission(ctx context.Context, p Org, id int64) (Submission, error) {
	if !p.IsProvider() {
		return Submission{}, ErrWrongOrg
	}
	return s.submission(ctx, "s.id = ? AND s.org_id = ?", id, p.ID)
}

// RegulatorSubmission returns a submission made to the regulator's
// jurisdiction; any other ID is ErrNotFound, so a regulator cannot learn
// that another jurisdiction's submission exists.
func (s *Store) RegulatorSubmission(ctx context.Context, reg Org, id int64) (Submission, error) {
	if !reg.IsRegulator() {
		return Submission{}, ErrWrongOrg
	}
	return s.submission(ctx, "s.id = ? AND s.country = ? AND o.country = ? AND o.licensee_type IN "+providerLicensees, id, reg.Country, reg.Country)
}

func (s *Store) submission(ctx context.Context, where string, args ...any) (Submission, error) {
	sub, err := scanSubmission(s.db.QueryRow(ctx, "SELECT "+submissionCols+submissionFrom+" WHERE "+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Submission{}, ErrNotFound
	}
	if err != nil {
		return Submission{}, fmt.Errorf("adoption: submission: %w", err)
	}
	rows, err := s.db.Query(ctx, "SELECT rec_id, status, justification, owner_name, target_date, overdue, evidence, waived_until FROM submission_items WHERE submission_id = ?", sub.ID)
	if err != nil {
		return Submission{}, err
	}
	defer rows.Close()
	for rows.Next() {
		var si SubmittedItem
		var ev string
		if err := rows.Scan(&si.RecID, &si.Status, &si.Justification, &si.Owner, &si.TargetDate, &si.Overdue, &ev, &si.WaivedUntil); err != nil {
			return Submission{}, err
		}
		if err := json.Unmarshal([]byte(ev), &si.Evidence); err != nil {
			return Submission{}, fmt.Errorf("adoption: submission %d evidence: %w", sub.ID, err)
		}
		si.Rec, _ = s.cat.Get(si.RecID)
		sub.Items = append(sub.Items, si)
	}
	if err := rows.Err(); err != nil {
		return Submission{}, err
	}
	rows.Close() // before the next query: SQLite may have one connection
	if sub.Review.Outcome != "" {
		if err := s.findings(ctx, &sub); err != nil {
			return Submission{}, err
		}
	}
	order := map[string]int{}
	for i, r := range s.cat.Recommendations {
		order[r.ID] = i
	}
	sort.SliceStable(sub.Items, func(i, j int) bool { return order[sub.Items[i].RecID] < order[sub.Items[j].RecID] })
	return sub, nil
}

// Cell is one heat-map cell: implemented items of the applicable ones.
type Cell struct {
	Implemented int
	Applicable  int
}

// Share is the cell's implemented share in percent.
func (c Cell) Share() int { return share(c.Implemented, c.Applicable) }

// Empty reports whether nothing in the cell applies.
func (c Cell) Empty() bool { return c.Applicable == 0 }

// Band is the colour band 0–4 of the share (for CSS classes; the number
// is always printed too, colour is never the only cue).
func (c Cell) Band() int {
	if c.Applicable == 0 {
		return -1
	}
	return min(c.Share()/20, 4)
}

// SectorRow is one provider in the sector view: its latest submission.
type SectorRow struct {
	Latest   Submission
	ByThreat []Cell // parallel to SectorView.Threats
	ByLayer  []Cell // parallel to SectorView.Layers
	History  []Submission
}

// TrendPoint is the sector's mean implemented share after a submission.
type TrendPoint struct {
	At    time.Time
	Share float64 // mean over providers of their latest share so far
}

// SectorView is what a regulator sees of its jurisdiction.
type SectorView struct {
	Country   string
	Threats   []catalog.Term
	Layers    []catalog.Term
	Rows      []SectorRow
	Trend     []TrendPoint
	Overdue   int
	Submitted int // number of submissions in total
}

// Sector computes the sector view of the regulator's jurisdiction from
// submitted snapshots only.
func (s *Store) Sector(ctx context.Context, reg Org) (SectorView, error) {
	if !reg.IsRegulator() {
		return SectorView{}, ErrWrongOrg
	}
	return s.sector(ctx, reg.Country)
}

// sector computes the sector view of country; callers decide who sees
// what of it (the regulator everything, the public summary aggregates).
func (s *Store) sector(ctx context.Context, country string) (SectorView, error) {
	v := SectorView{Country: country, Threats: s.cat.Threats, Layers: s.cat.Layers}
	rows, err := s.db.Query(ctx, "SELECT "+submissionCols+submissionFrom+`
		WHERE s.country = ? AND o.country = ? AND o.licensee_type IN `+providerLicensees+` ORDER BY s.submitted_at, s.id`, country, country)
	if err != nil {
		return v, fmt.Errorf("adoption: sector: %w", err)
	}
	byOrg := map[int64]int{} // org → index in v.Rows
	latestShare := map[int64]float64{}
	var sum float64
	for rows.Next() {
		sub, err := scanSubmission(rows)
		if err != nil {
			rows.Close()
			return v, err
		}
		v.Submitted++
		i, ok := byOrg[sub.OrgID]
		if !ok {
			i = len(v.Rows)
			byOrg[sub.OrgID] = i
			v.Rows = append(v.Rows, SectorRow{})
		}
		v.Rows[i].Latest = sub
		v.Rows[i].History = append(v.Rows[i].History, sub)
		exact := 0.0
		if sub.Applicable > 0 {
			exact = 100 * float64(sub.Implemented) / float64(sub.Applicable)
		}
		sum += exact - latestShare[sub.OrgID]
		latestShare[sub.OrgID] = exact
		v.Trend = append(v.Trend, TrendPoint{At: sub.SubmittedAt, Share: sum / float64(len(latestShare))})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return v, err
	}
	if len(v.Rows) == 0 {
		return v, nil
	}
	threatIdx, layerIdx := map[string]int{}, map[string]int{}
	for i, t := range v.Threats {
		threatIdx[t.Key] = i
	}
	for i, l := range v.Layers {
		layerIdx[l.Key] = i
	}
	var legacy []any // latest submissions without stored cells
	rowOf := map[int64]*SectorRow{}
	for i := range v.Rows {
		r := &v.Rows[i]
		r.ByThreat, r.ByLayer = make([]Cell, len(v.Threats)), make([]Cell, len(v.Layers))
		v.Overdue += r.Latest.Overdue
		var cc cellCounts
		if r.Latest.cells == "" || json.Unmarshal([]byte(r.Latest.cells), &cc) != nil {
			legacy = append(legacy, r.Latest.ID)
			rowOf[r.Latest.ID] = r
			continue
		}
		for k, c := range cc.Threats {
			if i, ok := threatIdx[k]; ok {
				r.ByThreat[i] = Cell{Implemented: c[0], Applicable: c[1]}
			}
		}
		for k, c := range cc.Layers {
			if i, ok := layerIdx[k]; ok {
				r.ByLayer[i] = Cell{Implemented: c[0], Applicable: c[1]}
			}
		}
	}
	if len(legacy) > 0 {
		if err := s.countCells(ctx, legacy, rowOf, threatIdx, layerIdx); err != nil {
			return v, err
		}
	}
	sort.SliceStable(v.Rows, func(i, j int) bool { return v.Rows[i].Latest.OrgName < v.Rows[j].Latest.OrgName })
	return v, nil
}

// countCells fills the cells of submissions stored without them by
// reading their items.
func (s *Store) countCells(ctx context.Context, ids []any, rowOf map[int64]*SectorRow, threatIdx, layerIdx map[string]int) error {
	irows, err := s.db.Query(ctx, "SELECT submission_id, rec_id, status FROM submission_items WHERE submission_id IN (?"+
		strings.Repeat(", ?", len(ids)-1)+")", ids...)
	if err != nil {
		return fmt.Errorf("adoption: sector items: %w", err)
	}
	defer irows.Close()
	for irows.Next() {
		var sid int64
		var rec string
		var st Status
		if err := irows.Scan(&sid, &rec, &st); err != nil {
			return err
		}
		if st == StatusNA {
			continue
		}
		r := rowOf[sid]
		c, err := s.cat.Get(rec)
		if r == nil || err != nil {
			continue
		}
		done := 0
		if st.Done() {
			done = 1
		}
		for _, t := range c.Threats {
			if i, ok := threatIdx[t]; ok {
				r.ByThreat[i].Applicable++
				r.ByThreat[i].Implemented += done
			}
		}
		if i, ok := layerIdx[c.Layer]; ok {
			r.ByLayer[i].Applicable++
			r.ByLayer[i].Implemented += done
		}
	}
	return irows.Err()
}
