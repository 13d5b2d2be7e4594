package applab

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/appscan"
	"github.com/dfslab/dfslab/internal/appscan/report"
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
}

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

// ---- helpers ---------------------------------------------------------------

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

// ---- apps and upload --------------------------------------------------------

type appsData struct {
	Org       Org
	Apps      []App
	Scans     []Scan
	Providers []Org
	CanUpload bool
	MaxUpload string
	Problem   string
	Regulator bool
}

func (m *Module) apps(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok {
		return
	}
	m.renderApps(w, r, o, http.StatusOK, "")
}

func (m *Module) renderApps(w http.ResponseWriter, r *http.Request, o Org, status int, problem string) {
	ctx := r.Context()
	d := appsData{Org: o, CanUpload: web.PathRole(r).AtLeast(web.RoleAnalyst), MaxUpload: size(m.cfg.MaxUpload), Problem: problem, Regulator: o.IsRegulator()}
	var err error
	if d.Apps, err = m.store.Apps(ctx, o.ID); err != nil {
		m.fail(w, r, "apps", err)
		return
	}
	if d.Scans, err = m.store.RecentScans(ctx, o.ID, 20); err != nil {
		m.fail(w, r, "scans", err)
		return
	}
	if d.Providers, err = m.store.Providers(ctx, o); err != nil {
		m.fail(w, r, "providers", err)
		return
	}
	m.render(w, r, status, "apps.html", "App lab · "+o.Name, d, "")
}

// receive reads the multipart body: the app in field "file", and the
// owner in field "provider" (a regulator uploading in lab mode). The file
// is checked as it streams in; nothing is stored here.
func (m *Module) receive(r *http.Request) (up blob.Upload, name string, provider int64, err error) {
	// The app is spooled to a temporary file; a refusal after it arrived
	// (a broken multipart end) must not leave that file behind.
	var spooled blob.Upload
	defer func() {
		if err != nil {
			spooled.Close()
		}
	}()
	mr, err := r.MultipartReader()
	if err != nil {
		return blob.Upload{}, "", 0, &UploadError{Err: ErrEmptyFile, Detail: "send the app as multipart/form-data in the field \"file\""}
	}
	found := false
	for {
		part, err := mr.NextPart()
		if err != nil {
			var mb *http.MaxBytesError
			switch {
			case errors.As(err, &mb):
				return blob.Upload{}, "", 0, refuse(ErrTooLarge, "the limit is %s", size(m.cfg.MaxUpload))
			case errors.Is(err, io.EOF):
			default:
				return blob.Upload{}, "", 0, refuse(ErrIncomplete, "%v", err)
			}
			break
		}
		switch part.FormName() {
		case "provider":
			b, _ := io.ReadAll(io.LimitReader(part, 32))
			provider, _ = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		case "file":
			if found {
				break
			}
			found, name = true, part.FileName()
			up, err = ReadApp(part, name, m.cfg.MaxUpload, m.cfg.TempDir)
			spooled = up
			if err != nil {
				part.Close()
				return blob.Upload{}, "", 0, err
			}
		}
		part.Close()
	}
	if !found {
		return blob.Upload{}, "", 0, &UploadError{Err: ErrEmptyFile, Detail: "no file in the field \"file\""}
	}
	return up, name, provider, nil
}

// accept stores a checked upload for org (or, in lab mode, for the
// provider it names) and queues the scan. It removes the upload's
// temporary file whatever happens.
func (m *Module) accept(ctx context.Context, uploader Org, provider int64, user int64, up blob.Upload, name string) (Scan, error) {
	defer up.Close()
	owner := uploader
	if provider != 0 && provider != uploader.ID {
		// One answer for an organisation that does not exist and one the
		// uploader may not test, so that the field cannot be used to
		// probe which organisations exist and where.
		p, err := m.store.Org(ctx, provider)
		switch {
		case errors.Is(err, ErrNotFound):
			return Scan{}, errProvider
		case err != nil:
			return Scan{}, err
		case !MayTest(uploader, p):
			return Scan{}, errProvider
		}
		owner = p
	}
	sc, err := m.store.NewScan(ctx, owner, uploader, user, up, name, m.cfg.Queue.Enqueue)
	if err != nil {
		return Scan{}, err
	}
	if wk, ok := m.cfg.Queue.(waker); ok {
		wk.Wake()
	}
	return sc, nil
}

