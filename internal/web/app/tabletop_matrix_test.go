package app

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// tabletopMatrix covers the tabletop exercises (internal/tabletop). The
// built-in scenario library is readable by everyone signed in (the
// matrix's {key} names a resilience model, hence 404); an organisation's
// library is its own, with no platform-administrator override: viewers
// read and export, analysts clone, import, edit and delete. An empty
// clone or import form is 400; the {id} of the matrix names nothing.
var tabletopMatrix = func() map[string]entry {
	viewerOnly := func(ok int) entry { return entry{access: member, minRank: 1, ok: ok} }
	analystOnly := func(ok int) entry { return entry{access: member, minRank: 2, ok: ok} }
	const lib = "/orgs/{org}/tabletop/scenarios"
	return map[string]entry{
		"GET /tabletop/scenarios":                     signed(200),
		"GET /tabletop/scenarios/{key}":               signed(404),
		"GET /tabletop/scenarios/{key}/scenario.yaml": signed(404),

		"GET /orgs/{org}/tabletop":           viewerOnly(200),
		"POST " + lib:                        analystOnly(400),
		"POST " + lib + "/clone":             analystOnly(400),
		"GET " + lib + "/{id}":               viewerOnly(404),
		"GET " + lib + "/{id}/edit":          analystOnly(404),
		"POST " + lib + "/{id}":              analystOnly(404),
		"POST " + lib + "/{id}/delete":       analystOnly(404),
		"GET " + lib + "/{id}/scenario.yaml": viewerOnly(404),

		"GET /api/v1/tabletop/scenarios": {access: apiRead, ok: 200},

		// Exercises: set up by an organisation's analysts; the exercise's
		// own pages admit its participants and the members of invited
		// organisations only (the handlers check; 404 for everyone else).
		"POST /orgs/{org}/tabletop/exercises":               analystOnly(400), // no title
		"GET /tabletop/exercises/{id}":                      signed(404),
		"POST /tabletop/exercises/{id}/join":                signed(404),
		"POST /tabletop/exercises/{id}/orgs":                signed(404),
		"POST /tabletop/exercises/{id}/people":              signed(404),
		"POST /tabletop/exercises/{id}/participants/{user}": signed(404),
		"POST /tabletop/exercises/{id}/groups":              signed(404),
		"POST /tabletop/exercises/{id}/groups/{eid}":        signed(404),
		"POST /tabletop/exercises/{id}/groups/{eid}/merge":  signed(404),
		"POST /tabletop/exercises/{id}/start":               signed(404),
		"POST /tabletop/exercises/{id}/pause":               signed(404),
		"POST /tabletop/exercises/{id}/resume":              signed(404),
		"POST /tabletop/exercises/{id}/end":                 signed(404),
		"POST /tabletop/exercises/{id}/injects/release":     signed(404),
		"POST /tabletop/exercises/{id}/injects":             signed(404),
		// The run: players answer for their group, facilitators score and
		// send hints, observers and facilitators keep notes.
		"POST /tabletop/exercises/{id}/answers/{eid}": signed(404),
		"POST /tabletop/exercises/{id}/scores/{eid}":  signed(404),
		"POST /tabletop/exercises/{id}/hints":         signed(404),
		"POST /tabletop/exercises/{id}/notes":         signed(404),
		// Live events: the same check as the page, on a long-lived stream.
		"GET /tabletop/exercises/{id}/events":        signed(404),
		"GET /api/v1/tabletop/exercises/{id}/events": {access: apiRead, ok: 404},
		// The after-action report: its exercise's participants (the
		// handlers check); the history is the organisation's.
		"GET /tabletop/exercises/{id}/report":                            signed(404),
		"GET /tabletop/exercises/{id}/report/document.html":              signed(404),
		"GET /tabletop/exercises/{id}/report/report.pdf":                 signed(404),
		"POST /tabletop/exercises/{id}/report/objectives/{key}":          signed(404),
		"POST /tabletop/exercises/{id}/report/findings":                  signed(404),
		"POST /tabletop/exercises/{id}/report/findings/{eid}/delete":     signed(404),
		"POST /tabletop/exercises/{id}/report/improvements":              signed(404),
		"POST /tabletop/exercises/{id}/report/improvements/{eid}/status": signed(404),
		"POST /tabletop/exercises/{id}/report/improvements/{eid}/send":   signed(404),
		"POST /tabletop/exercises/{id}/report/improvements/{eid}/delete": signed(404),
		"POST /tabletop/exercises/{id}/report/lessons":                   signed(404),
		"GET /orgs/{org}/tabletop/history":                               viewerOnly(200),
		"POST /orgs/{org}/tabletop/improvements/{id}/status":             analystOnly(404),
		// The API: an empty body is 400; {id} names nothing.
		"POST /api/v1/tabletop/exercises":                    {access: apiWrite, ok: 400},
		"GET /api/v1/tabletop/exercises/{id}":                {access: apiRead, ok: 404},
		"POST /api/v1/tabletop/exercises/{id}/answers/{eid}": {access: apiWrite, ok: 404},
	}
}()

