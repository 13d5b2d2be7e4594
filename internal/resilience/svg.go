package resilience

import (
	"fmt"
	"math"
	"strings"
)

// The charts are drawn on the server as inline SVG, like the rest of the
// platform (no script, nothing external: the CSP allows neither). Every
// chart carries its figures in words for screen readers, and the pages
// show the same figures in a table.

// RadarChart is a domain radar: score and target per domain on 0–5 axes.
type RadarChart struct {
	Size    int
	Center  int
	Rings   []string // polygon points of the 1…5 rings
	Axes    []radarAxis
	Score   string // polygon points
	Target  string // polygon points
	Summary string
}

type radarAxis struct {
	X2, Y2         int
	LabelX, LabelY int
	Anchor         string
	Label          string
}

const radarSize, radarRadius = 360, 130

func radarPoint(i, n int, v float64) (float64, float64) {
	a := -math.Pi/2 + 2*math.Pi*float64(i)/float64(n)
	r := radarRadius * v / MaxLevel
	return float64(radarSize)/2 + r*math.Cos(a), float64(radarSize)/2 + r*math.Sin(a)
}

func polygon(n int, v func(i int) float64) string {
	var b strings.Builder
	for i := range n {
		x, y := radarPoint(i, n, v(i))
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.1f,%.1f", x, y)
	}
	return b.String()
}

// NewRadar draws the scored domains of sc.
func NewRadar(sc Scorecard) RadarChart {
	var ds []DomainScore
	for _, d := range sc.Domains {
		if d.Scored {
			ds = append(ds, d)
		}
	}
	c := RadarChart{Size: radarSize, Center: radarSize / 2}
	n := len(ds)
	if n < 3 {
		// A radar needs three axes; the page shows the bars and table.
		return RadarChart{}
	}
	for ring := 1; ring <= MaxLevel; ring++ {
		c.Rings = append(c.Rings, polygon(n, func(int) float64 { return float64(ring) }))
	}
	var words []string
	for i, d := range ds {
		x, y := radarPoint(i, n, MaxLevel)
		lx, ly := radarPoint(i, n, MaxLevel+0.9)
		anchor := "middle"
		switch {
		case lx < float64(radarSize)/2-10:
			anchor = "end"
		case lx > float64(radarSize)/2+10:
			anchor = "start"
		}
		c.Axes = append(c.Axes, radarAxis{X2: int(x), Y2: int(y), LabelX: int(lx), LabelY: int(ly) + 4, Anchor: anchor, Label: d.ID})
		words = append(words, fmt.Sprintf("%s %.2f (target %.1f)", d.Name, d.Score, d.Target))
	}
	c.Score = polygon(n, func(i int) float64 { return ds[i].Score })
	c.Target = polygon(n, func(i int) float64 { return ds[i].Target })
	c.Summary = "Scores by domain: " + strings.Join(words, "; ") + "."
	return c
}

// GapChart is a horizontal bar chart of score against target per domain.
type GapChart struct {
	Width, Height int
	LabelX, BarX  int // right edge of the labels, left edge of the bars
	Bars          []gapBar
	Ticks         []gapTick
	Summary       string
}

type gapBar struct {
	Y, ScoreW, TargetX int
	Label, Value       string
	Gap                bool
}

type gapTick struct {
	X     int
	Label string
}

const gapW, gapLabel, gapRow = 640, 230, 30

// NewGapChart draws the scored domains of sc.
func NewGapChart(sc Scorecard) GapChart {
	plot := gapW - gapLabel - 60
	x := func(v float64) int { return gapLabel + int(v*float64(plot)/MaxLevel+0.5) }
	c := GapChart{Width: gapW, LabelX: gapLabel - 6, BarX: gapLabel}
	for v := MinLevel; v <= MaxLevel; v++ {
		c.Ticks = append(c.Ticks, gapTick{X: x(float64(v)), Label: fmt.Sprint(v)})
	}
	var words []string
	y := 10
	for _, d := range sc.Domains {
		if !d.Scored {
			continue
		}
		c.Bars = append(c.Bars, gapBar{Y: y, ScoreW: x(d.Score) - gapLabel, TargetX: x(d.Target), Label: d.Name,
			Value: fmt.Sprintf("%.2f", d.Score), Gap: d.Gap > 0})
		words = append(words, fmt.Sprintf("%s %.2f, target %.1f, gap %.2f", d.Name, d.Score, d.Target, d.Gap))
		y += gapRow
	}
	c.Height = y + 24
	c.Summary = strings.Join(words, "; ")
	return c
}

// HeatClass is the CSS class of a heat-map cell for a median score.
func HeatClass(st Stat) string {
	switch {
	case st.TooFew:
		return "heat-none"
	case st.Median < 1.5:
		return "heat-1"
	case st.Median < 2.5:
		return "heat-2"
	case st.Median < 3.5:
		return "heat-3"
	case st.Median < 4.5:
		return "heat-4"
	}
	return "heat-5"
}