func uploadMessage(err error) (int, string) {
	var ue *UploadError
	if errors.As(err, &ue) {
		return ue.Status(), "Upload refused: " + ue.Error() + ". Nothing was stored."
	}
	var ie *InvalidError
	if errors.As(err, &ie) {
		return http.StatusBadRequest, "Upload refused: " + ie.Problem + ". Nothing was stored."
	}
	return 0, ""
}

func (m *Module) upload(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok {
		return
	}
	up, name, provider, err := m.receive(r)
	if err == nil {
		var sc Scan
		sc, err = m.accept(r.Context(), o, provider, userID(r), up, name)
		if err == nil {
			http.Redirect(w, r, orgPath(o, fmt.Sprintf("/apps/scans/%d", sc.ID)), http.StatusSeeOther)
			return
		}
	}
	if status, msg := uploadMessage(err); status != 0 {
		m.renderApps(w, r, o, status, msg)
		return
	}
	m.fail(w, r, "upload", err)
}

// ---- scans ------------------------------------------------------------------

type scanData struct {
	Org         Org
	Scan        Scan
	Owner       Org
	Running     bool
	Interrupted bool
}

func (m *Module) loadScan(w http.ResponseWriter, r *http.Request) (Org, Scan, bool) {
	o, ok := m.org(w, r)
	if !ok {
		return Org{}, Scan{}, false
	}
	id, ok := pathID(r)
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return Org{}, Scan{}, false
	}
	sc, err := m.store.ScanFor(r.Context(), o.ID, id)
	if err != nil {
		m.fail(w, r, "scan", err)
		return Org{}, Scan{}, false
	}
	return o, sc, true
}

func (m *Module) scan(w http.ResponseWriter, r *http.Request) {
	o, sc, ok := m.loadScan(w, r)
	if !ok {
		return
	}
	owner, err := m.store.Org(r.Context(), sc.OrgID)
	if err != nil {
		m.fail(w, r, "owner", err)
		return
	}
	st := statusOf(sc, o.ID, m.store.now())
	sc.Message = st.Message
	m.render(w, r, http.StatusOK, "scan.html", "Scan "+strconv.FormatInt(sc.ID, 10),
		scanData{Org: o, Scan: sc, Owner: owner, Running: sc.State == Queued || sc.State == Running, Interrupted: st.Interrupted}, "")
}

// ScanStatus is the JSON of a scan's state, for the page's poll and the API.
type ScanStatus struct {
	ID      int64  `json:"id"`
	URL     string `json:"url"`
	State   State  `json:"state"`
	Percent int    `json:"percent"`
	Message string `json:"message,omitempty"`
	// Interrupted marks a running scan whose process stopped: it will be
	// queued again (state stays "running" until then, for clients that
	// know only the four states).
	Interrupted bool    `json:"interrupted,omitempty"`
	Reason      string  `json:"reason,omitempty"`
	SHA256      string  `json:"sha256"`
	Size        int64   `json:"size"`
	VersionURL  string  `json:"version_url,omitempty"`
	Counts      *Counts `json:"counts,omitempty"`
	// Report is the scan in the JSON schema of `dfslab scan --format json`
	// (API only, once done).
	Report *report.Document `json:"report,omitempty"`
}

// statusOf is sc's status for the viewing organisation, at now.
func statusOf(sc Scan, viewer int64, now time.Time) ScanStatus {
	st := ScanStatus{ID: sc.ID, URL: fmt.Sprintf("/orgs/%d/apps/scans/%d", viewer, sc.ID), State: sc.State, Percent: sc.Percent,
		Message: sc.Message, Reason: sc.Reason, SHA256: sc.SHA256, Size: sc.Size}
	if sc.Interrupted(now) {
		st.Interrupted, st.Message = true, interruptedMessage
	}
	if sc.State == Done {
		st.Percent = 100
		c := sc.Counts
		st.Counts = &c
		if sc.VersionID != 0 {
			st.VersionURL = fmt.Sprintf("/orgs/%d/apps/versions/%d", viewer, sc.VersionID)
		}
	}
	return st
}

