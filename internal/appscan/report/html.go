package report

import (
	"embed"
	"fmt"
	"html/template"
	"io"
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
		"anchor":   func(prefix string, i int) string { return fmt.Sprintf("%s-%d", prefix, i) },
		"join":     strings.Join,
		"where":    where,
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
	Groups []htmlGroup
}

type sevCount struct {
	Severity appscan.Severity
	N        int
}

type htmlGroup struct {
	ID, Name string
	Findings []htmlFinding
}

type htmlFinding struct {
	F    appscan.Finding
	Meta appscan.RuleMeta
	Tags []string
}

func newHTMLView(d *Document) htmlView {
	rules := indexRules(d.Rules)
	v := htmlView{Doc: d}
	for i, r := range d.Results {
		if r == nil {
			continue
		}
		a := htmlApp{Index: i, R: r}
		counts := map[appscan.Severity]int{}
		groups := map[string][]htmlFinding{}
		for _, f := range sortedFindings(r.Findings) {
			counts[f.Severity]++
			m := rules.meta(f)
			area := masvsArea(m)
			groups[area] = append(groups[area], htmlFinding{F: f, Meta: m, Tags: mappingTags(m.Mappings)})
		}
		for _, s := range severitiesDesc {
			a.Counts = append(a.Counts, sevCount{s, counts[s]})
		}
		for _, ar := range masvsAreas {
			if fs := groups[ar.ID]; len(fs) > 0 {
				a.Groups = append(a.Groups, htmlGroup{ID: ar.ID, Name: ar.Name, Findings: fs})
			}
		}
		if fs := groups[""]; len(fs) > 0 {
			a.Groups = append(a.Groups, htmlGroup{ID: "OTHER", Name: "Not mapped to MASVS", Findings: fs})
		}
		v.Apps = append(v.Apps, a)
	}
	return v
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d B", n)
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
