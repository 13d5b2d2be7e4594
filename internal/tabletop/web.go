package tabletop

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/dfslab/dfslab/internal/pdf"
	"github.com/dfslab/dfslab/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// StaticFS is the module's static files, served under /static/tabletop/.
func StaticFS() fs.FS {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder exists
	}
	return sub
}

// Links resolves what a scenario links to, for the pages: the titles of
// catalogue recommendations and the texts of resilience questions, with
// the page that shows each question.
type Links struct {
	Recommendation func(id string) (title string, ok bool)
	Question       func(id string) (text string, ok bool)
	// QuestionPage is the page of the resilience model, whose anchors
	// are "#q-ID".
	QuestionPage string
}

// Module serves the tabletop pages and API.
type Module struct {
	store      *Store
	hub        *Hub
	pages      *web.Pages
	links      Links
	log        *slog.Logger
	pdf        pdf.Renderer // nil: no PDF of the report
	follow     FollowUp
	lessons    Lessons
	reportTmpl *template.Template
	reportCSS  template.CSS
}

// Deps are what the module reaches of the rest of the platform; any may
// be nil (the report then offers no PDF, no sending, no publishing).
type Deps struct {
	Links Links
	// PDF renders the after-action report as PDF.
	PDF pdf.Renderer
	// FollowUp takes improvement items to the owners' tracking.
	FollowUp FollowUp
	// Lessons publishes the anonymised lessons learned.
	Lessons Lessons
	Log     *slog.Logger
}

// New returns the module; its live streams end with ctx.
func New(ctx context.Context, store *Store, rd *web.Renderer, deps Deps) (*Module, error) {
	ps, err := rd.Pages(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	rt, css, err := parseReport()
	if err != nil {
		return nil, err
	}
	log := deps.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Module{store: store, hub: NewHub(ctx, store, log), pages: ps, links: deps.Links, log: log, pdf: deps.PDF,
		follow: deps.FollowUp, lessons: deps.Lessons, reportTmpl: rt, reportCSS: css}, nil
}

func (l Links) recommendation(id string) (string, bool) {
	if l.Recommendation == nil {
		return "", false
	}
	return l.Recommendation(id)
}

func (l Links) question(id string) (string, bool) {
	if l.Question == nil {
		return "", false
	}
	return l.Question(id)
}

// Hub is the module's live event hub.
func (m *Module) Hub() *Hub { return m.hub }

// maxEditBody bounds the editor's form: the scenario's text, which URL
// encoding may triple, and the other fields.
const maxEditBody = 3*MaxScenarioSize + 64<<10

// Routes lists the pages and the API. The built-in library is readable by
// everyone signed in; an organisation's library is its own (viewers read,
// analysts clone, import, edit and delete).
func (m *Module) Routes() []web.Route {
	viewer := web.OrgRole(web.RoleViewer)
	analyst := web.OrgRole(web.RoleAnalyst)
	h := func(f http.HandlerFunc) http.Handler { return f }
	const lib = "/orgs/{org}/tabletop/scenarios"
	return append(append(append(append(m.exerciseRoutes(), m.answerRoutes()...), m.apiRoutes()...), m.reportRoutes()...), []web.Route{
		{Pattern: "GET /tabletop/scenarios", Policy: web.SignedIn(), Handler: h(m.builtins)},
		{Pattern: "GET /tabletop/scenarios/{key}", Policy: web.SignedIn(), Handler: h(m.builtin)},
		{Pattern: "GET /tabletop/scenarios/{key}/scenario.yaml", Policy: web.SignedIn(), Handler: h(m.builtinYAML)},

		{Pattern: "GET /orgs/{org}/tabletop", Policy: viewer, Handler: h(m.overview)},
		{Pattern: "POST " + lib, Policy: analyst, Handler: h(m.importScenario), MaxBody: MaxScenarioSize + 64<<10},
		{Pattern: "POST " + lib + "/clone", Policy: analyst, Handler: h(m.clone)},
		{Pattern: "GET " + lib + "/{id}", Policy: viewer, Handler: h(m.scenario)},
		{Pattern: "GET " + lib + "/{id}/edit", Policy: analyst, Handler: h(m.edit)},
		{Pattern: "POST " + lib + "/{id}", Policy: analyst, Handler: h(m.save), MaxBody: maxEditBody},
		{Pattern: "POST " + lib + "/{id}/delete", Policy: analyst, Handler: h(m.deleteScenario)},
		{Pattern: "GET " + lib + "/{id}/scenario.yaml", Policy: viewer, Handler: h(m.scenarioYAML)},

		{Pattern: "GET /api/v1/tabletop/scenarios", Policy: web.Token(web.ScopeRead), Handler: h(m.apiScenarios)},
	}...)
}

// Nav has one entry per organisation.
func (m *Module) Nav() []web.NavItem {
	return []web.NavItem{{Label: "Tabletop", Path: "/orgs/{org}/tabletop", Policy: web.OrgRole(web.RoleViewer), Order: 37}}
}

// ---- helpers ------------------------------------------------------------------

// fail maps a store error to a response. Another organisation's objects
// and unknown IDs are both 404.
func (m *Module) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		web.Error(w, r, http.StatusNotFound)
	case errors.Is(err, ErrInvalid):
		web.Error(w, r, http.StatusBadRequest)
	case errors.Is(err, ErrStale), errors.Is(err, ErrConflict):
		web.Error(w, r, http.StatusConflict)
	default:
		web.ServerError(w, r, what, err)
	}
}

