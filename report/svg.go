package report

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"

	"github.com/lianxin/lianxin"
)

// The charts are drawn here as SVG, on the server: no chart library, no
// CDN, nothing for a browser to fetch, and they print as sharply as the
// text. Each takes its labels from the template that places it, so the
// Chinese stays with the document.

// palette: blue for what came in, green for what was done, red for what ran
// late; dark enough to tell apart on a black-and-white printer.
const (
	colorIn   = "#3b6ea5"
	colorDone = "#3f8f5a"
	colorLate = "#c0392b"
	colorGrid = "#d9d9d9"
	colorText = "#333333"
	svgFont   = `font-family="'Noto Sans CJK SC','Noto Sans SC','Source Han Sans SC','WenQuanYi Micro Hei','Microsoft YaHei',sans-serif"`
)

type svgBuf struct{ strings.Builder }

func (b *svgBuf) f(format string, args ...any) { fmt.Fprintf(&b.Builder, format, args...) }

func esc(s string) string { return html.EscapeString(s) }

func newSVG(w, h int, title string) *svgBuf {
	b := &svgBuf{}
	b.f(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s" %s font-size="12">`,
		w, h, w, h, esc(title), svgFont)
	b.f(`<title>%s</title>`, esc(title))
	return b
}

func (b *svgBuf) done() template.HTML {
	b.f(`</svg>`)
	return template.HTML(b.String()) // #nosec: built from escaped parts
}

// niceMax rounds a maximum up to 1, 2 or 5 times a power of ten, for axis ticks.
func niceMax(v float64) (top, step float64) {
	if v <= 0 {
		return 5, 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			top = m * p
			break
		}
	}
	step = top / 5
	if step < 1 {
		step, top = 1, math.Max(top, 1)
	}
	return top, step
}

func (b *svgBuf) legend(x, y int, items ...string) {
	for i := 0; i+1 < len(items); i += 2 {
		b.f(`<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d" fill="%s">%s</text>`,
			x, y-10, items[i+1], x+16, y, colorText, esc(items[i]))
		x += 16 + 14*len([]rune(items[i])) + 16
	}
}

