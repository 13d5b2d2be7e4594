package app

import (
	"html/template"
	"net/http"

	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/catalog/catalogweb"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/frameworks"
	"github.com/dfslab/dfslab/internal/web"
)

// frameworksModule builds the imported frameworks module over the
// embedded catalogue (whose IDs mappings must name).
func frameworksModule(d *db.DB, cat *catalog.Catalog, cfg Config, rd *web.Renderer) (*frameworks.Module, error) {
	known := func(id string) bool { _, err := cat.Get(id); return err == nil }
	return frameworks.New(frameworks.NewStore(d, known, cfg.Now), cat, rd, cfg.Logger)
}

// extrasList renders the sections of several modules on a recommendation
// page, one after the other (catalogweb takes a single Extras).
type extrasList []catalogweb.Extras

func (l extrasList) RecommendationExtras(r *http.Request, rec *catalog.Recommendation) (template.HTML, error) {
	var out template.HTML
	for _, e := range l {
		h, err := e.RecommendationExtras(r, rec)
		if err != nil {
			return "", err
		}
		out += h
	}
	return out, nil
}
