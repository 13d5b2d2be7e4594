// Package suppress reads the suppressions file (.dfslab-ignore.yaml) and
// applies it to scan results. A suppression silences one rule, optionally
// only at some locations, for a stated reason and usually until a date: the
// reason and the expiry keep accepted risks reviewable instead of forgotten.
package suppress

import (
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/appscan"
)

// DefaultFile is the file name the scan command looks for in the current
// directory when no --ignore flag is given.
const DefaultFile = ".dfslab-ignore.yaml"

// maxFileSize bounds the suppressions file: it is written by hand, so
// anything bigger is a mistake (or an attempt to exhaust memory).
const maxFileSize = 4 << 20

// Rule is one entry of the suppressions file.
type Rule struct {
	// RuleID is a rule ID or a glob over rule IDs (path.Match syntax), e.g. "DFS-NET-*".
	RuleID string `json:"rule"`
	// Location, when set, restricts the suppression to findings whose file,
	// manifest element, class or class.method matches it, either as a glob
	// (path.Match syntax) or as a plain prefix.
	Location string `json:"location,omitempty"`
	// App, when set, restricts the suppression to one package name.
	App    string `json:"app,omitempty"`
	Reason string `json:"reason"`
	// Expires is the last day on which the suppression applies (UTC); the
	// zero value means it never expires.
	Expires time.Time `json:"expires,omitzero"`
	// Line is where the entry starts in the file, for messages.
	Line int `json:"line,omitempty"`
}

// Expired reports whether the rule no longer applies at now: a rule
// expiring on 2026-12-31 still applies during that whole day (UTC).
func (r Rule) Expired(now time.Time) bool {
	if r.Expires.IsZero() {
		return false
	}
	return !now.Before(r.Expires.AddDate(0, 0, 1))
}

// Matches reports whether the rule covers finding f of the app with package
// pkg. Expiry is not considered here.
func (r Rule) Matches(pkg string, f appscan.Finding) bool {
	if !matchPattern(r.RuleID, f.RuleID) {
		return false
	}
	if r.App != "" && !matchPattern(r.App, pkg) {
		return false
	}
	if r.Location == "" {
		return true
	}
	l := f.Location
	candidates := []string{l.File, l.Element, l.Class}
	if l.Class != "" && l.Method != "" {
		candidates = append(candidates, l.Class+"."+l.Method)
	}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if matchPattern(r.Location, c) || strings.HasPrefix(c, r.Location) {
			return true
		}
	}
	return false
}

// matchPattern is an exact match or a path.Match glob. A malformed pattern
// was rejected when the file was parsed, so the error is ignored here.
func matchPattern(pattern, s string) bool {
	if pattern == s {
		return true
	}
	ok, _ := path.Match(pattern, s)
	return ok
}

// File is a parsed suppressions file.
type File struct {
	Path  string `json:"path"`
	Rules []Rule `json:"rules"`
}

// Suppressed is a finding that a suppression removed from the results; it
// is still listed in reports so that nothing disappears silently.
type Suppressed struct {
	Target  string          `json:"target"`  // scanned file
	Package string          `json:"package"` // app package
	Finding appscan.Finding `json:"finding"`
	Rule    Rule            `json:"suppression"`
}

// Outcome is what Apply did.
type Outcome struct {
	Suppressed []Suppressed `json:"suppressed"`
	// Expired lists the suppressions that have expired; they no longer
	// suppress anything and should be renewed or removed.
	Expired []Rule `json:"expired"`
	// Unused lists active suppressions that matched no finding.
	Unused []Rule `json:"unused,omitempty"`
}

// Apply removes the findings covered by an active suppression from each
// result (in place) and returns what it removed and which suppressions
// have expired. A nil File suppresses nothing.
func (f *File) Apply(results []*appscan.Result, now time.Time) Outcome {
	var out Outcome
	if f == nil {
		return out
	}
	var active []Rule
	for _, r := range f.Rules {
		if r.Expired(now) {
			out.Expired = append(out.Expired, r)
		} else {
			active = append(active, r)
		}
	}
	used := make([]bool, len(active))
	for _, res := range results {
		if res == nil {
			continue
		}
		kept := res.Findings[:0]
		for _, fd := range res.Findings {
			i := slices.IndexFunc(active, func(r Rule) bool { return r.Matches(res.App.Package, fd) })
			if i < 0 {
				kept = append(kept, fd)
				continue
			}
			used[i] = true
			out.Suppressed = append(out.Suppressed, Suppressed{
				Target: res.Target.Path, Package: res.App.Package, Finding: fd, Rule: active[i],
			})
		}
		clear(res.Findings[len(kept):]) // drop references held by the tail
		res.Findings = kept
	}
	for i, r := range active {
		if !used[i] {
			out.Unused = append(out.Unused, r)
		}
	}
	return out
}

// Error is a problem in a suppressions file, with the line it is on.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Load reads and parses a suppressions file.
func Load(name string) (*File, error) {
	fh, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("suppressions: %w", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("suppressions: read %s: %w", name, err)
	}
	if len(data) > maxFileSize {
		return nil, &Error{File: name, Msg: fmt.Sprintf("file larger than %d bytes", maxFileSize)}
	}
	return Parse(name, data)
}
