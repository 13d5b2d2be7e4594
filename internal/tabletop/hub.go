package tabletop

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/dfslab/dfslab/internal/db"
)

// Hub fans the live events of exercises out to the streams open on this
// server. Per exercise with at least one stream, one goroutine reads the
// new events once and hands them to every stream, so a release reaching
// two hundred players costs one query, not two hundred.
//
// It learns of new events three ways: from this process's commits
// (Store.eventTx, at once), from the other servers of a PostgreSQL
// cluster (LISTEN/NOTIFY, at once), and by looking every PollEvery (what
// a lost notification or a second process on a SQLite file costs). It
// also releases a running exercise's scenario injects when they fall due,
// so that players see them without anyone loading a page.
type Hub struct {
	store *Store
	ctx   context.Context // ends every stream and goroutine of the hub
	log   *slog.Logger
	// PollEvery is how often an exercise with streams is read even when
	// nothing signalled a change.
	pollEvery time.Duration

	mu        sync.Mutex
	topics    map[int64]*topic
	listening bool
}

// topic is one exercise's streams.
type topic struct {
	id   int64
	wake chan struct{} // capacity 1: a pending wake-up is enough
	last int64         // the newest event handed out (guarded by Hub.mu)
	subs map[*Subscription]struct{}
}

// Subscription is one open stream.
type Subscription struct {
	hub *Hub
	t   *topic
	c   chan Event
	// gone is closed when the stream must end: the hub stops, or the
	// stream fell too far behind (it reconnects with Last-Event-ID and
	// reads what it missed from the database).
	gone chan struct{}
	once sync.Once
}

// subBuffer is how many events a stream may have waiting; a stream that
// does not keep up is ended rather than allowed to hold the others back.
const subBuffer = 32

// NewHub returns the hub of store's exercises, whose goroutines and
// streams end with ctx. Call it once per store, before serving.
func NewHub(ctx context.Context, store *Store, log *slog.Logger) *Hub {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Hub{store: store, ctx: ctx, log: log, pollEvery: 5 * time.Second, topics: map[int64]*topic{}}
	store.changed = h.Wake
	return h
}

// Wake tells the hub that exercise id may have new events.
func (h *Hub) Wake(id int64) {
	h.mu.Lock()
	t := h.topics[id]
	h.mu.Unlock()
	if t != nil {
		select {
		case t.wake <- struct{}{}:
		default:
		}
	}
}

func (h *Hub) wakeAll() {
	h.mu.Lock()
	ts := make([]*topic, 0, len(h.topics))
	for _, t := range h.topics {
		ts = append(ts, t)
	}
	h.mu.Unlock()
	for _, t := range ts {
		h.Wake(t.id)
	}
}

// Subscribe opens a stream of exercise id's events. The events committed
// before Subscribe returns are not sent on it: read them with
// Store.EventsAfter after subscribing, and skip the duplicates by ID.
func (h *Hub) Subscribe(ctx context.Context, id int64) (*Subscription, error) {
	if err := h.ctx.Err(); err != nil {
		return nil, err
	}
	h.mu.Lock()
	t := h.topics[id]
	if t == nil {
		// The topic's starting point is read under the lock, so that a
		// concurrent second subscriber does not start another one.
		last, err := h.store.LastEvent(ctx, id)
		if err != nil {
			h.mu.Unlock()
			return nil, err
		}
		t = &topic{id: id, wake: make(chan struct{}, 1), last: last, subs: map[*Subscription]struct{}{}}
		h.topics[id] = t
		go h.run(t)
	}
	s := &Subscription{hub: h, t: t, c: make(chan Event, subBuffer), gone: make(chan struct{})}
	t.subs[s] = struct{}{}
	start := !h.listening && h.store.db.Dialect() == db.Postgres
	h.listening = h.listening || start
	h.mu.Unlock()
	if start {
		go h.listen()
	}
	return s, nil
}

// Events delivers the stream's events in order.
func (s *Subscription) Events() <-chan Event { return s.c }

// Done is closed when the stream must end (see Subscription.gone).
func (s *Subscription) Done() <-chan struct{} { return s.gone }

// Close ends the subscription.
func (s *Subscription) Close() {
	h := s.hub
	h.mu.Lock()
	delete(s.t.subs, s)
	empty := len(s.t.subs) == 0
	h.mu.Unlock()
	s.end()
	if empty {
		h.Wake(s.t.id) // its goroutine sees no streams left and stops
	}
}

func (s *Subscription) end() { s.once.Do(func() { close(s.gone) }) }

// Streams is the number of open streams, for the metrics and tests.
func (h *Hub) Streams() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, t := range h.topics {
		n += len(t.subs)
	}
	return n
}

// run serves topic t until its last stream closes or the hub stops.
func (h *Hub) run(t *topic) {
	poll := time.NewTicker(h.pollEvery)
	defer poll.Stop()
	due := time.NewTimer(time.Hour)
	defer due.Stop()
	for {
		// The next scenario inject of a running exercise: release it on
		// time even if no page is loaded.
		next, ok, err := h.store.NextDue(h.ctx, t.id)
		if err != nil && h.ctx.Err() == nil {
			h.log.Warn("tabletop: next inject", "exercise", t.id, "err", err)
		}
		wait := time.Hour
		if ok {
			wait = max(next.Sub(h.store.now()), 0)
		}
		due.Reset(wait)
		select {
		case <-h.ctx.Done():
			h.stop(t)
			return
		case <-t.wake:
		case <-poll.C:
		case <-due.C:
			if err := h.store.ReleaseDue(h.ctx, t.id); err != nil && h.ctx.Err() == nil {
				h.log.Warn("tabletop: release injects", "exercise", t.id, "err", err)
			}
		}
		if h.retire(t) {
			return
		}
		h.deliver(t)
	}
}

// retire removes t once it has no streams; it reports whether it did.
func (h *Hub) retire(t *topic) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(t.subs) > 0 {
		return false
	}
	delete(h.topics, t.id)
	return true
}

// deliver hands t's new events to its streams.
func (h *Hub) deliver(t *topic) {
	for {
		h.mu.Lock()
		after := t.last
		h.mu.Unlock()
		evs, err := h.store.EventsAfter(h.ctx, t.id, after)
		if err != nil {
			if h.ctx.Err() == nil {
				h.log.Warn("tabletop: read events", "exercise", t.id, "err", err)
			}
			return
		}
		if len(evs) == 0 {
			return
		}
		h.mu.Lock()
		for _, e := range evs {
			for s := range t.subs {
				select {
				case s.c <- e:
				default:
					delete(t.subs, s)
					s.end()
				}
			}
		}
		t.last = evs[len(evs)-1].ID
		h.mu.Unlock()
		if len(evs) < maxEventBatch {
			return
		}
	}
}

func (h *Hub) stop(t *topic) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range t.subs {
		s.end()
	}
	delete(h.topics, t.id)
}

// listen follows the other servers' events on PostgreSQL until the hub
// stops, connecting again after a failure; every (re)connection wakes all
// topics, as notifications may have been missed meanwhile.
func (h *Hub) listen() {
	backoff := time.Second
	for {
		err := h.store.db.Listen(h.ctx, notifyChannel, h.wakeAll, func(payload string) {
			if id, err := strconv.ParseInt(payload, 10, 64); err == nil {
				h.Wake(id)
			}
		})
		if h.ctx.Err() != nil || errors.Is(err, db.ErrNoListen) {
			return
		}
		h.log.Warn("tabletop: live events from other servers interrupted; polling meanwhile", "err", err, "retry_in", backoff)
		select {
		case <-h.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}
