// Package catalog holds the DFS security recommendations: an embedded,
// versioned catalogue written in our own words from the ITU/FIGI material
// summarised in shared/domain.md, with the taxonomies used to slice it
// (layer, stakeholder, X.805 security dimension, X.1150 threat category,
// source book) and the links to the scanner rules that check the app-layer
// recommendations statically.
package catalog

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

//go:embed data/*.yaml data/recommendations/*.yaml
var dataFS embed.FS

// Term is one value of a taxonomy: a stable key and its display name.
type Term struct {
	Key         string `yaml:"key" json:"key"`
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
}

// Source is a document the catalogue draws on, cited by key.
type Source struct {
	Key   string `yaml:"key" json:"key"`
	Title string `yaml:"title" json:"title"`
	URL   string `yaml:"url,omitempty" json:"url,omitempty"`
	Book  string `yaml:"book,omitempty" json:"book,omitempty"`
}

// Taxonomy is every enumeration a recommendation is validated against.
type Taxonomy struct {
	Version      string    `yaml:"version" json:"version"`
	Released     time.Time `yaml:"released" json:"released"`
	Layers       []Term    `yaml:"layers" json:"layers"`
	Stakeholders []Term    `yaml:"stakeholders" json:"stakeholders"`
	Dimensions   []Term    `yaml:"dimensions" json:"dimensions"`
	Threats      []Term    `yaml:"threats" json:"threats"`
	Books        []Term    `yaml:"books" json:"books"`
	Sources      []Source  `yaml:"sources" json:"sources"`
}

// Reference ties a recommendation to an external standard clause, e.g.
// {standard: OWASP-MASVS, ref: MASVS-STORAGE-2}.
type Reference struct {
	Standard string `yaml:"standard" json:"standard"`
	Ref      string `yaml:"ref" json:"ref"`
}

// Check says how an examiner can establish compliance.
type Check string

// How a recommendation can be checked.
const (
	CheckStatic  Check = "static"  // by `dfslab scan` on the app binary
	CheckDynamic Check = "dynamic" // on a device or through a proxy
	CheckReview  Check = "review"  // by document, configuration or process review
)

// Recommendation is one entry of the catalogue.
type Recommendation struct {
	ID            string      `yaml:"id" json:"id"`
	Title         string      `yaml:"title" json:"title"`
	Statement     string      `yaml:"statement" json:"statement"`
	Rationale     string      `yaml:"rationale" json:"rationale"`
	Stakeholders  []string    `yaml:"stakeholders" json:"stakeholders"`
	Layer         string      `yaml:"layer" json:"layer"`
	Dimension     string      `yaml:"dimension" json:"dimension"`
	Threats       []string    `yaml:"threats" json:"threats"`
	AuditQuestion string      `yaml:"audit_question" json:"audit_question"`
	Evidence      []string    `yaml:"evidence" json:"evidence"`
	Book          string      `yaml:"book" json:"book"`
	Sources       []string    `yaml:"sources" json:"sources"`
	References    []Reference `yaml:"references,omitempty" json:"references,omitempty"`
	Check         Check       `yaml:"check" json:"check"`
	ScanRules     []string    `yaml:"scan_rules,omitempty" json:"scan_rules,omitempty"`
}

// Catalog is the loaded, validated catalogue.
type Catalog struct {
	Taxonomy
	Recommendations []Recommendation
	byID            map[string]int
}

var idPattern = regexp.MustCompile(`^(APP|CHN|TEL|PAY|GOV|USR)-[0-9]{3}$`)

// layerPrefix keeps IDs readable: the prefix says the layer at a glance.
var layerPrefix = map[string]string{
	"app": "APP", "channel": "CHN", "telecom": "TEL", "payment": "PAY", "governance": "GOV", "customer": "USR",
}

// defaultCatalog memoises the embedded catalogue: it never changes while
// the process runs, and the scanner asks for it on every Rules() call.
var defaultCatalog = sync.OnceValues(Load)

// Default returns the embedded catalogue, parsed once per process.
func Default() (*Catalog, error) { return defaultCatalog() }

// Load parses and validates the embedded catalogue.
func Load() (*Catalog, error) {
	return LoadFS(DataFS())
}

// LoadFS parses a catalogue laid out as the embedded one: taxonomy.yaml
// and recommendations/*.yaml. Tests use it on broken copies.
func LoadFS(fsys fs.FS) (*Catalog, error) {
	var c Catalog
	if err := decodeFile(fsys, "taxonomy.yaml", &c.Taxonomy); err != nil {
		return nil, err
	}
	files, err := fs.Glob(fsys, "recommendations/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	for _, f := range files {
		var recs []Recommendation
		if err := decodeFile(fsys, f, &recs); err != nil {
			return nil, err
		}
		c.Recommendations = append(c.Recommendations, recs...)
	}
	sort.Slice(c.Recommendations, func(i, j int) bool { return c.Recommendations[i].ID < c.Recommendations[j].ID })
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func decodeFile(fsys fs.FS, name string, v any) error {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true) // a misspelt field is an error, not a silently empty value
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("catalog: %s: %w", name, err)
	}
	return nil
}

