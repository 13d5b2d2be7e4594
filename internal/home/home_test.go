package home

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/web"
)

type fakeOrgs map[int64]Kind

func (f fakeOrgs) Kind(_ context.Context, id int64) (Kind, error) {
	k, ok := f[id]
	if !ok {
		return Other, errors.New("no such organisation")
	}
	return k, nil
}

type fakeWork struct{ calls []string }

func (f *fakeWork) Reporting(context.Context, int64) (Reporting, error) {
	f.calls = append(f.calls, "reporting")
	return Reporting{Period: "Q3", Due: "2027-09-30", InScope: 3, Missing: 1,
		NotReported: List{Items: []Item{{Text: "Late <Pay>", Href: "/x", Note: "missing", Alert: true}}, Total: 9}}, nil
}
func (f *fakeWork) ToReview(context.Context, int64, int) (List, error) { return List{}, nil }
func (f *fakeWork) Overdue(context.Context, int64, int) (List, error)  { return List{}, nil }
func (f *fakeWork) Deadlines(context.Context, int64, int) (List, List, error) {
	f.calls = append(f.calls, "deadlines")
	return List{Items: []Item{{Text: "APP-001", Href: "/t", Note: "overdue since 2027-01-01", Alert: true}}, Total: 1}, List{}, nil
}
func (f *fakeWork) Requests(context.Context, int64, int) (List, error) { return List{}, nil }

// TestPanelsByKind: a regulator gets the oversight panels and not a
// provider's, and the other way round; lists say how many more there
// are; text from the sources is escaped.
func TestPanelsByKind(t *testing.T) {
	rd, err := web.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	work := &fakeWork{}
	pg, err := New(rd, Sources{Orgs: fakeOrgs{1: Regulator, 2: Provider}, Oversight: work, Tracking: work}, nil)
	if err != nil {
		t.Fatal(err)
	}
	get := func(org int64) string {
		p := &web.Principal{User: web.User{ID: 7, Email: "p@example.org"}, Memberships: []web.Membership{{OrgID: org, OrgName: "Org", Role: web.RoleViewer}}}
		r := httptest.NewRequest("GET", "/", nil).WithContext(web.WithPrincipal(context.Background(), p))
		rec := httptest.NewRecorder()
		pg.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			t.Fatalf("org %d: %d", org, rec.Code)
		}
		return rec.Body.String()
	}
	reg := get(1)
	if !strings.Contains(reg, `id="home-reporting"`) || !strings.Contains(reg, "Late &lt;Pay&gt;") || !strings.Contains(reg, "and 8 more") || strings.Contains(reg, `id="home-soon"`) {
		t.Errorf("regulator's home:\n%s", reg)
	}
	prov := get(2)
	if !strings.Contains(prov, `id="home-soon"`) || !strings.Contains(prov, "overdue since 2027-01-01") || strings.Contains(prov, `id="home-reporting"`) {
		t.Errorf("provider's home:\n%s", prov)
	}
	if strings.Join(work.calls, ",") != "reporting,deadlines" {
		t.Errorf("sources read: %v (each kind reads only its own)", work.calls)
	}
	// An organisation the source does not know is a server error, not an
	// empty page that says all is well.
	p := &web.Principal{User: web.User{ID: 7}, Memberships: []web.Membership{{OrgID: 3, OrgName: "X", Role: web.RoleViewer}}}
	r := httptest.NewRequest("GET", "/", nil).WithContext(web.WithPrincipal(context.Background(), p))
	rec := httptest.NewRecorder()
	pg.ServeHTTP(rec, r)
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("unknown organisation: %d", rec.Code)
	}
}
