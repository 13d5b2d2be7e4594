package catalog

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Unit is the unit of a parameter's value.
type Unit string

// The units parameters are given in. An examiner compares them with logs
// and contracts, so they are whole numbers of a plain unit.
const (
	Seconds Unit = "seconds"
	Minutes Unit = "minutes"
	Hours   Unit = "hours"
	Days    Unit = "days"
)

var singular = map[Unit]string{Seconds: "second", Minutes: "minute", Hours: "hour", Days: "day"}

// Parameter is a number in a recommendation's statement that a regulator
// may set in its baseline, for example the hold after a SIM swap. The
// catalogue recommends Default and considers values from Min to Max sound.
type Parameter struct {
	Name    string `yaml:"name" json:"name"`   // the {name} placeholder in the statement
	Label   string `yaml:"label" json:"label"` // what the number is, for forms and pages
	Default int    `yaml:"default" json:"default"`
	Unit    Unit   `yaml:"unit" json:"unit"`
	Min     int    `yaml:"min" json:"min"`
	Max     int    `yaml:"max" json:"max"`
	// set records which numbers the YAML gave: a missing default must be
	// an error, not a silent zero.
	set map[string]bool
}

var parameterFields = []string{"name", "label", "default", "unit", "min", "max"}

// UnmarshalYAML decodes a parameter and remembers which numbers were given.
func (p *Parameter) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a parameter is a mapping", n.Line)
	}
	p.set = map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		if !slices.Contains(parameterFields, k) {
			return fmt.Errorf("line %d: unknown parameter field %q", n.Content[i].Line, k)
		}
		p.set[k] = true
	}
	type plain Parameter // no UnmarshalYAML: no recursion
	var v plain
	if err := n.Decode(&v); err != nil {
		return err
	}
	v.set = p.set
	*p = Parameter(v)
	return nil
}

// Format writes a value with its unit: "48 hours", "1 day".
func (p Parameter) Format(v int) string {
	if v == 1 {
		if s, ok := singular[p.Unit]; ok {
			return "1 " + s
		}
	}
	return strconv.Itoa(v) + " " + string(p.Unit)
}

// Range is the sound range, for pages: "24–72 hours".
func (p Parameter) Range() string {
	return strconv.Itoa(p.Min) + "–" + strconv.Itoa(p.Max) + " " + string(p.Unit)
}

var placeholder = regexp.MustCompile(`\{([a-z][a-z0-9_]*)\}`)

// ErrParameter is wrapped by the errors of [Recommendation.Render].
var ErrParameter = errors.New("catalog: parameter")

// Render returns the statement with each parameter replaced by the value
// in values, or by its default when values does not name it. A regulator's
// baseline passes its own values; a name the item does not have, or a
// value outside the parameter's range, is an error wrapping ErrParameter.
func (r *Recommendation) Render(values map[string]int) (string, error) {
	for name, v := range values {
		p := r.Parameter(name)
		if p == nil {
			return "", fmt.Errorf("%w: %s has no parameter %q", ErrParameter, r.ID, name)
		}
		if v < p.Min || v > p.Max {
			return "", fmt.Errorf("%w: %s %s must be from %s, not %d", ErrParameter, r.ID, name, p.Range(), v)
		}
	}
	if r.Template == "" {
		return r.Statement, nil
	}
	return r.render(values), nil
}

// Parameter returns the named parameter, or nil.
func (r *Recommendation) Parameter(name string) *Parameter {
	for i := range r.Parameters {
		if r.Parameters[i].Name == name {
			return &r.Parameters[i]
		}
	}
	return nil
}

func (r *Recommendation) render(values map[string]int) string {
	return placeholder.ReplaceAllStringFunc(r.Template, func(m string) string {
		p := r.Parameter(m[1 : len(m)-1])
		if p == nil {
			return m // validation refuses this; keep it visible if it slips through
		}
		v, ok := values[p.Name]
		if !ok {
			v = p.Default
		}
		return p.Format(v)
	})
}

// prepareParameters checks the parameters against the statement and fills
// Template and Statement: the YAML statement is the template, and the
// statement every consumer shows is the template at the defaults.
func (r *Recommendation) prepareParameters() error {
	var probs []string
	seen := map[string]bool{}
	for _, p := range r.Parameters {
		switch {
		case p.Name == "" || !placeholder.MatchString("{"+p.Name+"}"):
			probs = append(probs, fmt.Sprintf("parameter %q: name must be lower case letters, digits and _", p.Name))
		case seen[p.Name]:
			probs = append(probs, fmt.Sprintf("parameter %q declared twice", p.Name))
		}
		seen[p.Name] = true
		for _, f := range []string{"default", "min", "max"} {
			if !p.set[f] {
				probs = append(probs, fmt.Sprintf("parameter %q has no %s", p.Name, f))
			}
		}
		if strings.TrimSpace(p.Label) == "" {
			probs = append(probs, fmt.Sprintf("parameter %q has no label", p.Name))
		}
		if _, ok := singular[p.Unit]; !ok {
			probs = append(probs, fmt.Sprintf("parameter %q: unknown unit %q", p.Name, p.Unit))
		}
		if p.Min > p.Default || p.Default > p.Max || p.Min < 0 {
			probs = append(probs, fmt.Sprintf("parameter %q: default %d outside its range %d–%d", p.Name, p.Default, p.Min, p.Max))
		}
	}
	used := map[string]bool{}
	for _, m := range placeholder.FindAllStringSubmatch(r.Statement, -1) {
		used[m[1]] = true
		if !seen[m[1]] {
			probs = append(probs, fmt.Sprintf("statement uses {%s}, which is no parameter", m[1]))
		}
	}
	for _, p := range r.Parameters {
		if !used[p.Name] {
			probs = append(probs, fmt.Sprintf("parameter %q does not appear in the statement", p.Name))
		}
	}
	if len(probs) > 0 {
		return errors.New(strings.Join(probs, "; "))
	}
	if len(r.Parameters) > 0 {
		r.Template = r.Statement
		r.Statement = r.render(nil)
	}
	return nil
}
