package tabletop

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/web"
)

// apiRoutes are the JSON API of exercises, with the platform's tokens:
// the same checks as the pages (participants only; players answer for
// their group and see their group's drafts).
func (m *Module) apiRoutes() []web.Route {
	h := func(f http.HandlerFunc) http.Handler { return f }
	const ex = "/api/v1/tabletop/exercises"
	return []web.Route{
		{Pattern: "POST " + ex, Policy: web.Token(web.ScopeWrite), Handler: h(m.apiCreate)},
		{Pattern: "GET " + ex + "/{id}", Policy: web.Token(web.ScopeRead), Handler: h(m.apiExercise)},
		{Pattern: "POST " + ex + "/{id}/answers/{eid}", Policy: web.Token(web.ScopeWrite), Handler: h(m.apiAnswer)},
	}
}

// readJSON decodes a small JSON request body into v, refusing unknown
// fields so that a misspelt one is an error, not silently ignored.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		apiError(w, http.StatusBadRequest, "the body must be a JSON object of the documented fields: "+err.Error())
		return false
	}
	return true
}

type apiCreateInput struct {
	Organisation int64   `json:"organisation"` // needed when the token's owner is an analyst of several
	Title        string  `json:"title"`
	Scenario     string  `json:"scenario"`   // a built-in scenario's key, e.g. "payday-sim-swap@2026.1"
	LibraryID    int64   `json:"library_id"` // or a scenario of the organisation's library
	Speed        float64 `json:"speed"`
}

