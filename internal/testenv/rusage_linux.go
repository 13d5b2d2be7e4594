//go:build linux

package testenv

// peakRSSBytes converts getrusage's ru_maxrss, in kilobytes on Linux.
func peakRSSBytes(maxrss int64) int64 { return maxrss * 1024 }
