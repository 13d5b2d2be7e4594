package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/identity"
)

// api sends a JSON request with a bearer token.
func (w *world) api(method, target, token, body string) *httptest.ResponseRecorder {
	var r *http.Request
	if body != "" {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	w.addr++
	r.RemoteAddr = fmt.Sprintf("10.9.%d.%d:40000", w.addr>>8&255, w.addr&255)
	r.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	w.app.Server.ServeHTTP(rec, r)
	return rec
}

func (w *world) token(user string, scope identity.Scope) string {
	w.t.Helper()
	tok, _, err := w.app.Identity.CreateAPIToken(context.Background(), w.users[user], "test", scope, w.clock.Now().Add(24*time.Hour))
	if err != nil {
		w.t.Fatal(err)
	}
	return tok
}

type apiExerciseState struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
	Role   string `json:"role"`
	Group  int64  `json:"group"`
	Groups []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"groups"`
	Injects []struct {
		Ref    int64   `json:"ref"`
		Inject string  `json:"inject"`
		Groups []int64 `json:"groups"`
	} `json:"injects"`
	Answers []struct {
		Ref     int64  `json:"ref"`
		Group   int64  `json:"group"`
		Actions string `json:"actions"`
		Version int64  `json:"version"`
	} `json:"answers"`
	Timeline []struct {
		Kind string `json:"kind"`
	} `json:"timeline"`
}

func decodeState(t *testing.T, rec *httptest.ResponseRecorder) apiExerciseState {
	t.Helper()
	var st apiExerciseState
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
		t.Fatalf("state: %d %v\n%s", rec.Code, err, rec.Body)
	}
	return st
}

// TestTabletopAPI creates an exercise with a token, runs it from the
// pages, and reads it and answers through the API as its facilitator, a
// player of one group and people without a part.
func TestTabletopAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		facTok := w.tokens["write"] // admin-a's
		const base = "/api/v1/tabletop/exercises"
		for _, c := range []struct {
			body string
			code int
			want string
		}{
			{`{"title":"Drill","scenario":"payday-sim-swap@2026.1","speed":60,"colour":"red"}`, 400, "unknown field"},
			{`{"title":"","scenario":"payday-sim-swap@2026.1"}`, 400, "title"},
			{`{"title":"Drill","scenario":"no-such@1"}`, 400, "Choose a scenario"},
			{fmt.Sprintf(`{"title":"Drill","scenario":"payday-sim-swap@2026.1","organisation":%d}`, w.orgB), 403, "cannot run exercises"},
		} {
			if rec := w.api(http.MethodPost, base, facTok, c.body); rec.Code != c.code || !strings.Contains(rec.Body.String(), c.want) {
				t.Errorf("create %s: %d %s, want %d %q", c.body, rec.Code, rec.Body, c.code, c.want)
			}
		}
		if rec := w.api(http.MethodPost, base, w.tokens["read"], `{"title":"Drill","scenario":"payday-sim-swap@2026.1"}`); rec.Code != http.StatusForbidden {
			t.Errorf("create with a read token: %d, want 403", rec.Code)
		}
		rec := w.api(http.MethodPost, base, facTok, `{"title":"National drill","scenario":"payday-sim-swap@2026.1","speed":60}`)
		if rec.Code != http.StatusCreated {
			t.Fatalf("create: %d %s", rec.Code, rec.Body)
		}
		st := decodeState(t, rec)
		if st.Status != "setup" || st.Role != "facilitator" || len(st.Groups) != 6 || rec.Header().Get("Location") != fmt.Sprintf("%s/%d", base, st.ID) {
			t.Fatalf("created: %+v at %q", st, rec.Header().Get("Location"))
		}
		ex := fmt.Sprintf("/tabletop/exercises/%d", st.ID)
		var ir int64
		for _, g := range st.Groups {
			switch g.Name {
			case "Incident response and recovery":
				ir = g.ID
			}
		}
		fac := w.session("admin-a")
		w.do(http.MethodPost, ex+"/join", "org="+fmt.Sprint(w.orgA), w.session("viewer-a"), "")
		w.do(http.MethodPost, fmt.Sprintf("%s/participants/%d", ex, w.users["viewer-a"]), fmt.Sprintf("role=player&group=%d", ir), fac, "")
		if rec := w.do(http.MethodPost, ex+"/start", "", fac, ""); rec.Code != http.StatusSeeOther {
			t.Fatalf("start: %d", rec.Code)
		}
		w.do(http.MethodPost, ex+"/injects/release", "inject=I2", fac, "") // Protection, Governance, Training: not IR

		playerTok := w.token("viewer-a", identity.ScopeWrite)
		player := decodeState(t, w.api(http.MethodGet, fmt.Sprintf("%s/%d", base, st.ID), playerTok, ""))
		if player.Role != "player" || player.Group != ir || len(player.Injects) != 1 || player.Injects[0].Inject != "I1" {
			t.Fatalf("the IR player's state: %+v (want I1 only: I2 is not for IR)", player)
		}
		staff := decodeState(t, w.api(http.MethodGet, fmt.Sprintf("%s/%d", base, st.ID), w.tokens["read"], ""))
		if len(staff.Injects) != 2 || len(staff.Timeline) < 3 {
			t.Errorf("the facilitator's state: %d injects, %d log entries", len(staff.Injects), len(staff.Timeline))
		}
		var i2 int64
		for _, in := range staff.Injects {
			if in.Inject == "I2" {
				i2 = in.Ref
			}
		}
		i1 := player.Injects[0].Ref
		answer := func(token string, ref int64, body string) *httptest.ResponseRecorder {
			return w.api(http.MethodPost, fmt.Sprintf("%s/%d/answers/%d", base, st.ID, ref), token, body)
		}
		if rec := answer(playerTok, i1, `{"version":0,"actions":"Freeze wallets <b>now</b>","owner":"Fraud desk"}`); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"version": 1`) {
			t.Fatalf("draft: %d %s", rec.Code, rec.Body)
		}
		for _, c := range []struct {
			name, token string
			ref         int64
			body        string
			code        int
		}{
			{"stale version", playerTok, i1, `{"version":0,"actions":"again"}`, http.StatusConflict},
			{"inject for another group", playerTok, i2, `{"version":0,"actions":"x"}`, http.StatusNotFound},
			{"the facilitator", facTok, i1, `{"version":1,"actions":"x"}`, http.StatusForbidden},
			{"a read token", w.token("viewer-a", identity.ScopeRead), i1, `{"version":1,"actions":"x"}`, http.StatusForbidden},
			{"control characters", playerTok, i1, `{"version":1,"actions":"a\u0000b"}`, http.StatusBadRequest},
			{"final without actions", playerTok, i1, `{"version":1,"final":true}`, http.StatusBadRequest},
		} {
			if rec := answer(c.token, c.ref, c.body); rec.Code != c.code {
				t.Errorf("%s: %d %s, want %d", c.name, rec.Code, rec.Body, c.code)
			}
		}
		if rec := answer(playerTok, i1, `{"version":1,"actions":"Freeze wallets","owner":"Fraud desk","gap":"No SIM-swap feed","final":true}`); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"final": true`) {
			t.Fatalf("final: %d %s", rec.Code, rec.Body)
		}
		staff = decodeState(t, w.api(http.MethodGet, fmt.Sprintf("%s/%d", base, st.ID), w.tokens["read"], ""))
		if len(staff.Answers) != 1 || staff.Answers[0].Actions != "Freeze wallets" || staff.Answers[0].Group != ir {
			t.Errorf("the facilitator's answers: %+v", staff.Answers)
		}
		// People without a part: 404 for every route, with their own token.
		for _, u := range []string{"admin-b", "viewer-b"} {
			tok := w.token(u, identity.ScopeWrite)
			if rec := w.api(http.MethodGet, fmt.Sprintf("%s/%d", base, st.ID), tok, ""); rec.Code != http.StatusNotFound {
				t.Errorf("state as %s: %d, want 404", u, rec.Code)
			}
			if rec := answer(tok, i1, `{"version":2,"actions":"x"}`); rec.Code != http.StatusNotFound {
				t.Errorf("answer as %s: %d, want 404", u, rec.Code)
			}
		}
	})
}
