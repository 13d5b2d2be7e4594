package authn

import (
	"net/http"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/db/dbtest"
)

// BenchmarkPasskeySignIn measures one username-less sign-in (begin and
// finish, including signature verification and the store writes) over
// HTTP on loopback.
func BenchmarkPasskeySignIn(b *testing.B) {
	for _, be := range []struct {
		name string
		mk   func(b *testing.B, c *fakeClock) backend
	}{
		{"memory", func(_ *testing.B, c *fakeClock) backend { return &memBackend{newMemStore(c.Now)} }},
		{"sqlite", func(b *testing.B, c *fakeClock) backend { return newIDBackend(b, dbtest.SQLite(b), c) }},
	} {
		b.Run(be.name, func(b *testing.B) {
			clock := &fakeClock{t: time.Now()}
			h := newHarness(b, be.mk(b, clock), clock)
			c := h.newClient()
			c.enrol(h.b.enrolLink(b))
			b.ResetTimer()
			for b.Loop() {
				if st, body := c.signIn(); st != http.StatusOK {
					b.Fatalf("sign-in: %d %s", st, body)
				}
			}
		})
	}
}
