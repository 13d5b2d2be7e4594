package catalog

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Amendment is an accepted change to a recommendation's text, recorded by
// the platform as one catalogue revision. The embedded YAML stays the
// base; amendments live in the database and are laid over it with
// [Catalog.Amend], so the release that ships the base and the revisions a
// platform has accepted since never overwrite each other.
type Amendment struct {
	Revision  int64  // 1, 2, 3, … in the order they were accepted
	RecID     string // the amended recommendation
	Statement string // new statement; "" keeps the current one
	Rationale string // new rationale; "" keeps the current one
}

// AmendedVersion is the catalogue version after the given revision:
// "2026.1" becomes "2026.1-r3". Revision 0 is the base version.
func AmendedVersion(base string, revision int64) string {
	if revision <= 0 {
		return base
	}
	return base + "-r" + strconv.FormatInt(revision, 10)
}

// Amend returns a copy of c with the amendments applied in revision order
// and the version bumped to the highest revision (see [AmendedVersion]).
// c itself is not changed, so the base can be shared by every request. An
// amendment that names an unknown recommendation, repeats a revision or
// would leave a text empty is an error: a broken overlay must not produce
// a half-amended catalogue.
func (c *Catalog) Amend(ams []Amendment) (*Catalog, error) {
	out := &Catalog{Taxonomy: c.Taxonomy, Recommendations: slices.Clone(c.Recommendations), Withdrawn: slices.Clone(c.Withdrawn),
		Releases: c.Releases, byID: maps.Clone(c.byID), withdrawnByID: c.withdrawnByID}
	if len(ams) == 0 {
		return out, nil
	}
	sorted := slices.Clone(ams)
	slices.SortStableFunc(sorted, func(a, b Amendment) int {
		switch {
		case a.Revision < b.Revision:
			return -1
		case a.Revision > b.Revision:
			return 1
		}
		return 0
	})
	var last int64
	for _, a := range sorted {
		if a.Revision <= last {
			return nil, fmt.Errorf("catalog: amendment revision %d out of order or repeated", a.Revision)
		}
		last = a.Revision
		// An amendment accepted before a release withdrew its item still
		// applies, to the withdrawn item: its page and the baselines that
		// name it show the text as amended, and the overlay must not fail.
		var rec *Recommendation
		if i, ok := out.byID[a.RecID]; ok {
			rec = &out.Recommendations[i]
		} else if i, ok := out.withdrawnByID[a.RecID]; ok {
			rec = &out.Withdrawn[i]
		} else {
			return nil, fmt.Errorf("%w: amendment %d names %s", ErrNotFound, a.Revision, a.RecID)
		}
		st, ra := strings.TrimSpace(a.Statement), strings.TrimSpace(a.Rationale)
		if st == "" && ra == "" {
			return nil, fmt.Errorf("catalog: amendment %d of %s changes nothing", a.Revision, a.RecID)
		}
		if st != "" {
			if err := rec.amendStatement(st); err != nil {
				return nil, fmt.Errorf("catalog: amendment %d of %s: %w", a.Revision, a.RecID, err)
			}
		}
		if ra != "" {
			rec.Rationale = ra
		}
	}
	out.Version = AmendedVersion(c.Version, last)
	return out, nil
}

// amendStatement replaces the statement. An amended text that keeps the
// {name} placeholders stays a template; one written out in full (as people
// write proposals, from the text they read) is taken as it stands, and
// Render then returns it unchanged: the amendment fixed the numbers.
func (r *Recommendation) amendStatement(st string) error {
	if len(r.Parameters) == 0 || !placeholder.MatchString(st) {
		r.Statement, r.Template = st, ""
		return nil
	}
	r.Statement = st
	return r.prepareParameters()
}
