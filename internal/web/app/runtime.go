package app

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Runtime defaults of the platform process, applied by TuneRuntime.
//
// Garbage collector: the server's live heap is small (tens of megabytes)
// and every page allocates, so with Go's default GOGC=100 it collects
// after every few hundred requests; at 400 it spends about a sixth less
// CPU per page. The soft memory limit keeps that from growing the heap
// without bound when in-process app scans hold a lot of memory: near the
// limit the collector runs as often as it must, whatever GOGC says.
//
// Scheduler: when every P (GOMAXPROCS) always has a goroutine ready to
// run, the runtime looks for connections that have become readable only
// when sysmon polls, about every 10 ms (golang/go#51651), so under a
// sustained load a request may wait up to 10 ms before its goroutine even
// reads it. Running twice as many Ps as cores, while at most one page per
// core does its work at once (--max-active), leaves Ps that run out of
// work and poll the network straight away. Under wrk this halved the p99
// of the time between a response and the next request on the same
// connection (docs/performance.md).
const (
	DefaultGCPercent   = 400
	DefaultMemoryLimit = 1 << 30 // bytes
	DefaultPPerCore    = 2
)

// Runtime is what TuneRuntime found and set.
type Runtime struct {
	// CPUs is the number of cores the runtime found before tuning
	// (GOMAXPROCS by default follows the CPU count and the container's
	// CPU limit); the page-request slots are sized by it.
	CPUs int
	// Settings describes the outcome for the start-up log.
	Settings string
}

// TuneRuntime applies DefaultGCPercent, DefaultMemoryLimit and
// DefaultPPerCore × CPUs for GOMAXPROCS, each unless the operator set
// GOGC, GOMEMLIMIT or GOMAXPROCS (getenv is os.Getenv; the runtime has
// applied those already).
func TuneRuntime(getenv func(string) string) Runtime {
	rt := Runtime{CPUs: runtime.GOMAXPROCS(0)}
	var set []string
	if v := getenv("GOGC"); v != "" {
		set = append(set, "GOGC="+v)
	} else {
		debug.SetGCPercent(DefaultGCPercent)
		set = append(set, fmt.Sprintf("GOGC=%d", DefaultGCPercent))
	}
	if v := getenv("GOMEMLIMIT"); v != "" {
		set = append(set, "GOMEMLIMIT="+v)
	} else {
		debug.SetMemoryLimit(DefaultMemoryLimit)
		set = append(set, "GOMEMLIMIT=1GiB")
	}
	if v := getenv("GOMAXPROCS"); v != "" {
		set = append(set, "GOMAXPROCS="+v)
	} else {
		runtime.GOMAXPROCS(DefaultPPerCore * rt.CPUs)
		set = append(set, fmt.Sprintf("GOMAXPROCS=%d", DefaultPPerCore*rt.CPUs))
	}
	rt.Settings = strings.Join(set, " ")
	return rt
}
