package app

import (
	"github.com/dfslab/dfslab/internal/adoption"
	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/pdf"
	"github.com/dfslab/dfslab/internal/web"
)

// adoptionModule builds the national baselines, tracking and reporting
// module. The PDF export is offered when headless Chromium is installed
// (DFSLAB_CHROMIUM or chromium on PATH).
func adoptionModule(d *db.DB, cfg Config, rd *web.Renderer) (web.Module, error) {
	cat, err := catalog.Default() // parsed once per process; read-only
	if err != nil {
		return nil, err
	}
	var render pdf.Renderer
	if p := pdf.ChromiumPath(); p != "" {
		render = pdf.Chromium(p)
	}
	return adoption.New(adoption.NewStore(d, cat, cfg.Now), rd, render, cfg.Logger)
}