func (m *Module) scanStatus(w http.ResponseWriter, r *http.Request) {
	o, sc, ok := m.loadScan(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, statusOf(sc, o.ID, m.store.now()))
}

// ---- app and versions ---------------------------------------------------------

type appData struct {
	Org      Org
	App      App
	Versions []Version // newest first
	Trend    template.HTML
}

func (m *Module) app(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok {
		return
	}
	id, ok := pathID(r)
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	a, err := m.store.AppFor(r.Context(), o.ID, id)
	if err != nil {
		m.fail(w, r, "app", err)
		return
	}
	vs, err := m.store.Versions(r.Context(), a.ID)
	if err != nil {
		m.fail(w, r, "versions", err)
		return
	}
	rev := slices.Clone(vs)
	slices.Reverse(rev)
	m.render(w, r, http.StatusOK, "app.html", a.Package, appData{Org: o, App: a, Versions: rev, Trend: TrendSVG(vs)}, "")
}

// findingRow is a finding with its triage and catalogue links.
type findingRow struct {
	appscan.Finding
	Triage    Triage
	Effective Decision
	Expired   bool
	Recs      []string
}

type versionData struct {
	Org        Org
	Version    Version
	Own        bool // the organisation's own app
	Lab        bool // the organisation's lab test of another's app (else shared with it as its regulator)
	Owner      Org
	Result     *appscan.Result
	Report     template.HTML
	Findings   []findingRow // the app's own code
	Library    []findingRow // the code of known libraries, listed apart
	CanTriage  bool
	CanShare   bool
	Regulators []Org
	SharedWith []int64
	Decisions  []Decision
	Problem    string
	Today      string
}

// pageRow is a triage row with the page it sits on, for the row template
// shared by the app's findings and the library's.
type pageRow struct {
	findingRow
	Page *versionData
}

// Rows returns the app's own rows, or with lib those of library code.
func (d *versionData) Rows(lib bool) []pageRow {
	rows := d.Findings
	if lib {
		rows = d.Library
	}
	out := make([]pageRow, len(rows))
	for i, r := range rows {
		out[i] = pageRow{r, d}
	}
	return out
}

func (m *Module) loadVersion(w http.ResponseWriter, r *http.Request) (Org, Version, Access, bool) {
	o, ok := m.org(w, r)
	if !ok {
		return Org{}, Version{}, NoAccess, false
	}
	id, ok := pathID(r)
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return Org{}, Version{}, NoAccess, false
	}
	v, acc, err := m.store.VersionFor(r.Context(), o, id)
	if err != nil {
		m.fail(w, r, "version", err)
		return Org{}, Version{}, NoAccess, false
	}
	if v.ScanID == 0 {
		web.Error(w, r, http.StatusNotFound)
		return Org{}, Version{}, NoAccess, false
	}
	return o, v, acc, true
}

// findingRows returns the triage rows of the app's own findings and, apart,
// those of library code, each most severe first. Library findings can be
// triaged too, but they are not the provider's to fix in place, so they do
// not sit among the app's.
func (m *Module) findingRows(res *appscan.Result, tri map[string]Triage) (own, lib []findingRow) {
	today := m.today()
	for _, f := range res.Findings {
		t := tri[f.Fingerprint]
		row := findingRow{Finding: f, Triage: t, Effective: t.Effective(today), Recs: m.cfg.Catalog.ForScanRule(f.RuleID)}
		row.Expired = t.Decision == AcceptedRisk && row.Effective == Open
		if f.InLibrary {
			lib = append(lib, row)
		} else {
			own = append(own, row)
		}
	}
	bySeverity := func(a, b findingRow) int { return int(b.Severity) - int(a.Severity) }
	slices.SortStableFunc(own, bySeverity)
	slices.SortStableFunc(lib, bySeverity)
	return own, lib
}

func (m *Module) document(res *appscan.Result) *report.Document {
	d := &report.Document{Tool: report.DefaultTool(m.cfg.Version), Results: []*appscan.Result{res}, Rules: m.rules}
	d.Finalize()
	return d
}

