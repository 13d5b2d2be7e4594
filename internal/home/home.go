// Package home is the signed-in person's start page: what there is to do
// now in the organisation they work in. A regulator sees the reporting
// status of its providers (and who has not reported), reports and shared
// audits to review, overdue items and discussions awaiting an answer; a
// provider sees its items overdue and due soon, findings to triage, its
// latest scan and what its regulator asked of it.
//
// The page reads each capability through a small interface of its own
// (Sources), which the application wires to that capability's store: the
// page knows no other package's tables.
package home

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/dfslab/dfslab/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// Kind is what the organisation worked in does on the platform.
type Kind int

// Kinds of organisation.
const (
	Other     Kind = iota // neither oversees nor reports (a CERT, …)
	Regulator             // builds baselines, receives reports
	Provider              // implements baselines and reports on them
)

// Item is one thing on the page: what it is, where to act on it, and a
// short note (a date, a count).
type Item struct {
	Text string
	Href string
	Note string
	// Alert marks what is late or severe; it is said in words in Note
	// too, never by colour alone.
	Alert bool
}

// List is the first items of a longer list: Total counts them all.
type List struct {
	Items []Item
	Total int
}

// More is how many items the list leaves out.
func (l List) More() int { return max(l.Total-len(l.Items), 0) }

// Reporting is where the providers stand in the current reporting period.
type Reporting struct {
	Period    string // "" when no period is open
	Due       string // YYYY-MM-DD
	InScope   int
	Submitted int
	Late      int
	Missing   int // nothing submitted, due date passed
	Awaiting  int // nothing submitted, not due yet
	// NotReported are the providers without a report, missing first.
	NotReported List
}

// Limit is how many items each list on the page shows.
const Limit = 8

// Orgs tells the kind of an organisation.
type Orgs interface {
	Kind(ctx context.Context, orgID int64) (Kind, error)
}

// Oversight is a regulator's reporting work (national baselines).
type Oversight interface {
	Reporting(ctx context.Context, orgID int64) (Reporting, error)
	// ToReview lists the latest reports of providers not reviewed yet.
	ToReview(ctx context.Context, orgID int64, limit int) (List, error)
	// Overdue lists providers whose latest report has overdue items, and
	// the regulator's own overdue commitments.
	Overdue(ctx context.Context, orgID int64, limit int) (List, error)
}

// Tracking is an organisation's own baseline items.
type Tracking interface {
	// Deadlines lists the open items past their target date and those
	// due within the next 30 days.
	Deadlines(ctx context.Context, orgID int64, limit int) (overdue, soon List, err error)
	// Requests lists what the regulator asked of the organisation: reports
	// returned with findings to fix.
	Requests(ctx context.Context, orgID int64, limit int) (List, error)
}

// Apps is the app lab.
type Apps interface {
	// Latest is the organisation's latest scan (ok false: none yet).
	Latest(ctx context.Context, orgID int64) (it Item, ok bool, err error)
	// ToTriage lists the apps whose latest version has findings of the
	// app's own code without a triage decision.
	ToTriage(ctx context.Context, orgID int64, limit int) (List, error)
	// Shared lists the app audits providers shared with the regulator.
	Shared(ctx context.Context, orgID int64, limit int) (List, error)
}

// Discussions are the conversations the person can see.
type Discussions interface {
	// Awaiting lists discussions started by others that nobody has
	// answered yet.
	Awaiting(ctx context.Context, userID int64, platformAdmin bool, limit int) (List, error)
}

// Sources are the capabilities the page reads. Orgs is required; a nil
// source leaves its panels out.
type Sources struct {
	Orgs        Orgs
	Oversight   Oversight
	Tracking    Tracking
	Apps        Apps
	Discussions Discussions
}

// Page serves the start page of signed-in people.
type Page struct {
	src   Sources
	pages *web.Pages
	log   *slog.Logger
}

