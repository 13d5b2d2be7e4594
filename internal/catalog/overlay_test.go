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
