package app

import (
	"context"
	"math"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
)

func TestTuneGCLeavesOperatorSettingsAlone(t *testing.T) {
	prevPercent := debug.SetGCPercent(100)
	prevLimit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		debug.SetGCPercent(prevPercent)
		debug.SetMemoryLimit(prevLimit)
	})
	for _, c := range []struct {
		name        string
		env         map[string]string
		wantPercent int
		wantLimit   int64
		wantLog     string
	}{
		{"defaults", nil, DefaultGCPercent, DefaultMemoryLimit, "GOGC=400 GOMEMLIMIT=1GiB"},
		{"GOGC set", map[string]string{"GOGC": "150"}, 100, DefaultMemoryLimit, "GOGC=150 GOMEMLIMIT=1GiB"},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "4GiB"}, DefaultGCPercent, math.MaxInt64, "GOGC=400 GOMEMLIMIT=4GiB"},
		{"both set", map[string]string{"GOGC": "off", "GOMEMLIMIT": "2GiB"}, 100, math.MaxInt64, "GOGC=off GOMEMLIMIT=2GiB"},
	} {
		t.Run(c.name, func(t *testing.T) {
			// The runtime applies GOGC and GOMEMLIMIT itself at start-up;
			// here the test's own values stand for them.
			debug.SetGCPercent(100)
			debug.SetMemoryLimit(math.MaxInt64)
			got := TuneGC(func(k string) string { return c.env[k] })
			if got != c.wantLog {
				t.Errorf("log %q, want %q", got, c.wantLog)
			}
			if p := debug.SetGCPercent(100); p != c.wantPercent {
				t.Errorf("GC percent %d, want %d", p, c.wantPercent)
			}
			if l := debug.SetMemoryLimit(-1); l != c.wantLimit {
				t.Errorf("memory limit %d, want %d", l, c.wantLimit)
			}
		})
	}
}

// TestMaxActiveDefaultPerDatabase checks the page-request slots the app
// gives the web server: more on PostgreSQL, whose queries wait on the
// network, and what the operator asked for when set.
func TestMaxActiveDefaultPerDatabase(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		want := 2 * runtime.GOMAXPROCS(0)
		if d.Dialect() == db.Postgres {
			want = 8 * runtime.GOMAXPROCS(0)
		}
		for _, c := range []struct{ set, want int }{{0, want}, {3, 3}, {-1, -1}} {
			a, err := New(context.Background(), d, Config{BaseURL: testBaseURL, MaxActive: c.set})
			if err != nil {
				t.Fatal(err)
			}
			if got := a.Server.MaxActive(); got != c.want {
				t.Errorf("MaxActive %d on %s: server works on %d at once, want %d", c.set, d.Dialect(), got, c.want)
			}
		}
	})
}
