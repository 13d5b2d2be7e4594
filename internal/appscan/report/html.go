package report

import (
	"cmp"
	"embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/appscan"
)

// The HTML report is one self-contained file: inline CSS, no script, no
// external assets, so that it can be mailed, archived and opened offline.
// The platform embeds the same report in its pages through WriteHTMLBody
// and serves HTMLStyle as a stylesheet (its CSP forbids inline styles).

//go:embed templates/report.html.tmpl templates/report.css
var htmlFS embed.FS

// htmlTemplates parses the embedded templates. Parsing per call costs
// well under a millisecond and avoids package-level state.
func htmlTemplates() (*template.Template, error) {
	css, err := htmlFS.ReadFile("templates/report.css")
	if err != nil {
		return nil, err
	}
	funcs := template.FuncMap{
		"css":   func() template.CSS { return template.CSS(css) },
		"date":  func(t time.Time) string { return t.UTC().Format(time.DateOnly) },
		"when":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
		"upper": strings.ToUpper,
		"sevclass": func(s appscan.Severity) string {
			return "sev-" + s.String()
		},
		"scoreclass": func(score int) string {
			switch {
			case score >= 80:
				return "score-good"
			case score >= 50:
				return "score-fair"
			default:
				return "score-poor"
			}
		},
		"anchor": func(prefix string, i int) string { return fmt.Sprintf("%s-%d", prefix, i) },
		"ruleview": func(app string, r htmlRule) struct {
			App string
			R   htmlRule
		} {
			return struct {
				App string
				R   htmlRule
			}{app, r}
		},
		"join":     strings.Join,
		"where":    where,
		"readable": Readable,
		"visible":  visible,
		"dec":      func(i int) int { return i - 1 },
		"anchorID": RuleAnchor,
		"tags":     mappingTags,
		"size":     humanSize,
	}
	return template.New("report").Funcs(funcs).ParseFS(htmlFS, "templates/report.html.tmpl")
}

// HTMLStyle returns the stylesheet of the HTML report. Every rule is scoped
// under .dfslab-report so that it cannot restyle a host page.
func HTMLStyle() string {
	css, _ := htmlFS.ReadFile("templates/report.css")
	return string(css)
}

// WriteHTML writes a complete, self-contained HTML page.
func WriteHTML(w io.Writer, d *Document) error {
	return executeHTML(w, "page", d)
}

// WriteHTMLBody writes the report as one <div class="dfslab-report">
// element without <html>, <head> or styles, for embedding in another page
// that links HTMLStyle.
func WriteHTMLBody(w io.Writer, d *Document) error {
	return executeHTML(w, "body", d)
}

func executeHTML(w io.Writer, name string, d *Document) error {
	d.Finalize()
	t, err := htmlTemplates()
	if err != nil {
		return fmt.Errorf("report: html templates: %w", err)
	}
	return t.ExecuteTemplate(w, name, newHTMLView(d))
}

type htmlView struct {
	Doc  *Document
	Apps []htmlApp
}

type htmlApp struct {
	Index  int
	R      *appscan.Result
	Counts []sevCount
	// Top are the critical and high findings of the app's own code, one
	// line per rule: what to read first.
	Top    []htmlRule
	Groups []htmlGroup
	// Libraries holds the findings in known libraries' code, per library;
	// they are folded apart and, by default, do not count in the score.
	Libraries []htmlLibrary
	InLibrary int
	// Counted is set when library findings count (--include-libraries).
	Counted bool
}

type sevCount struct {
	Severity appscan.Severity
	N        int
}

type htmlGroup struct {
	ID, Name string
	Rules    []htmlRule
	N        int // findings in the group
}

// htmlRule is the findings of one rule, shown once with a count: twenty
// cleartext URLs are one problem in twenty places.
type htmlRule struct {
	Meta     appscan.RuleMeta
	Tags     []string
	Severity appscan.Severity
	Findings []appscan.Finding
}

type htmlLibrary struct {
	Name  string
	Rules []htmlRule
	N     int
}

// byRule groups sorted findings by rule, keeping the order of first
// appearance (most severe first).
func byRule(rules ruleIndex, fs []appscan.Finding) []htmlRule {
	var out []htmlRule
	at := map[string]int{}
	for _, f := range fs {
		i, ok := at[f.RuleID]
		if !ok {
			m := rules.meta(f)
			out = append(out, htmlRule{Meta: m, Tags: mappingTags(m.Mappings), Severity: f.Severity})
			i = len(out) - 1
			at[f.RuleID] = i
		}
		out[i].Findings = append(out[i].Findings, f)
	}
	return out
}

func newHTMLView(d *Document) htmlView {
	rules := indexRules(d.Rules)
	v := htmlView{Doc: d}
	for i, r := range d.Results {
		if r == nil {
			continue
		}
		a := htmlApp{Index: i, R: r, Counted: d.Summary.LibrariesCounted}
		counts := map[appscan.Severity]int{}
		areas := map[string][]appscan.Finding{}
		libs := map[string][]appscan.Finding{}
		var libOrder []string
		var top []appscan.Finding
		for _, f := range sortedFindings(r.Findings) {
			if f.InLibrary {
				a.InLibrary++
				if libs[f.Library] == nil {
					libOrder = append(libOrder, f.Library)
				}
				libs[f.Library] = append(libs[f.Library], f)
				if !d.Summary.LibrariesCounted {
					continue
				}
			} else if f.Severity >= appscan.High {
				top = append(top, f)
			}
			counts[f.Severity]++
			if !f.InLibrary {
				area := masvsArea(rules.meta(f))
				areas[area] = append(areas[area], f)
			}
		}
		for _, s := range severitiesDesc {
			a.Counts = append(a.Counts, sevCount{s, counts[s]})
		}
		a.Top = byRule(rules, top)
		for _, ar := range append(masvsAreas, struct{ ID, Name string }{"", "Not mapped to MASVS"}) {
			if fs := areas[ar.ID]; len(fs) > 0 {
				a.Groups = append(a.Groups, htmlGroup{ID: cmp.Or(ar.ID, "OTHER"), Name: ar.Name, Rules: byRule(rules, fs), N: len(fs)})
			}
		}
		slices.Sort(libOrder)
		for _, l := range libOrder {
			a.Libraries = append(a.Libraries, htmlLibrary{Name: l, Rules: byRule(rules, libs[l]), N: len(libs[l])})
		}
		v.Apps = append(v.Apps, a)
	}
	return v
}

// HumanSize says a byte count as people read it: 3.3 MB, 781.2 KB.
func HumanSize(n int64) string { return humanSize(n) }

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}

// visible shows control characters from the app as \xNN: they are not
// dangerous in HTML, but they hide what the evidence really contains.
func visible(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isControl(r) && r != '\n' && r != '\t' {
			fmt.Fprintf(&b, "\\x%02x", r)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// writeRulesHTML writes the rule catalogue as a self-contained page.
func writeRulesHTML(w io.Writer, tool Tool, rules []appscan.RuleMeta) error {
	t, err := htmlTemplates()
	if err != nil {
		return fmt.Errorf("report: html templates: %w", err)
	}
	return t.ExecuteTemplate(w, "rules", struct {
		Tool   Tool
		Counts []CategoryCount
		Rules  []appscan.RuleMeta
	}{tool, CountByCategory(rules), sortRules(rules)})
}
