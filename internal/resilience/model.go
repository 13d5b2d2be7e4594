package resilience

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Format is the value of a model document's "format" key.
const Format = "dfslab-resilience-model/1"

// MaxModelSize bounds an imported model document.
const MaxModelSize = 1 << 20

// MinLevel and MaxLevel bound the ordinal answer scale of every question.
const (
	MinLevel = 0
	MaxLevel = 5
)

// Model is an assessment model: domains of questions answered on the
// 0–5 scale, each level described as an assessor would see it. Models are
// data (docs/resilience-models.md); the built-in DFS cyber resilience
// model is embedded, platform administrators import others.
type Model struct {
	Format      string          `yaml:"format"`
	ID          string          `yaml:"id"`
	Version     string          `yaml:"version"`
	Title       string          `yaml:"title"`
	Description string          `yaml:"description"`
	Levels      []MaturityLevel `yaml:"maturity_levels"`
	Targets     Targets         `yaml:"targets"`
	Variants    []Variant       `yaml:"variants"`
	Domains     []*Domain       `yaml:"domains"`

	byQuestion map[string]*Question
}

// MaturityLevel names the scores from From upwards (up to the next level).
type MaturityLevel struct {
	From float64 `yaml:"from"`
	Name string  `yaml:"name"`
}

// Targets are target domain scores by inherent-risk level.
type Targets map[RiskLevel]float64

// Variant is a selection of domains assessed together, such as the six
// domains of the toolkit or the five pillars without protection.
type Variant struct {
	ID      string   `yaml:"id"`
	Name    string   `yaml:"name"`
	Domains []string `yaml:"domains"`
}

// Domain is a domain of cyber resilience with its questions.
type Domain struct {
	ID          string      `yaml:"id"`
	Name        string      `yaml:"name"`
	Description string      `yaml:"description"`
	Weight      float64     `yaml:"weight"`
	Targets     Targets     `yaml:"targets"` // optional: overrides Model.Targets for this domain
	Questions   []*Question `yaml:"questions"`

	line int
}

// Question is one question of a domain.
type Question struct {
	ID   string `yaml:"id"`
	Text string `yaml:"text"`
	Help string `yaml:"help"`
	// Weight is the question's share of its domain score (default 1).
	Weight float64 `yaml:"weight"`
	// AppliesTo lists the entity types the question applies to; empty:
	// all of them.
	AppliesTo []EntityType `yaml:"applies_to"`
	// Recommendations are catalogue recommendation IDs whose
	// implementation raises the answer.
	Recommendations []string `yaml:"recommendations"`
	// Levels describes what an assessor sees at each level 0–5.
	Levels map[int]string `yaml:"levels"`

	domain *Domain
	line   int
}

// Domain returns the domain the question belongs to.
func (q *Question) Domain() *Domain { return q.domain }

// Applies reports whether the question applies to entity type t.
func (q *Question) Applies(t EntityType) bool {
	return len(q.AppliesTo) == 0 || slices.Contains(q.AppliesTo, t)
}

// Key identifies a model version: ID@Version.
func (m *Model) Key() string { return m.ID + "@" + m.Version }

// Question returns the question with id, or nil.
func (m *Model) Question(id string) *Question { return m.byQuestion[id] }

// Domain returns the domain with id, or nil.
func (m *Model) Domain(id string) *Domain {
	for _, d := range m.Domains {
		if d.ID == id {
			return d
		}
	}
	return nil
}

// Variant returns the variant with id, or nil.
func (m *Model) Variant(id string) *Variant {
	for i := range m.Variants {
		if m.Variants[i].ID == id {
			return &m.Variants[i]
		}
	}
	return nil
}

// DefaultVariant is the first variant.
func (m *Model) DefaultVariant() string { return m.Variants[0].ID }

// DomainsOf returns the domains of a variant in model order.
func (m *Model) DomainsOf(variant string) []*Domain {
	v := m.Variant(variant)
	if v == nil {
		return nil
	}
	var out []*Domain
	for _, d := range m.Domains {
		if slices.Contains(v.Domains, d.ID) {
			out = append(out, d)
		}
	}
	return out
}

