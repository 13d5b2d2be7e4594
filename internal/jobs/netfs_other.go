//go:build !linux

package jobs

// networkFS cannot tell on this system; SQLite's own locking is trusted.
func networkFS(string) (string, bool) { return "", false }
