package adoption

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/blob"
	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/pdf"
	"github.com/dfslab/dfslab/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// StaticFS is the module's static files, served under /static/adoption/.
func StaticFS() fs.FS {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder exists
	}
	return sub
}

// Module is the adoption capability: baselines, tracking, submissions and
// the sector view.
type Module struct {
	store  *Store
	pages  *web.Pages
	pdf    pdf.Renderer // nil: no PDF export
	log    *slog.Logger
	notify Notifier
	// The public summary's per-address budget and cache (public_web.go).
	publicLimit *addrLimiter
	publicCache *summaryCache
}

// Notifier tells the members of a country's organisations about a newly
// published baseline (the platform passes the collaboration store's
// in-app notifications). "{org}" in link stands for each member's own
// organisation.
type Notifier interface {
	NotifyCountry(ctx context.Context, country, kind, text, link string) (int, error)
	// Notify tells the given users; reporting periods use it to reach
	// the providers in scope only.
	Notify(ctx context.Context, userIDs []int64, kind, text, link string) error
}

// SetNotifier makes publishing a baseline notify the country's members,
// and opening a reporting period (and its reminders) the providers'.
func (m *Module) SetNotifier(n Notifier) { m.notify = n }

// SetCatalogSource makes new baseline versions take their texts from
// src: the catalogue with the accepted amendments laid over it.
func (m *Module) SetCatalogSource(src CatalogSource) { m.store.SetCatalogSource(src) }

// New returns the module over store. render may be nil (no PDF export).
func New(store *Store, rd *web.Renderer, render pdf.Renderer, log *slog.Logger) (*Module, error) {
	ps, err := rd.Pages(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Module{store: store, pages: ps, pdf: render, log: log,
		publicLimit: &addrLimiter{now: store.now}, publicCache: &summaryCache{now: store.now}}, nil
}

// maxEvidenceBody bounds an evidence upload request: the file limit plus
// room for the multipart framing and the other fields.
const maxEvidenceBody = maxEvidence + 64<<10

// Routes lists the module's routes. Platform administrators get no
// override: a provider's statuses are its own and its regulator's
// business. Viewers read, analysts edit, org admins publish (or approve)
// baselines, sign off submissions and switch the regulators' cooperation
// and the public summary after a fresh verification; any member attests
// a report after one. The public summary needs no sign-in.
func (m *Module) Routes() []web.Route {
	viewer := web.OrgRole(web.RoleViewer)
	analyst := web.OrgRole(web.RoleAnalyst)
	signoff := web.OrgRole(web.RoleOrgAdmin).WithStepUp()
	h := func(f http.HandlerFunc) http.Handler { return f }
	return []web.Route{
		{Pattern: "GET /orgs/{org}/baseline", Policy: viewer, Handler: h(m.baseline)},
		{Pattern: "GET /orgs/{org}/baseline/draft/{id}", Policy: analyst, Handler: h(m.draftForm)},
		{Pattern: "POST /orgs/{org}/baseline/draft/{id}", Policy: analyst, Handler: h(m.draftSave)},
		{Pattern: "POST /orgs/{org}/baseline/adopt-remaining", Policy: analyst, Handler: h(m.adoptRemaining)},
		{Pattern: "POST /orgs/{org}/baseline/publish", Policy: signoff, Handler: h(m.publish)},
		{Pattern: "GET /orgs/{org}/baseline/v/{id}", Policy: viewer, Handler: h(m.version)},
		{Pattern: "GET /orgs/{org}/baseline/v/{id}/baseline.md", Policy: viewer, Handler: h(m.exportMarkdown)},
		{Pattern: "GET /orgs/{org}/baseline/v/{id}/baseline.html", Policy: viewer, Handler: h(m.exportHTML)},
		{Pattern: "GET /orgs/{org}/baseline/v/{id}/baseline.pdf", Policy: viewer, Handler: h(m.exportPDF), Long: true},
		{Pattern: "GET /orgs/{org}/baseline/v/{id}/baseline.csv", Policy: viewer, Handler: h(m.exportCSV)},
		{Pattern: "GET /orgs/{org}/baseline/v/{id}/profile.oscal.json", Policy: viewer, Handler: h(m.exportOSCAL)},
		{Pattern: "GET /orgs/{org}/baseline/diff", Policy: viewer, Handler: h(m.diff)},
		{Pattern: "POST /orgs/{org}/baseline/schedule", Policy: analyst, Handler: h(m.scheduleSave)},
		{Pattern: "GET /orgs/{org}/baseline/v/{id}/roadmap", Policy: viewer, Handler: h(m.roadmap)},
		{Pattern: "GET /orgs/{org}/baseline/upstream", Policy: viewer, Handler: h(m.upstream)},
		{Pattern: "POST /orgs/{org}/baseline/upstream", Policy: analyst, Handler: h(m.chooseUpstream)},

		{Pattern: "GET /orgs/{org}/tracking", Policy: viewer, Handler: h(m.tracking)},
		{Pattern: "GET /orgs/{org}/tracking/{id}", Policy: viewer, Handler: h(m.item)},
		{Pattern: "POST /orgs/{org}/tracking/{id}", Policy: analyst, Handler: h(m.itemSave)},
		{Pattern: "POST /orgs/{org}/tracking/{id}/comments", Policy: analyst, Handler: h(m.comment)},
		{Pattern: "POST /orgs/{org}/tracking/{id}/evidence", Policy: analyst, Handler: h(m.upload), MaxBody: maxEvidenceBody},
		{Pattern: "GET /orgs/{org}/evidence/{id}", Policy: viewer, Handler: h(m.download)},

		{Pattern: "GET /orgs/{org}/submissions", Policy: viewer, Handler: h(m.submissions)},
		{Pattern: "POST /orgs/{org}/submissions", Policy: signoff, Handler: h(m.submit)},
		{Pattern: "GET /orgs/{org}/submissions/{id}", Policy: viewer, Handler: h(m.ownSubmission)},
		{Pattern: "GET /orgs/{org}/submissions/{id}/oscal.json", Policy: viewer, Handler: h(m.ownOSCAL)},
		{Pattern: "GET /orgs/{org}/submissions/{id}/canonical.json", Policy: viewer, Handler: h(m.ownCanonical)},
		// A CEO often holds only a viewer's account: attesting is a
		// personal statement, not an edit, so any member may make it,
		// after a fresh passkey or TOTP verification.
		{Pattern: "POST /orgs/{org}/submissions/{id}/attest", Policy: viewer.WithStepUp(), Handler: h(m.attest)},

		{Pattern: "GET /orgs/{org}/sector", Policy: viewer, Handler: h(m.sector)},
		{Pattern: "GET /orgs/{org}/sector.csv", Policy: viewer, Handler: h(m.sectorCSV)},
		{Pattern: "GET /orgs/{org}/sector.json", Policy: viewer, Handler: h(m.sectorJSON)},
		{Pattern: "GET /orgs/{org}/sector/submissions/{id}", Policy: viewer, Handler: h(m.regSubmission)},
		{Pattern: "GET /orgs/{org}/sector/submissions/{id}/oscal.json", Policy: viewer, Handler: h(m.regOSCAL)},
		{Pattern: "GET /orgs/{org}/sector/submissions/{id}/canonical.json", Policy: viewer, Handler: h(m.regCanonical)},
		{Pattern: "GET /orgs/{org}/sector/submissions/{id}/evidence", Policy: viewer, Handler: h(m.regEvidence)},
		{Pattern: "POST /orgs/{org}/sector/submissions/{id}/verify", Policy: analyst, Handler: h(m.verify)},
		{Pattern: "POST /orgs/{org}/sector/submissions/{id}/review", Policy: analyst, Handler: h(m.review)},
		{Pattern: "GET /orgs/{org}/sector/providers/{id}", Policy: viewer, Handler: h(m.providerPage)},
		{Pattern: "POST /orgs/{org}/sector/providers/{id}/notes", Policy: analyst, Handler: h(m.addNote)},
		{Pattern: "POST /orgs/{org}/sector/providers/{id}/waivers", Policy: analyst, Handler: h(m.grantWaiver)},
		{Pattern: "POST /orgs/{org}/sector/waivers/{id}/revoke", Policy: analyst, Handler: h(m.revokeWaiver)},
		{Pattern: "POST /orgs/{org}/sector/periods", Policy: analyst, Handler: h(m.openPeriod)},
		{Pattern: "POST /orgs/{org}/sector/periods/{id}/remind", Policy: analyst, Handler: h(m.remind)},

		{Pattern: "GET /orgs/{org}/baseline/settings", Policy: viewer, Handler: h(m.baselineSettings)},
		{Pattern: "POST /orgs/{org}/baseline/attestation", Policy: analyst, Handler: h(m.setAttestRoles)},
		{Pattern: "POST /orgs/{org}/baseline/public", Policy: signoff, Handler: h(m.setPublic)},
		// The public summary: no sign-in, a per-address budget, cached
		// aggregates (public_web.go).
		{Pattern: "GET /public/baselines", Policy: web.Public(), Handler: h(m.publicList), RateLimited: true},
		{Pattern: "GET /public/baselines/{country}", Policy: web.Public(), Handler: h(m.publicSummary), RateLimited: true},

		{Pattern: "GET /orgs/{org}/cooperation", Policy: viewer, Handler: h(m.cooperation)},
		{Pattern: "POST /orgs/{org}/cooperation/share-notes", Policy: signoff, Handler: h(m.setShareNotes)},
		{Pattern: "POST /orgs/{org}/cooperation/joint", Policy: signoff, Handler: h(m.setJoint)},
	}
}

// Nav has one entry: the baseline page leads each kind of organisation on
// (regulators to the draft and the sector view, providers to tracking).
func (m *Module) Nav() []web.NavItem {
	return []web.NavItem{{Label: "Baseline", Path: "/orgs/{org}/baseline", Policy: web.OrgRole(web.RoleViewer), Order: 30}}
}

// org loads the organisation of the path.
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

// fail maps a store error to a response. Another organisation's objects,
// unknown IDs and pages for another kind of organisation are all 404, so
// a response never tells whether something exists elsewhere.
func (m *Module) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrWrongOrg):
		web.Error(w, r, http.StatusNotFound)
	case errors.Is(err, ErrInvalid):
		web.Error(w, r, http.StatusBadRequest)
	case errors.Is(err, ErrStale):
		web.Error(w, r, http.StatusConflict)
	default:
		web.ServerError(w, r, what, err)
	}
}

