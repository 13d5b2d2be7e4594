package tabletop

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/dfslab/dfslab/internal/web"
)

// answerRoutes are the group answers, scores, hints and notes of a run.
// As for the set-up, the handlers check the person's part (404 for
// anyone without one, 403 for a part that does not allow the action)
// before they look at the input.
func (m *Module) answerRoutes() []web.Route {
	h := func(f http.HandlerFunc) http.Handler { return f }
	const ex = "/tabletop/exercises/{id}"
	signed := web.SignedIn()
	return []web.Route{
		{Pattern: "POST " + ex + "/answers/{eid}", Policy: signed, Handler: h(m.saveAnswer)},
		{Pattern: "POST " + ex + "/scores/{eid}", Policy: signed, Handler: h(m.scoreAnswer)},
		{Pattern: "POST " + ex + "/hints", Policy: signed, Handler: h(m.hint)},
		{Pattern: "POST " + ex + "/notes", Policy: signed, Handler: h(m.note)},
	}
}

// kept is what a refused form posted, shown again so that nothing typed
// is lost.
type kept struct {
	Ref                 int64 // the inject of an answer
	Actions, Owner, Gap string
	ScoreFor            int64 // the answer of a score
	ScoreNote           string
	HintGroup           int64
	Hint                string
	Note                string
}

// answerView is one group's answer to an inject as a person sees it.
type answerView struct {
	GroupID   int64
	GroupName string
	Answer    *Answer
	At        string // exercise time of the final answer
	// Players of the group edit the draft in a form.
	Form                bool
	Version             int64
	Actions, Owner, Gap string
	Meanwhile           bool // a stale save: the draft saved meanwhile is shown below the typed text
	// Facilitators score final answers.
	CanScore  bool
	ScoreOpts []option
	ScoreNote string
}

type logView struct {
	LogEntry
	At    string
	Group string
	Label string
}

var logLabels = map[string]string{"state": "Exercise", "inject": "Inject", "answer": "Answer", "score": "Score", "hint": "Hint", "note": "Note"}

// answers fills in the answers, hints and decision log the person sees:
// players their own group's drafts, answers and hints; facilitators and
// observers everything.
func (m *Module) answers(r *http.Request, d *exerciseData, groups []Group, a Access, typed *kept) error {
	ctx := r.Context()
	all, err := m.store.Answers(ctx, d.E.ID)
	if err != nil {
		return err
	}
	type key struct{ ref, group int64 }
	byKey := map[key]*Answer{}
	for i := range all {
		byKey[key{all[i].InjectRef, all[i].GroupID}] = &all[i]
	}
	names := map[int64]string{}
	for _, g := range groups {
		names[g.ID] = g.Name
	}
	p := a.Participant
	running := d.E.Status == StatusRunning || d.E.Status == StatusPaused
	d.CanAnswer = p.Role == RolePlayer && p.GroupID != 0 && running
	d.CanNote = p.Role != RolePlayer
	d.CanHint = a.Facilitates() && running
	if typed != nil {
		d.Kept = *typed
	}
	for i := range d.Injects {
		in := &d.Injects[i]
		for _, g := range groups {
			if !in.For(&g) || (p.Role == RolePlayer && g.ID != p.GroupID) {
				continue
			}
			v := answerView{GroupID: g.ID, GroupName: g.Name, Answer: byKey[key{in.ID, g.ID}]}
			if v.Answer != nil && v.Answer.IsFinal() {
				v.At = "T+" + FormatOffset(v.Answer.FinalAt.Truncate(time.Second))
			}
			if d.CanAnswer && (v.Answer == nil || !v.Answer.IsFinal()) {
				v.Form = true
				if v.Answer != nil {
					v.Version, v.Actions, v.Owner, v.Gap = v.Answer.Version, v.Answer.Actions, v.Answer.Owner, v.Answer.Gap
				}
				if typed != nil && typed.Ref != 0 && typed.Ref == in.ID {
					v.Meanwhile = v.Answer != nil && (v.Actions != typed.Actions || v.Owner != typed.Owner || v.Gap != typed.Gap)
					v.Actions, v.Owner, v.Gap = typed.Actions, typed.Owner, typed.Gap
				}
			}
			if a.Facilitates() && v.Answer != nil && v.Answer.IsFinal() {
				v.CanScore = true
				for s := range MaxScore + 1 {
					v.ScoreOpts = append(v.ScoreOpts, option{Value: strconv.Itoa(s), Label: scoreLabel(s),
						Selected: v.Answer.Scored && v.Answer.Score == s})
				}
			}
			if v.CanScore {
				v.ScoreNote = v.Answer.ScoreNote
				if typed != nil && typed.ScoreFor == v.Answer.ID {
					v.ScoreNote = typed.ScoreNote
				}
			}
			in.Answers = append(in.Answers, v)
		}
	}
	log, err := m.store.Log(ctx, d.E.ID)
	if err != nil {
		return err
	}
	for _, l := range log {
		v := logView{LogEntry: l, At: "T+" + FormatOffset(l.At.Truncate(time.Second)), Group: names[l.GroupID], Label: logLabels[l.Kind]}
		if l.Kind == "hint" && (p.Role != RolePlayer || l.GroupID == p.GroupID) {
			d.Hints = append(d.Hints, v)
		}
		if p.Role != RolePlayer {
			d.Log = append(d.Log, v)
		}
	}
	return nil
}

