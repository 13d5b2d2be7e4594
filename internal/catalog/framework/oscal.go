package framework

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// MappingNS is the namespace of the OSCAL control property that carries a
// mapping: {"name": "maps-to", "ns": MappingNS, "value": "APP-001",
// "class": "equivalent", "remarks": "note"}. It is the namespace of the
// catalogue's own OSCAL export.
const MappingNS = "urn:dfslab:catalog"

// FrameworkIDProp names the metadata property (in MappingNS) that gives
// an OSCAL catalog its framework id; without it the id is made from the
// title.
const FrameworkIDProp = "framework-id"

// Only the members the import uses are modelled; the others an OSCAL
// catalog may carry (params, links, back-matter, …) are read past.

type oscalFile struct {
	Catalog *oscalCatalog `json:"catalog"`
}

type oscalCatalog struct {
	UUID     string         `json:"uuid"`
	Metadata *oscalMetadata `json:"metadata"`
	Groups   []oscalGroup   `json:"groups"`
	Controls []oscalControl `json:"controls"`
}

type oscalMetadata struct {
	Title        string        `json:"title"`
	Version      string        `json:"version"`
	OSCALVersion string        `json:"oscal-version"`
	LastModified string        `json:"last-modified"`
	Props        []oscalProp   `json:"props"`
	Parties      []oscalParty  `json:"parties"`
	Responsible  []oscalRParty `json:"responsible-parties"`
}

type oscalParty struct {
	UUID string `json:"uuid"`
	Type string `json:"type"`
	Name string `json:"name"`
}

type oscalRParty struct {
	RoleID     string   `json:"role-id"`
	PartyUUIDs []string `json:"party-uuids"`
}

type oscalGroup struct {
	ID       string         `json:"id"`
	Title    string         `json:"title"`
	Groups   []oscalGroup   `json:"groups"`
	Controls []oscalControl `json:"controls"`
}

type oscalControl struct {
	ID       string         `json:"id"`
	Title    string         `json:"title"`
	Props    []oscalProp    `json:"props"`
	Parts    []oscalPart    `json:"parts"`
	Controls []oscalControl `json:"controls"`
}

type oscalProp struct {
	Name    string `json:"name"`
	NS      string `json:"ns"`
	Value   string `json:"value"`
	Class   string `json:"class"`
	Remarks string `json:"remarks"`
}

type oscalPart struct {
	Name  string      `json:"name"`
	Title string      `json:"title"`
	Prose string      `json:"prose"`
	Parts []oscalPart `json:"parts"`
}

