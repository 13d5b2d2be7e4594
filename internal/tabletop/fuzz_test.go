package tabletop_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/dfslab/dfslab/internal/tabletop"
)

// FuzzParseScenario feeds arbitrary documents to the parser of imported
// and edited scenarios: it must not panic, and it either accepts a
// scenario that holds together or refuses with a ValidationError.
func FuzzParseScenario(f *testing.F) {
	for _, pat := range []string{"scenarios/*.yaml", "testdata/broken/*.yaml"} {
		files, _ := filepath.Glob(pat)
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte("a: &x [*x]"))
	f.Add([]byte("format: dfslab-tabletop-scenario/1\ninjects: {}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := tabletop.ParseScenario(data, tabletop.Refs{})
		if err != nil {
			var ve *tabletop.ValidationError
			if !errors.As(err, &ve) && !errors.Is(err, tabletop.ErrTooLarge) {
				t.Fatalf("error of an unexpected kind: %v", err)
			}
			if ve != nil && len(ve.Problems) == 0 {
				t.Fatal("a validation error without problems")
			}
			return
		}
		if s.Key() == "@" || len(s.Injects) == 0 {
			t.Fatalf("accepted an incomplete scenario: %+v", s)
		}
		for i := 1; i < len(s.Injects); i++ {
			if s.Injects[i].Offset < s.Injects[i-1].Offset {
				t.Fatal("accepted injects out of order")
			}
		}
	})
}
