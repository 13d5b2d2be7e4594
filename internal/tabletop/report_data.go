package tabletop

import (
	"context"
	"fmt"
	"time"
)

// Report is an exercise's after-action report, in the shape of the usual
// exercise documents: objectives and whether each was met, the timeline
// with the groups' times to respond, per-group scores, strengths, gaps and
// the improvement plan.
type Report struct {
	Exercise     Exercise
	Orgs         []ExerciseOrg
	Objectives   []ObjectiveRating
	Timeline     []TimelineRow
	Groups       []GroupScore
	Strengths    []Finding
	Gaps         []Finding
	Suggested    []string // gaps the groups named in their final answers, for the facilitators to take up
	Improvements []Improvement
	Lessons      string // path of the published lessons-learned note
	Participants int
}

// TimelineRow is a released inject and the final answers to it.
type TimelineRow struct {
	Inject  Released
	Answers []TimelineAnswer
}

// TimelineAnswer is one group's final answer to an inject.
type TimelineAnswer struct {
	Group    string
	Answer   Answer
	Response time.Duration // exercise time from the release to the final answer
}

// At is the inject's release in exercise time, "T+1h05m".
func (r TimelineRow) At() string { return "T+" + FormatOffset(r.Inject.At.Truncate(time.Second)) }

// ResponseText is the time to the final answer, "1h05m".
func (a TimelineAnswer) ResponseText() string { return FormatOffset(a.Response.Truncate(time.Second)) }

// MeanResponseText is the mean time to a final answer, "1h05m".
func (g GroupScore) MeanResponseText() string {
	return FormatOffset(g.MeanResponse.Truncate(time.Second))
}

// GroupScore sums up one group's answers.
type GroupScore struct {
	Group     Group
	Addressed int // injects addressed to the group
	Answered  int // final answers
	Scored    int
	Total     int // sum of the scores
	Mean      float64
	// MeanResponse is the mean exercise time to a final answer.
	MeanResponse time.Duration
}

// Percent is the group's scored total as a share of the maximum.
func (g GroupScore) Percent() int {
	if g.Scored == 0 {
		return 0
	}
	return g.Total * 100 / (g.Scored * MaxScore)
}

// Report assembles exercise id's after-action report.
func (s *Store) Report(ctx context.Context, id int64) (Report, error) {
	e, err := s.Exercise(ctx, id)
	if err != nil {
		return Report{}, err
	}
	r := Report{Exercise: e}
	if r.Orgs, err = s.Orgs(ctx, id); err != nil {
		return Report{}, err
	}
	rated := map[string]ObjectiveRating{}
	rows, err := s.db.Query(ctx, "SELECT objective_id, rating, note FROM tabletop_objectives WHERE exercise_id = ?", id)
	if err != nil {
		return Report{}, fmt.Errorf("tabletop: objectives: %w", err)
	}
	for rows.Next() {
		var o ObjectiveRating
		if err := rows.Scan(&o.ID, &o.Rating, &o.Note); err != nil {
			rows.Close()
			return Report{}, fmt.Errorf("tabletop: objectives: %w", err)
		}
		rated[o.ID] = o
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Report{}, fmt.Errorf("tabletop: objectives: %w", err)
	}
	for _, o := range e.Scenario.Objectives {
		or := rated[o.ID]
		or.Objective, or.Label = o, objectiveRatings[or.Rating]
		if or.Label == "" {
			or.Label = "Not rated"
		}
		r.Objectives = append(r.Objectives, or)
	}

	groups, err := s.Groups(ctx, id)
	if err != nil {
		return Report{}, err
	}
	rel, err := s.ReleasedInjects(ctx, id)
	if err != nil {
		return Report{}, err
	}
	answers, err := s.Answers(ctx, id)
	if err != nil {
		return Report{}, err
	}
	type key struct{ ref, group int64 }
	final := map[key]Answer{}
	for _, a := range answers {
		if a.IsFinal() {
			final[key{a.InjectRef, a.GroupID}] = a
			if a.Gap != "" {
				r.Suggested = append(r.Suggested, a.Gap)
			}
		}
	}
	scores := make([]GroupScore, len(groups))
	var respTotal = make([]time.Duration, len(groups))
	for i, g := range groups {
		scores[i].Group = g
	}
	for _, x := range rel {
		row := TimelineRow{Inject: x}
		for i, g := range groups {
			if !x.For(&g) {
				continue
			}
			scores[i].Addressed++
			a, ok := final[key{x.ID, g.ID}]
			if !ok {
				continue
			}
			resp := max(a.FinalAt-x.At, 0)
			row.Answers = append(row.Answers, TimelineAnswer{Group: g.Name, Answer: a, Response: resp})
			scores[i].Answered++
			respTotal[i] += resp
			if a.Scored {
				scores[i].Scored++
				scores[i].Total += a.Score
			}
		}
		r.Timeline = append(r.Timeline, row)
	}
	for i := range scores {
		if scores[i].Scored > 0 {
			scores[i].Mean = float64(scores[i].Total) / float64(scores[i].Scored)
		}
		if scores[i].Answered > 0 {
			scores[i].MeanResponse = respTotal[i] / time.Duration(scores[i].Answered)
		}
	}
	r.Groups = scores

	frows, err := s.db.Query(ctx, "SELECT id, kind, text FROM tabletop_findings WHERE exercise_id = ? ORDER BY id", id)
	if err != nil {
		return Report{}, fmt.Errorf("tabletop: findings: %w", err)
	}
	for frows.Next() {
		var f Finding
		if err := frows.Scan(&f.ID, &f.Kind, &f.Text); err != nil {
			frows.Close()
			return Report{}, fmt.Errorf("tabletop: findings: %w", err)
		}
		if f.Kind == "strength" {
			r.Strengths = append(r.Strengths, f)
		} else {
			r.Gaps = append(r.Gaps, f)
		}
	}
	frows.Close()
	if err := frows.Err(); err != nil {
		return Report{}, fmt.Errorf("tabletop: findings: %w", err)
	}
	if r.Improvements, err = s.Improvements(ctx, id); err != nil {
		return Report{}, err
	}
	if err := s.db.QueryRow(ctx, "SELECT lessons FROM tabletop_exercises WHERE id = ?", id).Scan(&r.Lessons); err != nil {
		return Report{}, fmt.Errorf("tabletop: lessons: %w", err)
	}
	if err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM tabletop_participants WHERE exercise_id = ? AND joined_at IS NOT NULL", id).Scan(&r.Participants); err != nil {
		return Report{}, fmt.Errorf("tabletop: participants: %w", err)
	}
	return r, nil
}

