package app

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// sseEvent is one event of a text/event-stream: its ID and data lines.
type sseEvent struct {
	ID   string
	Data string
}

// stream is an open event stream read in the background.
type stream struct {
	events chan sseEvent
	resp   *http.Response
	cancel context.CancelFunc
}

// openStream connects to target on srv with the cookie or bearer token.
func openStream(t *testing.T, srv *httptest.Server, target string, cookie *http.Cookie, bearer, lastID string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+target, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s := &stream{events: make(chan sseEvent, 64), resp: resp, cancel: cancel}
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		return s
	}
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.ID != "" || ev.Data != "" {
					s.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.ID = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				ev.Data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return s
}

// next waits for the stream's next event (a generous bound: this checks
// that the event comes at all; the fan-out latency is measured by
// BenchmarkTabletopFanOut).
func (s *stream) next(t *testing.T, who string) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			t.Fatalf("%s: the stream ended", who)
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no event within 10 s", who)
	}
	return sseEvent{}
}

// TestTabletopLiveStream follows an exercise's events as a player of each
// of two groups, an observer and, through the API, with a token: each
// gets the events meant for them (a hint to one group reaches its players
// with its data; the other group's stream only moves its ID on), a
// reconnect with Last-Event-ID gets what was missed, and people without a
// part get 404.
func TestTabletopLiveStream(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		srv := httptest.NewServer(w.app.Server)
		t.Cleanup(srv.Close) // after the streams' own clean-ups, which end them
		fac := w.session("analyst-a")
		ex, ir, _ := w.runningExercise(t, "1")
		// The first inject falls due at T+0: a page view releases it
		// before the streams open, so that they start after it.
		w.do(http.MethodGet, ex, "", fac, "")

		// A player's page lists their own group's people, not everyone's.
		page := w.do(http.MethodGet, ex, "", w.session("viewer-a"), "").Body.String()
		if strings.Contains(page, `id="people"`) || strings.Contains(page, ">admin-a <") || !strings.Contains(page, ">viewer-a <") {
			t.Error("the IR player's page lists other groups' people, or not their own group's")
		}
		if staff := w.do(http.MethodGet, ex, "", w.session("viewer-b"), "").Body.String(); !strings.Contains(staff, `id="people"`) || !strings.Contains(staff, ">admin-a <") {
			t.Error("the observer's page lacks the people of the exercise")
		}

		// No part, or only an organisation's invitation: 404; a bad
		// Last-Event-ID: 400.
		for _, u := range []string{"admin-b", "padmin"} {
			if s := openStream(t, srv, ex+"/events", w.session(u), "", ""); s.resp.StatusCode != http.StatusNotFound {
				t.Errorf("stream as %s: %d, want 404", u, s.resp.StatusCode)
			}
		}
		if s := openStream(t, srv, ex+"/events", w.session("viewer-a"), "", "abc"); s.resp.StatusCode != http.StatusBadRequest {
			t.Errorf("Last-Event-ID abc: %d, want 400", s.resp.StatusCode)
		}
		if s := openStream(t, srv, "/api/v1"+ex+"/events", w.session("admin-a"), "", ""); s.resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("API stream with a cookie: %d, want 401", s.resp.StatusCode)
		}

		irPlayer := openStream(t, srv, ex+"/events", w.session("viewer-a"), "", "")
		proPlayer := openStream(t, srv, ex+"/events", w.session("admin-a"), "", "")
		observer := openStream(t, srv, ex+"/events", w.session("viewer-b"), "", "")
		api := openStream(t, srv, "/api/v1"+ex+"/events", nil, w.tokens["read"], "") // admin-a's token: the Protection player
		for name, s := range map[string]*stream{"ir": irPlayer, "pro": proPlayer, "observer": observer, "api": api} {
			if s.resp.StatusCode != http.StatusOK || !strings.HasPrefix(s.resp.Header.Get("Content-Type"), "text/event-stream") {
				t.Fatalf("%s stream: %d %q", name, s.resp.StatusCode, s.resp.Header.Get("Content-Type"))
			}
		}
		// Wait until every stream is subscribed before the change.
		deadline := time.Now().Add(10 * time.Second)
		for w.app.Tabletop.Streams() < 4 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if rec := w.do(http.MethodPost, ex+"/hints", url.Values{"group": {ir}, "text": {"Call the MNO <b>now</b>"}}.Encode(), fac, ""); rec.Code != http.StatusSeeOther {
			t.Fatalf("hint: %d", rec.Code)
		}
		hint := irPlayer.next(t, "IR player")
		if !strings.Contains(hint.Data, `"kind":"hint"`) || !strings.Contains(hint.Data, `"group":`+ir) || strings.Contains(hint.Data, "Call the MNO") {
			t.Errorf("IR player's hint event %+v: want the kind and group, never the text", hint)
		}
		if ev := observer.next(t, "observer"); ev.ID != hint.ID || ev.Data != hint.Data {
			t.Errorf("observer got %+v, want %+v", ev, hint)
		}
		for name, s := range map[string]*stream{"PRO player": proPlayer, "API (PRO player)": api} {
			if ev := s.next(t, name); ev.ID != hint.ID || ev.Data != "" {
				t.Errorf("%s got %+v, want ID %s without data (the hint is for another group)", name, ev, hint.ID)
			}
		}

		// An inject released by hand reaches the groups it addresses.
		if rec := w.do(http.MethodPost, ex+"/injects/release", "inject=I3", fac, ""); rec.Code != http.StatusSeeOther {
			t.Fatalf("release: %d", rec.Code)
		}
		inj := observer.next(t, "observer")
		if !strings.Contains(inj.Data, `"kind":"inject"`) || !strings.Contains(inj.Data, `"inject":"I3"`) {
			t.Errorf("observer's inject event %+v", inj)
		}

		// A reconnect names the last event it saw and gets what followed.
		prev := fmt.Sprint(mustAtoi(t, hint.ID) - 1)
		again := openStream(t, srv, ex+"/events", w.session("viewer-b"), "", prev)
		if ev := again.next(t, "reconnected observer"); ev.ID != hint.ID || ev.Data != hint.Data {
			t.Errorf("after Last-Event-ID %s: %+v, want the hint %+v", prev, ev, hint)
		}
		if ev := again.next(t, "reconnected observer"); ev.ID != inj.ID {
			t.Errorf("after the hint: %+v, want the inject %s", ev, inj.ID)
		}
		// The page names where its stream starts.
		if body := w.do(http.MethodGet, ex, "", w.session("viewer-b"), "").Body.String(); !strings.Contains(body, `data-after="`+inj.ID+`"`) {
			t.Errorf("the page does not start its stream after event %s", inj.ID)
		}
	})
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatalf("event ID %q: %v", s, err)
	}
	return n
}

