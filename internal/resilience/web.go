package resilience

import (
	"context"
	"embed"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/blob"
	"github.com/dfslab/dfslab/internal/pdf"
	"github.com/dfslab/dfslab/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// StaticFS is the module's static files, served under /static/resilience/.
func StaticFS() fs.FS {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder exists
	}
	return sub
}

// Baseline tells, for an organisation, the implementation status of the
// national baseline items by recommendation ID (adoption tracking), so
// that a gap shows next to how far the recommendation that closes it is
// implemented. Nil maps mean no baseline applies.
type Baseline interface {
	BaselineStatus(ctx context.Context, orgID int64) (map[string]string, error)
}

// Module serves the toolkit's pages and API.
type Module struct {
	store    *Store
	pages    *web.Pages
	reports  *reports
	pdf      pdf.Renderer // nil: no PDF exports
	log      *slog.Logger
	notify   Notifier
	baseline Baseline
}

// New returns the module. notify, baseline and render (the PDF printer)
// may be nil.
func New(store *Store, rd *web.Renderer, render pdf.Renderer, notify Notifier, baseline Baseline, log *slog.Logger) (*Module, error) {
	ps, err := rd.Pages(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	rp, err := parseReports()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Module{store: store, pages: ps, reports: rp, pdf: render, log: log, notify: notify, baseline: baseline}, nil
}

// maxEvidenceBody bounds an evidence upload request: the file limit plus
// room for the multipart framing and the other fields.
const maxEvidenceBody = MaxEvidence + 64<<10

// Routes lists the pages and the API. An organisation's assessments are
// its own: platform administrators get no override; its regulator sees
// signed-off campaign assessments through the campaign pages only.
// Viewers read, analysts answer, org admins sign off and launch
// campaigns after a fresh verification.
func (m *Module) Routes() []web.Route {
	viewer := web.OrgRole(web.RoleViewer)
	analyst := web.OrgRole(web.RoleAnalyst)
	signoff := web.OrgRole(web.RoleOrgAdmin).WithStepUp()
	h := func(f http.HandlerFunc) http.Handler { return f }
	const a = "/orgs/{org}/resilience/assessments/{id}"
	const c = "/orgs/{org}/resilience/campaigns/{id}"
	return []web.Route{
		{Pattern: "GET /orgs/{org}/resilience", Policy: viewer, Handler: h(m.overview)},
		{Pattern: "POST /orgs/{org}/resilience/assessments", Policy: analyst, Handler: h(m.create)},
		{Pattern: "GET " + a, Policy: viewer, Handler: h(m.assessment)},
		{Pattern: "POST " + a + "/answers", Policy: analyst, Handler: h(m.answer)},
		{Pattern: "POST " + a + "/evidence", Policy: analyst, Handler: h(m.upload), MaxBody: maxEvidenceBody},
		{Pattern: "GET " + a + "/evidence/{eid}", Policy: viewer, Handler: h(m.download)},
		{Pattern: "GET " + a + "/scorecard", Policy: viewer, Handler: h(m.scorecard)},
		{Pattern: "GET " + a + "/scores.json", Policy: viewer, Handler: h(m.scoresJSON)},
		{Pattern: "GET " + a + "/scores.csv", Policy: viewer, Handler: h(m.scoresCSV)},
		{Pattern: "GET " + a + "/compare", Policy: viewer, Handler: h(m.compare)},
		{Pattern: "GET " + a + "/scorecard.html", Policy: viewer, Handler: h(m.scorecardHTML)},
		{Pattern: "GET " + a + "/scorecard.pdf", Policy: viewer, Handler: h(m.scorecardPDF), Long: true},
		{Pattern: "GET " + a + "/oscal.json", Policy: viewer, Handler: h(m.oscalJSON)},
		{Pattern: "POST " + a + "/submit", Policy: signoff, Handler: h(m.submit)},

		{Pattern: "POST /orgs/{org}/resilience/campaigns", Policy: signoff, Handler: h(m.launch)},
		{Pattern: "POST /orgs/{org}/resilience/targets", Policy: signoff, Handler: h(m.setTargets)},
		{Pattern: "GET " + c, Policy: viewer, Handler: h(m.campaign)},
		{Pattern: "POST " + c + "/close", Policy: signoff, Handler: h(m.closeCampaign)},
		{Pattern: "GET " + c + "/benchmark", Policy: viewer, Handler: h(m.benchmark)},
		{Pattern: "GET " + c + "/benchmark.json", Policy: viewer, Handler: h(m.benchmarkJSON)},
		{Pattern: "GET " + c + "/benchmark.csv", Policy: viewer, Handler: h(m.benchmarkCSV)},
		{Pattern: "GET " + c + "/report.html", Policy: viewer, Handler: h(m.sectorHTML)},
		{Pattern: "GET " + c + "/report.pdf", Policy: viewer, Handler: h(m.sectorPDF), Long: true},
		{Pattern: "GET " + c + "/entities/{entity}", Policy: viewer, Handler: h(m.entity)},

		{Pattern: "GET /resilience/models", Policy: web.SignedIn(), Handler: h(m.models)},
		{Pattern: "POST /resilience/models", Policy: web.PlatformAdmin().WithStepUp(), Handler: h(m.importModel), MaxBody: MaxModelSize + 64<<10},
		{Pattern: "GET /resilience/models/{key}", Policy: web.SignedIn(), Handler: h(m.model)},
		{Pattern: "GET /resilience/models/{key}/model.yaml", Policy: web.SignedIn(), Handler: h(m.modelYAML)},

		{Pattern: "GET /api/v1/resilience/models", Policy: web.Token(web.ScopeRead), Handler: h(m.apiModels)},
		{Pattern: "GET /api/v1/resilience/assessments/{id}", Policy: web.Token(web.ScopeRead), Handler: h(m.apiAssessment)},
		{Pattern: "PUT /api/v1/resilience/assessments/{id}/answers/{question}", Policy: web.Token(web.ScopeWrite), Handler: h(m.apiAnswer)},
		{Pattern: "GET /api/v1/resilience/assessments/{id}/scores", Policy: web.Token(web.ScopeRead), Handler: h(m.apiScores)},
	}
}

// Nav has one entry per organisation.
func (m *Module) Nav() []web.NavItem {
	return []web.NavItem{{Label: "Resilience", Path: "/orgs/{org}/resilience", Policy: web.OrgRole(web.RoleViewer), Order: 35}}
}

// ---- helpers ------------------------------------------------------------------

func (m *Module) org(w http.ResponseWriter, r *http.Request) (Org, bool) {
	id, ok := web.PathOrg(r)
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return Org{}, false
	}
	o, err := m.store.OrgOf(r.Context(), id)
	if err != nil {
		m.fail(w, r, "load org", err)
		return Org{}, false
	}
	return o, true
}

