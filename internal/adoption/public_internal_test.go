package adoption

import (
	"fmt"
	"testing"
	"time"
)

// TestAddrLimiter: each address gets publicPerMinute requests a window;
// a new window starts a minute after the first request; memory stays
// bounded under a flood of addresses.
func TestAddrLimiter(t *testing.T) {
	now := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	l := &addrLimiter{now: func() time.Time { return now }}
	for i := range publicPerMinute {
		if ok, _ := l.allow("192.0.2.1"); !ok {
			t.Fatalf("request %d refused", i+1)
		}
	}
	now = now.Add(20 * time.Second)
	ok, wait := l.allow("192.0.2.1")
	if ok || wait != 40*time.Second {
		t.Fatalf("request over the budget: %v, wait %v; want refused for 40s", ok, wait)
	}
	if ok, _ := l.allow("192.0.2.2"); !ok {
		t.Fatal("another address shares the first one's budget")
	}
	now = now.Add(40 * time.Second)
	if ok, _ := l.allow("192.0.2.1"); !ok {
		t.Fatal("no new window after a minute")
	}

	flood := &addrLimiter{now: func() time.Time { return now }}
	for i := range publicMaxAddrs {
		flood.allow(fmt.Sprintf("10.0.%d.%d", i/256, i%256))
	}
	if ok, _ := flood.allow("198.51.100.1"); ok {
		t.Fatal("a new address admitted past the bound while every window runs")
	}
	if len(flood.hits) != publicMaxAddrs {
		t.Fatalf("%d addresses tracked, bound %d", len(flood.hits), publicMaxAddrs)
	}
	now = now.Add(time.Minute)
	if ok, _ := flood.allow("198.51.100.1"); !ok || len(flood.hits) != 1 {
		t.Fatalf("after the windows ended: admitted %v, %d tracked", ok, len(flood.hits))
	}
}