// ValidationError lists every problem found, so one run shows them all.
type ValidationError struct{ Problems []string }

func (e *ValidationError) Error() string {
	return fmt.Sprintf("catalog: %d problem(s):\n  %s", len(e.Problems), strings.Join(e.Problems, "\n  "))
}

func keys(terms []Term) map[string]bool {
	m := make(map[string]bool, len(terms))
	for _, t := range terms {
		m[t.Key] = true
	}
	return m
}

func (c *Catalog) validate() error {
	var probs []string
	add := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	layers, stakeholders, dims, threats, books := keys(c.Layers), keys(c.Stakeholders), keys(c.Dimensions), keys(c.Threats), keys(c.Books)
	sources := map[string]bool{}
	for _, s := range c.Sources {
		if sources[s.Key] {
			add("source %s declared twice", s.Key)
		}
		sources[s.Key] = true
		if s.Book != "" && !books[s.Book] {
			add("source %s: unknown book %q", s.Key, s.Book)
		}
	}
	c.byID = make(map[string]int, len(c.Recommendations))
	for i, r := range c.Recommendations {
		where := r.ID
		if where == "" {
			where = fmt.Sprintf("recommendation #%d (%q)", i+1, r.Title)
		}
		if !idPattern.MatchString(r.ID) {
			add("%s: ID must look like APP-001", where)
		}
		if _, dup := c.byID[r.ID]; dup {
			add("%s: duplicate ID", where)
		}
		c.byID[r.ID] = i
		for field, v := range map[string]string{"title": r.Title, "statement": r.Statement, "rationale": r.Rationale, "audit_question": r.AuditQuestion} {
			if strings.TrimSpace(v) == "" {
				add("%s: %s is empty", where, field)
			}
		}
		if !layers[r.Layer] {
			add("%s: unknown layer %q", where, r.Layer)
		} else if p := layerPrefix[r.Layer]; p != "" && !strings.HasPrefix(r.ID, p+"-") {
			add("%s: layer %s wants the ID prefix %s-", where, r.Layer, p)
		}
		if !dims[r.Dimension] {
			add("%s: unknown X.805 dimension %q", where, r.Dimension)
		}
		if !books[r.Book] {
			add("%s: unknown book %q", where, r.Book)
		}
		if len(r.Stakeholders) == 0 {
			add("%s: no stakeholder", where)
		}
		for _, s := range r.Stakeholders {
			if !stakeholders[s] {
				add("%s: unknown stakeholder %q", where, s)
			}
		}
		if len(r.Threats) == 0 {
			add("%s: no threat category", where)
		}
		for _, t := range r.Threats {
			if !threats[t] {
				add("%s: unknown threat category %q", where, t)
			}
		}
		if len(r.Evidence) == 0 {
			add("%s: no evidence listed", where)
		}
		if len(r.Sources) == 0 {
			add("%s: no source", where)
		}
		for _, s := range r.Sources {
			if !sources[s] {
				add("%s: unknown source %q", where, s)
			}
		}
		switch r.Check {
		case CheckStatic, CheckDynamic, CheckReview:
		default:
			add("%s: check must be static, dynamic or review, not %q", where, r.Check)
		}
		if r.Check == CheckStatic && len(r.ScanRules) == 0 {
			add("%s: statically checkable but names no scan rule", where)
		}
		if r.Check != CheckStatic && len(r.ScanRules) > 0 {
			add("%s: names scan rules but check is %q", where, r.Check)
		}
	}
	if len(probs) > 0 {
		return &ValidationError{Problems: probs}
	}
	return nil
}

// ErrNotFound is returned for an unknown recommendation ID.
var ErrNotFound = errors.New("catalog: no such recommendation")

// Get returns the recommendation with the given ID.
func (c *Catalog) Get(id string) (*Recommendation, error) {
	i, ok := c.byID[id]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return &c.Recommendations[i], nil
}

// ForScanRule lists the IDs of the recommendations a scanner rule checks.
func (c *Catalog) ForScanRule(ruleID string) []string {
	var out []string
	for _, r := range c.Recommendations {
		if slices.Contains(r.ScanRules, ruleID) {
			out = append(out, r.ID)
		}
	}
	return out
}

// ScanRuleIndex maps every scanner rule ID to the recommendations that
// name it; the scanner uses it to fill RuleMeta.Mappings.DFSRecs.
func (c *Catalog) ScanRuleIndex() map[string][]string {
	idx := map[string][]string{}
	for _, r := range c.Recommendations {
		for _, id := range r.ScanRules {
			idx[id] = append(idx[id], r.ID)
		}
	}
	return idx
}

// TermName looks a key up in one of the taxonomies, for display.
func TermName(terms []Term, key string) string {
	for _, t := range terms {
		if t.Key == key {
			return t.Name
		}
	}
	return key
}

// DataFS is the embedded catalogue data (taxonomy.yaml, recommendations/).
func DataFS() fs.FS {
	sub, err := fs.Sub(dataFS, "data")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder exists
	}
	return sub
}
