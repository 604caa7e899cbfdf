package digest

import (
	"strconv"
	"strings"
)

// Geometry of the inline SVG charts, in SVG user units. The templates only
// place what these types computed, so the numbers are tested in Go.
const (
	barWidth    = 460 // whole chart
	barLabelW   = 160 // label column
	barMaxW     = 240 // longest bar
	barRowH     = 26
	barPad      = 6
	lineWidth   = 640
	lineHeight  = 200
	linePadL    = 40
	linePadR    = 44
	linePadT    = 16
	linePadB    = 32
	maxXLabels  = 14
	labelMaxLen = 24
)

// bar is one horizontal bar.
type bar struct {
	Count
	Y, W   int // top and length
	TextY  int // baseline of the label and value
	ValueX int // where the value is written
	Short  string
}

// barChart is a horizontal bar chart of counts.
type barChart struct {
	ID, Title     string
	Width, Height int
	LabelW        int
	Bars          []bar
}

func newBarChart(id, title string, counts []Count) barChart {
	c := barChart{ID: id, Title: title, Width: barWidth, LabelW: barLabelW, Height: 2*barPad + len(counts)*barRowH}
	most := 0
	for _, n := range counts {
		most = max(most, n.N)
	}
	for i, n := range counts {
		w := 0
		if most > 0 {
			w = n.N * barMaxW / most
			if n.N > 0 {
				w = max(w, 2) // a count of one among hundreds stays visible
			}
		}
		y := barPad + i*barRowH
		label := n.Label
		if label == "" {
			label = n.Name
		}
		c.Bars = append(c.Bars, bar{Count: n, Y: y + 4, W: w, TextY: y + barRowH/2 + 5, ValueX: barLabelW + w + 6, Short: shorten(label, labelMaxLen)})
	}
	return c
}

// point is one day of the line chart.
type point struct {
	Count
	X, Y int
}

// tick is a labelled position on an axis.
type tick struct {
	Pos  int
	Text string
}

// lineChart is a line of counts per day.
type lineChart struct {
	ID, Title     string
	Width, Height int
	Left, Right   int // plot area, x
	Top, Bottom   int // plot area, y
	Points        []point
	Polyline      string
	XTicks        []tick
	YTicks        []tick
}

func newLineChart(id, title string, days []Count) lineChart {
	c := lineChart{ID: id, Title: title, Width: lineWidth, Height: lineHeight,
		Left: linePadL, Right: lineWidth - linePadR, Top: linePadT, Bottom: lineHeight - linePadB}
	if len(days) == 0 {
		return c
	}
	most := 1
	for _, d := range days {
		most = max(most, d.N)
	}
	span := c.Right - c.Left
	h := c.Bottom - c.Top
	every := (len(days) + maxXLabels - 1) / maxXLabels
	var pts []string
	for i, d := range days {
		x := c.Left
		if len(days) > 1 {
			x = c.Left + i*span/(len(days)-1)
		} else {
			x = c.Left + span/2
		}
		y := c.Bottom - d.N*h/most
		c.Points = append(c.Points, point{Count: d, X: x, Y: y})
		pts = append(pts, strconv.Itoa(x)+","+strconv.Itoa(y))
		if i%every == 0 {
			c.XTicks = append(c.XTicks, tick{Pos: x, Text: d.Label})
		}
	}
	c.Polyline = strings.Join(pts, " ")
	c.YTicks = []tick{{Pos: c.Bottom, Text: "0"}, {Pos: c.Top, Text: strconv.Itoa(most)}}
	if most >= 4 {
		c.YTicks = append(c.YTicks, tick{Pos: c.Bottom - h/2, Text: strconv.FormatFloat(float64(most)/2, 'f', -1, 64)})
	}
	return c
}

// shorten cuts s to n runes with an ellipsis.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
