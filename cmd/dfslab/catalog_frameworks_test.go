package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/db"
)

func examplePath(name string) string {
	return filepath.Join("..", "..", "docs", "examples", name)
}

func TestCatalogImportAndList(t *testing.T) {
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "dfslab.db")
	d, err := db.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := dispatch(ctx, append([]string{"catalog"}, args...), &out, &errOut)
		return code, out.String(), errOut.String()
	}

	if code, out, _ := run("frameworks", "--db", dsn); code != 0 || !strings.Contains(out, "no framework imported") {
		t.Errorf("empty list: %d %q", code, out)
	}
	// A refused file names its line and imports nothing.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	b, _ := os.ReadFile(examplePath("cbe-cyber-guideline.yaml"))
	os.WriteFile(bad, bytes.Replace(b, []byte("APP-004"), []byte("APP-904"), 1), 0o600)
	code, _, errOut := run("import", "--db", dsn, bad)
	if code != 1 || !strings.Contains(errOut, `line 48: control "CBE-APP-1": maps to unknown recommendation "APP-904"`) || !strings.Contains(errOut, "nothing imported") {
		t.Errorf("bad import: %d %s", code, errOut)
	}
	if _, out, _ := run("frameworks", "--db", dsn); !strings.Contains(out, "no framework imported") {
		t.Errorf("a refused import left a framework: %s", out)
	}

	code, out, errOut := run("import", "--db", dsn, examplePath("cbe-cyber-guideline.yaml"))
	if code != 0 || !strings.Contains(out, "imported cbe-cyber-guideline") || !strings.Contains(out, "import 1: 6 controls, 9 mappings") {
		t.Fatalf("import: %d %s %s", code, out, errOut)
	}
	// The flag after the file, as in the usage line; OSCAL plus a mapping file.
	code, out, errOut = run("import", "--db", dsn, examplePath("cbe-cyber-guideline.oscal.json"), "--format", "oscal",
		"--mappings", examplePath("cbe-cyber-guideline.mappings.yaml"))
	if code != 0 || !strings.Contains(out, "import 2: 3 controls, 4 mappings") {
		t.Fatalf("second import: %d %s %s", code, out, errOut)
	}
	code, out, _ = run("frameworks", "--db", dsn)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[1], "Central Bank of Example") ||
		!strings.Contains(strings.Join(strings.Fields(lines[1]), " "), "2026.1 2 3 4") {
		t.Errorf("list: %d\n%s", code, out)
	}
}

func TestCatalogImportUsage(t *testing.T) {
	ctx := context.Background()
	missing := filepath.Join(t.TempDir(), "nope.db")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"import", examplePath("cbe-cyber-guideline.yaml")}, 2, "usage"}, // no --db
		{[]string{"import", "--db", missing}, 2, "usage"},                         // no file
		{[]string{"import", "--db", missing, "--format", "xml", examplePath("cbe-cyber-guideline.yaml")}, 2, "unknown format"},
		{[]string{"import", "--db", missing, examplePath("cbe-cyber-guideline.yaml")}, 1, "database"}, // not created
		{[]string{"import", "--db", missing, filepath.Join(t.TempDir(), "none.yaml")}, 1, "no such file"},
		{[]string{"frameworks"}, 2, "usage"},
		{[]string{"frameworks", "--db", missing}, 1, "database"},
	} {
		var out, errOut bytes.Buffer
		code := dispatch(ctx, append([]string{"catalog"}, tc.args...), &out, &errOut)
		if code != tc.code || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errOut.String(), tc.code, tc.want)
		}
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("a command created the database")
	}
}
