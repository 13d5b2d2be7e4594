package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// blocker is a handler that reports when it starts and then waits until
// the test lets it go; with writeFirst it writes its body before waiting,
// as a download to a slow client does.
type blocker struct {
	started chan string
	release chan struct{}
	write   bool
}

func newBlocker(writeFirst bool) *blocker {
	return &blocker{started: make(chan string, 16), release: make(chan struct{}), write: writeFirst}
}

func (b *blocker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if b.write {
		w.Write([]byte("partial"))
	}
	b.started <- r.URL.Query().Get("n")
	<-b.release
}

// hold sends a GET for path to h and returns once b's handler runs, that
// is once the request holds a slot; done is closed when it has finished.
func hold(t *testing.T, h *harness, b *blocker, path string) (done <-chan struct{}) {
	t.Helper()
	c := make(chan struct{})
	go func() {
		defer close(c)
		serve(h, newRequest("GET", path, nil))
	}()
	waitStarted(t, b)
	return c
}

func waitStarted(t *testing.T, b *blocker) string {
	t.Helper()
	select {
	case n := <-b.started:
		return n
	case <-time.After(5 * time.Second):
		t.Fatal("handler did not start")
		return ""
	}
}

func notStarted(t *testing.T, b *blocker) {
	t.Helper()
	select {
	case n := <-b.started:
		t.Fatalf("request %q ran although every slot was taken", n)
	case <-time.After(50 * time.Millisecond):
	}
}

// waitQueued waits until n requests wait for a slot.
func waitQueued(t *testing.T, a *admission, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if int(gaugeValue(a.queued)) == n {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("queued requests: %v, want %d", gaugeValue(a.queued), n)
}

func TestAdmissionServesWaitingPageRequestsInArrivalOrder(t *testing.T) {
	b := newBlocker(false)
	h := seeded(newHarness(t, Config{MaxActive: 1},
		Route{Pattern: "GET /slow", Policy: Public(), Handler: b}))

	var wg sync.WaitGroup
	codes := make([]int, 4)
	get := func(i int) {
		defer wg.Done()
		codes[i] = serve(h, newRequest("GET", "/slow?n="+strconv.Itoa(i), nil)).Code
	}
	wg.Add(1)
	go get(0)
	if n := waitStarted(t, b); n != "0" {
		t.Fatalf("first request: %q", n)
	}
	// Three more arrive one after the other while the slot is taken.
	for i := 1; i < 4; i++ {
		wg.Add(1)
		go get(i)
		waitQueued(t, h.srv.admit, i)
	}
	notStarted(t, b)
	for want := 1; want < 4; want++ {
		b.release <- struct{}{}
		if got := waitStarted(t, b); got != strconv.Itoa(want) {
			t.Fatalf("request %s ran when %d had waited longest", got, want)
		}
	}
	b.release <- struct{}{}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Errorf("request %d: status %d", i, c)
		}
	}
	if v := gaugeValue(h.srv.admit.active); v != 0 {
		t.Errorf("active requests after all finished: %v", v)
	}
}

func TestAdmissionSlotFreedAtFirstWrite(t *testing.T) {
	// A handler that has started its response (a download to a client
	// that reads slowly) no longer holds a slot.
	b := newBlocker(true)
	h := seeded(newHarness(t, Config{MaxActive: 1},
		Route{Pattern: "GET /download", Policy: Public(), Handler: b},
		Route{Pattern: "GET /page", Policy: Public(), Handler: http.HandlerFunc(ok)}))
	done := hold(t, h, b, "/download")
	if rec := h.do("GET", "/page", "", nil, nil); rec.Code != http.StatusOK || rec.Body.String() != "handler ran" {
		t.Errorf("page while a download is being written: %d %q", rec.Code, rec.Body.String())
	}
	close(b.release)
	<-done
}

