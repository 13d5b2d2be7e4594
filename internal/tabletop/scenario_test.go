package tabletop_test

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/resilience"
	"github.com/dfslab/dfslab/internal/tabletop"
)

// refs checks links against the embedded catalogue and the built-in
// resilience model, as the platform does.
func refs(t testing.TB) tabletop.Refs {
	t.Helper()
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	known := func(id string) bool { _, err := cat.Get(id); return err == nil }
	models, err := resilience.BuiltinModels(known)
	if err != nil {
		t.Fatal(err)
	}
	return tabletop.Refs{Recommendation: known, Question: func(id string) bool { return models[0].Question(id) != nil }}
}

func TestBuiltinScenarios(t *testing.T) {
	ss, err := tabletop.BuiltinScenarios(refs(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 8 {
		t.Fatalf("%d built-in scenarios, want the eight of the domain notes", len(ss))
	}
	seen := map[string]bool{}
	for _, s := range ss {
		if seen[s.ID] {
			t.Errorf("scenario %s twice", s.ID)
		}
		seen[s.ID] = true
		if n := len(s.Injects); n < 4 || n > 6 {
			t.Errorf("%s: %d injects, want 4–6", s.ID, n)
		}
		if len(s.Objectives) == 0 || len(s.Roles) == 0 || len(s.EntityTypes) == 0 {
			t.Errorf("%s: objectives, roles and entity types are required", s.ID)
		}
		for _, in := range s.Injects {
			for _, g := range in.Groups {
				for _, a := range in.Expected[g] {
					// The built-in scenarios link both, so that a debrief
					// reaches the catalogue and the assessment alike.
					if len(a.Recommendations) == 0 || len(a.Questions) == 0 {
						t.Errorf("%s %s %s: %q links no recommendation or no question", s.ID, in.ID, g, a.Action)
					}
				}
			}
		}
		src, ok := tabletop.BuiltinSource(s.ID)
		if !ok {
			t.Errorf("%s: no source", s.ID)
			continue
		}
		again, err := tabletop.ParseScenario(src, refs(t))
		if err != nil || again.Key() != s.Key() {
			t.Errorf("%s: source does not parse back: %v", s.ID, err)
		}
	}
	if _, ok := tabletop.BuiltinSource("no-such-scenario"); ok {
		t.Error("source of an unknown scenario")
	}
}

// TestDomainsFollowResilienceModel keeps the default groups in step with
// the domains of the resilience model's six-domain variant.
func TestDomainsFollowResilienceModel(t *testing.T) {
	models, err := resilience.BuiltinModels(nil)
	if err != nil {
		t.Fatal(err)
	}
	m := models[0]
	var want []tabletop.Domain
	for _, d := range m.DomainsOf(m.DefaultVariant()) {
		want = append(want, tabletop.Domain{ID: d.ID, Name: d.Name})
	}
	if got := tabletop.Domains(); !slices.Equal(got, want) {
		t.Errorf("domains %v, resilience model has %v", got, want)
	}
}

func TestParseOffset(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{"0m", 0, false}, {"45m", 45 * time.Minute, false}, {"1h30m", 90 * time.Minute, false},
		{"1d", 24 * time.Hour, false}, {"1d4h", 28 * time.Hour, false}, {"2d30s", 48*time.Hour + 30*time.Second, false},
		{"", 0, true}, {"-1h", 0, true}, {"1.5h", 0, true}, {"31d", 0, true}, {"xd", 0, true}, {"1w", 0, true}, {"1d-2h", 0, true},
	} {
		got, err := tabletop.ParseOffset(c.in)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("ParseOffset(%q) = %v, %v; want %v, bad %v", c.in, got, err, c.want, c.bad)
		}
		if !c.bad {
			back, err := tabletop.ParseOffset(tabletop.FormatOffset(got))
			if err != nil || back != got {
				t.Errorf("FormatOffset(%v) = %q does not read back", got, tabletop.FormatOffset(got))
			}
		}
	}
}

// TestParseScenarioProblems feeds broken documents (testdata/broken/*.yaml)
// and compares every problem and its line with the .problems golden file
// beside it.
func TestParseScenarioProblems(t *testing.T) {
	files, err := os.ReadDir("testdata/broken")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		name, ok := strings.CutSuffix(f.Name(), ".yaml")
		if !ok {
			continue
		}
		n++
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile("testdata/broken/" + f.Name())
			if err != nil {
				t.Fatal(err)
			}
			_, err = tabletop.ParseScenario(data, refs(t))
			var ve *tabletop.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v, want a ValidationError", err)
			}
			var got strings.Builder
			for _, p := range ve.Problems {
				got.WriteString(p.String() + "\n")
			}
			golden(t, "testdata/broken/"+name+".problems", got.String())
		})
	}
	if n == 0 {
		t.Fatal("no broken documents in testdata/broken")
	}
}

func TestParseScenarioLimits(t *testing.T) {
	src, _ := tabletop.BuiltinSource("payday-sim-swap")
	if _, err := tabletop.ParseScenario(append(src, make([]byte, tabletop.MaxScenarioSize)...), tabletop.Refs{}); !errors.Is(err, tabletop.ErrTooLarge) {
		t.Errorf("oversized document: %v, want ErrTooLarge", err)
	}
	long := strings.Replace(string(src), "title: Payday SIM-swap wave", "title: "+strings.Repeat("x", 201), 1)
	_, err := tabletop.ParseScenario([]byte(long), tabletop.Refs{})
	if err == nil || !strings.Contains(err.Error(), "line 6: title is longer than 200 bytes (201)") {
		t.Errorf("long title: %v", err)
	}
	if _, err := tabletop.ParseScenario([]byte("\xff\xfe"), tabletop.Refs{}); err == nil {
		t.Error("invalid UTF-8 accepted")
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n--- got\n%s--- want\n%s", path, got, want)
	}
}
