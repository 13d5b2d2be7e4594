package authn

import (
	"context"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
)

// ceremonyKind names what a stored ceremony state is for, so that a
// challenge issued for one flow cannot finish another.
type ceremonyKind string

const (
	kindSignIn     ceremonyKind = "signin"
	kindSignInTOTP ceremonyKind = "signin-totp" // passkey done, TOTP pending
	kindEnrol      ceremonyKind = "enrol"
	kindRecover    ceremonyKind = "recover"
	kindAddPasskey ceremonyKind = "add-passkey"
	kindStepUp     ceremonyKind = "step-up"
)

// Ceremony is the server-side state between the two halves of a ceremony.
// It is bound to the browser's pre-authentication cookie, used once and
// expires after CeremonyTTL.
type Ceremony struct {
	Kind        ceremonyKind
	WebAuthn    webauthn.SessionData
	UserID      int64
	LinkHash    []byte
	Handle      []byte
	Email       string
	DisplayName string
	PasskeyName string
	Next        string
	// Attempts counts wrong second-factor codes of a pending sign-in.
	Attempts int
	Expires  time.Time
}

// Ceremonies stores ceremony states. The in-memory implementation serves a
// single node; several nodes need a shared implementation (or sticky
// sessions), because the finish request may reach another node.
type Ceremonies interface {
	Put(ctx context.Context, key string, c Ceremony) error
	// Take returns and deletes the state under key; ErrNotFound when it
	// is absent or expired.
	Take(ctx context.Context, key string) (Ceremony, error)
}

// MemoryCeremonies is a bounded in-memory Ceremonies.
type MemoryCeremonies struct {
	mu  sync.Mutex
	max int
	now func() time.Time
	m   map[string]Ceremony
}

// NewMemoryCeremonies holds at most max states; when full, expired states
// are dropped first and then the one closest to expiry, so a flood of
// begun ceremonies cannot grow memory without bound.
func NewMemoryCeremonies(max int, now func() time.Time) *MemoryCeremonies {
	if now == nil {
		now = time.Now
	}
	if max <= 0 {
		max = 10000
	}
	return &MemoryCeremonies{max: max, now: now, m: make(map[string]Ceremony)}
}

func (s *MemoryCeremonies) Put(_ context.Context, key string, c Ceremony) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[key]; !ok && len(s.m) >= s.max {
		now := s.now()
		oldestKey, oldest := "", time.Time{}
		for k, v := range s.m {
			if now.After(v.Expires) {
				delete(s.m, k)
				continue
			}
			if oldestKey == "" || v.Expires.Before(oldest) {
				oldestKey, oldest = k, v.Expires
			}
		}
		if len(s.m) >= s.max {
			delete(s.m, oldestKey)
		}
	}
	s.m[key] = c
	return nil
}

func (s *MemoryCeremonies) Take(_ context.Context, key string) (Ceremony, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.m[key]
	delete(s.m, key)
	if !ok || s.now().After(c.Expires) {
		return Ceremony{}, ErrNotFound
	}
	return c, nil
}