func orgPath(orgID int64, rest string) string {
	return "/orgs/" + strconv.FormatInt(orgID, 10) + "/tabletop" + rest
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

func canEdit(r *http.Request) bool { return web.PathRole(r).AtLeast(web.RoleAnalyst) }

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

func writeYAML(w http.ResponseWriter, name string, data []byte) {
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.yaml"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(data) // a failed write means the client left
}

// fileName makes a download name of a key: letters, digits, '.', '-'.
func fileName(key string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '-'
	}, key)
}

// ---- scenario views -------------------------------------------------------------

type linkView struct{ ID, Title, Href string }

type actionView struct {
	Action     string
	Owner      string
	Recs       []linkView
	Questions  []linkView
	GroupID    string
	GroupName  string
	FirstOfGrp bool
}

type injectView struct {
	*Inject
	At       string
	Channel  string
	Groups   []string
	Expected []actionView
}

type scenarioView struct {
	S           *Scenario
	Domains     []string
	EntityTypes []string
	Roles       []roleView
	Injects     []injectView
	Recs        []linkView
	Questions   []linkView
}

type roleView struct {
	Role
	Type string
}

func (m *Module) recLink(id string) linkView {
	l := linkView{ID: id, Href: "/catalogue/" + url.PathEscape(id)}
	if m.links.Recommendation != nil {
		l.Title, _ = m.links.Recommendation(id)
	}
	return l
}

func (m *Module) questionLink(id string) linkView {
	l := linkView{ID: id}
	if m.links.Question != nil {
		if text, ok := m.links.Question(id); ok {
			l.Title = text
			if m.links.QuestionPage != "" {
				l.Href = m.links.QuestionPage + "#q-" + id
			}
		}
	}
	return l
}

