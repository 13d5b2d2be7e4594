package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/collab"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/identity/identitytest"
	"github.com/dfslab/dfslab/internal/testenv"
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
			if !strings.Contains(out, "catalogue version 2026.2: 189 recommendations (9 withdrawn, not counted)") || !strings.Contains(out, "App and device") ||
				!strings.Contains(out, "by priority:") {
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
		testenv.Missing(t, os.DevNull+" is not a device here")
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

// An export with --db carries the amendments accepted on the platform.
func TestCatalogExportWithAmendments(t *testing.T) {
	ctx := audit.WithActor(context.Background(), audit.Actor{UserID: 1, IP: "127.0.0.1", RequestID: "test"})
	path := filepath.Join(t.TempDir(), "dfslab.db")
	d, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ids := identity.NewStore(d, identity.Options{})
	org, err := ids.CreateOrg(ctx, identity.NewOrg{Name: "Provider", Type: identity.OrgDFSProvider, Country: "MW"})
	if err != nil {
		t.Fatal(err)
	}
	analyst := identitytest.Member(t, ids, org.ID, "analyst@example.org", "analyst", identity.RoleAnalyst)
	if err := ids.SetPlatformAdmin(ctx, analyst.ID, true); err != nil {
		t.Fatal(err)
	}
	base, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	s := collab.NewStore(d, base, time.Now)
	const text = "Release builds of DFS apps are never debuggable; the release pipeline checks it."
	p, err := s.Propose(ctx, collab.Viewer{UserID: analyst.ID}, collab.NewProposal{RecID: "APP-001", OrgID: org.ID,
		Statement: text, Reason: "Make the pipeline check explicit."})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Accept(ctx, collab.Viewer{UserID: analyst.ID, Admin: true}, p.ID); err != nil {
		t.Fatal(err)
	}
	d.Close()

	var out, errOut bytes.Buffer
	if code := dispatch(context.Background(), []string{"catalog", "export", "--db", path}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), text) || !strings.Contains(out.String(), `"version": "`+catalog.AmendedVersion(base.Version, 1)+`"`) {
		t.Fatalf("export lacks the accepted amendment or the amended version")
	}
	out.Reset()
	errOut.Reset()
	missing := filepath.Join(t.TempDir(), "nope.db")
	if code := dispatch(context.Background(), []string{"catalog", "export", "--db", missing}, &out, &errOut); code != 1 {
		t.Fatalf("missing database: exit %d, want 1", code)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Fatal("an export created a database file")
	}
}
