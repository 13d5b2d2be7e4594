package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCatalogCommand(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		check    func(t *testing.T, stdout, stderr string)
	}{
		{"json to stdout", []string{"catalog", "export", "--format", "json"}, 0, func(t *testing.T, out, _ string) {
			var doc struct {
				Recommendations []struct{ ID string } `json:"recommendations"`
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatal(err)
			}
			if len(doc.Recommendations) < 150 {
				t.Fatalf("%d recommendations exported", len(doc.Recommendations))
			}
		}},
		{"oscal", []string{"catalog", "export", "--format", "oscal"}, 0, func(t *testing.T, out, _ string) {
			if !strings.Contains(out, `"oscal-version": "1.1.3"`) {
				t.Fatal("not an OSCAL 1.1.3 document")
			}
		}},
		{"csv header", []string{"catalog", "export", "--format", "csv"}, 0, func(t *testing.T, out, _ string) {
			if !strings.HasPrefix(out, "id,title,layer,") {
				t.Fatalf("unexpected CSV header: %.40q", out)
			}
		}},
		{"unknown format", []string{"catalog", "export", "--format", "xml"}, 2, func(t *testing.T, out, errOut string) {
			if out != "" || !strings.Contains(errOut, "unknown format") {
				t.Fatalf("stdout %q stderr %q", out, errOut)
			}
		}},
		{"stats", []string{"catalog", "stats"}, 0, func(t *testing.T, out, _ string) {
			if !strings.Contains(out, "recommendations") || !strings.Contains(out, "App and device") {
				t.Fatalf("stats output: %s", out)
			}
		}},
		{"no subcommand", []string{"catalog"}, 2, nil},
		{"bad subcommand", []string{"catalog", "frobnicate"}, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := dispatch(context.Background(), tt.args, &out, &errOut)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.wantCode, errOut.String())
			}
			if tt.check != nil {
				tt.check(t, out.String(), errOut.String())
			}
		})
	}
}

func TestCatalogExportToFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "catalog.json")
	var out, errOut bytes.Buffer
	if code := dispatch(context.Background(), []string{"catalog", "export", "--output", path}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	b, err := os.ReadFile(path)
	if err != nil || !json.Valid(b) {
		t.Fatalf("output file: %v, valid JSON %v", err, json.Valid(b))
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

// Writing to a device must not replace it: the atomic temp-file-and-rename
// path would turn /dev/null into a regular file for every later process.
func TestOutputToDeviceWritesInPlace(t *testing.T) {
	before, err := os.Stat(os.DevNull)
	if err != nil || before.Mode().IsRegular() {
		t.Skipf("%s is not a device here", os.DevNull)
	}
	var out, errOut bytes.Buffer
	if code := dispatch(context.Background(), []string{"catalog", "export", "--output", os.DevNull}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	after, err := os.Stat(os.DevNull)
	if err != nil || after.Mode().IsRegular() || after.Mode()&os.ModeDevice == 0 {
		t.Fatalf("%s is no longer a device after the export: %v %v", os.DevNull, after.Mode(), err)
	}
}
