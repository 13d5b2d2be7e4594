package resilience_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/blob"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/resilience"
)

type fixture struct {
	t   testing.TB
	ctx context.Context
	d   *db.DB
	s   *resilience.Store
	ids *identity.Store
	now time.Time
}

func newFixture(t testing.TB, d *db.DB) *fixture {
	f := &fixture{t: t, ctx: audit.WithActor(context.Background(), audit.Actor{UserID: 0, IP: "192.0.2.1", RequestID: "test"}), d: d,
		now: time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)}
	var err error
	clock := func() time.Time { return f.now }
	f.s, err = resilience.NewStore(d, blob.NewStore(d, clock), known(t), clock)
	if err != nil {
		t.Fatal(err)
	}
	f.ids = identity.NewStore(d, identity.Options{Now: clock})
	return f
}

func (f *fixture) org(name string, typ identity.OrgType, country string) resilience.Org {
	f.t.Helper()
	o, err := f.ids.CreateOrg(f.ctx, identity.NewOrg{Name: name, Type: typ, Country: country})
	if err != nil {
		f.t.Fatal(err)
	}
	return resilience.Org{ID: o.ID, Name: o.Name, Country: o.Country,
		Regulator: typ == identity.OrgTelecomRegulator || typ == identity.OrgCentralBank}
}

const builtinKey = "dfs-cyber-resilience@2026.1"

func provider() resilience.Profile {
	return resilience.Profile{EntityType: resilience.EntityDFSProvider, Volume: 2, Customers: 2, ThirdParties: 1,
		Channels: []resilience.Channel{"app", "ussd", "agents"}}
}

// answerAll answers every applicable question of a with level.
func (f *fixture) answerAll(orgID int64, a resilience.Assessment, level int) {
	f.t.Helper()
	m, err := f.s.Model(f.ctx, a.ModelKey)
	if err != nil {
		f.t.Fatal(err)
	}
	cur, _ := f.s.Answers(f.ctx, a.ID)
	for _, d := range m.DomainsOf(a.Variant) {
		for _, q := range d.Questions {
			if !q.Applies(a.Profile.EntityType) {
				continue
			}
			if _, err := f.s.SaveAnswer(f.ctx, orgID, a.ID, resilience.Answer{QuestionID: q.ID, Level: lv(level)}, cur[q.ID].Version); err != nil {
				f.t.Fatalf("answer %s: %v", q.ID, err)
			}
		}
	}
}

