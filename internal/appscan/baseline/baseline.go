// Package baseline compares a scan with a previous JSON report so that a CI
// pipeline fails only on findings introduced since then, and so that fixed
// findings are visible. Findings are matched by their fingerprint, which is
// stable across builds of an app (see appscan.Finding.ComputeFingerprint).
package baseline

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dfslab/dfslab/internal/appscan"
)

// maxReportSize bounds the previous report we read; real reports are a few
// megabytes at most.
const maxReportSize = 256 << 20

// Baseline holds the findings of a previous report, per app.
type Baseline struct {
	Path          string
	SchemaVersion string
	// apps maps an app key (see appKey) to its findings by fingerprint; a
	// fingerprint can occur more than once (same rule, same place, same
	// evidence), so each keeps its list.
	apps map[string]map[string][]appscan.Finding
}

// Summary is what Apply found; it becomes the "baseline" object of reports.
type Summary struct {
	Path      string  `json:"path"`
	New       int     `json:"new"`       // findings not in the baseline (kept in the results)
	Unchanged int     `json:"unchanged"` // findings also in the baseline (removed from the results)
	Fixed     []Fixed `json:"fixed"`     // baseline findings that are gone
}

// Fixed is a finding of the baseline that the new scan no longer reports.
type Fixed struct {
	Target  string          `json:"target"`
	Package string          `json:"package"`
	Finding appscan.Finding `json:"finding"`
}

// report is the part of the JSON report schema (docs/report-schema.md) that
// a baseline needs. It is declared here, not taken from package report, so
// that the baseline depends on the documented format only.
type report struct {
	SchemaVersion string `json:"schema_version"`
	Results       []struct {
		Target   appscan.Target    `json:"target"`
		App      appscan.AppInfo   `json:"app"`
		Findings []appscan.Finding `json:"findings"`
	} `json:"results"`
}

// Load reads a JSON report written by `dfslab scan --format json`.
func Load(name string) (*Baseline, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	defer f.Close()
	return Read(f, name)
}

// Read parses a JSON report from r; name is used in messages.
func Read(r io.Reader, name string) (*Baseline, error) {
	var rep report
	dec := json.NewDecoder(io.LimitReader(r, maxReportSize))
	if err := dec.Decode(&rep); err != nil {
		return nil, fmt.Errorf("baseline %s: not a dfslab JSON report: %w", name, err)
	}
	if rep.SchemaVersion == "" {
		return nil, fmt.Errorf("baseline %s: no schema_version: not a dfslab JSON report (use --format json)", name)
	}
	if major(rep.SchemaVersion) != major(appscan.SchemaVersion) {
		return nil, fmt.Errorf("baseline %s: schema version %s, this dfslab reads %s.x", name, rep.SchemaVersion, major(appscan.SchemaVersion))
	}
	b := &Baseline{Path: name, SchemaVersion: rep.SchemaVersion, apps: map[string]map[string][]appscan.Finding{}}
	for _, res := range rep.Results {
		k := appKey(res.App.Package, res.Target.Path)
		m := b.apps[k]
		if m == nil {
			m = map[string][]appscan.Finding{}
			b.apps[k] = m
		}
		for _, f := range res.Findings {
			if f.Fingerprint == "" {
				f.ComputeFingerprint()
			}
			m[f.Fingerprint] = append(m[f.Fingerprint], f)
		}
	}
	return b, nil
}

func major(v string) string {
	m, _, _ := strings.Cut(v, ".")
	return m
}

// appKey identifies an app across scans: its package name, or the file
// name when the manifest could not be read.
func appKey(pkg, target string) string {
	if pkg != "" {
		return pkg
	}
	return "file:" + filepath.Base(filepath.FromSlash(target))
}

// Apply removes from each result (in place) the findings already in the
// baseline and returns the counts and the fixed findings. Only apps present
// in results can have fixed findings: scanning one app of a batch does not
// declare the others fixed. A nil Baseline changes nothing.
func (b *Baseline) Apply(results []*appscan.Result) *Summary {
	if b == nil {
		return nil
	}
	s := &Summary{Path: b.Path, Fixed: []Fixed{}}
	for _, res := range results {
		if res == nil {
			continue
		}
		k := appKey(res.App.Package, res.Target.Path)
		// Copy the counts: the same app may appear twice in one scan
		// (an APK and its AAB), and each is compared with the full baseline.
		remaining := map[string][]appscan.Finding{}
		for fp, fs := range b.apps[k] {
			remaining[fp] = fs
		}
		kept := res.Findings[:0]
		for _, f := range res.Findings {
			fp := f.Fingerprint
			if fp == "" {
				f.ComputeFingerprint()
				fp = f.Fingerprint
			}
			if old := remaining[fp]; len(old) > 0 {
				remaining[fp] = old[1:]
				s.Unchanged++
				continue
			}
			kept = append(kept, f)
		}
		clear(res.Findings[len(kept):])
		res.Findings = kept
		s.New += len(kept)
		for _, fs := range remaining {
			for _, f := range fs {
				s.Fixed = append(s.Fixed, Fixed{Target: res.Target.Path, Package: res.App.Package, Finding: f})
			}
		}
	}
	sortFixed(s.Fixed)
	return s
}
