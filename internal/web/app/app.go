// Package app wires the platform together: database, identity and audit
// stores, the web shell and every capability module. It is the one place
// that knows all modules, so `dfslab serve`, the authorisation matrix test
// and the benchmarks build exactly the same server.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"time"

	"github.com/dfslab/dfslab/internal/adoption"
	"github.com/dfslab/dfslab/internal/applab"
	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/collab"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/jobs"
	"github.com/dfslab/dfslab/internal/tabletop"
	"github.com/dfslab/dfslab/internal/web"
	"github.com/dfslab/dfslab/internal/web/accountpages"
	"github.com/dfslab/dfslab/internal/web/auditpages"
	"github.com/dfslab/dfslab/internal/web/orgpages"
)

// Config configures the wired platform.
type Config struct {
	// BaseURL is the public URL, e.g. https://dfslab.example.org or
	// http://127.0.0.1:8080; it names the WebAuthn relying party and
	// prefixes single-use links.
	BaseURL string
	// TLS: the server terminates TLS itself (HSTS, Secure cookies).
	TLS        bool
	TrustProxy bool
	MaxBody    int64
	// MetricsPublic serves /metrics beyond loopback clients.
	MetricsPublic bool
	// MaxActive is how many page requests do their work at once
	// (web.Config.MaxActive; --max-active); 0: MaxActiveDefault.
	MaxActive int
	// CPUs is the number of cores the server may use (Runtime.CPUs); 0:
	// GOMAXPROCS.
	CPUs   int
	Logger *slog.Logger
	// Now is the clock of sessions, links and rate limits (nil: time.Now);
	// tests move it.
	Now func() time.Time
	// PublicCatalogue makes the recommendations catalogue readable
	// without signing in (--public-catalogue).
	PublicCatalogue bool
	// SecretKey encrypts TOTP secrets (--secret-key-file,
	// DFSLAB_SECRET_KEY; identity.ParseSecretKey). Nil keeps a
	// per-instance key in the database, which a database dump then holds.
	SecretKey []byte
	// MaxUpload is the size limit of an app uploaded to the app lab
	// (--max-upload; 0: 500 MB).
	MaxUpload int64
	// Jobs is the platform's job queue; when set, app scans are queued
	// on it (their handler is registered with applab.RegisterJobs).
	Jobs *jobs.Queue
	// ScanWorkers is, without Jobs, how many app scans run at once in
	// this process; 0 runs none (tests drive App.Scans themselves).
	ScanWorkers int
}

// App is the wired platform.
type App struct {
	DB       *db.DB
	Identity *identity.Store
	Server   *web.Server
	Sessions *web.Sessions
	Limiter  *web.Limiter
	// Collab is the collaboration store; other parts of the platform
	// notify users through Collab.Notify and Collab.NotifyCountry.
	Collab *collab.Store
	// Scans runs the app lab's queued scans (see Config.ScanWorkers).
	Scans *applab.Runner
	// Tabletop carries the live events of tabletop exercises to the
	// streams open on this server.
	Tabletop *tabletop.Hub
}

