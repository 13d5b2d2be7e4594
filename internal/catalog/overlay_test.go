package catalog

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestAmend(t *testing.T) {
	base, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	id := base.Recommendations[0].ID
	other := base.Recommendations[1].ID
	origStatement := base.Recommendations[0].Statement
	origRationale := base.Recommendations[0].Rationale

	got, err := base.Amend([]Amendment{
		{Revision: 2, RecID: id, Rationale: "Second rationale."},
		{Revision: 1, RecID: id, Statement: "First statement.", Rationale: "First rationale."},
		{Revision: 3, RecID: other, Statement: "Other statement."},
	})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := got.Get(id)
	if r.Statement != "First statement." || r.Rationale != "Second rationale." {
		t.Errorf("amended %s = %q / %q, want revision 1's statement and revision 2's rationale", id, r.Statement, r.Rationale)
	}
	if o, _ := got.Get(other); o.Statement != "Other statement." {
		t.Errorf("amended %s statement = %q", other, o.Statement)
	}
	if got.Version != base.Version+"-r3" {
		t.Errorf("version %q, want %q", got.Version, base.Version+"-r3")
	}
	// The base is shared by every request: it must not change.
	if b, _ := base.Get(id); b.Statement != origStatement || b.Rationale != origRationale || base.Version == got.Version {
		t.Errorf("Amend changed the base catalogue")
	}
	// Exports carry the amended text and version.
	var buf bytes.Buffer
	if err := got.Export(&buf, FormatJSON); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "First statement.") || !strings.Contains(buf.String(), got.Version) {
		t.Errorf("JSON export lacks the amended text or version")
	}
	// Search sees the amended text.
	res := NewIndex(got).Search(Query{Text: "Second rationale"})
	found := false
	for _, h := range res.Hits {
		found = found || h.Rec.ID == id
	}
	if !found {
		t.Errorf("search over the amended catalogue does not find %s by its new rationale", id)
	}

	none, err := base.Amend(nil)
	if err != nil || none.Version != base.Version {
		t.Errorf("Amend(nil) = %v, %v; want the base version", none.Version, err)
	}
}

func TestAmendRefusesBrokenOverlays(t *testing.T) {
	base, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	id := base.Recommendations[0].ID
	for _, tc := range []struct {
		name string
		ams  []Amendment
		is   error
	}{
		{"unknown recommendation", []Amendment{{Revision: 1, RecID: "APP-999", Statement: "x"}}, ErrNotFound},
		{"empty change", []Amendment{{Revision: 1, RecID: id, Statement: "  "}}, nil},
		{"repeated revision", []Amendment{{Revision: 1, RecID: id, Statement: "a"}, {Revision: 1, RecID: id, Statement: "b"}}, nil},
		{"revision zero", []Amendment{{Revision: 0, RecID: id, Statement: "a"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := base.Amend(tc.ams)
			if err == nil {
				t.Fatal("accepted")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v, want %v", err, tc.is)
			}
		})
	}
}

// Amending an item with parameters: a text that keeps the placeholders
// stays a template; a text written out in full is taken as it stands.
// An amendment of an item a later release withdrew still applies to it.
func TestAmendParametersAndWithdrawn(t *testing.T) {
	base, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	got, err := base.Amend([]Amendment{
		{Revision: 1, RecID: "PAY-002", Statement: "Providers must hold new payees for {hold} after a SIM swap."},
		{Revision: 2, RecID: "CHN-002", Statement: "One-time codes must expire after 3 minutes."},
		{Revision: 3, RecID: "APP-049", Rationale: "Amended before 2026.2 withdrew it."},
	})
	if err != nil {
		t.Fatal(err)
	}
	pay002, _ := got.Get("PAY-002")
	if pay002.Statement != "Providers must hold new payees for 48 hours after a SIM swap." {
		t.Errorf("amended PAY-002 statement = %q", pay002.Statement)
	}
	if s, err := pay002.Render(map[string]int{"hold": 24}); err != nil || s != "Providers must hold new payees for 24 hours after a SIM swap." {
		t.Errorf("amended PAY-002 rendered = %q, %v", s, err)
	}
	chn002, _ := got.Get("CHN-002")
	if s, err := chn002.Render(map[string]int{"otp_validity": 7}); err != nil || s != "One-time codes must expire after 3 minutes." {
		t.Errorf("CHN-002 amended in full, rendered = %q, %v; want the amended text unchanged", s, err)
	}
	app049, _ := got.Get("APP-049")
	if app049.Rationale != "Amended before 2026.2 withdrew it." {
		t.Errorf("APP-049 rationale = %q", app049.Rationale)
	}
	if orig, _ := base.Get("APP-049"); orig.Rationale == app049.Rationale {
		t.Error("Amend changed the base catalogue's withdrawn item")
	}
	if _, err := base.Amend([]Amendment{{Revision: 1, RecID: "PAY-002", Statement: "Hold for {wait}."}}); err == nil ||
		!strings.Contains(err.Error(), "statement uses {wait}") {
		t.Errorf("an amendment with an unknown placeholder: %v", err)
	}
}
