package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/dfslab/dfslab/internal/adoption"
	"github.com/dfslab/dfslab/internal/applab"
	"github.com/dfslab/dfslab/internal/appscan"
	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/catalog/catalogweb"
	"github.com/dfslab/dfslab/internal/collab"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/home"
	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/web"
)

// The start page (internal/home) reads each capability through these
// adapters, over the capability's own exported store methods: the page
// package knows none of their tables, and the capabilities know nothing
// of the page.

func orgPath(id int64, rest string) string { return "/orgs/" + strconv.FormatInt(id, 10) + rest }

// homeOrgs tells regulators from providers (adoption's reading of the
// organisation type and licensee).
type homeOrgs struct{ s *adoption.Store }

func (h homeOrgs) Kind(ctx context.Context, id int64) (home.Kind, error) {
	o, err := h.s.Org(ctx, id)
	if err != nil {
		return home.Other, err
	}
	switch {
	case o.IsRegulator():
		return home.Regulator, nil
	case o.IsProvider():
		return home.Provider, nil
	}
	return home.Other, nil
}

// homeOversight is a regulator's reporting work, from adoption.
type homeOversight struct {
	s   *adoption.Store
	now func() time.Time
}

func (h homeOversight) Reporting(ctx context.Context, id int64) (home.Reporting, error) {
	var out home.Reporting
	reg, err := h.s.Org(ctx, id)
	if err != nil {
		return out, err
	}
	ps, err := h.s.Periods(ctx, reg)
	if errors.Is(err, adoption.ErrWrongOrg) {
		return out, nil
	}
	if err != nil {
		return out, err
	}
	i := slices.IndexFunc(ps, adoption.Period.Current)
	if i < 0 {
		return out, nil
	}
	p := ps[i]
	out.Period, out.Due = p.Label, p.DueDate
	// Missing reports first (the due date has passed), then those not due
	// yet; the counts are over every provider whatever the filter.
	for _, st := range []adoption.PeriodState{adoption.PeriodMissing, adoption.PeriodAwaiting} {
		ro, err := h.s.Roster(ctx, reg, p.ID, st, 0, home.Limit)
		if err != nil {
			return out, fmt.Errorf("roster: %w", err)
		}
		out.InScope = ro.InScope
		out.Submitted, out.Late = ro.Count(adoption.PeriodSubmitted), ro.Count(adoption.PeriodLate)
		out.Missing, out.Awaiting = ro.Count(adoption.PeriodMissing), ro.Count(adoption.PeriodAwaiting)
		out.NotReported.Total += ro.Matched
		for _, row := range ro.Rows {
			if len(out.NotReported.Items) == home.Limit {
				break
			}
			it := home.Item{Text: row.OrgName, Href: orgPath(id, "/sector/providers/"+strconv.FormatInt(row.OrgID, 10)), Note: "not due yet"}
			if st == adoption.PeriodMissing {
				it.Note, it.Alert = "missing: was due "+p.DueDate, true
			}
			out.NotReported.Items = append(out.NotReported.Items, it)
		}
	}
	return out, nil
}

func (h homeOversight) sector(ctx context.Context, id int64) (adoption.SectorView, error) {
	reg, err := h.s.Org(ctx, id)
	if err != nil {
		return adoption.SectorView{}, err
	}
	v, err := h.s.Sector(ctx, reg)
	if errors.Is(err, adoption.ErrWrongOrg) {
		return adoption.SectorView{}, nil
	}
	return v, err
}

func (h homeOversight) ToReview(ctx context.Context, id int64, limit int) (home.List, error) {
	v, err := h.sector(ctx, id)
	if err != nil {
		return home.List{}, err
	}
	var subs []adoption.Submission
	for _, row := range v.Rows {
		if row.Latest.Review.Outcome == "" {
			subs = append(subs, row.Latest)
		}
	}
	slices.SortFunc(subs, func(a, b adoption.Submission) int { return b.SubmittedAt.Compare(a.SubmittedAt) })
	out := home.List{Total: len(subs)}
	for _, s := range subs[:min(len(subs), limit)] {
		out.Items = append(out.Items, home.Item{Text: s.OrgName + " · baseline " + s.Baseline,
			Href: orgPath(id, "/sector/submissions/"+strconv.FormatInt(s.ID, 10)),
			Note: fmt.Sprintf("submitted %s · %d%% implemented", s.SubmittedAt.UTC().Format(time.DateOnly), s.Share())})
	}
	return out, nil
}

