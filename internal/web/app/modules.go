package app

import (
	"context"

	"github.com/dfslab/dfslab/internal/adoption"
	"github.com/dfslab/dfslab/internal/applab"
	"github.com/dfslab/dfslab/internal/authn"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/resilience"
	"github.com/dfslab/dfslab/internal/tabletop"
	"github.com/dfslab/dfslab/internal/web"
)

// staticTrees are the static files of the modules, served under /static/.
func staticTrees() []web.StaticTree {
	return []web.StaticTree{{Prefix: "authn", FS: authn.StaticFS()}, {Prefix: "adoption", FS: adoption.StaticFS()},
		{Prefix: "applab", FS: applab.StaticFS()}, {Prefix: "resilience", FS: resilience.StaticFS()},
		{Prefix: "tabletop", FS: tabletop.StaticFS()}}
}

// extraModules builds the modules beyond organisations and audit.
func extraModules(ctx context.Context, d *db.DB, ids *identity.Store, cfg Config, rd *web.Renderer,
	ses *web.Sessions, lim *web.Limiter) ([]web.Module, error) {
	an, err := authn.New(authn.Config{
		BaseURL: cfg.BaseURL,
		Store:   authn.IdentityStore(ids),
		Shell:   web.NewShell(rd, ses),
		Logger:  cfg.Logger,
		Now:     cfg.Now,
	})
	if err != nil {
		return nil, err
	}
	ad, err := adoptionModule(d, cfg, rd)
	if err != nil {
		return nil, err
	}
	return []web.Module{an, ad}, nil
}

// authnWired tells the tests whether the authentication module is part of
// the server yet.
const authnWired = true
