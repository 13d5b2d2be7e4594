// Package resilience is the cyber resilience toolkit: assessment models as
// data (embedded YAML, validated with line numbers), inherent-risk
// profiles, self-assessments that several people answer in parallel and an
// org admin signs off, scores and gaps per domain with the priorities that
// link each gap to the catalogue recommendation that closes it, and the
// regulators' campaigns and sector benchmark.
//
// The scoring formula and the model format are documented in
// docs/resilience.md and docs/resilience-models.md; the built-in model is
// models/dfs-cyber-resilience.yaml.
package resilience
