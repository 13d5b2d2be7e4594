//go:build unix

package dex

import (
	"syscall"
	"time"
)

// processCPU is the user+system CPU time of the test process. Benchmarks
// report it per operation next to wall time because the shared build
// machine's load makes wall time swing by a factor of several.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