func (m *Module) version(w http.ResponseWriter, r *http.Request) {
	o, v, acc, ok := m.loadVersion(w, r)
	if !ok {
		return
	}
	m.renderVersion(w, r, o, v, acc, http.StatusOK, "", map[string]string{"triaged": "Decision recorded.", "shared": "Audit shared with the regulator."}[r.URL.Query().Get("done")])
}

func (m *Module) renderVersion(w http.ResponseWriter, r *http.Request, o Org, v Version, acc Access, status int, problem, flash string) {
	ctx := r.Context()
	res, err := m.store.Result(ctx, v.ScanID)
	if err != nil {
		m.fail(w, r, "result", err)
		return
	}
	tri, err := m.store.TriageOf(ctx, v.AppID)
	if err != nil {
		m.fail(w, r, "triage", err)
		return
	}
	var body bytes.Buffer
	if err := report.WriteHTMLBody(&body, m.document(res)); err != nil {
		m.fail(w, r, "report", err)
		return
	}
	d := versionData{Org: o, Version: v, Own: acc == Owner, Lab: acc == LabTest, Result: res, Report: template.HTML(body.String()), // the report's own templates escape
		Decisions: []Decision{Open, FalsePositive, AcceptedRisk, Fixed}, Problem: problem, Today: m.today()}
	d.Findings, d.Library = m.findingRows(res, tri)
	if d.Owner, err = m.store.Org(ctx, v.OrgID); err != nil {
		m.fail(w, r, "owner", err)
		return
	}
	if acc == Owner {
		d.CanTriage = web.PathRole(r).AtLeast(web.RoleAnalyst)
		d.CanShare = web.PathRole(r).AtLeast(web.RoleOrgAdmin)
		if d.Regulators, err = m.store.Regulators(ctx, o); err != nil {
			m.fail(w, r, "regulators", err)
			return
		}
		if d.SharedWith, err = m.store.SharedWith(ctx, v.ID); err != nil {
			m.fail(w, r, "shares", err)
			return
		}
	}
	m.render(w, r, status, "version.html", v.Package+" "+v.Label(), &d, flash)
}

type diffData struct {
	Org                Org
	Version, Prev      Version
	HasPrev            bool
	Added, Fixed, Same []appscan.Finding
}