func TestAdmissionLeavesWritesStaticAndLongRoutesAlone(t *testing.T) {
	b := newBlocker(false)
	h := seeded(newHarness(t, Config{MaxActive: 1},
		Route{Pattern: "GET /slow", Policy: Public(), Handler: b},
		Route{Pattern: "POST /form", Policy: Public(), Handler: http.HandlerFunc(ok)},
		Route{Pattern: "GET /asset", Policy: Public(), Static: true, Handler: http.HandlerFunc(ok)},
		Route{Pattern: "GET /export.pdf", Policy: Public(), Long: true, Handler: http.HandlerFunc(ok)}))
	done := hold(t, h, b, "/slow")
	for _, c := range []struct{ method, path string }{{"POST", "/form"}, {"GET", "/asset"}, {"GET", "/healthz"}, {"GET", "/export.pdf"}} {
		r := newRequest(c.method, c.path, strings.NewReader("a=b"))
		if rec := serve(h, r); rec.Code != http.StatusOK {
			t.Errorf("%s %s while the only slot is taken: %d", c.method, c.path, rec.Code)
		}
	}
	close(b.release)
	<-done
}

func TestAdmissionTimeoutAnswers503(t *testing.T) {
	b := newBlocker(false)
	h := seeded(newHarness(t, Config{MaxActive: 1, QueueTimeout: 20 * time.Millisecond},
		Route{Pattern: "GET /slow", Policy: Public(), Handler: b}))
	done := hold(t, h, b, "/slow?n=first")
	rec := serve(h, newRequest("GET", "/slow?n=second", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("request that waited past the timeout: %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	notStarted(t, b)
	close(b.release)
	<-done
	// The slot is free again.
	if rec := h.do("GET", "/slow?n=third", "", nil, nil); rec.Code != http.StatusOK {
		t.Errorf("after the slot was freed: %d", rec.Code)
	}
}

func TestAdmissionClientGoneLeavesQueue(t *testing.T) {
	b := newBlocker(false)
	h := seeded(newHarness(t, Config{MaxActive: 1},
		Route{Pattern: "GET /slow", Policy: Public(), Handler: b}))
	done := hold(t, h, b, "/slow?n=first")
	ctx, cancel := context.WithCancel(context.Background())
	gone := make(chan *httptest.ResponseRecorder)
	go func() {
		gone <- serve(h, newRequest("GET", "/slow?n=gone", nil).WithContext(ctx))
	}()
	waitQueued(t, h.srv.admit, 1)
	cancel()
	if rec := <-gone; rec.Body.Len() != 0 {
		t.Errorf("a client that left was answered: %d %q", rec.Code, rec.Body.String())
	}
	waitQueued(t, h.srv.admit, 0)
	close(b.release)
	<-done
	notStarted(t, b)
	m := newRequest("GET", "/metrics", nil)
	m.RemoteAddr = "127.0.0.1:9"
	if body := serve(h, m).Body.String(); !strings.Contains(body, `dfslab_http_requests_total{code="4xx",route="GET /slow"} 1`) {
		t.Errorf("the request whose client left is not counted as 4xx (499):\n%.1500s", body)
	}
}

func TestAdmissionUnlimited(t *testing.T) {
	b := newBlocker(false)
	h := seeded(newHarness(t, Config{MaxActive: -1},
		Route{Pattern: "GET /slow", Policy: Public(), Handler: b}))
	if h.srv.admit != nil {
		t.Fatal("MaxActive -1 still gates page requests")
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			serve(h, newRequest("GET", "/slow", nil))
		}()
	}
	for i := 0; i < 8; i++ {
		waitStarted(t, b)
	}
	close(b.release)
	wg.Wait()
}

func TestAdmissionDefaultIsOnePerP(t *testing.T) {
	h := seeded(newHarness(t, Config{}))
	if got, want := cap(h.srv.admit.slots), runtime.GOMAXPROCS(0); got != want || h.srv.MaxActive() != want {
		t.Errorf("slots: %d, want %d", got, want)
	}
}

func gaugeValue(g interface{ Write(*dto.Metric) error }) float64 {
	var m dto.Metric
	if err := g.Write(&m); err != nil {
		return -1
	}
	return m.GetGauge().GetValue()
}
