package frameworks

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/catalog/framework"
	"github.com/dfslab/dfslab/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// Module serves the framework pages and renders the "In other
// frameworks" section of recommendation pages (catalogweb.Extras).
type Module struct {
	store  *Store
	cat    *catalog.Catalog
	pages  *web.Pages
	extras *template.Template
	log    *slog.Logger
}

// New returns the module over store; cat gives the titles of the
// recommendations that controls map to.
func New(store *Store, cat *catalog.Catalog, rd *web.Renderer, log *slog.Logger) (*Module, error) {
	ps, err := rd.Pages(templateFS, "templates/page_*.html")
	if err != nil {
		return nil, err
	}
	ex, err := template.New("extras").ParseFS(templateFS, "templates/extras.html")
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Module{store: store, cat: cat, pages: ps, extras: ex, log: log}, nil
}

// uploadLimit is the request limit of an import: the framework file and
// an optional mapping file, each up to framework.MaxSize, plus the
// multipart framing.
const uploadLimit = 2*framework.MaxSize + 64<<10

// Routes lists the module's routes: members browse, platform
// administrators import and edit mappings.
func (m *Module) Routes() []web.Route {
	member, admin := web.SignedIn(), web.PlatformAdmin()
	h := func(f http.HandlerFunc) http.Handler { return f }
	return []web.Route{
		{Pattern: "GET /frameworks", Policy: member, Handler: h(m.list)},
		{Pattern: "POST /frameworks", Policy: admin, Handler: h(m.upload), MaxBody: uploadLimit},
		{Pattern: "GET /frameworks/{id}", Policy: member, Handler: h(m.framework)},
		{Pattern: "GET /frameworks/controls/{id}", Policy: member, Handler: h(m.control)},
		{Pattern: "POST /frameworks/controls/{id}/mappings", Policy: admin, Handler: h(m.setMapping)},
		{Pattern: "POST /frameworks/mappings/{id}/delete", Policy: admin, Handler: h(m.deleteMapping)},
	}
}

// Nav adds the frameworks to the main navigation.
func (m *Module) Nav() []web.NavItem {
	return []web.NavItem{{Label: "Frameworks", Path: "/frameworks", Policy: web.SignedIn(), Order: 8}}
}

func isAdmin(r *http.Request) bool {
	p := web.CurrentPrincipal(r.Context())
	return p != nil && p.User.PlatformAdmin
}

type listData struct {
	Frameworks []Framework
	Admin      bool
	Problems   []string // why the last upload was refused
	Imported   *Framework
}

func (m *Module) list(w http.ResponseWriter, r *http.Request) {
	m.renderList(w, r, http.StatusOK, listData{})
}

func (m *Module) renderList(w http.ResponseWriter, r *http.Request, status int, d listData) {
	fs, err := m.store.List(r.Context())
	if err != nil {
		web.ServerError(w, r, "list frameworks", err)
		return
	}
	d.Frameworks, d.Admin = fs, isAdmin(r)
	m.pages.Render(w, r, status, "page_list.html", web.View{Title: "Frameworks", Data: d})
}

// uploadError is an import refused for a reason the uploader can fix.
type uploadError struct {
	status   int
	problems []string
}

func refused(status int, format string, args ...any) *uploadError {
	return &uploadError{status: status, problems: []string{fmt.Sprintf(format, args...)}}
}

func (m *Module) upload(w http.ResponseWriter, r *http.Request) {
	fw, data, name, uerr := m.receive(r)
	if uerr != nil {
		m.renderList(w, r, uerr.status, listData{Problems: uerr.problems})
		return
	}
	out, err := m.store.Import(r.Context(), fw, data, name)
	if err != nil {
		web.ServerError(w, r, "import framework", err)
		return
	}
	m.log.InfoContext(r.Context(), "framework imported", slog.String("key", out.Key), slog.Int("revision", out.Revision),
		slog.Int("controls", out.Controls), slog.Int("mappings", out.Mappings))
	http.Redirect(w, r, "/frameworks/"+strconv.FormatInt(out.ID, 10), http.StatusSeeOther)
}

