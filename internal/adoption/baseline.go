package adoption

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/db"
)

// Decision is what a jurisdiction decided about one recommendation.
type Decision string

// The decisions of a baseline.
const (
	Adopted       Decision = "adopted"
	Adapted       Decision = "adapted"        // adopted with local text
	NotAdopted    Decision = "not_adopted"    // with a reason
	NotApplicable Decision = "not_applicable" // with a reason
)

// Decisions lists the decisions in display order.
func Decisions() []Decision { return []Decision{Adopted, Adapted, NotAdopted, NotApplicable} }

// Label is the decision for people.
func (d Decision) Label() string {
	switch d {
	case Adopted:
		return "Adopted"
	case Adapted:
		return "Adapted"
	case NotAdopted:
		return "Not adopted"
	case NotApplicable:
		return "Not applicable"
	case "":
		return "Undecided"
	}
	return string(d)
}

// Applies reports whether providers must implement an item so decided.
func (d Decision) Applies() bool { return d == Adopted || d == Adapted }

// Valid reports whether d is a known decision.
func (d Decision) Valid() bool {
	switch d {
	case Adopted, Adapted, NotAdopted, NotApplicable:
		return true
	}
	return false
}

// Limits on free text.
const (
	maxLocalText = 8000
	maxReason    = 2000
	maxNotes     = 4000
)

// BaselineItem is the decision on one recommendation (draft or published).
type BaselineItem struct {
	RecID     string
	Decision  Decision
	LocalText string // adapted: the jurisdiction's wording
	Reason    string // not adopted / not applicable: why
	// AppliesTo lists the licensee types that must implement an adopted
	// or adapted item (in display order). In a draft, nil when set means
	// the catalogue's default (DefaultAppliesTo), which Draft fills in
	// and marks Defaulted; a published version always holds it.
	AppliesTo Licensees
	Defaulted bool // draft only: AppliesTo is the catalogue default
	// Phase is the roadmap phase (0: none). Deadline is the compliance
	// deadline: in a draft the explicit one (which wins over the phase's),
	// in a published version the one that applies, written out.
	Phase    int
	Deadline string
	// PublishedAs is the ID the version was published with when a later
	// catalogue release withdrew it; RecID is then the item that replaced
	// it, under which the provider tracks it (migration 0130).
	PublishedAs string
	// Authority issues and enforces the item (adopted or adapted ones).
	// In a draft, "" when set means the catalogue's default
	// (DefaultAuthority), which Draft fills in and marks
	// AuthorityDefaulted; a published version holds it ("" in versions
	// published before items named their authority).
	Authority          Authority
	AuthorityDefaulted bool
	// Title and Statement are the recommendation's text as the version
	// published it (its snapshot); "" in a draft and in versions
	// published before snapshots were kept.
	Title     string
	Statement string
	// Values are the parameter values set in a draft (a name absent: the
	// catalogue's default). Given to SetDraft, nil keeps the values the
	// draft holds and non-nil is the whole set (empty: every default).
	Values map[string]int
	// Params are a published item's parameters with the values it was
	// published with; nil for items without parameters and in versions
	// published before values were kept.
	Params []ItemParam
	// paramsRaw is the stored snapshot of Params with the template.
	paramsRaw string
	UpdatedBy string // draft only
	UpdatedAt time.Time
}

func (it BaselineItem) validate() (BaselineItem, error) {
	var err error
	if it.LocalText, err = checkText("local_text", "The local text", it.LocalText, maxLocalText); err != nil {
		return it, err
	}
	if it.Reason, err = checkText("reason", "The reason", it.Reason, maxReason); err != nil {
		return it, err
	}
	switch it.Decision {
	case Adopted:
		it.LocalText, it.Reason = "", ""
	case Adapted:
		if it.LocalText == "" {
			return it, invalid("local_text", "An adapted recommendation needs the local text that replaces the statement.")
		}
		it.Reason = ""
	case NotAdopted, NotApplicable:
		if it.Reason == "" {
			return it, invalid("reason", "Say why this recommendation is "+it.Decision.Label()+"; examiners and providers read the reason.")
		}
		it.LocalText = ""
	default:
		return it, invalid("decision", "Choose adopted, adapted, not adopted or not applicable.")
	}
	it.Deadline = strings.TrimSpace(it.Deadline)
	if it.Deadline != "" && !validDate(it.Deadline) {
		return it, invalid("deadline", "Give the compliance deadline as YYYY-MM-DD, or leave it empty to use the phase's.")
	}
	if it.Phase < 0 || it.Phase > maxPhases {
		return it, invalid("phase", "Choose a phase from the list.")
	}
	if it.Authority != "" && !it.Authority.Valid() {
		return it, invalid("authority", "Choose the authority that issues and enforces the item from the list.")
	}
	if !it.Decision.Applies() {
		it.AppliesTo, it.Phase, it.Deadline, it.Authority = nil, 0, "", ""
	} else if it.AppliesTo != nil {
		if it.AppliesTo, err = normalizeAppliesTo(it.AppliesTo); err != nil {
			return it, err
		}
	}
	return it, nil
}

