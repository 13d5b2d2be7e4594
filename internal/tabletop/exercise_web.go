package tabletop

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/web"
)

// exerciseRoutes are the set-up pages of an exercise. They name the
// exercise without an organisation, as its people come from several: the
// handlers check the person's part in it (Store.AccessOf), and anyone
// without one gets 404.
func (m *Module) exerciseRoutes() []web.Route {
	h := func(f http.HandlerFunc) http.Handler { return f }
	const ex = "/tabletop/exercises/{id}"
	signed := web.SignedIn()
	return []web.Route{
		{Pattern: "POST /orgs/{org}/tabletop/exercises", Policy: web.OrgRole(web.RoleAnalyst), Handler: h(m.createExercise)},
		{Pattern: "GET " + ex, Policy: signed, Handler: h(m.exercise)},
		{Pattern: "POST " + ex + "/join", Policy: signed, Handler: h(m.join)},
		{Pattern: "POST " + ex + "/orgs", Policy: signed, Handler: h(m.inviteOrg)},
		{Pattern: "POST " + ex + "/people", Policy: signed, Handler: h(m.invitePerson)},
		{Pattern: "POST " + ex + "/participants/{user}", Policy: signed, Handler: h(m.assign)},
		{Pattern: "POST " + ex + "/groups", Policy: signed, Handler: h(m.addGroup)},
		{Pattern: "POST " + ex + "/groups/{eid}", Policy: signed, Handler: h(m.renameGroup)},
		{Pattern: "POST " + ex + "/groups/{eid}/merge", Policy: signed, Handler: h(m.mergeGroups)},
		{Pattern: "POST " + ex + "/start", Policy: signed, Handler: h(m.clock((*Store).Start, "started"))},
		{Pattern: "POST " + ex + "/pause", Policy: signed, Handler: h(m.clock((*Store).Pause, "paused"))},
		{Pattern: "POST " + ex + "/resume", Policy: signed, Handler: h(m.clock((*Store).Resume, "resumed"))},
		{Pattern: "POST " + ex + "/end", Policy: signed, Handler: h(m.clock((*Store).End, "ended"))},
		{Pattern: "POST " + ex + "/injects/release", Policy: signed, Handler: h(m.releaseNow)},
		{Pattern: "POST " + ex + "/injects", Policy: signed, Handler: h(m.adHoc)},
		// Live updates: long-lived, so they take no page slot.
		{Pattern: "GET " + ex + "/events", Policy: signed, Handler: h(m.events), Long: true},
		{Pattern: "GET /api/v1" + ex + "/events", Policy: web.Token(web.ScopeRead), Handler: h(m.events), Long: true},
	}
}

func memberOrgs(r *http.Request) []int64 {
	p := web.CurrentPrincipal(r.Context())
	if p == nil {
		return nil
	}
	out := make([]int64, 0, len(p.Memberships))
	for _, ms := range p.Memberships {
		out = append(out, ms.OrgID)
	}
	return out
}

func exercisePath(id int64, rest string) string {
	return "/tabletop/exercises/" + strconv.FormatInt(id, 10) + rest
}

// loadExercise resolves the exercise of the path for the signed-in
// person: 404 for anyone without a part in it.
func (m *Module) loadExercise(w http.ResponseWriter, r *http.Request) (Exercise, Access, bool) {
	return m.loadExerciseFor(w, r, false)
}

// loadExerciseFor is loadExercise answering in JSON for the API.
func (m *Module) loadExerciseFor(w http.ResponseWriter, r *http.Request, api bool) (Exercise, Access, bool) {
	id, ok := web.PathID(r, "id")
	if !ok {
		m.notFound(w, r, api)
		return Exercise{}, Access{}, false
	}
	u, _ := web.CurrentUser(r.Context())
	a, err := m.store.AccessOf(r.Context(), id, u.ID, memberOrgs(r))
	if err == nil {
		var e Exercise
		if e, err = m.store.Exercise(r.Context(), id); err == nil {
			return e, a, true
		}
	}
	switch {
	case errors.Is(err, ErrNotFound):
		m.notFound(w, r, api)
	case api:
		m.log.ErrorContext(r.Context(), "tabletop: exercise", "err", err)
		apiError(w, http.StatusInternalServerError, "exercise unavailable")
	default:
		m.fail(w, r, "exercise", err)
	}
	return Exercise{}, Access{}, false
}

// ---- creating an exercise -----------------------------------------------------------