func (m *Module) view(s *Scenario) scenarioView {
	v := scenarioView{S: s}
	for _, d := range s.Domains {
		v.Domains = append(v.Domains, DomainName(d))
	}
	for _, t := range s.EntityTypes {
		v.EntityTypes = append(v.EntityTypes, t.Label())
	}
	for _, r := range s.Roles {
		v.Roles = append(v.Roles, roleView{Role: r, Type: r.EntityType.Label()})
	}
	for _, in := range s.Injects {
		iv := injectView{Inject: in, At: "T+" + FormatOffset(in.Offset), Channel: in.Channel.Label()}
		for _, g := range in.Groups {
			iv.Groups = append(iv.Groups, DomainName(g))
		}
		for _, d := range Domains() {
			for i, a := range in.Expected[d.ID] {
				av := actionView{Action: a.Action, GroupID: d.ID, GroupName: d.Name, FirstOfGrp: i == 0}
				if a.Owner != "" {
					av.Owner = a.Owner.Label()
				}
				for _, id := range a.Recommendations {
					av.Recs = append(av.Recs, m.recLink(id))
				}
				for _, id := range a.Questions {
					av.Questions = append(av.Questions, m.questionLink(id))
				}
				iv.Expected = append(iv.Expected, av)
			}
		}
		v.Injects = append(v.Injects, iv)
	}
	for _, id := range s.Recommendations() {
		v.Recs = append(v.Recs, m.recLink(id))
	}
	for _, id := range s.Questions() {
		v.Questions = append(v.Questions, m.questionLink(id))
	}
	return v
}

// ---- built-in library --------------------------------------------------------------

type cloneTarget struct {
	OrgID int64
	Name  string
}

type builtinsData struct {
	Scenarios []*Scenario
	Targets   []cloneTarget // organisations where the user may clone
}

// cloneTargets are the organisations in which the signed-in user is an
// analyst or org admin.
func cloneTargets(r *http.Request) []cloneTarget {
	p := web.CurrentPrincipal(r.Context())
	if p == nil {
		return nil
	}
	var out []cloneTarget
	for _, ms := range p.Memberships {
		if ms.Role.AtLeast(web.RoleAnalyst) {
			out = append(out, cloneTarget{OrgID: ms.OrgID, Name: ms.OrgName})
		}
	}
	return out
}

func (m *Module) builtins(w http.ResponseWriter, r *http.Request) {
	m.render(w, r, http.StatusOK, "library.html", "Tabletop scenarios", builtinsData{Scenarios: m.store.Builtin(), Targets: cloneTargets(r)}, "")
}

type scenarioData struct {
	View    scenarioView
	Builtin bool
	Key     string
	Stored  *Stored
	OrgID   int64
	OrgName string
	CanEdit bool
	Targets []cloneTarget
	YAML    string // the export link
}

func (m *Module) builtin(w http.ResponseWriter, r *http.Request) {
	s, err := m.store.BuiltinScenario(r.PathValue("key"))
	if err != nil {
		m.fail(w, r, "scenario", err)
		return
	}
	m.render(w, r, http.StatusOK, "scenario.html", s.Title, scenarioData{View: m.view(s), Builtin: true, Key: s.Key(),
		Targets: cloneTargets(r), YAML: "/tabletop/scenarios/" + url.PathEscape(s.Key()) + "/scenario.yaml"}, "")
}

func (m *Module) builtinYAML(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	data, err := m.store.BuiltinScenarioSource(key)
	if err != nil {
		m.fail(w, r, "scenario source", err)
		return
	}
	writeYAML(w, fileName(key), data)
}

// ---- an organisation's library ------------------------------------------------------

type overviewData struct {
	OrgID     int64
	OrgName   string
	Library   []Stored
	Builtin   []*Scenario
	Exercises []exerciseRow
	CanEdit   bool
	Problem   string
	Problems  []Problem
	Form      exerciseForm
	MinSpeed  int
	MaxSpeed  int
}

type exerciseRow struct {
	ExerciseRow
	StatusLabel string
	RoleLabel   string
	Own         bool // run by this organisation
}

// exerciseForm is the create form as typed, kept on a refusal.
type exerciseForm struct {
	Title, Scenario, Speed string
}

func (m *Module) overview(w http.ResponseWriter, r *http.Request) {
	flash := ""
	switch r.URL.Query().Get("done") {
	case "deleted":
		flash = "Scenario deleted. Exercises created from it keep their copy."
	}
	m.renderOverview(w, r, http.StatusOK, "", nil, flash)
}

