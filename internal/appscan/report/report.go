// Package report renders scan results: readable text for terminals, a
// versioned JSON document (docs/report-schema.md), SARIF 2.1.0 for code
// scanning services, one self-contained HTML file, and Markdown for pull
// request comments. Writers only render: filtering by baseline or
// suppressions happens before, in packages baseline and suppress.
package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/appscan"
	"github.com/dfslab/dfslab/internal/appscan/baseline"
	"github.com/dfslab/dfslab/internal/appscan/suppress"
)

// Format names an output format.
type Format string

// Output formats.
const (
	Text     Format = "text"
	JSON     Format = "json"
	SARIF    Format = "sarif"
	HTML     Format = "html"
	Markdown Format = "markdown"
)

// Formats lists the formats of scan reports, in the order shown in help.
var Formats = []Format{Text, JSON, SARIF, HTML, Markdown}

// ParseFormat accepts a format name as given on the command line ("md" is
// accepted for markdown).
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case Text, JSON, SARIF, HTML, Markdown:
		return f, nil
	case "md":
		return Markdown, nil
	}
	return "", fmt.Errorf("unknown format %q (want text, json, sarif, html or markdown)", s)
}

// Tool identifies the program that wrote a report.
type Tool struct {
	Name           string `json:"name"`
	Version        string `json:"version"`
	InformationURI string `json:"information_uri,omitempty"`
}

// DefaultTool is the tool block for reports written by this build; version
// is filled in by the caller (from the build info).
func DefaultTool(version string) Tool {
	return Tool{Name: "dfslab", Version: version, InformationURI: "https://github.com/dfslab/dfslab"}
}

// FileError is an input that could not be scanned. The other inputs are
// still reported, and the scan command exits with status 2.
type FileError struct {
	Path  string `json:"path"`
	Error string `json:"error"`
}

// Summary counts the reported findings (after baseline and suppressions).
// Findings in library code are counted apart, in InLibrary, unless
// LibrariesCounted (--include-libraries) puts them with the others.
type Summary struct {
	Apps     int `json:"apps"`
	Findings int `json:"findings"`
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Info     int `json:"info"`
	// InLibrary counts the findings in library code left out of the
	// counts above.
	InLibrary        int  `json:"in_library"`
	LibrariesCounted bool `json:"libraries_counted"`
}

// Count returns the number of findings of severity s.
func (s Summary) Count(sev appscan.Severity) int {
	switch sev {
	case appscan.Critical:
		return s.Critical
	case appscan.High:
		return s.High
	case appscan.Medium:
		return s.Medium
	case appscan.Low:
		return s.Low
	default:
		return s.Info
	}
}

// Document is one report: the results of one `dfslab scan` invocation with
// what the baseline and the suppressions removed. It is the JSON report
// itself (docs/report-schema.md), so its field names are a public format.
type Document struct {
	SchemaVersion string    `json:"schema_version"`
	Tool          Tool      `json:"tool"`
	GeneratedAt   time.Time `json:"generated_at,omitzero"`
	Summary       Summary   `json:"summary"`
	// Results holds one entry per scanned app, in the order of the inputs.
	Results []*appscan.Result `json:"results"`
	// Errors lists inputs that could not be scanned.
	Errors []FileError `json:"errors"`
	// Suppressed lists findings removed by the suppressions file.
	Suppressed []suppress.Suppressed `json:"suppressed"`
	// ExpiredSuppressions lists suppressions past their expiry date: they
	// no longer suppress anything.
	ExpiredSuppressions []suppress.Rule `json:"expired_suppressions"`
	// Baseline is null unless the scan was compared with a previous report.
	Baseline *baseline.Summary `json:"baseline"`

	// IncludeLibraries counts findings in library code like the app's own
	// (in the summary, AtOrAbove and so for --fail-on).
	IncludeLibraries bool `json:"-"`

	// Rules is the rule metadata used for help texts and remediation in
	// SARIF, HTML and Markdown. It is not part of the JSON report: the
	// rules are documented in docs/rules.md and by --list-rules.
	Rules []appscan.RuleMeta `json:"-"`
}

// Finalize fills the derived fields (schema version, summary) and replaces
// nil lists with empty ones so that JSON readers always see arrays. Writers
// call it; calling it again is harmless.
func (d *Document) Finalize() {
	d.SchemaVersion = appscan.SchemaVersion
	if d.Results == nil {
		d.Results = []*appscan.Result{}
	}
	if d.Errors == nil {
		d.Errors = []FileError{}
	}
	if d.Suppressed == nil {
		d.Suppressed = []suppress.Suppressed{}
	}
	if d.ExpiredSuppressions == nil {
		d.ExpiredSuppressions = []suppress.Rule{}
	}
	s := Summary{LibrariesCounted: d.IncludeLibraries}
	for _, r := range d.Results {
		if r == nil {
			continue
		}
		if r.Findings == nil {
			r.Findings = []appscan.Finding{}
		}
		s.Apps++
		for _, f := range r.Findings {
			if f.InLibrary && !d.IncludeLibraries {
				s.InLibrary++
				continue
			}
			s.Findings++
			switch f.Severity {
			case appscan.Critical:
				s.Critical++
			case appscan.High:
				s.High++
			case appscan.Medium:
				s.Medium++
			case appscan.Low:
				s.Low++
			default:
				s.Info++
			}
		}
	}
	d.Summary = s
}

// AtOrAbove reports how many reported findings have severity >= min;
// findings in library code count only with IncludeLibraries.
func (d *Document) AtOrAbove(min appscan.Severity) int {
	n := 0
	for _, r := range d.Results {
		if r == nil {
			continue
		}
		for _, f := range r.Findings {
			if f.Severity >= min && (!f.InLibrary || d.IncludeLibraries) {
				n++
			}
		}
	}
	return n
}