// New wires the platform over d, whose schema must be migrated.
func New(ctx context.Context, d *db.DB, cfg Config) (*App, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("app: base URL %q must be http(s)://host[:port]", cfg.BaseURL)
	}
	// Secure cookies whenever the browser talks HTTPS to us, directly or
	// through a proxy; plain HTTP is only allowed on loopback (checked by
	// the serve command).
	secure := cfg.TLS || base.Scheme == "https"

	cat, err := catalog.Default() // parsed once per process; read-only
	if err != nil {
		return nil, err
	}
	// The collaboration store holds the in-app notifications, which the
	// identity store sends about invitations and account recovery.
	collabStore := collab.NewStore(d, cat, cfg.Now)
	ids := identity.NewStore(d, identity.Options{Now: cfg.Now, SecretKey: cfg.SecretKey, Notifier: collabStore, Logger: cfg.Logger})
	sessions := web.NewSessions(sessionStore{ids}, secure, cfg.Now)
	limiter := web.NewLimiter(web.LimiterConfig{}, cfg.Now)
	rd, err := web.NewRenderer(append(staticTrees(), catalogueStatic()...)...)
	if err != nil {
		return nil, err
	}
	orgs, err := orgpages.New(ids, rd, cfg.BaseURL, cfg.Logger)
	if err != nil {
		return nil, err
	}
	auditp, err := auditpages.New(auditLog{d}, ids, rd)
	if err != nil {
		return nil, err
	}
	accounts, err := accountpages.New(ids, rd, cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	modules := []web.Module{orgs, accounts, auditp}
	more, err := extraModules(ctx, d, ids, cfg, rd, sessions, limiter)
	if err != nil {
		return nil, err
	}
	modules = append(modules, more...)
	cats := collab.NewCatalogues(collabStore)
	catalogue, err := catalogueModules(d, cat, collabStore, cats, cfg, rd)
	if err != nil {
		return nil, err
	}
	modules = append(modules, catalogue...)
	for _, m := range modules {
		// Publishing a national baseline notifies the country's members;
		// a new version takes its texts from the catalogue with the
		// accepted amendments, which is how amendments reach baselines.
		if am, ok := m.(*adoption.Module); ok {
			am.SetNotifier(collabStore)
			am.SetCatalogSource(cats)
		}
	}
	lab, scans, err := applabModule(ctx, d, cfg, rd)
	if err != nil {
		return nil, err
	}
	lab.SetNotifier(orgNotifier{ids, collabStore})
	modules = append(modules, lab)
	res, err := resilienceModule(d, cat, collabStore, cfg, rd)
	if err != nil {
		return nil, err
	}
	modules = append(modules, res)
	tt, err := tabletopModule(ctx, d, cat, collabStore, cfg, rd)
	if err != nil {
		return nil, err
	}
	modules = append(modules, tt)

	start, err := homePage(d, cat, collabStore, cfg, rd)
	if err != nil {
		return nil, err
	}

	srv, err := web.New(web.Config{BaseURL: base, TLS: secure, TrustProxy: cfg.TrustProxy, MaxBody: cfg.MaxBody, Logger: cfg.Logger,
		MetricsPublic: cfg.MetricsPublic, MaxActive: cmp.Or(cfg.MaxActive, MaxActiveDefault(d.Dialect(), cmp.Or(cfg.CPUs, runtime.GOMAXPROCS(0))))},
		web.Deps{Sessions: sessions, Audit: auditor{d, cfg.Now}, Limiter: limiter, Ready: d.Ping, Renderer: rd, WithActor: withActor, Home: start},
		modules...)
	if err != nil {
		return nil, err
	}
	return &App{DB: d, Identity: ids, Server: srv, Sessions: sessions, Limiter: limiter, Collab: collabStore, Scans: scans, Tabletop: tt.Hub()}, nil
}

// FirstRunLink returns a one-time enrolment link for the first platform
// administrator when the instance has no users yet, and "" otherwise.
func (a *App) FirstRunLink(ctx context.Context, baseURL string) (string, time.Time, error) {
	n, err := a.Identity.CountUsers(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	if n > 0 {
		return "", time.Time{}, nil
	}
	tok, l, err := a.Identity.EnrolLink(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	if tok == "" {
		return "", time.Time{}, errors.New("app: enrolment link without token")
	}
	return identity.LinkURL(baseURL, identity.LinkEnrolAdmin, tok), l.Expires, nil
}

// MaxActiveDefault is the number of page requests worked on at once when
// the operator sets none: one per core on SQLite, whose queries are CPU in
// this process, and four per core on PostgreSQL, where a request spends
// part of its time waiting for the database server and more of them must
// be under way to keep the cores busy (measured with tools/loadtest;
// docs/performance.md).
func MaxActiveDefault(d db.Dialect, cpus int) int {
	if d == db.Postgres {
		return 4 * cpus
	}
	return cpus
}
