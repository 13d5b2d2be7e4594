package tabletop

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Format is the value of a scenario document's "format" key.
const Format = "dfslab-tabletop-scenario/1"

// MaxScenarioSize bounds a scenario document (import, edit).
const MaxScenarioSize = 256 << 10

// MaxOffset is the latest an inject may come in exercise time.
const MaxOffset = 30 * 24 * time.Hour

// Limits of a scenario's text and lists; a document over a limit is
// refused with the limit named, never cut.
const (
	maxTitle       = 200
	maxSummary     = 4000
	maxObjective   = 500
	maxRoleName    = 120
	maxRoleDesc    = 1000
	maxFrom        = 120
	maxContent     = 4000
	maxAction      = 1000
	maxObjectives  = 12
	maxRoles       = 20
	maxInjects     = 20
	maxActions     = 10 // per inject and group
	maxLinks       = 12 // recommendations or questions per action
	maxProblems    = 50
	maxTitleInject = 200
)

// Domain is a domain of cyber resilience; an exercise has one group per
// domain by default, and a scenario's expected actions are written per
// domain. The six are those of the resilience model's six-domain variant
// (a test keeps the names in step with it).
type Domain struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Domains lists the six domains in the order groups are created.
func Domains() []Domain {
	return []Domain{{"RM", "Risk management"}, {"GOV", "Governance"}, {"TST", "Testing"},
		{"TRA", "Training and awareness"}, {"PRO", "Protection"}, {"IR", "Incident response and recovery"}}
}

// DomainName is the name of domain id, or id itself when unknown.
func DomainName(id string) string {
	for _, d := range Domains() {
		if d.ID == id {
			return d.Name
		}
	}
	return id
}

func knownDomain(id string) bool {
	return slices.ContainsFunc(Domains(), func(d Domain) bool { return d.ID == id })
}

// EntityType is a kind of organisation that takes part in a scenario:
// the critical entities of the resilience toolkit plus the authorities
// and others around them.
type EntityType string

var entityTypes = []struct {
	t     EntityType
	label string
}{
	{"mno", "Mobile network operator"}, {"dfs_provider", "DFS provider or e-money issuer"}, {"bank", "Bank"},
	{"payment_switch", "Payment switch"}, {"third_party", "Third party or cloud provider"}, {"agent_network", "Agent network or super-dealer"},
	{"telecom_regulator", "Telecom regulator"}, {"central_bank", "Central bank or financial regulator"}, {"cert", "National CIRT or CERT"},
	{"data_protection", "Data-protection authority"}, {"consumer_protection", "Consumer protection body or ombudsman"},
	{"vendor", "Technology vendor"}, {"other", "Other"},
}

// EntityTypes lists the entity types in display order.
func EntityTypes() []EntityType {
	out := make([]EntityType, len(entityTypes))
	for i, e := range entityTypes {
		out[i] = e.t
	}
	return out
}

// Valid reports whether t is a known entity type.
func (t EntityType) Valid() bool { return slices.Contains(EntityTypes(), t) }

// Label is the entity type as people read it.
func (t EntityType) Label() string {
	for _, e := range entityTypes {
		if e.t == t {
			return e.label
		}
	}
	return string(t)
}

// Channel is how an inject reaches the players; the live view renders
// each like what it simulates.
type Channel string

var channels = []struct {
	c     Channel
	label string
}{
	{"news", "News article"}, {"sms", "SMS"}, {"call", "Phone call"}, {"social", "Social-media post"},
	{"alert", "System alert"}, {"complaint", "Customer complaint"}, {"email", "E-mail"},
	{"letter", "Letter or directive"}, {"report", "Report"},
}

// Channels lists the channels in display order.
func Channels() []Channel {
	out := make([]Channel, len(channels))
	for i, c := range channels {
		out[i] = c.c
	}
	return out
}

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool { return slices.Contains(Channels(), c) }

// Label is the channel as people read it.
func (c Channel) Label() string {
	for _, x := range channels {
		if x.c == c {
			return x.label
		}
	}
	return string(c)
}

