//go:build !unix

package testenv

import "time"

// CPUTime is 0 where getrusage is missing: the cpu-ns/op figures then read 0.
func CPUTime() time.Duration { return 0 }

// PeakRSS is 0 where getrusage is missing.
func PeakRSS() int64 { return 0 }