func (m *Module) diff(w http.ResponseWriter, r *http.Request) {
	o, v, acc, ok := m.loadVersion(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	cur, err := m.store.Result(ctx, v.ScanID)
	if err != nil {
		m.fail(w, r, "result", err)
		return
	}
	d := diffData{Org: o, Version: v}
	prev, err := m.store.Previous(ctx, v)
	if err == nil && acc == Regulator {
		// A regulator compares only with versions it may see itself.
		if _, _, aerr := m.store.VersionFor(ctx, o, prev.ID); aerr != nil {
			err = ErrNotFound
		}
	}
	switch {
	case errors.Is(err, ErrNotFound):
		d.Added = cur.Findings
	case err != nil:
		m.fail(w, r, "previous", err)
		return
	default:
		old, err := m.store.Result(ctx, prev.ScanID)
		if err != nil {
			m.fail(w, r, "previous result", err)
			return
		}
		d.Prev, d.HasPrev = prev, true
		d.Added, d.Fixed, d.Same = Diff(old.Findings, cur.Findings)
	}
	m.render(w, r, http.StatusOK, "diff.html", v.Package+" "+v.Label()+" · changes", d, "")
}

func (m *Module) triage(w http.ResponseWriter, r *http.Request) {
	o, v, acc, ok := m.loadVersion(w, r)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	if acc != Owner {
		web.Error(w, r, http.StatusForbidden)
		return
	}
	t := Triage{Fingerprint: r.PostFormValue("fingerprint"), Decision: Decision(r.PostFormValue("decision")),
		Reason: r.PostFormValue("reason"), Expires: r.PostFormValue("expires")}
	err := m.store.SetTriage(r.Context(), v, userID(r), t)
	var ie *InvalidError
	if errors.As(err, &ie) {
		m.renderVersion(w, r, o, v, acc, http.StatusBadRequest, "The decision was not recorded: "+ie.Problem+".", "")
		return
	}
	if err != nil {
		m.fail(w, r, "triage", err)
		return
	}
	http.Redirect(w, r, orgPath(o, fmt.Sprintf("/apps/versions/%d?done=triaged#f-%s", v.ID, url.PathEscape(t.Fingerprint))), http.StatusSeeOther)
}

func (m *Module) share(w http.ResponseWriter, r *http.Request) {
	o, v, acc, ok := m.loadVersion(w, r)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	if acc != Owner {
		web.Error(w, r, http.StatusForbidden)
		return
	}
	reg, _ := strconv.ParseInt(r.PostFormValue("regulator"), 10, 64)
	err := m.store.Share(r.Context(), v, o, reg, userID(r))
	var ie *InvalidError
	if errors.As(err, &ie) {
		m.renderVersion(w, r, o, v, acc, http.StatusBadRequest, "Not shared: "+ie.Problem+".", "")
		return
	}
	if err != nil {
		m.fail(w, r, "share", err)
		return
	}
	http.Redirect(w, r, orgPath(o, fmt.Sprintf("/apps/versions/%d?done=shared", v.ID)), http.StatusSeeOther)
}

// ---- ITU audit --------------------------------------------------------------

type auditData struct {
	Org       Org
	Owner     Org
	Version   Version
	Rows      []TestRow
	Summary   MatrixCounts
	CanRecord bool
	PDF       bool
	Problem   string
	Generated time.Time
	Results   []ITUResult
}

func (m *Module) auditData(r *http.Request, o Org, v Version, acc Access) (auditData, error) {
	ctx := r.Context()
	res, err := m.store.Result(ctx, v.ScanID)
	if err != nil {
		return auditData{}, err
	}
	tri, err := m.store.TriageOf(ctx, v.AppID)
	if err != nil {
		return auditData{}, err
	}
	rec, err := m.store.Recorded(ctx, v.ID)
	if err != nil {
		return auditData{}, err
	}
	owner, err := m.store.Org(ctx, v.OrgID)
	if err != nil {
		return auditData{}, err
	}
	rows := Matrix(m.rules, res, tri, rec, m.today())
	d := auditData{Org: o, Owner: owner, Version: v, Rows: rows, Summary: Summary(rows), PDF: m.cfg.PDF != nil,
		Generated: m.store.nowUTC(), Results: []ITUResult{Pass, Fail, NA}}
	// Testers record in the records their organisation holds: the
	// owner's, or a regulator's lab test; never in a version shared with
	// a regulator.
	d.CanRecord = web.PathRole(r).AtLeast(web.RoleAnalyst) && mayRecord(acc)
	return d, nil
}

func mayRecord(acc Access) bool { return acc == Owner || acc == LabTest }

func (m *Module) audit(w http.ResponseWriter, r *http.Request) {
	o, v, acc, ok := m.loadVersion(w, r)
	if !ok {
		return
	}
	m.renderAudit(w, r, o, v, acc, http.StatusOK, "", map[string]string{"recorded": "Test result recorded."}[r.URL.Query().Get("done")])
}

func (m *Module) renderAudit(w http.ResponseWriter, r *http.Request, o Org, v Version, acc Access, status int, problem, flash string) {
	d, err := m.auditData(r, o, v, acc)
	if err != nil {
		m.fail(w, r, "audit", err)
		return
	}
	d.Problem = problem
	m.render(w, r, status, "audit.html", "ITU audit · "+v.Package+" "+v.Label(), d, flash)
}

func (m *Module) record(w http.ResponseWriter, r *http.Request) {
	o, v, acc, ok := m.loadVersion(w, r)
	if !ok {
		return
	}
	if !mayRecord(acc) {
		web.Error(w, r, http.StatusForbidden)
		return
	}
	problem := func(status int, msg string) { m.renderAudit(w, r, o, v, acc, status, msg, "") }
	rec := Recorded{}
	var evidence *blob.Upload
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		form, err := m.receiveEvidence(r)
		if form.evidence != nil {
			defer form.evidence.Close()
		}
		var mb *http.MaxBytesError
		var bad *web.InputError
		switch {
		case errors.As(err, &mb), errors.Is(err, blob.ErrTooLarge):
			problem(http.StatusRequestEntityTooLarge, fmt.Sprintf("The evidence file is larger than %d MB; nothing was stored.", maxEvidence>>20))
			return
		case errors.Is(err, blob.ErrType):
			problem(http.StatusUnsupportedMediaType, "This kind of file is not accepted as evidence: upload a PDF, PNG or JPEG image, text, CSV, JSON or ZIP; nothing was stored.")
			return
		case errors.Is(err, ErrInvalid):
			problem(http.StatusBadRequest, "Not recorded: the "+err.(*InvalidError).Field+" field is too long.")
			return
		case errors.As(err, &bad):
			problem(http.StatusBadRequest, "Not recorded: "+bad.Error()+".")
			return
		case err != nil:
			problem(http.StatusBadRequest, "The form did not arrive completely; nothing was stored.")
			return
		}
		rec.TestID, rec.Result, rec.Notes = form.fields["test"], ITUResult(form.fields["result"]), form.fields["notes"]
		if form.evidence != nil {
			evidence, rec.EvidenceName = form.evidence, form.name
		}
	} else {
		if !web.ParseForm(w, r) {
			return
		}
		rec.TestID, rec.Result, rec.Notes = r.PostFormValue("test"), ITUResult(r.PostFormValue("result")), r.PostFormValue("notes")
	}
	err := m.store.Record(r.Context(), v, o, userID(r), rec, evidence)
	var ie *InvalidError
	if errors.As(err, &ie) {
		problem(http.StatusBadRequest, "Not recorded: "+ie.Problem+".")
		return
	}
	if err != nil {
		m.fail(w, r, "record", err)
		return
	}
	http.Redirect(w, r, orgPath(o, fmt.Sprintf("/apps/versions/%d/audit?done=recorded#t-%s", v.ID, strings.ReplaceAll(rec.TestID, ".", "-"))), http.StatusSeeOther)
}

