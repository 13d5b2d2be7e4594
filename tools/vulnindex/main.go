// Command vulnindex turns the OSV files of the golang.org/x/vulndb module
// (data/osv/*.json) into the file layout that `govulncheck -db file://DIR`
// reads (index/db.json, index/modules.json, ID/<id>.json). CI has no route to
// the public vulnerability service, but it can fetch that module through the
// module proxy, so this is how govulncheck runs offline.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

type osvEntry struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Affected []struct {
		Package struct {
			Name      string `json:"name"`
			Ecosystem string `json:"ecosystem"`
		} `json:"package"`
		Ranges []struct {
			Type   string `json:"type"`
			Events []struct {
				Introduced string `json:"introduced,omitempty"`
				Fixed      string `json:"fixed,omitempty"`
			} `json:"events"`
		} `json:"ranges"`
	} `json:"affected"`
}

type moduleVuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Fixed    string    `json:"fixed,omitempty"`
}

type moduleMeta struct {
	Path  string       `json:"path"`
	Vulns []moduleVuln `json:"vulns"`
}

func main() {
	osvDir := flag.String("osv", "", "folder with the OSV JSON files (data/osv of golang.org/x/vulndb)")
	out := flag.String("out", "", "folder to write the database to")
	flag.Parse()
	if *osvDir == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: vulnindex -osv DIR -out DIR")
		os.Exit(2)
	}
	if err := run(*osvDir, *out); err != nil {
		fmt.Fprintln(os.Stderr, "vulnindex:", err)
		os.Exit(1)
	}
}

func run(osvDir, out string) error {
	files, err := filepath.Glob(filepath.Join(osvDir, "GO-*.json"))
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no GO-*.json files in %s", osvDir)
	}
	for _, d := range []string{"index", "ID"} {
		if err := os.MkdirAll(filepath.Join(out, d), 0o755); err != nil {
			return err
		}
	}
	modules := map[string]*moduleMeta{}
	var newest time.Time
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var e osvEntry
		if err := json.Unmarshal(b, &e); err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(f), err)
		}
		if e.Modified.After(newest) {
			newest = e.Modified
		}
		if err := os.WriteFile(filepath.Join(out, "ID", e.ID+".json"), b, 0o644); err != nil {
			return err
		}
		for _, a := range e.Affected {
			m := modules[a.Package.Name]
			if m == nil {
				m = &moduleMeta{Path: a.Package.Name}
				modules[a.Package.Name] = m
			}
			fixed := latestFixed(a.Ranges)
			// An entry may list the same module more than once (one
			// block per package); the index wants one row per ID.
			merged := false
			for i := range m.Vulns {
				if m.Vulns[i].ID == e.ID {
					if fixed != "" && (m.Vulns[i].Fixed == "" || semver.Compare("v"+fixed, "v"+m.Vulns[i].Fixed) > 0) {
						m.Vulns[i].Fixed = fixed
					}
					merged = true
				}
			}
			if !merged {
				m.Vulns = append(m.Vulns, moduleVuln{ID: e.ID, Modified: e.Modified, Fixed: fixed})
			}
		}
	}
	list := make([]*moduleMeta, 0, len(modules))
	for _, m := range modules {
		sort.Slice(m.Vulns, func(i, j int) bool { return m.Vulns[i].ID < m.Vulns[j].ID })
		list = append(list, m)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Path < list[j].Path })
	if newest.IsZero() {
		// The repository's files carry no modification times (the
		// deployment adds them); govulncheck only shows this date.
		newest = time.Now().UTC().Truncate(time.Second)
	}
	if err := writeJSON(filepath.Join(out, "index", "modules.json"), list); err != nil {
		return err
	}
	return writeJSON(filepath.Join(out, "index", "db.json"), map[string]time.Time{"modified": newest})
}

// latestFixed returns the highest "fixed" version of the ranges, without the
// leading "v", as the index format wants.
func latestFixed(ranges []struct {
	Type   string `json:"type"`
	Events []struct {
		Introduced string `json:"introduced,omitempty"`
		Fixed      string `json:"fixed,omitempty"`
	} `json:"events"`
}) string {
	best := ""
	for _, r := range ranges {
		for _, ev := range r.Events {
			if ev.Fixed == "" {
				continue
			}
			if best == "" || semver.Compare("v"+ev.Fixed, "v"+best) > 0 {
				best = strings.TrimPrefix(ev.Fixed, "v")
			}
		}
	}
	return best
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