func scoreLabel(s int) string {
	return strconv.Itoa(s) + " – " + [...]string{"not addressed", "partly", "mostly", "fully"}[s]
}

// runFailed answers a refused run action; bad input and conflicts show
// the page again with the problem (and the typed answer, if any).
func (m *Module) runFailed(w http.ResponseWriter, r *http.Request, err error, typed *kept) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, ErrNotAllowed):
		web.Error(w, r, http.StatusForbidden)
	case errors.Is(err, ErrNotFound):
		web.Error(w, r, http.StatusNotFound)
	case errors.Is(err, ErrStale):
		m.renderExerciseWith(w, r, http.StatusConflict, "Someone in your group saved the answer meanwhile. Your text is kept in the form; the group's draft as saved is shown below it. Save again to replace it.", "", typed)
	case errors.Is(err, ErrConflict):
		m.renderExerciseWith(w, r, http.StatusConflict, "Your group's answer is final already; it is shown below.", "", nil)
	case errors.Is(err, ErrInvalid):
		m.renderExerciseWith(w, r, http.StatusBadRequest, problemOf(err), "", typed)
	default:
		m.fail(w, r, "exercise run", err)
	}
	return true
}

// participating loads the exercise for a run action by a participant
// whose part allows it (allowed); 403 otherwise.
func (m *Module) participating(w http.ResponseWriter, r *http.Request, allowed func(Participant) bool) (Exercise, bool) {
	e, a, ok := m.loadExercise(w, r)
	if !ok || !web.ParseForm(w, r) {
		return Exercise{}, false
	}
	if a.Participant == nil || a.Participant.Joined.IsZero() || !allowed(*a.Participant) {
		web.Error(w, r, http.StatusForbidden)
		return Exercise{}, false
	}
	return e, true
}

func (m *Module) saveAnswer(w http.ResponseWriter, r *http.Request) {
	e, ok := m.participating(w, r, func(p Participant) bool { return p.Role == RolePlayer && p.GroupID != 0 })
	if !ok {
		return
	}
	ref, ok := web.PathID(r, "eid")
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	version, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	in := AnswerInput{Version: version, Actions: r.PostFormValue("actions"), Owner: r.PostFormValue("owner"), Gap: r.PostFormValue("gap"),
		Final: r.PostFormValue("submit") == "final"}
	typed := &kept{Ref: ref, Actions: in.Actions, Owner: in.Owner, Gap: in.Gap}
	if _, err := m.store.SaveAnswer(r.Context(), e.ID, ref, in); m.runFailed(w, r, err, typed) {
		return
	}
	done := "draft"
	if in.Final {
		done = "answered"
	}
	http.Redirect(w, r, exercisePath(e.ID, fmt.Sprintf("?done=%s#answers-%d", done, ref)), http.StatusSeeOther)
}

func (m *Module) scoreAnswer(w http.ResponseWriter, r *http.Request) {
	e, ok := m.participating(w, r, func(p Participant) bool { return p.Role == RoleFacilitator })
	if !ok {
		return
	}
	id, ok := web.PathID(r, "eid")
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	score, err := strconv.Atoi(r.PostFormValue("score"))
	if err != nil {
		score = -1 // refused by the store with the range named
	}
	note := r.PostFormValue("note")
	if m.runFailed(w, r, m.store.ScoreAnswer(r.Context(), e.ID, id, score, note), &kept{ScoreFor: id, ScoreNote: note}) {
		return
	}
	http.Redirect(w, r, exercisePath(e.ID, "?done=scored#run-title"), http.StatusSeeOther)
}

func (m *Module) hint(w http.ResponseWriter, r *http.Request) {
	e, ok := m.participating(w, r, func(p Participant) bool { return p.Role == RoleFacilitator })
	if !ok {
		return
	}
	k := &kept{HintGroup: formID(r, "group"), Hint: r.PostFormValue("text")}
	if m.runFailed(w, r, m.store.Hint(r.Context(), e.ID, k.HintGroup, k.Hint), k) {
		return
	}
	http.Redirect(w, r, exercisePath(e.ID, "?done=hinted#hints-title"), http.StatusSeeOther)
}

func (m *Module) note(w http.ResponseWriter, r *http.Request) {
	e, ok := m.participating(w, r, func(p Participant) bool { return p.Role != RolePlayer })
	if !ok {
		return
	}
	k := &kept{Note: r.PostFormValue("text")}
	if m.runFailed(w, r, m.store.Note(r.Context(), e.ID, k.Note), k) {
		return
	}
	http.Redirect(w, r, exercisePath(e.ID, "?done=noted#log-title"), http.StatusSeeOther)
}
