package framework

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The YAML parsers walk the document's node tree rather than decoding
// into structs: that way every problem, not only syntax errors, can name
// its line, and an unknown or misspelt key is refused instead of dropped.

// yamlDoc reads data into the root mapping node.
func yamlDoc(data []byte, ps *problems) *yaml.Node {
	if len(data) > MaxSize {
		return nil
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := 0
		if _, err := fmt.Sscanf(msg, "line %d:", &line); err == nil {
			_, msg, _ = strings.Cut(msg, ": ")
		}
		if errors.Is(err, io.EOF) {
			msg = "the file is empty"
		}
		ps.add(Problem{Line: line, Msg: msg})
		return nil
	}
	var more yaml.Node
	if err := dec.Decode(&more); err == nil {
		ps.add(Problem{Line: more.Line, Msg: "a second YAML document; a file holds one framework"})
		return nil
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		ps.add(Problem{Line: max(doc.Line, 1), Msg: "the document must be a mapping with id, title, version and controls"})
		return nil
	}
	return doc.Content[0]
}

// fields returns the values of a mapping node by key, reporting keys that
// are not allowed, repeated keys and aliases (refused so that a small file
// cannot expand into a large one).
func fields(n *yaml.Node, what string, allowed []string, ps *problems) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || !slices.Contains(allowed, k.Value) {
			ps.add(Problem{Line: k.Line, Msg: fmt.Sprintf("unknown key %q in %s (allowed: %s)", k.Value, what, strings.Join(allowed, ", "))})
			continue
		}
		if _, dup := out[k.Value]; dup {
			ps.add(Problem{Line: k.Line, Msg: fmt.Sprintf("key %q repeated in %s", k.Value, what)})
			continue
		}
		if v.Kind == yaml.AliasNode || v.Anchor != "" {
			ps.add(Problem{Line: v.Line, Msg: "YAML anchors and aliases are not accepted"})
			continue
		}
		out[k.Value] = v
	}
	return out
}

// scalar returns the text of a scalar node ("" for null or absent).
func scalar(n *yaml.Node, name string, ps *problems) string {
	if n == nil || n.Tag == "!!null" {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		ps.add(Problem{Line: n.Line, Msg: name + " must be text"})
		return ""
	}
	return n.Value
}

func sequence(n *yaml.Node, name string, ps *problems) []*yaml.Node {
	if n == nil || n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		ps.add(Problem{Line: n.Line, Msg: name + " must be a list"})
		return nil
	}
	out := make([]*yaml.Node, 0, len(n.Content))
	for _, it := range n.Content {
		if it.Kind == yaml.AliasNode || it.Anchor != "" {
			ps.add(Problem{Line: it.Line, Msg: "YAML anchors and aliases are not accepted"})
			continue
		}
		out = append(out, it)
	}
	return out
}

// lineOf is the line of a node, or of its parent when it is absent.
func lineOf(n, parent *yaml.Node) int {
	if n != nil {
		return n.Line
	}
	return parent.Line
}

// ParseYAML reads a framework in dfslab's YAML format
// (docs/framework-import.md). Every mapping must name a recommendation
// that known accepts.
func ParseYAML(data []byte, known Known) (*Framework, error) {
	if len(data) > MaxSize {
		return nil, ErrTooLarge
	}
	ps := &problems{format: FormatYAML}
	root := yamlDoc(data, ps)
	if root == nil {
		return nil, ps.err()
	}
	top := fields(root, "the framework", []string{"id", "title", "version", "publisher", "controls"}, ps)
	f := &Framework{Format: FormatYAML,
		ID: scalar(top["id"], "id", ps), Title: scalar(top["title"], "title", ps),
		Version: scalar(top["version"], "version", ps), Publisher: scalar(top["publisher"], "publisher", ps)}
	items := sequence(top["controls"], "controls", ps)
	if len(items) > MaxControls {
		ps.add(Problem{Line: top["controls"].Line, Msg: fmt.Sprintf("%d controls, more than the limit of %d", len(items), MaxControls)})
		return nil, ps.err()
	}
	lines := make([]map[string]int, 0, len(items))
	mapLines := make([][]int, 0, len(items)) // line of each mapping
	for _, it := range items {
		if it.Kind != yaml.MappingNode {
			ps.add(Problem{Line: it.Line, Msg: "each control must be a mapping with id, title and text"})
			continue
		}
		cf := fields(it, "a control", []string{"id", "title", "text", "group", "relation", "maps_to"}, ps)
		c := Control{ID: scalar(cf["id"], "id", ps), Title: scalar(cf["title"], "title", ps),
			Text: strings.TrimSpace(scalar(cf["text"], "text", ps)), Group: scalar(cf["group"], "group", ps)}
		// A plain entry of maps_to takes the control's relation; written
		// out as a mapping it can carry its own relation and a note.
		rel := Relation(scalar(cf["relation"], "relation", ps))
		if rel == "" {
			rel = Related
		}
		ln := map[string]int{"id": lineOf(cf["id"], it), "title": lineOf(cf["title"], it), "text": lineOf(cf["text"], it),
			"group": lineOf(cf["group"], it), "maps_to": lineOf(cf["maps_to"], it)}
		var ml []int
		for _, m := range sequence(cf["maps_to"], "maps_to", ps) {
			ml = append(ml, m.Line)
			switch m.Kind {
			case yaml.ScalarNode:
				c.Mappings = append(c.Mappings, Mapping{RecID: strings.ToUpper(m.Value), Relation: rel})
			case yaml.MappingNode:
				mf := fields(m, "a mapping", []string{"rec", "relation", "note"}, ps)
				mp := Mapping{RecID: strings.ToUpper(scalar(mf["rec"], "rec", ps)), Relation: Relation(scalar(mf["relation"], "relation", ps)),
					Note: strings.TrimSpace(scalar(mf["note"], "note", ps))}
				if mp.Relation == "" {
					mp.Relation = rel
				}
				c.Mappings = append(c.Mappings, mp)
			default:
				ps.add(Problem{Line: m.Line, Msg: "a maps_to entry is a recommendation ID or a mapping with rec, relation and note"})
			}
		}
		f.Controls = append(f.Controls, c)
		lines = append(lines, ln)
		mapLines = append(mapLines, ml)
	}
	if len(ps.list) > 0 {
		return nil, ps.err()
	}
	f.validate(ps,
		func(i int, field string, j int) Problem {
			if j >= 0 && j < len(mapLines[i]) {
				return Problem{Line: mapLines[i][j]}
			}
			return Problem{Line: lines[i][field]}
		},
		func(field string) Problem { return Problem{Line: lineOf(top[field], root)} },
		known)
	if err := ps.err(); err != nil {
		return nil, err
	}
	return f, nil
}