// Version is a published baseline version.
type Version struct {
	ID           int64
	Country      string
	Number       int
	Notes        string
	CatalogVer   string
	PublishedBy  string
	PublishedOrg string
	PublishedAt  time.Time
	// EffectiveDate and Phases are the roadmap as published.
	EffectiveDate string
	Phases        []Phase
	Items         []BaselineItem // in catalogue order; filled by Version, not by Versions
	// Approvals are those of the telecom regulator and the central bank
	// when the version was published as a joint baseline.
	Approvals []Approval
	// Merged are items of the version that a later release withdrew into
	// a survivor the version also decided on: left out of Items (the
	// survivor's decision stands), listed as upstream changes.
	Merged []BaselineItem
}

// Legacy reports whether the version was published before versions kept
// the text of their items: its pages show the catalogue's current text.
func (v Version) Legacy() bool {
	for _, it := range v.Items {
		if it.Statement != "" {
			return false
		}
	}
	return len(v.Items) > 0
}

// Label is "v3".
func (v Version) Label() string { return fmt.Sprintf("v%d", v.Number) }

// Applicable counts the items some licensee must implement.
func (v Version) Applicable() int {
	n := 0
	for _, it := range v.Items {
		if it.Decision.Applies() {
			n++
		}
	}
	return n
}

// ApplicableTo counts the items an organisation licensed as l must
// implement.
func (v Version) ApplicableTo(l Licensee) int {
	n := 0
	for _, it := range v.Items {
		if it.AppliesToLicensee(l) {
			n++
		}
	}
	return n
}

// Item returns the decision on recID.
func (v Version) Item(recID string) (BaselineItem, bool) {
	for _, it := range v.Items {
		if it.RecID == recID {
			return it, true
		}
	}
	return BaselineItem{}, false
}

func (s *Store) requireRegulator(o Org) error {
	if !o.IsRegulator() {
		return ErrWrongOrg
	}
	return nil
}

// baselineID returns the baseline of country, creating it inside tx when
// create is set.
func baselineID(ctx context.Context, q db.Querier, country string, create bool, now time.Time) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, "SELECT id FROM baselines WHERE country = ?", country).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("adoption: baseline: %w", err)
	}
	if !create {
		return 0, ErrNotFound
	}
	err = q.QueryRow(ctx, `INSERT INTO baselines (country, created_at) VALUES (?, ?)
		ON CONFLICT (country) DO UPDATE SET country = excluded.country RETURNING id`, country, now.UnixMicro()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("adoption: create baseline: %w", err)
	}
	return id, nil
}

