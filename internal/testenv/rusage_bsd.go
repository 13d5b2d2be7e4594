//go:build unix && !linux

package testenv

// peakRSSBytes converts getrusage's ru_maxrss, in bytes on the BSDs and
// macOS.
func peakRSSBytes(maxrss int64) int64 { return maxrss }
