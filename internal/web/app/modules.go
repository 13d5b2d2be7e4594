package app

import (
	"context"

	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/web"
)

// staticTrees are the static files of the modules, served under /static/.
func staticTrees() []web.StaticTree { return nil }

// extraModules builds the modules beyond organisations and audit.
func extraModules(ctx context.Context, d *db.DB, ids *identity.Store, cfg Config, rd *web.Renderer,
	ses *web.Sessions, lim *web.Limiter) ([]web.Module, error) {
	return nil, nil
}

// authnWired tells the tests whether the authentication module is part of
// the server yet.
const authnWired = false