// fail maps a store error to a response. Another organisation's objects
// and unknown IDs are both 404.
func (m *Module) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		web.Error(w, r, http.StatusNotFound)
	case errors.Is(err, ErrInvalid):
		web.Error(w, r, http.StatusBadRequest)
	case errors.Is(err, ErrStale), errors.Is(err, ErrSubmitted), errors.Is(err, ErrConflict), errors.Is(err, ErrIncomplete):
		web.Error(w, r, http.StatusConflict)
	default:
		web.ServerError(w, r, what, err)
	}
}

func orgPath(o Org, rest string) string {
	return "/orgs/" + strconv.FormatInt(o.ID, 10) + "/resilience" + rest
}

func (m *Module) render(w http.ResponseWriter, r *http.Request, status int, page, title string, data any, flash string) {
	w.Header().Set("Cache-Control", "no-store")
	m.pages.Render(w, r, status, page, web.View{Title: title, Data: data, Flash: flash})
}

// problemOf is the message of an ErrInvalid, without the package prefix.
func problemOf(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "invalid input: "); i >= 0 {
		msg = msg[i+len("invalid input: "):]
	}
	if msg == "" {
		return msg
	}
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}

func (m *Module) loadAssessment(w http.ResponseWriter, r *http.Request) (Org, Assessment, *Model, bool) {
	o, ok := m.org(w, r)
	if !ok {
		return Org{}, Assessment{}, nil, false
	}
	id, ok := web.PathID(r, "id")
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return Org{}, Assessment{}, nil, false
	}
	a, err := m.store.Assessment(r.Context(), o.ID, id)
	if err != nil {
		m.fail(w, r, "assessment", err)
		return Org{}, Assessment{}, nil, false
	}
	mod, err := m.store.Model(r.Context(), a.ModelKey)
	if err != nil {
		m.fail(w, r, "model", err)
		return Org{}, Assessment{}, nil, false
	}
	return o, a, mod, true
}

func canEdit(r *http.Request) bool { return web.PathRole(r).AtLeast(web.RoleAnalyst) }
func canSign(r *http.Request) bool { return web.PathRole(r).AtLeast(web.RoleOrgAdmin) }

// ---- overview -----------------------------------------------------------------

type overviewData struct {
	Org         Org
	Assessments []assessmentRow
	Campaigns   []campaignRow // open campaigns of the country (entities), own campaigns (regulators)
	Models      []*Model
	EntityTypes []EntityType
	Factors     []factor
	ChannelOpts []option
	ScopeOpts   []option
	CanEdit     bool
	CanSign     bool
	Form        createForm
	Launch      launchForm
	Targets     *targetsForm // regulators: their country's targets
	Problem     string
}

// targetsForm is a regulator's table of targets for one model and entity
// type.
type targetsForm struct {
	ModelKey   string
	EntityType EntityType
	Rows       []targetRow
}

type targetRow struct {
	ID, Name string
	Defaults string // the model's targets by risk level
	Value    string // the override, "" for the model's
}

// factor is a banded profile factor of the start form.
type factor struct {
	Name, Label string
	Options     []option
}

// option is a choice of a form, worked out here rather than in the
// template.
type option struct {
	Value, Label string
	Selected     bool
}

type assessmentRow struct {
	Assessment
	Answered, Applicable int
	Overall              float64
	Level                string
	CampaignTitle        string
}

type campaignRow struct {
	Campaign
	Started bool // this organisation has an assessment for it
}

type createForm struct {
	Title      string
	ModelKey   string
	Variant    string
	CampaignID int64
	Profile    Profile
}

type launchForm struct {
	Title       string
	ModelKey    string
	Variant     string
	EntityTypes []EntityType
	Deadline    string
}

func (m *Module) overview(w http.ResponseWriter, r *http.Request) {
	flash := map[string]string{"launched": "Campaign launched; the organisations in scope have been notified.",
		"targets":   "Targets saved. They apply to the scores of your country's entities of this type from now on; signed-off assessments keep theirs.",
		"submitted": "Assessment signed off. The snapshot cannot change any more."}[r.URL.Query().Get("done")]
	m.renderOverview(w, r, http.StatusOK, createForm{}, launchForm{}, "", flash)
}

