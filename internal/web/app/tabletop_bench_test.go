package app

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/identity"
)

// fanOutPlayers is how many players follow the exercise in
// BenchmarkTabletopFanOut: a national exercise's scale.
const fanOutPlayers = 200

// BenchmarkTabletopFanOut connects 200 players' event streams over
// loopback HTTP to one exercise (SQLite) and releases an ad-hoc inject to
// all groups per iteration; it reports the time from the release's
// request to each player reading the event (p50, p99 over every player
// and iteration) and the memory the process holds per connected player
// (heap and goroutine stacks, the minimal raw-socket clients included).
//
//	go test ./internal/web/app -run '^$' -bench TabletopFanOut -benchtime 20x
func BenchmarkTabletopFanOut(b *testing.B) {
	w := newWorld(b)
	srv := httptest.NewServer(w.app.Server)
	b.Cleanup(srv.Close)
	fac := w.session("analyst-a")
	rec := w.do(http.MethodPost, fmt.Sprintf("/orgs/%d/tabletop/exercises", w.orgA), "title=National+drill&scenario=payday-sim-swap%402026.1&speed=1", fac, "")
	ex := strings.TrimSuffix(rec.Header().Get("Location"), "?done=created")
	ctx := context.Background()
	cookies := make([]*http.Cookie, fanOutPlayers)
	for i := range cookies {
		name := fmt.Sprintf("player-%03d", i)
		inv, err := w.app.Identity.Invite(ctx, w.orgA, name+"@example.org", identity.RoleViewer)
		if err != nil {
			b.Fatal(err)
		}
		w.users[name] = w.enrol(inv.Token, name)
		cookies[i] = w.cookie(name)
		if rec := w.do(http.MethodPost, ex+"/join", "org="+fmt.Sprint(w.orgA), cookies[i], ""); rec.Code != http.StatusSeeOther {
			b.Fatalf("join %s: %d", name, rec.Code)
		}
	}
	w.do(http.MethodPost, ex+"/start", "", fac, "")
	w.do(http.MethodGet, ex, "", fac, "") // releases the first inject, due at T+0

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	// Raw sockets: a client costs a goroutine and a 4 KB reader, so the
	// memory figure is mostly the server's.
	addr := strings.TrimPrefix(srv.URL, "http://")
	type arrival struct {
		id string
		at time.Time
	}
	arrivals := make(chan arrival, fanOutPlayers*4)
	var conns []net.Conn
	for _, c := range cookies {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, conn)
		fmt.Fprintf(conn, "GET %s/events HTTP/1.1\r\nHost: %s\r\nCookie: %s=%s\r\nAccept: text/event-stream\r\n\r\n", ex, addr, c.Name, c.Value)
		go func() {
			r := bufio.NewReaderSize(conn, 4<<10)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if strings.HasPrefix(line, "data: ") && strings.Contains(line, `"kind":"inject"`) {
					arrivals <- arrival{at: time.Now(), id: line}
				}
			}
		}()
	}
	b.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for w.app.Tabletop.Streams() < fanOutPlayers {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d streams connected", w.app.Tabletop.Streams(), fanOutPlayers)
		}
		time.Sleep(10 * time.Millisecond)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	held := float64(after.HeapAlloc+after.StackInuse) - float64(before.HeapAlloc+before.StackInuse)

	var mu sync.Mutex
	var lat []time.Duration
	b.ResetTimer()
	for i := range b.N {
		v := url.Values{"channel": {"news"}, "from": {"Daily"}, "title": {fmt.Sprintf("Update %d", i)}, "content": {"Breaking"}, "group": {"0"}}
		start := time.Now()
		if rec := w.do(http.MethodPost, ex+"/injects", v.Encode(), fac, ""); rec.Code != http.StatusSeeOther {
			b.Fatalf("release: %d", rec.Code)
		}
		for range fanOutPlayers {
			select {
			case a := <-arrivals:
				mu.Lock()
				lat = append(lat, a.at.Sub(start))
				mu.Unlock()
			case <-time.After(30 * time.Second):
				b.Fatalf("iteration %d: an inject did not reach every player within 30 s", i)
			}
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(held/fanOutPlayers/1024, "KiB/player")
	b.ReportMetric((float64(after.StackInuse)-float64(before.StackInuse))/fanOutPlayers/1024, "stack-KiB/player")
}

// BenchmarkTabletopPlayerPage renders the exercise page for one of 200
// players: what every open page loads again after an event.
func BenchmarkTabletopPlayerPage(b *testing.B) {
	for _, role := range []string{"player", "facilitator"} {
		b.Run(role, func(b *testing.B) {
			w := newWorld(b)
			fac := w.session("analyst-a")
			rec := w.do(http.MethodPost, fmt.Sprintf("/orgs/%d/tabletop/exercises", w.orgA), "title=National+drill&scenario=payday-sim-swap%402026.1&speed=1", fac, "")
			ex := strings.TrimSuffix(rec.Header().Get("Location"), "?done=created")
			var cookie *http.Cookie
			for i := range fanOutPlayers {
				name := fmt.Sprintf("player-%03d", i)
				inv, err := w.app.Identity.Invite(context.Background(), w.orgA, name+"@example.org", identity.RoleViewer)
				if err != nil {
					b.Fatal(err)
				}
				w.users[name] = w.enrol(inv.Token, name)
				c := w.cookie(name)
				if i == 0 {
					cookie = c
				}
				w.do(http.MethodPost, ex+"/join", "org="+fmt.Sprint(w.orgA), c, "")
			}
			w.do(http.MethodPost, ex+"/start", "", fac, "")
			if role == "facilitator" {
				cookie = fac
			}
			rec = w.do(http.MethodGet, ex, "", cookie, "")
			if rec.Code != http.StatusOK {
				b.Fatalf("page: %d", rec.Code)
			}
			b.ReportMetric(float64(rec.Body.Len()), "bytes")
			b.ResetTimer()
			for b.Loop() {
				if rec := w.do(http.MethodGet, ex, "", cookie, ""); rec.Code != http.StatusOK {
					b.Fatalf("page: %d", rec.Code)
				}
			}
		})
	}
}