// Scenario is a tabletop scenario: what the exercise is for, who the
// simulated actors are, and the injects released to the groups with the
// actions each group is expected to take.
type Scenario struct {
	Format      string       `yaml:"format" json:"-"`
	ID          string       `yaml:"id" json:"id"`
	Version     string       `yaml:"version" json:"version"`
	Title       string       `yaml:"title" json:"title"`
	Summary     string       `yaml:"summary" json:"summary"`
	Domains     []string     `yaml:"domains" json:"domains"`
	Objectives  []Objective  `yaml:"objectives" json:"objectives"`
	Roles       []Role       `yaml:"roles" json:"roles"`
	EntityTypes []EntityType `yaml:"entity_types" json:"entity_types"`
	Injects     []*Inject    `yaml:"injects" json:"injects"`
}

// Objective is what the exercise should show; the after-action report
// says whether each was met.
type Objective struct {
	ID   string `yaml:"id" json:"id"`
	Text string `yaml:"text" json:"text"`
}

// Role is an actor the scenario simulates (played by the participants of
// that entity type).
type Role struct {
	ID          string     `yaml:"id" json:"id"`
	Name        string     `yaml:"name" json:"name"`
	EntityType  EntityType `yaml:"entity_type" json:"entity_type"`
	Description string     `yaml:"description" json:"description,omitempty"`
}

// Inject is one event of the scenario, released at an offset in exercise
// time to its target groups.
type Inject struct {
	ID      string  `yaml:"id" json:"id"`
	At      string  `yaml:"at" json:"at"`
	Channel Channel `yaml:"channel" json:"channel"`
	From    string  `yaml:"from" json:"from"`
	Title   string  `yaml:"title" json:"title"`
	Content string  `yaml:"content" json:"content"`
	// Groups are the domain groups the inject is addressed to.
	Groups []string `yaml:"groups" json:"groups"`
	// Expected lists, per target group, the actions a debrief looks for.
	Expected map[string][]*Action `yaml:"expected" json:"expected"`

	// Offset is At parsed.
	Offset time.Duration `yaml:"-" json:"offset_seconds"`
	line   int
	lines  map[string]int // of each key's value, for problems
}

// lineOf is the line of the inject's key (the inject's own line when the
// key is absent).
func (in *Inject) lineOf(key string) int {
	if l := in.lines[key]; l > 0 {
		return l
	}
	return in.line
}

// Action is an action a group is expected to take on an inject, with
// what makes it possible: catalogue recommendations and resilience
// questions.
type Action struct {
	Action string `yaml:"action" json:"action"`
	// Owner is the entity type that owns the action ("" when the group
	// itself does).
	Owner           EntityType `yaml:"owner" json:"owner,omitempty"`
	Recommendations []string   `yaml:"recommendations" json:"recommendations"`
	Questions       []string   `yaml:"questions" json:"questions"`

	line int
}

// Key identifies a scenario version: ID@Version.
func (s *Scenario) Key() string { return s.ID + "@" + s.Version }

// Inject returns the inject with id, or nil.
func (s *Scenario) Inject(id string) *Inject {
	for _, in := range s.Injects {
		if in.ID == id {
			return in
		}
	}
	return nil
}

// Length is the offset of the last inject.
func (s *Scenario) Length() time.Duration {
	if len(s.Injects) == 0 {
		return 0
	}
	return s.Injects[len(s.Injects)-1].Offset
}

// Recommendations lists every recommendation the scenario links, sorted.
func (s *Scenario) Recommendations() []string {
	return s.links(func(a *Action) []string { return a.Recommendations })
}

// Questions lists every resilience question the scenario links, sorted.
func (s *Scenario) Questions() []string {
	return s.links(func(a *Action) []string { return a.Questions })
}

