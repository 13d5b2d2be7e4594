package web

import (
	"context"
	"net/http"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// admission bounds how many page requests (GET and HEAD behind the
// session check) do their work at once; the others wait for a slot in
// the order they arrived.
//
// Why: a page's work is CPU (the session and page queries in the
// embedded SQLite, the template) with little I/O wait to overlap. With
// 200 such requests running at once on two cores, the Go scheduler and
// the garbage collector interleave them arbitrarily, so that some
// requests are paused again and again while newer ones finish: under wrk
// the p99 was three to four times the median. With about one slot per
// core each request runs nearly uninterrupted once admitted, and blocked
// channel senders are woken first in, first out, so the wait is in
// arrival order and the latency of every request is close to the mean
// (the figures are in docs/performance.md).
//
// A slot covers the work before the response is written, not the
// writing: it is released at the handler's first Write, so a client that
// reads slowly (or a large download) never holds one. POST and other
// writes are not gated, since they read request bodies at the client's
// pace; nor are static routes (assets, probes), which are cheap and must
// answer under load, nor Long routes, which wait on another process.
type admission struct {
	slots   chan struct{}
	timeout time.Duration
	queued  prometheus.Gauge
	active  prometheus.Gauge
}

// DefaultQueueTimeout is how long a page request waits for a slot before
// it is answered 503 with Retry-After.
const DefaultQueueTimeout = 10 * time.Second

// defaultMaxActive is the number of slots when Config.MaxActive is 0: one
// per P. (The platform sets MaxActive itself, from the cores and the
// database; see app.MaxActiveDefault.)
func defaultMaxActive() int { return runtime.GOMAXPROCS(0) }

func newAdmission(n int, timeout time.Duration, m *metrics) *admission {
	if n < 0 {
		return nil
	}
	if n == 0 {
		n = defaultMaxActive()
	}
	if timeout <= 0 {
		timeout = DefaultQueueTimeout
	}
	a := &admission{
		slots:   make(chan struct{}, n),
		timeout: timeout,
		queued: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dfslab_http_queued_requests", Help: "Page requests waiting for a slot (see --max-active).",
		}),
		active: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dfslab_http_active_requests", Help: "Page requests holding a slot.",
		}),
	}
	m.reg.MustRegister(a.queued, a.active)
	return a
}

// gated reports whether a request to rt takes a slot.
func (a *admission) gated(rt *Route, r *http.Request) bool {
	return a != nil && !rt.Static && !rt.Long && (r.Method == http.MethodGet || r.Method == http.MethodHead)
}

// acquire waits for a slot in arrival order. It returns false when the
// client went away or the wait exceeded the timeout; the caller answers.
func (a *admission) acquire(ctx context.Context) (ok bool, timedOut bool) {
	select {
	case a.slots <- struct{}{}:
		a.active.Inc()
		return true, false
	default:
	}
	a.queued.Inc()
	defer a.queued.Dec()
	t := time.NewTimer(a.timeout)
	defer t.Stop()
	select {
	case a.slots <- struct{}{}:
		a.active.Inc()
		return true, false
	case <-ctx.Done():
		return false, false
	case <-t.C:
		return false, true
	}
}

func (a *admission) release() {
	a.active.Dec()
	<-a.slots
}

// busy answers a request that waited too long for a slot: the server is
// overloaded, and the client may try again shortly.
func busy(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", "1")
	Error(w, r, http.StatusServiceUnavailable)
}

// MaxActive reports how many page requests are worked on at once, or -1
// when they are not limited.
func (s *Server) MaxActive() int {
	if s.admit == nil {
		return -1
	}
	return cap(s.admit.slots)
}