func (h homeOversight) Overdue(ctx context.Context, id int64, limit int) (home.List, error) {
	v, err := h.sector(ctx, id)
	if err != nil {
		return home.List{}, err
	}
	var out home.List
	rows := slices.Clone(v.Rows)
	slices.SortFunc(rows, func(a, b adoption.SectorRow) int { return cmp.Compare(b.Latest.Overdue, a.Latest.Overdue) })
	for _, row := range rows {
		if row.Latest.Overdue == 0 {
			continue
		}
		out.Total++
		if len(out.Items) < limit {
			out.Items = append(out.Items, home.Item{Text: row.Latest.OrgName, Alert: true,
				Href: orgPath(id, "/sector/providers/"+strconv.FormatInt(row.Latest.OrgID, 10)),
				Note: plural(row.Latest.Overdue, "overdue item", "overdue items") + " in its latest report"})
		}
	}
	// The regulator's own commitments (items it must act on itself).
	own, _, err := homeTracking(h).Deadlines(ctx, id, limit)
	if err != nil {
		return out, err
	}
	out.Total += own.Total
	for _, it := range own.Items {
		if len(out.Items) < limit {
			out.Items = append(out.Items, it)
		}
	}
	return out, nil
}

// homeTracking is an organisation's own baseline items, from adoption.
type homeTracking struct {
	s   *adoption.Store
	now func() time.Time
}

// soonDays is how far ahead "due soon" looks.
const soonDays = 30

func (h homeTracking) Deadlines(ctx context.Context, id int64, limit int) (overdue, soon home.List, err error) {
	o, err := h.s.Org(ctx, id)
	if err != nil {
		return overdue, soon, err
	}
	tr, err := h.s.Items(ctx, o)
	if errors.Is(err, adoption.ErrWrongOrg) || errors.Is(err, adoption.ErrNoBaseline) || errors.Is(err, adoption.ErrNotFound) {
		return overdue, soon, nil
	}
	if err != nil {
		return overdue, soon, err
	}
	now := h.now().UTC()
	today, horizon := now.Format(time.DateOnly), now.AddDate(0, 0, soonDays).Format(time.DateOnly)
	items := slices.Clone(tr.Items)
	slices.SortStableFunc(items, func(a, b adoption.Item) int { return cmp.Compare(a.TargetDate, b.TargetDate) })
	for _, it := range items {
		if !it.Status.Open() {
			continue
		}
		title := it.RecID
		if it.Rec != nil {
			title = it.RecID + " · " + it.Rec.Title
		}
		item := home.Item{Text: title, Href: orgPath(id, "/tracking/"+it.RecID)}
		switch {
		case it.Overdue:
			overdue.Total++
			item.Alert, item.Note = true, "overdue"
			if it.TargetDate != "" {
				item.Note = "overdue since " + it.TargetDate
			}
			if len(overdue.Items) < limit {
				overdue.Items = append(overdue.Items, item)
			}
		case it.TargetDate != "" && it.TargetDate >= today && it.TargetDate <= horizon:
			soon.Total++
			item.Note = "due " + it.TargetDate
			if len(soon.Items) < limit {
				soon.Items = append(soon.Items, item)
			}
		}
	}
	return overdue, soon, nil
}

func (h homeTracking) Requests(ctx context.Context, id int64, limit int) (home.List, error) {
	o, err := h.s.Org(ctx, id)
	if err != nil {
		return home.List{}, err
	}
	subs, err := h.s.Submissions(ctx, o)
	if errors.Is(err, adoption.ErrWrongOrg) {
		return home.List{}, nil
	}
	if err != nil {
		return home.List{}, err
	}
	// A report returned with findings is a request until a later report
	// answers it.
	latest := slices.MaxFunc(append([]adoption.Submission{{}}, subs...), func(a, b adoption.Submission) int { return a.SubmittedAt.Compare(b.SubmittedAt) })
	var out home.List
	if latest.ID != 0 && latest.Review.Outcome == adoption.Returned {
		out.Total = 1
		out.Items = append(out.Items, home.Item{Text: "Report of " + latest.SubmittedAt.UTC().Format(time.DateOnly) + " returned with findings",
			Href: orgPath(id, "/submissions/"+strconv.FormatInt(latest.ID, 10)), Alert: true,
			Note: "fix them and submit a new report"})
	}
	return out, nil
}

