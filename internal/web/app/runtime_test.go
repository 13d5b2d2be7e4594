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

func TestTuneRuntimeLeavesOperatorSettingsAlone(t *testing.T) {
	prevPercent := debug.SetGCPercent(100)
	prevLimit := debug.SetMemoryLimit(math.MaxInt64)
	prevProcs := runtime.GOMAXPROCS(0)
	t.Cleanup(func() {
		debug.SetGCPercent(prevPercent)
		debug.SetMemoryLimit(prevLimit)
		runtime.GOMAXPROCS(prevProcs)
	})
	const cpus = 3 // what the runtime found, in this test
	for _, c := range []struct {
		name        string
		env         map[string]string
		wantPercent int
		wantLimit   int64
		wantProcs   int
		wantLog     string
	}{
		{"defaults", nil, DefaultGCPercent, DefaultMemoryLimit, 2 * cpus, "GOGC=400 GOMEMLIMIT=1GiB GOMAXPROCS=6"},
		{"GOGC set", map[string]string{"GOGC": "150"}, 100, DefaultMemoryLimit, 2 * cpus, "GOGC=150 GOMEMLIMIT=1GiB GOMAXPROCS=6"},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "4GiB"}, DefaultGCPercent, math.MaxInt64, 2 * cpus, "GOGC=400 GOMEMLIMIT=4GiB GOMAXPROCS=6"},
		{"GOMAXPROCS set", map[string]string{"GOMAXPROCS": "3"}, DefaultGCPercent, DefaultMemoryLimit, cpus, "GOGC=400 GOMEMLIMIT=1GiB GOMAXPROCS=3"},
		{"all set", map[string]string{"GOGC": "off", "GOMEMLIMIT": "2GiB", "GOMAXPROCS": "3"}, 100, math.MaxInt64, cpus, "GOGC=off GOMEMLIMIT=2GiB GOMAXPROCS=3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			// The runtime applies GOGC, GOMEMLIMIT and GOMAXPROCS itself at
			// start-up; here the test's own values stand for them.
			debug.SetGCPercent(100)
			debug.SetMemoryLimit(math.MaxInt64)
			runtime.GOMAXPROCS(cpus)
			got := TuneRuntime(func(k string) string { return c.env[k] })
			if got.Settings != c.wantLog || got.CPUs != cpus {
				t.Errorf("TuneRuntime = %+v, want CPUs %d, settings %q", got, cpus, c.wantLog)
			}
			if p := debug.SetGCPercent(100); p != c.wantPercent {
				t.Errorf("GC percent %d, want %d", p, c.wantPercent)
			}
			if l := debug.SetMemoryLimit(-1); l != c.wantLimit {
				t.Errorf("memory limit %d, want %d", l, c.wantLimit)
			}
			if p := runtime.GOMAXPROCS(0); p != c.wantProcs {
				t.Errorf("GOMAXPROCS %d, want %d", p, c.wantProcs)
			}
		})
	}
}

// TestMaxActiveDefaultPerDatabase checks the page-request slots the app
// gives the web server: more on PostgreSQL, whose queries wait on the
// network, and what the operator asked for when set.
func TestMaxActiveDefaultPerDatabase(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		const cpus = 3
		want := cpus
		if d.Dialect() == db.Postgres {
			want = 4 * cpus
		}
		for _, c := range []struct{ set, want int }{{0, want}, {5, 5}, {-1, -1}} {
			a, err := New(context.Background(), d, Config{BaseURL: testBaseURL, MaxActive: c.set, CPUs: cpus})
			if err != nil {
				t.Fatal(err)
			}
			if got := a.Server.MaxActive(); got != c.want {
				t.Errorf("MaxActive %d on %s: server works on %d at once, want %d", c.set, d.Dialect(), got, c.want)
			}
		}
	})
}