// TestTabletopExerciseCrossOrganisation tries every route of an
// exercise of organisation A as organisation B's people: refused as if
// it did not exist until B is invited; then B's people see the
// invitation and join as players, and a player's set-up requests are
// forbidden.
func TestTabletopExerciseCrossOrganisation(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		rec := w.do(http.MethodPost, fmt.Sprintf("/orgs/%d/tabletop/exercises", w.orgA), "title=National+drill&scenario=payday-sim-swap%402026.1&speed=60", w.session("analyst-a"), "")
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("create: %d %s", rec.Code, rec.Body)
		}
		var id int64
		if _, err := fmt.Sscanf(rec.Header().Get("Location"), "/tabletop/exercises/%d", &id); err != nil {
			t.Fatalf("location %q", rec.Header().Get("Location"))
		}
		rec = w.do(http.MethodGet, fmt.Sprintf("/tabletop/exercises/%d", id), "", w.session("analyst-a"), "")
		var group int64
		if i := strings.Index(rec.Body.String(), `id="group-`); i < 0 {
			t.Fatal("no group on the exercise page")
		} else {
			fmt.Sscanf(rec.Body.String()[i+len(`id="group-`):], "%d", &group)
		}
		routes := func() map[string]string {
			out := map[string]string{}
			for pattern := range tabletopMatrix {
				if !strings.HasPrefix(pattern, "GET /tabletop/exercises/{id}") && !strings.HasPrefix(pattern, "POST /tabletop/exercises/{id}") {
					continue // the API's routes take a token: TestTabletopLiveStream
				}
				method, path, _ := strings.Cut(pattern, " ")
				r := strings.NewReplacer("{id}", fmt.Sprint(id), "{user}", fmt.Sprint(w.users["analyst-a"]), "{eid}", fmt.Sprint(group))
				out[method+" "+r.Replace(path)] = method
			}
			return out
		}()
		bodies := "org=" + fmt.Sprint(w.orgB) + "&name=Mine&into=" + fmt.Sprint(group) + "&role=observer&group=0&email=viewer-b%40example.org"
		for _, u := range []string{"viewer-b", "admin-b"} {
			for target, method := range routes {
				_, path, _ := strings.Cut(target, " ")
				if rec := w.do(method, path, bodies, w.session(u), ""); rec.Code != http.StatusNotFound {
					t.Errorf("%s as %s before B is invited: %d, want 404", target, u, rec.Code)
				}
			}
		}
		// Invite organisation B: its people see the invitation and join.
		rec = w.do(http.MethodPost, fmt.Sprintf("/tabletop/exercises/%d/orgs", id), "org="+fmt.Sprint(w.orgB), w.session("analyst-a"), "")
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("invite B: %d %s", rec.Code, rec.Body)
		}
		rec = w.do(http.MethodGet, fmt.Sprintf("/tabletop/exercises/%d", id), "", w.session("viewer-b"), "")
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `id="join-form"`) || strings.Contains(rec.Body.String(), `id="people"`) {
			t.Errorf("invitation page for viewer-b: %d (the lobby is for participants)", rec.Code)
		}
		rec = w.do(http.MethodPost, fmt.Sprintf("/tabletop/exercises/%d/join", id), "org="+fmt.Sprint(w.orgB), w.session("viewer-b"), "")
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("join as viewer-b: %d %s", rec.Code, rec.Body)
		}
		for target, method := range routes {
			_, path, _ := strings.Cut(target, " ")
			want := http.StatusForbidden // a player in no group, not a facilitator
			switch {
			case method == http.MethodGet && strings.Contains(path, "/report"):
				want = http.StatusForbidden // a player reads the report once the exercise has ended
			case method == http.MethodGet:
				want = http.StatusOK
			case strings.HasSuffix(path, "/join"):
				want = http.StatusSeeOther
			}
			if strings.HasSuffix(path, "/events") {
				// A stream runs until the client leaves: leave after
				// its start.
				if code := w.stream(path, w.session("viewer-b")); code != want {
					t.Errorf("%s as the player viewer-b: %d, want %d", target, code, want)
				}
				continue
			}
			if rec := w.do(method, path, bodies, w.session("viewer-b"), ""); rec.Code != want {
				t.Errorf("%s as the player viewer-b: %d, want %d", target, rec.Code, want)
			}
		}
		// Viewer-a, of the facilitating organisation, may join too.
		rec = w.do(http.MethodGet, fmt.Sprintf("/tabletop/exercises/%d", id), "", w.session("viewer-a"), "")
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `id="join-form"`) {
			t.Errorf("viewer-a after set-up: %d", rec.Code)
		}
	})
}