func (s *Scenario) links(of func(*Action) []string) []string {
	seen := map[string]bool{}
	for _, in := range s.Injects {
		for _, acts := range in.Expected {
			for _, a := range acts {
				for _, id := range of(a) {
					seen[id] = true
				}
			}
		}
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// ExpectedFor lists the inject's expected actions for a group covering
// domains, in domain order.
func (in *Inject) ExpectedFor(domains []string) []*Action {
	var out []*Action
	for _, d := range Domains() {
		if slices.Contains(domains, d.ID) {
			out = append(out, in.Expected[d.ID]...)
		}
	}
	return out
}

// FormatOffset writes an offset as the format does ("1d2h30m", "0m").
func FormatOffset(d time.Duration) string {
	if d <= 0 {
		return "0m"
	}
	var b strings.Builder
	if days := d / (24 * time.Hour); days > 0 {
		b.WriteString(strconv.FormatInt(int64(days), 10) + "d")
		d -= days * 24 * time.Hour
	}
	if h := d / time.Hour; h > 0 {
		b.WriteString(strconv.FormatInt(int64(h), 10) + "h")
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		b.WriteString(strconv.FormatInt(int64(m), 10) + "m")
		d -= m * time.Minute
	}
	if d > 0 {
		b.WriteString(strconv.FormatInt(int64(d/time.Second), 10) + "s")
	}
	return b.String()
}

// ParseOffset reads an offset in exercise time: an optional number of
// days ("1d") followed by a Go duration of hours, minutes and seconds
// ("2h30m"), e.g. "0m", "45m", "1d", "1d4h".
func ParseOffset(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty")
	}
	var d time.Duration
	if days, rest, ok := strings.Cut(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 30 {
			return 0, errors.New("the days must be a whole number from 0 to 30")
		}
		d, s = time.Duration(n)*24*time.Hour, rest
		if s == "" {
			return d, nil
		}
	}
	if strings.ContainsAny(s, "-+.") {
		return 0, errors.New("write whole hours, minutes and seconds, e.g. 1h30m")
	}
	x, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("write it as days, hours, minutes, e.g. 45m, 2h, 1d4h")
	}
	return d + x, nil
}

// Problem is one thing wrong with a scenario document, at a line.
type Problem struct {
	Line int    `json:"line,omitempty"`
	Msg  string `json:"message"`
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("line %d: %s", p.Line, p.Msg)
	}
	return p.Msg
}