// homeApps is the app lab, from applab.
type homeApps struct {
	s   *applab.Store
	now func() time.Time
}

// maxTriageApps bounds the apps whose latest results the page reads.
const maxTriageApps = 20

func (h homeApps) Latest(ctx context.Context, id int64) (home.Item, bool, error) {
	scans, err := h.s.RecentScans(ctx, id, 1)
	if err != nil || len(scans) == 0 {
		return home.Item{}, false, err
	}
	sc := scans[0]
	it := home.Item{Text: sc.FileName, Href: orgPath(id, "/apps/scans/"+strconv.FormatInt(sc.ID, 10))}
	switch sc.State {
	case applab.Done:
		it.Note = fmt.Sprintf("scanned %s · %d critical, %d high", sc.Finished.UTC().Format(time.DateOnly), sc.Counts.Critical, sc.Counts.High)
		it.Alert = sc.Counts.Critical > 0
		if sc.VersionID != 0 {
			it.Href = orgPath(id, "/apps/versions/"+strconv.FormatInt(sc.VersionID, 10))
		}
	case applab.Failed:
		it.Note, it.Alert = "scan failed", true
	default:
		it.Note = "scan " + string(sc.State)
	}
	return it, true, nil
}

func (h homeApps) ToTriage(ctx context.Context, id int64, limit int) (home.List, error) {
	apps, err := h.s.Apps(ctx, id)
	if err != nil {
		return home.List{}, err
	}
	today := h.now().UTC().Format(time.DateOnly)
	var out home.List
	for _, a := range apps[:min(len(apps), maxTriageApps)] {
		vs, err := h.s.Versions(ctx, a.ID)
		if err != nil {
			return out, err
		}
		i := slices.IndexFunc(vs, func(v applab.Version) bool { return v.ScanID != 0 })
		if i < 0 {
			continue
		}
		v := vs[i]
		res, err := h.s.Result(ctx, v.ScanID)
		if err != nil {
			return out, err
		}
		tri, err := h.s.TriageOf(ctx, a.ID)
		if err != nil {
			return out, err
		}
		var open, severe int
		for _, f := range res.Findings {
			if f.InLibrary || tri[f.Fingerprint].Effective(today) != applab.Open {
				continue
			}
			open++
			if f.Severity == appscan.Critical || f.Severity == appscan.High {
				severe++
			}
		}
		if open == 0 {
			continue
		}
		out.Total++
		if len(out.Items) < limit {
			out.Items = append(out.Items, home.Item{Text: a.Package + " " + v.Label(), Alert: severe > 0,
				Href: orgPath(id, "/apps/versions/"+strconv.FormatInt(v.ID, 10)),
				Note: plural(open, "finding", "findings") + " without a decision, " + strconv.Itoa(severe) + " critical or high"})
		}
	}
	return out, nil
}

func (h homeApps) Shared(ctx context.Context, id int64, limit int) (home.List, error) {
	reg, err := h.s.Org(ctx, id)
	if err != nil {
		return home.List{}, err
	}
	rows, err := h.s.Market(ctx, reg)
	if err != nil {
		return home.List{}, err
	}
	var shared []applab.MarketRow
	for _, r := range rows {
		if r.Shared {
			shared = append(shared, r)
		}
	}
	slices.SortFunc(shared, func(a, b applab.MarketRow) int { return b.Version.Created.Compare(a.Version.Created) })
	out := home.List{Total: len(shared)}
	for _, r := range shared[:min(len(shared), limit)] {
		out.Items = append(out.Items, home.Item{Text: r.Provider.Name + " · " + r.Version.Package + " " + r.Version.Label(),
			Href:  orgPath(id, "/apps/versions/"+strconv.FormatInt(r.Version.ID, 10)),
			Note:  fmt.Sprintf("%d critical, %d high open", r.OpenCritical, r.OpenHigh),
			Alert: r.OpenCritical > 0})
	}
	return out, nil
}

