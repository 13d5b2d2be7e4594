package tabletop

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/web"
)

// Stream timing. A stream ends after maxStream so that the session or
// token and the person's part in the exercise are checked again when the
// browser reconnects (EventSource does so by itself, with Last-Event-ID);
// comments every keepAlive keep proxies from closing an idle stream.
const (
	maxStream  = 5 * time.Minute
	keepAlive  = 20 * time.Second
	writeLimit = 15 * time.Second
	retryMS    = 2000
)

// lastEventID is where a stream starts: the Last-Event-ID header of a
// reconnecting EventSource, else the after= parameter the page names (the
// newest event it was rendered with), else now.
func lastEventID(r *http.Request) (int64, bool, error) {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("after")
	}
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return 0, false, fmt.Errorf("the last event ID %q is not a number", v)
	}
	return n, true, nil
}

// events streams an exercise's live events (text/event-stream) to a
// participant: the page's route with the session, the API's with a token.
// Each event's data is a JSON object with its kind; the stream carries
// what changed, and the person loads what they may see of it.
func (m *Module) events(w http.ResponseWriter, r *http.Request) {
	api := strings.HasPrefix(r.URL.Path, "/api/")
	e, a, ok := m.loadExerciseFor(w, r, api)
	if !ok {
		return
	}
	if a.Participant == nil {
		// Invited through their organisation and not joined: nothing
		// to follow yet.
		m.notFound(w, r, api)
		return
	}
	after, given, err := lastEventID(r)
	if err != nil {
		if api {
			apiError(w, http.StatusBadRequest, err.Error())
		} else {
			web.Error(w, r, http.StatusBadRequest)
		}
		return
	}
	ctx := r.Context()
	sub, err := m.hub.Subscribe(ctx, e.ID)
	if err != nil {
		m.streamFailed(w, r, api, err)
		return
	}
	defer sub.Close()
	if !given {
		if after, err = m.store.LastEvent(ctx, e.ID); err != nil {
			m.streamFailed(w, r, api, err)
			return
		}
	}
	viewer := Viewer{Role: a.Participant.Role, GroupID: a.Participant.GroupID}
	u, _ := web.CurrentUser(ctx)
	memberOf := memberOrgs(r)

	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx would otherwise hold events back
	w.WriteHeader(http.StatusOK)
	// The response writer buffers already: events are written to it and
	// flushed once per batch, with no buffer of the stream's own (each
	// open stream's memory counts, a national exercise has hundreds).
	bw := w
	send := func(write func()) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(writeLimit)) // not every writer has deadlines; the write then just blocks
		write()
		return rc.Flush() == nil
	}
	last := after
	emit := func(ev Event) {
		if ev.ID <= last {
			return
		}
		last = ev.ID
		if viewer.Sees(ev) {
			fmt.Fprintf(bw, "id: %d\ndata: %s\n\n", ev.ID, ev.Data)
		} else {
			// The ID moves on without the event, so that a reconnect
			// does not ask for it again.
			fmt.Fprintf(bw, "id: %d\n\n", ev.ID)
		}
	}
	if !send(func() { fmt.Fprintf(bw, "retry: %d\n: exercise %d\n\n", retryMS, e.ID) }) {
		return
	}
	// What was missed, read after subscribing so that nothing falls
	// between the two; the stream skips what it already sent.
	for {
		backlog, err := m.store.EventsAfter(ctx, e.ID, last)
		if err != nil {
			m.log.ErrorContext(ctx, "tabletop: events backlog", "exercise", e.ID, "err", err)
			return
		}
		if len(backlog) == 0 {
			break
		}
		if !send(func() {
			for _, ev := range backlog {
				emit(ev)
			}
		}) {
			return
		}
	}
	ping := time.NewTicker(keepAlive)
	defer ping.Stop()
	end := time.NewTimer(maxStream)
	defer end.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sub.Done():
			return
		case <-end.C:
			return
		case <-ping.C:
			if !send(func() { fmt.Fprint(bw, ": keep-alive\n\n") }) {
				return
			}
		case ev := <-sub.Events():
			// Write what else is waiting in the same flush: a burst of
			// events (a draft saved by several people) costs one write.
			batch := []Event{ev}
		drain:
			for len(batch) < 64 {
				select {
				case more := <-sub.Events():
					batch = append(batch, more)
				default:
					break drain
				}
			}
			_ = rc.SetWriteDeadline(time.Now().Add(writeLimit))
			for _, ev := range batch {
				if ev.Kind == "lobby" {
					// Roles and groups may have changed: the stream
					// follows the person's part, and ends when they have
					// none.
					na, err := m.store.AccessOf(ctx, e.ID, u.ID, memberOf)
					if err != nil || na.Participant == nil {
						return
					}
					viewer = Viewer{Role: na.Participant.Role, GroupID: na.Participant.GroupID}
				}
				emit(ev)
			}
			if rc.Flush() != nil {
				return
			}
		}
	}
}

func (m *Module) streamFailed(w http.ResponseWriter, r *http.Request, api bool, err error) {
	if api {
		m.log.ErrorContext(r.Context(), "tabletop: events", "err", err)
		apiError(w, http.StatusInternalServerError, "events unavailable")
		return
	}
	m.fail(w, r, "events", err)
}

func (m *Module) notFound(w http.ResponseWriter, r *http.Request, api bool) {
	if api {
		apiError(w, http.StatusNotFound, "no such exercise")
		return
	}
	web.Error(w, r, http.StatusNotFound)
}