// TestTabletopLibraryCrossOrganisation tries every route that names a
// library scenario on a real scenario of organisation B, as each of
// organisation A's people, through A's path and through B's: each is
// refused as if the scenario did not exist, and A's API token does not
// list it.
func TestTabletopLibraryCrossOrganisation(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		rec := w.do(http.MethodPost, fmt.Sprintf("/orgs/%d/tabletop/scenarios/clone", w.orgB), "from=payday-sim-swap%402026.1", w.session("admin-b"), "")
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("clone as admin-b: %d %s", rec.Code, rec.Body)
		}
		var id int64
		if _, err := fmt.Sscanf(rec.Header().Get("Location"), fmt.Sprintf("/orgs/%d/tabletop/scenarios/%%d/edit", w.orgB), &id); err != nil {
			t.Fatalf("location %q: %v", rec.Header().Get("Location"), err)
		}
		for pattern := range tabletopMatrix {
			if !strings.Contains(pattern, "{id}") || strings.Contains(pattern, " /api/") {
				continue // the API's exercises: TestTabletopAPI
			}
			method, path, _ := strings.Cut(pattern, " ")
			body := ""
			if method == http.MethodPost {
				body = "rev=1&source=x"
			}
			for _, org := range []int64{w.orgA, w.orgB} {
				target := strings.NewReplacer("{org}", fmt.Sprint(org), "{id}", fmt.Sprint(id)).Replace(path)
				for _, u := range []string{"viewer-a", "analyst-a", "admin-a", "padmin"} {
					want := http.StatusNotFound
					if u == "viewer-a" && org == w.orgA && tabletopMatrix[pattern].minRank > 1 {
						want = http.StatusForbidden // the shell refuses the role before the handler looks
					}
					if rec := w.do(method, target, body, w.session(u), ""); rec.Code != want {
						t.Errorf("%s %s as %s: %d, want %d", method, target, u, rec.Code, want)
					}
				}
			}
		}
		rec = w.do(http.MethodGet, "/api/v1/tabletop/scenarios", "", nil, w.tokens["read"])
		var out struct {
			Scenarios []struct {
				Organisation int64 `json:"organisation"`
			} `json:"scenarios"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != http.StatusOK {
			t.Fatalf("API: %d %v", rec.Code, err)
		}
		if len(out.Scenarios) != 8 {
			t.Errorf("API lists %d scenarios to organisation A, want the 8 built-in ones", len(out.Scenarios))
		}
		for _, s := range out.Scenarios {
			if s.Organisation != 0 {
				t.Errorf("API lists a scenario of organisation %d to organisation A", s.Organisation)
			}
		}
		// B's own people reach it.
		if rec := w.do(http.MethodGet, fmt.Sprintf("/orgs/%d/tabletop/scenarios/%d", w.orgB, id), "", w.session("viewer-b"), ""); rec.Code != http.StatusOK {
			t.Errorf("viewer-b on B's scenario: %d", rec.Code)
		}
	})
}
