package appscan

import "math"

// score derives 0–100 from the findings (docs/scanner.md, "Score").
//
// Each rule costs once however often it matched, so one noisy rule does
// not sink an otherwise sound app, and low-confidence rules cost half. The
// penalty P, the sum of these costs, maps to 100·100/(100+P): a single high
// finding gives 91, a critical 80, and the score halves at P = 100 but never
// reaches 0, so a very bad app (P = 400, score 20) stays apart from a merely
// bad one (P = 150, score 40). Findings in library code count only with
// includeLibraries.
func score(fs []Finding, includeLibraries bool) int {
	weights := [...]float64{Info: 0, Low: 1, Medium: 4, High: 10, Critical: 25}
	seen := map[string]bool{}
	penalty := 0.0
	for _, f := range fs {
		if seen[f.RuleID] || f.Severity < Info || f.Severity > Critical || f.InLibrary && !includeLibraries {
			continue
		}
		seen[f.RuleID] = true
		w := weights[f.Severity]
		if f.Confidence == ConfidenceLow {
			w /= 2
		}
		penalty += w
	}
	return int(math.Round(100 * 100 / (100 + penalty)))
}