// receive reads the form: the framework in field "file", its format in
// "format" (auto, yaml or oscal) and an optional mapping file in
// "mappings". It parses and validates everything before anything is
// stored.
func (m *Module) receive(r *http.Request) (*framework.Framework, []byte, string, *uploadError) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, nil, "", refused(http.StatusBadRequest, "send the framework as multipart/form-data in the field \"file\"")
	}
	var data, maps []byte
	var name string
	format := "auto"
	for {
		part, err := mr.NextPart()
		if err != nil {
			var mb *http.MaxBytesError
			switch {
			case errors.As(err, &mb):
				return nil, nil, "", refused(http.StatusRequestEntityTooLarge, "the upload is larger than %d bytes", uploadLimit)
			case errors.Is(err, io.EOF):
			default:
				return nil, nil, "", refused(http.StatusBadRequest, "the upload is incomplete: %v", err)
			}
			break
		}
		var b []byte
		switch part.FormName() {
		case "format", "file", "mappings":
			b, err = io.ReadAll(io.LimitReader(part, framework.MaxSize+1))
			if err != nil {
				part.Close()
				var mb *http.MaxBytesError
				if errors.As(err, &mb) {
					return nil, nil, "", refused(http.StatusRequestEntityTooLarge, "the upload is larger than %d bytes", uploadLimit)
				}
				return nil, nil, "", refused(http.StatusBadRequest, "the upload is incomplete: %v", err)
			}
			if len(b) > framework.MaxSize {
				part.Close()
				return nil, nil, "", refused(http.StatusRequestEntityTooLarge, "%s is larger than the limit of %d bytes", part.FormName(), framework.MaxSize)
			}
		}
		switch part.FormName() {
		case "format":
			format = strings.TrimSpace(string(b))
		case "file":
			data, name = b, part.FileName()
			// Multipart fields escape the shell's form check: the file
			// name is kept and shown, so it gets the same rule.
			if err := web.CheckField("file name", name); err != nil {
				part.Close()
				return nil, nil, "", refused(http.StatusBadRequest, "the file name contains characters that are not accepted; rename the file")
			}
		case "mappings":
			maps = b
		}
		part.Close()
	}
	if len(data) == 0 {
		return nil, nil, "", refused(http.StatusBadRequest, "choose a framework file (YAML or OSCAL catalog JSON)")
	}
	switch format {
	case "", "auto":
		format = framework.Sniff(data)
	case framework.FormatYAML, framework.FormatOSCAL:
	default:
		return nil, nil, "", refused(http.StatusBadRequest, "unknown format %q", format)
	}
	fw, err := framework.Parse(data, format, m.store.known)
	if err == nil && len(maps) > 0 {
		err = framework.ApplyMappings(fw, maps, m.store.known)
	}
	if err != nil {
		var ve *framework.ValidationError
		if errors.As(err, &ve) {
			ue := &uploadError{status: http.StatusBadRequest}
			for _, p := range ve.Problems {
				ue.problems = append(ue.problems, ve.Format+" file, "+p.String())
			}
			return nil, nil, "", ue
		}
		return nil, nil, "", refused(http.StatusBadRequest, "%v", err)
	}
	return fw, data, name, nil
}

type frameworkData struct {
	Framework Framework
	Revisions []Framework
	Groups    []controlGroup
	Titles    map[string]string
}

type controlGroup struct {
	Title    string
	Controls []Control
}