// stream opens an event stream in process and leaves it after a moment,
// returning its status.
func (w *world) stream(target string, cookie *http.Cookie) int {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	r := httptest.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	r.RemoteAddr = "198.51.100.20:5000"
	r.AddCookie(cookie)
	rec := httptest.NewRecorder()
	w.app.Server.ServeHTTP(rec, r)
	return rec.Code
}

// runningExercise sets up and starts an exercise of the payday scenario
// run by analyst-a at speed (times real time), with viewer-a playing in
// Incident response, admin-a in Protection and viewer-b (of organisation
// B) observing; it returns the exercise's path and the two groups' IDs.
func (w *world) runningExercise(t *testing.T, speed string) (ex, ir, pro string) {
	t.Helper()
	fac := w.session("analyst-a")
	rec := w.do(http.MethodPost, fmt.Sprintf("/orgs/%d/tabletop/exercises", w.orgA), "title=Drill&scenario=payday-sim-swap%402026.1&speed="+speed, fac, "")
	ex = strings.TrimSuffix(rec.Header().Get("Location"), "?done=created")
	for _, u := range []string{"viewer-a", "admin-a"} {
		if rec := w.do(http.MethodPost, ex+"/join", "org="+fmt.Sprint(w.orgA), w.session(u), ""); rec.Code != http.StatusSeeOther {
			t.Fatalf("join as %s: %d", u, rec.Code)
		}
	}
	page := w.do(http.MethodGet, ex, "", fac, "").Body.String()
	group := func(name string) string {
		i := strings.Index(page, `-name">`+name+`<`)
		return page[strings.LastIndex(page[:i], `id="group-`)+len(`id="group-`) : i]
	}
	ir, pro = group("Incident response and recovery"), group("Protection")
	for u, g := range map[string]string{"viewer-a": ir, "admin-a": pro} {
		if rec := w.do(http.MethodPost, fmt.Sprintf("%s/participants/%d", ex, w.users[u]), "role=player&group="+g, fac, ""); rec.Code != http.StatusSeeOther {
			t.Fatalf("assign %s: %d", u, rec.Code)
		}
	}
	w.do(http.MethodPost, ex+"/orgs", "org="+fmt.Sprint(w.orgB), fac, "")
	w.do(http.MethodPost, ex+"/people", url.Values{"email": {"viewer-b@example.org"}, "org": {fmt.Sprint(w.orgB)}, "role": {"observer"}, "group": {"0"}}.Encode(), fac, "")
	if rec := w.do(http.MethodPost, ex+"/join", "", w.session("viewer-b"), ""); rec.Code != http.StatusSeeOther {
		t.Fatalf("observer joins: %d", rec.Code)
	}
	if rec := w.do(http.MethodPost, ex+"/start", "", fac, ""); rec.Code != http.StatusSeeOther {
		t.Fatalf("start: %d", rec.Code)
	}
	return ex, ir, pro
}