// LevelName is the maturity level name of a score.
func (m *Model) LevelName(score float64) string {
	name := m.Levels[0].Name
	for _, l := range m.Levels {
		if score+1e-9 >= l.From {
			name = l.Name
		}
	}
	return name
}

// Target is domain d's target score at risk level r.
func (m *Model) Target(d *Domain, r RiskLevel) float64 {
	if t, ok := d.Targets[r]; ok {
		return t
	}
	return m.Targets[r]
}

// Problem is one thing wrong with a model document, at a line.
type Problem struct {
	Line int
	Msg  string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("line %d: %s", p.Line, p.Msg)
	}
	return p.Msg
}

// ValidationError lists every problem found in a model document.
type ValidationError struct{ Problems []Problem }

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("resilience model: ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// ErrTooLarge refuses a model document over MaxModelSize.
var ErrTooLarge = fmt.Errorf("resilience model: larger than %d bytes", MaxModelSize)

const maxProblems = 50

type problems []Problem

func (ps *problems) add(line int, format string, args ...any) {
	if len(*ps) < maxProblems {
		*ps = append(*ps, Problem{Line: line, Msg: fmt.Sprintf(format, args...)})
	}
}

// Known tells whether a catalogue recommendation ID exists; nil accepts
// every well-formed ID.
type Known func(id string) bool

var (
	idPattern  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	recPattern = regexp.MustCompile(`^[A-Z]{2,5}-[0-9]{3}$`)
)

// ParseModel reads and validates a model document. Every problem names
// its line; unknown keys, missing level descriptions, unknown entity types
// and recommendation IDs that known rejects are errors, so that a model
// either works exactly like the built-in one or is refused whole.
func ParseModel(data []byte, known Known) (*Model, error) {
	if len(data) > MaxModelSize {
		return nil, ErrTooLarge
	}
	var ps problems
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &ValidationError{[]Problem{{Msg: "the document is empty"}}}
		}
		return nil, &ValidationError{[]Problem{syntaxProblem(err)}}
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, &ValidationError{[]Problem{{Line: max(doc.Line, 1), Msg: "the document must be a mapping (format, id, version, title, domains, …)"}}}
	}
	root := doc.Content[0]
	checkNodes(root, &ps)
	checkKeys(root, "the model", modelKeys, &ps)
	if len(ps) > 0 {
		return nil, &ValidationError{ps}
	}
	var m Model
	if err := root.Decode(&m); err != nil {
		return nil, &ValidationError{[]Problem{syntaxProblem(err)}}
	}
	// Lines of domains and questions, and unknown keys inside them.
	if dn := valueOf(root, "domains"); dn != nil && dn.Kind == yaml.SequenceNode {
		for i, d := range dn.Content {
			if i < len(m.Domains) && m.Domains[i] != nil {
				m.Domains[i].line = d.Line
			}
			checkKeys(d, "a domain", domainKeys, &ps)
			qn := valueOf(d, "questions")
			if qn == nil || qn.Kind != yaml.SequenceNode || i >= len(m.Domains) || m.Domains[i] == nil {
				continue
			}
			for j, q := range qn.Content {
				checkKeys(q, "a question", questionKeys, &ps)
				if j < len(m.Domains[i].Questions) && m.Domains[i].Questions[j] != nil {
					m.Domains[i].Questions[j].line = q.Line
				}
			}
		}
	}
	m.validate(root, known, &ps)
	if len(ps) > 0 {
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].Line < ps[j].Line })
		return nil, &ValidationError{ps}
	}
	return &m, nil
}

var (
	modelKeys    = []string{"format", "id", "version", "title", "description", "maturity_levels", "targets", "variants", "domains"}
	domainKeys   = []string{"id", "name", "description", "weight", "targets", "questions"}
	questionKeys = []string{"id", "text", "help", "weight", "applies_to", "recommendations", "levels"}
)

func syntaxProblem(err error) Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n  ")
	line := 0
	if _, e := fmt.Sscanf(msg, "line %d:", &line); e == nil {
		_, msg, _ = strings.Cut(msg, ": ")
	}
	return Problem{Line: line, Msg: strings.ReplaceAll(msg, "\n  ", "; ")}
}

