package collab

import (
	"bytes"
	"cmp"
	"context"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// Module serves discussions, notes, proposals and notifications, renders
// the collaboration sections of recommendation pages (catalogweb.Extras)
// and the notification badge of the layout (web.Indicator).
type Module struct {
	store  *Store
	cats   *Catalogues
	pages  *web.Pages
	extras *template.Template
	log    *slog.Logger
	now    func() time.Time
}

// New returns the module over store; cats supplies the current catalogue
// for titles and the text a proposal amends.
func New(store *Store, cats *Catalogues, rd *web.Renderer, log *slog.Logger) (*Module, error) {
	ps, err := rd.Pages(templateFS, "templates/page_*.html")
	if err != nil {
		return nil, err
	}
	ex, err := template.New("extras").Funcs(funcs).ParseFS(templateFS, "templates/extras.html")
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Module{store: store, cats: cats, pages: ps, extras: ex, log: log, now: store.now}, nil
}

var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"audiences": Audiences,
}

// Routes lists the module's endpoints. Every page needs a browser session;
// what a signed-in user then sees is decided by the store's audience
// rules, so a thread outside the caller's audience is a 404 like a thread
// that does not exist. Accepting and declining proposals is for platform
// administrators, with step-up.
func (m *Module) Routes() []web.Route {
	in := web.SignedIn()
	// A decision changes the catalogue every member reads: it needs a
	// recent passkey or TOTP verification.
	review := web.PlatformAdmin().WithStepUp()
	type h = http.HandlerFunc
	return []web.Route{
		{Pattern: "GET /discussions", Policy: in, Handler: h(m.discussions)},
		{Pattern: "POST /discussions", Policy: in, Handler: h(m.createThread)},
		{Pattern: "GET /discussions/{id}", Policy: in, Handler: h(m.thread)},
		{Pattern: "POST /discussions/{id}/replies", Policy: in, Handler: h(m.reply)},
		{Pattern: "POST /posts/{id}/edit", Policy: in, Handler: h(m.editPost)},
		{Pattern: "POST /posts/{id}/delete", Policy: in, Handler: h(m.deletePost)},
		{Pattern: "POST /notes", Policy: in, Handler: h(m.addNote)},
		{Pattern: "POST /notes/{id}/delete", Policy: in, Handler: h(m.deleteNote)},
		{Pattern: "GET /proposals", Policy: in, Handler: h(m.proposals)},
		{Pattern: "POST /proposals", Policy: in, Handler: h(m.propose)},
		{Pattern: "GET /proposals/{id}", Policy: in, Handler: h(m.proposal)},
		{Pattern: "POST /proposals/{id}/accept", Policy: review, Handler: h(m.accept)},
		{Pattern: "POST /proposals/{id}/decline", Policy: review, Handler: h(m.decline)},
		{Pattern: "GET /notifications", Policy: in, Handler: h(m.notifications)},
		{Pattern: "POST /notifications/{id}/read", Policy: in, Handler: h(m.markRead)},
		{Pattern: "POST /notifications/read-all", Policy: in, Handler: h(m.markAllRead)},
	}
}

// Nav adds discussions and proposals to the main navigation.
func (m *Module) Nav() []web.NavItem {
	return []web.NavItem{
		{Label: "Discussions", Path: "/discussions", Policy: web.SignedIn(), Order: 6},
		{Label: "Proposals", Path: "/proposals", Policy: web.SignedIn(), Order: 7},
	}
}

// Indicate is the notification badge in the header.
func (m *Module) Indicate(r *http.Request, p *web.Principal) (web.Badge, bool) {
	n, err := m.store.Unread(r.Context(), p.User.ID)
	if err != nil {
		m.log.WarnContext(r.Context(), "unread notifications", "err", err)
		return web.Badge{}, false
	}
	return web.Badge{ID: "notifications-badge", Label: "Notifications", Href: "/notifications", Count: n}, true
}

func viewer(r *http.Request) (Viewer, *web.Principal) {
	p := web.CurrentPrincipal(r.Context())
	if p == nil {
		return Viewer{}, nil
	}
	return Viewer{UserID: p.User.ID, Admin: p.User.PlatformAdmin}, p
}

func formID(r *http.Request, name string) int64 {
	id, _ := strconv.ParseInt(r.PostFormValue(name), 10, 64)
	return id
}