// TrendChart is the month trend: for each month, the cases registered and
// the cases resolved side by side, and the overdue ones.
func TrendChart(trend []TrendPoint, title, received, resolved, overdue string) template.HTML {
	const w, h, left, right, top, bottom = 680, 260, 44, 12, 34, 40
	b := newSVG(w, h, title)
	max := 0
	for _, p := range trend {
		for _, m := range []lianxin.Measure{lianxin.MeasureReceived, lianxin.MeasureResolved, lianxin.MeasureOverdue} {
			max = int(math.Max(float64(max), float64(p.Figures[m].Value)))
		}
	}
	yTop, step := niceMax(float64(max))
	plotH := float64(h - top - bottom)
	y := func(v float64) float64 { return float64(h-bottom) - v/yTop*plotH }
	for v := 0.0; v <= yTop+0.001; v += step {
		b.f(`<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="%s"/>`, left, w-right, y(v), y(v), colorGrid)
		b.f(`<text x="%d" y="%.1f" text-anchor="end" fill="%s">%g</text>`, left-6, y(v)+4, colorText, v)
	}
	n := len(trend)
	if n == 0 {
		b.f(`<text x="%d" y="%d" fill="%s">—</text>`, w/2, h/2, colorText)
		return b.done()
	}
	slot := float64(w-left-right) / float64(n)
	bw := math.Min(18, slot/3.2)
	for i, p := range trend {
		cx := float64(left) + slot*(float64(i)+0.5)
		for j, m := range []struct {
			ms    lianxin.Measure
			color string
		}{{lianxin.MeasureReceived, colorIn}, {lianxin.MeasureResolved, colorDone}, {lianxin.MeasureOverdue, colorLate}} {
			v := float64(p.Figures[m.ms].Value)
			x := cx + (float64(j)-1.5)*bw
			b.f(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s %d</title></rect>`,
				x, y(v), bw-1, float64(h-bottom)-y(v), m.color, esc(p.Month), esc([]string{received, resolved, overdue}[j]), int(v))
		}
		label := p.Month
		if len(label) == 7 {
			label = label[2:4] + "." + label[5:]
		}
		b.f(`<text x="%.1f" y="%d" text-anchor="middle" fill="%s">%s</text>`, cx, h-bottom+16, colorText, esc(label))
	}
	b.legend(left, 18, received, colorIn, resolved, colorDone, overdue, colorLate)
	return b.done()
}

// BarChart is one horizontal bar per row for a measure (the categories).
func BarChart(rows []Row, m lianxin.Measure, title string) template.HTML {
	const w, left, right, barH, gap, top = 680, 130, 50, 18, 8, 10
	h := top + len(rows)*(barH+gap) + 10
	if len(rows) == 0 {
		h = 40
	}
	b := newSVG(w, h, title)
	max := 0
	for _, r := range rows {
		max = int(math.Max(float64(max), float64(r.N(m))))
	}
	scale := float64(w-left-right) / math.Max(1, float64(max))
	for i, r := range rows {
		y := top + i*(barH+gap)
		v := r.N(m)
		b.f(`<text x="%d" y="%d" text-anchor="end" fill="%s">%s</text>`, left-8, y+barH-5, colorText, esc(r.Name))
		b.f(`<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`, left, y, float64(v)*scale, barH, colorIn)
		b.f(`<text x="%.1f" y="%d" fill="%s">%d</text>`, float64(left)+float64(v)*scale+6, y+barH-5, colorText, v)
	}
	return b.done()
}

// StationsChart puts the stations side by side: for each, the cases
// handled, resolved and overdue.
func StationsChart(rows []Row, title, handled, resolved, overdue string) template.HTML {
	const w, left, right, barH, top = 680, 190, 50, 11, 34
	groupH := 3*barH + 14
	h := top + len(rows)*groupH + 6
	b := newSVG(w, h, title)
	max := 0
	for _, r := range rows {
		max = int(math.Max(float64(max), float64(r.N(lianxin.MeasureHandled))))
	}
	scale := float64(w-left-right) / math.Max(1, float64(max))
	for i, r := range rows {
		y0 := top + i*groupH
		b.f(`<text x="%d" y="%d" text-anchor="end" fill="%s">%s</text>`, left-8, y0+2*barH, colorText, esc(r.Name))
		for j, m := range []struct {
			ms    lianxin.Measure
			color string
		}{{lianxin.MeasureHandled, colorIn}, {lianxin.MeasureResolved, colorDone}, {lianxin.MeasureOverdue, colorLate}} {
			v := r.N(m.ms)
			y := y0 + j*barH
			b.f(`<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`, left, y, float64(v)*scale, barH-1, m.color)
			b.f(`<text x="%.1f" y="%d" fill="%s" font-size="10">%d</text>`, float64(left)+float64(v)*scale+4, y+barH-2, colorText, v)
		}
	}
	b.legend(left, 18, handled, colorIn, resolved, colorDone, overdue, colorLate)
	return b.done()
}

// DotMap draws the stations' and points' areas from the directory and a dot
// per case location over them: no map tiles, nothing fetched. Only the
// units listed are drawn (all when none), and the view fits them and the
// dots.
func DotMap(dir *lianxin.Directory, units []string, points []MapPoint, title, openLabel, doneLabel string) template.HTML {
	const w, h, pad = 680, 440, 24
	var shapes []lianxin.Station
	for _, s := range dir.Stations {
		if len(units) == 0 || contains(units, s.ID) {
			shapes = append(shapes, s)
		}
	}
	// Bounds of everything drawn, in degrees.
	minLat, maxLat, minLng, maxLng := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	grow := func(p lianxin.Point) {
		minLat, maxLat = math.Min(minLat, p.Lat), math.Max(maxLat, p.Lat)
		minLng, maxLng = math.Min(minLng, p.Lng), math.Max(maxLng, p.Lng)
	}
	for _, s := range shapes {
		for _, p := range outline(s.Area) {
			grow(p)
		}
	}
	for _, p := range points {
		grow(lianxin.Point{Lat: p.Lat, Lng: p.Lng})
	}
	b := newSVG(w, h, title)
	b.f(`<rect x="0" y="0" width="%d" height="%d" fill="#fbfbf8" stroke="%s"/>`, w, h, colorGrid)
	if math.IsInf(minLat, 1) {
		return b.done()
	}
	// Equirectangular around the middle latitude: true to shape at a
	// district's scale.
	k := math.Cos((minLat + maxLat) / 2 * math.Pi / 180)
	spanX, spanY := math.Max((maxLng-minLng)*k, 1e-6), math.Max(maxLat-minLat, 1e-6)
	scale := math.Min(float64(w-2*pad)/spanX, float64(h-2*pad-20)/spanY)
	ox := (float64(w) - spanX*scale) / 2
	oy := (float64(h-20) - spanY*scale) / 2
	xy := func(p lianxin.Point) (float64, float64) {
		return ox + (p.Lng-minLng)*k*scale, oy + (maxLat-p.Lat)*scale
	}
	// Areas first, then their names on top: a station's at the top of its
	// area (its points sit inside it), a point's in its middle.
	var labels svgBuf
	for _, s := range shapes {
		pts := outline(s.Area)
		if len(pts) == 0 {
			continue
		}
		var sb strings.Builder
		cx, cy, top := 0.0, 0.0, math.Inf(1)
		for _, p := range pts {
			x, y := xy(p)
			fmt.Fprintf(&sb, "%.1f,%.1f ", x, y)
			cx, cy, top = cx+x, cy+y, math.Min(top, y)
		}
		cx, cy = cx/float64(len(pts)), cy/float64(len(pts))
		style := `fill="#e8eef4" stroke="#6a8caf" stroke-width="1.5"`
		ly := top + 18
		if s.Kind == lianxin.PointKind {
			style = `fill="#f4efe2" stroke="#a08a5a" stroke-width="1" stroke-dasharray="4 3"`
			ly = cy
		}
		b.f(`<polygon points="%s" %s><title>%s</title></polygon>`, strings.TrimSpace(sb.String()), style, esc(s.Name))
		labels.f(`<text x="%.1f" y="%.1f" text-anchor="middle" fill="#555" font-size="11">%s</text>`, cx, ly, esc(shortName(s.Name)))
	}
	for _, p := range points {
		x, y := xy(lianxin.Point{Lat: p.Lat, Lng: p.Lng})
		c := colorDone
		if p.Open {
			c = colorLate
		}
		b.f(`<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s" fill-opacity="0.8" stroke="#fff" stroke-width="0.6"><title>%s</title></circle>`,
			x, y, c, esc(p.Number))
	}
	b.WriteString(labels.String())
	b.legend(pad, h-8, openLabel, colorLate, doneLabel, colorDone)
	return b.done()
}

// outline is an area's boundary: its polygon, or its circle as 36 points.
func outline(a lianxin.Area) []lianxin.Point {
	if len(a.Polygon) >= 3 {
		return a.Polygon
	}
	if a.Center == nil || a.RadiusM <= 0 {
		return nil
	}
	dLat := a.RadiusM / 6371000 * 180 / math.Pi
	dLng := dLat / math.Cos(a.Center.Lat*math.Pi/180)
	pts := make([]lianxin.Point, 36)
	for i := range pts {
		th := 2 * math.Pi * float64(i) / 36
		pts[i] = lianxin.Point{Lat: a.Center.Lat + dLat*math.Sin(th), Lng: a.Center.Lng + dLng*math.Cos(th)}
	}
	return pts
}

// shortName drops the common tail of a unit's name for the map's labels:
// 水滩社区人大代表联络点 → 水滩社区.
func shortName(name string) string {
	for _, tail := range []string{"人大代表联络站", "人大代表联络点", "联络站", "联络点"} {
		if s, ok := strings.CutSuffix(name, tail); ok && s != "" {
			return s
		}
	}
	return name
}