// New returns the page.
func New(rd *web.Renderer, src Sources, log *slog.Logger) (*Page, error) {
	if src.Orgs == nil {
		return nil, errors.New("home: Orgs is required")
	}
	ps, err := rd.Pages(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Page{src: src, pages: ps, log: log}, nil
}

// view is the page's data.
type view struct {
	Name      string
	Org       web.Membership
	HasOrg    bool
	Kind      Kind
	Base      string // /orgs/{id}
	Admin     bool   // platform administrator
	CanTriage bool   // analyst or above
	Reporting Reporting
	ToReview  List
	Overdue   List
	Soon      List
	Requests  List
	Latest    Item
	HasLatest bool
	ToTriage  List
	Shared    List
	Awaiting  List
	Regulator bool
	Provider  bool
}

// ServeHTTP renders the page for the signed-in person (the shell sends
// only them here).
func (pg *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := web.CurrentPrincipal(r.Context())
	if p == nil {
		web.Error(w, r, http.StatusUnauthorized)
		return
	}
	v, err := pg.load(r.Context(), r, p)
	if err != nil {
		web.ServerError(w, r, "home page", err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	pg.pages.Render(w, r, http.StatusOK, "home.html", web.View{Title: "Home", Data: v})
}

func (pg *Page) load(ctx context.Context, r *http.Request, p *web.Principal) (view, error) {
	v := view{Name: p.User.Name(), Admin: p.User.PlatformAdmin}
	m, ok := web.CurrentOrg(r)
	if !ok {
		if pg.src.Discussions != nil {
			var err error
			if v.Awaiting, err = pg.src.Discussions.Awaiting(ctx, p.User.ID, p.User.PlatformAdmin, Limit); err != nil {
				return v, fmt.Errorf("discussions: %w", err)
			}
		}
		return v, nil
	}
	v.Org, v.HasOrg = m, true
	v.Base = "/orgs/" + strconv.FormatInt(m.OrgID, 10)
	v.CanTriage = m.Role.AtLeast(web.RoleAnalyst)
	kind, err := pg.src.Orgs.Kind(ctx, m.OrgID)
	if err != nil {
		return v, fmt.Errorf("kind of organisation %d: %w", m.OrgID, err)
	}
	v.Kind, v.Regulator, v.Provider = kind, kind == Regulator, kind == Provider
	id := m.OrgID
	if s := pg.src.Oversight; s != nil && kind == Regulator {
		if v.Reporting, err = s.Reporting(ctx, id); err != nil {
			return v, fmt.Errorf("reporting: %w", err)
		}
		if v.ToReview, err = s.ToReview(ctx, id, Limit); err != nil {
			return v, fmt.Errorf("reports to review: %w", err)
		}
		if v.Overdue, err = s.Overdue(ctx, id, Limit); err != nil {
			return v, fmt.Errorf("overdue: %w", err)
		}
	}
	if s := pg.src.Tracking; s != nil && kind == Provider {
		if v.Overdue, v.Soon, err = s.Deadlines(ctx, id, Limit); err != nil {
			return v, fmt.Errorf("deadlines: %w", err)
		}
		if v.Requests, err = s.Requests(ctx, id, Limit); err != nil {
			return v, fmt.Errorf("requests: %w", err)
		}
	}
	if s := pg.src.Apps; s != nil {
		if kind == Regulator {
			if v.Shared, err = s.Shared(ctx, id, Limit); err != nil {
				return v, fmt.Errorf("shared audits: %w", err)
			}
		} else {
			if v.Latest, v.HasLatest, err = s.Latest(ctx, id); err != nil {
				return v, fmt.Errorf("latest scan: %w", err)
			}
			if v.ToTriage, err = s.ToTriage(ctx, id, Limit); err != nil {
				return v, fmt.Errorf("findings to triage: %w", err)
			}
		}
	}
	if s := pg.src.Discussions; s != nil {
		if v.Awaiting, err = s.Awaiting(ctx, p.User.ID, p.User.PlatformAdmin, Limit); err != nil {
			return v, fmt.Errorf("discussions: %w", err)
		}
	}
	return v, nil
}