func (m *Module) renderOverview(w http.ResponseWriter, r *http.Request, status int, f createForm, lf launchForm, problem, flash string) {
	o, ok := m.org(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	d := overviewData{Org: o, EntityTypes: EntityTypes(), CanEdit: canEdit(r), CanSign: canSign(r),
		Form: f, Launch: lf, Problem: problem}
	for _, fc := range []struct {
		name, label string
		v           Band
	}{{"volume", "Transactions", f.Profile.Volume}, {"customers", "Customers", f.Profile.Customers},
		{"third_parties", "Critical third parties", f.Profile.ThirdParties}, {"incidents", "Significant incidents in the last three years", f.Profile.Incidents}} {
		x := factor{Name: fc.name, Label: fc.label}
		for i, l := range BandLabels(fc.name) {
			x.Options = append(x.Options, option{Value: strconv.Itoa(i), Label: l, Selected: Band(i) == fc.v})
		}
		d.Factors = append(d.Factors, x)
	}
	for _, c := range Channels() {
		d.ChannelOpts = append(d.ChannelOpts, option{Value: string(c), Label: ChannelLabel(c), Selected: slices.Contains(f.Profile.Channels, c)})
	}
	for _, t := range EntityTypes() {
		d.ScopeOpts = append(d.ScopeOpts, option{Value: string(t), Label: t.Label(), Selected: slices.Contains(lf.EntityTypes, t)})
	}
	var err error
	if d.Models, err = m.store.Models(ctx); err != nil {
		m.fail(w, r, "models", err)
		return
	}
	as, err := m.store.Assessments(ctx, o.ID)
	if err != nil {
		m.fail(w, r, "assessments", err)
		return
	}
	camps, err := m.store.Campaigns(ctx, o.Country)
	if err != nil {
		m.fail(w, r, "campaigns", err)
		return
	}
	titles := map[int64]string{}
	for _, c := range camps {
		titles[c.ID] = c.Title
	}
	started := map[int64]bool{}
	for _, a := range as {
		row := assessmentRow{Assessment: a, CampaignTitle: titles[a.CampaignID]}
		if _, _, sc, err := m.store.Scorecard(ctx, o.ID, a.ID); err == nil {
			row.Answered, row.Applicable, row.Overall, row.Level = sc.Answered, sc.Applicable, sc.Overall, sc.Level
		}
		d.Assessments = append(d.Assessments, row)
		started[a.CampaignID] = true
	}
	for _, c := range camps {
		if o.Regulator && c.OrgID == o.ID || !o.Regulator && c.Open() {
			d.Campaigns = append(d.Campaigns, campaignRow{Campaign: c, Started: started[c.ID]})
		}
	}
	if o.Regulator && len(d.Models) > 0 {
		tf := &targetsForm{ModelKey: r.URL.Query().Get("tmodel"), EntityType: EntityType(r.URL.Query().Get("tentity"))}
		var mod *Model
		for _, x := range d.Models {
			if x.Key() == tf.ModelKey {
				mod = x
			}
		}
		if mod == nil {
			mod = d.Models[0]
			tf.ModelKey = mod.Key()
		}
		if !tf.EntityType.Valid() {
			tf.EntityType = EntityDFSProvider
		}
		ov, err := m.store.Targets(ctx, o.Country, tf.ModelKey, tf.EntityType)
		if err != nil {
			m.fail(w, r, "targets", err)
			return
		}
		for _, dm := range mod.Domains {
			row := targetRow{ID: dm.ID, Name: dm.Name}
			var parts []string
			for _, rl := range RiskLevels() {
				parts = append(parts, fmt.Sprintf("%s %g", rl.Label(), mod.Target(dm, rl)))
			}
			row.Defaults = strings.Join(parts, " · ")
			if v, ok := ov[dm.ID]; ok {
				row.Value = strconv.FormatFloat(v, 'f', -1, 64)
			}
			tf.Rows = append(tf.Rows, row)
		}
		d.Targets = tf
	}
	if d.Form.ModelKey == "" && len(d.Models) > 0 {
		d.Form.ModelKey = d.Models[0].Key()
	}
	if d.Form.Profile.EntityType == "" {
		d.Form.Profile.EntityType = EntityDFSProvider
	}
	m.render(w, r, status, "overview.html", "Cyber resilience · "+o.Name, d, flash)
}

// profileFrom reads a profile from a form.
func profileFrom(r *http.Request) Profile {
	band := func(name string) Band {
		n, _ := strconv.Atoi(r.PostFormValue(name))
		return Band(n)
	}
	p := Profile{EntityType: EntityType(r.PostFormValue("entity_type")), Volume: band("volume"), ThirdParties: band("third_parties"),
		Customers: band("customers"), Incidents: band("incidents")}
	for _, c := range r.PostForm["channels"] {
		p.Channels = append(p.Channels, Channel(c))
	}
	return p
}

func (m *Module) create(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	f := createForm{Title: r.PostFormValue("title"), ModelKey: r.PostFormValue("model"), Variant: r.PostFormValue("variant"), Profile: profileFrom(r)}
	f.CampaignID, _ = strconv.ParseInt(r.PostFormValue("campaign"), 10, 64)
	if f.CampaignID != 0 {
		// A campaign fixes the model and variant.
		c, err := m.store.Campaign(r.Context(), o, f.CampaignID)
		if err != nil {
			m.renderOverview(w, r, http.StatusBadRequest, f, launchForm{}, "This campaign does not exist for your organisation.", "")
			return
		}
		f.ModelKey, f.Variant = c.ModelKey, c.Variant
	}
	a, err := m.store.CreateAssessment(r.Context(), o, NewAssessment{Title: f.Title, ModelKey: f.ModelKey, Variant: f.Variant, Profile: f.Profile, CampaignID: f.CampaignID})
	switch {
	case errors.Is(err, ErrInvalid), errors.Is(err, ErrNotFound):
		m.renderOverview(w, r, http.StatusBadRequest, f, launchForm{}, problemOf(err), "")
		return
	case errors.Is(err, ErrConflict):
		m.renderOverview(w, r, http.StatusConflict, f, launchForm{}, "Your organisation has an assessment for this campaign already.", "")
		return
	case err != nil:
		m.fail(w, r, "create assessment", err)
		return
	}
	http.Redirect(w, r, orgPath(o, fmt.Sprintf("/assessments/%d?created=1", a.ID)), http.StatusSeeOther)
}

// setTargets stores a regulator's targets for one model and entity type.
func (m *Module) setTargets(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	if !o.Regulator {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	key, et := r.PostFormValue("model"), EntityType(r.PostFormValue("entity_type"))
	mod, err := m.store.Model(r.Context(), key)
	if err != nil {
		m.renderOverview(w, r, http.StatusBadRequest, createForm{}, launchForm{}, "Unknown model.", "")
		return
	}
	set := map[string]*float64{}
	for _, d := range mod.Domains {
		v := strings.TrimSpace(r.PostFormValue("target_" + d.ID))
		if v == "" {
			set[d.ID] = nil
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			m.renderOverview(w, r, http.StatusBadRequest, createForm{}, launchForm{}, fmt.Sprintf("The target of %s must be a number between 0 and 5.", d.Name), "")
			return
		}
		set[d.ID] = &f
	}
	err = m.store.SetTargets(r.Context(), o, key, et, set)
	if errors.Is(err, ErrInvalid) {
		m.renderOverview(w, r, http.StatusBadRequest, createForm{}, launchForm{}, problemOf(err), "")
		return
	}
	if err != nil {
		m.fail(w, r, "set targets", err)
		return
	}
	q := url.Values{"tmodel": {key}, "tentity": {string(et)}, "done": {"targets"}}
	http.Redirect(w, r, orgPath(o, "?"+q.Encode()+"#targets-title"), http.StatusSeeOther)
}

// ---- answering ----------------------------------------------------------------

type assessmentData struct {
	Org        Org
	A          Assessment
	Model      *Model
	Domains    []domainTab
	Domain     *Domain
	Questions  []questionView
	Scorecard  Scorecard
	CanEdit    bool
	CanSign    bool
	Problem    string
	ProblemQ   string
	MaxMB      int64
	Evidence   map[string][]Evidence
	Campaign   string
	Previous   bool
	RiskPoints int
}

type domainTab struct {
	ID, Name             string
	Answered, Applicable int
	Current              bool
}

type questionView struct {
	Q       *Question
	A       StoredAnswer
	Level   int // -1: unanswered or not applicable
	Typed   *Answer
	Stale   bool
	Options []levelOption
}

type levelOption struct {
	Level   int
	Text    string
	Checked bool
}

func (m *Module) assessment(w http.ResponseWriter, r *http.Request) {
	flash := ""
	switch {
	case r.URL.Query().Get("created") == "1":
		flash = "Assessment started. Answer the questions domain by domain; every answer is saved on its own."
	case r.URL.Query().Get("saved") != "":
		flash = "Answer saved."
	case r.URL.Query().Get("done") == "evidence":
		flash = "Evidence attached."
	}
	m.renderAssessment(w, r, http.StatusOK, "", "", nil, false, flash)
}

// renderAssessment shows one domain of an assessment. typed is what the
// person sent when it was refused, shown again so that nothing is lost.
func (m *Module) renderAssessment(w http.ResponseWriter, r *http.Request, status int, problem, problemQ string, typed *Answer, stale bool, flash string) {
	o, a, mod, ok := m.loadAssessment(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	answers, err := m.store.Answers(ctx, a.ID)
	if err != nil {
		m.fail(w, r, "answers", err)
		return
	}
	if a.IsSubmitted() {
		if snap, err := m.store.Snapshot(ctx, o.ID, a.ID); err == nil {
			answers = snap.Answers
		}
	}
	ev, err := m.store.EvidenceList(ctx, a.ID)
	if err != nil {
		m.fail(w, r, "evidence", err)
		return
	}
	d := assessmentData{Org: o, A: a, Model: mod, CanEdit: canEdit(r) && !a.IsSubmitted(), CanSign: canSign(r) && !a.IsSubmitted(),
		Problem: problem, ProblemQ: problemQ, Evidence: ev, MaxMB: MaxEvidence >> 20, Previous: a.PreviousID != 0, RiskPoints: a.Profile.RiskPoints()}
	if _, _, d.Scorecard, err = m.store.Scorecard(ctx, o.ID, a.ID); err != nil {
		m.fail(w, r, "scorecard", err)
		return
	}
	if a.CampaignID != 0 {
		if c, err := m.store.Campaign(ctx, o, a.CampaignID); err == nil {
			d.Campaign = c.Title
		}
	}
	domains := mod.DomainsOf(a.Variant)
	want := r.URL.Query().Get("domain")
	if problemQ != "" {
		if q := mod.Question(problemQ); q != nil {
			want = q.Domain().ID
		}
	}
	d.Domain = domains[0]
	for _, dm := range domains {
		if dm.ID == want {
			d.Domain = dm
		}
	}
	for _, ds := range d.Scorecard.Domains {
		d.Domains = append(d.Domains, domainTab{ID: ds.ID, Name: ds.Name, Answered: ds.Answered, Applicable: ds.Applicable, Current: ds.ID == d.Domain.ID})
	}
	for _, q := range d.Domain.Questions {
		if !q.Applies(a.Profile.EntityType) {
			continue
		}
		v := questionView{Q: q, A: answers[q.ID], Level: -1}
		if v.A.Level != nil {
			v.Level = *v.A.Level
		}
		if typed != nil && typed.QuestionID == q.ID {
			v.Typed, v.Stale = typed, stale
		}
		shown := v.Level
		if v.Typed != nil && !stale {
			shown = -1
			if v.Typed.Level != nil {
				shown = *v.Typed.Level
			}
		}
		for l := MinLevel; l <= MaxLevel; l++ {
			v.Options = append(v.Options, levelOption{Level: l, Text: q.Levels[l], Checked: l == shown})
		}
		d.Questions = append(d.Questions, v)
	}
	m.render(w, r, status, "assessment.html", a.Title+" · "+d.Domain.Name, d, flash)
}

// answerFrom reads one answer from a form.
func answerFrom(r *http.Request) (Answer, int) {
	in := Answer{QuestionID: r.PostFormValue("question"), Comment: r.PostFormValue("comment"), NAReason: r.PostFormValue("na_reason")}
	switch lv := r.PostFormValue("level"); {
	case lv == "na" || r.PostFormValue("na") == "on":
		in.NA = true
	case lv != "":
		if n, err := strconv.Atoi(lv); err == nil {
			in.Level = &n
		} else {
			bad := -1
			in.Level = &bad
		}
	}
	seen, _ := strconv.Atoi(r.PostFormValue("version"))
	return in, seen
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the status is sent; a failed write means the client left
}

func apiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// answer saves one answer: from the page's per-question form (a redirect
// back), or from its autosave script (JSON).
func (m *Module) answer(w http.ResponseWriter, r *http.Request) {
	o, a, _, ok := m.loadAssessment(w, r)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	in, seen := answerFrom(r)
	saved, err := m.store.SaveAnswer(r.Context(), o.ID, a.ID, in, seen)
	if wantsJSON(r) {
		switch {
		case err == nil:
			writeJSON(w, http.StatusOK, map[string]any{"question": saved.QuestionID, "version": saved.Version, "saved": saved.Updated.Format(time.RFC3339)})
		case errors.Is(err, ErrStale):
			writeJSON(w, http.StatusConflict, map[string]any{"error": "Someone changed this answer meanwhile; reload to see it. Your answer was not saved.",
				"current": saved})
		case errors.Is(err, ErrSubmitted):
			apiError(w, http.StatusConflict, "The assessment is signed off; answers cannot change.")
		case errors.Is(err, ErrInvalid):
			apiError(w, http.StatusBadRequest, problemOf(err))
		default:
			m.log.ErrorContext(r.Context(), "save answer", "err", err)
			apiError(w, http.StatusInternalServerError, "The answer could not be saved; try again.")
		}
		return
	}
	switch {
	case err == nil:
		q := url.Values{"domain": {domainOf(in.QuestionID)}, "saved": {in.QuestionID}}
		http.Redirect(w, r, orgPath(o, fmt.Sprintf("/assessments/%d?%s#q-%s", a.ID, q.Encode(), in.QuestionID)), http.StatusSeeOther)
	case errors.Is(err, ErrStale):
		m.renderAssessment(w, r, http.StatusConflict, "Someone changed this answer meanwhile. Their answer is shown; yours is kept below so that you can choose.", in.QuestionID, &in, true, "")
	case errors.Is(err, ErrSubmitted):
		m.renderAssessment(w, r, http.StatusConflict, "The assessment is signed off; answers cannot change.", "", nil, false, "")
	case errors.Is(err, ErrInvalid):
		m.renderAssessment(w, r, http.StatusBadRequest, problemOf(err), in.QuestionID, &in, false, "")
	default:
		m.fail(w, r, "save answer", err)
	}
}

// domainOf is the domain part of a question ID ("RM-03" → "RM").
func domainOf(q string) string {
	d, _, _ := strings.Cut(q, "-")
	return d
}

func (m *Module) upload(w http.ResponseWriter, r *http.Request) {
	o, a, mod, ok := m.loadAssessment(w, r)
	if !ok {
		return
	}
	pol := EvidencePolicy()
	refuse := func(status int, q, msg string) {
		m.renderAssessment(w, r, status, msg, q, nil, false, "")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		refuse(http.StatusBadRequest, "", "Choose a file to upload.")
		return
	}
	// Stream the parts: the file goes through the blob spool's limit and
	// type sniffer into a temporary file, never whole into memory. The
	// question field comes first in the form.
	var up blob.Upload
	defer func() { up.Close() }()
	var name, question string
	found := false
	for {
		part, err := mr.NextPart()
		if err != nil {
			var mb *http.MaxBytesError
			if errors.As(err, &mb) {
				refuse(http.StatusRequestEntityTooLarge, question, fmt.Sprintf("The file is larger than %d MB; nothing was stored.", pol.MaxSize>>20))
				return
			}
			break
		}
		switch {
		case part.FormName() == "question" && part.FileName() == "":
			b, _ := io.ReadAll(io.LimitReader(part, 65))
			question = string(b)
			if mod.Question(question) == nil {
				part.Close()
				refuse(http.StatusBadRequest, "", "Unknown question; nothing was stored.")
				return
			}
		case part.FormName() == "file" && !found:
			found, name = true, part.FileName()
			if err := web.CheckField("file name", name); err != nil {
				part.Close()
				refuse(http.StatusBadRequest, question, "The file name contains characters that are not accepted; rename the file.")
				return
			}
			up, err = blob.Spool(part, name, pol, "")
			switch {
			case errors.Is(err, blob.ErrTooLarge):
				part.Close()
				refuse(http.StatusRequestEntityTooLarge, question, fmt.Sprintf("The file is larger than %d MB; nothing was stored.", pol.MaxSize>>20))
				return
			case errors.Is(err, blob.ErrType):
				part.Close()
				refuse(http.StatusUnsupportedMediaType, question, "This kind of file is not accepted as evidence; nothing was stored. Upload a PDF, PNG or JPEG image, plain text, CSV, JSON or a ZIP archive.")
				return
			case errors.Is(err, blob.ErrEmpty):
				part.Close()
				refuse(http.StatusBadRequest, question, "The file is empty; nothing was stored.")
				return
			case err != nil:
				part.Close()
				refuse(http.StatusBadRequest, question, "The upload did not arrive completely; nothing was stored. Try again.")
				return
			}
		}
		part.Close()
	}
	if !found || question == "" {
		refuse(http.StatusBadRequest, question, "Choose a question and a file to upload.")
		return
	}
	if _, err := m.store.AddEvidence(r.Context(), o.ID, a.ID, question, up, name); err != nil {
		if errors.Is(err, ErrSubmitted) {
			refuse(http.StatusConflict, question, "The assessment is signed off; evidence cannot be added.")
			return
		}
		m.fail(w, r, "add evidence", err)
		return
	}
	http.Redirect(w, r, orgPath(o, fmt.Sprintf("/assessments/%d?domain=%s&done=evidence#q-%s", a.ID, url.QueryEscape(domainOf(question)), question)), http.StatusSeeOther)
}

func (m *Module) download(w http.ResponseWriter, r *http.Request) {
	o, a, _, ok := m.loadAssessment(w, r)
	if !ok {
		return
	}
	eid, ok := web.PathID(r, "eid")
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	e, rd, err := m.store.EvidenceFile(r.Context(), o.ID, a.ID, eid)
	if err != nil {
		m.fail(w, r, "evidence", err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", e.Blob.MediaType)
	h.Set("Content-Disposition", `attachment; filename="`+e.Name+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-store")
	http.ServeContent(w, r, e.Name, e.At, rd)
}

// ---- scores ----------------------------------------------------------------------

type scorecardData struct {
	Org        Org
	A          Assessment
	Model      *Model
	Scorecard  Scorecard
	Radar      RadarChart
	Gaps       GapChart
	Priorities []priorityView
	Regulator  bool // shown to the campaign's regulator
	CampaignID int64
	PDF        bool // the PDF printer is installed
}

type priorityView struct {
	Priority
	Text   string
	Domain string
	Recs   []recStatus
}

type recStatus struct {
	ID     string
	Status string // baseline implementation status, "" when not in a baseline
}

func (m *Module) scorecardData(ctx context.Context, o Org, a Assessment, mod *Model, sc Scorecard) scorecardData {
	d := scorecardData{Org: o, A: a, Model: mod, Scorecard: sc, Radar: NewRadar(sc), Gaps: NewGapChart(sc)}
	var status map[string]string
	if m.baseline != nil {
		var err error
		if status, err = m.baseline.BaselineStatus(ctx, o.ID); err != nil {
			m.log.ErrorContext(ctx, "baseline status", "err", err)
		}
	}
	for i, p := range sc.Priorities {
		if i == 20 {
			break
		}
		pv := priorityView{Priority: p, Text: p.Question.Text, Domain: p.Question.Domain().Name}
		for _, id := range p.Recommendations {
			pv.Recs = append(pv.Recs, recStatus{ID: id, Status: status[id]})
		}
		d.Priorities = append(d.Priorities, pv)
	}
	return d
}

func (m *Module) scorecard(w http.ResponseWriter, r *http.Request) {
	o, a, _, ok := m.loadAssessment(w, r)
	if !ok {
		return
	}
	_, mod, sc, err := m.store.Scorecard(r.Context(), o.ID, a.ID)
	if err != nil {
		m.fail(w, r, "scorecard", err)
		return
	}
	d := m.scorecardData(r.Context(), o, a, mod, sc)
	d.PDF = m.pdf != nil
	m.render(w, r, http.StatusOK, "scorecard.html", "Scorecard · "+a.Title, d, "")
}

func (m *Module) scoresJSON(w http.ResponseWriter, r *http.Request) {
	o, a, _, ok := m.loadAssessment(w, r)
	if !ok {
		return
	}
	_, _, sc, err := m.store.Scorecard(r.Context(), o.ID, a.ID)
	if err != nil {
		m.fail(w, r, "scorecard", err)
		return
	}
	writeJSON(w, http.StatusOK, scoresDoc(a, sc))
}

// scoresDoc is the JSON of an assessment's scores (pages and API).
func scoresDoc(a Assessment, sc Scorecard) map[string]any {
	doc := map[string]any{"assessment": a.ID, "title": a.Title, "status": a.Status, "entity_type": a.Profile.EntityType, "scorecard": sc}
	if a.IsSubmitted() {
		doc["signed_off"] = a.Submitted.Format(time.RFC3339)
	}
	return doc
}

// csvCell defuses spreadsheet formulas in text cells.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func (m *Module) scoresCSV(w http.ResponseWriter, r *http.Request) {
	o, a, _, ok := m.loadAssessment(w, r)
	if !ok {
		return
	}
	_, _, sc, err := m.store.Scorecard(r.Context(), o.ID, a.ID)
	if err != nil {
		m.fail(w, r, "scorecard", err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="resilience-scores-%d.csv"`, a.ID))
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"domain", "name", "score", "level", "target", "gap", "applicable", "answered", "not_applicable"})
	for _, d := range sc.Domains {
		score := ""
		if d.Scored {
			score = strconv.FormatFloat(d.Score, 'f', 2, 64)
		}
		_ = cw.Write([]string{d.ID, csvCell(d.Name), score, csvCell(d.Level), strconv.FormatFloat(d.Target, 'f', 1, 64),
			strconv.FormatFloat(d.Gap, 'f', 2, 64), strconv.Itoa(d.Applicable), strconv.Itoa(d.Answered), strconv.Itoa(d.NA)})
	}
	_ = cw.Write([]string{"overall", "Overall", strconv.FormatFloat(sc.Overall, 'f', 2, 64), csvCell(sc.Level), "", "", strconv.Itoa(sc.Applicable), strconv.Itoa(sc.Answered), ""})
	cw.Flush()
}

type compareData struct {
	Org Org
	A   Assessment
	C   Comparison
}

func (m *Module) compare(w http.ResponseWriter, r *http.Request) {
	o, a, _, ok := m.loadAssessment(w, r)
	if !ok {
		return
	}
	c, err := m.store.Compare(r.Context(), o.ID, a.ID)
	if err != nil {
		m.fail(w, r, "compare", err)
		return
	}
	m.render(w, r, http.StatusOK, "compare.html", "What moved · "+a.Title, compareData{Org: o, A: a, C: c}, "")
}

func (m *Module) submit(w http.ResponseWriter, r *http.Request) {
	o, a, _, ok := m.loadAssessment(w, r)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	_, err := m.store.Submit(r.Context(), o.ID, a.ID)
	switch {
	case errors.Is(err, ErrIncomplete):
		m.renderAssessment(w, r, http.StatusConflict, "Answer every question (or mark it not applicable, with a reason) before signing off: "+
			strings.TrimPrefix(err.Error(), ErrIncomplete.Error()+": ")+".", "", nil, false, "")
		return
	case errors.Is(err, ErrSubmitted):
		m.renderAssessment(w, r, http.StatusConflict, "The assessment is signed off already.", "", nil, false, "")
		return
	case err != nil:
		m.fail(w, r, "submit", err)
		return
	}
	http.Redirect(w, r, orgPath(o, fmt.Sprintf("/assessments/%d/scorecard", a.ID)), http.StatusSeeOther)
}

// ---- campaigns (regulators) -------------------------------------------------------

func (m *Module) launch(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	if !o.Regulator {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	lf := launchForm{Title: r.PostFormValue("title"), ModelKey: r.PostFormValue("model"), Variant: r.PostFormValue("variant"), Deadline: r.PostFormValue("deadline")}
	for _, t := range r.PostForm["entity_types"] {
		lf.EntityTypes = append(lf.EntityTypes, EntityType(t))
	}
	deadline, err := time.Parse("2006-01-02", lf.Deadline)
	if err != nil {
		m.renderOverview(w, r, http.StatusBadRequest, createForm{}, lf, "Give the deadline as a date (YYYY-MM-DD).", "")
		return
	}
	// The deadline is the end of that day, UTC.
	deadline = deadline.Add(24*time.Hour - time.Second)
	_, err = m.store.CreateCampaign(r.Context(), o, NewCampaign{Title: lf.Title, ModelKey: lf.ModelKey, Variant: lf.Variant,
		EntityTypes: lf.EntityTypes, Deadline: deadline}, m.notify)
	if errors.Is(err, ErrInvalid) || errors.Is(err, ErrNotFound) {
		m.renderOverview(w, r, http.StatusBadRequest, createForm{}, lf, problemOf(err), "")
		return
	}
	if err != nil {
		m.fail(w, r, "launch campaign", err)
		return
	}
	http.Redirect(w, r, orgPath(o, "?done=launched"), http.StatusSeeOther)
}

type campaignData struct {
	Org      Org
	C        Campaign
	Progress []EntityProgress
	Counts   map[EntityState]int
	States   []EntityState
	Filter   EntityState
	CanClose bool
	Now      time.Time
}

// regulatorCampaign loads a campaign of the path's organisation, which
// must be the regulator that launched it (404 otherwise).
func (m *Module) regulatorCampaign(w http.ResponseWriter, r *http.Request) (Org, int64, bool) {
	o, ok := m.org(w, r)
	if !ok {
		return Org{}, 0, false
	}
	id, ok := web.PathID(r, "id")
	if !ok || !o.Regulator {
		web.Error(w, r, http.StatusNotFound)
		return Org{}, 0, false
	}
	return o, id, true
}

func (m *Module) campaign(w http.ResponseWriter, r *http.Request) {
	o, id, ok := m.regulatorCampaign(w, r)
	if !ok {
		return
	}
	c, prog, err := m.store.Progress(r.Context(), o, id)
	if err != nil {
		m.fail(w, r, "progress", err)
		return
	}
	d := campaignData{Org: o, C: c, Counts: map[EntityState]int{}, CanClose: canSign(r) && c.Open(), Now: m.store.nowUTC(),
		States: []EntityState{StateNotStarted, StateInProgress, StateSubmitted, StateOverdue}, Filter: EntityState(r.URL.Query().Get("state"))}
	for _, p := range prog {
		d.Counts[p.State]++
		if d.Filter == "" || p.State == d.Filter {
			d.Progress = append(d.Progress, p)
		}
	}
	flash := ""
	if r.URL.Query().Get("done") == "closed" {
		flash = "Campaign closed: no new assessments can start for it."
	}
	m.render(w, r, http.StatusOK, "campaign.html", c.Title, d, flash)
}

func (m *Module) closeCampaign(w http.ResponseWriter, r *http.Request) {
	o, id, ok := m.regulatorCampaign(w, r)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	if err := m.store.CloseCampaign(r.Context(), o, id); err != nil {
		m.fail(w, r, "close campaign", err)
		return
	}
	http.Redirect(w, r, orgPath(o, fmt.Sprintf("/campaigns/%d?done=closed", id)), http.StatusSeeOther)
}

type benchmarkData struct {
	Org     Org
	B       Benchmark
	Domains []DomainBench
	Heat    []heatRowView
	MinN    int
	PDF     bool
}

type heatRowView struct {
	HeatRow
	Label string
	Cells []heatCell
}

type heatCell struct {
	Stat
	Class string
}

func (m *Module) loadBenchmark(w http.ResponseWriter, r *http.Request) (Org, Benchmark, bool) {
	o, id, ok := m.regulatorCampaign(w, r)
	if !ok {
		return Org{}, Benchmark{}, false
	}
	b, err := m.store.Benchmark(r.Context(), o, id)
	if err != nil {
		m.fail(w, r, "benchmark", err)
		return Org{}, Benchmark{}, false
	}
	return o, b, true
}

func (m *Module) benchmark(w http.ResponseWriter, r *http.Request) {
	o, b, ok := m.loadBenchmark(w, r)
	if !ok {
		return
	}
	d := benchmarkView(o, b)
	d.PDF = m.pdf != nil
	m.render(w, r, http.StatusOK, "benchmark.html", "Sector benchmark · "+b.Campaign.Title, d, "")
}

// benchmarkView prepares a benchmark for the page and the printable report.
func benchmarkView(o Org, b Benchmark) benchmarkData {
	d := benchmarkData{Org: o, B: b, Domains: b.Domains, MinN: MinGroup}
	for _, row := range b.Heat {
		hv := heatRowView{HeatRow: row, Label: row.EntityType.Label()}
		for _, c := range row.Cells {
			hv.Cells = append(hv.Cells, heatCell{Stat: c, Class: HeatClass(c)})
		}
		d.Heat = append(d.Heat, hv)
	}
	return d
}

func (m *Module) benchmarkJSON(w http.ResponseWriter, r *http.Request) {
	_, b, ok := m.loadBenchmark(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"campaign": b.Campaign.ID, "title": b.Campaign.Title, "min_group": MinGroup, "benchmark": b})
}

func (m *Module) benchmarkCSV(w http.ResponseWriter, r *http.Request) {
	_, b, ok := m.loadBenchmark(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="resilience-benchmark-%d.csv"`, b.Campaign.ID))
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"entity_type", "domain", "n", "note", "min", "q1", "median", "q3", "max"})
	row := func(group, domain string, st Stat) {
		rec := []string{group, domain, strconv.Itoa(st.N)}
		if st.TooFew {
			rec = append(rec, "too few to show", "", "", "", "", "")
		} else {
			f := func(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) }
			rec = append(rec, "", f(st.Min), f(st.Q1), f(st.Median), f(st.Q3), f(st.Max))
		}
		_ = cw.Write(rec)
	}
	row("all", "overall", b.Overall)
	for _, d := range b.Domains {
		row("all", d.ID, d.Stat)
	}
	for _, h := range b.Heat {
		for i, c := range h.Cells {
			row(string(h.EntityType), b.Domains[i].ID, c)
		}
	}
	cw.Flush()
}

func (m *Module) entity(w http.ResponseWriter, r *http.Request) {
	o, id, ok := m.regulatorCampaign(w, r)
	if !ok {
		return
	}
	entity, ok := web.PathID(r, "entity")
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	a, mod, sc, err := m.store.EntityScorecard(r.Context(), o, id, entity)
	if err != nil {
		m.fail(w, r, "entity scorecard", err)
		return
	}
	eo, err := m.store.OrgOf(r.Context(), entity)
	if err != nil {
		m.fail(w, r, "entity", err)
		return
	}
	d := m.scorecardData(r.Context(), eo, a, mod, sc)
	d.Regulator, d.CampaignID, d.Org = true, id, o
	d.A.Title = eo.Name + " · " + a.Title
	m.render(w, r, http.StatusOK, "scorecard.html", "Scorecard · "+eo.Name, d, "")
}

// ---- models ----------------------------------------------------------------------

type modelsData struct {
	Models  []*Model
	CanAdd  bool
	Problem string
	Lines   []Problem
}

func (m *Module) models(w http.ResponseWriter, r *http.Request) {
	flash := ""
	if k := r.URL.Query().Get("imported"); k != "" {
		flash = "Model " + k + " imported."
	}
	m.renderModels(w, r, http.StatusOK, "", nil, flash)
}

func (m *Module) renderModels(w http.ResponseWriter, r *http.Request, status int, problem string, lines []Problem, flash string) {
	ms, err := m.store.Models(r.Context())
	if err != nil {
		m.fail(w, r, "models", err)
		return
	}
	p := web.CurrentPrincipal(r.Context())
	m.render(w, r, status, "models.html", "Assessment models", modelsData{Models: ms, CanAdd: p != nil && p.User.PlatformAdmin, Problem: problem, Lines: lines}, flash)
}

func (m *Module) importModel(w http.ResponseWriter, r *http.Request) {
	mr, err := r.MultipartReader()
	if err != nil {
		m.renderModels(w, r, http.StatusBadRequest, "Choose a model file (YAML) to import.", nil, "")
		return
	}
	var data []byte
	for {
		part, err := mr.NextPart()
		if err != nil {
			var mb *http.MaxBytesError
			if errors.As(err, &mb) {
				m.renderModels(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("The file is larger than %d KB; nothing was imported.", MaxModelSize>>10), nil, "")
				return
			}
			break
		}
		if part.FormName() == "file" && data == nil {
			data, err = io.ReadAll(io.LimitReader(part, MaxModelSize+1))
			if err != nil {
				part.Close()
				m.renderModels(w, r, http.StatusBadRequest, "The upload did not arrive completely; nothing was imported.", nil, "")
				return
			}
		}
		part.Close()
	}
	if len(data) == 0 {
		m.renderModels(w, r, http.StatusBadRequest, "Choose a model file (YAML) to import.", nil, "")
		return
	}
	mod, err := m.store.ImportModel(r.Context(), data)
	var ve *ValidationError
	switch {
	case errors.As(err, &ve):
		m.renderModels(w, r, http.StatusBadRequest, "The model was not imported: fix these problems and try again.", ve.Problems, "")
		return
	case errors.Is(err, ErrTooLarge):
		m.renderModels(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("The file is larger than %d KB; nothing was imported.", MaxModelSize>>10), nil, "")
		return
	case errors.Is(err, ErrConflict):
		m.renderModels(w, r, http.StatusConflict, "This model version exists already; give the new one another version.", nil, "")
		return
	case err != nil:
		m.fail(w, r, "import model", err)
		return
	}
	http.Redirect(w, r, "/resilience/models?imported="+url.QueryEscape(mod.Key()), http.StatusSeeOther)
}

type modelData struct {
	Model  *Model
	Levels []int
}

func (m *Module) model(w http.ResponseWriter, r *http.Request) {
	mod, err := m.store.Model(r.Context(), r.PathValue("key"))
	if err != nil {
		m.fail(w, r, "model", err)
		return
	}
	lv := make([]int, 0, MaxLevel+1)
	for l := MinLevel; l <= MaxLevel; l++ {
		lv = append(lv, l)
	}
	m.render(w, r, http.StatusOK, "model.html", mod.Title+" "+mod.Version, modelData{Model: mod, Levels: lv}, "")
}

func (m *Module) modelYAML(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	data, err := m.store.ModelSource(r.Context(), key)
	if err != nil {
		m.fail(w, r, "model source", err)
		return
	}
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+strings.ReplaceAll(key, "@", "-")+`.yaml"`)
	_, _ = w.Write(data) // a failed write means the client left
}

// ---- API -------------------------------------------------------------------------

type apiQuestion struct {
	ID              string         `json:"id"`
	Text            string         `json:"text"`
	Weight          float64        `json:"weight"`
	AppliesTo       []EntityType   `json:"applies_to,omitempty"`
	Recommendations []string       `json:"recommendations"`
	Levels          map[int]string `json:"levels"`
}

type apiDomain struct {
	ID        string        `json:"id"`
	Name      string        `json:"name"`
	Weight    float64       `json:"weight"`
	Questions []apiQuestion `json:"questions"`
}

type apiModel struct {
	Key      string          `json:"key"`
	ID       string          `json:"id"`
	Version  string          `json:"version"`
	Title    string          `json:"title"`
	Levels   []MaturityLevel `json:"maturity_levels"`
	Targets  Targets         `json:"targets"`
	Variants []Variant       `json:"variants"`
	Domains  []apiDomain     `json:"domains"`
}

func toAPIModel(mod *Model) apiModel {
	am := apiModel{Key: mod.Key(), ID: mod.ID, Version: mod.Version, Title: mod.Title, Levels: mod.Levels, Targets: mod.Targets, Variants: mod.Variants}
	for _, d := range mod.Domains {
		ad := apiDomain{ID: d.ID, Name: d.Name, Weight: d.Weight}
		for _, q := range d.Questions {
			ad.Questions = append(ad.Questions, apiQuestion{ID: q.ID, Text: q.Text, Weight: q.Weight, AppliesTo: q.AppliesTo,
				Recommendations: q.Recommendations, Levels: q.Levels})
		}
		am.Domains = append(am.Domains, ad)
	}
	return am
}

func (m *Module) apiModels(w http.ResponseWriter, r *http.Request) {
	ms, err := m.store.Models(r.Context())
	if err != nil {
		m.log.ErrorContext(r.Context(), "api models", "err", err)
		apiError(w, http.StatusInternalServerError, "models unavailable")
		return
	}
	out := make([]apiModel, 0, len(ms))
	for _, mod := range ms {
		out = append(out, toAPIModel(mod))
	}
	writeJSON(w, http.StatusOK, map[string]any{"models": out})
}

// apiAssessment resolves the assessment of the path for the token's user,
// who needs at least role min in its organisation. Anything else is 404,
// so that a token cannot probe other organisations' assessments.
func (m *Module) apiLoad(w http.ResponseWriter, r *http.Request, min web.Role) (Assessment, bool) {
	id, ok := web.PathID(r, "id")
	if !ok {
		apiError(w, http.StatusNotFound, "no such assessment")
		return Assessment{}, false
	}
	org, err := m.store.AssessmentOrg(r.Context(), id)
	if err == nil {
		role, member := web.CurrentPrincipal(r.Context()).Role(org)
		if !member {
			err = ErrNotFound
		} else if !role.AtLeast(min) {
			apiError(w, http.StatusForbidden, "your role in this organisation does not allow this (analyst or higher needed)")
			return Assessment{}, false
		}
	}
	var a Assessment
	if err == nil {
		a, err = m.store.Assessment(r.Context(), org, id)
	}
	if errors.Is(err, ErrNotFound) {
		apiError(w, http.StatusNotFound, "no such assessment")
		return Assessment{}, false
	}
	if err != nil {
		m.log.ErrorContext(r.Context(), "api assessment", "err", err)
		apiError(w, http.StatusInternalServerError, "assessment unavailable")
		return Assessment{}, false
	}
	return a, true
}

func (m *Module) apiAssessment(w http.ResponseWriter, r *http.Request) {
	a, ok := m.apiLoad(w, r, web.RoleViewer)
	if !ok {
		return
	}
	answers, err := m.store.Answers(r.Context(), a.ID)
	if err != nil {
		apiError(w, http.StatusInternalServerError, "answers unavailable")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": a.ID, "organisation": a.OrgID, "title": a.Title, "model": a.ModelKey, "variant": a.Variant,
		"profile": a.Profile, "risk_level": a.Risk, "status": a.Status, "campaign": a.CampaignID, "answers": answers})
}

