package catalog_test

import (
	"testing"

	"github.com/dfslab/dfslab/internal/resilience"
	"github.com/dfslab/dfslab/internal/tabletop"
)

// The content shipped with the platform links live recommendations only:
// a withdrawn ID in a built-in resilience question or tabletop action
// would send users to an item that no longer counts. (Content people
// saved before a withdrawal keeps resolving: the platform's own checks
// accept withdrawn IDs, which Get still finds.)
func TestBuiltinContentLinksLiveItems(t *testing.T) {
	c := load(t)
	live := func(id string) bool {
		r, err := c.Get(id)
		return err == nil && !r.IsWithdrawn()
	}
	models, err := resilience.BuiltinModels(live)
	if err != nil {
		t.Fatalf("built-in resilience models: %v", err)
	}
	question := func(id string) bool {
		for _, m := range models {
			if m.Question(id) != nil {
				return true
			}
		}
		return false
	}
	if _, err := tabletop.BuiltinScenarios(tabletop.Refs{Recommendation: live, Question: question}); err != nil {
		t.Fatalf("built-in tabletop scenarios: %v", err)
	}
	// The check can fail: a withdrawn ID is refused.
	if live("PAY-001") || !live("TEL-005") {
		t.Fatal("live() does not tell withdrawn from live items")
	}
}
