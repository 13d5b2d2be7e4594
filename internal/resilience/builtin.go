package resilience

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
)

//go:embed models/*.yaml
var modelFS embed.FS

// BuiltinModels parses the models embedded in the binary, by key. known
// checks the recommendation IDs (catalog.Catalog's lookup).
func BuiltinModels(known Known) ([]*Model, error) {
	names, err := fs.Glob(modelFS, "models/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []*Model
	for _, n := range names {
		data, err := modelFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		m, err := ParseModel(data, known)
		if err != nil {
			return nil, fmt.Errorf("built-in model %s: %w", n, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// BuiltinSource returns the YAML text of the built-in model with id, for
// export; ok is false for an unknown id.
func BuiltinSource(id string) (data []byte, ok bool) {
	data, err := modelFS.ReadFile("models/" + id + ".yaml")
	return data, err == nil
}