func (m *Module) apiCreate(w http.ResponseWriter, r *http.Request) {
	var in apiCreateInput
	if !readJSON(w, r, &in) {
		return
	}
	var eligible []int64
	for _, ms := range web.CurrentPrincipal(r.Context()).Memberships {
		if ms.Role.AtLeast(web.RoleAnalyst) {
			eligible = append(eligible, ms.OrgID)
		}
	}
	org := in.Organisation
	switch {
	case org != 0 && !slices.Contains(eligible, org):
		apiError(w, http.StatusForbidden, "you cannot run exercises for this organisation (analyst role or higher needed)")
		return
	case org == 0 && len(eligible) == 1:
		org = eligible[0]
	case org == 0 && len(eligible) == 0:
		apiError(w, http.StatusForbidden, "you cannot run exercises for any organisation (analyst role or higher needed)")
		return
	case org == 0:
		apiError(w, http.StatusBadRequest, "you belong to several organisations: name one in \"organisation\"")
		return
	}
	e, err := m.store.CreateExercise(r.Context(), org, NewExercise{Title: in.Title, ScenarioKey: in.Scenario, LibraryID: in.LibraryID, Speed: in.Speed})
	switch {
	case errors.Is(err, ErrInvalid):
		apiError(w, http.StatusBadRequest, problemOf(err))
		return
	case errors.Is(err, ErrNotFound):
		apiError(w, http.StatusBadRequest, "no such scenario in the library")
		return
	case err != nil:
		m.apiFail(w, r, "create exercise", err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/tabletop/exercises/%d", e.ID))
	m.writeExercise(w, r, http.StatusCreated, e.ID)
}

func (m *Module) apiFail(w http.ResponseWriter, r *http.Request, what string, err error) {
	m.log.ErrorContext(r.Context(), "tabletop api: "+what, "err", err)
	apiError(w, http.StatusInternalServerError, what+" failed")
}

// The exercise as the API shows it to one participant.
type apiState struct {
	ID           int64        `json:"id"`
	Title        string       `json:"title"`
	Organisation int64        `json:"organisation"` // the facilitating one
	Scenario     string       `json:"scenario"`
	Status       Status       `json:"status"`
	Speed        float64      `json:"speed"`
	TimeMS       int64        `json:"exercise_time_ms"`
	Role         ExerciseRole `json:"role"`
	Group        int64        `json:"group,omitempty"`
	Groups       []apiGroup   `json:"groups"`
	Injects      []apiInject  `json:"injects"`
	Answers      []apiAnswer  `json:"answers"`
	Timeline     []apiLog     `json:"timeline"`
	LastEvent    int64        `json:"last_event"` // the events stream continues after it
}

type apiGroup struct {
	ID      int64    `json:"id"`
	Name    string   `json:"name"`
	Domains []string `json:"domains"`
}

type apiInject struct {
	Ref      int64     `json:"ref"` // what answers name
	Inject   string    `json:"inject"`
	Channel  Channel   `json:"channel"`
	From     string    `json:"from"`
	Title    string    `json:"title"`
	Content  string    `json:"content"`
	AtMS     int64     `json:"at_ms"`
	Released time.Time `json:"released_at"`
	Groups   []int64   `json:"groups"`
}

type apiAnswer struct {
	Ref       int64      `json:"ref"`
	Group     int64      `json:"group"`
	Actions   string     `json:"actions"`
	Owner     string     `json:"owner"`
	Gap       string     `json:"gap"`
	Version   int64      `json:"version"`
	Final     bool       `json:"final"`
	FinalAtMS *int64     `json:"final_at_ms,omitempty"`
	Score     *int       `json:"score,omitempty"`
	ScoreNote string     `json:"score_note,omitempty"`
	Edited    time.Time  `json:"edited_at"`
	FinalWall *time.Time `json:"final_at,omitempty"`
}

type apiLog struct {
	Kind  string    `json:"kind"`
	AtMS  int64     `json:"at_ms"`
	Wall  time.Time `json:"at"`
	Group int64     `json:"group,omitempty"`
	Text  string    `json:"text"`
}

func (m *Module) apiExercise(w http.ResponseWriter, r *http.Request) {
	id, ok := web.PathID(r, "id")
	if !ok {
		apiError(w, http.StatusNotFound, "no such exercise")
		return
	}
	m.writeExercise(w, r, http.StatusOK, id)
}

// writeExercise answers with exercise id as the token's owner sees it.
func (m *Module) writeExercise(w http.ResponseWriter, r *http.Request, status int, id int64) {
	r.SetPathValue("id", fmt.Sprint(id))
	e, a, ok := m.loadExerciseFor(w, r, true)
	if !ok {
		return
	}
	if a.Participant == nil {
		apiError(w, http.StatusNotFound, "no such exercise")
		return
	}
	st, err := m.state(r, e, a)
	if err != nil {
		m.apiFail(w, r, "exercise", err)
		return
	}
	writeJSON(w, status, st)
}

// state is what participant a sees of exercise e: the same rules as the
// page (players: the injects addressed to their group, its answers, its
// hints; facilitators and observers: everything).
func (m *Module) state(r *http.Request, e Exercise, a Access) (apiState, error) {
	ctx := r.Context()
	if err := m.store.ReleaseDue(ctx, e.ID); err != nil {
		return apiState{}, err
	}
	last, err := m.store.LastEvent(ctx, e.ID)
	if err != nil {
		return apiState{}, err
	}
	if e, err = m.store.Exercise(ctx, e.ID); err != nil {
		return apiState{}, err
	}
	p := a.Participant
	player := p.Role == RolePlayer
	st := apiState{ID: e.ID, Title: e.Title, Organisation: e.OrgID, Scenario: e.ScenarioKey, Status: e.Status, Speed: e.Speed,
		TimeMS: e.ExerciseTime(m.store.nowUTC()).Milliseconds(), Role: p.Role, Group: p.GroupID, LastEvent: last,
		Groups: []apiGroup{}, Injects: []apiInject{}, Answers: []apiAnswer{}, Timeline: []apiLog{}}
	groups, err := m.store.Groups(ctx, e.ID)
	if err != nil {
		return apiState{}, err
	}
	var mine *Group
	for i, g := range groups {
		st.Groups = append(st.Groups, apiGroup{ID: g.ID, Name: g.Name, Domains: g.Domains})
		if g.ID == p.GroupID {
			mine = &groups[i]
		}
	}
	rel, err := m.store.ReleasedInjects(ctx, e.ID)
	if err != nil {
		return apiState{}, err
	}
	seen := map[int64]bool{}
	for _, x := range rel {
		if player && !x.For(mine) {
			continue
		}
		seen[x.ID] = true
		ai := apiInject{Ref: x.ID, Inject: x.InjectID, Channel: x.Channel, From: x.From, Title: x.Title, Content: x.Content,
			AtMS: x.At.Milliseconds(), Released: x.Wall, Groups: []int64{}}
		for _, g := range groups {
			if x.For(&g) {
				ai.Groups = append(ai.Groups, g.ID)
			}
		}
		st.Injects = append(st.Injects, ai)
	}
	answers, err := m.store.Answers(ctx, e.ID)
	if err != nil {
		return apiState{}, err
	}
	for _, an := range answers {
		if !seen[an.InjectRef] || (player && an.GroupID != p.GroupID) {
			continue
		}
		aa := apiAnswer{Ref: an.InjectRef, Group: an.GroupID, Actions: an.Actions, Owner: an.Owner, Gap: an.Gap, Version: an.Version,
			Final: an.IsFinal(), Edited: an.Edited, ScoreNote: an.ScoreNote}
		if an.IsFinal() {
			ms, wall := an.FinalAt.Milliseconds(), an.Final
			aa.FinalAtMS, aa.FinalWall = &ms, &wall
		}
		if an.Scored {
			s := an.Score
			aa.Score = &s
		}
		st.Answers = append(st.Answers, aa)
	}
	log, err := m.store.Log(ctx, e.ID)
	if err != nil {
		return apiState{}, err
	}
	for _, l := range log {
		if player && !playerSeesLog(l, p.GroupID) {
			continue
		}
		st.Timeline = append(st.Timeline, apiLog{Kind: l.Kind, AtMS: l.At.Milliseconds(), Wall: l.Wall, Group: l.GroupID, Text: l.Text})
	}
	return st, nil
}

// playerSeesLog is what of the decision log a player reads: the changes
// of state and their own group's answers, scores and hints (not the
// injects of other groups, nor observer notes).
func playerSeesLog(l LogEntry, group int64) bool {
	switch l.Kind {
	case "state":
		return true
	case "answer", "score", "hint":
		return group != 0 && l.GroupID == group
	}
	return false
}

type apiAnswerInput struct {
	Version int64  `json:"version"`
	Actions string `json:"actions"`
	Owner   string `json:"owner"`
	Gap     string `json:"gap"`
	Final   bool   `json:"final"`
}

func (m *Module) apiAnswer(w http.ResponseWriter, r *http.Request) {
	e, a, ok := m.loadExerciseFor(w, r, true)
	if !ok {
		return
	}
	ref, ok := web.PathID(r, "eid")
	if !ok || a.Participant == nil {
		apiError(w, http.StatusNotFound, "no such inject")
		return
	}
	var in apiAnswerInput
	if !readJSON(w, r, &in) {
		return
	}
	an, err := m.store.SaveAnswer(r.Context(), e.ID, ref, AnswerInput(in))
	switch {
	case errors.Is(err, ErrNotFound):
		apiError(w, http.StatusNotFound, "no such inject for your group")
	case errors.Is(err, ErrNotAllowed):
		apiError(w, http.StatusForbidden, strings.TrimPrefix(err.Error(), "tabletop: "))
	case errors.Is(err, ErrStale):
		apiError(w, http.StatusConflict, "your group saved another version meanwhile: read the exercise again and start from its version")
	case errors.Is(err, ErrConflict):
		apiError(w, http.StatusConflict, "your group's answer is final already")
	case errors.Is(err, ErrInvalid):
		apiError(w, http.StatusBadRequest, problemOf(err))
	case err != nil:
		m.apiFail(w, r, "answer", err)
	default:
		writeJSON(w, http.StatusOK, apiAnswer{Ref: an.InjectRef, Group: an.GroupID, Actions: an.Actions, Owner: an.Owner, Gap: an.Gap,
			Version: an.Version, Final: an.IsFinal(), Edited: an.Edited})
	}
}