func TestAssessmentLifecycle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		p := f.org("Mpamba", identity.OrgDFSProvider, "MW")
		other := f.org("Kenya Wallet", identity.OrgDFSProvider, "KE")
		a, err := f.s.CreateAssessment(f.ctx, p, resilience.NewAssessment{Title: "2027 self-assessment", ModelKey: builtinKey, Profile: provider()})
		if err != nil {
			t.Fatal(err)
		}
		if a.Risk != resilience.RiskHigh || a.Variant != "six-domain" {
			t.Fatalf("assessment %+v", a)
		}
		if _, err := f.s.Assessment(f.ctx, other.ID, a.ID); !errors.Is(err, resilience.ErrNotFound) {
			t.Fatalf("another organisation read the assessment: %v", err)
		}
		if _, err := f.s.SaveAnswer(f.ctx, other.ID, a.ID, resilience.Answer{QuestionID: "RM-01", Level: lv(3)}, 0); !errors.Is(err, resilience.ErrNotFound) {
			t.Fatalf("another organisation answered: %v", err)
		}

		// Bad input is refused whole.
		for _, c := range []struct {
			name string
			in   resilience.Answer
			want error
		}{
			{"unknown question", resilience.Answer{QuestionID: "XX-99", Level: lv(1)}, resilience.ErrInvalid},
			{"operators only", resilience.Answer{QuestionID: "TST-05", Level: lv(1)}, resilience.ErrInvalid},
			{"level 6", resilience.Answer{QuestionID: "RM-01", Level: lv(6)}, resilience.ErrInvalid},
			{"level -1", resilience.Answer{QuestionID: "RM-01", Level: lv(-1)}, resilience.ErrInvalid},
			{"n/a without reason", resilience.Answer{QuestionID: "RM-01", NA: true}, resilience.ErrInvalid},
			{"n/a and level", resilience.Answer{QuestionID: "RM-01", NA: true, NAReason: "x", Level: lv(1)}, resilience.ErrInvalid},
			{"long comment", resilience.Answer{QuestionID: "RM-01", Level: lv(1), Comment: strings.Repeat("x", resilience.MaxComment+1)}, resilience.ErrInvalid},
			{"control characters", resilience.Answer{QuestionID: "RM-01", Level: lv(1), Comment: "a\x00b"}, resilience.ErrInvalid},
		} {
			if _, err := f.s.SaveAnswer(f.ctx, p.ID, a.ID, c.in, 0); !errors.Is(err, c.want) {
				t.Errorf("%s: %v", c.name, err)
			}
		}
		if as, _ := f.s.Answers(f.ctx, a.ID); len(as) != 0 {
			t.Fatalf("refused answers were stored: %+v", as)
		}

		// Optimistic concurrency: two people saw version 0; the second
		// write is refused and gets the first one's answer back.
		first, err := f.s.SaveAnswer(f.ctx, p.ID, a.ID, resilience.Answer{QuestionID: "RM-01", Level: lv(3), Comment: "risk process approved in 2026"}, 0)
		if err != nil || first.Version != 1 {
			t.Fatalf("first save: %+v, %v", first, err)
		}
		cur, err := f.s.SaveAnswer(f.ctx, p.ID, a.ID, resilience.Answer{QuestionID: "RM-01", Level: lv(1)}, 0)
		if !errors.Is(err, resilience.ErrStale) || *cur.Level != 3 || cur.Version != 1 {
			t.Fatalf("stale save: %+v, %v", cur, err)
		}
		// Many concurrent first answers to one question: exactly one wins.
		var wg sync.WaitGroup
		wins := make(chan int, 8)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := f.s.SaveAnswer(f.ctx, p.ID, a.ID, resilience.Answer{QuestionID: "RM-02", Level: lv(i % 6)}, 0); err == nil {
					wins <- i
				} else if !errors.Is(err, resilience.ErrStale) {
					t.Errorf("concurrent save: %v", err)
				}
			}()
		}
		wg.Wait()
		close(wins)
		if len(wins) != 1 {
			t.Fatalf("%d concurrent first answers won", len(wins))
		}

		if _, err := f.s.Submit(f.ctx, p.ID, a.ID); !errors.Is(err, resilience.ErrIncomplete) {
			t.Fatalf("incomplete sign-off: %v", err)
		}
		f.answerAll(p.ID, a, 2)
		// One question not applicable, with a reason.
		as, _ := f.s.Answers(f.ctx, a.ID)
		if _, err := f.s.SaveAnswer(f.ctx, p.ID, a.ID, resilience.Answer{QuestionID: "TRA-02", NA: true, NAReason: "no agents of our own"}, as["TRA-02"].Version); err != nil {
			t.Fatal(err)
		}
		snap, err := f.s.Submit(f.ctx, p.ID, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if snap.Scorecard.Overall != 2 || !snap.Scorecard.Complete {
			t.Fatalf("snapshot scorecard %+v", snap.Scorecard)
		}
		if _, err := f.s.SaveAnswer(f.ctx, p.ID, a.ID, resilience.Answer{QuestionID: "RM-01", Level: lv(5)}, 2); !errors.Is(err, resilience.ErrSubmitted) {
			t.Fatalf("answer after sign-off: %v", err)
		}
		if _, err := f.s.Submit(f.ctx, p.ID, a.ID); !errors.Is(err, resilience.ErrSubmitted) {
			t.Fatalf("second sign-off: %v", err)
		}

		// A year later: the new assessment starts from the signed-off
		// answers, and the comparison shows what moved.
		f.now = f.now.AddDate(1, 0, 0)
		b, err := f.s.CreateAssessment(f.ctx, p, resilience.NewAssessment{Title: "2028 self-assessment", ModelKey: builtinKey, Profile: provider()})
		if err != nil {
			t.Fatal(err)
		}
		if b.PreviousID != a.ID {
			t.Fatalf("previous = %d, want %d", b.PreviousID, a.ID)
		}
		bs, _ := f.s.Answers(f.ctx, b.ID)
		if *bs["RM-03"].Level != 2 || !bs["TRA-02"].NA {
			t.Fatalf("answers not carried over: %+v / %+v", bs["RM-03"], bs["TRA-02"])
		}
		if _, err := f.s.SaveAnswer(f.ctx, p.ID, b.ID, resilience.Answer{QuestionID: "RM-03", Level: lv(4)}, bs["RM-03"].Version); err != nil {
			t.Fatal(err)
		}
		cmp, err := f.s.Compare(f.ctx, p.ID, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(cmp.Questions) != 1 || cmp.Questions[0].ID != "RM-03" || cmp.Questions[0].Delta() != 2 {
			t.Fatalf("question changes %+v", cmp.Questions)
		}
		if cmp.Domains[0].ID != "RM" || cmp.Domains[0].Delta() <= 0 {
			t.Fatalf("domain changes %+v", cmp.Domains)
		}
		if _, err := audit.Verify(f.ctx, d); err != nil {
			t.Fatal(err)
		}
		es, _ := audit.List(f.ctx, d, audit.Filter{OrgID: p.ID, Action: "resilience.assessment.submit"})
		if len(es) != 1 || es[0].Details["snapshot_sha256"] == "" {
			t.Fatalf("sign-off audit: %+v", es)
		}
	})
}

