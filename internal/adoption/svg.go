package adoption

import (
	"fmt"
	"strings"
	"time"
)

// trendChart is the sector trend drawn on the server as inline SVG (no
// script, no external resource: the site's CSP allows neither). Points
// are pre-computed here so that the template only prints numbers.
type trendChart struct {
	Width, Height int
	Points        string // "x,y x,y …" for <polyline>
	Dots          []trendDot
	YTicks        []trendTick
	XTicks        []trendTick
	Empty         bool
	Summary       string // the chart in words, for screen readers
}

type trendDot struct {
	X, Y  int
	Label string
}

type trendTick struct {
	Pos   int
	Label string
}

const (
	chartW, chartH         = 640, 240
	padL, padR, padT, padB = 44, 16, 12, 32
	plotW, plotH           = chartW - padL - padR, chartH - padT - padB
)

func newTrendChart(sv SectorView) trendChart {
	c := trendChart{Width: chartW, Height: chartH}
	for _, v := range []int{0, 25, 50, 75, 100} {
		c.YTicks = append(c.YTicks, trendTick{Pos: padT + plotH - v*plotH/100, Label: fmt.Sprintf("%d%%", v)})
	}
	if len(sv.Trend) == 0 {
		c.Empty = true
		return c
	}
	t0, t1 := sv.Trend[0].At, sv.Trend[len(sv.Trend)-1].At
	span := t1.Sub(t0)
	x := func(t time.Time) int {
		if span <= 0 {
			return padL + plotW/2
		}
		return padL + int(float64(plotW)*float64(t.Sub(t0))/float64(span))
	}
	var pts []string
	for _, p := range sv.Trend {
		px, py := x(p.At), padT+plotH-int(p.Share*float64(plotH)/100+0.5)
		pts = append(pts, fmt.Sprintf("%d,%d", px, py))
		c.Dots = append(c.Dots, trendDot{X: px, Y: py, Label: fmt.Sprintf("%s: %.0f%%", p.At.Format("2006-01-02"), p.Share)})
	}
	c.Points = strings.Join(pts, " ")
	c.XTicks = []trendTick{{Pos: x(t0), Label: t0.Format("2006-01-02")}}
	if span > 0 {
		c.XTicks = append(c.XTicks, trendTick{Pos: x(t1), Label: t1.Format("2006-01-02")})
	}
	first, last := sv.Trend[0], sv.Trend[len(sv.Trend)-1]
	switch {
	case len(sv.Trend) == 1:
		c.Summary = fmt.Sprintf("One report so far (%s): sector mean implementation %.0f%%.", first.At.Format("2006-01-02"), first.Share)
	default:
		verb := "rose"
		if last.Share < first.Share {
			verb = "fell"
		} else if fmt.Sprintf("%.0f", last.Share) == fmt.Sprintf("%.0f", first.Share) {
			verb = "stayed level"
		}
		c.Summary = fmt.Sprintf("Sector mean implementation %s from %.0f%% on %s to %.0f%% on %s over %d reports.",
			verb, first.Share, first.At.Format("2006-01-02"), last.Share, last.At.Format("2006-01-02"), len(sv.Trend))
	}
	return c
}
