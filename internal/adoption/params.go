package adoption

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/db"
)

// ItemParam is a parameter of a published item: the catalogue's
// definition as the version was published from it, and the value the
// version set. Keeping the definition lets the version's pages say
// "catalogue default 48 hours, range 24–72 hours" of the release it was
// published from, and lets a later release's change of a default or a
// range show as an upstream change.
type ItemParam struct {
	Name    string       `json:"name"`
	Label   string       `json:"label"`
	Unit    catalog.Unit `json:"unit"`
	Default int          `json:"default"`
	Min     int          `json:"min"`
	Max     int          `json:"max"`
	Value   int          `json:"value"`
}

func (p ItemParam) def() catalog.Parameter {
	return catalog.Parameter{Name: p.Name, Label: p.Label, Default: p.Default, Unit: p.Unit, Min: p.Min, Max: p.Max}
}

// Formatted is the value with its unit: "48 hours".
func (p ItemParam) Formatted() string { return p.def().Format(p.Value) }

// DefaultFormatted is the catalogue's default with its unit.
func (p ItemParam) DefaultFormatted() string { return p.def().Format(p.Default) }

// Range is the catalogue's sound range: "24–72 hours".
func (p ItemParam) Range() string { return p.def().Range() }

// Customised reports whether the version set a value other than the
// catalogue's default.
func (p ItemParam) Customised() bool { return p.Value != p.Default }

// Describe is the parameter in one line, for exports: "Hold after a SIM
// swap: 24 hours (catalogue default 48 hours, range 24–72 hours)".
func (p ItemParam) Describe() string {
	return fmt.Sprintf("%s: %s (catalogue default %s, range %s)", p.Label, p.Formatted(), p.DefaultFormatted(), p.Range())
}

// paramSnapshot is what baseline_version_items.params holds: the
// statement's template (so that an item left as published can still be
// given new values) and the parameters with their values.
type paramSnapshot struct {
	Template string      `json:"template"`
	Params   []ItemParam `json:"params"`
}

// snapshotParams is the snapshot of rec's parameters at values (a
// missing name: the default); "" when rec has none.
func snapshotParams(rec *catalog.Recommendation, values map[string]int) string {
	if len(rec.Parameters) == 0 {
		return ""
	}
	s := paramSnapshot{Template: rec.Template}
	for _, p := range rec.Parameters {
		v, ok := values[p.Name]
		if !ok {
			v = p.Default
		}
		s.Params = append(s.Params, ItemParam{Name: p.Name, Label: p.Label, Unit: p.Unit, Default: p.Default, Min: p.Min, Max: p.Max, Value: v})
	}
	b, _ := json.Marshal(s) // strings and ints: cannot fail
	return string(b)
}

// parseSnapshot reads a stored snapshot; "" (no parameters, or a version
// published before values were kept) is none.
func parseSnapshot(raw string) (paramSnapshot, error) {
	var s paramSnapshot
	if raw == "" {
		return s, nil
	}
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return s, fmt.Errorf("adoption: parameters of a version item: %w", err)
	}
	return s, nil
}

// recommendation makes a published snapshot renderable again: the
// template and the ranges as the version published them.
func (s paramSnapshot) recommendation(id string) *catalog.Recommendation {
	r := &catalog.Recommendation{ID: id, Template: s.Template}
	for _, p := range s.Params {
		r.Parameters = append(r.Parameters, p.def())
	}
	return r
}

// checkValues refuses values rec does not take: an unknown name, or a
// value outside the parameter's range. The problem names the parameter
// by its label and gives the range, for the regulator's form.
func checkValues(rec *catalog.Recommendation, values map[string]int) error {
	for _, name := range slices.Sorted(maps.Keys(values)) {
		p := rec.Parameter(name)
		if p == nil {
			return invalid("param_"+name, rec.ID+" has no parameter "+strconv.Quote(name)+".")
		}
		if v := values[name]; v < p.Min || v > p.Max {
			return invalid("param_"+name, fmt.Sprintf("%s must be a whole number from %s; %d is outside that range.", p.Label, p.Range(), v))
		}
	}
	return nil
}

// formatValues writes values for the audit log: "hold=24,x=3", sorted.
func formatValues(values map[string]int) string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(values)) {
		parts = append(parts, name+"="+strconv.Itoa(values[name]))
	}
	return strings.Join(parts, ",")
}