// evidenceForm is a tester's multipart form as it arrived.
type evidenceForm struct {
	fields   map[string]string
	evidence *blob.Upload // nil without a file; the caller closes it
	name     string
}

// maxField bounds a text field of the record form (the notes' limit, in
// bytes, with room for the form's line endings).
const maxField = 16 << 10

// receiveEvidence reads a tester's form part by part: the text fields
// into memory, bounded, and the evidence file through the blob spool
// into a temporary file while it is hashed and checked, so that many
// uploads at once cost disk, not memory. The form's fields may come in
// any order.
func (m *Module) receiveEvidence(r *http.Request) (evidenceForm, error) {
	form := evidenceForm{fields: map[string]string{}}
	mr, err := r.MultipartReader()
	if err != nil {
		return form, err
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return form, nil
		}
		if err != nil {
			return form, err
		}
		name := part.FormName()
		switch {
		case name == "evidence" && part.FileName() != "" && form.evidence == nil:
			up, err := blob.Spool(part, part.FileName(), blob.Policy{MaxSize: maxEvidence, Allowed: blob.EvidenceTypes()}, m.cfg.TempDir)
			switch {
			case errors.Is(err, blob.ErrEmpty):
				// An empty file input: the tester attached nothing.
			case err != nil:
				part.Close()
				return form, err
			default:
				form.evidence, form.name = &up, part.FileName()
			}
		case name == "test" || name == "result" || name == "notes":
			b, err := io.ReadAll(io.LimitReader(part, maxField+1))
			if err != nil {
				part.Close()
				return form, err
			}
			if len(b) > maxField {
				part.Close()
				return form, invalid(name, "too long")
			}
			// Multipart text fields escape the shell's form check (it
			// never reads multipart bodies): apply the same rule here.
			if err := web.CheckField(name, string(b)); err != nil {
				part.Close()
				return form, err
			}
			form.fields[name] = string(b)
		}
		part.Close()
	}
}

