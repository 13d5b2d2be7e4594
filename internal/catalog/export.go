package catalog

import (
	"crypto/sha1"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Export formats accepted by Export.
const (
	FormatJSON  = "json"
	FormatCSV   = "csv"
	FormatOSCAL = "oscal"
)

// Export writes the catalogue in one of the export formats. The output is
// deterministic (no clock, no random UUIDs), so exports diff cleanly between
// catalogue versions and golden files stay stable.
func (c *Catalog) Export(w io.Writer, format string) error {
	switch format {
	case FormatJSON:
		return c.exportJSON(w)
	case FormatCSV:
		return c.exportCSV(w)
	case FormatOSCAL:
		return c.exportOSCAL(w)
	default:
		return fmt.Errorf("catalog: unknown export format %q (want json, csv or oscal)", format)
	}
}

func (c *Catalog) exportJSON(w io.Writer) error {
	doc := struct {
		Version         string           `json:"version"`
		Released        string           `json:"released"`
		Taxonomy        Taxonomy         `json:"taxonomy"`
		Recommendations []Recommendation `json:"recommendations"`
		// Withdrawn items come apart, so that integrations holding an old
		// ID can follow replaced_by without counting them as requirements.
		Withdrawn []Recommendation `json:"withdrawn"`
		Releases  []Release        `json:"releases"`
	}{c.Version, c.releasedString(), c.Taxonomy, c.Recommendations, c.Withdrawn, c.Releases}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// csvColumns is the header of the CSV export; lists are joined with "; ".
// Columns added in 2026.2 come last, so that sheets reading the earlier
// columns by position keep working.
var csvColumns = []string{"id", "title", "layer", "stakeholders", "dimensions", "threats", "book", "checks",
	"statement", "rationale", "audit_question", "evidence", "sources", "references", "scan_rules",
	"priority", "parameters", "stronger_than_source"}

func (c *Catalog) exportCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvColumns); err != nil {
		return err
	}
	for _, r := range c.Recommendations {
		refs := make([]string, len(r.References))
		for i, ref := range r.References {
			refs[i] = ref.Standard + " " + ref.Ref
		}
		params := make([]string, len(r.Parameters))
		for i, p := range r.Parameters {
			params[i] = fmt.Sprintf("%s=%s (%s)", p.Name, p.Format(p.Default), p.Range())
		}
		stronger := ""
		if r.StrongerThanSource {
			stronger = "yes"
		}
		row := []string{r.ID, r.Title, r.Layer, join(r.Stakeholders), join(r.Dimensions), join(r.Threats), r.Book, joinChecks(r.Checks),
			r.Statement, r.Rationale, r.AuditQuestion, join(r.Evidence), join(r.Sources), join(refs), join(r.ScanRules),
			r.Priority, join(params), stronger}
		for i, v := range row {
			row[i] = csvSafe(v)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func join(s []string) string { return strings.Join(s, "; ") }

func joinChecks(cs []Check) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return join(s)
}

// csvSafe defuses spreadsheet formula injection: a cell starting with one
// of = + - @ is prefixed with an apostrophe, as OWASP recommends for CSV
// that people open in spreadsheet programs.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

func (c *Catalog) releasedString() string {
	if c.Released.IsZero() {
		return ""
	}
	return c.Released.UTC().Format(time.RFC3339)
}

// OSCAL output. Only the fields we fill are modelled; the schema test in
// export_test.go checks the result against the NIST OSCAL 1.1.3 schema.

const oscalNS = "urn:dfslab:catalog"

type oscalDoc struct {
	Catalog oscalCatalog `json:"catalog"`
}

type oscalCatalog struct {
	UUID       string       `json:"uuid"`
	Metadata   oscalMeta    `json:"metadata"`
	Groups     []oscalGroup `json:"groups"`
	BackMatter *oscalBack   `json:"back-matter,omitempty"`
}

type oscalMeta struct {
	Title        string      `json:"title"`
	Published    string      `json:"published,omitempty"`
	LastModified string      `json:"last-modified"`
	Version      string      `json:"version"`
	OSCALVersion string      `json:"oscal-version"`
	Props        []oscalProp `json:"props,omitempty"`
	Remarks      string      `json:"remarks,omitempty"`
}

type oscalGroup struct {
	ID       string         `json:"id"`
	Class    string         `json:"class"`
	Title    string         `json:"title"`
	Parts    []oscalPart    `json:"parts,omitempty"`
	Controls []oscalControl `json:"controls"`
}

type oscalControl struct {
	ID     string       `json:"id"`
	Class  string       `json:"class"`
	Title  string       `json:"title"`
	Params []oscalParam `json:"params,omitempty"`
	Props  []oscalProp  `json:"props,omitempty"`
	Links  []oscalLink  `json:"links,omitempty"`
	Parts  []oscalPart  `json:"parts"`
}

// oscalParam is an OSCAL control parameter: the statement inserts it, a
// profile (a regulator's baseline) may set it.
type oscalParam struct {
	ID          string            `json:"id"`
	Props       []oscalProp       `json:"props,omitempty"`
	Label       string            `json:"label"`
	Constraints []oscalConstraint `json:"constraints,omitempty"`
	Values      []string          `json:"values"`
}

type oscalConstraint struct {
	Description string `json:"description"`
}

type oscalProp struct {
	Name  string `json:"name"`
	NS    string `json:"ns,omitempty"`
	Value string `json:"value"`
	Class string `json:"class,omitempty"`
}

type oscalLink struct {
	Href string `json:"href"`
	Rel  string `json:"rel,omitempty"`
	Text string `json:"text,omitempty"`
}

type oscalPart struct {
	ID    string      `json:"id,omitempty"`
	Name  string      `json:"name"`
	NS    string      `json:"ns,omitempty"`
	Prose string      `json:"prose,omitempty"`
	Parts []oscalPart `json:"parts,omitempty"`
}

type oscalBack struct {
	Resources []oscalResource `json:"resources"`
}

type oscalResource struct {
	UUID   string       `json:"uuid"`
	Title  string       `json:"title"`
	Rlinks []oscalRlink `json:"rlinks,omitempty"`
}

type oscalRlink struct {
	Href string `json:"href"`
}

// nameUUID derives a version-5 UUID from a name, so that the same catalogue
// version always exports with the same identifiers.
func nameUUID(name string) string {
	h := sha1.Sum([]byte("dfslab-catalog:" + name))
	h[6] = (h[6] & 0x0f) | 0x50
	h[8] = (h[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

func oscalID(id string) string { return strings.ToLower(id) }

func (c *Catalog) exportOSCAL(w io.Writer) error {
	released := c.releasedString()
	if released == "" {
		released = "2026-01-01T00:00:00Z"
	}
	doc := oscalDoc{Catalog: oscalCatalog{
		UUID: nameUUID("catalog:" + c.Version),
		Metadata: oscalMeta{
			Title:        "DFS Security Recommendations (dfslab catalogue)",
			Published:    released,
			LastModified: released,
			Version:      c.Version,
			OSCALVersion: "1.1.3",
			Remarks:      "Recommendations for securing digital financial services, written for dfslab from the ITU DFS security material; grouped by layer.",
		},
	}}
	sourceUUID := map[string]string{}
	var back oscalBack
	for _, s := range c.Sources {
		u := nameUUID("source:" + s.Key)
		sourceUUID[s.Key] = u
		res := oscalResource{UUID: u, Title: s.Title}
		if s.URL != "" {
			res.Rlinks = []oscalRlink{{Href: s.URL}}
		}
		back.Resources = append(back.Resources, res)
	}
	if len(back.Resources) > 0 {
		doc.Catalog.BackMatter = &back
	}
	for _, l := range c.Layers {
		g := oscalGroup{ID: "layer-" + l.Key, Class: "layer", Title: l.Name}
		if l.Description != "" {
			g.Parts = []oscalPart{{ID: "layer-" + l.Key + "_smt", Name: "overview", Prose: l.Description}}
		}
		for _, r := range c.Recommendations {
			if r.Layer != l.Key {
				continue
			}
			g.Controls = append(g.Controls, c.oscalControl(r, sourceUUID))
		}
		if len(g.Controls) > 0 {
			doc.Catalog.Groups = append(doc.Catalog.Groups, g)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

func (c *Catalog) oscalControl(r Recommendation, sourceUUID map[string]string) oscalControl {
	id := oscalID(r.ID)
	ctl := oscalControl{ID: id, Class: "dfs-recommendation", Title: r.Title}
	prop := func(name, value string) {
		ctl.Props = append(ctl.Props, oscalProp{Name: name, NS: oscalNS, Value: value})
	}
	ctl.Props = append(ctl.Props, oscalProp{Name: "label", Value: r.ID})
	for _, s := range r.Stakeholders {
		prop("stakeholder", s)
	}
	prop("layer", r.Layer)
	for _, d := range r.Dimensions {
		prop("x805-dimension", d)
	}
	prop("priority", r.Priority)
	if r.StrongerThanSource {
		prop("stronger-than-source", "true")
	}
	for _, t := range r.Threats {
		prop("x1150-threat", t)
	}
	prop("book", r.Book)
	for _, k := range r.Checks {
		prop("check", string(k))
	}
	for _, ref := range r.References {
		ctl.Props = append(ctl.Props, oscalProp{Name: "reference", NS: oscalNS, Class: strings.ToLower(ref.Standard), Value: ref.Ref})
	}
	for _, rule := range r.ScanRules {
		prop("scan-rule", rule)
	}
	for _, s := range r.Sources {
		if u, ok := sourceUUID[s]; ok {
			ctl.Links = append(ctl.Links, oscalLink{Href: "#" + u, Rel: "reference", Text: s})
		}
	}
	prose := r.Statement
	if r.Template != "" {
		prose = placeholder.ReplaceAllStringFunc(r.Template, func(m string) string {
			return "{{ insert: param, " + id + "_prm_" + m[1:len(m)-1] + " }}"
		})
	}
	for _, p := range r.Parameters {
		ctl.Params = append(ctl.Params, oscalParam{ID: id + "_prm_" + p.Name, Label: p.Label,
			Props:       []oscalProp{{Name: "unit", NS: oscalNS, Value: string(p.Unit)}},
			Constraints: []oscalConstraint{{Description: "Recommended range: " + p.Range()}},
			Values:      []string{strconv.Itoa(p.Default)}})
	}
	ctl.Parts = []oscalPart{
		{ID: id + "_smt", Name: "statement", Prose: prose},
		{ID: id + "_gdn", Name: "guidance", Prose: r.Rationale},
		{ID: id + "_obj", Name: "assessment-objective", Prose: r.AuditQuestion, Parts: evidenceParts(id, r.Evidence)},
	}
	return ctl
}

func evidenceParts(id string, evidence []string) []oscalPart {
	var out []oscalPart
	for i, e := range evidence {
		out = append(out, oscalPart{ID: fmt.Sprintf("%s_obj.evidence-%d", id, i+1), Name: "evidence", NS: oscalNS, Prose: e})
	}
	return out
}