func (m *Module) framework(w http.ResponseWriter, r *http.Request) {
	id, ok := web.PathID(r, "id")
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	f, err := m.store.Framework(r.Context(), id)
	if errors.Is(err, ErrNotFound) {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	if err != nil {
		web.ServerError(w, r, "framework", err)
		return
	}
	cs, err := m.store.Controls(r.Context(), id)
	if err != nil {
		web.ServerError(w, r, "framework controls", err)
		return
	}
	revs, err := m.store.Revisions(r.Context(), f.Key)
	if err != nil {
		web.ServerError(w, r, "framework revisions", err)
		return
	}
	d := frameworkData{Framework: f, Revisions: revs, Titles: m.titles()}
	for _, c := range cs {
		if n := len(d.Groups); n == 0 || d.Groups[n-1].Title != c.Group {
			d.Groups = append(d.Groups, controlGroup{Title: c.Group})
		}
		g := &d.Groups[len(d.Groups)-1]
		g.Controls = append(g.Controls, c)
	}
	m.pages.Render(w, r, http.StatusOK, "page_framework.html", web.View{Title: f.Title, Data: d})
}

func (m *Module) titles() map[string]string {
	out := make(map[string]string, len(m.cat.Recommendations))
	for _, rec := range m.cat.Recommendations {
		out[rec.ID] = rec.Title
	}
	return out
}

type controlData struct {
	Framework Framework
	Control   Control
	Titles    map[string]string
	Admin     bool
	Relations []framework.Relation
	Recs      []catalog.Recommendation
	Problem   string
	Form      struct{ Rec, Relation, Note string }
}

func (m *Module) control(w http.ResponseWriter, r *http.Request) {
	m.renderControl(w, r, http.StatusOK, controlData{})
}

// renderControl shows the control of the {id} wildcard; d carries a
// refused form.
func (m *Module) renderControl(w http.ResponseWriter, r *http.Request, status int, d controlData) {
	id, ok := web.PathID(r, "id")
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	c, err := m.store.Control(r.Context(), id)
	if errors.Is(err, ErrNotFound) {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	if err != nil {
		web.ServerError(w, r, "framework control", err)
		return
	}
	f, err := m.store.Framework(r.Context(), c.FrameworkID)
	if err != nil {
		web.ServerError(w, r, "framework of control", err)
		return
	}
	d.Framework, d.Control, d.Titles, d.Admin, d.Relations = f, c, m.titles(), isAdmin(r), framework.Relations()
	if d.Admin {
		d.Recs = m.cat.Recommendations
	}
	m.pages.Render(w, r, status, "page_control.html", web.View{Title: c.Key + " " + c.Title, Data: d})
}

func (m *Module) setMapping(w http.ResponseWriter, r *http.Request) {
	id, ok := web.PathID(r, "id")
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	// The control is looked up before the form is read, so an unknown one
	// answers 404 whatever was sent.
	if _, err := m.store.Control(r.Context(), id); errors.Is(err, ErrNotFound) {
		web.Error(w, r, http.StatusNotFound)
		return
	} else if err != nil {
		web.ServerError(w, r, "framework control", err)
		return
	}
	rec, rel, note := r.PostFormValue("rec"), r.PostFormValue("relation"), r.PostFormValue("note")
	_, err := m.store.SetMapping(r.Context(), id, rec, framework.Relation(rel), note)
	var ie *InputError
	switch {
	case errors.As(err, &ie):
		d := controlData{Problem: ie.Msg}
		d.Form.Rec, d.Form.Relation, d.Form.Note = rec, rel, note
		m.renderControl(w, r, http.StatusBadRequest, d)
		return
	case errors.Is(err, ErrNotFound):
		web.Error(w, r, http.StatusNotFound)
		return
	case err != nil:
		web.ServerError(w, r, "set mapping", err)
		return
	}
	http.Redirect(w, r, "/frameworks/controls/"+strconv.FormatInt(id, 10)+"#mappings", http.StatusSeeOther)
}

func (m *Module) deleteMapping(w http.ResponseWriter, r *http.Request) {
	id, ok := web.PathID(r, "id")
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	ctl, err := m.store.DeleteMapping(r.Context(), id)
	if errors.Is(err, ErrNotFound) {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	if err != nil {
		web.ServerError(w, r, "delete mapping", err)
		return
	}
	http.Redirect(w, r, "/frameworks/controls/"+strconv.FormatInt(ctl, 10)+"#mappings", http.StatusSeeOther)
}

type extrasData struct {
	Rec      *catalog.Recommendation
	Controls []MappedControl
}

// RecommendationExtras lists, on a recommendation page, the controls of
// imported frameworks that map to it (catalogweb.Extras). Visitors of a
// public catalogue who are not signed in see nothing: the frameworks are
// for members.
func (m *Module) RecommendationExtras(r *http.Request, rec *catalog.Recommendation) (template.HTML, error) {
	p := web.CurrentPrincipal(r.Context())
	if p == nil || p.IsToken() {
		return "", nil
	}
	mc, err := m.store.ForRecommendation(r.Context(), rec.ID)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := m.extras.ExecuteTemplate(&buf, "extras", extrasData{Rec: rec, Controls: mc}); err != nil {
		return "", err
	}
	return template.HTML(buf.String()), nil
}