func (m *Module) evidence(w http.ResponseWriter, r *http.Request) {
	_, v, _, ok := m.loadVersion(w, r)
	if !ok {
		return
	}
	rec, b, data, err := m.store.Evidence(r.Context(), v.ID, r.URL.Query().Get("test"))
	if err != nil {
		m.fail(w, r, "evidence", err)
		return
	}
	name := rec.EvidenceName
	if name == "" {
		name = "evidence"
	}
	h := w.Header()
	h.Set("Content-Type", b.MediaType)
	// Always a download, never rendered in our origin, whatever it holds.
	h.Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(name))
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("Cache-Control", "no-store")
	w.Write(data)
}

// exportHTML renders the complete audit of a version as one
// self-contained HTML document: matrix, tester notes, the scanner's report
// and the triage decisions.
func (m *Module) exportHTML(r *http.Request, o Org, v Version, acc Access) ([]byte, error) {
	d, err := m.auditData(r, o, v, acc)
	if err != nil {
		return nil, err
	}
	res, err := m.store.Result(r.Context(), v.ScanID)
	if err != nil {
		return nil, err
	}
	tri, err := m.store.TriageOf(r.Context(), v.AppID)
	if err != nil {
		return nil, err
	}
	var body bytes.Buffer
	if err := report.WriteHTMLBody(&body, m.document(res)); err != nil {
		return nil, err
	}
	own, lib := m.findingRows(res, tri)
	var out bytes.Buffer
	err = m.export.Execute(&out, struct {
		auditData
		Style    template.CSS
		Report   template.HTML
		Findings []findingRow
		Library  []findingRow
	}{d, template.CSS(report.HTMLStyle() + exportStyle), template.HTML(body.String()), own, lib})
	return out.Bytes(), err
}

const exportStyle = `
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1b1b1b}
table.matrix{border-collapse:collapse;width:100%;margin:1rem 0}
table.matrix th,table.matrix td{border:1px solid #bbb;padding:.3rem .5rem;text-align:left;vertical-align:top}
.r-pass{color:#176b2c;font-weight:600}.r-fail{color:#a3121b;font-weight:600}.r-na,.r-{color:#555}
`

func exportName(v Version, ext string) string {
	n := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, fmt.Sprintf("itu-audit-%s-%d", v.Package, v.VersionCode))
	return n + ext
}

func (m *Module) auditHTML(w http.ResponseWriter, r *http.Request) {
	o, v, acc, ok := m.loadVersion(w, r)
	if !ok {
		return
	}
	b, err := m.exportHTML(r, o, v, acc)
	if err != nil {
		m.fail(w, r, "export", err)
		return
	}
	if err := m.store.RecordExport(r.Context(), v, o, "html"); err != nil {
		m.fail(w, r, "audit export", err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+exportName(v, ".html")+`"`)
	// The document carries its own stylesheet; no script runs in it.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox")
	h.Set("Cache-Control", "no-store")
	w.Write(b)
}

func (m *Module) auditPDF(w http.ResponseWriter, r *http.Request) {
	o, v, acc, ok := m.loadVersion(w, r)
	if !ok {
		return
	}
	if m.cfg.PDF == nil {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	b, err := m.exportHTML(r, o, v, acc)
	if err != nil {
		m.fail(w, r, "export", err)
		return
	}
	pdf, err := m.cfg.PDF(r.Context(), b)
	if err != nil {
		m.fail(w, r, "pdf", err)
		return
	}
	if err := m.store.RecordExport(r.Context(), v, o, "pdf"); err != nil {
		m.fail(w, r, "audit export", err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Disposition", `attachment; filename="`+exportName(v, ".pdf")+`"`)
	h.Set("Cache-Control", "no-store")
	w.Write(pdf)
}

// ---- regulator -----------------------------------------------------------------

type marketData struct {
	Org       Org
	Regulator bool
	Rows      []MarketRow
}

func (m *Module) market(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok {
		return
	}
	rows, err := m.store.Market(r.Context(), o)
	if err != nil {
		m.fail(w, r, "market", err)
		return
	}
	m.render(w, r, http.StatusOK, "market.html", "Apps in the market · "+o.Country, marketData{Org: o, Regulator: o.IsRegulator(), Rows: rows}, "")
}