// TestImportedModelWorksTheSame: a platform administrator imports the
// small model; assessments against it behave as against the built-in one.
func TestImportedModelWorksTheSame(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		data, err := os.ReadFile("testdata/small-model.yaml")
		if err != nil {
			t.Fatal(err)
		}
		m, err := f.s.ImportModel(f.ctx, data)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.ImportModel(f.ctx, data); !errors.Is(err, resilience.ErrConflict) {
			t.Fatalf("second import of one version: %v", err)
		}
		if _, err := f.s.ImportModel(f.ctx, []byte("format: nope\n")); err == nil {
			t.Fatal("invalid model imported")
		}
		ms, err := f.s.Models(f.ctx)
		if err != nil || len(ms) != 2 || ms[1].Key() != "small-test@1" {
			t.Fatalf("models: %d, %v", len(ms), err)
		}
		o := f.org("Airtel", identity.OrgMNO, "MW")
		a, err := f.s.CreateAssessment(f.ctx, o, resilience.NewAssessment{Title: "small", ModelKey: m.Key(), Variant: "both",
			Profile: resilience.Profile{EntityType: resilience.EntityMNO, Volume: 3, Customers: 3, ThirdParties: 2, Channels: resilience.Channels()}})
		if err != nil {
			t.Fatal(err)
		}
		for q, l := range map[string]int{"A-1": 2, "A-2": 5, "B-1": 1} {
			if _, err := f.s.SaveAnswer(f.ctx, o.ID, a.ID, resilience.Answer{QuestionID: q, Level: lv(l)}, 0); err != nil {
				t.Fatal(err)
			}
		}
		snap, err := f.s.Submit(f.ctx, o.ID, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		// The hand-computed figures of TestScoreByHand, at very high risk
		// (targets 5 and, for B, the model's 5).
		if snap.Scorecard.Overall != 2.17 || snap.Scorecard.Level != "Practising" || snap.Scorecard.Domains[0].Target != 5 {
			t.Fatalf("scorecard %+v", snap.Scorecard)
		}
	})
}