// draftValues reads the parameter values set in the draft of baseline
// bid, by recommendation.
func draftValues(ctx context.Context, q db.Querier, bid int64) (map[string]map[string]int, error) {
	rows, err := q.Query(ctx, "SELECT rec_id, name, value FROM baseline_draft_params WHERE baseline_id = ?", bid)
	if err != nil {
		return nil, fmt.Errorf("adoption: draft parameters: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]int{}
	for rows.Next() {
		var rec, name string
		var v int
		if err := rows.Scan(&rec, &name, &v); err != nil {
			return nil, fmt.Errorf("adoption: draft parameters: %w", err)
		}
		if out[rec] == nil {
			out[rec] = map[string]int{}
		}
		out[rec][name] = v
	}
	return out, rows.Err()
}

// writeDraftValues replaces the values of recID in the draft of baseline
// bid with values, and audits the change when there is one. It reports
// whether the values changed.
func writeDraftValues(ctx context.Context, tx *db.Tx, reg Org, bid int64, recID string, values map[string]int) (bool, error) {
	all, err := draftValues(ctx, tx, bid)
	if err != nil {
		return false, err
	}
	old := all[recID]
	if maps.Equal(old, values) {
		return false, nil
	}
	if _, err := tx.Exec(ctx, "DELETE FROM baseline_draft_params WHERE baseline_id = ? AND rec_id = ?", bid, recID); err != nil {
		return false, fmt.Errorf("adoption: set draft parameters: %w", err)
	}
	for _, name := range slices.Sorted(maps.Keys(values)) {
		if _, err := tx.Exec(ctx, "INSERT INTO baseline_draft_params (baseline_id, rec_id, name, value) VALUES (?, ?, ?, ?)",
			bid, recID, name, values[name]); err != nil {
			return false, fmt.Errorf("adoption: set draft parameters: %w", err)
		}
	}
	// Both the old and the new values: a reader of the log sees what an
	// examiner's number was before, not only what it became. Blank means
	// every parameter at the catalogue's default.
	// The country's other regulator co-owns the draft: the entry is
	// listed under it too.
	a, err := arrangement(ctx, tx, reg.Country)
	if err != nil {
		return false, err
	}
	var others []int64
	for _, r := range a.Regulators {
		if r.Org.ID != reg.ID {
			others = append(others, r.Org.ID)
		}
	}
	det := map[string]any{"country": reg.Country, "from": formatValues(old), "to": formatValues(values)}
	if err := appendAuditConcerning(ctx, tx, reg.ID, others, "baseline.draft.params.set", "baseline", reg.Country+"/"+recID, det); err != nil {
		return false, err
	}
	return true, nil
}

// paramChanges lists how upstream's parameters differ from the ones the
// version published (definitions, not values): "Hold after a SIM swap:
// catalogue default 48 hours → 24 hours". A version item published
// before values were kept has nothing to compare.
func paramChanges(pub []ItemParam, rec *catalog.Recommendation) []string {
	var out []string
	for _, p := range pub {
		u := rec.Parameter(p.Name)
		if u == nil {
			out = append(out, p.Label+": no longer a parameter upstream")
			continue
		}
		up := ItemParam{Name: u.Name, Label: u.Label, Unit: u.Unit, Default: u.Default, Min: u.Min, Max: u.Max}
		if p.Label != up.Label {
			out = append(out, fmt.Sprintf("%s: renamed “%s”", p.Label, up.Label))
		}
		if p.Default != up.Default || p.Unit != up.Unit {
			out = append(out, fmt.Sprintf("%s: catalogue default %s → %s", p.Label, p.DefaultFormatted(), up.DefaultFormatted()))
		}
		if p.Min != up.Min || p.Max != up.Max || p.Unit != up.Unit {
			out = append(out, fmt.Sprintf("%s: range %s → %s", p.Label, p.Range(), up.Range()))
		}
		if p.Value < up.Min || p.Value > up.Max {
			out = append(out, fmt.Sprintf("%s: the version's %s is outside the new range", p.Label, p.Formatted()))
		}
	}
	for _, u := range rec.Parameters {
		if !slices.ContainsFunc(pub, func(p ItemParam) bool { return p.Name == u.Name }) {
			out = append(out, fmt.Sprintf("%s: new parameter (catalogue default %s, range %s)", u.Label, u.Format(u.Default), u.Range()))
		}
	}
	return out
}

// renderWith renders rec's statement with the values that rec still
// takes (a value outside a new range, or of a parameter upstream no
// longer has, falls back to the default: paramChanges says so).
func renderWith(rec *catalog.Recommendation, values map[string]int) string {
	keep := map[string]int{}
	for name, v := range values {
		if p := rec.Parameter(name); p != nil && v >= p.Min && v <= p.Max {
			keep[name] = v
		}
	}
	s, err := rec.Render(keep)
	if err != nil { // cannot happen: keep holds only valid values
		return rec.Statement
	}
	return s
}

// sameParams reports whether two versions publish the same parameters
// and values; a version published before values were kept has none to
// compare, like its text.
func sameParams(a, b []ItemParam) bool {
	return a == nil || b == nil || slices.Equal(a, b)
}

// leftWithValues renders an item the regulators left as version latest
// published it (an upstream change not taken) with the draft's values,
// checked against the published ranges. It returns the statement and the
// new snapshot.
func leftWithValues(recID string, latest Version, values map[string]int) (string, string, error) {
	pub, _ := latest.Item(recID)
	snap, err := parseSnapshot(pub.paramsRaw)
	if err != nil {
		return "", "", err
	}
	r := snap.recommendation(recID)
	keep := map[string]int{}
	for name, v := range values {
		if r.Parameter(name) != nil { // a parameter only upstream has does not apply
			keep[name] = v
		}
	}
	st, err := r.Render(keep)
	if err != nil {
		return "", "", invalid("param", "Set the parameters of "+recID+" again: "+strings.TrimPrefix(err.Error(), catalog.ErrParameter.Error()+": "))
	}
	for i, p := range snap.Params {
		if v, ok := keep[p.Name]; ok {
			snap.Params[i].Value = v
		} else {
			snap.Params[i].Value = p.Default
		}
	}
	b, _ := json.Marshal(snap) // strings and ints: cannot fail
	return st, string(b), nil
}