func (m *Module) createExercise(w http.ResponseWriter, r *http.Request) {
	orgID, _ := web.PathOrg(r)
	if !web.ParseForm(w, r) {
		return
	}
	n := NewExercise{Title: r.PostFormValue("title")}
	if v := r.PostFormValue("scenario"); strings.HasPrefix(v, "lib:") {
		n.LibraryID, _ = strconv.ParseInt(strings.TrimPrefix(v, "lib:"), 10, 64)
	} else {
		n.ScenarioKey = v
	}
	if v := strings.TrimSpace(r.PostFormValue("speed")); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			m.renderOverview(w, r, http.StatusBadRequest, fmt.Sprintf("The clock speed must be a number between %d and %d.", MinSpeed, MaxSpeed), nil, "")
			return
		}
		n.Speed = f
	}
	e, err := m.store.CreateExercise(r.Context(), orgID, n)
	switch {
	case errors.Is(err, ErrInvalid):
		m.renderOverview(w, r, http.StatusBadRequest, problemOf(err), nil, "")
		return
	case errors.Is(err, ErrNotFound):
		m.renderOverview(w, r, http.StatusBadRequest, "Choose a scenario of the library.", nil, "")
		return
	case err != nil:
		m.fail(w, r, "create exercise", err)
		return
	}
	http.Redirect(w, r, exercisePath(e.ID, "?done=created"), http.StatusSeeOther)
}

// ---- the exercise page: lobby and set-up ----------------------------------------------

type groupView struct {
	Group
	DomainNames []string
	Members     []Participant
	Others      []Group // merge targets
}

type participantView struct {
	Participant
	GroupName string
	RoleOpts  []option
	GroupOpts []option
}

type option struct {
	Value, Label string
	Selected     bool
}

type exerciseData struct {
	E           Exercise
	Status      string
	Access      Access
	Facilitates bool
	MustJoin    bool // invited in person, not joined yet
	ReportLink  bool // the person may read the after-action report
	// PlayerView: a player sees their own group's people and the other
	// groups' sizes, not the whole list (hundreds in a national exercise,
	// loaded again after every event).
	PlayerView  bool
	JoinAs      []OrgChoice
	Orgs        []ExerciseOrg
	Groups      []groupView
	People      []participantView
	Joined      int
	Unassigned  int
	InviteOrgs  []OrgChoice // not invited yet
	RoleOpts    []option
	GroupOpts   []option
	Problem     string
	ScenarioURL string
	// The live run.
	Clock   string // exercise time, "T+1h05m"
	ClockMS int64  // the same in milliseconds, for the page's own clock
	Running bool
	// LastEvent is the newest live event the page shows; the page's
	// stream starts after it.
	LastEvent  int64
	CanStart   bool
	CanPause   bool
	CanResume  bool
	CanEnd     bool
	CanRelease bool
	Injects    []releasedView // what this person sees, in order
	Pending    []pendingView  // facilitators: scenario injects not yet released
	Channels   []option
	NextDue    string
	// Answers, hints and the decision log.
	CanAnswer bool
	CanHint   bool
	CanNote   bool
	Hints     []logView
	Log       []logView
	Kept      kept
}

type releasedView struct {
	Released
	Class   string // inject-<channel>
	Channel string
	At      string
	Target  string
	ByHand  bool
	Answers []answerView // the groups' answers this person sees
}

type pendingView struct {
	ID, Title, At, Channel string
}

func (m *Module) exercise(w http.ResponseWriter, r *http.Request) {
	flash := map[string]string{
		"created": "Exercise set up with one group per domain. Invite organisations and people; they join from their organisation's Tabletop page.",
		"joined":  "You have joined the exercise.", "invited": "Invitation sent.", "saved": "Saved.", "merged": "Groups merged.",
		"started": "The exercise has started; the clock runs.", "paused": "Paused: the clock stands still until you resume.",
		"resumed": "Resumed: the clock runs again from where it stopped.", "ended": "The exercise has ended.",
		"released": "Inject released.", "draft": "Draft saved; your group sees it.",
		"answered": "Final answer sent.", "scored": "Score saved.", "hinted": "Hint sent.", "noted": "Note kept.",
	}[r.URL.Query().Get("done")]
	m.renderExercise(w, r, http.StatusOK, "", flash)
}

func (m *Module) renderExercise(w http.ResponseWriter, r *http.Request, status int, problem, flash string) {
	m.renderExerciseWith(w, r, status, problem, flash, nil)
}

