package adoption

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
)

// Period is a reporting period a regulator opened for its country. A
// submission belongs to the period open when it was made: the latest one
// opened before it, until the next one opens.
type Period struct {
	ID         int64
	Country    string
	Label      string // "Q2 2027"
	DueDate    string // YYYY-MM-DD
	OpenedAt   time.Time
	OpenedBy   string
	RemindedAt time.Time // zero: no reminder yet
	ClosedAt   time.Time // when the next period opened; zero: the current one
}

// Current reports whether no later period has opened.
func (p Period) Current() bool { return p.ClosedAt.IsZero() }

// PeriodState is where a provider stands in a reporting period.
type PeriodState string

const (
	PeriodSubmitted PeriodState = "submitted" // on or before the due date
	PeriodLate      PeriodState = "late"      // first submitted after the due date
	PeriodMissing   PeriodState = "missing"   // nothing submitted and the due date passed
	PeriodAwaiting  PeriodState = "awaiting"  // nothing submitted yet, not due yet
)

// periodStates is the order of the states in counts and filters.
var periodStates = []PeriodState{PeriodMissing, PeriodLate, PeriodAwaiting, PeriodSubmitted}

// Label is the state in words.
func (st PeriodState) Label() string {
	switch st {
	case PeriodSubmitted:
		return "Submitted"
	case PeriodLate:
		return "Submitted late"
	case PeriodMissing:
		return "Missing"
	case PeriodAwaiting:
		return "Not yet submitted"
	}
	return string(st)
}

func parsePeriodState(s string) (PeriodState, bool) {
	for _, st := range periodStates {
		if string(st) == s {
			return st, true
		}
	}
	return "", s == ""
}

// RosterRow is one in-scope organisation in a period.
type RosterRow struct {
	OrgID    int64
	OrgName  string
	Licensee Licensee
	State    PeriodState
	// Latest is the organisation's latest submission in the period (ID 0:
	// none); First the date of its first, which decides lateness.
	Latest Submission
	First  time.Time
}

// Roster is every in-scope organisation of a period, filtered and paged.
type Roster struct {
	Period  Period
	Counts  map[PeriodState]int // over all rows, whatever the filter
	InScope int
	State   PeriodState // the filter ("" all)
	Rows    []RosterRow // the page
	Matched int         // rows the filter matched, over all pages
	Offset  int
}

// Count returns the number of organisations in state st.
func (r Roster) Count(st PeriodState) int { return r.Counts[st] }

// NotSubmitted is the number of organisations a reminder goes to.
func (r Roster) NotSubmitted() int { return r.Counts[PeriodMissing] + r.Counts[PeriodAwaiting] }

const (
	maxPeriodLabel = 100
	maxPeriods     = 500 // per country: two centuries of quarters
	// remindEvery is the least time between two reminders of a period,
	// so that a double click or an impatient regulator does not flood
	// providers' notifications.
	remindEvery = 24 * time.Hour
)

