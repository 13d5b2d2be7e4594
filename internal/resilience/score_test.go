package resilience_test

import (
	"github.com/dfslab/dfslab/internal/testenv"

	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/dfslab/dfslab/internal/resilience"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func smallModel(t testing.TB) *resilience.Model {
	t.Helper()
	data, err := os.ReadFile("testdata/small-model.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := resilience.ParseModel(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func lv(n int) *int { return &n }

// TestScoreByHand checks the formula of docs/resilience.md on numbers
// worked out by hand, independently of the implementation.
func TestScoreByHand(t *testing.T) {
	m := smallModel(t)
	answers := map[string]resilience.Answer{
		"A-1": {Level: lv(2)}, "A-2": {Level: lv(5)}, "B-1": {Level: lv(1)},
	}
	cases := []struct {
		name       string
		entity     resilience.EntityType
		variant    string
		answers    map[string]resilience.Answer
		overall    float64
		level      string
		domainA    float64
		gapA       float64
		priorities []string
	}{
		// A = (3×2 + 1×5) / 4 = 2.75; B = 1; overall = (2×2.75 + 1×1) / 3 = 2.17.
		{"operator", resilience.EntityMNO, "both", answers, 2.17, "Practising", 2.75, 1.25, []string{"A-1", "B-1"}},
		// A-2 does not apply: A = 2; overall = (2×2 + 1) / 3 = 1.67.
		{"provider", resilience.EntityDFSProvider, "both", answers, 1.67, "Starting", 2, 2, []string{"A-1", "B-1"}},
		// Only domain A counts.
		{"variant", resilience.EntityMNO, "only-a", answers, 2.75, "Practising", 2.75, 1.25, []string{"A-1"}},
		// B not applicable: B has no score and does not count.
		{"not applicable", resilience.EntityMNO, "both", map[string]resilience.Answer{
			"A-1": {Level: lv(2)}, "A-2": {Level: lv(5)}, "B-1": {NA: true, NAReason: "no such service"}}, 2.75, "Practising", 2.75, 1.25, []string{"A-1"}},
		// Unanswered questions count as 0: A = 5/4 = 1.25, B = 0.
		{"unanswered", resilience.EntityMNO, "both", map[string]resilience.Answer{"A-2": {Level: lv(5)}}, 0.83, "Starting", 1.25, 2.75, []string{"A-1", "B-1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sc := resilience.Score(m, c.variant, c.entity, resilience.RiskHigh, c.answers)
			if sc.Overall != c.overall || sc.Level != c.level {
				t.Errorf("overall %v %s, want %v %s", sc.Overall, sc.Level, c.overall, c.level)
			}
			if sc.Domains[0].Score != c.domainA || sc.Domains[0].Gap != c.gapA || sc.Domains[0].Target != 4 {
				t.Errorf("domain A: %+v", sc.Domains[0])
			}
			var got []string
			for _, p := range sc.Priorities {
				got = append(got, p.ID)
			}
			if len(got) != len(c.priorities) {
				t.Fatalf("priorities %v, want %v", got, c.priorities)
			}
			for i := range got {
				if got[i] != c.priorities[i] {
					t.Fatalf("priorities %v, want %v", got, c.priorities)
				}
			}
		})
	}
	// Domain B's target at high risk is its own (2), not the model's (4).
	sc := resilience.Score(m, "both", resilience.EntityMNO, resilience.RiskHigh, answers)
	if sc.Domains[1].Target != 2 || sc.Domains[1].Gap != 1 {
		t.Errorf("domain B: %+v", sc.Domains[1])
	}
	if !sc.Complete || sc.Applicable != 3 || sc.Answered != 3 {
		t.Errorf("progress: %+v", sc)
	}
}

// TestScoreGolden compares whole scorecards of the built-in model with
// testdata/*.golden.json (go test -update rewrites them).
func TestScoreGolden(t *testing.T) {
	ms, err := resilience.BuiltinModels(nil)
	if err != nil {
		t.Fatal(err)
	}
	m := ms[0]
	answers := map[string]resilience.Answer{}
	i := 0
	for _, d := range m.Domains {
		for _, q := range d.Questions {
			answers[q.ID] = resilience.Answer{Level: lv(i % 6)}
			i++
		}
	}
	for _, c := range []struct {
		name    string
		variant string
		entity  resilience.EntityType
		risk    resilience.RiskLevel
	}{
		{"provider-six-high", "six-domain", resilience.EntityDFSProvider, resilience.RiskHigh},
		{"operator-five-moderate", "five-pillar", resilience.EntityMNO, resilience.RiskModerate},
	} {
		sc := resilience.Score(m, c.variant, c.entity, c.risk, answers)
		got, err := json.MarshalIndent(sc, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		testenv.Golden(t, filepath.Join("testdata", c.name+".golden.json"), append(got, '\n'), *update)
	}
}

func TestProfileRiskLevel(t *testing.T) {
	cases := []struct {
		p    resilience.Profile
		pts  int
		want resilience.RiskLevel
	}{
		{resilience.Profile{EntityType: resilience.EntityThirdParty}, 1, resilience.RiskLow},
		{resilience.Profile{EntityType: resilience.EntityDFSProvider, Volume: 1, Customers: 1, Channels: []resilience.Channel{"app"}}, 5, resilience.RiskModerate},
		{resilience.Profile{EntityType: resilience.EntityMNO, Volume: 2, Customers: 3, ThirdParties: 1, Channels: []resilience.Channel{"app", "ussd", "stk"}}, 10, resilience.RiskHigh},
		{resilience.Profile{EntityType: resilience.EntityPaymentSwitch, Volume: 3, Customers: 3, ThirdParties: 2, Incidents: 1, Channels: resilience.Channels()}, 15, resilience.RiskVeryHigh},
	}
	for _, c := range cases {
		if err := c.p.Validate(); err != nil {
			t.Fatal(err)
		}
		if got := c.p.RiskPoints(); got != c.pts || c.p.RiskLevel() != c.want {
			t.Errorf("%+v: %d points %s, want %d %s", c.p, got, c.p.RiskLevel(), c.pts, c.want)
		}
	}
	for _, bad := range []resilience.Profile{
		{EntityType: "telco"},
		{EntityType: resilience.EntityMNO, Volume: 4},
		{EntityType: resilience.EntityMNO, Channels: []resilience.Channel{"fax"}},
		{EntityType: resilience.EntityMNO, Channels: []resilience.Channel{"app", "app"}},
	} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func BenchmarkScore(b *testing.B) {
	ms, err := resilience.BuiltinModels(nil)
	if err != nil {
		b.Fatal(err)
	}
	m := ms[0]
	answers := map[string]resilience.Answer{}
	for _, d := range m.Domains {
		for j, q := range d.Questions {
			answers[q.ID] = resilience.Answer{Level: lv(j % 6)}
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		resilience.Score(m, "six-domain", resilience.EntityDFSProvider, resilience.RiskHigh, answers)
	}
}
