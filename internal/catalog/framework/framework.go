// Package framework reads other security frameworks, such as a central
// bank's own cyber guideline, so that the platform can map their controls
// to the recommendations of the catalogue. It understands two formats:
// dfslab's own small YAML format (docs/framework-import.md) and an OSCAL
// 1.1 catalog in JSON. Both parsers are pure: bytes in, a validated
// Framework or an error out. A file is either read whole or refused whole,
// so a caller never stores half a framework.
package framework

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Formats a file can be read in.
const (
	FormatYAML  = "yaml"
	FormatOSCAL = "oscal"
)

// Limits on what an import may hold. They keep one upload from filling
// the database or the pages; a real guideline is far below them.
const (
	MaxSize       = 4 << 20 // bytes of one file
	MaxControls   = 5000
	MaxMappings   = 50 // per control
	maxTitle      = 300
	maxText       = 20000
	maxNote       = 2000
	maxNameLength = 200 // publisher, version
)

// Relation says how a control relates to a recommendation.
type Relation string

// The relations of a mapping, read "the control is … the recommendation".
const (
	Equivalent Relation = "equivalent" // both ask for the same thing
	Subset     Relation = "subset"     // the control asks for part of the recommendation
	Superset   Relation = "superset"   // the control asks for more than the recommendation
	Related    Relation = "related"    // they overlap without either containing the other
)

// Relations lists the relations in the order forms show them.
func Relations() []Relation { return []Relation{Equivalent, Subset, Superset, Related} }

// Valid reports whether r is one of the four relations.
func (r Relation) Valid() bool {
	switch r {
	case Equivalent, Subset, Superset, Related:
		return true
	}
	return false
}

// Framework is one imported framework.
type Framework struct {
	ID        string // stable key, the same across versions of the framework
	Title     string
	Version   string // the publisher's version label
	Publisher string
	Format    string // FormatYAML or FormatOSCAL
	Controls  []Control
}

// Control is one control (requirement) of a framework.
type Control struct {
	ID       string
	Title    string
	Text     string
	Group    string // title of the group or chapter it sits in, "" if none
	Mappings []Mapping
}

// Mapping links a control to a recommendation of the catalogue.
type Mapping struct {
	RecID    string
	Relation Relation
	Note     string
}

// Known reports whether a recommendation ID exists in the catalogue.
type Known func(recID string) bool

// ErrTooLarge is returned for files above MaxSize.
var ErrTooLarge = fmt.Errorf("framework: file larger than %d bytes", MaxSize)

// ErrInvalid is matched (errors.Is) by every *ValidationError.
var ErrInvalid = errors.New("framework: invalid file")

// Problem is one thing wrong with a file, placed by line (YAML) or by
// JSON path (OSCAL).
type Problem struct {
	Line int    // 1-based; 0 when unknown or for OSCAL
	Path string // JSON path such as $.catalog.groups[0].controls[2].id
	Msg  string
}

func (p Problem) String() string {
	switch {
	case p.Line > 0:
		return fmt.Sprintf("line %d: %s", p.Line, p.Msg)
	case p.Path != "":
		return fmt.Sprintf("%s: %s", p.Path, p.Msg)
	}
	return p.Msg
}

// ValidationError lists the problems of a refused file (at most
// maxProblems, so a broken file gives a readable answer).
type ValidationError struct {
	Format   string
	Problems []Problem
}

const maxProblems = 20

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "framework: invalid %s file: ", e.Format)
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// problems collects what is wrong with a file.
type problems struct {
	format string
	list   []Problem
}

func (ps *problems) add(p Problem) {
	if len(ps.list) < maxProblems {
		ps.list = append(ps.list, p)
	}
}

func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	return &ValidationError{Format: ps.format, Problems: ps.list}
}

// idPattern bounds framework and control IDs: short, printable, no spaces,
// so they sit safely in URLs, CSV cells and audit entries.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:()/-]{0,63}$`)

// checkText reports what is wrong with a text field, or "".
func checkText(name, s string, max int, required bool) string {
	switch {
	case required && strings.TrimSpace(s) == "":
		return name + " is missing"
	case !utf8.ValidString(s):
		return name + " is not valid UTF-8"
	case len(s) > max:
		return fmt.Sprintf("%s is longer than %d bytes", name, max)
	case strings.ContainsRune(s, 0):
		return name + " contains a NUL character"
	}
	return ""
}

