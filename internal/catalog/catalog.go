// Package catalog holds the DFS security recommendations: an embedded,
// versioned catalogue written in our own words from the ITU/FIGI material
// summarised in shared/domain.md and from the industry standards it points
// to (GSMA, 3GPP, OWASP MAS, PCI, ISO/IEC), with the taxonomies used to
// slice it (layer, stakeholder, X.805 security dimension, X.1150 threat
// category, source book, priority) and the links to the scanner rules that
// check the app-layer recommendations statically.
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

// Source is a document the catalogue draws on, cited by key. Every source
// has a public URL so that an examiner can read what we paraphrased.
type Source struct {
	Key   string `yaml:"key" json:"key"`
	Title string `yaml:"title" json:"title"`
	URL   string `yaml:"url" json:"url"`
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
	Priorities   []Term    `yaml:"priorities" json:"priorities"`
	Sources      []Source  `yaml:"sources" json:"sources"`
}

// Release is one catalogue release and what changed in it (releases.yaml,
// newest first).
type Release struct {
	Version string   `yaml:"version" json:"version"`
	Date    string   `yaml:"date" json:"date"` // YYYY-MM-DD
	Notes   []string `yaml:"notes" json:"notes"`
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
//
// Statement is the text with every parameter at its default value; an item
// with parameters keeps the text with its {name} placeholders in Template,
// which [Recommendation.Render] fills with a baseline's own values.
type Recommendation struct {
	ID            string      `yaml:"id" json:"id"`
	Title         string      `yaml:"title" json:"title"`
	Statement     string      `yaml:"statement" json:"statement"`
	Template      string      `yaml:"-" json:"statement_template,omitempty"`
	Parameters    []Parameter `yaml:"parameters,omitempty" json:"parameters,omitempty"`
	Rationale     string      `yaml:"rationale" json:"rationale"`
	Priority      string      `yaml:"priority" json:"priority"`
	Stakeholders  []string    `yaml:"stakeholders" json:"stakeholders"`
	Layer         string      `yaml:"layer" json:"layer"`
	Dimensions    []string    `yaml:"dimensions" json:"dimensions"`
	Threats       []string    `yaml:"threats" json:"threats"`
	AuditQuestion string      `yaml:"audit_question" json:"audit_question"`
	Evidence      []string    `yaml:"evidence" json:"evidence"`
	Book          string      `yaml:"book" json:"book"`
	Sources       []string    `yaml:"sources" json:"sources"`
	// StrongerThanSource marks a statement that says "must" where every
	// source it rests on only says "should": the catalogue deliberately
	// raised the bar, and a regulator adopting it should know.
	StrongerThanSource bool        `yaml:"stronger_than_source,omitempty" json:"stronger_than_source,omitempty"`
	References         []Reference `yaml:"references,omitempty" json:"references,omitempty"`
	Checks             []Check     `yaml:"checks" json:"checks"`
	ScanRules          []string    `yaml:"scan_rules,omitempty" json:"scan_rules,omitempty"`
	// Withdrawn is the release that withdrew the item, ReplacedBy the live
	// item that took it over. A withdrawn ID is never reused: baselines
	// and reports published before still name it.
	Withdrawn  string `yaml:"withdrawn,omitempty" json:"withdrawn,omitempty"`
	ReplacedBy string `yaml:"replaced_by,omitempty" json:"replaced_by,omitempty"`
}

// IsWithdrawn reports whether a release withdrew the item.
func (r *Recommendation) IsWithdrawn() bool { return r.Withdrawn != "" }

// HasCheck reports whether the item can be checked in the given way.
func (r *Recommendation) HasCheck(k Check) bool { return slices.Contains(r.Checks, k) }

// Catalog is the loaded, validated catalogue. Recommendations holds the
// live items only, so every count, heat map, draft baseline and export
// built by ranging over it leaves withdrawn items out; Withdrawn keeps
// them for the pages and reports that still name them, and Get finds both.
type Catalog struct {
	Taxonomy
	Recommendations []Recommendation
	Withdrawn       []Recommendation
	Releases        []Release
	byID            map[string]int // index into Recommendations
	withdrawnByID   map[string]int // index into Withdrawn
}

var idPattern = regexp.MustCompile(`^(APP|CHN|TEL|PAY|GOV|USR)-[0-9]{3}$`)

// idMention finds recommendation IDs quoted in prose.
var idMention = regexp.MustCompile(`\b(APP|CHN|TEL|PAY|GOV|USR)-[0-9]{3}\b`)

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

// LoadFS parses a catalogue laid out as the embedded one: taxonomy.yaml,
// releases.yaml and recommendations/*.yaml. Tests use it on broken copies.
func LoadFS(fsys fs.FS) (*Catalog, error) {
	var c Catalog
	if err := decodeFile(fsys, "taxonomy.yaml", &c.Taxonomy); err != nil {
		return nil, err
	}
	if err := decodeFile(fsys, "releases.yaml", &c.Releases); err != nil {
		return nil, err
	}
	files, err := fs.Glob(fsys, "recommendations/*.yaml")
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	sort.Strings(files)
	var all []Recommendation
	for _, f := range files {
		var recs []Recommendation
		if err := decodeFile(fsys, f, &recs); err != nil {
			return nil, err
		}
		all = append(all, recs...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	for _, r := range all {
		if r.IsWithdrawn() {
			c.Withdrawn = append(c.Withdrawn, r)
		} else {
			c.Recommendations = append(c.Recommendations, r)
		}
	}
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

// normalise reduces a statement to what makes two statements the same
// requirement: case, spacing and punctuation do not.
func normalise(s string) string {
	var b strings.Builder
	for _, f := range strings.Fields(strings.ToLower(s)) {
		f = strings.Trim(f, ".,;:()\"'")
		if f != "" {
			b.WriteString(f)
			b.WriteByte(' ')
		}
	}
	return strings.TrimSpace(b.String())
}

func (c *Catalog) validate() error {
	var probs []string
	add := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	layers, stakeholders, dims, threats, books, prios := keys(c.Layers), keys(c.Stakeholders), keys(c.Dimensions), keys(c.Threats), keys(c.Books), keys(c.Priorities)
	sources := map[string]bool{}
	for _, s := range c.Sources {
		if sources[s.Key] {
			add("source %s declared twice", s.Key)
		}
		sources[s.Key] = true
		if s.Book != "" && !books[s.Book] {
			add("source %s: unknown book %q", s.Key, s.Book)
		}
		if !strings.HasPrefix(s.URL, "https://") || strings.ContainsAny(s.URL, " \t\n") {
			add("source %s: needs a public https URL, not %q", s.Key, s.URL)
		}
		if strings.TrimSpace(s.Title) == "" {
			add("source %s: no title", s.Key)
		}
	}
	c.validateReleases(add)
	c.byID = make(map[string]int, len(c.Recommendations))
	c.withdrawnByID = make(map[string]int, len(c.Withdrawn))
	statements := map[string]string{}
	for _, list := range []struct {
		recs      []Recommendation
		withdrawn bool
	}{{c.Recommendations, false}, {c.Withdrawn, true}} {
		for i := range list.recs {
			r := &list.recs[i]
			where := r.ID
			if where == "" {
				where = fmt.Sprintf("recommendation %q", r.Title)
			}
			if !idPattern.MatchString(r.ID) {
				add("%s: ID must look like APP-001", where)
			}
			_, dupLive := c.byID[r.ID]
			_, dupGone := c.withdrawnByID[r.ID]
			if dupLive || dupGone {
				add("%s: duplicate ID", where)
			}
			if list.withdrawn {
				c.withdrawnByID[r.ID] = i
			} else {
				c.byID[r.ID] = i
			}
			for field, v := range map[string]string{"title": r.Title, "statement": r.Statement, "rationale": r.Rationale, "audit_question": r.AuditQuestion} {
				if strings.TrimSpace(v) == "" {
					add("%s: %s is empty", where, field)
				}
			}
			if !list.withdrawn {
				// Two live items with one statement count one requirement twice
				// in every heat map; withdrawn items may repeat what replaced them.
				n := normalise(r.Statement)
				if other, dup := statements[n]; dup {
					add("%s: same statement as %s", where, other)
				}
				statements[n] = r.ID
			}
			if !layers[r.Layer] {
				add("%s: unknown layer %q", where, r.Layer)
			} else if p := layerPrefix[r.Layer]; p != "" && !strings.HasPrefix(r.ID, p+"-") {
				add("%s: layer %s wants the ID prefix %s-", where, r.Layer, p)
			}
			// Governance items (rules, licences, coordination) protect no
			// single X.805 dimension of a system; every other item names at
			// least one.
			if len(r.Dimensions) == 0 && r.Layer != "governance" {
				add("%s: no X.805 dimension (only governance items may have none)", where)
			}
			checkList(add, where, "X.805 dimension", r.Dimensions, dims)
			if !books[r.Book] {
				add("%s: unknown book %q", where, r.Book)
			}
			if !prios[r.Priority] {
				add("%s: unknown priority %q", where, r.Priority)
			}
			if len(r.Stakeholders) == 0 {
				add("%s: no stakeholder", where)
			}
			checkList(add, where, "stakeholder", r.Stakeholders, stakeholders)
			if len(r.Threats) == 0 {
				add("%s: no threat category", where)
			}
			checkList(add, where, "threat category", r.Threats, threats)
			if len(r.Evidence) == 0 {
				add("%s: no evidence listed", where)
			}
			if len(r.Sources) == 0 {
				add("%s: no source", where)
			}
			checkList(add, where, "source", r.Sources, sources)
			if r.StrongerThanSource && !strings.Contains(r.Statement, "must") {
				add("%s: marked stronger than its source but says no \"must\"", where)
			}
			c.validateChecks(add, where, r)
			if err := r.prepareParameters(); err != nil {
				add("%s: %v", where, err)
			}
		}
	}
	c.validateWithdrawals(add)
	if len(probs) > 0 {
		return &ValidationError{Problems: probs}
	}
	return nil
}

// checkList reports unknown and repeated values of one facet.
func checkList(add func(string, ...any), where, what string, values []string, known map[string]bool) {
	seen := map[string]bool{}
	for _, v := range values {
		if !known[v] {
			add("%s: unknown %s %q", where, what, v)
		}
		if seen[v] {
			add("%s: %s %q listed twice", where, what, v)
		}
		seen[v] = true
	}
}

func (c *Catalog) validateChecks(add func(string, ...any), where string, r *Recommendation) {
	if len(r.Checks) == 0 {
		add("%s: no check", where)
	}
	seen := map[Check]bool{}
	for _, k := range r.Checks {
		switch k {
		case CheckStatic, CheckDynamic, CheckReview:
		default:
			add("%s: check must be static, dynamic or review, not %q", where, k)
		}
		if seen[k] {
			add("%s: check %q listed twice", where, k)
		}
		seen[k] = true
	}
	if r.IsWithdrawn() {
		// The scanner maps its rules to live items only.
		if len(r.ScanRules) > 0 {
			add("%s: withdrawn but still names scan rules", where)
		}
		return
	}
	if seen[CheckStatic] && len(r.ScanRules) == 0 {
		add("%s: statically checkable but names no scan rule", where)
	}
	if !seen[CheckStatic] && len(r.ScanRules) > 0 {
		add("%s: names scan rules but is not statically checkable", where)
	}
}

// validateWithdrawals holds the rules that keep a withdrawn ID
// meaningful: it says in which release it went and which live item took
// it over, and no live item still points at it.
func (c *Catalog) validateWithdrawals(add func(string, ...any)) {
	releases := map[string]bool{}
	for _, rel := range c.Releases {
		releases[rel.Version] = true
	}
	for _, r := range c.Withdrawn {
		if !releases[r.Withdrawn] {
			add("%s: withdrawn in %q, which is no release in releases.yaml", r.ID, r.Withdrawn)
		}
		switch _, live := c.byID[r.ReplacedBy]; {
		case r.ReplacedBy == "":
			add("%s: withdrawn without replaced_by", r.ID)
		case !live:
			add("%s: replaced_by %s, which is not a live recommendation", r.ID, r.ReplacedBy)
		}
	}
	for _, r := range c.Recommendations {
		if r.ReplacedBy != "" {
			add("%s: replaced_by set on a live recommendation", r.ID)
		}
		for _, text := range append([]string{r.Statement, r.Rationale, r.AuditQuestion}, r.Evidence...) {
			for _, id := range idMention.FindAllString(text, -1) {
				if _, gone := c.withdrawnByID[id]; gone {
					add("%s: refers to withdrawn %s", r.ID, id)
				} else if _, live := c.byID[id]; !live {
					add("%s: refers to unknown %s", r.ID, id)
				}
			}
		}
	}
}

func (c *Catalog) validateReleases(add func(string, ...any)) {
	if len(c.Releases) == 0 {
		add("releases.yaml lists no release")
		return
	}
	if c.Releases[0].Version != c.Version {
		add("the newest release in releases.yaml is %q, the taxonomy says %q", c.Releases[0].Version, c.Version)
	}
	seen := map[string]bool{}
	for i, rel := range c.Releases {
		if seen[rel.Version] {
			add("release %s listed twice", rel.Version)
		}
		seen[rel.Version] = true
		if _, err := time.Parse(time.DateOnly, rel.Date); err != nil {
			add("release %s: date %q is not YYYY-MM-DD", rel.Version, rel.Date)
		}
		if i > 0 && rel.Date > c.Releases[i-1].Date {
			add("release %s: releases.yaml lists the newest first", rel.Version)
		}
		if len(rel.Notes) == 0 {
			add("release %s: no release notes", rel.Version)
		}
	}
}

// ErrNotFound is returned for an unknown recommendation ID.
var ErrNotFound = errors.New("catalog: no such recommendation")

// Get returns the recommendation with the given ID, live or withdrawn:
// baselines and reports published before a withdrawal still name it.
func (c *Catalog) Get(id string) (*Recommendation, error) {
	if i, ok := c.byID[id]; ok {
		return &c.Recommendations[i], nil
	}
	if i, ok := c.withdrawnByID[id]; ok {
		return &c.Withdrawn[i], nil
	}
	return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
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

// Live returns the item that now carries id: the item itself when it is
// live, the item that replaced it when a release withdrew it.
func (c *Catalog) Live(id string) (*Recommendation, error) {
	r, err := c.Get(id)
	if err != nil || !r.IsWithdrawn() {
		return r, err
	}
	return c.Get(r.ReplacedBy)
}
