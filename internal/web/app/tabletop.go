package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dfslab/dfslab/internal/adoption"
	"github.com/dfslab/dfslab/internal/blob"
	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/collab"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/pdf"
	"github.com/dfslab/dfslab/internal/resilience"
	"github.com/dfslab/dfslab/internal/tabletop"
	"github.com/dfslab/dfslab/internal/web"
)

// tabletopModule builds the tabletop exercises: scenarios whose expected
// actions link to the catalogue and to the questions of the built-in
// resilience model, both checked when a scenario is saved; after-action
// reports whose improvement items go to the owners' adoption tracking and
// resilience self-assessment, and whose lessons learned are published as
// anonymous community notes.
func tabletopModule(ctx context.Context, d *db.DB, cat *catalog.Catalog, notes *collab.Store, cfg Config, rd *web.Renderer) (*tabletop.Module, error) {
	known := func(id string) bool { _, err := cat.Get(id); return err == nil }
	models, err := resilience.BuiltinModels(known)
	if err != nil {
		return nil, err
	}
	model := models[0]
	refs := tabletop.Refs{Recommendation: known, Question: func(id string) bool { return model.Question(id) != nil }}
	links := tabletop.Links{
		Recommendation: func(id string) (string, bool) {
			r, err := cat.Get(id)
			if err != nil {
				return "", false
			}
			return r.Title, true
		},
		Question: func(id string) (string, bool) {
			q := model.Question(id)
			if q == nil {
				return "", false
			}
			return q.Text, true
		},
		QuestionPage: "/resilience/models/" + model.Key(),
	}
	s, err := tabletop.NewStore(d, refs, cfg.Now)
	if err != nil {
		return nil, err
	}
	res, err := resilience.NewStore(d, blob.NewStore(d, cfg.Now), known, cfg.Now)
	if err != nil {
		return nil, err
	}
	var render pdf.Renderer
	if p := pdf.ChromiumPath(); p != "" {
		render = pdf.Chromium(p)
	}
	return tabletop.New(ctx, s, rd, tabletop.Deps{Links: links, PDF: render, Log: cfg.Logger,
		FollowUp: tabletopFollowUp{adoption: adoption.NewStore(d, cat, cfg.Now), resilience: res},
		Lessons:  tabletopLessons{notes}})
}

// tabletopFollowUp takes an exercise's improvement items to the owner
// organisation's own work.
type tabletopFollowUp struct {
	adoption   *adoption.Store
	resilience *resilience.Store
}

// Track comments on the owner's tracking item of the recommendation: the
// item is in the owner's national baseline, or there is nothing to track.
func (f tabletopFollowUp) Track(ctx context.Context, orgID int64, rec, text string) (string, error) {
	o, err := f.adoption.Org(ctx, orgID)
	if err != nil {
		return "", err
	}
	err = f.adoption.AddComment(ctx, o, rec, text)
	if errors.Is(err, adoption.ErrNotFound) || errors.Is(err, adoption.ErrWrongOrg) || errors.Is(err, adoption.ErrNoBaseline) {
		return "", fmt.Errorf("%w: %s is not in the national baseline %s tracks", tabletop.ErrNotTracked, rec, o.Name)
	}
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("/orgs/%d/tracking/%s", orgID, rec), nil
}

// NoteQuestion attaches the item, as a short text file, to the question
// of the owner's self-assessment under way (the newest draft).
func (f tabletopFollowUp) NoteQuestion(ctx context.Context, orgID int64, question, text string) (string, error) {
	as, err := f.resilience.Assessments(ctx, orgID)
	if err != nil {
		return "", err
	}
	var draft *resilience.Assessment
	for i := range as {
		if as[i].Status == resilience.StatusDraft && (draft == nil || as[i].Created.After(draft.Created)) {
			draft = &as[i]
		}
	}
	if draft == nil {
		return "", fmt.Errorf("%w: the owner has no resilience self-assessment under way to note %s on", tabletop.ErrNotTracked, question)
	}
	u, err := blob.Read(strings.NewReader(text+"\n"), "tabletop-improvement.txt", resilience.EvidencePolicy())
	if err != nil {
		return "", err
	}
	defer u.Close()
	if _, err := f.resilience.AddEvidence(ctx, orgID, draft.ID, question, u, "tabletop-improvement.txt"); err != nil {
		return "", err
	}
	return fmt.Sprintf("/orgs/%d/resilience/assessments/%d#q-%s", orgID, draft.ID, question), nil
}

// tabletopLessons publishes lessons learned as an anonymous note to every
// member of the platform.
type tabletopLessons struct{ notes *collab.Store }

func (l tabletopLessons) PublishLessons(ctx context.Context, userID, orgID int64, rec, body string) (string, error) {
	n, err := l.notes.AddNote(ctx, collab.Viewer{UserID: userID}, collab.NewNote{RecID: rec, OrgID: orgID, Audience: collab.AudienceAll, Anonymous: true, Body: body})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("/catalogue/%s#note-%d", n.RecID, n.ID), nil
}
