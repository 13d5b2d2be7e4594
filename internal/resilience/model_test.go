package resilience_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/resilience"
)

func known(t testing.TB) resilience.Known {
	t.Helper()
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	return func(id string) bool { _, err := cat.Get(id); return err == nil }
}

// TestBuiltinModel checks the shipped model against the bar: six
// domains, at least 8 questions each and 50 in all, every level of every
// question described, every question linked to a catalogue recommendation,
// and a five-pillar variant without protection.
func TestBuiltinModel(t *testing.T) {
	ms, err := resilience.BuiltinModels(known(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].ID != "dfs-cyber-resilience" {
		t.Fatalf("built-in models: %d", len(ms))
	}
	m := ms[0]
	want := []string{"RM", "GOV", "TST", "TRA", "PRO", "IR"}
	if len(m.Domains) != len(want) {
		t.Fatalf("%d domains", len(m.Domains))
	}
	total := 0
	for i, d := range m.Domains {
		if d.ID != want[i] {
			t.Errorf("domain %d is %s, want %s", i, d.ID, want[i])
		}
		if len(d.Questions) < 8 {
			t.Errorf("domain %s has %d questions, want ≥ 8", d.ID, len(d.Questions))
		}
		for _, q := range d.Questions {
			total++
			if len(q.Recommendations) == 0 {
				t.Errorf("%s links no recommendation", q.ID)
			}
			seen := map[string]bool{}
			for l := resilience.MinLevel; l <= resilience.MaxLevel; l++ {
				desc := q.Levels[l]
				if len(desc) < 15 || seen[desc] {
					t.Errorf("%s level %d: %q is not a description of its own", q.ID, l, desc)
				}
				seen[desc] = true
			}
		}
	}
	if total < 50 {
		t.Errorf("%d questions, want ≥ 50", total)
	}
	five := m.DomainsOf("five-pillar")
	if len(five) != 5 {
		t.Fatalf("five-pillar variant: %d domains", len(five))
	}
	for _, d := range five {
		if d.ID == "PRO" {
			t.Error("five-pillar variant includes protection")
		}
	}
	names := []string{}
	for _, l := range m.Levels {
		names = append(names, l.Name)
	}
	if got := strings.Join(names, ","); got != "Initial,Developing,Defined,Managed,Optimised" {
		t.Errorf("maturity levels %s", got)
	}
}

// TestParseModelProblems: every refusal names the line and the field.
func TestParseModelProblems(t *testing.T) {
	good, err := os.ReadFile("testdata/small-model.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := resilience.ParseModel(good, known(t)); err != nil {
		t.Fatalf("small model: %v", err)
	}
	cases := []struct {
		name, old, new string
		want           string // in the error, with its line
	}{
		{"unknown key", "    weight: 3\n", "    weight: 3\n        colour: red\n", `line 23: unknown key "colour" in a question`},
		{"missing level", "levels: {0: none, 1: one, 2: two, 3: three, 4: four, 5: five}\n  - id: B", "levels: {0: none, 1: one, 2: two, 3: three, 4: four}\n  - id: B", "line 25: question A-2: level 5 is not described"},
		{"unknown recommendation", "[TEL-011]", "[TEL-999]", `line 25: question A-2: unknown recommendation "TEL-999"`},
		{"unknown entity type", "applies_to: [mno]", "applies_to: [telco]", `line 25: question A-2: unknown entity type "telco"`},
		{"level out of range", "{0: none, 1: one, 2: two, 3: three, 4: four, 5: five}\n      - id: A-2", "{0: none, 1: one, 2: two, 3: three, 4: four, 5: five, 6: six}\n      - id: A-2", "line 20: question A-1: level 6 is outside 0–5"},
		{"wrong type", "weight: 3", "weight: heavy", "line 22: cannot unmarshal !!str `heavy` into float64"},
		{"variant of unknown domain", "domains: [A]}", "domains: [C]}", `variant only-a names unknown domain "C"`},
		{"duplicate question", "id: B-1", "id: A-1", `question "A-1" appears twice`},
		{"missing target", "targets: {low: 2, moderate: 3, high: 4, very_high: 5}", "targets: {low: 2, moderate: 3, high: 4}", `line 11: targets: no target for risk level "very_high"`},
		{"syntax", "title: Small test model", "title: [unclosed", "did not find expected"},
		{"alias", "  - id: A\n", "  - id: A\n    description: &x text\n", "anchors and aliases"},
		{"wrong format", "dfslab-resilience-model/1", "other/2", `format must be "dfslab-resilience-model/1"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := strings.Replace(string(good), c.old, c.new, 1)
			if doc == string(good) {
				t.Fatalf("case does not change the document")
			}
			_, err := resilience.ParseModel([]byte(doc), known(t))
			var ve *resilience.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v is not a ValidationError", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q lacks %q", err, c.want)
			}
		})
	}
	if _, err := resilience.ParseModel(nil, nil); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("empty document: %v", err)
	}
	if _, err := resilience.ParseModel(make([]byte, resilience.MaxModelSize+1), nil); !errors.Is(err, resilience.ErrTooLarge) {
		t.Fatalf("oversized document: %v", err)
	}
}

func FuzzParseModel(f *testing.F) {
	good, err := os.ReadFile("testdata/small-model.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte("format: x\n"))
	f.Add([]byte("- a\n- b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := resilience.ParseModel(data, nil)
		if err != nil {
			var ve *resilience.ValidationError
			if !errors.As(err, &ve) && !errors.Is(err, resilience.ErrTooLarge) {
				t.Fatalf("error of another kind: %v", err)
			}
			return
		}
		// An accepted model can be scored without panicking, for every
		// variant and entity type.
		for _, v := range m.Variants {
			for _, et := range resilience.EntityTypes() {
				resilience.Score(m, v.ID, et, resilience.RiskHigh, nil)
			}
		}
	})
}
