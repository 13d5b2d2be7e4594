package app

import (
	"context"
	"errors"

	"github.com/dfslab/dfslab/internal/adoption"
	"github.com/dfslab/dfslab/internal/blob"
	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/collab"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/pdf"
	"github.com/dfslab/dfslab/internal/resilience"
	"github.com/dfslab/dfslab/internal/web"
)

// resilienceModule builds the cyber resilience toolkit: models checked
// against the catalogue, campaigns notified through the collaboration
// store, and priorities shown with the adoption tracking status of the
// baseline items that close them.
func resilienceModule(d *db.DB, cat *catalog.Catalog, notify *collab.Store, cfg Config, rd *web.Renderer) (web.Module, error) {
	known := func(id string) bool { _, err := cat.Get(id); return err == nil }
	s, err := resilience.NewStore(d, blob.NewStore(d, cfg.Now), known, cfg.Now)
	if err != nil {
		return nil, err
	}
	var render pdf.Renderer
	if p := pdf.ChromiumPath(); p != "" {
		render = pdf.Chromium(p)
	}
	return resilience.New(s, rd, render, notify, baselineStatus{adoption.NewStore(d, cat, cfg.Now)}, cfg.Logger)
}

// baselineStatus tells the toolkit how far an organisation has implemented
// its country's national baseline, item by item.
type baselineStatus struct{ s *adoption.Store }

func (b baselineStatus) BaselineStatus(ctx context.Context, orgID int64) (map[string]string, error) {
	o, err := b.s.Org(ctx, orgID)
	if err != nil {
		return nil, err
	}
	t, err := b.s.Items(ctx, o)
	if errors.Is(err, adoption.ErrWrongOrg) || errors.Is(err, adoption.ErrNotFound) {
		return nil, nil // a regulator, or no baseline published yet
	}
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(t.Items))
	for _, it := range t.Items {
		label := it.Status.Label()
		if it.Overdue {
			label += ", overdue"
		}
		out[it.RecID] = label
	}
	return out, nil
}