// ValidationError lists the problems found in a scenario document.
type ValidationError struct{ Problems []Problem }

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("tabletop scenario: ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// ErrTooLarge refuses a scenario document over MaxScenarioSize.
var ErrTooLarge = fmt.Errorf("tabletop scenario: larger than %d KB", MaxScenarioSize>>10)

type problems []Problem

func (ps *problems) add(line int, format string, args ...any) {
	if len(*ps) < maxProblems {
		*ps = append(*ps, Problem{Line: line, Msg: fmt.Sprintf(format, args...)})
	}
}

// Refs tells which catalogue recommendations and resilience questions
// exist. A nil function accepts every well-formed ID (stored scenarios are
// read that way, so that a later catalogue change cannot make them
// unreadable).
type Refs struct {
	Recommendation func(id string) bool
	Question       func(id string) bool
}

var (
	idPattern  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	recPattern = regexp.MustCompile(`^[A-Z]{2,5}-[0-9]{3}$`)
	qPattern   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$`)
)

var (
	scenarioKeys  = []string{"format", "id", "version", "title", "summary", "domains", "objectives", "roles", "entity_types", "injects"}
	objectiveKeys = []string{"id", "text"}
	roleKeys      = []string{"id", "name", "entity_type", "description"}
	injectKeys    = []string{"id", "at", "channel", "from", "title", "content", "groups", "expected"}
	actionKeys    = []string{"action", "owner", "recommendations", "questions"}
)

// ParseScenario reads and validates a scenario document. Every problem
// names its line; a scenario is accepted whole or refused whole.
func ParseScenario(data []byte, refs Refs) (*Scenario, error) {
	if len(data) > MaxScenarioSize {
		return nil, ErrTooLarge
	}
	if !utf8.Valid(data) {
		return nil, &ValidationError{[]Problem{{Msg: "the document is not valid UTF-8 text"}}}
	}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &ValidationError{[]Problem{{Msg: "the document is empty"}}}
		}
		return nil, &ValidationError{[]Problem{syntaxProblem(err)}}
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, &ValidationError{[]Problem{{Line: max(doc.Line, 1), Msg: "the document must be a mapping (format, id, version, title, injects, …)"}}}
	}
	root := doc.Content[0]
	var ps problems
	checkNodes(root, &ps)
	if len(ps) > 0 {
		return nil, &ValidationError{ps}
	}
	checkKeys(root, "the scenario", scenarioKeys, &ps)
	eachItem(root, "objectives", func(_ int, n *yaml.Node) { checkKeys(n, "an objective", objectiveKeys, &ps) })
	eachItem(root, "roles", func(_ int, n *yaml.Node) { checkKeys(n, "a role", roleKeys, &ps) })
	eachItem(root, "injects", func(_ int, n *yaml.Node) {
		checkKeys(n, "an inject", injectKeys, &ps)
		// (Values of the wrong shape are reported by the decoder below.)
		if ex := valueOf(n, "expected"); ex != nil && ex.Kind == yaml.MappingNode {
			for i := 1; i < len(ex.Content); i += 2 {
				if ex.Content[i].Kind == yaml.SequenceNode {
					for _, a := range ex.Content[i].Content {
						checkKeys(a, "an expected action", actionKeys, &ps)
					}
				}
			}
		}
	})
	// Unknown keys are reported together with everything else; a value
	// of the wrong shape stops here, as nothing below can be trusted.
	var s Scenario
	if err := root.Decode(&s); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, e := range te.Errors {
				ps = append(ps, shapeProblem(e))
			}
		} else {
			ps = append(ps, syntaxProblem(err))
		}
		sortProblems(ps)
		return nil, &ValidationError{ps}
	}
	// Lines of injects and actions, for the problems found below.
	eachItem(root, "injects", func(i int, n *yaml.Node) {
		if i >= len(s.Injects) || s.Injects[i] == nil {
			return
		}
		in := s.Injects[i]
		in.line = n.Line
		in.lines = map[string]int{}
		for k := 0; k+1 < len(n.Content); k += 2 {
			in.lines[n.Content[k].Value] = n.Content[k+1].Line
		}
		ex := valueOf(n, "expected")
		if ex == nil {
			return
		}
		for k := 1; k < len(ex.Content); k += 2 {
			acts := in.Expected[ex.Content[k-1].Value]
			for j, a := range ex.Content[k].Content {
				if j < len(acts) && acts[j] != nil {
					acts[j].line = a.Line
				}
			}
		}
	})
	s.validate(root, refs, &ps)
	if len(ps) > 0 {
		sortProblems(ps)
		return nil, &ValidationError{ps}
	}
	return &s, nil
}

func sortProblems(ps problems) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Line < ps[j].Line })
}

func syntaxProblem(err error) Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n  ")
	line := 0
	if _, e := fmt.Sscanf(msg, "line %d:", &line); e == nil {
		_, msg, _ = strings.Cut(msg, ": ")
	}
	return Problem{Line: line, Msg: strings.ReplaceAll(msg, "\n  ", "; ")}
}

var shapePattern = regexp.MustCompile("^line ([0-9]+): cannot unmarshal !!([a-z]+)(?: `(.*)`)? into (.+)$")

// shapeProblem says in the format's words, not Go's, that a value has
// the wrong shape ("line 6: a list is needed here, not the text `IR`").
func shapeProblem(msg string) Problem {
	m := shapePattern.FindStringSubmatch(msg)
	if m == nil {
		return syntaxProblem(errors.New(msg))
	}
	line, _ := strconv.Atoi(m[1])
	found := map[string]string{"str": "the text", "seq": "a list", "map": "a mapping", "int": "the number", "float": "the number", "bool": "the value", "null": "nothing"}[m[2]]
	if found == "" {
		found = "a value"
	}
	if m[3] != "" {
		found += " `" + m[3] + "`"
	}
	want := "text"
	switch t := m[4]; {
	case strings.HasPrefix(t, "[]"):
		want = "a list"
	case strings.HasPrefix(t, "map["), strings.HasPrefix(t, "tabletop.") && !strings.Contains(t, "Channel") && !strings.Contains(t, "EntityType"):
		want = "a mapping"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "float"):
		want = "a number"
	}
	return Problem{Line: line, Msg: fmt.Sprintf("%s is needed here, not %s", want, found)}
}

// checkNodes refuses aliases and anchors anywhere (a small document must
// not expand into a large one) and tags other than the core schema's.
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
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func eachItem(n *yaml.Node, key string, fn func(i int, item *yaml.Node)) {
	if v := valueOf(n, key); v != nil && v.Kind == yaml.SequenceNode {
		for i, c := range v.Content {
			fn(i, c)
		}
	}
}

func lineOf(n *yaml.Node, key string) int {
	if v := valueOf(n, key); v != nil {
		return v.Line
	}
	return max(n.Line, 1)
}

func itemLine(n *yaml.Node, key string, i int) int {
	if v := valueOf(n, key); v != nil && v.Kind == yaml.SequenceNode && i < len(v.Content) {
		return v.Content[i].Line
	}
	return lineOf(n, key)
}

// checkText refuses (never cuts) text over max bytes and control
// characters other than newline and tab.
func checkText(ps *problems, line int, name, s string, maxLen int, required bool) {
	switch {
	case required && strings.TrimSpace(s) == "":
		ps.add(line, "%s is missing", name)
	case len(s) > maxLen:
		ps.add(line, "%s is longer than %d bytes (%d)", name, maxLen, len(s))
	case strings.ContainsFunc(s, func(r rune) bool { return (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r <= 0x9f) }):
		ps.add(line, "%s contains control characters", name)
	}
}

func (s *Scenario) validate(root *yaml.Node, refs Refs, ps *problems) {
	if s.Format != Format {
		ps.add(lineOf(root, "format"), "format must be %q", Format)
	}
	if !idPattern.MatchString(s.ID) {
		ps.add(lineOf(root, "id"), "id must be 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	if !idPattern.MatchString(s.Version) {
		ps.add(lineOf(root, "version"), "version must be 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	checkText(ps, lineOf(root, "title"), "title", s.Title, maxTitle, true)
	checkText(ps, lineOf(root, "summary"), "summary", s.Summary, maxSummary, true)

	dl := lineOf(root, "domains")
	if len(s.Domains) == 0 {
		ps.add(dl, "domains must list the domains the scenario stresses (%s)", domainList())
	}
	seen := map[string]bool{}
	for _, d := range s.Domains {
		if !knownDomain(d) {
			ps.add(dl, "unknown domain %q (known: %s)", d, domainList())
		} else if seen[d] {
			ps.add(dl, "domain %s listed twice", d)
		}
		seen[d] = true
	}

	if len(s.Objectives) == 0 || len(s.Objectives) > maxObjectives {
		ps.add(lineOf(root, "objectives"), "objectives must list 1 to %d objectives", maxObjectives)
	}
	ids := map[string]bool{}
	for i, o := range s.Objectives {
		l := itemLine(root, "objectives", i)
		if !idPattern.MatchString(o.ID) {
			ps.add(l, "objective id %q is not a valid id", o.ID)
		} else if ids[o.ID] {
			ps.add(l, "objective %s appears twice", o.ID)
		}
		ids[o.ID] = true
		checkText(ps, l, "objective "+o.ID+"'s text", o.Text, maxObjective, true)
	}

	if len(s.Roles) == 0 || len(s.Roles) > maxRoles {
		ps.add(lineOf(root, "roles"), "roles must list 1 to %d roles", maxRoles)
	}
	ids = map[string]bool{}
	for i, r := range s.Roles {
		l := itemLine(root, "roles", i)
		if !idPattern.MatchString(r.ID) {
			ps.add(l, "role id %q is not a valid id", r.ID)
		} else if ids[r.ID] {
			ps.add(l, "role %s appears twice", r.ID)
		}
		ids[r.ID] = true
		checkText(ps, l, "role "+r.ID+"'s name", r.Name, maxRoleName, true)
		checkText(ps, l, "role "+r.ID+"'s description", r.Description, maxRoleDesc, false)
		if !r.EntityType.Valid() {
			ps.add(l, "role %s: unknown entity type %q (known: %s)", r.ID, r.EntityType, entityTypeList())
		} else if !slices.Contains(s.EntityTypes, r.EntityType) {
			ps.add(l, "role %s: entity type %s is not among the scenario's entity_types", r.ID, r.EntityType)
		}
	}
	el := lineOf(root, "entity_types")
	if len(s.EntityTypes) == 0 {
		ps.add(el, "entity_types must list the types of organisation that take part (%s)", entityTypeList())
	}
	for _, t := range s.EntityTypes {
		if !t.Valid() {
			ps.add(el, "unknown entity type %q (known: %s)", t, entityTypeList())
		}
	}

	if len(s.Injects) == 0 || len(s.Injects) > maxInjects {
		ps.add(lineOf(root, "injects"), "injects must list 1 to %d injects", maxInjects)
	}
	ids = map[string]bool{}
	var last time.Duration
	for _, in := range s.Injects {
		if in == nil {
			ps.add(lineOf(root, "injects"), "an empty inject")
			continue
		}
		if !idPattern.MatchString(in.ID) {
			ps.add(in.line, "inject id %q is not a valid id", in.ID)
		} else if ids[in.ID] {
			ps.add(in.line, "inject %s appears twice", in.ID)
		}
		ids[in.ID] = true
		s.validateInject(in, refs, ps)
		if in.Offset < last {
			ps.add(in.line, "inject %s comes at %s, before the inject above it (%s): list injects in the order they come", in.ID, FormatOffset(in.Offset), FormatOffset(last))
		}
		last = max(last, in.Offset)
	}
}

func (s *Scenario) validateInject(in *Inject, refs Refs, ps *problems) {
	name := "inject " + in.ID
	d, err := ParseOffset(in.At)
	switch {
	case err != nil:
		ps.add(in.lineOf("at"), "%s: at %q: %v", name, in.At, err)
	case d > MaxOffset:
		ps.add(in.lineOf("at"), "%s: at %s is later than %s", name, in.At, FormatOffset(MaxOffset))
	default:
		in.Offset = d
	}
	if !in.Channel.Valid() {
		ps.add(in.lineOf("channel"), "%s: unknown channel %q (known: %s)", name, in.Channel, channelList())
	}
	checkText(ps, in.lineOf("from"), name+"'s from", in.From, maxFrom, true)
	checkText(ps, in.lineOf("title"), name+"'s title", in.Title, maxTitleInject, true)
	checkText(ps, in.lineOf("content"), name+"'s content", in.Content, maxContent, true)
	if len(in.Groups) == 0 {
		ps.add(in.lineOf("groups"), "%s: groups must name the domain groups it goes to (%s)", name, domainList())
	}
	seen := map[string]bool{}
	for _, g := range in.Groups {
		switch {
		case !knownDomain(g):
			ps.add(in.lineOf("groups"), "%s: unknown group %q (known: %s)", name, g, domainList())
		case seen[g]:
			ps.add(in.lineOf("groups"), "%s: group %s listed twice", name, g)
		case len(in.Expected[g]) == 0:
			ps.add(in.lineOf("expected"), "%s: no expected actions for group %s", name, g)
		}
		seen[g] = true
	}
	groups := make([]string, 0, len(in.Expected))
	for g := range in.Expected {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	for _, g := range groups {
		acts := in.Expected[g]
		if !seen[g] {
			ps.add(in.lineOf("expected"), "%s: expected actions for group %q, which is not among its groups", name, g)
			continue
		}
		if len(acts) > maxActions {
			ps.add(in.line, "%s: more than %d expected actions for group %s", name, maxActions, g)
		}
		for _, a := range acts {
			if a == nil {
				ps.add(in.line, "%s: an empty expected action for group %s", name, g)
				continue
			}
			l := cmpLine(a.line, in.line)
			checkText(ps, l, "an expected action", a.Action, maxAction, true)
			if a.Owner != "" && !a.Owner.Valid() {
				ps.add(l, "unknown owner %q (known: %s)", a.Owner, entityTypeList())
			}
			if len(a.Recommendations) == 0 && len(a.Questions) == 0 {
				ps.add(l, "an expected action links no recommendation and no question")
			}
			if len(a.Recommendations) > maxLinks || len(a.Questions) > maxLinks {
				ps.add(l, "an expected action links more than %d recommendations or questions", maxLinks)
			}
			for _, r := range a.Recommendations {
				if !recPattern.MatchString(r) || (refs.Recommendation != nil && !refs.Recommendation(r)) {
					ps.add(l, "unknown recommendation %q", r)
				}
			}
			for _, q := range a.Questions {
				if !qPattern.MatchString(q) || (refs.Question != nil && !refs.Question(q)) {
					ps.add(l, "unknown resilience question %q", q)
				}
			}
		}
	}
}

func cmpLine(a, b int) int {
	if a > 0 {
		return a
	}
	return b
}

func domainList() string {
	var ids []string
	for _, d := range Domains() {
		ids = append(ids, d.ID)
	}
	return strings.Join(ids, ", ")
}

func entityTypeList() string {
	var ids []string
	for _, t := range EntityTypes() {
		ids = append(ids, string(t))
	}
	return strings.Join(ids, ", ")
}

func channelList() string {
	var ids []string
	for _, c := range Channels() {
		ids = append(ids, string(c))
	}
	return strings.Join(ids, ", ")
}