// renderExerciseWith renders the exercise page; typed is a refused
// form's input, shown again in its form.
func (m *Module) renderExerciseWith(w http.ResponseWriter, r *http.Request, status int, problem, flash string, typed *kept) {
	e, a, ok := m.loadExercise(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	d := exerciseData{E: e, Status: e.Status.Label(), Access: a, Facilitates: a.Facilitates(), Problem: problem,
		MustJoin:   a.Participant != nil && a.Participant.Joined.IsZero(),
		ReportLink: a.Participant != nil && (a.Participant.Role != RolePlayer || e.Status == StatusEnded),
		PlayerView: a.Participant != nil && a.Participant.Role == RolePlayer}
	if e.Status != StatusEnded {
		p := web.CurrentPrincipal(ctx)
		for _, ms := range p.Memberships {
			if slices.Contains(a.JoinAs, ms.OrgID) {
				d.JoinAs = append(d.JoinAs, OrgChoice{ID: ms.OrgID, Name: ms.OrgName})
			}
		}
	}
	if _, err := m.store.BuiltinScenario(e.ScenarioKey); err == nil {
		d.ScenarioURL = "/tabletop/scenarios/" + e.ScenarioKey
	}
	if a.Participant == nil {
		// Invited through their organisation: the invitation only, until
		// they join.
		m.render(w, r, status, "exercise.html", e.Title, d, flash)
		return
	}
	if err := m.store.ReleaseDue(ctx, e.ID); err != nil {
		m.fail(w, r, "release injects", err)
		return
	}
	// Read before the state: an event committed in between makes the
	// page load again, where the other order would miss it.
	var err error
	if d.LastEvent, err = m.store.LastEvent(ctx, e.ID); err != nil {
		m.fail(w, r, "live events", err)
		return
	}
	if d.Orgs, err = m.store.Orgs(ctx, e.ID); err != nil {
		m.fail(w, r, "exercise organisations", err)
		return
	}
	groups, err := m.store.Groups(ctx, e.ID)
	if err != nil {
		m.fail(w, r, "groups", err)
		return
	}
	people, err := m.store.Participants(ctx, e.ID)
	if err != nil {
		m.fail(w, r, "participants", err)
		return
	}
	names := map[int64]string{}
	for _, g := range groups {
		gv := groupView{Group: g}
		for _, dom := range g.Domains {
			gv.DomainNames = append(gv.DomainNames, DomainName(dom))
		}
		for _, p := range people {
			if p.GroupID == g.ID {
				gv.Members = append(gv.Members, p)
			}
		}
		for _, o := range groups {
			if o.ID != g.ID {
				gv.Others = append(gv.Others, o)
			}
		}
		names[g.ID] = g.Name
		d.Groups = append(d.Groups, gv)
	}
	d.GroupOpts = append(d.GroupOpts, option{Value: "0", Label: "No group"})
	for _, g := range groups {
		d.GroupOpts = append(d.GroupOpts, option{Value: strconv.FormatInt(g.ID, 10), Label: g.Name})
	}
	for _, rl := range ExerciseRoles() {
		d.RoleOpts = append(d.RoleOpts, option{Value: string(rl), Label: rl.Label(), Selected: rl == RolePlayer})
	}
	for _, p := range people {
		pv := participantView{Participant: p, GroupName: names[p.GroupID]}
		if !p.Joined.IsZero() {
			d.Joined++
		}
		if p.GroupID == 0 && p.Role == RolePlayer {
			d.Unassigned++
		}
		if d.Facilitates {
			for _, rl := range ExerciseRoles() {
				pv.RoleOpts = append(pv.RoleOpts, option{Value: string(rl), Label: rl.Label(), Selected: rl == p.Role})
			}
			for _, o := range d.GroupOpts {
				o.Selected = o.Value == strconv.FormatInt(p.GroupID, 10)
				pv.GroupOpts = append(pv.GroupOpts, o)
			}
		}
		d.People = append(d.People, pv)
	}
	if err := m.live(r, &d, groups, a); err != nil {
		m.fail(w, r, "live run", err)
		return
	}
	if err := m.answers(r, &d, groups, a, typed); err != nil {
		m.fail(w, r, "answers", err)
		return
	}
	if d.Facilitates {
		all, err := m.store.AllOrgs(ctx)
		if err != nil {
			m.fail(w, r, "organisations", err)
			return
		}
		for _, o := range all {
			if !slices.ContainsFunc(d.Orgs, func(x ExerciseOrg) bool { return x.OrgID == o.ID }) {
				d.InviteOrgs = append(d.InviteOrgs, o)
			}
		}
	}
	m.render(w, r, status, "exercise.html", e.Title, d, flash)
}

// setupFailed answers a failed set-up action: the page with the problem
// for bad input, 403 for a participant who does not facilitate.
func (m *Module) setupFailed(w http.ResponseWriter, r *http.Request, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, ErrNotAllowed):
		web.Error(w, r, http.StatusForbidden)
	case errors.Is(err, ErrInvalid):
		m.renderExercise(w, r, http.StatusBadRequest, problemOf(err), "")
	case errors.Is(err, ErrConflict):
		msg, _, _ := strings.Cut(err.Error(), ": tabletop")
		m.renderExercise(w, r, http.StatusConflict, strings.ToUpper(msg[:1])+msg[1:]+".", "")
	default:
		m.fail(w, r, "exercise set-up", err)
	}
	return true
}