// Options tune the writers.
type Options struct {
	// Color enables ANSI colours in the text format. The caller decides
	// (terminal, NO_COLOR); writers never look at the environment.
	Color bool
	// Anchors map SARIF results to files of the repository (nil: results
	// point at the files inside the scanned apps).
	Anchors *Anchors
}

// Write renders d in format f.
func Write(w io.Writer, f Format, d *Document, opts Options) error {
	d.Finalize()
	switch f {
	case Text:
		return WriteText(w, d, opts)
	case JSON:
		return WriteJSON(w, d)
	case SARIF:
		return WriteSARIFAnchored(w, d, opts.Anchors)
	case HTML:
		return WriteHTML(w, d)
	case Markdown:
		return WriteMarkdown(w, d)
	}
	return fmt.Errorf("report: unknown format %q", f)
}

// ruleIndex maps rule IDs to metadata.
type ruleIndex map[string]appscan.RuleMeta

func indexRules(rules []appscan.RuleMeta) ruleIndex {
	m := make(ruleIndex, len(rules))
	for _, r := range rules {
		m[r.ID] = r
	}
	return m
}

// meta returns the metadata of f's rule, or a minimal one built from the
// finding when the rule is unknown (an engine newer than the rule list).
func (ix ruleIndex) meta(f appscan.Finding) appscan.RuleMeta {
	if m, ok := ix[f.RuleID]; ok {
		return m
	}
	return appscan.RuleMeta{ID: f.RuleID, Title: f.Title, Severity: f.Severity, Confidence: f.Confidence}
}

// sortedFindings returns a copy of fs, most severe first, then by rule and
// location, so that every human-facing format lists findings the same way.
func sortedFindings(fs []appscan.Finding) []appscan.Finding {
	out := slices.Clone(fs)
	slices.SortStableFunc(out, func(a, b appscan.Finding) int {
		return cmp.Or(
			cmp.Compare(b.Severity, a.Severity),
			cmp.Compare(a.Library, b.Library),
			cmp.Compare(a.RuleID, b.RuleID),
			cmp.Compare(a.Location.String(), b.Location.String()),
		)
	})
	return out
}

// severitiesDesc lists severities from most to least serious.
var severitiesDesc = [...]appscan.Severity{appscan.Critical, appscan.High, appscan.Medium, appscan.Low, appscan.Info}

// appName is how an app is named in headings: its package, or the file.
func appName(r *appscan.Result) string {
	if r.App.Package != "" {
		return r.App.Package
	}
	return r.Target.Path
}

// masvsAreas are the MASVS v2 control groups in the standard's order; the
// HTML report groups findings by them.
var masvsAreas = []struct{ ID, Name string }{
	{"MASVS-STORAGE", "Storage"},
	{"MASVS-CRYPTO", "Cryptography"},
	{"MASVS-AUTH", "Authentication and authorization"},
	{"MASVS-NETWORK", "Network communication"},
	{"MASVS-PLATFORM", "Platform interaction"},
	{"MASVS-CODE", "Code quality"},
	{"MASVS-RESILIENCE", "Resilience against reverse engineering and tampering"},
	{"MASVS-PRIVACY", "Privacy"},
}

// masvsArea returns the control group of the first MASVS mapping, e.g.
// "MASVS-NETWORK" for "MASVS-NETWORK-1", or "" when there is none.
func masvsArea(m appscan.RuleMeta) string {
	for _, c := range m.Mappings.MASVS {
		c = strings.ToUpper(c)
		for _, a := range masvsAreas {
			if c == a.ID || strings.HasPrefix(c, a.ID+"-") {
				return a.ID
			}
		}
	}
	return ""
}

// mappingTags lists the standard references of a rule, as short labels
// ("MASVS-NETWORK-1", "CWE-295", "M3:2016", "M5:2024", "ITU T1.1").
func mappingTags(m appscan.Mappings) []string {
	var tags []string
	tags = append(tags, m.MASVS...)
	for _, c := range m.CWE {
		tags = append(tags, fmt.Sprintf("CWE-%d", c))
	}
	for _, o := range m.OWASPMobile2016 {
		tags = append(tags, o+":2016")
	}
	for _, o := range m.OWASPMobile2024 {
		tags = append(tags, o+":2024")
	}
	for _, t := range m.ITUTest {
		tags = append(tags, "ITU "+t)
	}
	for _, r := range m.DFSRecs {
		tags = append(tags, "DFS "+r)
	}
	return tags
}

// where is a location as shown to people: Location.String with the line
// number of text files ("assets/config.json:12"), and for code the source
// file and line when the DEX has them ("… com.x.Api.login()V (Api.kt:42)").
// Readable is where a finding is, for people: the method without its JVM
// descriptor (Api.connect(…) rather than
// Api.connect(Ljava/lang/String;I)V); where gives the full form, which
// pages show as a tooltip and machine formats keep.
func Readable(l appscan.Location) string {
	if i := strings.IndexByte(l.Method, '('); i >= 0 {
		args := "(…)"
		if strings.HasPrefix(l.Method[i:], "()") {
			args = "()"
		}
		l.Method = l.Method[:i] + args
	}
	return where(l)
}

// Where is where a finding is, in full (the method with its descriptor).
func Where(l appscan.Location) string { return where(l) }

func where(l appscan.Location) string {
	if l.SourceFile != "" {
		src := l.SourceFile
		if l.Line > 0 {
			src = fmt.Sprintf("%s:%d", src, l.Line)
		}
		return l.String() + " (" + src + ")"
	}
	if l.Line > 0 && l.File != "" {
		l.File = fmt.Sprintf("%s:%d", l.File, l.Line)
	}
	return l.String()
}
