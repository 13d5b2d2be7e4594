package applab

import (
	"fmt"
	"html"
	"html/template"
	"strings"
)

// trendSeries are the severities the chart draws, worst first, with the
// class that colours them in the stylesheet (CSP forbids inline styles).
var trendSeries = []struct {
	name  string
	class string
	get   func(Counts) int
}{
	{"critical", "sev-critical", func(c Counts) int { return c.Critical }},
	{"high", "sev-high", func(c Counts) int { return c.High }},
	{"medium", "sev-medium", func(c Counts) int { return c.Medium }},
	{"low", "sev-low", func(c Counts) int { return c.Low }},
}

// TrendSVG draws the findings by severity across versions (oldest left)
// as an inline SVG line chart. Versions without a finished scan are left
// out. The SVG is built here, on the server, with every label escaped.
func TrendSVG(vs []Version) template.HTML {
	var pts []Version
	for _, v := range vs {
		if v.ScanID != 0 {
			pts = append(pts, v)
		}
	}
	if len(pts) == 0 {
		return ""
	}
	const w, h, left, right, top, bottom = 640, 240, 40, 110, 16, 48
	maxY := 1
	for _, v := range pts {
		for _, s := range trendSeries {
			maxY = max(maxY, s.get(v.Counts))
		}
	}
	x := func(i int) float64 {
		if len(pts) == 1 {
			return left + float64(w-left-right)/2
		}
		return left + float64(i)*float64(w-left-right)/float64(len(pts)-1)
	}
	y := func(n int) float64 { return top + float64(h-top-bottom)*(1-float64(n)/float64(maxY)) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="applab-trend" viewBox="0 0 %d %d" role="img" aria-labelledby="trend-title"><title id="trend-title">Findings by severity across versions</title>`, w, h)
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>`, left, h-bottom, w-right, h-bottom)
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>`, left, top, left, h-bottom)
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%.1f" text-anchor="end">%d</text>`, left-6, y(maxY)+4, maxY)
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%.1f" text-anchor="end">0</text>`, left-6, y(0)+4)
	for i, v := range pts {
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x(i), h-bottom+16, html.EscapeString(shorten(v.Label(), 18)))
	}
	for si, s := range trendSeries {
		var path strings.Builder
		for i, v := range pts {
			if i > 0 {
				path.WriteByte(' ')
			}
			fmt.Fprintf(&path, "%.1f,%.1f", x(i), y(s.get(v.Counts)))
		}
		fmt.Fprintf(&b, `<polyline class="series %s" points="%s"/>`, s.class, path.String())
		for i, v := range pts {
			n := s.get(v.Counts)
			fmt.Fprintf(&b, `<circle class="series %s" cx="%.1f" cy="%.1f" r="3"><title>%s: %d %s</title></circle>`,
				s.class, x(i), y(n), html.EscapeString(v.Label()), n, s.name)
		}
		fmt.Fprintf(&b, `<text class="legend %s" x="%d" y="%d">%s</text>`, s.class, w-right+12, top+12+si*18, s.name)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every interpolated text is escaped above
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
