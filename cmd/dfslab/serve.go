package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/applab"
	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/jobs"
	"github.com/dfslab/dfslab/internal/web/app"
)

// serveConfig is the configuration of `dfslab serve`. Every flag has an
// environment twin (DFSLAB_ + the flag name in upper case, dashes as
// underscores); a flag on the command line wins over the environment.
type serveConfig struct {
	addr, dsn, baseURL, tlsCert, tlsKey, logFormat, logLevel string
	secretKeyFile                                            string
	secretKey                                                []byte // read from secretKeyFile or DFSLAB_SECRET_KEY
	trustProxy, metricsPublic, publicCatalogue               bool
	maxBody, maxUpload                                       int64
	shutdownTimeout                                          time.Duration
	jobs, maxActive                                          int
}

// serveFlags defines serve's flags with their defaults; their environment
// twins are applied after parsing (applyEnv), by the flags' own parsers.
func serveFlags(fs *flag.FlagSet, c *serveConfig) {
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "listen address `host:port` (DFSLAB_ADDR)")
	fs.StringVar(&c.dsn, "db", "", "database: a SQLite file (default "+db.DefaultPath+") or postgres://… (DFSLAB_DB)")
	fs.StringVar(&c.baseURL, "base-url", "", "public `URL` of the platform; default http://localhost:PORT on loopback (DFSLAB_BASE_URL)")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "TLS certificate `file` (PEM); serve HTTPS (DFSLAB_TLS_CERT)")
	fs.StringVar(&c.tlsKey, "tls-key", "", "TLS private key `file` (PEM) (DFSLAB_TLS_KEY)")
	fs.StringVar(&c.secretKeyFile, "secret-key-file", "", secretKeyUsage)
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json (DFSLAB_LOG_FORMAT)")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn, error (DFSLAB_LOG_LEVEL)")
	fs.BoolVar(&c.trustProxy, "trust-proxy", false, "take the client address from X-Forwarded-For (only behind a reverse proxy) (DFSLAB_TRUST_PROXY)")
	fs.BoolVar(&c.metricsPublic, "metrics-public", false, "serve /metrics to every client, not only loopback (DFSLAB_METRICS_PUBLIC)")
	fs.BoolVar(&c.publicCatalogue, "public-catalogue", false, "make the recommendations catalogue readable without signing in (DFSLAB_PUBLIC_CATALOGUE)")
	fs.Int64Var(&c.maxBody, "max-body", 1048576, "largest request body in `bytes` for routes without their own limit (DFSLAB_MAX_BODY)")
	fs.Int64Var(&c.maxUpload, "max-upload", applab.DefaultMaxUpload, "largest app file in `bytes` uploaded to the app lab (DFSLAB_MAX_UPLOAD)")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 20*time.Second, "how long in-flight requests may finish on shutdown (DFSLAB_SHUTDOWN_TIMEOUT)")
	fs.IntVar(&c.maxActive, "max-active", 0, "page requests (GET, HEAD) worked on at once, the rest wait in arrival order; 0: one per CPU core on SQLite, four per core on PostgreSQL; -1: no limit (DFSLAB_MAX_ACTIVE)")
	fs.IntVar(&c.jobs, "jobs", runtime.NumCPU(), "background jobs run in this process at once; 0 leaves them to dfslab worker processes (DFSLAB_JOBS)")
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c serveConfig
	fs := flag.NewFlagSet("dfslab serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	serveFlags(fs, &c)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: dfslab serve [flags]\n\nRuns the platform: web UI and JSON API. Migrates the database on start.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "dfslab serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if err := applyEnv(fs); err != nil {
		fmt.Fprintln(stderr, "dfslab serve:", err)
		return 2
	}
	log, err := serveLogger(stderr, c.logFormat, c.logLevel)
	if err != nil {
		fmt.Fprintln(stderr, "dfslab serve:", err)
		return 2
	}
	base, err := serveBaseURL(c)
	if err != nil {
		fmt.Fprintln(stderr, "dfslab serve:", err)
		return 2
	}
	key, warning, err := loadSecretKey(c.secretKeyFile)
	if err != nil {
		fmt.Fprintln(stderr, "dfslab serve:", err)
		return 2
	}
	c.secretKey = key
	if warning != "" {
		log.Warn(warning)
	}
	if msg := secretKeyMissing(c.addr, key); msg != "" {
		log.Warn(msg)
	}
	if err := serve(ctx, c, base, log, stdout); err != nil {
		log.Error("serve failed", "err", err)
		return 1
	}
	return 0
}

// serveBaseURL checks the combination of address, TLS and base URL: the
// session cookie is only sent without Secure on plain-HTTP loopback.
func serveBaseURL(c serveConfig) (string, error) {
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return "", errors.New("--tls-cert and --tls-key go together")
	}
	host, port, err := net.SplitHostPort(c.addr)
	if err != nil {
		return "", fmt.Errorf("--addr %q: %w", c.addr, err)
	}
	loopback := host == "localhost"
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		loopback = true
	}
	tls := c.tlsCert != ""
	base := c.baseURL
	if base == "" {
		if !loopback {
			return "", errors.New("--base-url is required when listening beyond loopback")
		}
		scheme := "http"
		if tls {
			scheme = "https"
		}
		// localhost rather than 127.0.0.1: browsers refuse IP addresses as
		// WebAuthn relying party IDs.
		base = scheme + "://localhost:" + port
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return "", fmt.Errorf("--base-url %q: want scheme://host[:port]", base)
	}
	if u.Scheme == "http" {
		h := u.Hostname()
		lb := h == "localhost"
		if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
			lb = true
		}
		if !lb || !loopback {
			return "", errors.New("plain HTTP is only for loopback; use --tls-cert/--tls-key or an https --base-url behind a TLS proxy")
		}
	}
	return strings.TrimRight(base, "/"), nil
}

func serveLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

func serve(ctx context.Context, c serveConfig, base string, log *slog.Logger, stdout io.Writer) error {
	// Listen before anything else so that --addr host:0 works: the port the
	// system chose goes into the derived base URL (the one the enrolment
	// link and the "open" line name). Connections wait in the backlog until
	// the handler is ready.
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	if _, port, _ := net.SplitHostPort(c.addr); port == "0" && c.baseURL == "" {
		_, chosen, _ := net.SplitHostPort(ln.Addr().String())
		base = strings.TrimSuffix(base, ":0") + ":" + chosen
	}
	rt := app.TuneRuntime(os.Getenv)
	keys, err := auditKeys(c.secretKey)
	if err != nil {
		return err
	}
	d, err := db.Open(ctx, c.dsn, keys)
	if err != nil {
		return err
	}
	defer d.Close()
	// Record the switch to this key now, not at the first audited write:
	// from here on the newest entry is keyed, which is what lets
	// verify-audit tell a tail rewritten without the key.
	switched, err := audit.EnsureKeyed(ctx, d)
	if err != nil {
		return err
	}
	if switched {
		h, _ := audit.Head(ctx, d)
		kid := audit.KeyID(d.AuditKeys()[0])
		log.Info("audit chain: switch of key recorded", "seq", h.Seq, "key_id", kid, "keyed", kid != "")
	}
	jq, err := startJobs(ctx, d, jobs.Config{Concurrency: c.jobs, Logger: log})
	if err != nil {
		return fmt.Errorf("background jobs: %w", err)
	}
	// Deferred after d.Close, so it runs first: running jobs finish (or are
	// queued again) before the database closes.
	defer func() {
		// The server has stopped by now; a job that did not finish in the
		// grace period is queued again, which the log should say.
		if err := stopJobs(jq, c.shutdownTimeout, log); err != nil {
			log.Warn("background jobs did not stop cleanly", "err", err)
		}
	}()
	a, err := app.New(ctx, d, app.Config{BaseURL: base, TLS: c.tlsCert != "", TrustProxy: c.trustProxy,
		MaxBody: c.maxBody, MetricsPublic: c.metricsPublic, Logger: log, SecretKey: c.secretKey, PublicCatalogue: c.publicCatalogue,
		MaxUpload: c.maxUpload, Jobs: jq, MaxActive: c.maxActive, CPUs: rt.CPUs})
	if err != nil {
		return err
	}
	link, exp, err := a.FirstRunLink(ctx, base)
	if err != nil {
		return fmt.Errorf("first-run enrolment link: %w", err)
	}
	if link != "" {
		// stdout, not the log: the link is a secret for the operator, not
		// for log collectors.
		fmt.Fprintf(stdout, "\nNo users yet. Enrol the first platform administrator with this one-time link\n(valid until %s):\n\n  %s\n\n",
			exp.UTC().Format("2006-01-02 15:04 UTC"), link)
	}

	hs := &http.Server{
		Addr:              c.addr,
		Handler:           a.Server,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		TLSConfig:         tlsConfig(),
	}
	log.Info("dfslab serving", "addr", ln.Addr().String(), "base_url", base, "db", d.Dialect().String(), "tls", c.tlsCert != "",
		"runtime", rt.Settings, "max_active", a.Server.MaxActive())
	// The address to open, not the one listened on: passkeys are bound to
	// the base URL's host name (127.0.0.1 is redirected to it).
	fmt.Fprintf(stdout, "dfslab is running: open %s/ in your browser (passkeys work at this address).\n", base)

	go serveHousekeeping(ctx, a, log)
	go tempHousekeeping(ctx, 30*time.Minute, log)
	go auditCheckpoints(ctx, d, log, auditCheckpointEvery)
	errc := make(chan error, 1)
	go func() {
		if c.tlsCert != "" {
			errc <- hs.ServeTLS(ln, c.tlsCert, c.tlsKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", c.shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// tlsConfig is the server's TLS configuration: TLS 1.3, and TLS 1.2 with
// forward-secret AEAD suites only. The CBC suites Go still enables by
// default for TLS 1.2 (ECDHE-…-AES128/256-SHA) are left out: they are the
// ones with a history of padding-oracle and timing attacks (Lucky13), and
// every client that speaks TLS 1.2 also speaks GCM or ChaCha20. TLS 1.3
// suites are not configurable and all are AEAD.
func tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}
}

// auditCheckpointEvery is how often serve logs the head of the audit log.
const auditCheckpointEvery = time.Hour

// auditCheckpoints logs the head of the audit log at start and then every
// interval until ctx ends: a log collector that keeps the lines elsewhere
// keeps checkpoints for verify-audit --head without anyone having to take
// them by hand. The head is only logged when it moved.
func auditCheckpoints(ctx context.Context, d *db.DB, log *slog.Logger, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	var last audit.Checkpoint
	for {
		cp, err := audit.Head(ctx, d)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return
			}
			log.Warn("audit checkpoint", "err", err)
		case cp != last:
			log.Info("audit checkpoint", "seq", cp.Seq, "hash", cp.Hash, "checkpoint", cp.String())
			last = cp
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// serveHousekeeping deletes sessions that expired without being presented
// again, every ten minutes until ctx ends.
func serveHousekeeping(ctx context.Context, a *app.App, log *slog.Logger) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := a.Identity.PurgeExpiredSessions(ctx); err != nil {
				log.Warn("purge expired sessions", "err", err)
			} else if n > 0 {
				log.Debug("purged expired sessions", "count", n)
			}
		}
	}
}