func (m *Module) renderOverview(w http.ResponseWriter, r *http.Request, status int, problem string, ps []Problem, flash string) {
	orgID, _ := web.PathOrg(r)
	name, err := m.store.OrgName(r.Context(), orgID)
	if err != nil {
		m.fail(w, r, "organisation", err)
		return
	}
	lib, err := m.store.Library(r.Context(), orgID)
	if err != nil {
		m.fail(w, r, "library", err)
		return
	}
	u, _ := web.CurrentUser(r.Context())
	exs, err := m.store.ExercisesOf(r.Context(), orgID, u.ID)
	if err != nil {
		m.fail(w, r, "exercises", err)
		return
	}
	d := overviewData{OrgID: orgID, OrgName: name, Library: lib, Builtin: m.store.Builtin(), CanEdit: canEdit(r),
		Problem: problem, Problems: ps, MinSpeed: MinSpeed, MaxSpeed: MaxSpeed}
	if r.Method == http.MethodPost && r.URL.Path == orgPath(orgID, "/exercises") {
		d.Form = exerciseForm{Title: r.PostFormValue("title"), Scenario: r.PostFormValue("scenario"), Speed: r.PostFormValue("speed")}
	}
	for _, e := range exs {
		d.Exercises = append(d.Exercises, exerciseRow{ExerciseRow: e, StatusLabel: e.Status.Label(), RoleLabel: e.Role.Label(), Own: e.OrgID == orgID})
	}
	m.render(w, r, status, "overview.html", "Tabletop exercises", d, flash)
}

// readUpload reads the "file" part of a multipart form, at most max
// bytes; tooLarge reports a larger file.
func readUpload(r *http.Request, max int64) (data []byte, tooLarge bool, err error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, false, err
	}
	for {
		part, err := mr.NextPart()
		if err != nil {
			var mb *http.MaxBytesError
			if errors.As(err, &mb) {
				return nil, true, nil
			}
			if errors.Is(err, io.EOF) {
				return data, false, nil
			}
			return nil, false, err
		}
		if part.FormName() == "file" && data == nil {
			data, err = io.ReadAll(io.LimitReader(part, max+1))
			part.Close()
			if err != nil {
				var mb *http.MaxBytesError
				if errors.As(err, &mb) {
					return nil, true, nil
				}
				return nil, false, err
			}
			if int64(len(data)) > max {
				return nil, true, nil
			}
			continue
		}
		part.Close()
	}
}

func (m *Module) importScenario(w http.ResponseWriter, r *http.Request) {
	orgID, _ := web.PathOrg(r)
	data, tooLarge, err := readUpload(r, MaxScenarioSize)
	switch {
	case tooLarge:
		m.renderOverview(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("The file is larger than %d KB; nothing was imported.", MaxScenarioSize>>10), nil, "")
		return
	case err != nil || len(data) == 0:
		m.renderOverview(w, r, http.StatusBadRequest, "Choose a scenario file (YAML) to import.", nil, "")
		return
	}
	st, err := m.store.Import(r.Context(), orgID, normalise(data))
	if m.saveFailed(w, r, err, func(status int, problem string, ps []Problem) { m.renderOverview(w, r, status, problem, ps, "") }) {
		return
	}
	http.Redirect(w, r, orgPath(orgID, fmt.Sprintf("/scenarios/%d?done=imported", st.ID)), http.StatusSeeOther)
}