// OpenPeriod opens a reporting period for the regulator's country. From
// then on, submissions belong to it and the sector view lists every
// provider of the country for it.
func (s *Store) OpenPeriod(ctx context.Context, reg Org, label, due string) (Period, error) {
	if err := s.requireRegulator(reg); err != nil {
		return Period{}, err
	}
	label, err := checkText("label", "The period's name", label, maxPeriodLabel)
	if err != nil {
		return Period{}, err
	}
	if label == "" {
		return Period{}, invalid("label", "Name the period, for example “Q2 2027”.")
	}
	if strings.ContainsAny(label, "\n\t") {
		return Period{}, invalid("label", "Write the period's name on one line.")
	}
	due = strings.TrimSpace(due)
	if !validDate(due) {
		return Period{}, invalid("due_date", "Give the due date as YYYY-MM-DD.")
	}
	if due < s.today() {
		return Period{}, invalid("due_date", fmt.Sprintf("The due date %s has passed; give today (%s) or a later date.", due, s.today()))
	}
	now := s.nowUTC()
	actor := actorID(ctx)
	p := Period{Country: reg.Country, Label: label, DueDate: due, OpenedAt: now}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var n, same int
		var last int64
		if err := tx.QueryRow(ctx, "SELECT COUNT(*), COALESCE(SUM(CASE WHEN label = ? THEN 1 ELSE 0 END), 0), COALESCE(MAX(opened_at), 0) FROM reporting_periods WHERE country = ?",
			label, reg.Country).Scan(&n, &same, &last); err != nil {
			return fmt.Errorf("adoption: periods: %w", err)
		}
		switch {
		case same > 0:
			return invalid("label", fmt.Sprintf("%s already has a period named “%s”; give this one another name.", reg.Country, label))
		case n >= maxPeriods:
			return invalid("label", fmt.Sprintf("A country has at most %d reporting periods.", maxPeriods))
		case last >= now.UnixMicro():
			// Two periods opened in the same microsecond would leave the
			// first without any submission.
			return invalid("label", "Another period was opened just now; reload the page.")
		}
		p.OpenedBy = userName(ctx, tx, sql.NullInt64{Int64: actor, Valid: actor != 0})
		if err := tx.QueryRow(ctx, "INSERT INTO reporting_periods (country, label, due_date, opened_at, opened_by) VALUES (?, ?, ?, ?, ?) RETURNING id",
			reg.Country, label, due, now.UnixMicro(), nullID(actor)).Scan(&p.ID); err != nil {
			return fmt.Errorf("adoption: open period: %w", err)
		}
		return appendAudit(ctx, tx, reg.ID, "period.open", "reporting_period", idStr(p.ID), map[string]any{
			"country": reg.Country, "label": label, "due_date": due})
	})
	if err != nil {
		return Period{}, err
	}
	return p, nil
}

// Periods lists the regulator's country's periods, newest first.
func (s *Store) Periods(ctx context.Context, reg Org) ([]Period, error) {
	if err := s.requireRegulator(reg); err != nil {
		return nil, err
	}
	return periods(ctx, s.db, reg.Country)
}

