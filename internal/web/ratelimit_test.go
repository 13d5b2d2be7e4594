package web

import (
	"fmt"
	"testing"
	"time"
)

func TestLimiterBackoffSequence(t *testing.T) {
	c := newClock()
	l := NewLimiter(LimiterConfig{Free: 2, Base: time.Second, MaxDelay: 10 * time.Second}, c.Now)
	var got []time.Duration
	for i := 0; i < 7; i++ {
		got = append(got, l.Failure("k"))
	}
	want := []time.Duration{0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("delays %v, want %v", got, want)
	}
	if w := l.Wait("k"); w != 10*time.Second {
		t.Fatalf("wait %v", w)
	}
	if w := l.Wait("other"); w != 0 {
		t.Fatalf("unrelated key waits %v", w)
	}
	c.Advance(10 * time.Second)
	if w := l.Wait("k"); w != 0 {
		t.Fatalf("after the delay: wait %v, want 0 (back-off, never a lock)", w)
	}
	l.Success("k")
	if d := l.Failure("k"); d != 0 {
		t.Fatalf("success did not reset: %v", d)
	}
}

func TestLimiterForgetsQuietKeys(t *testing.T) {
	c := newClock()
	l := NewLimiter(LimiterConfig{Free: 1, Forget: time.Minute}, c.Now)
	l.Failure("k")
	l.Failure("k")
	c.Advance(2 * time.Minute)
	if w := l.Wait("k"); w != 0 || l.Len() != 0 {
		t.Fatalf("quiet key kept: wait %v, len %d", w, l.Len())
	}
}

func TestLimiterIsBounded(t *testing.T) {
	c := newClock()
	l := NewLimiter(LimiterConfig{MaxKeys: 100}, c.Now)
	for i := 0; i < 1000; i++ {
		c.Advance(time.Millisecond)
		l.Failure(fmt.Sprint("addr-", i))
	}
	if n := l.Len(); n > 100 {
		t.Fatalf("%d keys tracked, bound is 100", n)
	}
	// The most recent offender is still tracked.
	for i := 0; i < 10; i++ {
		l.Failure("addr-999")
	}
	if l.Wait("addr-999") == 0 {
		t.Fatal("recent offender evicted")
	}
}
