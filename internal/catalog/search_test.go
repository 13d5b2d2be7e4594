package catalog_test

import (
	"testing"

	"github.com/dfslab/dfslab/internal/catalog"
)

func ids(res catalog.Results) []string {
	out := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		out[i] = h.Rec.ID
	}
	return out
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func TestSearch(t *testing.T) {
	c := load(t)
	ix := catalog.NewIndex(c)
	tests := []struct {
		name      string
		q         catalog.Query
		wantFirst string   // expected top hit ("" to skip)
		mustHave  []string // IDs that must be in the results
		mustNot   []string // IDs that must not be in the results
		max       int      // upper bound on hits (0: no bound)
	}{
		{name: "by ID", q: catalog.Query{Text: "APP-013"}, wantFirst: "APP-013"},
		{name: "title words", q: catalog.Query{Text: "certificate pinning"}, mustHave: []string{"APP-013"}},
		{name: "prefix of last word", q: catalog.Query{Text: "sim sw"}, mustHave: []string{"TEL-001", "TEL-005", "PAY-038"}},
		// Withdrawn items are not searched: they would count twice.
		{name: "withdrawn item", q: catalog.Query{Text: "APP-049"}, max: 0, mustNot: []string{"APP-049"}},
		{name: "merged text found on the survivor", q: catalog.Query{Text: "untrusted certificate proxy"}, wantFirst: "APP-012", mustNot: []string{"APP-049"}},
		{name: "priority facet", q: catalog.Query{Priorities: []string{"essential"}, Layers: []string{"telecom"}}, mustHave: []string{"TEL-001", "TEL-026"}, mustNot: []string{"TEL-027", "APP-001"}},
		{name: "several dimensions", q: catalog.Query{Dimensions: []string{"privacy"}, Layers: []string{"telecom"}}, mustHave: []string{"TEL-026", "TEL-010"}, mustNot: []string{"TEL-001"}},
		{name: "two checks", q: catalog.Query{Checks: []string{"dynamic"}, Layers: []string{"app"}}, mustHave: []string{"APP-012", "APP-013", "APP-041", "APP-048"}, mustNot: []string{"APP-001"}},
		{name: "all words must match", q: catalog.Query{Text: "ussd roaming"}, mustHave: []string{"CHN-009"}, mustNot: []string{"TEL-001"}},
		{name: "ITU lab test ID", q: catalog.Query{Text: "T1.1"}, wantFirst: "APP-002"},
		{name: "scanner rule ID", q: catalog.Query{Text: "DFS-MAN-001"}, wantFirst: "APP-001"},
		{name: "facet only", q: catalog.Query{Layers: []string{"telecom"}}, mustHave: []string{"TEL-001", "TEL-025"}, mustNot: []string{"APP-001"}},
		{name: "facet and text", q: catalog.Query{Text: "swap", Stakeholders: []string{"central_bank"}}, mustNot: []string{"TEL-001"}},
		{name: "threat facet", q: catalog.Query{Threats: []string{"sim_attacks"}}, mustHave: []string{"TEL-001"}, mustNot: []string{"APP-031"}},
		{name: "scan rule filter", q: catalog.Query{ScanRule: "DFS-CRYPTO-004"}, mustHave: []string{"APP-031"}, max: 2},
		{name: "no match", q: catalog.Query{Text: "zzzzqqq"}, max: 0, mustNot: []string{"APP-001"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := ix.Search(tt.q)
			got := ids(res)
			if tt.wantFirst != "" && (len(got) == 0 || got[0] != tt.wantFirst) {
				t.Errorf("top hit = %v, want %s first", got, tt.wantFirst)
			}
			for _, id := range tt.mustHave {
				if !contains(got, id) {
					t.Errorf("%s missing from %v", id, got)
				}
			}
			for _, id := range tt.mustNot {
				if contains(got, id) {
					t.Errorf("%s should not match", id)
				}
			}
			if tt.max > 0 && len(got) > tt.max {
				t.Errorf("%d hits, want at most %d", len(got), tt.max)
			}
			if tt.q.Text == "zzzzqqq" && len(got) != 0 {
				t.Errorf("nonsense query matched %v", got)
			}
		})
	}
}

func TestSearchFacetCounts(t *testing.T) {
	c := load(t)
	res := catalog.NewIndex(c).Search(catalog.Query{Layers: []string{"app"}})
	for _, f := range res.Facets["layer"] {
		switch f.Term.Key {
		case "app":
			if f.Count != len(res.Hits) || !f.Selected {
				t.Errorf("app facet = %+v, want count %d and selected", f, len(res.Hits))
			}
		default:
			if f.Count != 0 || f.Selected {
				t.Errorf("facet %s = %+v within an app-only result", f.Term.Key, f)
			}
		}
	}
}

func BenchmarkSearch(b *testing.B) {
	c, err := catalog.Load()
	if err != nil {
		b.Fatal(err)
	}
	ix := catalog.NewIndex(c)
	queries := []catalog.Query{
		{Text: "sim swap"},
		{Text: "certificate pin"},
		{Text: "ussd", Stakeholders: []string{"mno"}},
		{Threats: []string{"account_hijacking"}},
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ix.Search(queries[i%len(queries)])
	}
}
