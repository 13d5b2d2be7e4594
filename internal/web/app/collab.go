package app

import (
	"context"
	"time"

	"github.com/dfslab/dfslab/internal/adoption"
	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/catalog/catalogweb"
	"github.com/dfslab/dfslab/internal/collab"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/web"
)

// catalogueStatic is the catalogue's stylesheet, served under /static/catalog/.
func catalogueStatic() []web.StaticTree {
	return []web.StaticTree{{Prefix: "catalog", FS: catalogweb.StaticFS()}}
}

// catalogueModules builds the catalogue pages and the collaboration module
// around them: the pages show the embedded catalogue with the accepted
// amendments laid over it, and each recommendation page carries its
// discussion, implementation notes and amendment form, then the controls
// of imported frameworks that map to it.
func catalogueModules(d *db.DB, cat *catalog.Catalog, store *collab.Store, cats *collab.Catalogues, cfg Config, rd *web.Renderer) ([]web.Module, error) {
	cw, err := catalogweb.New(cat, rd, cfg.PublicCatalogue, catalogueAudit{d, cfg.Now})
	if err != nil {
		return nil, err
	}
	co, err := collab.New(store, cats, rd, cfg.Logger)
	if err != nil {
		return nil, err
	}
	fw, err := frameworksModule(d, cat, cfg, rd)
	if err != nil {
		return nil, err
	}
	cw.SetSource(cats)
	cw.SetExtras(extrasList{co, fw})
	cw.SetStandings(recStandings{adoption.NewStore(d, cat, cfg.Now)})
	return []web.Module{cw, co, fw}, nil
}

// catalogueAudit records catalogue exports in the audit log (actor from
// the request context).
type catalogueAudit struct {
	db  *db.DB
	now func() time.Time
}

func (a catalogueAudit) Record(ctx context.Context, action, objectType, objectID string, details map[string]any) error {
	_, err := audit.Record(ctx, a.db, audit.Entry{Time: a.now().UTC(), Action: action, ObjectType: objectType,
		ObjectID: objectID, Details: details})
	return err
}