var uuidPattern = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[45][0-9A-Fa-f]{3}-[89ABab][0-9A-Fa-f]{3}-[0-9A-Fa-f]{12}$`)

// maxDepth bounds the nesting of groups and controls.
const maxDepth = 8

// ParseOSCAL reads an OSCAL 1.1 catalog in JSON. Controls come from the
// catalog's groups (at any depth, each control taking the title of its
// innermost group) and from nested controls (enhancements), in document
// order; a control's text is the prose of its statement part, or of all
// its parts when it has no statement. Mappings come from maps-to
// properties (MappingNS) and must name recommendations that known
// accepts.
func ParseOSCAL(data []byte, known Known) (*Framework, error) {
	if len(data) > MaxSize {
		return nil, ErrTooLarge
	}
	ps := &problems{format: FormatOSCAL}
	var doc oscalFile
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		ps.add(jsonProblem(data, err))
		return nil, ps.err()
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		ps.add(Problem{Path: "$", Msg: "data after the JSON document"})
		return nil, ps.err()
	}
	c := doc.Catalog
	if c == nil {
		ps.add(Problem{Path: "$.catalog", Msg: "missing: the file is not an OSCAL catalog"})
		return nil, ps.err()
	}
	if !uuidPattern.MatchString(c.UUID) {
		ps.add(Problem{Path: "$.catalog.uuid", Msg: fmt.Sprintf("%q is not a UUID", c.UUID)})
	}
	md := c.Metadata
	if md == nil {
		ps.add(Problem{Path: "$.catalog.metadata", Msg: "missing"})
		return nil, ps.err()
	}
	if !strings.HasPrefix(md.OSCALVersion, "1.") {
		ps.add(Problem{Path: "$.catalog.metadata.oscal-version", Msg: fmt.Sprintf("%q: only OSCAL 1.x catalogs are read", md.OSCALVersion)})
	}
	if md.LastModified == "" {
		ps.add(Problem{Path: "$.catalog.metadata.last-modified", Msg: "missing"})
	}
	f := &Framework{Format: FormatOSCAL, Title: md.Title, Version: md.Version, Publisher: publisher(md)}
	idPath := "$.catalog.metadata.title"
	for i, p := range md.Props {
		if p.Name == FrameworkIDProp && p.NS == MappingNS {
			f.ID, idPath = p.Value, fmt.Sprintf("$.catalog.metadata.props[%d].value", i)
		}
	}
	if f.ID == "" {
		f.ID = slug(md.Title)
	}
	var paths []string  // JSON path of each control, for later problems
	var propIdx [][]int // index in props of each mapping of each control
	var walkControls func(cs []oscalControl, path, group string, depth int)
	walkControls = func(cs []oscalControl, path, group string, depth int) {
		for i, oc := range cs {
			p := fmt.Sprintf("%s.controls[%d]", path, i)
			if len(f.Controls) >= MaxControls+1 {
				return // validate reports the count
			}
			ctl := Control{ID: oc.ID, Title: oc.Title, Group: group, Text: prose(oc.Parts)}
			var pi []int
			for j, pr := range oc.Props {
				if pr.Name != "maps-to" || pr.NS != MappingNS {
					continue
				}
				rel := Relation(pr.Class)
				if rel == "" {
					rel = Related
				}
				if !rel.Valid() {
					ps.add(Problem{Path: fmt.Sprintf("%s.props[%d].class", p, j), Msg: fmt.Sprintf("relation %q is not one of equivalent, subset, superset, related", pr.Class)})
					continue
				}
				ctl.Mappings = append(ctl.Mappings, Mapping{RecID: strings.ToUpper(pr.Value), Relation: rel, Note: strings.TrimSpace(pr.Remarks)})
				pi = append(pi, j)
			}
			f.Controls = append(f.Controls, ctl)
			paths = append(paths, p)
			propIdx = append(propIdx, pi)
			if depth >= maxDepth && len(oc.Controls) > 0 {
				ps.add(Problem{Path: p + ".controls", Msg: fmt.Sprintf("controls nested deeper than %d levels", maxDepth)})
				continue
			}
			walkControls(oc.Controls, p, group, depth+1)
		}
	}
	var walkGroups func(gs []oscalGroup, path string, depth int)
	walkGroups = func(gs []oscalGroup, path string, depth int) {
		for i, g := range gs {
			p := fmt.Sprintf("%s.groups[%d]", path, i)
			if strings.TrimSpace(g.Title) == "" {
				ps.add(Problem{Path: p + ".title", Msg: "missing"})
			}
			if depth >= maxDepth {
				ps.add(Problem{Path: p, Msg: fmt.Sprintf("groups nested deeper than %d levels", maxDepth)})
				continue
			}
			walkControls(g.Controls, p, strings.TrimSpace(g.Title), depth+1)
			walkGroups(g.Groups, p, depth+1)
		}
	}
	walkControls(c.Controls, "$.catalog", "", 0)
	walkGroups(c.Groups, "$.catalog", 0)
	if len(ps.list) > 0 {
		return nil, ps.err()
	}
	f.validate(ps,
		func(i int, field string, j int) Problem {
			switch field {
			case "maps_to":
				if j >= 0 && j < len(propIdx[i]) {
					return Problem{Path: fmt.Sprintf("%s.props[%d].value", paths[i], propIdx[i][j])}
				}
				field = "props"
			case "text":
				field = "parts"
			case "group":
				return Problem{Path: paths[i]}
			}
			return Problem{Path: paths[i] + "." + field}
		},
		func(field string) Problem {
			switch field {
			case "id":
				return Problem{Path: idPath}
			case "controls":
				return Problem{Path: "$.catalog"}
			case "publisher":
				return Problem{Path: "$.catalog.metadata.parties"}
			}
			return Problem{Path: "$.catalog.metadata." + field}
		},
		known)
	if err := ps.err(); err != nil {
		return nil, err
	}
	return f, nil
}

// publisher names the party in the publisher role, else the first
// organisation among the parties.
func publisher(md *oscalMetadata) string {
	name := func(uuid string) string {
		for _, p := range md.Parties {
			if p.UUID == uuid {
				return p.Name
			}
		}
		return ""
	}
	for _, rp := range md.Responsible {
		if rp.RoleID == "publisher" && len(rp.PartyUUIDs) > 0 {
			if n := name(rp.PartyUUIDs[0]); n != "" {
				return n
			}
		}
	}
	for _, p := range md.Parties {
		if p.Type == "organization" {
			return p.Name
		}
	}
	return ""
}

// prose joins the prose of the statement part (with its items), or of all
// parts when there is no statement.
func prose(parts []oscalPart) string {
	var b strings.Builder
	var add func(ps []oscalPart, depth int)
	add = func(ps []oscalPart, depth int) {
		if depth > maxDepth {
			return
		}
		for _, p := range ps {
			if t := strings.TrimSpace(p.Prose); t != "" {
				if b.Len() > 0 {
					b.WriteString("\n")
				}
				b.WriteString(t)
			}
			add(p.Parts, depth+1)
		}
	}
	for _, p := range parts {
		if p.Name == "statement" {
			add([]oscalPart{p}, 0)
		}
	}
	if b.Len() == 0 {
		add(parts, 0)
	}
	return b.String()
}

// slug makes a framework id from a title: lower case letters and digits
// joined by hyphens, at most 64 bytes.
func slug(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		default:
			dash = true
		}
		if b.Len() >= 60 {
			break
		}
	}
	return b.String()
}

// jsonProblem places a decoding error: a JSON path for a wrong type, a
// line for broken syntax.
func jsonProblem(data []byte, err error) Problem {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		// encoding/json names the members on the way ("a.b.0.c" since
		// Go 1.27, without the array indices before); indices are written
		// as elsewhere in our paths, "a.b[0].c", and the line tells which
		// element it is when they are missing.
		path := "$"
		if te.Field != "" {
			path += "." + indexPath(te.Field)
		}
		off := min(max(int(te.Offset), 0), len(data))
		line := 1 + bytes.Count(data[:off], []byte("\n"))
		return Problem{Path: path, Msg: fmt.Sprintf("line %d: a JSON %s where %s is expected", line, te.Value, jsonType(te.Type.Kind().String()))}
	case errors.As(err, &se):
		off := min(int(se.Offset), len(data))
		line := 1 + bytes.Count(data[:off], []byte("\n"))
		return Problem{Path: "$", Msg: fmt.Sprintf("line %d: %v", line, se)}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return Problem{Path: "$", Msg: "the file is empty or cut short"}
	}
	return Problem{Path: "$", Msg: err.Error()}
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "slice":
		return "an array"
	case "struct", "ptr":
		return "an object"
	}
	return kind
}

// indexPath turns encoding/json's field path "groups.0.controls.1.id"
// into "groups[0].controls[1].id".
func indexPath(field string) string {
	var b strings.Builder
	for i, seg := range strings.Split(field, ".") {
		switch {
		case seg != "" && strings.Trim(seg, "0123456789") == "":
			b.WriteString("[" + seg + "]")
		case i > 0:
			b.WriteString("." + seg)
		default:
			b.WriteString(seg)
		}
	}
	return b.String()
}
