package web

import (
	"math"
	"sync"
	"time"
)

// Limiter slows down guessing at authentication endpoints with an
// exponential back-off per key (an address, or an account). It never locks
// anyone out: after the free attempts each further failure only pushes the
// next allowed attempt back, up to MaxDelay, and a success clears the key.
//
// How the authentication package should use it, so that an attacker
// cannot lock out a real user:
//   - before verifying anything, check the address key (AddrKey); the
//     shell does this for routes marked RateLimited;
//   - a passkey assertion is never gated by the account key: the account
//     is only known after the assertion verified, and a valid one signs in
//     regardless of failures from other addresses;
//   - guessable factors (TOTP, recovery codes) check the account key too,
//     whose MaxDelay is short, so a real user waits seconds at worst.
//
// Memory is bounded: at most MaxKeys keys are tracked; when full, the
// key whose back-off ends first is forgotten.
type Limiter struct {
	cfg LimiterConfig
	now func() time.Time

	mu   sync.Mutex
	keys map[string]*backoff
}

// LimiterConfig tunes a Limiter.
type LimiterConfig struct {
	Free     int           // failures allowed before any delay (default 5)
	Base     time.Duration // first delay (default 1s)
	MaxDelay time.Duration // longest delay (default 1m)
	Forget   time.Duration // a quiet key is forgotten after this (default 15m)
	MaxKeys  int           // bound on tracked keys (default 100,000)
}

type backoff struct {
	failures int
	next     time.Time // no attempt before this
	last     time.Time // last failure
}

// NewLimiter returns a limiter; now is the clock (nil: time.Now).
func NewLimiter(cfg LimiterConfig, now func() time.Time) *Limiter {
	if cfg.Free <= 0 {
		cfg.Free = 5
	}
	if cfg.Base <= 0 {
		cfg.Base = time.Second
	}
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = time.Minute
	}
	if cfg.Forget <= 0 {
		cfg.Forget = 15 * time.Minute
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = 100_000
	}
	if now == nil {
		now = time.Now
	}
	return &Limiter{cfg: cfg, now: now, keys: make(map[string]*backoff)}
}

// AddrKey is the limiter key of a client address.
func AddrKey(ip string) string { return "addr:" + ip }

// AccountKey is the limiter key of an account (user ID or e-mail).
func AccountKey(account string) string { return "acct:" + account }

// Wait returns how long key must wait before its next attempt (0: go).
func (l *Limiter) Wait(key string) time.Duration {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.keys[key]
	if b == nil {
		return 0
	}
	if now.Sub(b.last) > l.cfg.Forget {
		delete(l.keys, key)
		return 0
	}
	if d := b.next.Sub(now); d > 0 {
		return d
	}
	return 0
}

// Failure records a failed attempt of key and returns the delay now due.
func (l *Limiter) Failure(key string) time.Duration {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.keys[key]
	if b != nil && now.Sub(b.last) > l.cfg.Forget {
		b = nil
	}
	if b == nil {
		if len(l.keys) >= l.cfg.MaxKeys {
			l.evictLocked(now)
		}
		b = &backoff{}
		l.keys[key] = b
	}
	b.failures++
	b.last = now
	over := b.failures - l.cfg.Free
	if over <= 0 {
		return 0
	}
	d := l.cfg.MaxDelay
	if over < 30 {
		if e := time.Duration(float64(l.cfg.Base) * math.Pow(2, float64(over-1))); e < d {
			d = e
		}
	}
	b.next = now.Add(d)
	return d
}

// Success clears key: a user who got in is not slowed down afterwards.
func (l *Limiter) Success(key string) {
	l.mu.Lock()
	delete(l.keys, key)
	l.mu.Unlock()
}

// evictLocked drops forgotten keys, then, if still full, the key whose
// back-off is least recent. Linear, but only when the table is full,
// which an attacker reaches only after MaxKeys distinct failures.
func (l *Limiter) evictLocked(now time.Time) {
	var oldest string
	var oldestT time.Time
	for k, b := range l.keys {
		if now.Sub(b.last) > l.cfg.Forget {
			delete(l.keys, k)
			continue
		}
		if oldest == "" || b.last.Before(oldestT) {
			oldest, oldestT = k, b.last
		}
	}
	if len(l.keys) >= l.cfg.MaxKeys && oldest != "" {
		delete(l.keys, oldest)
	}
}

// Len is the number of tracked keys.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}
