package report

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/appscan"
)

// topFindings is how many findings the Markdown summary shows before the
// collapsed details; a pull-request comment must stay short.
const topFindings = 10

// mdPerRule is how many locations of one rule a Markdown row lists.
const mdPerRule = 3

// groupByRule splits findings into one group per rule (the app's own and a
// library's findings of a rule apart), the group of the most severe finding
// first; findings keep the sortedFindings order.
func groupByRule(fs []appscan.Finding) [][]appscan.Finding {
	var groups [][]appscan.Finding
	idx := map[string]int{}
	for _, f := range sortedFindings(fs) {
		key := f.RuleID + "\x00" + f.Library
		i, ok := idx[key]
		if !ok {
			i = len(groups)
			idx[key] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], f)
	}
	return groups
}

// severityIcon gives Markdown readers a colour cue that survives any
// renderer (GitHub, GitLab, Gitea render emoji; plain text still reads).
func severityIcon(s appscan.Severity) string {
	switch s {
	case appscan.Critical:
		return "🟥"
	case appscan.High:
		return "🟧"
	case appscan.Medium:
		return "🟨"
	case appscan.Low:
		return "🟦"
	default:
		return "⬜"
	}
}

// mdEscape makes app-controlled text inert in Markdown: HTML is escaped
// (pull-request comments render HTML), and the characters that start
// Markdown constructs or break table cells are backslash-escaped.
func mdEscape(s string) string {
	s = html.EscapeString(s)
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '|', '#', '~', '!':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n', '\r':
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdCell fits our own text (rule metadata, which may use Markdown) into a
// table cell.
func mdCell(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ", "\r", " ").Replace(s)
}

// mdCode renders evidence as inline code that no backtick in the evidence
// can end early: <code> with HTML escaping, and table pipes escaped.
func mdCode(s string) string {
	if s == "" {
		return ""
	}
	s = strings.ReplaceAll(html.EscapeString(oneLine(s)), "|", "&#124;")
	return "<code>" + s + "</code>"
}

// WriteMarkdown writes a compact report for a pull-request comment: a
// summary table by severity, the most severe findings, and the full list
// per app in collapsible sections.
func WriteMarkdown(w io.Writer, d *Document) error {
	d.Finalize()
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	rules := indexRules(d.Rules)
	s := d.Summary

	p("## dfslab scan: %d finding(s) in %d app(s)\n\n", s.Findings, s.Apps)
	p("| Severity | Findings |\n|---|---:|\n")
	for _, sev := range severitiesDesc {
		p("| %s %s | %d |\n", severityIcon(sev), sev, s.Count(sev))
	}
	p("\n")
	if s.InLibrary > 0 {
		p("%d more finding(s) in library code are not counted (`--include-libraries` counts them).\n\n", s.InLibrary)
	}
	if b := d.Baseline; b != nil {
		p("Compared with the baseline: **%d new**, %d unchanged, **%d fixed**.\n\n", b.New, b.Unchanged, len(b.Fixed))
	}

	// Top findings: one row per app and rule, most severe first; stable,
	// so apps keep input order within a severity.
	type row struct {
		r *appscan.Result
		g []appscan.Finding
	}
	var all []row
	for _, r := range d.Results {
		if r == nil {
			continue
		}
		for _, g := range groupByRule(r.Findings) {
			if g[0].InLibrary && !d.IncludeLibraries {
				continue
			}
			all = append(all, row{r, g})
		}
	}
	var top []row
	for _, sev := range severitiesDesc {
		for _, x := range all {
			if x.g[0].Severity == sev && len(top) < topFindings {
				top = append(top, x)
			}
		}
	}
	if len(top) > 0 {
		title := "Top findings"
		if len(all) <= topFindings {
			title = "Findings"
		}
		p("### %s\n\n| | Rule | Finding | App | Count | First location |\n|---|---|---|---|---:|---|\n", title)
		for _, x := range top {
			f := x.g[0]
			p("| %s | %s | %s | %s | %d | %s |\n", severityIcon(f.Severity), f.RuleID, mdEscape(f.Title),
				mdEscape(appName(x.r)), len(x.g), mdEscape(where(f.Location)))
		}
		p("\n")
	}

	for _, r := range d.Results {
		if r == nil {
			continue
		}
		a := r.App
		p("<details><summary><b>%s</b> %s: score %d/100, %d finding(s)</summary>\n\n",
			html.EscapeString(appName(r)), html.EscapeString(a.VersionName), r.Score, len(r.Findings))
		p("File `%s`", strings.ReplaceAll(r.Target.Path, "`", "'"))
		if r.Target.SHA256 != "" {
			p(", SHA-256 `%s`", r.Target.SHA256)
		}
		if a.MinSDK != 0 || a.TargetSDK != 0 {
			p(", minSdk %d, targetSdk %d", a.MinSDK, a.TargetSDK)
		}
		p(".\n\n")
		if len(r.Findings) > 0 {
			// One row per rule keeps a comment within the size limits of
			// code-review tools even when a rule matches hundreds of methods.
			p("| Severity | Rule | Finding | Count | Where | Evidence | Remediation |\n|---|---|---|---:|---|---|---|\n")
			for _, g := range groupByRule(r.Findings) {
				f := g[0]
				msg := f.Title
				if f.Message != "" && f.Message != f.Title {
					msg += ": " + f.Message
				}
				if f.InLibrary {
					msg += " (in library code: " + f.Library + ")"
				}
				var locs []string
				for _, x := range g[:min(len(g), mdPerRule)] {
					if w := where(x.Location); w != "" {
						locs = append(locs, mdEscape(w))
					}
				}
				if len(g) > mdPerRule {
					locs = append(locs, fmt.Sprintf("and %d more", len(g)-mdPerRule))
				}
				p("| %s %s | %s | %s | %d | %s | %s | %s |\n", severityIcon(f.Severity), f.Severity, f.RuleID,
					mdEscape(msg), len(g), strings.Join(locs, "<br>"), mdCode(f.Evidence), mdCell(rules.meta(f).Remediation))
			}
			p("\n")
		}
		if len(r.Controls) > 0 {
			p("Controls: ")
			for i, c := range r.Controls {
				if i > 0 {
					p(", ")
				}
				mark := "❌"
				if c.Present {
					mark = "✅"
				}
				p("%s %s", mark, mdEscape(c.Name))
			}
			p("\n\n")
		}
		p("</details>\n\n")
	}

	if b := d.Baseline; b != nil && len(b.Fixed) > 0 {
		p("<details><summary>Fixed since the baseline (%d)</summary>\n\n| Rule | Finding | App | Location |\n|---|---|---|---|\n", len(b.Fixed))
		for _, f := range b.Fixed {
			p("| %s | %s | %s | %s |\n", f.Finding.RuleID, mdEscape(f.Finding.Title), mdEscape(f.Package), mdEscape(where(f.Finding.Location)))
		}
		p("\n</details>\n\n")
	}
	if len(d.Suppressed) > 0 {
		p("<details><summary>Suppressed (%d)</summary>\n\n| Rule | App | Location | Reason | Until |\n|---|---|---|---|---|\n", len(d.Suppressed))
		for _, x := range d.Suppressed {
			until := ""
			if !x.Rule.Expires.IsZero() {
				until = x.Rule.Expires.Format(time.DateOnly)
			}
			p("| %s | %s | %s | %s | %s |\n", x.Finding.RuleID, mdEscape(x.Package), mdEscape(where(x.Finding.Location)), mdEscape(x.Rule.Reason), until)
		}
		p("\n</details>\n\n")
	}
	if len(d.ExpiredSuppressions) > 0 {
		p("> [!WARNING]\n> %d suppression(s) expired and no longer apply:\n", len(d.ExpiredSuppressions))
		for _, x := range d.ExpiredSuppressions {
			p("> - line %d: %s, expired %s (%s)\n", x.Line, mdEscape(suppressionLabel(x.RuleID, x.Location)), x.Expires.Format(time.DateOnly), mdEscape(x.Reason))
		}
		p("\n")
	}
	if len(d.Errors) > 0 {
		p("**Not scanned:**\n\n")
		for _, e := range d.Errors {
			p("- %s: %s\n", mdEscape(e.Path), mdEscape(e.Error))
		}
		p("\n")
	}
	p("<sub>%s %s</sub>\n", mdEscape(d.Tool.Name), mdEscape(d.Tool.Version))
	return bw.Flush()
}
