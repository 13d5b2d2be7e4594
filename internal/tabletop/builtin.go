package tabletop

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

//go:embed scenarios/*.yaml
var scenarioFS embed.FS

// BuiltinScenarios parses the scenarios embedded in the binary, in file
// order; refs checks their links (the catalogue and the built-in
// resilience model).
func BuiltinScenarios(refs Refs) ([]*Scenario, error) {
	names, err := fs.Glob(scenarioFS, "scenarios/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]*Scenario, 0, len(names))
	for _, n := range names {
		data, err := scenarioFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		s, err := ParseScenario(data, refs)
		if err != nil {
			return nil, fmt.Errorf("built-in scenario %s: %w", n, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// BuiltinSource returns the YAML text of the built-in scenario with id
// (the file scenarios/NN-id.yaml); ok is false for an unknown id.
func BuiltinSource(id string) (data []byte, ok bool) {
	names, err := fs.Glob(scenarioFS, "scenarios/*.yaml")
	if err != nil {
		return nil, false
	}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "scenarios/"), ".yaml")
		if _, rest, found := strings.Cut(base, "-"); found && rest == id {
			data, err := scenarioFS.ReadFile(n)
			return data, err == nil
		}
	}
	return nil, false
}
