//go:build unix

package testenv

import (
	"syscall"
	"time"
)

// CPUTime is the user and system CPU time of the test process so far
// (every goroutine, the garbage collector included). Benchmarks report it
// next to wall time: it does not grow when other processes load the shared
// machine, so it is the figure to compare between runs.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// PeakRSS is the largest resident set size of the process so far, in
// bytes.
func PeakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return peakRSSBytes(ru.Maxrss)
}
