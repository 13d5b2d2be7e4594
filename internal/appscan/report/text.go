package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/appscan"
)

// ANSI styles; used only when Options.Color is set.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiBlue   = "\x1b[34m"
	ansiMag    = "\x1b[35m"
	ansiBgRed  = "\x1b[41;97m"
)

// textPerRule is how many findings of one rule the text format shows per
// app before summarising the rest.
const textPerRule = 3

type textWriter struct {
	w     *bufio.Writer
	color bool
}

func (t *textWriter) style(code, s string) string {
	if !t.color || s == "" {
		return s
	}
	return code + s + ansiReset
}

func (t *textWriter) sev(s appscan.Severity) string {
	label := fmt.Sprintf("%-8s", strings.ToUpper(s.String()))
	switch s {
	case appscan.Critical:
		return t.style(ansiBgRed+ansiBold, label)
	case appscan.High:
		return t.style(ansiRed+ansiBold, label)
	case appscan.Medium:
		return t.style(ansiYellow, label)
	case appscan.Low:
		return t.style(ansiBlue, label)
	default:
		return t.style(ansiDim, label)
	}
}

func (t *textWriter) printf(format string, args ...any) { fmt.Fprintf(t.w, format, args...) }

// WriteText writes a report meant for a person at a terminal: one block per
// app with its findings, most severe first, then suppressions, baseline and
// errors. Colour is used only when opts.Color is set.
func WriteText(w io.Writer, d *Document, opts Options) error {
	d.Finalize()
	t := &textWriter{w: bufio.NewWriter(w), color: opts.Color}
	for i, r := range d.Results {
		if r == nil {
			continue
		}
		if i > 0 {
			t.printf("\n")
		}
		t.result(r, d.IncludeLibraries)
	}

	if len(d.Suppressed) > 0 {
		t.printf("\n%s %d finding(s)\n", t.style(ansiBold, "Suppressed:"), len(d.Suppressed))
		for _, s := range d.Suppressed {
			t.printf("  %s %s  %s  (%s)\n", s.Finding.RuleID, oneLine(s.Package), oneLine(where(s.Finding.Location)), s.Rule.Reason)
		}
	}
	if len(d.ExpiredSuppressions) > 0 {
		t.printf("\n%s these no longer suppress anything; renew or remove them:\n", t.style(ansiMag+ansiBold, "Expired suppressions:"))
		for _, s := range d.ExpiredSuppressions {
			t.printf("  line %d: %s expired %s (%s)\n", s.Line, suppressionLabel(s.RuleID, s.Location), s.Expires.Format(time.DateOnly), s.Reason)
		}
	}
	if b := d.Baseline; b != nil {
		t.printf("\n%s %d new, %d unchanged, %d fixed since %s\n", t.style(ansiBold, "Baseline:"), b.New, b.Unchanged, len(b.Fixed), b.Path)
		for _, f := range b.Fixed {
			t.printf("  %s %s %s  %s  %s\n", t.style(ansiGreen, "fixed"), f.Finding.RuleID, oneLine(f.Package), oneLine(f.Finding.Title), oneLine(where(f.Finding.Location)))
		}
	}
	if len(d.Errors) > 0 {
		t.printf("\n%s\n", t.style(ansiRed+ansiBold, "Not scanned:"))
		for _, e := range d.Errors {
			t.printf("  %s: %s\n", oneLine(e.Path), oneLine(e.Error))
		}
	}
	s := d.Summary
	t.printf("\n%d app(s), %d finding(s): %d critical, %d high, %d medium, %d low, %d info",
		s.Apps, s.Findings, s.Critical, s.High, s.Medium, s.Low, s.Info)
	if s.InLibrary > 0 {
		t.printf("; %d more in library code, not counted (--include-libraries counts them)", s.InLibrary)
	}
	t.printf("\n")
	return t.w.Flush()
}

func suppressionLabel(rule, loc string) string {
	if loc == "" {
		return rule
	}
	return rule + " at " + loc
}