// facilitated loads the exercise for a set-up action: 404 for outsiders,
// 403 for participants who do not facilitate.
func (m *Module) facilitated(w http.ResponseWriter, r *http.Request) (Exercise, bool) {
	e, a, ok := m.loadExercise(w, r)
	if !ok || !web.ParseForm(w, r) {
		return Exercise{}, false
	}
	if !a.Facilitates() {
		web.Error(w, r, http.StatusForbidden)
		return Exercise{}, false
	}
	return e, true
}

func formID(r *http.Request, name string) int64 {
	id, _ := strconv.ParseInt(r.PostFormValue(name), 10, 64)
	return id
}

func (m *Module) join(w http.ResponseWriter, r *http.Request) {
	e, _, ok := m.loadExercise(w, r)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	if m.setupFailed(w, r, m.store.Join(r.Context(), e.ID, formID(r, "org"), memberOrgs(r))) {
		return
	}
	http.Redirect(w, r, exercisePath(e.ID, "?done=joined"), http.StatusSeeOther)
}

func (m *Module) inviteOrg(w http.ResponseWriter, r *http.Request) {
	e, ok := m.facilitated(w, r)
	if !ok {
		return
	}
	if m.setupFailed(w, r, m.store.InviteOrg(r.Context(), e.ID, formID(r, "org"))) {
		return
	}
	http.Redirect(w, r, exercisePath(e.ID, "?done=invited#orgs-title"), http.StatusSeeOther)
}

func (m *Module) invitePerson(w http.ResponseWriter, r *http.Request) {
	e, ok := m.facilitated(w, r)
	if !ok {
		return
	}
	_, err := m.store.InvitePerson(r.Context(), e.ID, r.PostFormValue("email"), formID(r, "org"), ExerciseRole(r.PostFormValue("role")), formID(r, "group"))
	if m.setupFailed(w, r, err) {
		return
	}
	http.Redirect(w, r, exercisePath(e.ID, "?done=invited#people-title"), http.StatusSeeOther)
}

