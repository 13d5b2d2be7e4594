package adoption

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/db"
)

// CatalogSource supplies the catalogue as it stands while the server
// runs: the embedded release with the accepted amendments laid over it
// (collab.Catalogues). A new version snapshots its texts from it.
type CatalogSource interface {
	Current(ctx context.Context) (*catalog.Catalog, *catalog.Index, error)
}

// SetCatalogSource makes new versions take their texts from src instead
// of the embedded catalogue; call it before serving.
func (s *Store) SetCatalogSource(src CatalogSource) { s.src = src }

// current is the upstream catalogue: the source's, else the embedded one.
func (s *Store) current(ctx context.Context) (*catalog.Catalog, error) {
	if s.src == nil {
		return s.cat, nil
	}
	cat, _, err := s.src.Current(ctx)
	if err != nil {
		return nil, fmt.Errorf("adoption: current catalogue: %w", err)
	}
	return cat, nil
}

// textHash identifies an item's text (title and statement), so that a
// choice on an upstream change is known to be about that very text.
func textHash(title, statement string) string {
	h := sha256.Sum256([]byte(title + "\x00" + statement))
	return hex.EncodeToString(h[:])
}

// withdrawnHash stands for "the catalogue no longer has the item".
const withdrawnHash = "withdrawn"

// Choice is the regulators' decision on an upstream change.
type Choice string

// The choices on an upstream change.
const (
	Take  Choice = "take"  // the catalogue's new text; for a withdrawn item, drop it
	Leave Choice = "leave" // keep the text (or the item) as published
)

// UpstreamChange is a difference between the latest published version
// and the catalogue as it stands: an item whose text changed (a new
// catalogue release or an accepted amendment), a new recommendation, or
// an item the catalogue no longer has (withdrawn upstream).
type UpstreamChange struct {
	RecID string
	Kind  string // changed, new, withdrawn
	// PublishedAs: a changed item that the version published under
	// another ID, which a later release withdrew into this one.
	PublishedAs string
	// ReplacedBy: a withdrawn item merged into a survivor that the
	// version decided on too; the survivor carries it on, no choice.
	ReplacedBy string
	// Published is the version's snapshot (changed, withdrawn);
	// Upstream the catalogue's text now (changed, new).
	PublishedTitle, PublishedStatement string
	UpstreamTitle, UpstreamStatement   string
	// ParamChanges say how upstream's parameters differ from those the
	// version was published with (a default, a range): "Hold after a SIM
	// swap: catalogue default 48 hours → 24 hours". UpstreamStatement is
	// rendered with the version's own values, so that a value the
	// regulators chose is not mistaken for a change upstream.
	ParamChanges []string
	// hash identifies the upstream side a choice is made on.
	hash      string
	Choice    Choice // "" until chosen (changed, withdrawn)
	DecidedBy string
	DecidedAt time.Time
	Decision  Decision // new: the draft's decision ("" undecided)
}

// Choosable reports whether the regulators take or leave the change (new
// recommendations are decided in the draft; a merged item is carried on
// by its survivor).
func (c UpstreamChange) Choosable() bool { return c.Kind != "new" && c.ReplacedBy == "" }

// Pending reports whether the change still needs a choice.
func (c UpstreamChange) Pending() bool { return c.Choosable() && c.Choice == "" }

type upstreamChoice struct {
	Choice Choice
	Hash   string
	By     string
	At     time.Time
}

func upstreamChoices(ctx context.Context, q db.Querier, bid int64) (map[string]upstreamChoice, error) {
	rows, err := q.Query(ctx, `SELECT c.rec_id, c.choice, c.upstream_sha256, c.decided_at, COALESCE(u.display_name, ''), COALESCE(u.email, '')
		FROM baseline_draft_upstream c LEFT JOIN users u ON u.id = c.decided_by WHERE c.baseline_id = ?`, bid)
	if err != nil {
		return nil, fmt.Errorf("adoption: upstream choices: %w", err)
	}
	defer rows.Close()
	out := map[string]upstreamChoice{}
	for rows.Next() {
		var id, dn, em string
		var c upstreamChoice
		var at int64
		if err := rows.Scan(&id, &c.Choice, &c.Hash, &at, &dn, &em); err != nil {
			return nil, err
		}
		c.At, c.By = time.UnixMicro(at).UTC(), personName(dn, em)
		out[id] = c
	}
	return out, rows.Err()
}

