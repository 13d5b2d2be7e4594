package adoption

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/identity"
)

// Licensee is what an organisation is licensed as (identity.LicenseeType);
// a baseline item applies to a set of them.
type Licensee = identity.LicenseeType

// Licensees is a set of licensee types in display order.
type Licensees []Licensee

// Label names the licensee types for people ("Bank, Payment switch").
func (ls Licensees) Label() string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = l.Label()
	}
	return strings.Join(parts, ", ")
}

// stakeholderLicensees maps the catalogue's stakeholders to the licensee
// types that act for them. A bank offering mobile banking carries the
// DFS provider's duties; mobile users and other non-licensees track
// nothing.
var stakeholderLicensees = map[string][]Licensee{
	"telecom_regulator": {identity.LicenseeRegulator},
	"central_bank":      {identity.LicenseeRegulator},
	"mno":               {identity.LicenseeMNO},
	"dfs_provider":      {identity.LicenseeDFSProvider, identity.LicenseeBank},
	"agent":             {identity.LicenseeDFSProvider, identity.LicenseeBank},
	"payment_switch":    {identity.LicenseePaymentSwitch},
	"third_party":       {identity.LicenseeThirdParty},
}

// DefaultAppliesTo is the licensee types a recommendation applies to
// unless the regulator decides otherwise: those acting for its
// stakeholders, narrowed by its layer. App items are the app publisher's
// (an MNO running a wallet app holds an e-money licence for it), and a
// third party or cloud provider answers for the back end and governance
// items it hosts or is bound by, not for apps or the radio network.
func DefaultAppliesTo(rec *catalog.Recommendation) Licensees {
	set := map[Licensee]bool{}
	for _, s := range rec.Stakeholders {
		for _, l := range stakeholderLicensees[s] {
			set[l] = true
		}
	}
	switch rec.Layer {
	case "app":
		delete(set, identity.LicenseeMNO)
		delete(set, identity.LicenseeRegulator)
		delete(set, identity.LicenseeThirdParty)
	case "telecom", "channel", "customer":
		delete(set, identity.LicenseeThirdParty)
	}
	if len(set) == 0 {
		// Only non-licensees named (the mobile user): the provider
		// serving them answers for it.
		set[identity.LicenseeDFSProvider], set[identity.LicenseeBank] = true, true
	}
	return ordered(set)
}

// ordered lists the licensee types of set in display order.
func ordered(set map[Licensee]bool) Licensees {
	var out Licensees
	for _, l := range identity.LicenseeTypes() {
		if set[l] {
			out = append(out, l)
		}
	}
	return out
}

// normalizeAppliesTo checks ls and returns it deduplicated in display
// order; an unknown type or LicenseeNone is refused.
func normalizeAppliesTo(ls Licensees) (Licensees, error) {
	set := map[Licensee]bool{}
	for _, l := range ls {
		if l == identity.LicenseeNone || !l.Valid() {
			return nil, invalid("applies_to", "Choose licensee types from the list.")
		}
		set[l] = true
	}
	if len(set) == 0 {
		return nil, invalid("applies_to", "Choose at least one licensee type the item applies to, or decide that the recommendation is not applicable.")
	}
	return ordered(set), nil
}

// joinAppliesTo is the stored form: keys separated by commas.
func joinAppliesTo(ls Licensees) string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = string(l)
	}
	return strings.Join(parts, ",")
}

// parseAppliesTo reads the stored form ("" is nil: the default).
func parseAppliesTo(s string) Licensees {
	if s == "" {
		return nil
	}
	var out Licensees
	for _, p := range strings.Split(s, ",") {
		out = append(out, Licensee(p))
	}
	return out
}

// AppliesToLicensee reports whether the item, as decided, binds an
// organisation licensed as l.
func (it BaselineItem) AppliesToLicensee(l Licensee) bool {
	return it.Decision.Applies() && l != identity.LicenseeNone && slices.Contains(it.AppliesTo, l)
}

// Commitment is an item a jurisdiction's regulators must act on
// themselves, with each regulator's status: what providers see of the
// regulators' own tracking.
type Commitment struct {
	RecID string
	Title string
	By    []CommitmentState // one per regulator of the country, by name
}

// CommitmentState is one regulator's status of a commitment.
type CommitmentState struct {
	Org        string
	Status     Status
	TargetDate string
}

// Commitments lists the items of the latest published baseline of country
// that apply to regulators, with every regulator's status and target date
// (not its justification, comments or evidence, which stay its own).
func (s *Store) Commitments(ctx context.Context, country string) ([]Commitment, error) {
	v, err := s.Latest(ctx, country)
	if err != nil {
		return nil, err
	}
	type regulator struct {
		id   int64
		name string
	}
	rows, err := s.db.Query(ctx, "SELECT id, name FROM orgs WHERE country = ? AND licensee_type = 'regulator' ORDER BY name_key", country)
	if err != nil {
		return nil, fmt.Errorf("adoption: regulators: %w", err)
	}
	var regs []regulator
	for rows.Next() {
		var r regulator
		if err := rows.Scan(&r.id, &r.name); err != nil {
			rows.Close()
			return nil, err
		}
		regs = append(regs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	type key struct {
		org int64
		rec string
	}
	states := map[key]CommitmentState{}
	srows, err := s.db.Query(ctx, `SELECT t.org_id, t.rec_id, t.status, t.target_date FROM tracking_items t JOIN orgs o ON o.id = t.org_id
		WHERE o.country = ? AND o.licensee_type = 'regulator'`, country)
	if err != nil {
		return nil, fmt.Errorf("adoption: commitments: %w", err)
	}
	defer srows.Close()
	for srows.Next() {
		var k key
		var st CommitmentState
		if err := srows.Scan(&k.org, &k.rec, &st.Status, &st.TargetDate); err != nil {
			return nil, err
		}
		states[k] = st
	}
	if err := srows.Err(); err != nil {
		return nil, err
	}
	var out []Commitment
	for _, it := range v.Items {
		if !it.AppliesToLicensee(identity.LicenseeRegulator) {
			continue
		}
		c := Commitment{RecID: it.RecID, Title: it.RecID}
		if rec, err := s.cat.Get(it.RecID); err == nil {
			c.Title = rec.Title
		}
		for _, r := range regs {
			st, ok := states[key{r.id, it.RecID}]
			if !ok {
				st.Status = NotStarted
			}
			st.Org = r.name
			c.By = append(c.By, st)
		}
		out = append(out, c)
	}
	return out, nil
}