// checkNodes refuses aliases and anchors anywhere (a small file must not
// expand into a large one).
func checkNodes(n *yaml.Node, ps *problems) {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		ps.add(n.Line, "YAML anchors and aliases are not accepted")
		return
	}
	for _, c := range n.Content {
		checkNodes(c, ps)
	}
}

func checkKeys(n *yaml.Node, what string, allowed []string, ps *problems) {
	if n.Kind != yaml.MappingNode {
		ps.add(n.Line, "%s must be a mapping", what)
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !slices.Contains(allowed, k.Value) {
			ps.add(k.Line, "unknown key %q in %s (allowed: %s)", k.Value, what, strings.Join(allowed, ", "))
		}
		if seen[k.Value] {
			ps.add(k.Line, "key %q repeated in %s", k.Value, what)
		}
		seen[k.Value] = true
	}
}

func valueOf(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func lineOr(n *yaml.Node, key string, def int) int {
	if v := valueOf(n, key); v != nil {
		return v.Line
	}
	return def
}

func checkModelText(ps *problems, line int, name, s string, maxLen int, required bool) {
	switch {
	case required && strings.TrimSpace(s) == "":
		ps.add(line, "%s is missing", name)
	case !utf8.ValidString(s):
		ps.add(line, "%s is not valid UTF-8", name)
	case len(s) > maxLen:
		ps.add(line, "%s is longer than %d bytes", name, maxLen)
	case strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' }):
		ps.add(line, "%s contains control characters", name)
	}
}

func (m *Model) validate(root *yaml.Node, known Known, ps *problems) {
	if m.Format != Format {
		ps.add(lineOr(root, "format", 1), "format must be %q", Format)
	}
	if !idPattern.MatchString(m.ID) {
		ps.add(lineOr(root, "id", 1), "id must be 1–64 letters, digits, '.', '_' or '-'")
	}
	if !idPattern.MatchString(m.Version) {
		ps.add(lineOr(root, "version", 1), "version must be 1–64 letters, digits, '.', '_' or '-'")
	}
	checkModelText(ps, lineOr(root, "title", 1), "title", m.Title, 200, true)
	checkModelText(ps, lineOr(root, "description", 1), "description", m.Description, 4000, false)

	lv := lineOr(root, "maturity_levels", 1)
	if len(m.Levels) < 2 || len(m.Levels) > 10 {
		ps.add(lv, "maturity_levels must name 2 to 10 levels")
	}
	for i, l := range m.Levels {
		checkModelText(ps, lv, fmt.Sprintf("maturity level %d's name", i+1), l.Name, 60, true)
		if l.From < MinLevel || l.From > MaxLevel {
			ps.add(lv, "maturity level %q starts at %g, outside %d–%d", l.Name, l.From, MinLevel, MaxLevel)
		}
		if i == 0 && l.From != MinLevel {
			ps.add(lv, "the first maturity level must start at %d", MinLevel)
		}
		if i > 0 && l.From <= m.Levels[i-1].From {
			ps.add(lv, "maturity levels must start at rising scores (%q after %q)", l.Name, m.Levels[i-1].Name)
		}
	}
	checkTargets(ps, lineOr(root, "targets", 1), "targets", m.Targets, true)

	domainIDs := map[string]bool{}
	m.byQuestion = map[string]*Question{}
	if len(m.Domains) == 0 {
		ps.add(lineOr(root, "domains", 1), "the model has no domains")
	}
	for _, d := range m.Domains {
		if d == nil {
			ps.add(lineOr(root, "domains", 1), "an empty domain")
			continue
		}
		if !idPattern.MatchString(d.ID) {
			ps.add(d.line, "domain id %q is not a valid id", d.ID)
		}
		if domainIDs[d.ID] {
			ps.add(d.line, "domain %q appears twice", d.ID)
		}
		domainIDs[d.ID] = true
		checkModelText(ps, d.line, "domain "+d.ID+"'s name", d.Name, 120, true)
		checkModelText(ps, d.line, "domain "+d.ID+"'s description", d.Description, 2000, false)
		if d.Weight == 0 {
			d.Weight = 1
		}
		if d.Weight < 0 || d.Weight > 100 {
			ps.add(d.line, "domain %s: weight must be between 0 and 100", d.ID)
		}
		checkTargets(ps, d.line, "domain "+d.ID+"'s targets", d.Targets, false)
		if len(d.Questions) == 0 {
			ps.add(d.line, "domain %s has no questions", d.ID)
		}
		for _, q := range d.Questions {
			if q == nil {
				ps.add(d.line, "domain %s: an empty question", d.ID)
				continue
			}
			q.domain = d
			m.validateQuestion(q, known, ps)
		}
	}

	if len(m.Variants) == 0 {
		// One variant of every domain, so that callers never special-case.
		v := Variant{ID: "all", Name: "All domains"}
		for _, d := range m.Domains {
			if d != nil {
				v.Domains = append(v.Domains, d.ID)
			}
		}
		m.Variants = []Variant{v}
	}
	vl := lineOr(root, "variants", 1)
	seen := map[string]bool{}
	for _, v := range m.Variants {
		if !idPattern.MatchString(v.ID) || seen[v.ID] {
			ps.add(vl, "variant id %q is not valid or appears twice", v.ID)
		}
		seen[v.ID] = true
		checkModelText(ps, vl, "variant "+v.ID+"'s name", v.Name, 120, true)
		if len(v.Domains) == 0 {
			ps.add(vl, "variant %s has no domains", v.ID)
		}
		for _, id := range v.Domains {
			if !domainIDs[id] {
				ps.add(vl, "variant %s names unknown domain %q", v.ID, id)
			}
		}
	}
}

func (m *Model) validateQuestion(q *Question, known Known, ps *problems) {
	if !idPattern.MatchString(q.ID) {
		ps.add(q.line, "question id %q is not a valid id", q.ID)
	}
	if _, dup := m.byQuestion[q.ID]; dup {
		ps.add(q.line, "question %q appears twice", q.ID)
	}
	m.byQuestion[q.ID] = q
	checkModelText(ps, q.line, "question "+q.ID+"'s text", q.Text, 1000, true)
	checkModelText(ps, q.line, "question "+q.ID+"'s help", q.Help, 4000, false)
	if q.Weight == 0 {
		q.Weight = 1
	}
	if q.Weight < 0 || q.Weight > 100 {
		ps.add(q.line, "question %s: weight must be between 0 and 100", q.ID)
	}
	for _, t := range q.AppliesTo {
		if !t.Valid() {
			ps.add(q.line, "question %s: unknown entity type %q (known: %s)", q.ID, t, entityTypeList())
		}
	}
	for l := MinLevel; l <= MaxLevel; l++ {
		desc, ok := q.Levels[l]
		if !ok {
			ps.add(q.line, "question %s: level %d is not described (every level %d–%d says what an assessor would see)", q.ID, l, MinLevel, MaxLevel)
			continue
		}
		checkModelText(ps, q.line, fmt.Sprintf("question %s level %d", q.ID, l), desc, 1000, true)
	}
	for l := range q.Levels {
		if l < MinLevel || l > MaxLevel {
			ps.add(q.line, "question %s: level %d is outside %d–%d", q.ID, l, MinLevel, MaxLevel)
		}
	}
	if len(q.Recommendations) == 0 {
		ps.add(q.line, "question %s links no recommendation", q.ID)
	}
	for _, r := range q.Recommendations {
		if !recPattern.MatchString(r) || (known != nil && !known(r)) {
			ps.add(q.line, "question %s: unknown recommendation %q", q.ID, r)
		}
	}
}

func checkTargets(ps *problems, line int, name string, t Targets, required bool) {
	for r, v := range t {
		if !r.Valid() {
			ps.add(line, "%s: unknown risk level %q (known: %s)", name, r, riskLevelList())
		}
		if v < MinLevel || v > MaxLevel {
			ps.add(line, "%s: %s target %g is outside %d–%d", name, r, v, MinLevel, MaxLevel)
		}
	}
	if required {
		for _, r := range RiskLevels() {
			if _, ok := t[r]; !ok {
				ps.add(line, "%s: no target for risk level %q", name, r)
			}
		}
	}
}