// result prints one app. Remediation is left to the html and markdown
// formats and docs/rules.md so that the terminal output stays scannable.
// Every string that comes from the app goes through oneLine.
func (t *textWriter) result(r *appscan.Result, includeLibraries bool) {
	a := r.App
	title := appName(r)
	if a.VersionName != "" {
		title += " " + a.VersionName
	}
	if a.VersionCode != 0 {
		title += fmt.Sprintf(" (%d)", a.VersionCode)
	}
	t.printf("%s  score %d/100\n", t.style(ansiBold, oneLine(title)), r.Score)
	t.printf("  %s", oneLine(r.Target.Path))
	if r.Target.Format != "" {
		t.printf(" [%s]", r.Target.Format)
	}
	if a.MinSDK != 0 || a.TargetSDK != 0 {
		t.printf("  minSdk %d targetSdk %d", a.MinSDK, a.TargetSDK)
	}
	t.printf("\n")
	var own, lib []appscan.Finding
	for _, f := range sortedFindings(r.Findings) {
		if f.InLibrary {
			lib = append(lib, f)
		} else {
			own = append(own, f)
		}
	}
	if len(own) == 0 {
		t.printf("  %s\n", t.style(ansiGreen, "no findings in the app's own code"))
	}
	total := map[string]int{}
	for _, f := range own {
		total[f.RuleID]++
	}
	shown := map[string]int{}
	for _, f := range own {
		// A rule like "logging calls" can match hundreds of methods; the
		// terminal shows a few of each and counts the rest.
		shown[f.RuleID]++
		if shown[f.RuleID] > textPerRule {
			continue
		}
		t.printf("  %s %s  %s\n", t.sev(f.Severity), t.style(ansiBold, oneLine(f.Title)), t.style(ansiDim, f.RuleID))
		if loc := where(f.Location); loc != "" {
			t.printf("           at %s\n", oneLine(loc))
		}
		if f.Message != "" && f.Message != f.Title {
			t.printf("           %s\n", oneLine(f.Message))
		}
		if f.Evidence != "" {
			t.printf("           evidence: %s\n", oneLine(f.Evidence))
		}
		if more := total[f.RuleID] - textPerRule; shown[f.RuleID] == textPerRule && more > 0 {
			t.printf("           %s\n", t.style(ansiDim, fmt.Sprintf("… and %d more %s finding(s); all are in --format json, html and sarif", more, f.RuleID)))
		}
	}
	if len(lib) > 0 {
		note := "not counted"
		if includeLibraries {
			note = "counted"
		}
		t.printf("  %s\n", t.style(ansiBold, fmt.Sprintf("In library code (%d finding(s), %s):", len(lib), note)))
		// One line per library and rule: the details are in the other formats.
		type key struct{ lib, rule string }
		var order []key
		n := map[key]int{}
		first := map[key]appscan.Finding{}
		for _, f := range lib {
			k := key{f.Library, f.RuleID}
			if n[k] == 0 {
				order = append(order, k)
				first[k] = f
			}
			n[k]++
		}
		for _, k := range order {
			f := first[k]
			t.printf("  %s %s  %s  %s × %d\n", t.sev(f.Severity), oneLine(f.Title), t.style(ansiDim, f.RuleID), oneLine(k.lib), n[k])
		}
	}
	if len(r.Controls) > 0 {
		var parts []string
		for _, c := range r.Controls {
			mark := t.style(ansiRed, "absent")
			if c.Present {
				mark = t.style(ansiGreen, "present")
			}
			parts = append(parts, oneLine(c.Name)+": "+mark)
		}
		t.printf("  controls: %s\n", strings.Join(parts, ", "))
	}
	for _, w := range r.Warnings {
		t.printf("  %s %s\n", t.style(ansiYellow, "warning:"), oneLine(w))
	}
}

// oneLine keeps evidence on one terminal line; control characters from a
// hostile app must not reach the terminal (they could rewrite the screen).
func oneLine(s string) string {
	const max = 200
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= max {
			b.WriteString("…")
			break
		}
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
