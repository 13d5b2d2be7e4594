package resilience

import (
	"errors"
	"math"
	"sort"
)

// ErrInvalid marks input the toolkit does not take.
var ErrInvalid = errors.New("resilience: invalid input")

// Answer is an entity's answer to one question.
type Answer struct {
	QuestionID string `json:"question"`
	// Level is the answer on the 0–5 scale; nil while unanswered or not
	// applicable.
	Level    *int   `json:"level"`
	NA       bool   `json:"not_applicable,omitempty"`
	NAReason string `json:"not_applicable_reason,omitempty"`
	Comment  string `json:"comment,omitempty"`
}

// Answered reports whether the question has an answer (a level, or "not
// applicable" with a reason).
func (a Answer) Answered() bool { return a.Level != nil || a.NA }

// DomainScore is the result of one domain.
type DomainScore struct {
	Domain *Domain `json:"-"`
	ID     string  `json:"domain"`
	Name   string  `json:"name"`
	// Scored is false when every applicable question is "not applicable":
	// the domain then has no score and does not count in the overall one.
	Scored     bool    `json:"scored"`
	Score      float64 `json:"score"`
	Level      string  `json:"level"`
	Target     float64 `json:"target"`
	Overridden bool    `json:"target_set_by_regulator,omitempty"`
	Gap        float64 `json:"gap"`
	Applicable int     `json:"applicable"` // questions that apply to the entity type
	Answered   int     `json:"answered"`   // of which answered (level or not applicable)
	NA         int     `json:"not_applicable"`
}

// Priority is a question whose answer is below its domain's target.
type Priority struct {
	Question *Question `json:"-"`
	ID       string    `json:"question"`
	Domain   string    `json:"domain"`
	Answer   int       `json:"answer"`
	Target   float64   `json:"target"`
	Gap      float64   `json:"gap"`
	// Weighted is Gap × question weight × domain weight: the order of
	// the priorities list.
	Weighted        float64  `json:"weighted_gap"`
	Recommendations []string `json:"recommendations"`
}

// Scorecard is the scoring of one assessment.
type Scorecard struct {
	Model      string        `json:"model"`
	Variant    string        `json:"variant"`
	RiskLevel  RiskLevel     `json:"risk_level"`
	Overall    float64       `json:"overall"`
	Level      string        `json:"level"`
	Domains    []DomainScore `json:"domains"`
	Priorities []Priority    `json:"priorities"`
	Applicable int           `json:"applicable"`
	Answered   int           `json:"answered"`
	// Complete: every applicable question is answered.
	Complete bool `json:"complete"`
}

// Score scores answers (by question ID) against model m for a variant, an
// entity type and an inherent-risk level. The formula (docs/resilience.md):
//
//   - a domain's score is the weighted mean of its applicable questions'
//     levels, "not applicable" left out and unanswered counted as 0 (an
//     unfinished assessment never scores higher than a finished one);
//   - the overall score is the weighted mean of the scored domains;
//   - a domain's gap is its target (by risk level) minus its score, at
//     least 0; a question's gap is the target minus its answer, weighted by
//     the question's and the domain's weight for the priorities.
//
// Scores are rounded to two decimals.
func Score(m *Model, variant string, t EntityType, r RiskLevel, answers map[string]Answer) Scorecard {
	return ScoreWith(m, variant, t, r, answers, nil)
}

// Overrides are the targets, by domain ID, that a regulator set for one
// entity type of its country; they replace the model's risk-based target
// of those domains.
type Overrides map[string]float64

// ScoreWith is Score with a regulator's target overrides.
func ScoreWith(m *Model, variant string, t EntityType, r RiskLevel, answers map[string]Answer, ov Overrides) Scorecard {
	sc := Scorecard{Model: m.Key(), Variant: variant, RiskLevel: r}
	var sumW, sumWS float64
	for _, d := range m.DomainsOf(variant) {
		ds := DomainScore{Domain: d, ID: d.ID, Name: d.Name, Target: m.Target(d, r)}
		if v, ok := ov[d.ID]; ok {
			ds.Target, ds.Overridden = v, true
		}
		var w, ws float64
		for _, q := range d.Questions {
			if !q.Applies(t) {
				continue
			}
			ds.Applicable++
			a := answers[q.ID]
			if a.Answered() {
				ds.Answered++
			}
			if a.NA {
				ds.NA++
				continue
			}
			level := 0
			if a.Level != nil {
				level = *a.Level
			}
			w += q.Weight
			ws += q.Weight * float64(level)
			if gap := ds.Target - float64(level); gap > 0 {
				sc.Priorities = append(sc.Priorities, Priority{Question: q, ID: q.ID, Domain: d.ID, Answer: level,
					Target: ds.Target, Gap: round2(gap), Weighted: round2(gap * q.Weight * d.Weight), Recommendations: q.Recommendations})
			}
		}
		if w > 0 {
			ds.Scored = true
			ds.Score = round2(ws / w)
			ds.Level = m.LevelName(ds.Score)
			ds.Gap = round2(math.Max(0, ds.Target-ds.Score))
			sumW += d.Weight
			sumWS += d.Weight * ds.Score
		}
		sc.Applicable += ds.Applicable
		sc.Answered += ds.Answered
		sc.Domains = append(sc.Domains, ds)
	}
	if sumW > 0 {
		sc.Overall = round2(sumWS / sumW)
	}
	sc.Level = m.LevelName(sc.Overall)
	sc.Complete = sc.Answered == sc.Applicable
	// Largest weighted gap first; ties in model order, which the append
	// order already is.
	sort.SliceStable(sc.Priorities, func(i, j int) bool { return sc.Priorities[i].Weighted > sc.Priorities[j].Weighted })
	return sc
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }
