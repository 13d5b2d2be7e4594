package appscan

// score derives 0–100 from the findings. Each rule costs once however often
// it matched, so one noisy rule does not sink an otherwise sound app, and
// low-confidence rules cost half.
func score(fs []Finding) int {
	weight := [...]int{Info: 0, Low: 1, Medium: 4, High: 10, Critical: 25}
	seen := map[string]bool{}
	penalty := 0
	for _, f := range fs {
		if seen[f.RuleID] || f.Severity < Info || f.Severity > Critical {
			continue
		}
		seen[f.RuleID] = true
		w := weight[f.Severity]
		if f.Confidence == ConfidenceLow {
			w /= 2
		}
		penalty += w
	}
	return max(0, 100-penalty)
}