func (m *Module) assign(w http.ResponseWriter, r *http.Request) {
	e, ok := m.facilitated(w, r)
	if !ok {
		return
	}
	user, ok := web.PathID(r, "user")
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	err := m.store.SetParticipant(r.Context(), e.ID, user, ExerciseRole(r.PostFormValue("role")), formID(r, "group"))
	if errors.Is(err, ErrNotFound) {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	if m.setupFailed(w, r, err) {
		return
	}
	http.Redirect(w, r, exercisePath(e.ID, "?done=saved#people-title"), http.StatusSeeOther)
}

func (m *Module) addGroup(w http.ResponseWriter, r *http.Request) {
	e, ok := m.facilitated(w, r)
	if !ok {
		return
	}
	if _, err := m.store.AddGroup(r.Context(), e.ID, r.PostFormValue("name")); m.setupFailed(w, r, err) {
		return
	}
	http.Redirect(w, r, exercisePath(e.ID, "?done=saved#groups-title"), http.StatusSeeOther)
}

func (m *Module) renameGroup(w http.ResponseWriter, r *http.Request) {
	e, ok := m.facilitated(w, r)
	if !ok {
		return
	}
	g, ok := web.PathID(r, "eid")
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	err := m.store.RenameGroup(r.Context(), e.ID, g, r.PostFormValue("name"))
	if errors.Is(err, ErrNotFound) {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	if m.setupFailed(w, r, err) {
		return
	}
	http.Redirect(w, r, exercisePath(e.ID, "?done=saved#groups-title"), http.StatusSeeOther)
}

func (m *Module) mergeGroups(w http.ResponseWriter, r *http.Request) {
	e, ok := m.facilitated(w, r)
	if !ok {
		return
	}
	g, ok := web.PathID(r, "eid")
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	err := m.store.MergeGroups(r.Context(), e.ID, g, formID(r, "into"))
	if errors.Is(err, ErrNotFound) {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	if m.setupFailed(w, r, err) {
		return
	}
	http.Redirect(w, r, exercisePath(e.ID, "?done=merged#groups-title"), http.StatusSeeOther)
}

// ---- the live run -------------------------------------------------------------------

// live fills in the clock, the injects the person sees and, for
// facilitators, the controls.
func (m *Module) live(r *http.Request, d *exerciseData, groups []Group, a Access) error {
	e, err := m.store.Exercise(r.Context(), d.E.ID) // after ReleaseDue
	if err != nil {
		return err
	}
	d.E = e
	now := m.store.nowUTC()
	t := e.ExerciseTime(now)
	d.Clock, d.ClockMS, d.Running = "T+"+FormatOffset(t.Truncate(time.Second)), t.Milliseconds(), e.Status == StatusRunning
	f := a.Facilitates()
	d.CanStart, d.CanPause, d.CanResume = f && e.Status == StatusSetup, f && e.Status == StatusRunning, f && e.Status == StatusPaused
	d.CanEnd = f && (e.Status == StatusRunning || e.Status == StatusPaused)
	d.CanRelease = d.CanEnd
	rel, err := m.store.ReleasedInjects(r.Context(), e.ID)
	if err != nil {
		return err
	}
	var mine *Group
	for i := range groups {
		if groups[i].ID == a.Participant.GroupID {
			mine = &groups[i]
		}
	}
	names := map[int64]string{}
	for _, g := range groups {
		names[g.ID] = g.Name
	}
	done := map[string]bool{}
	for _, x := range rel {
		done[x.InjectID] = true
		// Players see what is addressed to their group; facilitators and
		// observers see everything.
		if a.Participant.Role == RolePlayer && !x.For(mine) {
			continue
		}
		v := releasedView{Released: x, Class: "inject-" + string(x.Channel), Channel: x.Channel.Label(), At: "T+" + FormatOffset(x.At.Truncate(time.Second)),
			ByHand: x.By != 0 && !x.AdHoc}
		switch {
		case x.AdHoc && x.GroupID == 0:
			v.Target = "all groups"
		case x.AdHoc:
			v.Target = names[x.GroupID]
		default:
			var ts []string
			for _, g := range groups {
				if x.For(&g) {
					ts = append(ts, g.Name)
				}
			}
			v.Target = strings.Join(ts, ", ")
		}
		d.Injects = append(d.Injects, v)
	}
	for _, in := range e.Scenario.Injects {
		if done[in.ID] {
			continue
		}
		if d.NextDue == "" && e.Status == StatusRunning {
			d.NextDue = "T+" + FormatOffset(in.Offset)
		}
		if f {
			d.Pending = append(d.Pending, pendingView{ID: in.ID, Title: in.Title, At: "T+" + FormatOffset(in.Offset), Channel: in.Channel.Label()})
		}
	}
	if f {
		for _, c := range Channels() {
			d.Channels = append(d.Channels, option{Value: string(c), Label: c.Label()})
		}
	}
	return nil
}

// clock answers a start, pause, resume or end.
func (m *Module) clock(op func(*Store, context.Context, int64) (Exercise, error), done string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		e, ok := m.facilitated(w, r)
		if !ok {
			return
		}
		if _, err := op(m.store, r.Context(), e.ID); m.setupFailed(w, r, err) {
			return
		}
		http.Redirect(w, r, exercisePath(e.ID, "?done="+done+"#run-title"), http.StatusSeeOther)
	}
}

func (m *Module) releaseNow(w http.ResponseWriter, r *http.Request) {
	e, ok := m.facilitated(w, r)
	if !ok {
		return
	}
	if m.setupFailed(w, r, m.store.ReleaseNow(r.Context(), e.ID, r.PostFormValue("inject"))) {
		return
	}
	http.Redirect(w, r, exercisePath(e.ID, "?done=released#run-title"), http.StatusSeeOther)
}

func (m *Module) adHoc(w http.ResponseWriter, r *http.Request) {
	e, ok := m.facilitated(w, r)
	if !ok {
		return
	}
	_, err := m.store.ReleaseAdHoc(r.Context(), e.ID, AdHoc{Channel: Channel(r.PostFormValue("channel")), From: r.PostFormValue("from"),
		Title: r.PostFormValue("title"), Content: r.PostFormValue("content"), GroupID: formID(r, "group")})
	if m.setupFailed(w, r, err) {
		return
	}
	http.Redirect(w, r, exercisePath(e.ID, "?done=released#run-title"), http.StatusSeeOther)
}
