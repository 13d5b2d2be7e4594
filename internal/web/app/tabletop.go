package app

import (
	"context"

	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/resilience"
	"github.com/dfslab/dfslab/internal/tabletop"
	"github.com/dfslab/dfslab/internal/web"
)

// tabletopModule builds the tabletop exercises: scenarios whose expected
// actions link to the catalogue and to the questions of the built-in
// resilience model, both checked when a scenario is saved.
func tabletopModule(ctx context.Context, d *db.DB, cat *catalog.Catalog, cfg Config, rd *web.Renderer) (*tabletop.Module, error) {
	known := func(id string) bool { _, err := cat.Get(id); return err == nil }
	models, err := resilience.BuiltinModels(known)
	if err != nil {
		return nil, err
	}
	model := models[0]
	refs := tabletop.Refs{Recommendation: known, Question: func(id string) bool { return model.Question(id) != nil }}
	links := tabletop.Links{
		Recommendation: func(id string) (string, bool) {
			r, err := cat.Get(id)
			if err != nil {
				return "", false
			}
			return r.Title, true
		},
		Question: func(id string) (string, bool) {
			q := model.Question(id)
			if q == nil {
				return "", false
			}
			return q.Text, true
		},
		QuestionPage: "/resilience/models/" + model.Key(),
	}
	s, err := tabletop.NewStore(d, refs, cfg.Now)
	if err != nil {
		return nil, err
	}
	return tabletop.New(ctx, s, rd, links, cfg.Logger)
}
