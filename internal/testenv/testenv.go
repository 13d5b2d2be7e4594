// Package testenv lets tests depend on things outside the repository (the
// Debian androguard corpus, a PostgreSQL server, Chromium) without hiding
// gaps: outside CI a missing dependency skips the test with a clear message;
// with CI=true it fails, because CI installs everything the suite needs.
package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// InCI reports whether the tests run under CI (CI=true), where nothing may
// be skipped for lack of a dependency.
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing skips the test outside CI and fails it in CI.
func Missing(t testing.TB, what string) {
	t.Helper()
	if InCI() {
		t.Fatalf("CI=true but %s; .ci/run must provide it", what)
	}
	t.Skipf("skipped: %s (CI installs it; see .ci/run)", what)
}

// Dir returns the directory named by the environment variable env, or skips
// (fails in CI) when it is unset or does not exist.
func Dir(t testing.TB, env string) string {
	t.Helper()
	d := os.Getenv(env)
	if d == "" {
		Missing(t, env+" is not set")
		return ""
	}
	if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
		Missing(t, env+"="+d+" is not a directory")
		return ""
	}
	return d
}

// Env returns the value of env, or skips (fails in CI) when it is empty.
func Env(t testing.TB, env string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		Missing(t, env+" is not set")
	}
	return v
}

// AndroguardDir is the examples folder of Debian's androguard package
// (usr/share/doc/androguard/examples after dpkg -x), named by
// DFSLAB_ANDROGUARD_DIR.
func AndroguardDir(t testing.TB) string {
	t.Helper()
	return Dir(t, "DFSLAB_ANDROGUARD_DIR")
}

// SharedFile returns the path of a file in the shared/ folder that sits
// beside the repository (CI lays it there; it holds the SARIF and OSCAL
// schemas), or skips (fails in CI) when it is missing.
func SharedFile(t testing.TB, rel string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testenv: no go.mod above the package directory")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		Missing(t, "../shared/"+rel+" beside the repository")
	}
	return p
}

// CPUPerOp starts measuring the process's CPU time; the returned func
// reports it per operation as "cpu-ns/op" (defer it).
func CPUPerOp(b *testing.B) func() {
	start := CPUTime()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(CPUTime()-start)/float64(b.N), "cpu-ns/op")
		}
	}
}