// HistoryRow is a past or running exercise an organisation took part in,
// with the follow-up of its improvement items.
type HistoryRow struct {
	ExerciseID int64
	Title      string
	RunBy      string
	Scenario   string
	Status     Status
	Started    time.Time
	Ended      time.Time
	Items      int // improvement items (of the organisations counted)
	Done       int
	Overdue    int
	Orgs       int // organisations taking part
}

// History lists the exercises that any of orgIDs took part in (invited,
// or running them), newest first, counting the improvement items owned
// by orgIDs; today (YYYY-MM-DD) decides which are overdue.
func (s *Store) History(ctx context.Context, orgIDs []int64, today string) ([]HistoryRow, error) {
	if len(orgIDs) == 0 {
		return nil, nil
	}
	in, args := "?", []any{orgIDs[0]}
	for _, o := range orgIDs[1:] {
		in += ", ?"
		args = append(args, o)
	}
	q := `SELECT e.id, e.title, o.name, e.scenario_key, e.status, COALESCE(e.started_at, 0), COALESCE(e.ended_at, 0),
			(SELECT COUNT(*) FROM tabletop_orgs x WHERE x.exercise_id = e.id),
			(SELECT COUNT(*) FROM tabletop_improvements i WHERE i.exercise_id = e.id AND i.owner_org IN (` + in + `)),
			(SELECT COUNT(*) FROM tabletop_improvements i WHERE i.exercise_id = e.id AND i.owner_org IN (` + in + `) AND i.status = 'done'),
			(SELECT COUNT(*) FROM tabletop_improvements i WHERE i.exercise_id = e.id AND i.owner_org IN (` + in + `) AND i.status = 'open' AND i.due < ?)
		FROM tabletop_exercises e JOIN orgs o ON o.id = e.org_id
		WHERE e.id IN (SELECT exercise_id FROM tabletop_orgs WHERE org_id IN (` + in + `))
		ORDER BY e.created_at DESC, e.id DESC`
	all := append(append(append(append(append([]any{}, args...), args...), args...), today), args...)
	rows, err := s.db.Query(ctx, q, all...)
	if err != nil {
		return nil, fmt.Errorf("tabletop: history: %w", err)
	}
	defer rows.Close()
	var out []HistoryRow
	for rows.Next() {
		var h HistoryRow
		var status string
		var started, ended int64
		if err := rows.Scan(&h.ExerciseID, &h.Title, &h.RunBy, &h.Scenario, &status, &started, &ended, &h.Orgs, &h.Items, &h.Done, &h.Overdue); err != nil {
			return nil, fmt.Errorf("tabletop: history: %w", err)
		}
		h.Status = Status(status)
		if started > 0 {
			h.Started = time.UnixMicro(started).UTC()
		}
		if ended > 0 {
			h.Ended = time.UnixMicro(ended).UTC()
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// OwnedImprovements lists the improvement items owned by orgID, across
// exercises, with their exercise's title.
func (s *Store) OwnedImprovements(ctx context.Context, orgID int64) ([]OwnedImprovement, error) {
	items, err := s.improvements(ctx, "i.owner_org = ?", orgID)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, nil
	}
	rows, err := s.db.Query(ctx, `SELECT i.id, e.id, e.title FROM tabletop_improvements i JOIN tabletop_exercises e ON e.id = i.exercise_id WHERE i.owner_org = ?`, orgID)
	if err != nil {
		return nil, fmt.Errorf("tabletop: improvements: %w", err)
	}
	defer rows.Close()
	type ex struct {
		id    int64
		title string
	}
	of := map[int64]ex{}
	for rows.Next() {
		var item int64
		var x ex
		if err := rows.Scan(&item, &x.id, &x.title); err != nil {
			return nil, fmt.Errorf("tabletop: improvements: %w", err)
		}
		of[item] = x
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tabletop: improvements: %w", err)
	}
	out := make([]OwnedImprovement, 0, len(items))
	for _, i := range items {
		out = append(out, OwnedImprovement{Improvement: i, ExerciseID: of[i.ID].id, Exercise: of[i.ID].title})
	}
	return out, nil
}

// OwnedImprovement is an improvement item with its exercise.
type OwnedImprovement struct {
	Improvement
	ExerciseID int64
	Exercise   string
}