// TestCampaignAndBenchmark: a regulator's campaign, progress of the
// entities in scope, and a benchmark that never shows a group under three.
func TestCampaignAndBenchmark(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		reg := f.org("MACRA", identity.OrgTelecomRegulator, "MW")
		otherReg := f.org("CA Kenya", identity.OrgTelecomRegulator, "KE")
		var provs []resilience.Org
		for i := range 4 {
			provs = append(provs, f.org(fmt.Sprintf("Provider %d", i), identity.OrgDFSProvider, "MW"))
		}
		mnos := []resilience.Org{f.org("Operator 1", identity.OrgMNO, "MW"), f.org("Operator 2", identity.OrgMNO, "MW")}
		f.org("Kenyan provider", identity.OrgDFSProvider, "KE")

		if _, err := f.s.CreateCampaign(f.ctx, provs[0], resilience.NewCampaign{Title: "x", ModelKey: builtinKey,
			EntityTypes: []resilience.EntityType{resilience.EntityMNO}, Deadline: f.now.Add(time.Hour)}, nil); !errors.Is(err, resilience.ErrInvalid) {
			t.Fatalf("a provider launched a campaign: %v", err)
		}
		c, err := f.s.CreateCampaign(f.ctx, reg, resilience.NewCampaign{Title: "Sector assessment 2027", ModelKey: builtinKey,
			EntityTypes: []resilience.EntityType{resilience.EntityMNO, resilience.EntityDFSProvider}, Deadline: f.now.AddDate(0, 2, 0)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.s.Progress(f.ctx, otherReg, c.ID); !errors.Is(err, resilience.ErrNotFound) {
			t.Fatalf("another country's regulator saw the progress: %v", err)
		}
		_, prog, err := f.s.Progress(f.ctx, reg, c.ID)
		if err != nil || len(prog) != 6 {
			t.Fatalf("progress: %d lines, %v", len(prog), err)
		}
		for _, p := range prog {
			if p.State != resilience.StateNotStarted {
				t.Fatalf("%s: %s", p.OrgName, p.State)
			}
		}
		// Three providers and one operator submit; a fourth provider starts.
		submit := func(o resilience.Org, et resilience.EntityType, level int) {
			t.Helper()
			a, err := f.s.CreateAssessment(f.ctx, o, resilience.NewAssessment{Title: "campaign", ModelKey: builtinKey, CampaignID: c.ID,
				Profile: resilience.Profile{EntityType: et, Volume: 1}})
			if err != nil {
				t.Fatal(err)
			}
			f.answerAll(o.ID, a, level)
			if _, err := f.s.Submit(f.ctx, o.ID, a.ID); err != nil {
				t.Fatal(err)
			}
		}
		submit(provs[0], resilience.EntityDFSProvider, 1)
		submit(provs[1], resilience.EntityDFSProvider, 2)
		submit(provs[2], resilience.EntityDFSProvider, 4)
		submit(mnos[0], resilience.EntityMNO, 3)
		if _, err := f.s.CreateAssessment(f.ctx, provs[3], resilience.NewAssessment{Title: "campaign", ModelKey: builtinKey, CampaignID: c.ID,
			Profile: provider()}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.CreateAssessment(f.ctx, provs[0], resilience.NewAssessment{Title: "again", ModelKey: builtinKey, CampaignID: c.ID,
			Profile: provider()}); !errors.Is(err, resilience.ErrConflict) {
			t.Fatalf("second assessment for one campaign: %v", err)
		}

		f.now = c.Deadline.Add(time.Hour)
		_, prog, _ = f.s.Progress(f.ctx, reg, c.ID)
		states := map[string]resilience.EntityState{}
		for _, p := range prog {
			states[p.OrgName] = p.State
		}
		want := map[string]resilience.EntityState{"Provider 0": resilience.StateSubmitted, "Provider 3": resilience.StateOverdue,
			"Operator 2": resilience.StateOverdue, "Operator 1": resilience.StateSubmitted}
		for n, st := range want {
			if states[n] != st {
				t.Errorf("%s: %s, want %s", n, states[n], st)
			}
		}

		b, err := f.s.Benchmark(f.ctx, reg, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if b.Submitted != 4 || b.Overall.TooFew || b.Overall.Median != 2.5 || b.Overall.Min != 1 || b.Overall.Max != 4 {
			t.Fatalf("overall %+v", b.Overall)
		}
		rows := map[resilience.EntityType]resilience.HeatRow{}
		for _, r := range b.Heat {
			rows[r.EntityType] = r
		}
		if r := rows[resilience.EntityDFSProvider]; r.N != 3 || r.Cells[0].TooFew || r.Cells[0].Median != 2 {
			t.Fatalf("provider row %+v", r)
		}
		if r := rows[resilience.EntityMNO]; r.N != 1 || !r.Cells[0].TooFew || r.Cells[0].Median != 0 {
			t.Fatalf("an operator's own scores are visible in the heat map: %+v", r)
		}
		if len(b.Weakest) == 0 || b.Weakest[0].N < resilience.MinGroup {
			t.Fatalf("weakest questions %+v", b.Weakest)
		}
		if _, err := f.s.Benchmark(f.ctx, otherReg, c.ID); !errors.Is(err, resilience.ErrNotFound) {
			t.Fatalf("another regulator's benchmark: %v", err)
		}
		if _, _, sc, err := f.s.EntityScorecard(f.ctx, reg, c.ID, provs[2].ID); err != nil || sc.Overall != 4 {
			t.Fatalf("entity scorecard: %+v, %v", sc, err)
		}
		if _, _, _, err := f.s.EntityScorecard(f.ctx, reg, c.ID, provs[3].ID); !errors.Is(err, resilience.ErrNotFound) {
			t.Fatalf("scorecard of an unsubmitted assessment: %v", err)
		}
	})
}

func TestStatsWithholdsSmallGroups(t *testing.T) {
	for n := range resilience.MinGroup {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = float64(i + 1)
		}
		st := resilience.Stats(xs)
		if !st.TooFew || st.Median != 0 || st.Min != 0 || st.Max != 0 || st.Q1 != 0 || st.Q3 != 0 {
			t.Errorf("%d values: %+v", n, st)
		}
	}
	st := resilience.Stats([]float64{4, 1, 3, 2})
	if st.TooFew || st.Median != 2.5 || st.Q1 != 1.75 || st.Q3 != 3.25 || st.Min != 1 || st.Max != 4 {
		t.Errorf("stats %+v", st)
	}
}

// TestRegulatorTargets: a regulator's targets replace the risk-based ones
// for its country's entities of one type; signed-off assessments keep the
// targets they were signed off with.
func TestRegulatorTargets(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		reg := f.org("MACRA", identity.OrgTelecomRegulator, "MW")
		p := f.org("Mpamba", identity.OrgDFSProvider, "MW")
		ke := f.org("Kenya Wallet", identity.OrgDFSProvider, "KE")
		four5 := 4.5
		for _, bad := range []map[string]*float64{{"GOV": ptr(5.5)}, {"GOV": ptr(3.3)}, {"XX": ptr(3)}} {
			if err := f.s.SetTargets(f.ctx, reg, builtinKey, resilience.EntityDFSProvider, bad); !errors.Is(err, resilience.ErrInvalid) {
				t.Errorf("%v accepted: %v", bad, err)
			}
		}
		if err := f.s.SetTargets(f.ctx, p, builtinKey, resilience.EntityDFSProvider, map[string]*float64{"GOV": &four5}); !errors.Is(err, resilience.ErrInvalid) {
			t.Fatalf("a provider set targets: %v", err)
		}
		if err := f.s.SetTargets(f.ctx, reg, builtinKey, resilience.EntityDFSProvider, map[string]*float64{"GOV": &four5}); err != nil {
			t.Fatal(err)
		}
		target := func(o resilience.Org, a resilience.Assessment, dom string) (float64, bool) {
			t.Helper()
			_, _, sc, err := f.s.Scorecard(f.ctx, o.ID, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, ds := range sc.Domains {
				if ds.ID == dom {
					return ds.Target, ds.Overridden
				}
			}
			t.Fatalf("no domain %s", dom)
			return 0, false
		}
		a, _ := f.s.CreateAssessment(f.ctx, p, resilience.NewAssessment{Title: "x", ModelKey: builtinKey, Profile: provider()})
		k, _ := f.s.CreateAssessment(f.ctx, ke, resilience.NewAssessment{Title: "x", ModelKey: builtinKey, Profile: provider()})
		if v, ov := target(p, a, "GOV"); v != 4.5 || !ov {
			t.Fatalf("MW provider's GOV target %v (%v)", v, ov)
		}
		if v, ov := target(p, a, "RM"); v != 3.5 || ov {
			t.Fatalf("MW provider's RM target %v (%v)", v, ov)
		}
		if v, ov := target(ke, k, "GOV"); v != 3.5 || ov {
			t.Fatalf("Kenyan provider's GOV target %v (%v)", v, ov)
		}
		f.answerAll(p.ID, a, 4)
		if _, err := f.s.Submit(f.ctx, p.ID, a.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.s.SetTargets(f.ctx, reg, builtinKey, resilience.EntityDFSProvider, map[string]*float64{"GOV": nil}); err != nil {
			t.Fatal(err)
		}
		if v, ov := target(p, a, "GOV"); v != 4.5 || !ov {
			t.Fatalf("signed-off assessment's GOV target changed to %v (%v)", v, ov)
		}
		b, _ := f.s.CreateAssessment(f.ctx, p, resilience.NewAssessment{Title: "y", ModelKey: builtinKey, Profile: provider()})
		if v, ov := target(p, b, "GOV"); v != 3.5 || ov {
			t.Fatalf("cleared target still applies: %v (%v)", v, ov)
		}
	})
}

func ptr(v float64) *float64 { return &v }