// upstreamChanges compares the latest version with cat. choices are the
// regulators' (a choice counts only for the upstream text it was made
// on); draft gives new items their decision.
func upstreamChanges(latest Version, cat *catalog.Catalog, choices map[string]upstreamChoice, draft map[string]BaselineItem) []UpstreamChange {
	var out []UpstreamChange
	chosen := func(c *UpstreamChange, hash string) {
		if ch, ok := choices[c.RecID]; ok && ch.Hash == hash {
			c.Choice, c.DecidedBy, c.DecidedAt = ch.Choice, ch.By, ch.At
		}
	}
	for i := range cat.Recommendations {
		rec := &cat.Recommendations[i]
		pub, ok := latest.Item(rec.ID)
		if !ok {
			out = append(out, UpstreamChange{RecID: rec.ID, Kind: "new", UpstreamTitle: rec.Title, UpstreamStatement: rec.Statement,
				Decision: draft[rec.ID].Decision})
			continue
		}
		if pub.Statement == "" {
			continue // published before snapshots: nothing to compare
		}
		// Upstream as the version would read it with its own values; a
		// version published before values were kept has the defaults.
		upstream, hash, params := rec.Statement, textHash(rec.Title, rec.Statement), []string(nil)
		if pub.Params != nil {
			vals := map[string]int{}
			for _, p := range pub.Params {
				vals[p.Name] = p.Value
			}
			upstream = renderWith(rec, vals)
			params = paramChanges(pub.Params, rec)
			// The choice is on the catalogue's side only (template and
			// definitions, not the version's values): a new default or
			// range lapses it, a new value in the draft does not.
			hash = textHash(rec.Title, rec.Statement+"\x00"+snapshotParams(rec, nil))
		}
		if pub.Title != rec.Title || pub.Statement != upstream || len(params) > 0 {
			c := UpstreamChange{RecID: rec.ID, Kind: "changed", PublishedTitle: pub.Title, PublishedStatement: pub.Statement,
				UpstreamTitle: rec.Title, UpstreamStatement: upstream, PublishedAs: pub.PublishedAs, ParamChanges: params, hash: hash}
			chosen(&c, hash)
			out = append(out, c)
		}
	}
	live := liveIDs(cat)
	for _, pub := range latest.Items {
		if live[pub.RecID] {
			continue
		}
		c := UpstreamChange{RecID: pub.RecID, Kind: "withdrawn", PublishedTitle: pub.Title, PublishedStatement: pub.Statement}
		chosen(&c, withdrawnHash)
		out = append(out, c)
	}
	for _, pub := range latest.Merged {
		c := UpstreamChange{RecID: pub.RecID, Kind: "withdrawn", PublishedTitle: pub.Title, PublishedStatement: pub.Statement}
		if rec, err := cat.Get(pub.RecID); err == nil {
			c.ReplacedBy = rec.ReplacedBy
		}
		out = append(out, c)
	}
	return out
}

// liveIDs are the recommendations of cat that a new version can carry.
// An item not among them is withdrawn upstream, whether the catalogue
// dropped it or keeps it only as a withdrawn item that Get still finds
// (so that old versions and reports can name it).
func liveIDs(cat *catalog.Catalog) map[string]bool {
	live := make(map[string]bool, len(cat.Recommendations))
	for _, r := range cat.Recommendations {
		live[r.ID] = true
	}
	return live
}