// apiAnswerBody is the body of PUT …/answers/{question}.
type apiAnswerBody struct {
	Level    *int   `json:"level"`
	NA       bool   `json:"not_applicable"`
	NAReason string `json:"not_applicable_reason"`
	Comment  string `json:"comment"`
	// Version is the version of the answer the client saw (0: none).
	Version int `json:"version"`
}

func (m *Module) apiAnswer(w http.ResponseWriter, r *http.Request) {
	a, ok := m.apiLoad(w, r, web.RoleAnalyst)
	if !ok {
		return
	}
	var body apiAnswerBody
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		apiError(w, http.StatusBadRequest, "the body must be JSON: {\"level\": 0–5, \"not_applicable\": bool, \"not_applicable_reason\": text, \"comment\": text, \"version\": n}")
		return
	}
	in := Answer{QuestionID: r.PathValue("question"), Level: body.Level, NA: body.NA, NAReason: body.NAReason, Comment: body.Comment}
	saved, err := m.store.SaveAnswer(r.Context(), a.OrgID, a.ID, in, body.Version)
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, saved)
	case errors.Is(err, ErrStale):
		writeJSON(w, http.StatusConflict, map[string]any{"error": "the answer changed since version " + strconv.Itoa(body.Version), "current": saved})
	case errors.Is(err, ErrSubmitted):
		apiError(w, http.StatusConflict, "the assessment is signed off")
	case errors.Is(err, ErrInvalid):
		apiError(w, http.StatusBadRequest, problemOf(err))
	default:
		m.log.ErrorContext(r.Context(), "api answer", "err", err)
		apiError(w, http.StatusInternalServerError, "the answer could not be saved")
	}
}

func (m *Module) apiScores(w http.ResponseWriter, r *http.Request) {
	a, ok := m.apiLoad(w, r, web.RoleViewer)
	if !ok {
		return
	}
	_, _, sc, err := m.store.Scorecard(r.Context(), a.OrgID, a.ID)
	if err != nil {
		apiError(w, http.StatusInternalServerError, "scores unavailable")
		return
	}
	writeJSON(w, http.StatusOK, scoresDoc(a, sc))
}