// problem is the user-facing reason for a refused input, "" otherwise.
func problem(err error) string {
	var ie *InputError
	if errors.As(err, &ie) {
		return ie.Msg
	}
	return ""
}

// fail answers a store error: refused input is the caller's (400 with the
// page re-rendered by retry), the rest map to generic pages.
func (m *Module) fail(w http.ResponseWriter, r *http.Request, what string, err error, retry func(msg string)) {
	switch {
	case errors.Is(err, ErrInvalid) && retry != nil:
		retry(problem(err))
	case errors.Is(err, ErrInvalid):
		web.Error(w, r, http.StatusBadRequest)
	case errors.Is(err, ErrNotFound):
		web.Error(w, r, http.StatusNotFound)
	case errors.Is(err, ErrForbidden):
		web.Error(w, r, http.StatusForbidden)
	case errors.Is(err, ErrEditWindow), errors.Is(err, ErrDecided):
		web.Error(w, r, http.StatusConflict)
	default:
		web.ServerError(w, r, what, err)
	}
}

func noStore(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-store") }

// recTitle is "ID Title" of a recommendation in the current catalogue.
func (m *Module) recTitles(ctx context.Context) map[string]string {
	cat, _, err := m.cats.Current(ctx)
	if err != nil {
		cat = m.store.base
	}
	out := make(map[string]string, len(cat.Recommendations))
	for _, r := range cat.Recommendations {
		out[r.ID] = r.Title
	}
	return out
}

type threadForm struct {
	RecID    string
	OrgID    int64
	Audience Audience
	Title    string
	Body     string
}

type discussionsData struct {
	Query     string
	RecID     string
	RecTitle  string
	Threads   []Thread
	Titles    map[string]string
	Orgs      []web.Membership
	Form      threadForm
	Problem   string
	CanCreate bool
	Page      int
	Prev      string // URL of the previous page ("" on the first)
	Next      string // URL of the next page ("" on the last)
}

// threadsPage is how many threads a page of the list shows.
const threadsPage = 50

// pageURL is the discussions list with the current search on page n.
func pageURL(q url.Values, n int) string {
	q = maps.Clone(q)
	q.Del("page")
	if n > 1 {
		q.Set("page", strconv.Itoa(n))
	}
	if e := q.Encode(); e != "" {
		return "/discussions?" + e
	}
	return "/discussions"
}

func (m *Module) discussions(w http.ResponseWriter, r *http.Request) {
	m.renderDiscussions(w, r, http.StatusOK, threadForm{RecID: r.URL.Query().Get("rec"), Audience: AudienceOrg}, "")
}

func (m *Module) renderDiscussions(w http.ResponseWriter, r *http.Request, status int, form threadForm, msg string) {
	v, p := viewer(r)
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > 200 {
		q = q[:200]
	}
	titles := m.recTitles(r.Context())
	rec := strings.ToUpper(strings.TrimSpace(r.URL.Query().Get("rec")))
	if _, ok := titles[rec]; !ok {
		rec = "" // an unknown ID filters nothing rather than echoing it
	}
	page := 1
	if s := r.URL.Query().Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 10000 {
			status, msg = http.StatusBadRequest, cmp.Or(msg, "The page number must be a whole number from 1.")
		} else {
			page = n
		}
	}
	// One more than a page tells whether there is a next one.
	threads, err := m.store.Threads(r.Context(), v, ThreadQuery{RecID: rec, Text: q, Limit: threadsPage + 1, Offset: (page - 1) * threadsPage})
	if err != nil {
		web.ServerError(w, r, "list threads", err)
		return
	}
	var prev, next string
	if len(threads) > threadsPage {
		threads, next = threads[:threadsPage], pageURL(r.URL.Query(), page+1)
	}
	if page > 1 {
		prev = pageURL(r.URL.Query(), page-1)
	}
	if _, ok := titles[strings.ToUpper(form.RecID)]; !ok && msg == "" {
		form.RecID = rec
	}
	noStore(w)
	m.pages.Render(w, r, status, "page_discussions.html", web.View{Title: "Discussions", Data: discussionsData{
		Query: q, RecID: rec, RecTitle: titles[rec], Threads: threads, Titles: titles, Orgs: p.Memberships,
		Form: form, Problem: msg, CanCreate: len(p.Memberships) > 0, Page: page, Prev: prev, Next: next}})
}