// Upstream lists the upstream changes since the latest version of the
// regulator's country (none before a first version).
func (s *Store) Upstream(ctx context.Context, reg Org) ([]UpstreamChange, error) {
	if err := s.requireRegulator(reg); err != nil {
		return nil, err
	}
	latest, err := s.Latest(ctx, reg.Country)
	if errors.Is(err, ErrNoBaseline) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	cat, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	bid, err := baselineID(ctx, s.db, reg.Country, false, time.Time{})
	if err != nil {
		return nil, err
	}
	choices, err := upstreamChoices(ctx, s.db, bid)
	if err != nil {
		return nil, err
	}
	draft, err := s.draftItems(ctx, s.db, bid)
	if err != nil {
		return nil, err
	}
	return upstreamChanges(latest, cat, choices, draft), nil
}

// ChooseUpstream records the regulator's choice on the upstream change of
// recID, or, with recID "", on every change still without one. It
// returns how many choices it recorded. A choice changes the draft, so
// it voids the approvals given to it.
func (s *Store) ChooseUpstream(ctx context.Context, reg Org, recID string, c Choice) (int, error) {
	if err := s.requireRegulator(reg); err != nil {
		return 0, err
	}
	if c != Take && c != Leave {
		return 0, invalid("choice", "Choose to take the catalogue's change or to leave the item as published.")
	}
	changes, err := s.Upstream(ctx, reg)
	if err != nil {
		return 0, err
	}
	var picked []UpstreamChange
	for _, ch := range changes {
		if !ch.Choosable() {
			continue // decided in the draft, or carried on by its survivor
		}
		if (recID == "" && ch.Choice == "") || ch.RecID == recID {
			picked = append(picked, ch)
		}
	}
	if recID != "" && len(picked) == 0 {
		return 0, invalid("rec_id", recID+" has no upstream change to take or leave.")
	}
	now := s.nowUTC()
	actor := actorID(ctx)
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		bid, err := baselineID(ctx, tx, reg.Country, false, now)
		if err != nil {
			return err
		}
		for _, ch := range picked {
			hash := withdrawnHash
			if ch.Kind != "withdrawn" {
				hash = ch.hash
			}
			if _, err := tx.Exec(ctx, `INSERT INTO baseline_draft_upstream (baseline_id, rec_id, choice, upstream_sha256, decided_by, decided_org, decided_at)
				VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (baseline_id, rec_id) DO UPDATE SET choice = excluded.choice,
				upstream_sha256 = excluded.upstream_sha256, decided_by = excluded.decided_by, decided_org = excluded.decided_org, decided_at = excluded.decided_at`,
				bid, ch.RecID, string(c), hash, nullID(actor), reg.ID, now.UnixMicro()); err != nil {
				return fmt.Errorf("adoption: upstream choice: %w", err)
			}
		}
		if len(picked) == 0 {
			return nil
		}
		if err := voidApprovals(ctx, tx, reg.Country, reg.ID, "upstream choice"); err != nil {
			return err
		}
		det := map[string]any{"country": reg.Country, "choice": string(c), "count": len(picked)}
		obj := reg.Country
		if recID != "" {
			det["kind"], obj = picked[0].Kind, reg.Country+"/"+recID
		}
		return appendAudit(ctx, tx, reg.ID, "baseline.upstream.choose", "baseline", obj, det)
	})
	if err != nil {
		return 0, err
	}
	return len(picked), nil
}