// saveFailed answers a failed import, clone or save through show and
// reports whether err was a failure.
func (m *Module) saveFailed(w http.ResponseWriter, r *http.Request, err error, show func(status int, problem string, ps []Problem)) bool {
	var ve *ValidationError
	switch {
	case err == nil:
		return false
	case errors.As(err, &ve):
		show(http.StatusBadRequest, "The scenario was not saved: fix these problems and try again.", ve.Problems)
	case errors.Is(err, ErrTooLarge):
		show(http.StatusRequestEntityTooLarge, fmt.Sprintf("The scenario is larger than %d KB; it was not saved.", MaxScenarioSize>>10), nil)
	case errors.Is(err, ErrConflict):
		show(http.StatusConflict, "Your library has a scenario with this id and version already; change the version and try again.", nil)
	case errors.Is(err, ErrInvalid):
		show(http.StatusBadRequest, problemOf(err), nil)
	case errors.Is(err, ErrNotFound):
		web.Error(w, r, http.StatusNotFound)
	default:
		m.fail(w, r, "save scenario", err)
	}
	return true
}

// normalise turns the line ends of a browser's text area into newlines.
func normalise(data []byte) []byte {
	return []byte(strings.ReplaceAll(string(data), "\r\n", "\n"))
}

func (m *Module) clone(w http.ResponseWriter, r *http.Request) {
	orgID, _ := web.PathOrg(r)
	if !web.ParseForm(w, r) {
		return
	}
	from := r.PostFormValue("from")
	fromID, _ := strconv.ParseInt(r.PostFormValue("from_id"), 10, 64)
	if from == "" && fromID == 0 {
		m.renderOverview(w, r, http.StatusBadRequest, "Choose the scenario to clone.", nil, "")
		return
	}
	st, err := m.store.Clone(r.Context(), orgID, from, fromID)
	if errors.Is(err, ErrNotFound) {
		m.renderOverview(w, r, http.StatusBadRequest, "There is no such scenario to clone.", nil, "")
		return
	}
	if m.saveFailed(w, r, err, func(status int, problem string, ps []Problem) { m.renderOverview(w, r, status, problem, ps, "") }) {
		return
	}
	http.Redirect(w, r, orgPath(orgID, fmt.Sprintf("/scenarios/%d/edit?done=cloned", st.ID)), http.StatusSeeOther)
}

func (m *Module) loadStored(w http.ResponseWriter, r *http.Request) (Stored, string, bool) {
	orgID, _ := web.PathOrg(r)
	id, ok := web.PathID(r, "id")
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return Stored{}, "", false
	}
	st, err := m.store.Scenario(r.Context(), orgID, id)
	if err != nil {
		m.fail(w, r, "scenario", err)
		return Stored{}, "", false
	}
	name, err := m.store.OrgName(r.Context(), orgID)
	if err != nil {
		m.fail(w, r, "organisation", err)
		return Stored{}, "", false
	}
	return st, name, true
}

func (m *Module) scenario(w http.ResponseWriter, r *http.Request) {
	st, name, ok := m.loadStored(w, r)
	if !ok {
		return
	}
	flash := map[string]string{"imported": "Scenario imported into your library.", "saved": "Scenario saved."}[r.URL.Query().Get("done")]
	m.render(w, r, http.StatusOK, "scenario.html", st.Scenario.Title, scenarioData{View: m.view(st.Scenario), Key: st.Scenario.Key(),
		Stored: &st, OrgID: st.OrgID, OrgName: name, CanEdit: canEdit(r),
		YAML: orgPath(st.OrgID, fmt.Sprintf("/scenarios/%d/scenario.yaml", st.ID))}, flash)
}

func (m *Module) scenarioYAML(w http.ResponseWriter, r *http.Request) {
	st, _, ok := m.loadStored(w, r)
	if !ok {
		return
	}
	writeYAML(w, fileName(st.Scenario.Key()), []byte(st.Source))
}

type editData struct {
	Stored   Stored
	OrgName  string
	Source   string // the text in the editor: the stored one, or the one typed
	Rev      int
	Current  string // on a stale save: the text saved meanwhile
	Problem  string
	Problems []Problem
	MaxKB    int
	Lines    int
}