func (m *Module) createThread(w http.ResponseWriter, r *http.Request) {
	if !web.ParseForm(w, r) {
		return
	}
	v, _ := viewer(r)
	f := threadForm{RecID: r.PostFormValue("rec"), OrgID: formID(r, "org"), Audience: Audience(r.PostFormValue("audience")),
		Title: r.PostFormValue("title"), Body: r.PostFormValue("body")}
	t, err := m.store.CreateThread(r.Context(), v, NewThread(f))
	if err != nil {
		m.fail(w, r, "create thread", err, func(msg string) { m.renderDiscussions(w, r, http.StatusBadRequest, f, msg) })
		return
	}
	http.Redirect(w, r, "/discussions/"+strconv.FormatInt(t.ID, 10), http.StatusSeeOther)
}

type postView struct {
	Post
	Own     bool
	CanEdit bool
}

type threadData struct {
	Thread   Thread
	RecTitle string
	Posts    []postView
	Admin    bool
	Draft    string
	Problem  string
	EditID   int64
}

func (m *Module) thread(w http.ResponseWriter, r *http.Request) {
	m.renderThread(w, r, http.StatusOK, 0, "", "")
}

func (m *Module) renderThread(w http.ResponseWriter, r *http.Request, status int, threadID int64, draft, msg string) {
	v, _ := viewer(r)
	id := threadID
	if id == 0 {
		var ok bool
		if id, ok = web.PathID(r, "id"); !ok {
			web.Error(w, r, http.StatusNotFound)
			return
		}
	}
	t, posts, err := m.store.Thread(r.Context(), v, id)
	if err != nil {
		m.fail(w, r, "thread", err, nil)
		return
	}
	d := threadData{Thread: t, RecTitle: m.recTitles(r.Context())[t.RecID], Admin: v.Admin, Draft: draft, Problem: msg}
	now := m.now()
	for _, p := range posts {
		own := p.AuthorID == v.UserID
		d.Posts = append(d.Posts, postView{Post: p, Own: own, CanEdit: own && !p.IsDeleted() && now.Sub(p.Created) <= EditWindow})
	}
	noStore(w)
	m.pages.Render(w, r, status, "page_thread.html", web.View{Title: t.Title, Data: d})
}

func (m *Module) reply(w http.ResponseWriter, r *http.Request) {
	id, ok := web.PathID(r, "id")
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	if !web.ParseForm(w, r) {
		return
	}
	v, _ := viewer(r)
	body := r.PostFormValue("body")
	p, err := m.store.Reply(r.Context(), v, id, body)
	if err != nil {
		m.fail(w, r, "reply", err, func(msg string) { m.renderThread(w, r, http.StatusBadRequest, id, body, msg) })
		return
	}
	http.Redirect(w, r, "/discussions/"+strconv.FormatInt(id, 10)+"#post-"+strconv.FormatInt(p.ID, 10), http.StatusSeeOther)
}