func pathID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

func orgPath(o Org, rest string) string { return "/orgs/" + strconv.FormatInt(o.ID, 10) + rest }

func noStore(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-store") }

func (m *Module) render(w http.ResponseWriter, r *http.Request, status int, page, title string, data any, flash string) {
	noStore(w)
	m.pages.Render(w, r, status, page, web.View{Title: title, Data: data, Flash: flash})
}

// ---- baseline ---------------------------------------------------------------

type draftRow struct {
	RecID     string
	Title     string
	Layer     string
	AppliesTo string // labels, worked out here for the 170-row table
	Item      BaselineItem
	Set       bool
	Values    []string // the parameter values the draft sets: "Hold after a SIM swap: 24 hours"
}

// licenseeOption is a licensee type in a form: a checkbox or an option.
type licenseeOption struct {
	Key     Licensee
	Label   string
	Checked bool
}

func licenseeOptions(checked func(Licensee) bool) []licenseeOption {
	var out []licenseeOption
	for _, l := range identity.LicenseeTypes() {
		out = append(out, licenseeOption{Key: l, Label: l.Label(), Checked: checked(l)})
	}
	return out
}

type baselineData struct {
	Org        Org
	Regulator  bool
	Provider   bool
	CanEdit    bool
	CanPublish bool
	Versions   []Version
	Draft      []draftRow
	Undecided  int
	Unchanged  bool // the draft says what the latest version says: nothing to publish
	Next       int
	Problem    string
	// Commitments: the items the regulators act on themselves, with
	// their status, for everyone in the jurisdiction to see.
	Commitments []Commitment
	Tracks      bool // the organisation tracks items (Org.Tracks)
	// Schedule of the draft, with empty rows to add phases up to the limit.
	Schedule  Schedule
	PhaseRows []Phase
	Field     string
	// Joint baselines: the approvals given to the draft, and whether this
	// regulator's valid approval is already among them.
	Joint         bool
	Approvals     []Approval
	Approved      bool   // this regulator's approval of the draft as it stands
	OtherApproved bool   // the other authority's: approving publishes
	Notes         string // version notes as typed, kept when refused
	// Upstream changes since the latest version, and how many still
	// need a choice.
	Upstream        int
	UpstreamPending int
}

func (m *Module) baseline(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok {
		return
	}
	flash := map[string]string{"saved": "Decision saved in the draft.", "adopted": "Every undecided recommendation is now adopted in the draft.",
		"published": "Baseline published.", "schedule": "Effective date and phases saved in the draft.",
		"approved": "Your approval is recorded. The other authority's approval of this same draft publishes it; any change to the draft voids the approvals."}[r.URL.Query().Get("done")]
	m.renderBaseline(w, r, o, http.StatusOK, "", flash)
}

func (m *Module) renderBaseline(w http.ResponseWriter, r *http.Request, o Org, status int, problem, flash string) {
	m.renderBaselineWith(w, r, o, status, problem, flash, nil, "")
}

// phaseRows is the schedule's phases padded with empty rows up to the
// limit, so that the form adds a phase without JavaScript.
func phaseRows(sc Schedule) []Phase {
	rows := make([]Phase, maxPhases)
	for i := range rows {
		rows[i].Number = i + 1
		if p, ok := sc.Phase(i + 1); ok {
			rows[i] = p
		}
	}
	return rows
}

// renderBaselineWith shows the baseline page; sched, when set, is a
// refused schedule form to show again as the regulator typed it.
func (m *Module) renderBaselineWith(w http.ResponseWriter, r *http.Request, o Org, status int, problem, flash string, sched *Schedule, field string) {
	ctx := r.Context()
	vs, err := m.store.Versions(ctx, o.Country)
	if err != nil {
		m.fail(w, r, "versions", err)
		return
	}
	d := baselineData{Org: o, Regulator: o.IsRegulator(), Provider: o.IsProvider(), Tracks: o.Tracks(), Versions: vs, Problem: problem, Next: 1}
	if len(vs) > 0 {
		d.Next = vs[0].Number + 1
		if d.Commitments, err = m.store.Commitments(ctx, o.Country); err != nil {
			m.fail(w, r, "commitments", err)
			return
		}
	}
	if o.IsRegulator() {
		ro := web.PathRole(r)
		d.CanEdit, d.CanPublish = ro.AtLeast(web.RoleAnalyst), ro.AtLeast(web.RoleOrgAdmin)
		draft, err := m.store.Draft(ctx, o)
		if err != nil {
			m.fail(w, r, "draft", err)
			return
		}
		if sched == nil {
			sc, err := m.store.DraftSchedule(ctx, o)
			if err != nil {
				m.fail(w, r, "schedule", err)
				return
			}
			sched = &sc
		}
		a, err := m.store.Arrangement(ctx, o)
		if err != nil {
			m.fail(w, r, "arrangement", err)
			return
		}
		d.Joint = a.Joint()
		ds, err := m.store.DraftState(ctx, o)
		if err != nil {
			m.fail(w, r, "draft state", err)
			return
		}
		d.Unchanged, d.Approvals = ds.Unchanged, ds.Approvals
		for _, c := range ds.Upstream {
			d.Upstream++
			if c.Pending() {
				d.UpstreamPending++
			}
		}
		for _, ap := range d.Approvals {
			d.Approved = d.Approved || (ap.Valid && ap.OrgID == o.ID)
			d.OtherApproved = d.OtherApproved || (ap.Valid && ap.OrgType != o.Type)
		}
		if r.Method == http.MethodPost {
			d.Notes = r.PostFormValue("notes")
		}
		d.Schedule, d.Field = *sched, field
		d.PhaseRows = phaseRows(*sched)
		for _, rec := range m.store.cat.Recommendations {
			it, set := draft[rec.ID]
			if !set {
				d.Undecided++
			}
			d.Draft = append(d.Draft, draftRow{RecID: rec.ID, Title: rec.Title, Layer: catalog.TermName(m.store.cat.Layers, rec.Layer),
				AppliesTo: it.AppliesTo.Label(), Item: it, Set: set, Values: draftValueLabels(&rec, it.Values)})
		}
	}
	m.render(w, r, status, "baseline.html", "Baseline · "+o.Country, d, flash)
}

type draftFormData struct {
	Org          Org
	RecID        string
	Title        string
	Statement    string
	Item         BaselineItem
	Licensees    []licenseeOption
	DefaultLabel string
	Schedule     Schedule
	Seen         int64 // updated_at (µs) of the draft item as shown; 0 undecided
	Current      *BaselineItem
	Decisions    []Decision
	Problem      string
	Field        string
	// Authorities to choose from, and the catalogue's default.
	Authorities      []Authority
	DefaultAuthority Authority
	// Params are the recommendation's parameters with the values set;
	// DraftStatement the statement with them ("" at the defaults).
	Params         []paramInput
	DraftStatement string
}

func (m *Module) draftForm(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok {
		return
	}
	if !o.IsRegulator() {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	rec, err := m.store.cat.Get(r.PathValue("id"))
	if err != nil {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	draft, err := m.store.Draft(r.Context(), o)
	if err != nil {
		m.fail(w, r, "draft", err)
		return
	}
	it, set := draft[rec.ID]
	var seen int64
	if set {
		seen = it.UpdatedAt.UnixMicro()
	} else {
		it.Decision = Adopted
	}
	if it.AppliesTo == nil {
		it.AppliesTo, it.Defaulted = DefaultAppliesTo(rec), true
	}
	if it.Authority == "" {
		it.Authority, it.AuthorityDefaulted = DefaultAuthority(rec), true
	}
	m.renderDraft(w, r, http.StatusOK, o, rec, it, seen, nil, "", "", nil)
}

// renderDraft shows the draft form of rec; raw is what the editor typed
// in the parameter fields (nil: the item's values).
func (m *Module) renderDraft(w http.ResponseWriter, r *http.Request, status int, o Org, rec *catalog.Recommendation, it BaselineItem, seen int64, cur *BaselineItem, problem, field string, raw map[string]string) {
	d := m.draftFormData(o, rec, it, seen, cur, problem, field)
	d.Params = paramInputs(rec, it.Values, raw, field)
	if len(it.Values) > 0 {
		// Values that were refused are not rendered: Render says no.
		d.DraftStatement, _ = rec.Render(it.Values)
	}
	sc, err := m.store.DraftSchedule(r.Context(), o)
	if err != nil {
		m.fail(w, r, "schedule", err)
		return
	}
	d.Schedule = sc
	m.render(w, r, status, "draft.html", rec.ID+" · Baseline", d, "")
}

func (m *Module) draftFormData(o Org, rec *catalog.Recommendation, it BaselineItem, seen int64, cur *BaselineItem, problem, field string) draftFormData {
	return draftFormData{Org: o, RecID: rec.ID, Title: rec.Title, Statement: rec.Statement, Item: it, Seen: seen, Current: cur,
		Decisions: Decisions(), Problem: problem, Field: field, DefaultLabel: DefaultAppliesTo(rec).Label(),
		Authorities: Authorities(), DefaultAuthority: DefaultAuthority(rec),
		Licensees: licenseeOptions(func(l Licensee) bool { return slices.Contains(it.AppliesTo, l) })}
}

func (m *Module) draftSave(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	if !o.IsRegulator() {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	rec, err := m.store.cat.Get(r.PathValue("id"))
	if err != nil {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	seen, err := strconv.ParseInt(r.PostFormValue("seen"), 10, 64)
	if err != nil || seen < 0 {
		web.Error(w, r, http.StatusBadRequest)
		return
	}
	var seenAt time.Time
	if seen > 0 {
		seenAt = time.UnixMicro(seen)
	}
	// With the form's marker the boxes are the whole set, so none checked
	// is an explicit empty set (refused for an item that applies), never
	// "the default"; a post without it (a script) keeps the default.
	var applies Licensees
	if r.PostFormValue("applies_to_set") == "1" {
		applies = Licensees{}
		for _, v := range r.PostForm["applies_to"] {
			applies = append(applies, Licensee(v))
		}
	}
	phase, perr := strconv.Atoi(r.PostFormValue("phase"))
	if r.PostFormValue("phase") == "" {
		phase, perr = 0, nil
	}
	if perr != nil {
		web.Error(w, r, http.StatusBadRequest)
		return
	}
	it := BaselineItem{RecID: rec.ID, Decision: Decision(r.PostFormValue("decision")), LocalText: r.PostFormValue("local_text"), Reason: r.PostFormValue("reason"),
		AppliesTo: applies, Phase: phase, Deadline: r.PostFormValue("deadline"), Authority: Authority(r.PostFormValue("authority"))}
	raw, perr := parseParamForm(r, rec, &it)
	if perr != nil {
		err = perr
	} else {
		err = m.store.SetDraftIf(r.Context(), o, it, seenAt)
	}
	var ie *InvalidError
	var se *StaleError
	switch {
	case errors.As(err, &ie):
		m.renderDraft(w, r, http.StatusBadRequest, o, rec, it, seen, nil, ie.Problem, ie.Field, raw)
		return
	case errors.As(err, &se):
		// Keep the editor's text, show what the other regulator decided,
		// and arm the form with the current version: sending it again is
		// a deliberate overwrite.
		draft, derr := m.store.Draft(r.Context(), o)
		if derr != nil {
			m.fail(w, r, "draft", derr)
			return
		}
		cur := draft[rec.ID]
		m.renderDraft(w, r, http.StatusConflict, o, rec, it, cur.UpdatedAt.UnixMicro(), &cur, se.Error(), "", raw)
		return
	}
	if err != nil {
		m.fail(w, r, "set draft", err)
		return
	}
	http.Redirect(w, r, orgPath(o, "/baseline?done=saved#"+rec.ID), http.StatusSeeOther)
}

func (m *Module) adoptRemaining(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok {
		return
	}
	if _, err := m.store.AdoptRemaining(r.Context(), o); err != nil {
		m.fail(w, r, "adopt remaining", err)
		return
	}
	http.Redirect(w, r, orgPath(o, "/baseline?done=adopted"), http.StatusSeeOther)
}

func (m *Module) publish(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	if !o.IsRegulator() {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	notes := r.PostFormValue("notes")
	v, err := m.store.Publish(r.Context(), o, notes)
	if errors.Is(err, ErrJoint) {
		// A joint baseline: this is an approval, which publishes when
		// the other authority approved the same draft.
		var res ApprovalResult
		res, err = m.store.Approve(r.Context(), o, notes)
		if err == nil && res.Published == nil {
			m.notifyApproval(r, o, res.Awaiting)
			http.Redirect(w, r, orgPath(o, "/baseline?done=approved#approvals-title"), http.StatusSeeOther)
			return
		}
		if res.Published != nil {
			v = *res.Published
		}
	}
	var ie *InvalidError
	switch {
	case errors.As(err, &ie):
		m.renderBaselineWith(w, r, o, http.StatusBadRequest, ie.Problem, "", nil, ie.Field)
		return
	case errors.Is(err, ErrIncomplete):
		m.renderBaseline(w, r, o, http.StatusBadRequest, "The draft cannot be published yet: "+strings.TrimPrefix(err.Error(), ErrIncomplete.Error()+": ")+
			". Decide each of them (adopt the remaining recommendations at once, or take or leave the upstream changes).", "")
		return
	case errors.Is(err, ErrUnchanged):
		m.renderBaseline(w, r, o, http.StatusConflict, "Nothing changed since the latest version ("+strings.TrimPrefix(err.Error(), ErrUnchanged.Error()+": ")+
			"): change a decision, a text, a deadline or the schedule first.", "")
		return
	case errors.Is(err, ErrApproved):
		m.renderBaseline(w, r, o, http.StatusConflict, "You have already approved this draft; the other authority's approval publishes it.", "")
		return
	case err != nil:
		m.fail(w, r, "publish", err)
		return
	}
	// The public summary shows the latest version: this node recomputes
	// it at once, the others within a minute.
	m.publicCache.drop(o.Country)
	if m.notify != nil {
		// The version is committed; a failed notice is logged, not
		// reported as a failed publication.
		text := fmt.Sprintf("National baseline %s v%d published by %s.", o.Country, v.Number, o.Name)
		if _, err := m.notify.NotifyCountry(r.Context(), o.Country, "baseline", text, fmt.Sprintf("/orgs/{org}/baseline/v/%d", v.Number)); err != nil {
			m.log.WarnContext(r.Context(), "baseline notification failed", "country", o.Country, "version", v.Number, "request_id", web.RequestID(r.Context()), "err", err)
		}
	}
	http.Redirect(w, r, orgPath(o, fmt.Sprintf("/baseline/v/%d?done=published", v.Number)), http.StatusSeeOther)
}

// notifyApproval tells the members of the regulators of the authority
// whose approval is awaited that the draft waits for them. The approval
// is committed; a failed notice is logged, not reported as a failure.
func (m *Module) notifyApproval(r *http.Request, o Org, awaiting identity.OrgType) {
	if m.notify == nil {
		return
	}
	a, err := m.store.Arrangement(r.Context(), o)
	var ids []int64
	for _, rs := range a.Regulators {
		if rs.Org.Type == awaiting {
			ids = append(ids, rs.Org.ID)
		}
	}
	text := fmt.Sprintf("%s approved the draft of the %s baseline; your approval of the same draft publishes it.", o.Name, o.Country)
	var rcpt []Recipient
	if err == nil {
		rcpt, err = recipients(r.Context(), m.store.db, ids)
	}
	for _, rc := range rcpt {
		if err == nil {
			err = m.notify.Notify(r.Context(), rc.Users, "baseline", text, fmt.Sprintf("/orgs/%d/baseline#approvals-title", rc.OrgID))
		}
	}
	if err != nil {
		m.log.WarnContext(r.Context(), "approval notification failed", "country", o.Country, "request_id", web.RequestID(r.Context()), "err", err)
	}
}

type versionRow struct {
	RecID     string
	Title     string
	Statement string
	Layer     string
	Item      BaselineItem
	// Current: the text is the catalogue's current one, not a snapshot
	// (a version published before snapshots were kept).
	Current bool
}

type versionData struct {
	Org       Org
	Version   Version
	Versions  []Version
	Rows      []versionRow
	PDF       bool
	For       Licensee // filter: only the items for this licensee type
	Licensees []licenseeOption
}

// loadVersion reads version {id} of the organisation's jurisdiction.
func (m *Module) loadVersion(w http.ResponseWriter, r *http.Request) (Org, Version, bool) {
	o, ok := m.org(w, r)
	if !ok {
		return Org{}, Version{}, false
	}
	n, ok := pathID(r)
	if !ok || n > 1<<30 {
		web.Error(w, r, http.StatusNotFound)
		return Org{}, Version{}, false
	}
	v, err := m.store.Version(r.Context(), o.Country, int(n))
	if err != nil {
		m.fail(w, r, "version", err)
		return Org{}, Version{}, false
	}
	return o, v, true
}

func (m *Module) versionRows(v Version) []versionRow {
	return versionRows(v, m.store.cat)
}

// versionRows are the items of v with the text the version published
// (its snapshot), or, for a version published before snapshots, the
// catalogue's current text, marked as such.
func versionRows(v Version, cat *catalog.Catalog) []versionRow {
	rows := make([]versionRow, 0, len(v.Items))
	for _, it := range v.Items {
		row := versionRow{RecID: it.RecID, Item: it, Title: it.Title, Statement: it.Statement}
		rec, err := cat.Get(it.RecID)
		if err == nil {
			row.Layer = rec.Layer
		}
		if it.Statement == "" {
			row.Title, row.Current = it.RecID, true
			if err == nil {
				row.Title, row.Statement = rec.Title, rec.Statement
			}
		}
		rows = append(rows, row)
	}
	return rows
}

func (m *Module) version(w http.ResponseWriter, r *http.Request) {
	o, v, ok := m.loadVersion(w, r)
	if !ok {
		return
	}
	vs, err := m.store.Versions(r.Context(), o.Country)
	if err != nil {
		m.fail(w, r, "versions", err)
		return
	}
	flash := ""
	if r.URL.Query().Get("done") == "published" {
		flash = "Baseline " + v.Label() + " published. It can no longer change; later edits go into the next version."
	}
	d := versionData{Org: o, Version: v, Versions: vs, PDF: m.pdf != nil}
	if f := Licensee(r.URL.Query().Get("for")); f != identity.LicenseeNone && f.Valid() {
		d.For = f
	}
	d.Licensees = licenseeOptions(func(l Licensee) bool { return l == d.For })
	for _, row := range m.versionRows(v) {
		if d.For == identity.LicenseeNone || row.Item.AppliesToLicensee(d.For) {
			d.Rows = append(d.Rows, row)
		}
	}
	m.render(w, r, http.StatusOK, "version.html", "Baseline "+o.Country+" "+v.Label(), d, flash)
}

type diffRow struct {
	Change
	Title string
}

type diffData struct {
	Org      Org
	From, To Version
	Versions []Version
	Rows     []diffRow
}

func (m *Module) diff(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	from, err1 := strconv.Atoi(q.Get("from"))
	to, err2 := strconv.Atoi(q.Get("to"))
	if err1 != nil || err2 != nil || from <= 0 || to <= 0 {
		web.Error(w, r, http.StatusBadRequest)
		return
	}
	a, err := m.store.Version(r.Context(), o.Country, from)
	if err != nil {
		m.fail(w, r, "diff", err)
		return
	}
	b, err := m.store.Version(r.Context(), o.Country, to)
	if err != nil {
		m.fail(w, r, "diff", err)
		return
	}
	vs, _ := m.store.Versions(r.Context(), o.Country)
	d := diffData{Org: o, From: a, To: b, Versions: vs}
	for _, c := range Diff(a, b) {
		t := c.RecID
		if rec, err := m.store.cat.Get(c.RecID); err == nil {
			t = rec.Title
		}
		d.Rows = append(d.Rows, diffRow{Change: c, Title: t})
	}
	m.render(w, r, http.StatusOK, "diff.html", "Baseline "+o.Country+" "+a.Label()+" → "+b.Label(), d, "")
}

// ---- tracking ---------------------------------------------------------------

type trackingData struct {
	Org      Org
	Tracking Tracking
	Items    []Item
	Filter   string
	Statuses []Status
	Empty    bool // no baseline published yet
}

func (m *Module) tracking(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok {
		return
	}
	if !o.Tracks() {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	d := trackingData{Org: o, Statuses: Statuses(), Filter: r.URL.Query().Get("status")}
	t, err := m.store.Items(r.Context(), o)
	switch {
	case errors.Is(err, ErrNoBaseline):
		d.Empty = true
	case err != nil:
		m.fail(w, r, "items", err)
		return
	}
	d.Tracking = t
	for _, it := range t.Items {
		if d.Filter == "" || string(it.Status) == d.Filter || (d.Filter == "overdue" && it.Overdue) {
			d.Items = append(d.Items, it)
		}
	}
	m.render(w, r, http.StatusOK, "tracking.html", "Implementation · "+o.Name, d, "")
}

type itemData struct {
	Org      Org
	Item     Item
	Detail   Detail
	Members  []Member
	Statuses []Status
	CanEdit  bool
	Form     Update
	Problem  string
	Field    string
	Accept   string
	MaxMB    int64
}

func (m *Module) loadItem(w http.ResponseWriter, r *http.Request) (Org, Item, bool) {
	o, ok := m.org(w, r)
	if !ok {
		return Org{}, Item{}, false
	}
	it, err := m.store.Item(r.Context(), o, r.PathValue("id"))
	if errors.Is(err, ErrNoBaseline) {
		err = ErrNotFound
	}
	if err != nil {
		m.fail(w, r, "item", err)
		return Org{}, Item{}, false
	}
	return o, it, true
}

func (m *Module) item(w http.ResponseWriter, r *http.Request) {
	o, it, ok := m.loadItem(w, r)
	if !ok {
		return
	}
	flash := map[string]string{"saved": "Saved.", "comment": "Comment added.", "evidence": "Evidence file attached."}[r.URL.Query().Get("done")]
	m.renderItem(w, r, o, it, http.StatusOK, Update{Status: it.Status, Justification: it.Justification, OwnerID: it.OwnerID,
		TargetDate: it.TargetDate, Version: it.Version}, "", "", flash)
}

func (m *Module) renderItem(w http.ResponseWriter, r *http.Request, o Org, it Item, status int, form Update, problem, field, flash string) {
	det, err := m.store.ItemDetail(r.Context(), o, it)
	if err != nil {
		m.fail(w, r, "item detail", err)
		return
	}
	for _, h := range det.History {
		if c, ok := h.Changes["status"]; ok {
			h.Changes["status"] = [2]string{Status(c[0]).Label(), Status(c[1]).Label()}
		}
	}
	ms, err := m.store.Members(r.Context(), o.ID)
	if err != nil {
		m.fail(w, r, "members", err)
		return
	}
	pol := EvidencePolicy()
	m.render(w, r, status, "item.html", it.RecID+" · Implementation", itemData{Org: o, Item: it, Detail: det, Members: ms,
		Statuses: ProviderStatuses(it.Status), CanEdit: web.PathRole(r).AtLeast(web.RoleAnalyst), Form: form, Problem: problem, Field: field,
		Accept: strings.Join(pol.Allowed, ","), MaxMB: pol.MaxSize >> 20}, flash)
}

func (m *Module) itemSave(w http.ResponseWriter, r *http.Request) {
	o, it, ok := m.loadItem(w, r)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	ver, err := strconv.Atoi(r.PostFormValue("version"))
	if err != nil || ver < 0 {
		web.Error(w, r, http.StatusBadRequest)
		return
	}
	var owner int64
	if s := r.PostFormValue("owner"); s != "" {
		if owner, err = strconv.ParseInt(s, 10, 64); err != nil {
			web.Error(w, r, http.StatusBadRequest)
			return
		}
	}
	u := Update{Status: Status(r.PostFormValue("status")), Justification: r.PostFormValue("justification"), OwnerID: owner,
		TargetDate: r.PostFormValue("target_date"), Version: ver}
	_, err = m.store.Update(r.Context(), o, it.RecID, u)
	var ie *InvalidError
	var se *StaleError
	switch {
	case errors.As(err, &ie):
		m.renderItem(w, r, o, it, http.StatusBadRequest, u, ie.Problem, ie.Field, "")
		return
	case errors.As(err, &se):
		// Show the current state with the refused change kept in the form
		// but the current version, so that re-submitting is a deliberate
		// overwrite of what the other person did.
		cur, err := m.store.Item(r.Context(), o, it.RecID)
		if err != nil {
			m.fail(w, r, "item", err)
			return
		}
		u.Version = cur.Version
		m.renderItem(w, r, o, cur, http.StatusConflict, u, se.Error(), "", "")
		return
	case err != nil:
		m.fail(w, r, "update item", err)
		return
	}
	http.Redirect(w, r, orgPath(o, "/tracking/"+url.PathEscape(it.RecID)+"?done=saved"), http.StatusSeeOther)
}

func (m *Module) comment(w http.ResponseWriter, r *http.Request) {
	o, it, ok := m.loadItem(w, r)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	err := m.store.AddComment(r.Context(), o, it.RecID, r.PostFormValue("body"))
	var ie *InvalidError
	if errors.As(err, &ie) {
		m.renderItem(w, r, o, it, http.StatusBadRequest, Update{Status: it.Status, Justification: it.Justification, OwnerID: it.OwnerID,
			TargetDate: it.TargetDate, Version: it.Version}, ie.Problem, ie.Field, "")
		return
	}
	if err != nil {
		m.fail(w, r, "comment", err)
		return
	}
	http.Redirect(w, r, orgPath(o, "/tracking/"+url.PathEscape(it.RecID)+"?done=comment#comments"), http.StatusSeeOther)
}

func (m *Module) upload(w http.ResponseWriter, r *http.Request) {
	o, it, ok := m.loadItem(w, r)
	if !ok {
		return
	}
	keep := Update{Status: it.Status, Justification: it.Justification, OwnerID: it.OwnerID, TargetDate: it.TargetDate, Version: it.Version}
	refuse := func(status int, msg string) {
		m.renderItem(w, r, o, it, status, keep, msg, "file", "")
	}
	pol := EvidencePolicy()
	mr, err := r.MultipartReader()
	if err != nil {
		refuse(http.StatusBadRequest, "Choose a file to upload.")
		return
	}
	// Stream the parts: the file goes through the blob spool's limit and
	// sniffer into a temporary file, so that many uploads at once cost
	// disk rather than memory (issue 9, finding 11).
	var up blob.Upload
	defer func() { up.Close() }()
	var name string
	found := false
	for {
		part, err := mr.NextPart()
		if err != nil {
			var mb *http.MaxBytesError
			if errors.As(err, &mb) {
				refuse(http.StatusRequestEntityTooLarge, fmt.Sprintf("The file is larger than %d MB; nothing was stored.", pol.MaxSize>>20))
				return
			}
			break
		}
		if part.FormName() != "file" || found {
			part.Close()
			continue
		}
		found, name = true, part.FileName()
		up, err = blob.Spool(part, name, pol, "")
		part.Close()
		switch {
		case errors.Is(err, blob.ErrTooLarge):
			refuse(http.StatusRequestEntityTooLarge, fmt.Sprintf("The file is larger than %d MB; nothing was stored.", pol.MaxSize>>20))
			return
		case errors.Is(err, blob.ErrType):
			refuse(http.StatusUnsupportedMediaType, "This kind of file is not accepted as evidence; nothing was stored. Upload a PDF, PNG or JPEG image, plain text, CSV, JSON or a ZIP archive.")
			return
		case errors.Is(err, blob.ErrEmpty):
			refuse(http.StatusBadRequest, "The file is empty; nothing was stored.")
			return
		case err != nil:
			refuse(http.StatusBadRequest, "The upload did not arrive completely; nothing was stored. Try again.")
			return
		}
	}
	if !found {
		refuse(http.StatusBadRequest, "Choose a file to upload.")
		return
	}
	if _, err := m.store.AddEvidence(r.Context(), o, it.RecID, up, name); err != nil {
		m.fail(w, r, "add evidence", err)
		return
	}
	http.Redirect(w, r, orgPath(o, "/tracking/"+url.PathEscape(it.RecID)+"?done=evidence#evidence"), http.StatusSeeOther)
}

func (m *Module) download(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok {
		return
	}
	id, ok := pathID(r)
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	e, data, err := m.store.EvidenceFile(r.Context(), o.ID, id)
	if err != nil {
		m.fail(w, r, "evidence", err)
		return
	}
	// Reading evidence is audited too: it is a provider's confidential
	// material, and an examiner asks who looked at it.
	web.Audit(r, web.AuditEvent{Action: "tracking.evidence.download", ObjectType: "evidence", ObjectID: strconv.FormatInt(e.ID, 10),
		Details: map[string]any{"org": o.ID, "rec": e.RecID, "sha256": e.Blob.SHA256}})
	h := w.Header()
	h.Set("Content-Type", e.Blob.MediaType)
	// Always a download, never rendered in our origin, whatever it holds.
	h.Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(e.Name))
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("ETag", `"`+e.Blob.SHA256+`"`)
	noStore(w)
	w.Write(data)
}

// ---- submissions ----------------------------------------------------------------

type submissionsData struct {
	Org         Org
	Submissions []Submission
	Tracking    Tracking
	NoBaseline  bool
	CanSubmit   bool
	Statement   string
	Problem     string
}

const defaultStatement = "I confirm that this report reflects the implementation status of the national baseline at our organisation, and that the evidence referenced is held on file."

func (m *Module) submissions(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok {
		return
	}
	flash := ""
	if r.URL.Query().Get("done") == "submitted" {
		flash = "Report submitted to the regulators of " + o.Country + "."
	}
	m.renderSubmissions(w, r, o, http.StatusOK, defaultStatement, "", flash)
}

func (m *Module) renderSubmissions(w http.ResponseWriter, r *http.Request, o Org, status int, statement, problem, flash string) {
	if !o.IsProvider() {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	subs, err := m.store.Submissions(r.Context(), o)
	if err != nil {
		m.fail(w, r, "submissions", err)
		return
	}
	d := submissionsData{Org: o, Submissions: subs, CanSubmit: web.PathRole(r).AtLeast(web.RoleOrgAdmin), Statement: statement, Problem: problem}
	t, err := m.store.Items(r.Context(), o)
	switch {
	case errors.Is(err, ErrNoBaseline):
		d.NoBaseline = true
	case err != nil:
		m.fail(w, r, "items", err)
		return
	}
	d.Tracking = t
	m.render(w, r, status, "submissions.html", "Reports · "+o.Name, d, flash)
}

func (m *Module) submit(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	if !o.IsProvider() {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	statement := r.PostFormValue("statement")
	if r.PostFormValue("confirm") != "on" {
		m.renderSubmissions(w, r, o, http.StatusBadRequest, statement, "Tick the box to sign the report off; a report is sent only with an explicit sign-off.", "")
		return
	}
	sub, err := m.store.Submit(r.Context(), o, statement)
	var ie *InvalidError
	switch {
	case errors.As(err, &ie):
		m.renderSubmissions(w, r, o, http.StatusBadRequest, statement, ie.Problem, "")
		return
	case errors.Is(err, ErrNoBaseline):
		m.renderSubmissions(w, r, o, http.StatusConflict, statement, "There is no published baseline for "+o.Country+" yet, so there is nothing to report on.", "")
		return
	case err != nil:
		m.fail(w, r, "submit", err)
		return
	}
	http.Redirect(w, r, orgPath(o, fmt.Sprintf("/submissions/%d?done=submitted", sub.ID)), http.StatusSeeOther)
}

type snapshotData struct {
	Org        Org
	Submission Submission
	Regulator  bool
	CanVerify  bool // a regulator's analyst or admin
	OSCALPath  string
	Back       string
	Problem    string
	Field      string
	Form       ReviewInput // the review as typed, kept when refused
	Attest     attestView
	Canonical  string // path of the canonical content (what attestations hash)
}

func (m *Module) loadSubmission(w http.ResponseWriter, r *http.Request, regulator bool) (Org, Submission, bool) {
	o, ok := m.org(w, r)
	if !ok {
		return Org{}, Submission{}, false
	}
	id, ok := pathID(r)
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return Org{}, Submission{}, false
	}
	var sub Submission
	var err error
	if regulator {
		sub, err = m.store.RegulatorSubmission(r.Context(), o, id)
	} else {
		sub, err = m.store.Submission(r.Context(), o, id)
	}
	if err != nil {
		m.fail(w, r, "submission", err)
		return Org{}, Submission{}, false
	}
	return o, sub, true
}

// review records the regulator's decision on a report, with findings
// per item (fields finding_<item>), and tells the provider.
func (m *Module) review(w http.ResponseWriter, r *http.Request) {
	o, sub, ok := m.loadSubmission(w, r, true)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	in := ReviewInput{Outcome: Outcome(r.PostFormValue("outcome")), Summary: r.PostFormValue("summary"), Findings: map[string]string{}}
	for _, it := range sub.Items {
		if v := r.PostFormValue("finding_" + it.RecID); strings.TrimSpace(v) != "" {
			in.Findings[it.RecID] = v
		}
	}
	got, err := m.store.ReviewSubmission(r.Context(), o, sub.ID, in)
	var ie *InvalidError
	if errors.As(err, &ie) {
		m.renderReview(w, r, o, sub, http.StatusBadRequest, ie.Problem, ie.Field, in, "")
		return
	}
	if err != nil {
		m.fail(w, r, "review", err)
		return
	}
	if m.notify != nil {
		// Committed; a failed notice is logged, not a failed review.
		text := fmt.Sprintf("%s reviewed your report of %s: %s.", o.Name, got.SubmittedAt.Format("2006-01-02"), strings.ToLower(got.Review.Outcome.Label()))
		rcpt, err := recipients(r.Context(), m.store.db, []int64{got.OrgID})
		for _, rc := range rcpt {
			if err == nil {
				err = m.notify.Notify(r.Context(), rc.Users, "report", text, fmt.Sprintf("/orgs/%d/submissions/%d", rc.OrgID, got.ID))
			}
		}
		if err != nil {
			m.log.WarnContext(r.Context(), "review notification failed", "submission", got.ID, "request_id", web.RequestID(r.Context()), "err", err)
		}
	}
	http.Redirect(w, r, orgPath(o, fmt.Sprintf("/sector/submissions/%d?done=reviewed#review-title", sub.ID)), http.StatusSeeOther)
}

func (m *Module) ownSubmission(w http.ResponseWriter, r *http.Request) {
	o, sub, ok := m.loadSubmission(w, r, false)
	if !ok {
		return
	}
	flash := map[string]string{"submitted": "Report submitted and signed off. It cannot be changed; submit a new report for later progress.",
		"attested": "Attestation recorded with the report's SHA-256."}[r.URL.Query().Get("done")]
	m.renderOwnSubmission(w, r, o, sub, http.StatusOK, AttestInput{}, "", "", flash)
}

func (m *Module) renderOwnSubmission(w http.ResponseWriter, r *http.Request, o Org, sub Submission, status int, form AttestInput, problem, field, flash string) {
	av, err := m.attestView(r, sub, form, problem, field)
	if err != nil {
		m.fail(w, r, "attestations", err)
		return
	}
	m.render(w, r, status, "snapshot.html", "Report "+sub.SubmittedAt.Format("2006-01-02"), snapshotData{Org: o, Submission: sub, Attest: av,
		OSCALPath: orgPath(o, fmt.Sprintf("/submissions/%d/oscal.json", sub.ID)), Canonical: orgPath(o, fmt.Sprintf("/submissions/%d/canonical.json", sub.ID)),
		Back: orgPath(o, "/submissions")}, flash)
}

func (m *Module) regSubmission(w http.ResponseWriter, r *http.Request) {
	o, sub, ok := m.loadSubmission(w, r, true)
	if !ok {
		return
	}
	flash := ""
	if v := r.URL.Query().Get("verified"); v != "" {
		flash = "Marked verified in the provider's tracking: " + v + "."
	}
	if r.URL.Query().Get("done") == "reviewed" {
		flash = "Review recorded; the provider was notified."
	}
	m.renderRegSubmission(w, r, o, sub, http.StatusOK, "", flash)
}

func (m *Module) renderRegSubmission(w http.ResponseWriter, r *http.Request, o Org, sub Submission, status int, problem, flash string) {
	m.renderReview(w, r, o, sub, status, problem, "", ReviewInput{}, flash)
}

func (m *Module) renderReview(w http.ResponseWriter, r *http.Request, o Org, sub Submission, status int, problem, field string, form ReviewInput, flash string) {
	av, err := m.attestView(r, sub, AttestInput{}, "", "")
	if err != nil {
		m.fail(w, r, "attestations", err)
		return
	}
	m.render(w, r, status, "snapshot.html", sub.OrgName+" · report "+sub.SubmittedAt.Format("2006-01-02"), snapshotData{Org: o, Submission: sub,
		Regulator: true, CanVerify: web.PathRole(r).AtLeast(web.RoleAnalyst), Problem: problem, Field: field, Form: form, Attest: av,
		OSCALPath: orgPath(o, fmt.Sprintf("/sector/submissions/%d/oscal.json", sub.ID)), Canonical: orgPath(o, fmt.Sprintf("/sector/submissions/%d/canonical.json", sub.ID)),
		Back: orgPath(o, "/sector")}, flash)
}

// verify marks one item of a submission verified in the provider's
// tracking.
func (m *Module) verify(w http.ResponseWriter, r *http.Request) {
	o, sub, ok := m.loadSubmission(w, r, true)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	rec := r.PostFormValue("rec_id")
	_, err := m.store.Verify(r.Context(), o, sub.ID, rec)
	var ie *InvalidError
	if errors.As(err, &ie) {
		m.renderRegSubmission(w, r, o, sub, http.StatusBadRequest, ie.Problem, "")
		return
	}
	if err != nil {
		m.fail(w, r, "verify", err)
		return
	}
	http.Redirect(w, r, orgPath(o, fmt.Sprintf("/sector/submissions/%d?verified=%s#snap-%s", sub.ID, url.QueryEscape(rec), url.PathEscape(rec))), http.StatusSeeOther)
}

func (m *Module) regEvidence(w http.ResponseWriter, r *http.Request) {
	o, sub, ok := m.loadSubmission(w, r, true)
	if !ok {
		return
	}
	sum := r.URL.Query().Get("sha256")
	var ref *EvidenceRef
	for _, it := range sub.Items {
		for i := range it.Evidence {
			if it.Evidence[i].SHA256 == sum {
				ref = &it.Evidence[i]
			}
		}
	}
	if ref == nil {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	_, data, err := m.store.blobs.Get(r.Context(), sum)
	if err != nil {
		m.fail(w, r, "evidence", err)
		return
	}
	web.Audit(r, web.AuditEvent{Action: "submission.evidence.download", ObjectType: "submission", ObjectID: strconv.FormatInt(sub.ID, 10),
		Details: map[string]any{"org": o.ID, "provider": sub.OrgID, "sha256": sum}})
	h := w.Header()
	h.Set("Content-Type", ref.MediaType)
	h.Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(ref.Name))
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	noStore(w)
	w.Write(data)
}

func (m *Module) ownOSCAL(w http.ResponseWriter, r *http.Request) {
	if o, sub, ok := m.loadSubmission(w, r, false); ok {
		m.writeOSCAL(w, r, o, sub)
	}
}

func (m *Module) regOSCAL(w http.ResponseWriter, r *http.Request) {
	if o, sub, ok := m.loadSubmission(w, r, true); ok {
		m.writeOSCAL(w, r, o, sub)
	}
}

func (m *Module) writeOSCAL(w http.ResponseWriter, r *http.Request, o Org, sub Submission) {
	b, err := OSCALAssessmentResults(sub, m.store.cat)
	if err != nil {
		web.ServerError(w, r, "oscal", err)
		return
	}
	web.Audit(r, web.AuditEvent{Action: "submission.export", ObjectType: "submission", ObjectID: strconv.FormatInt(sub.ID, 10),
		Details: map[string]any{"format": "oscal-assessment-results", "org": o.ID}})
	download(w, "application/json", fmt.Sprintf("assessment-results-%d.json", sub.ID), b)
}

// ---- sector -----------------------------------------------------------------

func (m *Module) loadSector(w http.ResponseWriter, r *http.Request) (Org, SectorView, bool) {
	o, ok := m.org(w, r)
	if !ok {
		return Org{}, SectorView{}, false
	}
	sv, err := m.store.Sector(r.Context(), o)
	if err != nil {
		m.fail(w, r, "sector", err)
		return Org{}, SectorView{}, false
	}
	return o, sv, true
}

type sectorData struct {
	Org     Org
	View    SectorView
	Rows    []sectorRowView
	Trend   trendChart
	Periods sectorPeriods
}

// sectorRowView is a heat-map row with its cells already written out:
// at 50 providers the page has over a thousand cells, and building their
// markup here (numbers and fixed class names only, nothing a user typed)
// is several times faster than evaluating them through the template.
type sectorRowView struct {
	Latest  Submission
	Threats template.HTML
	Layers  template.HTML
	History template.HTML
}

func cellsHTML(cs []Cell) template.HTML {
	var b strings.Builder
	for _, c := range cs {
		if c.Empty() {
			b.WriteString(`<td class="cell band-none">–</td>`)
			continue
		}
		fmt.Fprintf(&b, `<td class="cell band-%d">%d%%<br><span class="muted">%d/%d</span></td>`, c.Band(), c.Share(), c.Implemented, c.Applicable)
	}
	return template.HTML(b.String())
}

func historyHTML(orgID int64, subs []Submission) template.HTML {
	var b strings.Builder
	for _, h := range subs {
		fmt.Fprintf(&b, `<a href="/orgs/%d/sector/submissions/%d">%s</a>: %d%%, %d overdue<br>`, orgID, h.ID,
			h.SubmittedAt.Format("2006-01-02 15:04 UTC"), h.Share(), h.Overdue)
	}
	return template.HTML(b.String())
}

func (m *Module) sector(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok {
		return
	}
	if !o.IsRegulator() {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	id, st, offset, ok := rosterQuery(w, r)
	if !ok {
		return
	}
	sp, ok := m.loadPeriods(w, r, o, id, st, offset)
	if !ok {
		return
	}
	m.renderSector(w, r, o, http.StatusOK, sp, periodFlash(r))
}

func (m *Module) sectorCSV(w http.ResponseWriter, r *http.Request) {
	o, sv, ok := m.loadSector(w, r)
	if !ok {
		return
	}
	b, err := SectorCSV(sv)
	if err != nil {
		web.ServerError(w, r, "sector csv", err)
		return
	}
	web.Audit(r, web.AuditEvent{Action: "sector.export", ObjectType: "sector", ObjectID: o.Country, Details: map[string]any{"format": "csv", "org": o.ID}})
	download(w, "text/csv; charset=utf-8", "sector-"+o.Country+".csv", b)
}

func (m *Module) sectorJSON(w http.ResponseWriter, r *http.Request) {
	o, sv, ok := m.loadSector(w, r)
	if !ok {
		return
	}
	b, err := SectorJSON(sv)
	if err != nil {
		web.ServerError(w, r, "sector json", err)
		return
	}
	web.Audit(r, web.AuditEvent{Action: "sector.export", ObjectType: "sector", ObjectID: o.Country, Details: map[string]any{"format": "json", "org": o.ID}})
	download(w, "application/json", "sector-"+o.Country+".json", b)
}

func download(w http.ResponseWriter, ctype, name string, b []byte) {
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	noStore(w)
	w.Write(b)
}