// validate checks what both formats share once the file is read: IDs,
// text lengths, unique control IDs, known recommendations, relations.
// at places a control's problem (line or path).
func (f *Framework) validate(ps *problems, at func(i int, field string, j int) Problem, top func(field string) Problem, known Known) {
	if !idPattern.MatchString(f.ID) {
		p := top("id")
		p.Msg = fmt.Sprintf("framework id %q must be 1-64 letters, digits or ._:()/- starting with a letter or digit", f.ID)
		ps.add(p)
	}
	for _, c := range []struct {
		name, v string
		max     int
		req     bool
	}{
		{"title", f.Title, maxTitle, true}, {"version", f.Version, maxNameLength, true}, {"publisher", f.Publisher, maxNameLength, false},
	} {
		if m := checkText(c.name, c.v, c.max, c.req); m != "" {
			p := top(c.name)
			p.Msg = "framework " + m
			ps.add(p)
		}
	}
	if len(f.Controls) == 0 {
		p := top("controls")
		p.Msg = "the framework has no controls"
		ps.add(p)
	}
	if len(f.Controls) > MaxControls {
		p := top("controls")
		p.Msg = fmt.Sprintf("%d controls, more than the limit of %d", len(f.Controls), MaxControls)
		ps.add(p)
		return
	}
	seen := make(map[string]bool, len(f.Controls))
	for i := range f.Controls {
		c := &f.Controls[i]
		badAt := func(field string, j int, format string, args ...any) {
			p := at(i, field, j)
			p.Msg = fmt.Sprintf("control %q: ", c.ID) + fmt.Sprintf(format, args...)
			ps.add(p)
		}
		bad := func(field, format string, args ...any) { badAt(field, -1, format, args...) }
		if !idPattern.MatchString(c.ID) {
			bad("id", "id must be 1-64 letters, digits or ._:()/- starting with a letter or digit")
		} else if seen[c.ID] {
			bad("id", "id used by an earlier control")
		}
		seen[c.ID] = true
		for _, t := range []struct {
			name, v string
			max     int
			req     bool
		}{
			{"title", c.Title, maxTitle, true}, {"text", c.Text, maxText, false}, {"group", c.Group, maxTitle, false},
		} {
			if m := checkText(t.name, t.v, t.max, t.req); m != "" {
				bad(t.name, "%s", m)
			}
		}
		if len(c.Mappings) > MaxMappings {
			bad("maps_to", "%d mappings, more than the limit of %d", len(c.Mappings), MaxMappings)
			continue
		}
		recs := map[string]bool{}
		for j, m := range c.Mappings {
			switch {
			case !known(m.RecID):
				badAt("maps_to", j, "maps to unknown recommendation %q", m.RecID)
			case recs[m.RecID]:
				badAt("maps_to", j, "maps to %s twice", m.RecID)
			}
			recs[m.RecID] = true
			if !m.Relation.Valid() {
				badAt("maps_to", j, "relation %q to %s is not one of equivalent, subset, superset, related", m.Relation, m.RecID)
			}
			if msg := checkText("note", m.Note, maxNote, false); msg != "" {
				badAt("maps_to", j, "mapping to %s: %s", m.RecID, msg)
			}
		}
	}
}

// Parse reads data in the given format (FormatYAML or FormatOSCAL).
func Parse(data []byte, format string, known Known) (*Framework, error) {
	switch format {
	case FormatYAML:
		return ParseYAML(data, known)
	case FormatOSCAL:
		return ParseOSCAL(data, known)
	}
	return nil, fmt.Errorf("framework: unknown format %q (want yaml or oscal)", format)
}

// Sniff guesses the format of data: an OSCAL catalog is a JSON object
// with a "catalog" member; everything else is taken for YAML.
func Sniff(data []byte) string {
	s := strings.TrimLeft(string(data[:min(len(data), 4096)]), " \t\r\n\ufeff")
	if strings.HasPrefix(s, "{") && strings.Contains(s, `"catalog"`) {
		return FormatOSCAL
	}
	return FormatYAML
}

// MappingCount is the number of mappings over all controls.
func (f *Framework) MappingCount() int {
	n := 0
	for _, c := range f.Controls {
		n += len(c.Mappings)
	}
	return n
}
