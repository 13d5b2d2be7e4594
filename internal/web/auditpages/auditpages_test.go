package auditpages_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/web"
	"github.com/dfslab/dfslab/internal/web/auditpages"
)

// Organisations A (1), B (2) and C (3); user 1 is a platform
// administrator, users 2, 3 and 4 are the org admins of A, B and C.
var orgNames = map[int64]string{1: "Org A", 2: "Org B", 3: "Org C"}

// sessions is a stand-in session store whose cookie is the user ID.
type sessions struct{ web.SessionStore }

func (sessions) LookupSession(_ context.Context, tok string) (*web.Principal, error) {
	id, err := strconv.ParseInt(tok, 10, 64)
	if err != nil || id < 1 || id > 4 {
		return nil, web.ErrNoSession
	}
	now := time.Now()
	p := &web.Principal{User: web.User{ID: id, Email: "user" + tok + "@example.org", PlatformAdmin: id == 1},
		Session: &web.Session{ID: tok, CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(time.Hour), VerifiedAt: now}}
	if id > 1 {
		p.Memberships = []web.Membership{{OrgID: id - 1, OrgName: orgNames[id-1], Role: web.RoleOrgAdmin}}
	}
	return p, nil
}

func (sessions) TouchSession(context.Context, string, time.Time) error { return nil }

// users resolves the names the pages show.
type users struct{}

func (users) User(_ context.Context, id int64) (identity.User, error) {
	return identity.User{ID: id, Email: "user" + strconv.FormatInt(id, 10) + "@example.org"}, nil
}

func (users) UserByEmail(context.Context, string) (identity.User, error) {
	return identity.User{}, identity.ErrNotFound
}

func (users) Org(_ context.Context, id int64) (identity.Org, error) {
	if n, ok := orgNames[id]; ok {
		return identity.Org{ID: id, Name: n}, nil
	}
	return identity.Org{}, identity.ErrNotFound
}

type auditLog struct{ d *db.DB }

func (l auditLog) List(ctx context.Context, f audit.Filter) ([]audit.Entry, error) {
	return audit.List(ctx, l.d, f)
}

var rowRe = regexp.MustCompile(`(?s)<tr id="audit-(\d+)">.*?</tr>`)

func TestCrossOrganisationEntriesShowInEveryConcernedOrganisation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		rd, err := web.NewRenderer()
		if err != nil {
			t.Fatal(err)
		}
		pages, err := auditpages.New(auditLog{d}, users{}, rd)
		if err != nil {
			t.Fatal(err)
		}
		sess := web.NewSessions(sessions{}, false, nil)
		base, _ := url.Parse("http://127.0.0.1")
		srv, err := web.New(web.Config{BaseURL: base}, web.Deps{Sessions: sess, Renderer: rd}, pages)
		if err != nil {
			t.Fatal(err)
		}
		// Org A's admin acts on a member of org B; org C has an entry of
		// its own.
		for _, e := range []audit.Entry{
			{ActorUserID: 2, ActorOrgID: 1, OrgID: 1, Action: "recovery_link.create", ObjectType: "user", ObjectID: "9", Concerned: []int64{2}},
			{ActorUserID: 4, ActorOrgID: 3, OrgID: 3, Action: "org.update", ObjectType: "org", ObjectID: "3"},
		} {
			if _, err := audit.Record(ctx, d, e); err != nil {
				t.Fatal(err)
			}
		}
		get := func(user int, path string) map[string]string {
			t.Helper()
			r := httptest.NewRequest("GET", path, nil)
			r.AddCookie(&http.Cookie{Name: sess.CookieName(), Value: strconv.Itoa(user)})
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, r)
			if rec.Code != http.StatusOK {
				t.Fatalf("user %d GET %s: %d", user, path, rec.Code)
			}
			rows := map[string]string{}
			for _, m := range rowRe.FindAllStringSubmatch(rec.Body.String(), -1) {
				rows[m[1]] = m[0]
			}
			return rows
		}
		cases := []struct {
			name     string
			user     int
			path     string
			want     []string // seqs shown
			concerns map[string]string
		}{
			{"acting organisation", 2, "/orgs/1/audit", []string{"1"}, map[string]string{"1": ""}},
			{"concerned organisation", 3, "/orgs/2/audit", []string{"1"}, map[string]string{"1": "concerns this organisation"}},
			{"uninvolved organisation", 4, "/orgs/3/audit", []string{"2"}, map[string]string{"2": ""}},
			{"platform", 1, "/audit", []string{"1", "2"}, map[string]string{"1": "concerns Org B", "2": ""}},
			{"platform, filtered by the concerned organisation", 1, "/audit?org=2", []string{"1"}, nil},
		}
		for _, c := range cases {
			rows := get(c.user, c.path)
			if len(rows) != len(c.want) {
				t.Errorf("%s: rows %v, want %v", c.name, keys(rows), c.want)
				continue
			}
			for _, seq := range c.want {
				row, ok := rows[seq]
				if !ok {
					t.Errorf("%s: entry %s missing", c.name, seq)
					continue
				}
				want, check := c.concerns[seq]
				got := regexp.MustCompile(`<span class="muted concerns">([^<]*)</span>`).FindStringSubmatch(row)
				switch {
				case !check:
				case want == "" && got != nil:
					t.Errorf("%s: entry %s shows %q", c.name, seq, got[1])
				case want != "" && (got == nil || got[1] != want):
					t.Errorf("%s: entry %s shows %v, want %q", c.name, seq, got, want)
				}
			}
		}
	})
}

func keys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
