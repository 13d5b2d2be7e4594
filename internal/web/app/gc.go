package app

import (
	"fmt"
	"runtime/debug"
)

// Garbage-collector defaults of the platform process. The server's live
// heap is small (tens of megabytes) and every page allocates, so with Go's
// default GOGC=100 it collects after every few hundred requests; at 400 it
// spends about a sixth less CPU per page (docs/performance.md). The soft
// memory limit keeps that from growing the heap without bound when
// in-process app scans hold a lot of memory: near the limit the collector
// runs as often as it must, whatever GOGC says.
const (
	DefaultGCPercent   = 400
	DefaultMemoryLimit = 1 << 30 // bytes
)

// TuneGC applies DefaultGCPercent and DefaultMemoryLimit unless the
// operator set GOGC or GOMEMLIMIT (getenv is os.Getenv; the runtime has
// read those already), and describes the outcome for the start-up log.
func TuneGC(getenv func(string) string) string {
	gogc, limit := getenv("GOGC"), getenv("GOMEMLIMIT")
	if gogc == "" {
		debug.SetGCPercent(DefaultGCPercent)
		gogc = fmt.Sprint(DefaultGCPercent)
	}
	if limit == "" {
		debug.SetMemoryLimit(DefaultMemoryLimit)
		limit = "1GiB"
	}
	return fmt.Sprintf("GOGC=%s GOMEMLIMIT=%s", gogc, limit)
}
