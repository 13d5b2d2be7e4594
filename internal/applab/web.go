package applab

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/dfslab/dfslab/internal/appscan"
	"github.com/dfslab/dfslab/internal/blob"
	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/pdf"
	"github.com/dfslab/dfslab/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed export/*.html
var exportFS embed.FS

//go:embed static
var staticFS embed.FS

// StaticFS is the module's static files, served under /static/applab/.
func StaticFS() fs.FS {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder exists
	}
	return sub
}

// DefaultMaxUpload is the default size limit of an uploaded app.
const DefaultMaxUpload = 500 << 20

// maxEvidence bounds a tester's evidence file.
const maxEvidence = 10 << 20

// Config configures the module.
type Config struct {
	Store   *Store
	Queue   Queue
	Catalog *catalog.Catalog
	// MaxUpload is the size limit of an uploaded app (0: DefaultMaxUpload).
	MaxUpload int64
	// TempDir receives uploads while they are checked ("" : the system's).
	TempDir string
	PDF     pdf.Renderer // nil: no PDF export
	Logger  *slog.Logger
	// Version is the dfslab version written in JSON reports.
	Version string
}

// Module is the app lab's web capability.
type Module struct {
	cfg    Config
	store  *Store
	pages  *web.Pages
	export *template.Template
	rules  []appscan.RuleMeta
	log    *slog.Logger
	notify Notifier
}

// Notifier tells an organisation's members about something (the
// platform's in-app notifications).
type Notifier interface {
	NotifyOrg(ctx context.Context, orgID int64, kind, text, link string) error
}

// SetNotifier makes sharing an audit notify the regulator's members;
// call it before serving.
func (m *Module) SetNotifier(n Notifier) { m.notify = n }

// New returns the module.
func New(rd *web.Renderer, cfg Config) (*Module, error) {
	if cfg.Store == nil || cfg.Queue == nil || cfg.Catalog == nil {
		return nil, errors.New("applab: store, queue and catalogue are required")
	}
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = DefaultMaxUpload
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	ps, err := rd.Pages(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	ex, err := template.New("audit.html").Funcs(template.FuncMap{"date": fmtDate}).ParseFS(exportFS, "export/audit.html")
	if err != nil {
		return nil, err
	}
	return &Module{cfg: cfg, store: cfg.Store, pages: ps, export: ex, rules: appscan.Rules(), log: cfg.Logger}, nil
}

func fmtDate(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// maxUploadBody is the request limit of an upload: the file plus room
// for the multipart framing and the other fields.
func (m *Module) maxUploadBody() int64 { return m.cfg.MaxUpload + 1<<20 }

// Routes lists the module's routes. Viewers read, analysts upload,
// triage and record tests, org admins share with the regulator. Platform
// administrators get no override: an app's weaknesses are its owner's
// and its regulator's business.
func (m *Module) Routes() []web.Route {
	viewer := web.OrgRole(web.RoleViewer)
	analyst := web.OrgRole(web.RoleAnalyst)
	admin := web.OrgRole(web.RoleOrgAdmin)
	h := func(f http.HandlerFunc) http.Handler { return f }
	return []web.Route{
		{Pattern: "GET /orgs/{org}/apps", Policy: viewer, Handler: h(m.apps)},
		{Pattern: "POST /orgs/{org}/apps/upload", Policy: analyst, Handler: h(m.upload), MaxBody: m.maxUploadBody()},
		{Pattern: "GET /orgs/{org}/apps/{id}", Policy: viewer, Handler: h(m.app)},
		{Pattern: "GET /orgs/{org}/apps/scans/{id}", Policy: viewer, Handler: h(m.scan)},
		{Pattern: "GET /orgs/{org}/apps/scans/{id}/status.json", Policy: viewer, Handler: h(m.scanStatus)},
		{Pattern: "GET /orgs/{org}/apps/versions/{id}", Policy: viewer, Handler: h(m.version)},
		{Pattern: "GET /orgs/{org}/apps/versions/{id}/diff", Policy: viewer, Handler: h(m.diff)},
		{Pattern: "GET /orgs/{org}/apps/versions/{id}/report.html", Policy: viewer, Handler: m.reportDownload("html")},
		{Pattern: "GET /orgs/{org}/apps/versions/{id}/report.json", Policy: viewer, Handler: m.reportDownload("json")},
		{Pattern: "GET /orgs/{org}/apps/versions/{id}/report.sarif", Policy: viewer, Handler: m.reportDownload("sarif")},
		{Pattern: "GET /orgs/{org}/apps/versions/{id}/report.pdf", Policy: viewer, Handler: m.reportDownload("pdf"), Long: true},
		{Pattern: "POST /orgs/{org}/apps/versions/{id}/triage", Policy: analyst, Handler: h(m.triage)},
		{Pattern: "GET /orgs/{org}/apps/versions/{id}/audit", Policy: viewer, Handler: h(m.audit)},
		{Pattern: "POST /orgs/{org}/apps/versions/{id}/audit", Policy: analyst, Handler: h(m.record), MaxBody: maxEvidence + 64<<10},
		{Pattern: "GET /orgs/{org}/apps/versions/{id}/audit/evidence", Policy: viewer, Handler: h(m.evidence)},
		{Pattern: "GET /orgs/{org}/apps/versions/{id}/audit.html", Policy: viewer, Handler: h(m.auditHTML)},
		{Pattern: "GET /orgs/{org}/apps/versions/{id}/audit.pdf", Policy: viewer, Handler: h(m.auditPDF), Long: true},
		{Pattern: "POST /orgs/{org}/apps/versions/{id}/share", Policy: admin, Handler: h(m.share)},
		{Pattern: "GET /orgs/{org}/market", Policy: viewer, Handler: h(m.market)},

		{Pattern: "POST /api/v1/scans", Policy: web.Token(web.ScopeWrite), Handler: h(m.apiUpload), MaxBody: m.maxUploadBody()},
		{Pattern: "GET /api/v1/scans/{id}", Policy: web.Token(web.ScopeRead), Handler: h(m.apiScan)},
	}
}

// Nav adds the lab to every organisation's navigation.
func (m *Module) Nav() []web.NavItem {
	return []web.NavItem{{Label: "App lab", Path: "/orgs/{org}/apps", Policy: web.OrgRole(web.RoleViewer), Order: 40}}
}

func (m *Module) org(w http.ResponseWriter, r *http.Request) (Org, bool) {
	id, ok := web.PathOrg(r)
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return Org{}, false
	}
	o, err := m.store.Org(r.Context(), id)
	if err != nil {
		m.fail(w, r, "load org", err)
		return Org{}, false
	}
	return o, true
}

func userID(r *http.Request) int64 {
	u, _ := web.CurrentUser(r.Context())
	return u.ID
}

func (m *Module) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, blob.ErrNotFound):
		web.Error(w, r, http.StatusNotFound)
	case errors.Is(err, ErrInvalid):
		web.Error(w, r, http.StatusBadRequest)
	default:
		web.ServerError(w, r, what, err)
	}
}

func pathID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

func orgPath(o Org, rest string) string { return "/orgs/" + strconv.FormatInt(o.ID, 10) + rest }

func (m *Module) render(w http.ResponseWriter, r *http.Request, status int, page, title string, data any, flash string) {
	w.Header().Set("Cache-Control", "no-store")
	m.pages.Render(w, r, status, page, web.View{Title: title, Data: data, Flash: flash})
}

func (m *Module) today() string { return m.store.now().UTC().Format(time.DateOnly) }
