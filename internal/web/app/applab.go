package app

import (
	"cmp"
	"context"
	"runtime"

	"github.com/dfslab/dfslab/internal/applab"
	"github.com/dfslab/dfslab/internal/appscan"
	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/pdf"
	"github.com/dfslab/dfslab/internal/web"
)

// applabModule builds the app security testing lab. Scans are queued on
// cfg.Jobs when the platform's job queue is given; otherwise the lab's own
// table is the queue, run by the returned runner in this process when
// cfg.ScanWorkers > 0 (started with ctx, stopped when it ends).
func applabModule(ctx context.Context, d *db.DB, cfg Config, rd *web.Renderer) (*applab.Module, *applab.Runner, error) {
	cat, err := catalog.Default() // parsed once per process; read-only
	if err != nil {
		return nil, nil, err
	}
	store := applab.NewStore(d, cfg.Now)
	// One code-pass goroutine per core, not per P: dfslab serve runs more
	// Ps than cores (TuneRuntime).
	lab := applab.NewLab(store, appscan.NewScanner(appscan.Options{Logger: cfg.Logger, Workers: cmp.Or(cfg.CPUs, runtime.GOMAXPROCS(0))}), cfg.Logger)
	runner := applab.NewRunner(lab)
	var render pdf.Renderer
	if p := pdf.ChromiumPath(); p != "" {
		render = pdf.Chromium(p)
	}
	var queue applab.Queue = runner
	if cfg.Jobs != nil {
		queue = applab.JobQueue{Q: cfg.Jobs}
	}
	m, err := applab.New(rd, applab.Config{Store: store, Queue: queue, Catalog: cat, MaxUpload: cfg.MaxUpload, PDF: render, Logger: cfg.Logger})
	if err != nil {
		return nil, nil, err
	}
	if cfg.Jobs == nil && cfg.ScanWorkers > 0 {
		go runner.Run(ctx, cfg.ScanWorkers)
	}
	return m, runner, nil
}