// preparedItem is one item as the next version would publish it.
type preparedItem struct {
	RecID     string    `json:"rec"`
	Decision  Decision  `json:"decision"`
	LocalText string    `json:"local_text,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	AppliesTo string    `json:"applies_to,omitempty"`
	Phase     int       `json:"phase,omitempty"`
	Deadline  string    `json:"deadline,omitempty"`
	Authority Authority `json:"authority,omitempty"`
	Title     string    `json:"title"`
	Statement string    `json:"statement"`
	// Params is the parameters' snapshot (template, definitions, values):
	// part of what a joint approval approves, so a changed value voids it.
	Params string `json:"params,omitempty"`
}

// prepared is the next version as the draft stands: what Publish writes
// and what an approval of a joint baseline approves.
type prepared struct {
	CatalogVer    string         `json:"catalog"`
	EffectiveDate string         `json:"effective_date"`
	Phases        []Phase        `json:"phases"`
	Items         []preparedItem `json:"items"`
}

// hash identifies the prepared version: two approvals are of the same
// draft exactly when their hashes are equal.
func (p prepared) hash() string {
	b, _ := json.Marshal(p) // plain strings and ints: cannot fail
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// prepare works out the next version of baseline bid from its draft,
// its schedule, the upstream catalogue cat and the regulators' choices
// on the upstream changes since the latest version. It fails with
// ErrIncomplete while a recommendation has no decision or an upstream
// change no choice.
func (s *Store) prepare(ctx context.Context, q db.Querier, cat *catalog.Catalog, country string, bid int64) (prepared, error) {
	in, err := s.draftInputs(ctx, q, country, bid)
	if err != nil {
		return prepared{}, err
	}
	return in.prepare(cat)
}

// draftInputs is what the next version is worked out from: the draft,
// its schedule, the latest version and the choices on upstream changes.
type draftInputs struct {
	items   map[string]BaselineItem
	latest  Version // zero before a first version
	choices map[string]upstreamChoice
	sc      Schedule
}

func (s *Store) draftInputs(ctx context.Context, q db.Querier, country string, bid int64) (draftInputs, error) {
	var in draftInputs
	var err error
	if in.items, err = s.draftItems(ctx, q, bid); err != nil {
		return in, err
	}
	in.latest, err = s.Latest(ctx, country)
	if errors.Is(err, ErrNoBaseline) {
		err = nil
	}
	if err != nil {
		return in, err
	}
	if in.choices, err = upstreamChoices(ctx, q, bid); err != nil {
		return in, err
	}
	in.sc, err = draftSchedule(ctx, q, bid)
	return in, err
}

func (in draftInputs) prepare(cat *catalog.Catalog) (prepared, error) {
	items, latest, sc := in.items, in.latest, in.sc
	undecided := 0
	for _, r := range cat.Recommendations {
		if _, ok := items[r.ID]; !ok {
			undecided++
		}
	}
	if undecided > 0 {
		return prepared{}, fmt.Errorf("%w: %d recommendations have no decision yet", ErrIncomplete, undecided)
	}
	changes := upstreamChanges(latest, cat, in.choices, items)
	pending := 0
	choice := map[string]Choice{}
	for _, c := range changes {
		if c.Choosable() {
			choice[c.RecID] = c.Choice
		}
		if c.Pending() {
			pending++
		}
	}
	if pending > 0 {
		return prepared{}, fmt.Errorf("%w: %d upstream changes have no choice yet (take or leave each)", ErrIncomplete, pending)
	}
	if len(sc.Phases) > 0 && sc.EffectiveDate == "" {
		return prepared{}, invalid("effective_date", "Set the effective date of the baseline: the phases' deadlines count from it.")
	}
	p := prepared{CatalogVer: cat.Version, EffectiveDate: sc.EffectiveDate, Phases: sc.Phases}
	for i := range cat.Recommendations {
		rec := &cat.Recommendations[i]
		it := items[rec.ID]
		if it.Deadline == "" && it.Phase != 0 {
			ph, _ := sc.Phase(it.Phase)
			it.Deadline = ph.Deadline
		}
		// Values count only where the item applies: a recommendation
		// not adopted is quoted as the catalogue words it.
		var values map[string]int
		if it.Decision.Applies() {
			values = it.Values
		}
		statement, err := rec.Render(values)
		if err != nil && choice[rec.ID] != Leave {
			// A later release narrowed the range under the draft's value
			// (an item left as published keeps its published ranges).
			return prepared{}, invalid("param", "Set the parameters of "+rec.ID+" again: "+strings.TrimPrefix(err.Error(), catalog.ErrParameter.Error()+": "))
		}
		pi := preparedItem{RecID: rec.ID, Decision: it.Decision, LocalText: it.LocalText, Reason: it.Reason, AppliesTo: joinAppliesTo(it.AppliesTo),
			Phase: it.Phase, Deadline: it.Deadline, Title: rec.Title, Statement: statement, Params: snapshotParams(rec, values)}
		if it.Decision.Applies() {
			pi.Authority = it.Authority
			if pi.Authority == "" {
				pi.Authority = DefaultAuthority(rec)
			}
		}
		if choice[rec.ID] == Leave {
			pub, _ := latest.Item(rec.ID)
			pi.Title, pi.Statement, pi.Params = pub.Title, pub.Statement, ""
			if pub.Params != nil {
				// Left as published, with the published template and ranges;
				// the draft's values still apply to it.
				if pi.Statement, pi.Params, err = leftWithValues(rec.ID, latest, values); err != nil {
					return prepared{}, err
				}
			}
		}
		p.Items = append(p.Items, pi)
	}
	// Items the catalogue withdrew stay, as published, where the
	// regulators chose to leave them.
	live := liveIDs(cat)
	for _, pub := range latest.Items {
		if live[pub.RecID] || choice[pub.RecID] != Leave {
			continue
		}
		p.Items = append(p.Items, preparedItem{RecID: pub.RecID, Decision: pub.Decision, LocalText: pub.LocalText, Reason: pub.Reason,
			AppliesTo: joinAppliesTo(pub.AppliesTo), Phase: pub.Phase, Deadline: pub.Deadline, Authority: pub.Authority, Title: pub.Title, Statement: pub.Statement,
			Params: pub.paramsRaw})
	}
	return p, nil
}

// refuseUnchanged is ErrUnchanged when p would publish exactly the latest
// version of country: same catalogue release, schedule and items with
// their texts.
func (s *Store) refuseUnchanged(ctx context.Context, country string, p prepared) error {
	latest, err := s.Latest(ctx, country)
	if errors.Is(err, ErrNoBaseline) {
		return nil
	}
	if err != nil {
		return err
	}
	if samePrepared(latest, p) {
		return fmt.Errorf("%w: %s", ErrUnchanged, latest.Label())
	}
	return nil
}

// samePrepared reports whether p would publish exactly v. A version
// published before values were kept stated its items at the defaults,
// which its statements show: the same statements are the same values, so
// a draft that changes nothing need not be published again only to record
// them.
func samePrepared(v Version, p prepared) bool {
	// Items a later release withdrew are read as their survivors; a new
	// version states the survivors under their own IDs, which is a change.
	if len(v.Merged) > 0 {
		return false
	}
	if v.CatalogVer != p.CatalogVer || v.EffectiveDate != p.EffectiveDate || len(v.Phases) != len(p.Phases) || len(v.Items) != len(p.Items) {
		return false
	}
	for i, ph := range v.Phases {
		if q := p.Phases[i]; ph.Number != q.Number || ph.Label != q.Label || ph.Months != q.Months || ph.Deadline != q.Deadline {
			return false
		}
	}
	for _, pi := range p.Items {
		it, ok := v.Item(pi.RecID)
		if !ok || it.PublishedAs != "" || it.Decision != pi.Decision || it.LocalText != pi.LocalText || it.Reason != pi.Reason || joinAppliesTo(it.AppliesTo) != pi.AppliesTo ||
			it.Phase != pi.Phase || it.Deadline != pi.Deadline || it.Authority != pi.Authority || it.Title != pi.Title || it.Statement != pi.Statement ||
			(it.paramsRaw != "" && it.paramsRaw != pi.Params) {
			return false
		}
	}
	return true
}

// writeVersion writes p as the next version of baseline bid, with the
// approvals it was published with (joint baselines).
func (s *Store) writeVersion(ctx context.Context, tx *db.Tx, reg Org, bid int64, p prepared, notes string, now time.Time, approvals []Approval) (Version, error) {
	actor := actorID(ctx)
	v := Version{Country: reg.Country, Notes: notes, CatalogVer: p.CatalogVer, PublishedAt: now, PublishedOrg: reg.Name, EffectiveDate: p.EffectiveDate}
	if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(number), 0) + 1 FROM baseline_versions WHERE baseline_id = ?", bid).Scan(&v.Number); err != nil {
		return Version{}, fmt.Errorf("adoption: next version: %w", err)
	}
	err := tx.QueryRow(ctx, `INSERT INTO baseline_versions (baseline_id, number, notes, catalog_ver, published_by, published_org, published_at, effective_date)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, bid, v.Number, v.Notes, v.CatalogVer, nullID(actor), reg.ID, now.UnixMicro(), v.EffectiveDate).Scan(&v.ID)
	if err != nil {
		return Version{}, fmt.Errorf("adoption: publish: %w", err)
	}
	for _, ph := range p.Phases {
		if _, err := tx.Exec(ctx, "INSERT INTO baseline_version_phases (version_id, number, label, months, deadline) VALUES (?, ?, ?, ?, ?)",
			v.ID, ph.Number, ph.Label, ph.Months, ph.Deadline); err != nil {
			return Version{}, fmt.Errorf("adoption: publish phases: %w", err)
		}
	}
	for _, it := range p.Items {
		if _, err := tx.Exec(ctx, `INSERT INTO baseline_version_items (version_id, rec_id, decision, local_text, reason, applies_to, phase, deadline, authority, title, statement, params)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			v.ID, it.RecID, string(it.Decision), it.LocalText, it.Reason, it.AppliesTo, it.Phase, it.Deadline, string(it.Authority), it.Title, it.Statement, it.Params); err != nil {
			return Version{}, fmt.Errorf("adoption: publish items: %w", err)
		}
	}
	for _, a := range approvals {
		if _, err := tx.Exec(ctx, "INSERT INTO baseline_version_approvals (version_id, org_id, user_id, approver_name, approved_at) VALUES (?, ?, ?, ?, ?)",
			v.ID, a.OrgID, nullID(a.UserID), a.By, a.At.UnixMicro()); err != nil {
			return Version{}, fmt.Errorf("adoption: publish approvals: %w", err)
		}
	}
	return v, nil
}

// DraftState is where the draft of a country stands against the latest
// version, for the baseline page: worked out from one read of the draft.
type DraftState struct {
	Unchanged bool             // publishing would repeat the latest version
	Approvals []Approval       // given to the draft (joint baselines), valid or void
	Upstream  []UpstreamChange // since the latest version
}

// DraftState returns the state of the regulator's draft.
func (s *Store) DraftState(ctx context.Context, reg Org) (DraftState, error) {
	if err := s.requireRegulator(reg); err != nil {
		return DraftState{}, err
	}
	bid, err := baselineID(ctx, s.db, reg.Country, false, time.Time{})
	if errors.Is(err, ErrNotFound) {
		return DraftState{}, nil
	}
	if err != nil {
		return DraftState{}, err
	}
	cat, err := s.current(ctx)
	if err != nil {
		return DraftState{}, err
	}
	in, err := s.draftInputs(ctx, s.db, reg.Country, bid)
	if err != nil {
		return DraftState{}, err
	}
	var st DraftState
	var hash string
	p, err := in.prepare(cat)
	switch {
	case err == nil:
		hash = p.hash()
		st.Unchanged = in.latest.ID != 0 && samePrepared(in.latest, p)
	case !errors.Is(err, ErrIncomplete) && !errors.Is(err, ErrInvalid):
		return DraftState{}, err
	}
	if st.Approvals, err = draftApprovals(ctx, s.db, bid, hash); err != nil {
		return DraftState{}, err
	}
	if in.latest.ID != 0 {
		st.Upstream = upstreamChanges(in.latest, cat, in.choices, in.items)
	}
	return st, nil
}