// homeDiscussions are the discussions, from collab.
type homeDiscussions struct{ s *collab.Store }

func (h homeDiscussions) Awaiting(ctx context.Context, userID int64, admin bool, limit int) (home.List, error) {
	ts, err := h.s.Threads(ctx, collab.Viewer{UserID: userID, Admin: admin}, collab.ThreadQuery{})
	if err != nil {
		return home.List{}, err
	}
	var out home.List
	for _, t := range ts {
		if t.Posts > 1 || t.AuthorID == userID {
			continue
		}
		out.Total++
		if len(out.Items) < limit {
			out.Items = append(out.Items, home.Item{Text: t.Title, Href: "/discussions/" + strconv.FormatInt(t.ID, 10),
				Note: t.RecID + " · " + t.OrgName + " · " + t.Created.UTC().Format(time.DateOnly)})
		}
	}
	return out, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// homePage builds the start page over the capabilities' stores.
func homePage(d *db.DB, cat *catalog.Catalog, store *collab.Store, cfg Config, rd *web.Renderer) (*home.Page, error) {
	ad := adoption.NewStore(d, cat, cfg.Now)
	return home.New(rd, home.Sources{
		Orgs:        homeOrgs{ad},
		Oversight:   homeOversight{ad, cfg.Now},
		Tracking:    homeTracking{ad, cfg.Now},
		Apps:        homeApps{applab.NewStore(d, cfg.Now), cfg.Now},
		Discussions: homeDiscussions{store},
	}, cfg.Logger)
}

// recStandings tells a recommendation page where the recommendation
// stands in the baseline of the reader's country and in their
// organisation's tracking (adoption, read through its store).
type recStandings struct{ s *adoption.Store }

func (h recStandings) RecommendationStanding(r *http.Request, recID string) (catalogweb.Standing, bool, error) {
	m, ok := web.CurrentOrg(r)
	if !ok {
		return catalogweb.Standing{}, false, nil
	}
	ctx := r.Context()
	o, err := h.s.Org(ctx, m.OrgID)
	if err != nil {
		return catalogweb.Standing{}, false, err
	}
	st := catalogweb.Standing{Country: o.Country, Org: o.Name}
	v, err := h.s.Latest(ctx, o.Country)
	switch {
	case errors.Is(err, adoption.ErrNoBaseline), errors.Is(err, adoption.ErrNotFound):
		return st, true, nil
	case err != nil:
		return st, false, err
	}
	st.Baseline, st.BaselineHref = v.Label(), orgPath(o.ID, "/baseline/v/"+strconv.Itoa(v.Number))
	for _, it := range v.Items {
		if it.RecID == recID || it.PublishedAs == recID {
			st.Decision, st.Deadline = it.Decision.Label(), it.Deadline
		}
	}
	if !o.Tracks() {
		return st, true, nil
	}
	it, err := h.s.Item(ctx, o, recID)
	switch {
	case errors.Is(err, adoption.ErrNotFound), errors.Is(err, adoption.ErrWrongOrg), errors.Is(err, adoption.ErrNoBaseline):
		return st, true, nil
	case err != nil:
		return st, false, err
	}
	st.Tracking, st.TrackingHref = it.Status.Label(), orgPath(o.ID, "/tracking/"+it.RecID)
	st.Target, st.Overdue = it.TargetDate, it.Overdue
	return st, true, nil
}

// orgNotifier sends an in-app notification to the active members of an
// organisation (identity's memberships, collab's notifications).
type orgNotifier struct {
	ids   *identity.Store
	notes *collab.Store
}

func (n orgNotifier) NotifyOrg(ctx context.Context, orgID int64, kind, text, link string) error {
	ms, err := n.ids.ListMembers(ctx, orgID)
	if err != nil {
		return fmt.Errorf("members of %d: %w", orgID, err)
	}
	var users []int64
	for _, m := range ms {
		if !m.Suspended {
			users = append(users, m.User.ID)
		}
	}
	return n.notes.Notify(ctx, users, kind, text, link)
}
