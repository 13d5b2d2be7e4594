package identity_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/identity/identitytest"
	"github.com/dfslab/dfslab/internal/testenv"
)

// benchSessions makes n users with one session each on SQLite.
func benchSessions(b *testing.B, n int, touchEvery time.Duration) (*identity.Store, []string) {
	d := dbtest.SQLite(b)
	ctx := context.Background()
	s := identity.NewStore(d, identity.Options{TouchEvery: touchEvery})
	o, err := s.CreateOrg(ctx, identity.NewOrg{Name: "Bench", Type: identity.OrgOther, Country: "MW"})
	if err != nil {
		b.Fatal(err)
	}
	toks := make([]string, n)
	for i := range toks {
		u := identitytest.Member(b, s, o.ID, fmt.Sprintf("u%d@bench.example", i), "u", identity.RoleAnalyst)
		var err error
		if toks[i], _, err = s.CreateSession(ctx, u.ID, identity.SessionMeta{IP: "127.0.0.1", UserAgent: "bench"}, "passkey"); err != nil {
			b.Fatal(err)
		}
	}
	return s, toks
}

// BenchmarkAuthenticate is the per-request hot path: session lookup joined
// with its user, and the throttled last-seen update.
func BenchmarkAuthenticate(b *testing.B) {
	for _, c := range []struct {
		name  string
		touch time.Duration
	}{
		{"touch-per-minute", time.Minute},
		{"touch-every-request", time.Nanosecond}, // worst case: a write per request
	} {
		b.Run(c.name, func(b *testing.B) {
			s, toks := benchSessions(b, 200, c.touch)
			ctx := context.Background()
			defer testenv.CPUPerOp(b)()
			i := 0
			for b.Loop() {
				if _, _, err := s.Authenticate(ctx, toks[i%len(toks)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run(c.name+"-parallel", func(b *testing.B) {
			s, toks := benchSessions(b, 200, c.touch)
			ctx := context.Background()
			b.SetParallelism(16) // many concurrent requests per core, as under load
			b.ResetTimer()
			defer testenv.CPUPerOp(b)()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					if _, _, err := s.Authenticate(ctx, toks[i%len(toks)]); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		})
	}
}

// BenchmarkAuthenticateWithMemberships adds the membership read that the
// web shell needed on every request, as a second query.
func BenchmarkAuthenticateWithMemberships(b *testing.B) {
	s, toks := benchSessions(b, 200, time.Minute)
	ctx := context.Background()
	b.ResetTimer()
	defer testenv.CPUPerOp(b)()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			_, u, err := s.Authenticate(ctx, toks[i%len(toks)])
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.Memberships(ctx, u.ID); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkAuthenticateMember is the same lookup in one query, as the web
// shell does it now.
func BenchmarkAuthenticateMember(b *testing.B) {
	s, toks := benchSessions(b, 200, time.Minute)
	ctx := context.Background()
	b.ResetTimer()
	defer testenv.CPUPerOp(b)()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, _, ms, err := s.AuthenticateMember(ctx, toks[i%len(toks)]); err != nil || len(ms) != 1 {
				b.Fatal(len(ms), err)
			}
			i++
		}
	})
}