func (m *Module) editPost(w http.ResponseWriter, r *http.Request) {
	id, ok := web.PathID(r, "id")
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	if !web.ParseForm(w, r) {
		return
	}
	v, _ := viewer(r)
	thread, err := m.store.EditPost(r.Context(), v, id, r.PostFormValue("body"))
	if err != nil {
		m.fail(w, r, "edit post", err, nil)
		return
	}
	http.Redirect(w, r, "/discussions/"+strconv.FormatInt(thread, 10)+"#post-"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

func (m *Module) deletePost(w http.ResponseWriter, r *http.Request) {
	id, ok := web.PathID(r, "id")
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	if !web.ParseForm(w, r) {
		return
	}
	v, _ := viewer(r)
	thread, err := m.store.DeletePost(r.Context(), v, id, r.PostFormValue("reason"))
	if err != nil {
		m.fail(w, r, "delete post", err, nil)
		return
	}
	http.Redirect(w, r, "/discussions/"+strconv.FormatInt(thread, 10)+"#post-"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

// composeData re-renders a refused note or proposal with what was typed,
// so nothing written is lost.
type composeData struct {
	Kind     string // "note" or "proposal"
	RecID    string
	RecTitle string
	Orgs     []web.Membership
	Note     NewNote
	Proposal NewProposal
	Problem  string
}

func (m *Module) renderCompose(w http.ResponseWriter, r *http.Request, d composeData) {
	_, p := viewer(r)
	d.Orgs = p.Memberships
	d.RecTitle = m.recTitles(r.Context())[strings.ToUpper(d.RecID)]
	noStore(w)
	title := "Share an implementation note"
	if d.Kind == "proposal" {
		title = "Propose an amendment"
	}
	m.pages.Render(w, r, http.StatusBadRequest, "page_compose.html", web.View{Title: title, Data: d})
}

func (m *Module) addNote(w http.ResponseWriter, r *http.Request) {
	if !web.ParseForm(w, r) {
		return
	}
	v, _ := viewer(r)
	n := NewNote{RecID: r.PostFormValue("rec"), OrgID: formID(r, "org"), Audience: Audience(r.PostFormValue("audience")),
		Anonymous: r.PostFormValue("anonymous") != "", Body: r.PostFormValue("body")}
	note, err := m.store.AddNote(r.Context(), v, n)
	if err != nil {
		m.fail(w, r, "add note", err, func(msg string) {
			m.renderCompose(w, r, composeData{Kind: "note", RecID: n.RecID, Note: n, Problem: msg})
		})
		return
	}
	http.Redirect(w, r, "/catalogue/"+note.RecID+"#note-"+strconv.FormatInt(note.ID, 10), http.StatusSeeOther)
}

func (m *Module) deleteNote(w http.ResponseWriter, r *http.Request) {
	id, ok := web.PathID(r, "id")
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	v, _ := viewer(r)
	rec, err := m.store.DeleteNote(r.Context(), v, id)
	if err != nil {
		m.fail(w, r, "delete note", err, nil)
		return
	}
	http.Redirect(w, r, "/catalogue/"+rec+"#notes", http.StatusSeeOther)
}

type proposalsData struct {
	Proposals []Proposal
	Titles    map[string]string
	Admin     bool
	Status    string
}

func (m *Module) proposals(w http.ResponseWriter, r *http.Request) {
	v, _ := viewer(r)
	status := r.URL.Query().Get("status")
	switch status {
	case StatusOpen, StatusAccepted, StatusDeclined:
	default:
		status = ""
	}
	ps, err := m.store.Proposals(r.Context(), v, status)
	if err != nil {
		web.ServerError(w, r, "list proposals", err)
		return
	}
	noStore(w)
	m.pages.Render(w, r, http.StatusOK, "page_proposals.html", web.View{Title: "Amendment proposals",
		Data: proposalsData{Proposals: ps, Titles: m.recTitles(r.Context()), Admin: v.Admin, Status: status}})
}

func (m *Module) propose(w http.ResponseWriter, r *http.Request) {
	if !web.ParseForm(w, r) {
		return
	}
	v, _ := viewer(r)
	n := NewProposal{RecID: r.PostFormValue("rec"), OrgID: formID(r, "org"), Statement: r.PostFormValue("statement"),
		Rationale: r.PostFormValue("rationale"), Reason: r.PostFormValue("reason")}
	// Text left as it is proposes no change to that part.
	if cat, _, err := m.cats.Current(r.Context()); err == nil {
		if rec, err := cat.Get(strings.ToUpper(strings.TrimSpace(n.RecID))); err == nil {
			if strings.TrimSpace(n.Statement) == rec.Statement {
				n.Statement = ""
			}
			if strings.TrimSpace(n.Rationale) == rec.Rationale {
				n.Rationale = ""
			}
		}
	}
	p, err := m.store.Propose(r.Context(), v, n)
	if err != nil {
		m.fail(w, r, "propose", err, func(msg string) {
			m.renderCompose(w, r, composeData{Kind: "proposal", RecID: n.RecID, Proposal: n, Problem: msg})
		})
		return
	}
	http.Redirect(w, r, "/proposals/"+strconv.FormatInt(p.ID, 10), http.StatusSeeOther)
}

type proposalData struct {
	P        Proposal
	Current  *catalog.Recommendation
	RecTitle string
	Admin    bool
	Problem  string
}

func (m *Module) proposal(w http.ResponseWriter, r *http.Request) {
	m.renderProposal(w, r, http.StatusOK, "")
}

func (m *Module) renderProposal(w http.ResponseWriter, r *http.Request, status int, msg string) {
	id, ok := web.PathID(r, "id")
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	v, _ := viewer(r)
	p, err := m.store.Proposal(r.Context(), v, id)
	if err != nil {
		m.fail(w, r, "proposal", err, nil)
		return
	}
	d := proposalData{P: p, Admin: v.Admin, Problem: msg}
	if cat, _, err := m.cats.Current(r.Context()); err == nil {
		if rec, err := cat.Get(p.RecID); err == nil {
			d.Current, d.RecTitle = rec, rec.Title
		}
	}
	noStore(w)
	m.pages.Render(w, r, status, "page_proposal.html", web.View{Title: "Proposal for " + p.RecID, Data: d})
}

func (m *Module) accept(w http.ResponseWriter, r *http.Request) {
	id, ok := web.PathID(r, "id")
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	v, _ := viewer(r)
	if _, err := m.store.Accept(r.Context(), v, id); err != nil {
		m.fail(w, r, "accept proposal", err, nil)
		return
	}
	http.Redirect(w, r, "/proposals/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

func (m *Module) decline(w http.ResponseWriter, r *http.Request) {
	id, ok := web.PathID(r, "id")
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	if !web.ParseForm(w, r) {
		return
	}
	v, _ := viewer(r)
	if _, err := m.store.Decline(r.Context(), v, id, r.PostFormValue("reason")); err != nil {
		m.fail(w, r, "decline proposal", err, func(msg string) { m.renderProposal(w, r, http.StatusBadRequest, msg) })
		return
	}
	http.Redirect(w, r, "/proposals/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

func (m *Module) notifications(w http.ResponseWriter, r *http.Request) {
	v, _ := viewer(r)
	ns, err := m.store.Notifications(r.Context(), v.UserID, 0)
	if err != nil {
		web.ServerError(w, r, "notifications", err)
		return
	}
	noStore(w)
	m.pages.Render(w, r, http.StatusOK, "page_notifications.html", web.View{Title: "Notifications", Data: ns})
}

// markRead marks one notification read and follows its link, so opening a
// notification from the list is one click.
func (m *Module) markRead(w http.ResponseWriter, r *http.Request) {
	id, ok := web.PathID(r, "id")
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	v, _ := viewer(r)
	ns, err := m.store.Notifications(r.Context(), v.UserID, 0)
	if err != nil {
		web.ServerError(w, r, "notifications", err)
		return
	}
	if err := m.store.MarkRead(r.Context(), v.UserID, id); err != nil {
		m.fail(w, r, "mark read", err, nil)
		return
	}
	to := "/notifications"
	for _, n := range ns {
		if n.ID == id && n.Link != "" && safeLink(n.Link) {
			to = n.Link
		}
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func (m *Module) markAllRead(w http.ResponseWriter, r *http.Request) {
	v, _ := viewer(r)
	if err := m.store.MarkRead(r.Context(), v.UserID, 0); err != nil {
		m.fail(w, r, "mark all read", err, nil)
		return
	}
	http.Redirect(w, r, "/notifications", http.StatusSeeOther)
}

type extrasData struct {
	Rec       *catalog.Recommendation
	SignedIn  bool
	Threads   []Thread
	Notes     []noteView
	Orgs      []web.Membership
	CanCreate bool
}

type noteView struct {
	Note
	CanDelete bool
}

// RecommendationExtras renders the discussion, the implementation notes and
// the amendment form of a recommendation page (catalogweb.Extras).
func (m *Module) RecommendationExtras(r *http.Request, rec *catalog.Recommendation) (template.HTML, error) {
	v, p := viewer(r)
	d := extrasData{Rec: rec}
	if p != nil && !p.IsToken() {
		d.SignedIn, d.Orgs, d.CanCreate = true, p.Memberships, len(p.Memberships) > 0
		var err error
		if d.Threads, err = m.store.Threads(r.Context(), v, ThreadQuery{RecID: rec.ID, Limit: 20}); err != nil {
			return "", err
		}
		notes, err := m.store.Notes(r.Context(), v, rec.ID)
		if err != nil {
			return "", err
		}
		for _, n := range notes {
			d.Notes = append(d.Notes, noteView{Note: n, CanDelete: n.AuthorID == v.UserID || v.Admin})
		}
	}
	var buf bytes.Buffer
	if err := m.extras.ExecuteTemplate(&buf, "extras", d); err != nil {
		return "", err
	}
	return template.HTML(buf.String()), nil
}