func (m *Module) edit(w http.ResponseWriter, r *http.Request) {
	st, name, ok := m.loadStored(w, r)
	if !ok {
		return
	}
	flash := ""
	if r.URL.Query().Get("done") == "cloned" {
		flash = "Scenario cloned into your library. Edit it here; the original stays as it is."
	}
	m.renderEdit(w, r, http.StatusOK, editData{Stored: st, OrgName: name, Source: st.Source, Rev: st.Rev}, flash)
}

func (m *Module) renderEdit(w http.ResponseWriter, r *http.Request, status int, d editData, flash string) {
	d.MaxKB = MaxScenarioSize >> 10
	d.Lines = min(max(strings.Count(d.Source, "\n")+2, 12), 40)
	m.render(w, r, status, "edit.html", "Edit "+d.Stored.Scenario.Title, d, flash)
}

func (m *Module) save(w http.ResponseWriter, r *http.Request) {
	st, name, ok := m.loadStored(w, r)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	src := string(normalise([]byte(r.PostFormValue("source"))))
	rev, _ := strconv.Atoi(r.PostFormValue("rev"))
	d := editData{Stored: st, OrgName: name, Source: src, Rev: rev}
	if len(src) > MaxScenarioSize {
		d.Problem = fmt.Sprintf("The scenario is %d KB, more than the limit of %d KB; it was not saved. Your text is kept below.", len(src)>>10, MaxScenarioSize>>10)
		m.renderEdit(w, r, http.StatusRequestEntityTooLarge, d, "")
		return
	}
	saved, err := m.store.Save(r.Context(), st.OrgID, st.ID, []byte(src), rev)
	if errors.Is(err, ErrStale) {
		d.Problem = "Someone saved this scenario while you were editing. Your text is kept in the editor; their version is shown below it. Merge the two and save again."
		d.Current, d.Rev = saved.Source, saved.Rev
		m.renderEdit(w, r, http.StatusConflict, d, "")
		return
	}
	if m.saveFailed(w, r, err, func(status int, problem string, ps []Problem) {
		d.Problem, d.Problems = problem, ps
		m.renderEdit(w, r, status, d, "")
	}) {
		return
	}
	http.Redirect(w, r, orgPath(st.OrgID, fmt.Sprintf("/scenarios/%d?done=saved", saved.ID)), http.StatusSeeOther)
}

func (m *Module) deleteScenario(w http.ResponseWriter, r *http.Request) {
	orgID, _ := web.PathOrg(r)
	id, ok := web.PathID(r, "id")
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	if err := m.store.Delete(r.Context(), orgID, id); err != nil {
		m.fail(w, r, "delete scenario", err)
		return
	}
	http.Redirect(w, r, orgPath(orgID, "?done=deleted"), http.StatusSeeOther)
}

// ---- API -------------------------------------------------------------------------

type apiScenario struct {
	Key          string    `json:"key"`
	Organisation int64     `json:"organisation,omitempty"` // 0: built in
	LibraryID    int64     `json:"library_id,omitempty"`
	Groups       []Domain  `json:"groups"`
	Scenario     *Scenario `json:"scenario"`
}

// apiScenarios lists the built-in scenarios and those of the libraries of
// the token owner's organisations, with injects and expected actions.
func (m *Module) apiScenarios(w http.ResponseWriter, r *http.Request) {
	out := []apiScenario{}
	for _, s := range m.store.Builtin() {
		out = append(out, apiScenario{Key: s.Key(), Groups: Domains(), Scenario: s})
	}
	for _, ms := range web.CurrentPrincipal(r.Context()).Memberships {
		lib, err := m.store.Library(r.Context(), ms.OrgID)
		if err != nil {
			m.log.ErrorContext(r.Context(), "api scenarios", "err", err)
			apiError(w, http.StatusInternalServerError, "scenarios unavailable")
			return
		}
		for _, st := range lib {
			out = append(out, apiScenario{Key: st.Scenario.Key(), Organisation: st.OrgID, LibraryID: st.ID, Groups: Domains(), Scenario: st.Scenario})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"scenarios": out})
}