// Draft returns the draft decisions of the regulator's jurisdiction, by
// recommendation ID (undecided ones are absent).
func (s *Store) Draft(ctx context.Context, reg Org) (map[string]BaselineItem, error) {
	if err := s.requireRegulator(reg); err != nil {
		return nil, err
	}
	out := map[string]BaselineItem{}
	bid, err := baselineID(ctx, s.db, reg.Country, false, time.Time{})
	if errors.Is(err, ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	return s.draftItems(ctx, s.db, bid)
}

// draftItems reads the draft of baseline bid, defaults resolved.
func (s *Store) draftItems(ctx context.Context, q db.Querier, bid int64) (map[string]BaselineItem, error) {
	out := map[string]BaselineItem{}
	rows, err := q.Query(ctx, `SELECT d.rec_id, d.decision, d.local_text, d.reason, d.applies_to, d.phase, d.deadline, d.authority, d.updated_at, COALESCE(u.display_name, ''), COALESCE(u.email, '')
		FROM baseline_drafts d LEFT JOIN users u ON u.id = d.updated_by WHERE d.baseline_id = ?`, bid)
	if err != nil {
		return nil, fmt.Errorf("adoption: draft: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var it BaselineItem
		var at int64
		var dn, em, applies string
		if err := rows.Scan(&it.RecID, &it.Decision, &it.LocalText, &it.Reason, &applies, &it.Phase, &it.Deadline, &it.Authority, &at, &dn, &em); err != nil {
			return nil, err
		}
		it.UpdatedAt, it.UpdatedBy = time.UnixMicro(at).UTC(), personName(dn, em)
		if it.Decision.Applies() {
			it.AppliesTo = parseAppliesTo(applies)
			rec, err := s.cat.Get(it.RecID)
			if it.AppliesTo == nil && err == nil {
				it.AppliesTo, it.Defaulted = DefaultAppliesTo(rec), true
			}
			if it.Authority == "" && err == nil {
				it.Authority, it.AuthorityDefaulted = DefaultAuthority(rec), true
			}
		} else {
			it.Authority = ""
		}
		out[it.RecID] = it
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close() // before the next query: SQLite may have one connection
	values, err := draftValues(ctx, q, bid)
	if err != nil {
		return nil, err
	}
	for id, vs := range values {
		if it, ok := out[id]; ok {
			it.Values = vs
			out[id] = it
		}
	}
	return out, nil
}

// SetDraft records the regulator's decision on one recommendation in the
// draft of its jurisdiction, whatever the draft held before.
func (s *Store) SetDraft(ctx context.Context, reg Org, it BaselineItem) error {
	return s.setDraft(ctx, reg, it, false, time.Time{})
}

// SetDraftIf is SetDraft for an editor who read the draft item as last
// changed at seen (zero: undecided). The telecom regulator and the
// central bank edit the same draft, so a decision changed in between is
// refused with a *StaleError instead of being overwritten unseen.
func (s *Store) SetDraftIf(ctx context.Context, reg Org, it BaselineItem, seen time.Time) error {
	return s.setDraft(ctx, reg, it, true, seen)
}

func (s *Store) setDraft(ctx context.Context, reg Org, it BaselineItem, check bool, seen time.Time) error {
	if err := s.requireRegulator(reg); err != nil {
		return err
	}
	rec, err := s.cat.Get(it.RecID)
	if err != nil {
		return ErrNotFound
	}
	if it, err = it.validate(); err != nil {
		return err
	}
	if err := checkValues(rec, it.Values); err != nil {
		return err
	}
	now := s.nowUTC()
	actor := actorID(ctx)
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		bid, err := baselineID(ctx, tx, reg.Country, true, now)
		if err != nil {
			return err
		}
		if check {
			var at int64
			var by sql.NullInt64
			err := tx.QueryRow(ctx, "SELECT updated_at, updated_by FROM baseline_drafts WHERE baseline_id = ? AND rec_id = ?"+forUpdate(tx), bid, it.RecID).Scan(&at, &by)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				at = 0
			case err != nil:
				return fmt.Errorf("adoption: read draft: %w", err)
			}
			want := int64(0)
			if !seen.IsZero() {
				want = seen.UnixMicro()
			}
			if at != want {
				return &StaleError{By: userName(ctx, tx, by), At: time.UnixMicro(at).UTC()}
			}
		}
		if it.Phase != 0 {
			var n int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM baseline_draft_phases WHERE baseline_id = ? AND number = ?", bid, it.Phase).Scan(&n); err != nil {
				return fmt.Errorf("adoption: phase: %w", err)
			}
			if n == 0 {
				return invalid("phase", fmt.Sprintf("Phase %d is not in the schedule; define it on the baseline page first.", it.Phase))
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO baseline_drafts (baseline_id, rec_id, decision, local_text, reason, applies_to, phase, deadline, authority, updated_by, updated_org, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (baseline_id, rec_id) DO UPDATE SET decision = excluded.decision, local_text = excluded.local_text,
			reason = excluded.reason, applies_to = excluded.applies_to, phase = excluded.phase, deadline = excluded.deadline,
			authority = excluded.authority, updated_by = excluded.updated_by, updated_org = excluded.updated_org, updated_at = excluded.updated_at`,
			bid, it.RecID, string(it.Decision), it.LocalText, it.Reason, joinAppliesTo(it.AppliesTo), it.Phase, it.Deadline, string(it.Authority), nullID(actor), reg.ID, now.UnixMicro())
		if err != nil {
			return fmt.Errorf("adoption: set draft: %w", err)
		}
		if it.Values != nil {
			if _, err := writeDraftValues(ctx, tx, reg, bid, it.RecID, it.Values); err != nil {
				return err
			}
		}
		if err := voidApprovals(ctx, tx, reg.Country, reg.ID, "draft changed: "+it.RecID); err != nil {
			return err
		}
		det := map[string]any{"decision": string(it.Decision), "country": reg.Country}
		if it.Authority != "" {
			det["authority"] = string(it.Authority)
		}
		if it.AppliesTo != nil {
			det["applies_to"] = joinAppliesTo(it.AppliesTo)
		}
		if it.Phase != 0 {
			det["phase"] = it.Phase
		}
		if it.Deadline != "" {
			det["deadline"] = it.Deadline
		}
		return appendAudit(ctx, tx, reg.ID, "baseline.draft.set", "baseline", reg.Country+"/"+it.RecID, det)
	})
}

// forUpdate locks the row read on PostgreSQL (SQLite's transaction holds
// the database write lock already).
func forUpdate(q db.Querier) string {
	if q.Dialect() == db.Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// AdoptRemaining marks every undecided recommendation adopted and returns
// how many it marked.
func (s *Store) AdoptRemaining(ctx context.Context, reg Org) (int, error) {
	if err := s.requireRegulator(reg); err != nil {
		return 0, err
	}
	now := s.nowUTC()
	actor := actorID(ctx)
	n := 0
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		bid, err := baselineID(ctx, tx, reg.Country, true, now)
		if err != nil {
			return err
		}
		for _, r := range s.cat.Recommendations {
			res, err := tx.Exec(ctx, `INSERT INTO baseline_drafts (baseline_id, rec_id, decision, updated_by, updated_org, updated_at)
				VALUES (?, ?, 'adopted', ?, ?, ?) ON CONFLICT (baseline_id, rec_id) DO NOTHING`, bid, r.ID, nullID(actor), reg.ID, now.UnixMicro())
			if err != nil {
				return fmt.Errorf("adoption: adopt remaining: %w", err)
			}
			if k, _ := res.RowsAffected(); k > 0 {
				n++
			}
		}
		if n > 0 {
			if err := voidApprovals(ctx, tx, reg.Country, reg.ID, "draft changed: adopted the remaining recommendations"); err != nil {
				return err
			}
		}
		return appendAudit(ctx, tx, reg.ID, "baseline.draft.adopt_remaining", "baseline", reg.Country, map[string]any{"count": n})
	})
	return n, err
}

// ErrJoint: the baseline is joint; a version is published by the
// approvals of both authorities (Approve), not by one of them.
var ErrJoint = errors.New("adoption: joint baseline: publishing needs both authorities' approval")

// Publish freezes the draft of the regulator's jurisdiction as the next
// version, with the text of every item as it reads now (the snapshot).
// Every recommendation must have a decision, and every upstream change
// since the latest version a choice: a baseline that is silent on a
// recommendation would leave providers guessing.
func (s *Store) Publish(ctx context.Context, reg Org, notes string) (Version, error) {
	if err := s.requireRegulator(reg); err != nil {
		return Version{}, err
	}
	notes, err := checkText("notes", "The notes", notes, maxNotes)
	if err != nil {
		return Version{}, err
	}
	cat, err := s.current(ctx)
	if err != nil {
		return Version{}, err
	}
	now := s.nowUTC()
	var number int
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		bid, err := baselineID(ctx, tx, reg.Country, true, now)
		if err != nil {
			return err
		}
		// Two regulators publishing at once must not both get the same
		// number; the unique key would refuse one, the lock makes it wait.
		if err := lockBaseline(ctx, tx, bid); err != nil {
			return err
		}
		// Read in the transaction: a requirement of joint approval set
		// meanwhile must not be passed by.
		a, err := arrangement(ctx, tx, reg.Country)
		if err != nil {
			return err
		}
		if a.Joint() {
			return ErrJoint
		}
		// The draft as it is inside this transaction, with the
		// catalogue's defaults written out: a published version says to
		// whom each item applies whatever later releases default to.
		p, err := s.prepare(ctx, tx, cat, reg.Country, bid)
		if err != nil {
			return err
		}
		if err := s.refuseUnchanged(ctx, reg.Country, p); err != nil {
			return err
		}
		v, err := s.writeVersion(ctx, tx, reg, bid, p, notes, now, nil)
		if err != nil {
			return err
		}
		number = v.Number
		return appendAudit(ctx, tx, reg.ID, "baseline.publish", "baseline_version", reg.Country+"/"+v.Label(),
			map[string]any{"country": reg.Country, "number": v.Number})
	})
	if err != nil {
		return Version{}, err
	}
	return s.Version(ctx, reg.Country, number)
}

// DraftUnchanged reports whether the regulator's draft says exactly what
// the latest published version says (then Publish refuses it, and the page
// does not offer it).
func (s *Store) DraftUnchanged(ctx context.Context, reg Org) (bool, error) {
	st, err := s.DraftState(ctx, reg)
	return st.Unchanged, err
}

// Versions lists the published versions of country, newest first, without items.
func (s *Store) Versions(ctx context.Context, country string) ([]Version, error) {
	rows, err := s.db.Query(ctx, `SELECT v.id, v.number, v.notes, v.catalog_ver, v.published_at, COALESCE(u.display_name, ''), COALESCE(u.email, ''), COALESCE(o.name, ''),
		v.effective_date FROM baseline_versions v JOIN baselines b ON b.id = v.baseline_id
		LEFT JOIN users u ON u.id = v.published_by LEFT JOIN orgs o ON o.id = v.published_org
		WHERE b.country = ? ORDER BY v.number DESC`, country)
	if err != nil {
		return nil, fmt.Errorf("adoption: versions: %w", err)
	}
	defer rows.Close()
	var out []Version
	for rows.Next() {
		v := Version{Country: country}
		var at int64
		var dn, em string
		if err := rows.Scan(&v.ID, &v.Number, &v.Notes, &v.CatalogVer, &at, &dn, &em, &v.PublishedOrg, &v.EffectiveDate); err != nil {
			return nil, err
		}
		v.PublishedAt, v.PublishedBy = time.UnixMicro(at).UTC(), personName(dn, em)
		out = append(out, v)
	}
	return out, rows.Err()
}

// Version returns version number of country with its items in catalogue order.
func (s *Store) Version(ctx context.Context, country string, number int) (Version, error) {
	vs, err := s.Versions(ctx, country)
	if err != nil {
		return Version{}, err
	}
	for _, v := range vs {
		if v.Number == number {
			return s.withItems(ctx, v)
		}
	}
	return Version{}, ErrNotFound
}

// Latest returns the newest published version of country (ErrNoBaseline
// when there is none).
func (s *Store) Latest(ctx context.Context, country string) (Version, error) {
	vs, err := s.Versions(ctx, country)
	if err != nil {
		return Version{}, err
	}
	if len(vs) == 0 {
		return Version{}, ErrNoBaseline
	}
	return s.withItems(ctx, vs[0])
}

func (s *Store) withItems(ctx context.Context, v Version) (Version, error) {
	rows, err := s.db.Query(ctx, "SELECT rec_id, decision, local_text, reason, applies_to, phase, deadline, authority, title, statement, params FROM baseline_version_items WHERE version_id = ?", v.ID)
	if err != nil {
		return Version{}, fmt.Errorf("adoption: version items: %w", err)
	}
	defer rows.Close()
	byID := map[string]BaselineItem{}
	for rows.Next() {
		var it BaselineItem
		var applies, params string
		if err := rows.Scan(&it.RecID, &it.Decision, &it.LocalText, &it.Reason, &applies, &it.Phase, &it.Deadline, &it.Authority, &it.Title, &it.Statement, &params); err != nil {
			return Version{}, err
		}
		snap, err := parseSnapshot(params)
		if err != nil {
			return Version{}, err
		}
		it.Params, it.paramsRaw = snap.Params, params
		if it.Decision.Applies() {
			it.AppliesTo = parseAppliesTo(applies)
		}
		byID[it.RecID] = it
	}
	if err := rows.Err(); err != nil {
		return Version{}, err
	}
	rows.Close() // before the next query: SQLite may have one connection
	v.Merged = s.carryOverWithdrawn(byID)
	if v.Phases, err = versionPhases(ctx, s.db, v.ID); err != nil {
		return Version{}, err
	}
	if v.Approvals, err = versionApprovals(ctx, s.db, v.ID); err != nil {
		return Version{}, err
	}
	v.Items = make([]BaselineItem, 0, len(byID))
	for _, r := range s.cat.Recommendations {
		if it, ok := byID[r.ID]; ok {
			v.Items = append(v.Items, it)
			delete(byID, r.ID)
		}
	}
	// Items of recommendations a later catalogue dropped stay visible.
	for _, it := range byID {
		v.Items = append(v.Items, it)
	}
	return v, nil
}

// carryOverWithdrawn reads a published item whose recommendation a later
// release withdrew as the item that replaced it, so that tracking, counts
// and reports follow the survivor, as migration 0130 moved the providers'
// tracking. Where the version decided on the survivor too, that decision
// stands and the withdrawn item is left out: it must not count twice.
// (Two withdrawn items into one survivor: the first by ID is carried over.)
// It returns the items left out that way, as published, for the list of
// upstream changes.
func (s *Store) carryOverWithdrawn(byID map[string]BaselineItem) []BaselineItem {
	var merged []BaselineItem
	var withdrawn []string
	for id := range byID {
		if r, err := s.cat.Get(id); err == nil && r.IsWithdrawn() {
			withdrawn = append(withdrawn, id)
		}
	}
	slices.Sort(withdrawn)
	for _, id := range withdrawn {
		it := byID[id]
		delete(byID, id)
		r, _ := s.cat.Get(id)
		if _, decided := byID[r.ReplacedBy]; decided {
			merged = append(merged, it)
			continue
		}
		it.PublishedAs, it.RecID = id, r.ReplacedBy
		byID[r.ReplacedBy] = it
	}
	return merged
}

// Change is one difference between two versions.
type Change struct {
	RecID    string
	Kind     string // added, removed, changed
	From, To BaselineItem
}

// TextChanged reports whether the two versions publish different texts
// of the item (a taken upstream change).
func (c Change) TextChanged() bool { return c.Kind == "changed" && textChanged(c.From, c.To) }

// Diff lists what changed from version a to version b, in catalogue order.
func Diff(a, b Version) []Change {
	var out []Change
	seen := map[string]bool{}
	for _, ib := range b.Items {
		seen[ib.RecID] = true
		ia, ok := a.Item(ib.RecID)
		switch {
		case !ok:
			out = append(out, Change{RecID: ib.RecID, Kind: "added", To: ib})
		case ia.Decision != ib.Decision || ia.LocalText != ib.LocalText || ia.Reason != ib.Reason || !slices.Equal(ia.AppliesTo, ib.AppliesTo) ||
			ia.Phase != ib.Phase || ia.Deadline != ib.Deadline || (ia.Authority != "" && ib.Authority != "" && ia.Authority != ib.Authority) || textChanged(ia, ib) ||
			!sameParams(ia.Params, ib.Params):
			out = append(out, Change{RecID: ib.RecID, Kind: "changed", From: ia, To: ib})
		}
	}
	for _, ia := range a.Items {
		if !seen[ia.RecID] {
			out = append(out, Change{RecID: ia.RecID, Kind: "removed", From: ia})
		}
	}
	return out
}

// textChanged reports whether two versions publish different texts of an
// item; a version published before snapshots has none to compare.
func textChanged(a, b BaselineItem) bool {
	return a.Statement != "" && b.Statement != "" && (a.Title != b.Title || a.Statement != b.Statement)
}

func versionPhases(ctx context.Context, q db.Querier, versionID int64) ([]Phase, error) {
	rows, err := q.Query(ctx, "SELECT number, label, months, deadline FROM baseline_version_phases WHERE version_id = ? ORDER BY number", versionID)
	if err != nil {
		return nil, fmt.Errorf("adoption: version phases: %w", err)
	}
	defer rows.Close()
	var out []Phase
	for rows.Next() {
		var p Phase
		if err := rows.Scan(&p.Number, &p.Label, &p.Months, &p.Deadline); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