// ApplyMappings adds the mappings of a separate mapping file
// (docs/framework-import.md) to f, typically one read from an OSCAL
// catalog that carries none. f is left as it was when the file is refused.
func ApplyMappings(f *Framework, data []byte, known Known) error {
	if len(data) > MaxSize {
		return ErrTooLarge
	}
	ps := &problems{format: "mapping"}
	root := yamlDoc(data, ps)
	if root == nil {
		return ps.err()
	}
	top := fields(root, "the mapping file", []string{"framework", "mappings"}, ps)
	if id := scalar(top["framework"], "framework", ps); id != f.ID {
		ps.add(Problem{Line: lineOf(top["framework"], root), Msg: fmt.Sprintf("the mapping file is for framework %q, not %q", id, f.ID)})
	}
	byID := make(map[string]int, len(f.Controls))
	for i, c := range f.Controls {
		byID[c.ID] = i
	}
	added := make([][]Mapping, len(f.Controls))
	for _, m := range sequence(top["mappings"], "mappings", ps) {
		if m.Kind != yaml.MappingNode {
			ps.add(Problem{Line: m.Line, Msg: "each mapping must be a mapping with control, rec and relation"})
			continue
		}
		mf := fields(m, "a mapping", []string{"control", "rec", "relation", "note"}, ps)
		ctl := scalar(mf["control"], "control", ps)
		mp := Mapping{RecID: strings.ToUpper(scalar(mf["rec"], "rec", ps)), Relation: Relation(scalar(mf["relation"], "relation", ps)),
			Note: strings.TrimSpace(scalar(mf["note"], "note", ps))}
		i, ok := byID[ctl]
		switch {
		case !ok:
			ps.add(Problem{Line: lineOf(mf["control"], m), Msg: fmt.Sprintf("no control %q in framework %q", ctl, f.ID)})
			continue
		case !known(mp.RecID):
			ps.add(Problem{Line: lineOf(mf["rec"], m), Msg: fmt.Sprintf("unknown recommendation %q", mp.RecID)})
			continue
		case !mp.Relation.Valid():
			ps.add(Problem{Line: lineOf(mf["relation"], m), Msg: fmt.Sprintf("relation %q is not one of equivalent, subset, superset, related", mp.Relation)})
			continue
		case len(mp.Note) > maxNote:
			ps.add(Problem{Line: lineOf(mf["note"], m), Msg: fmt.Sprintf("note is longer than %d bytes", maxNote)})
			continue
		}
		dup := slices.ContainsFunc(f.Controls[i].Mappings, func(x Mapping) bool { return x.RecID == mp.RecID }) ||
			slices.ContainsFunc(added[i], func(x Mapping) bool { return x.RecID == mp.RecID })
		if dup {
			ps.add(Problem{Line: m.Line, Msg: fmt.Sprintf("control %q already maps to %s", ctl, mp.RecID)})
			continue
		}
		if len(f.Controls[i].Mappings)+len(added[i]) >= MaxMappings {
			ps.add(Problem{Line: m.Line, Msg: fmt.Sprintf("control %q has more than %d mappings", ctl, MaxMappings)})
			continue
		}
		added[i] = append(added[i], mp)
	}
	if err := ps.err(); err != nil {
		return err
	}
	for i := range f.Controls {
		f.Controls[i].Mappings = append(f.Controls[i].Mappings, added[i]...)
	}
	return nil
}