func periods(ctx context.Context, q db.Querier, country string) ([]Period, error) {
	rows, err := q.Query(ctx, `SELECT p.id, p.country, p.label, p.due_date, p.opened_at, p.reminded_at, COALESCE(u.display_name, ''), COALESCE(u.email, ''), p.opened_by IS NULL
		FROM reporting_periods p LEFT JOIN users u ON u.id = p.opened_by WHERE p.country = ? ORDER BY p.opened_at DESC, p.id DESC`, country)
	if err != nil {
		return nil, fmt.Errorf("adoption: periods: %w", err)
	}
	defer rows.Close()
	var out []Period
	for rows.Next() {
		var p Period
		var opened, reminded int64
		var dn, em string
		var system bool
		if err := rows.Scan(&p.ID, &p.Country, &p.Label, &p.DueDate, &opened, &reminded, &dn, &em, &system); err != nil {
			return nil, err
		}
		p.OpenedAt = time.UnixMicro(opened).UTC()
		if reminded != 0 {
			p.RemindedAt = time.UnixMicro(reminded).UTC()
		}
		p.OpenedBy = personName(dn, em)
		if system {
			p.OpenedBy = "the system"
		}
		if len(out) > 0 {
			p.ClosedAt = out[len(out)-1].OpenedAt
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// findPeriod returns period id of the country (0: the current one);
// ErrNotFound when there is none.
func findPeriod(ctx context.Context, q db.Querier, country string, id int64) (Period, error) {
	ps, err := periods(ctx, q, country)
	if err != nil {
		return Period{}, err
	}
	for _, p := range ps {
		if id == 0 || p.ID == id {
			return p, nil
		}
	}
	return Period{}, ErrNotFound
}

// Roster lists every in-scope organisation of the regulator's country in
// period id (0: the current period) with its state, filtered by state
// ("" all) and paged (offset, limit). ErrNotFound: no such period in the
// country.
func (s *Store) Roster(ctx context.Context, reg Org, id int64, state PeriodState, offset, limit int) (Roster, error) {
	if err := s.requireRegulator(reg); err != nil {
		return Roster{}, err
	}
	p, err := findPeriod(ctx, s.db, reg.Country, id)
	if err != nil {
		return Roster{}, err
	}
	all, err := s.roster(ctx, s.db, reg.Country, p)
	if err != nil {
		return Roster{}, err
	}
	r := Roster{Period: p, Counts: map[PeriodState]int{}, InScope: len(all), State: state, Offset: max(offset, 0)}
	var matched []RosterRow
	for _, row := range all {
		r.Counts[row.State]++
		if state == "" || row.State == state {
			matched = append(matched, row)
		}
	}
	r.Matched = len(matched)
	if r.Offset > len(matched) {
		r.Offset = len(matched)
	}
	r.Rows = matched[r.Offset:min(r.Offset+limit, len(matched))]
	return r, nil
}

// roster works out every in-scope organisation's state in p, sorted by
// state (missing first) and name.
func (s *Store) roster(ctx context.Context, q db.Querier, country string, p Period) ([]RosterRow, error) {
	rows, err := q.Query(ctx, "SELECT id, name, licensee_type FROM orgs WHERE country = ? AND licensee_type IN "+providerLicensees+" ORDER BY name, id", country)
	if err != nil {
		return nil, fmt.Errorf("adoption: in-scope organisations: %w", err)
	}
	var out []RosterRow
	index := map[int64]int{}
	for rows.Next() {
		var r RosterRow
		if err := rows.Scan(&r.OrgID, &r.OrgName, &r.Licensee); err != nil {
			rows.Close()
			return nil, err
		}
		index[r.OrgID] = len(out)
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	end := int64(1<<63 - 1)
	if !p.ClosedAt.IsZero() {
		end = p.ClosedAt.UnixMicro()
	}
	subs, err := q.Query(ctx, "SELECT "+submissionCols+submissionFrom+" WHERE s.country = ? AND s.submitted_at >= ? AND s.submitted_at < ? ORDER BY s.submitted_at, s.id",
		country, p.OpenedAt.UnixMicro(), end)
	if err != nil {
		return nil, fmt.Errorf("adoption: period submissions: %w", err)
	}
	for subs.Next() {
		sub, err := scanSubmission(subs)
		if err != nil {
			subs.Close()
			return nil, err
		}
		i, ok := index[sub.OrgID]
		if !ok {
			continue // an organisation that left the country or the scope
		}
		if out[i].Latest.ID == 0 {
			out[i].First = sub.SubmittedAt
		}
		out[i].Latest = sub
	}
	subs.Close()
	if err := subs.Err(); err != nil {
		return nil, err
	}
	today := s.today()
	rank := map[PeriodState]int{}
	for i, st := range periodStates {
		rank[st] = i
	}
	for i := range out {
		r := &out[i]
		switch {
		case r.Latest.ID != 0 && r.First.Format(time.DateOnly) > p.DueDate:
			r.State = PeriodLate
		case r.Latest.ID != 0:
			r.State = PeriodSubmitted
		case p.DueDate < today:
			r.State = PeriodMissing
		default:
			r.State = PeriodAwaiting
		}
	}
	// Stable: within a state, the names stay in order.
	slices.SortStableFunc(out, func(a, b RosterRow) int { return rank[a.State] - rank[b.State] })
	return out, nil
}

// Recipient is an organisation to notify and its active members.
type Recipient struct {
	OrgID int64
	Users []int64
}

// recipients returns the active members of each organisation.
func recipients(ctx context.Context, q db.Querier, orgIDs []int64) ([]Recipient, error) {
	if len(orgIDs) == 0 {
		return nil, nil
	}
	args := make([]any, len(orgIDs))
	for i, id := range orgIDs {
		args[i] = id
	}
	rows, err := q.Query(ctx, "SELECT m.org_id, u.id FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.active AND m.org_id IN (?"+
		strings.Repeat(", ?", len(args)-1)+") ORDER BY m.org_id, u.id", args...)
	if err != nil {
		return nil, fmt.Errorf("adoption: recipients: %w", err)
	}
	defer rows.Close()
	byOrg := map[int64][]int64{}
	for rows.Next() {
		var o, u int64
		if err := rows.Scan(&o, &u); err != nil {
			return nil, err
		}
		byOrg[o] = append(byOrg[o], u)
	}
	out := make([]Recipient, 0, len(orgIDs))
	for _, id := range orgIDs {
		if len(byOrg[id]) > 0 {
			out = append(out, Recipient{OrgID: id, Users: byOrg[id]})
		}
	}
	return out, rows.Err()
}

// PeriodRecipients returns the members of every in-scope organisation of
// the country, to tell them a period opened.
func (s *Store) PeriodRecipients(ctx context.Context, reg Org, id int64) ([]Recipient, error) {
	if err := s.requireRegulator(reg); err != nil {
		return nil, err
	}
	p, err := findPeriod(ctx, s.db, reg.Country, id)
	if err != nil {
		return nil, err
	}
	all, err := s.roster(ctx, s.db, reg.Country, p)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(all))
	for i, r := range all {
		ids[i] = r.OrgID
	}
	return recipients(ctx, s.db, ids)
}

// Remind records a reminder of period id to every in-scope organisation
// that has not submitted in it, and returns their members for the
// notifications. At most one reminder a day per period.
func (s *Store) Remind(ctx context.Context, reg Org, id int64) (Period, []Recipient, error) {
	if err := s.requireRegulator(reg); err != nil {
		return Period{}, nil, err
	}
	now := s.nowUTC()
	var p Period
	var out []Recipient
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if p, err = findPeriod(ctx, tx, reg.Country, id); err != nil {
			return err
		}
		if id == 0 {
			return ErrNotFound // a reminder names its period
		}
		if !p.RemindedAt.IsZero() && now.Sub(p.RemindedAt) < remindEvery {
			return invalid("remind", fmt.Sprintf("A reminder for %s went out at %s; the next one can go 24 hours after it.",
				p.Label, p.RemindedAt.Format("2006-01-02 15:04 UTC")))
		}
		all, err := s.roster(ctx, tx, reg.Country, p)
		if err != nil {
			return err
		}
		var ids []int64
		for _, r := range all {
			if r.State == PeriodMissing || r.State == PeriodAwaiting {
				ids = append(ids, r.OrgID)
			}
		}
		if len(ids) == 0 {
			return invalid("remind", fmt.Sprintf("Every organisation in scope has submitted for %s; there is no one to remind.", p.Label))
		}
		if out, err = recipients(ctx, tx, ids); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE reporting_periods SET reminded_at = ? WHERE id = ?", now.UnixMicro(), p.ID); err != nil {
			return fmt.Errorf("adoption: remind: %w", err)
		}
		p.RemindedAt = now
		// The reminded organisations see the entry in their own audit log.
		return appendAuditConcerning(ctx, tx, reg.ID, ids, "period.remind", "reporting_period", idStr(p.ID), map[string]any{
			"country": reg.Country, "label": p.Label, "due_date": p.DueDate, "organisations": len(ids)})
	})
	if err != nil {
		return Period{}, nil, err
	}
	return p, out, nil
}

// appendAuditConcerning is appendAudit for a write that concerns other
// organisations too (a regulator acting on providers): the entry is
// listed under each of them.
func appendAuditConcerning(ctx context.Context, tx *db.Tx, orgID int64, concerned []int64, action, objType, objID string, details map[string]any) error {
	_, err := audit.Append(ctx, tx, audit.Entry{OrgID: orgID, Concerned: concerned, Action: action, ObjectType: objType, ObjectID: objID, Details: details})
	return err
}
