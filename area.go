package lianxin

import (
	"math"
	"slices"
)

// Point is a WGS-84 coordinate as WeChat location messages carry it.
type Point struct {
	Lat float64 `json:"lat" yaml:"lat"`
	Lng float64 `json:"lng" yaml:"lng"`
}

// Area is where a station or point serves: a polygon, or a centre and radius.
type Area struct {
	Polygon []Point `json:"polygon,omitempty" yaml:"polygon"`
	Center  *Point  `json:"center,omitempty" yaml:"center"`
	RadiusM float64 `json:"radius_m,omitempty" yaml:"radius_m"`
}

// Contains reports whether p lies inside the area.
func (a Area) Contains(p Point) bool {
	if len(a.Polygon) >= 3 {
		return pointInPolygon(p, a.Polygon)
	}
	if a.Center != nil && a.RadiusM > 0 {
		return DistanceM(*a.Center, p) <= a.RadiusM
	}
	return false
}

// DistanceM is how far p is from the area's edge in metres (0 inside).
func (a Area) DistanceM(p Point) float64 {
	if a.Contains(p) {
		return 0
	}
	if a.Center != nil && a.RadiusM > 0 {
		return math.Max(0, DistanceM(*a.Center, p)-a.RadiusM)
	}
	best := math.Inf(1)
	for i := range a.Polygon {
		q, r := a.Polygon[i], a.Polygon[(i+1)%len(a.Polygon)]
		best = math.Min(best, distanceToSegmentM(p, q, r))
	}
	return best
}

// pointInPolygon is the even-odd ray cast; the district is small enough that
// treating degrees as planar coordinates is exact to well under a metre.
func pointInPolygon(p Point, poly []Point) bool {
	in := false
	for i, j := 0, len(poly)-1; i < len(poly); j, i = i, i+1 {
		a, b := poly[i], poly[j]
		if (a.Lat > p.Lat) != (b.Lat > p.Lat) &&
			p.Lng < (b.Lng-a.Lng)*(p.Lat-a.Lat)/(b.Lat-a.Lat)+a.Lng {
			in = !in
		}
	}
	return in
}

const earthRadiusM = 6371000

// DistanceM is the great-circle distance between two points in metres.
func DistanceM(p, q Point) float64 {
	la1, la2 := p.Lat*math.Pi/180, q.Lat*math.Pi/180
	dla := la2 - la1
	dln := (q.Lng - p.Lng) * math.Pi / 180
	h := math.Sin(dla/2)*math.Sin(dla/2) + math.Cos(la1)*math.Cos(la2)*math.Sin(dln/2)*math.Sin(dln/2)
	return 2 * earthRadiusM * math.Asin(math.Min(1, math.Sqrt(h)))
}

// distanceToSegmentM projects onto a local equirectangular plane around p.
func distanceToSegmentM(p, a, b Point) float64 {
	k := math.Cos(p.Lat * math.Pi / 180)
	ax, ay := (a.Lng-p.Lng)*k, a.Lat-p.Lat
	bx, by := (b.Lng-p.Lng)*k, b.Lat-p.Lat
	dx, dy := bx-ax, by-ay
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = math.Max(0, math.Min(1, -(ax*dx+ay*dy)/l))
	}
	x, y := ax+t*dx, ay+t*dy
	return math.Sqrt(x*x+y*y) * math.Pi / 180 * earthRadiusM
}

// Overlaps reports whether two areas share more than 1% of the smaller one.
// The slack forgives a shared boundary typed a digit differently on each
// side; anything more makes StationAt ambiguous.
func (a Area) Overlaps(b Area) bool {
	ra, rb := a.ring(), b.ring()
	if ra == nil || rb == nil {
		return false
	}
	areaA, areaB, both := sweep(ra, rb)
	return both > areaSlack*math.Min(areaA, areaB)
}

// Within reports whether a lies inside b, give or take 1% of a's area.
func (a Area) Within(b Area) bool {
	ra, rb := a.ring(), b.ring()
	if ra == nil || rb == nil {
		return false
	}
	areaA, _, both := sweep(ra, rb)
	return areaA-both <= areaSlack*areaA
}

// areaSlack is the share of an area that may stick out or overlap unremarked.
const areaSlack = 0.01

// ring is the area's outline: its polygon, or its circle as 72 vertices (the
// polygon falls short of the circle by at most 0.1% of the radius).
func (a Area) ring() []Point {
	if len(a.Polygon) >= 3 {
		return a.Polygon
	}
	if a.Center == nil || a.RadiusM <= 0 {
		return nil
	}
	const n = 72
	c := *a.Center
	dLat := a.RadiusM / earthRadiusM * 180 / math.Pi
	dLng := dLat / math.Cos(c.Lat*math.Pi/180)
	pts := make([]Point, n)
	for i := range pts {
		th := 2 * math.Pi * float64(i) / n
		pts[i] = Point{Lat: c.Lat + dLat*math.Sin(th), Lng: c.Lng + dLng*math.Cos(th)}
	}
	return pts
}

// sweep measures two polygons: each one's area and the area they share, in
// m². It cuts the plane into north-south slabs at every vertex and every
// crossing of two edges. Within a slab no edge starts, ends or crosses
// another, so what lies inside each polygon (even-odd, as Contains decides)
// is a stack of trapezoids, and the lengths across the slab's middle times
// its width are exact: no tolerance to tune, no sliver missed.
func sweep(a, b []Point) (areaA, areaB, both float64) {
	var xs []float64
	for _, p := range a {
		xs = append(xs, p.Lng)
	}
	for _, p := range b {
		xs = append(xs, p.Lng)
	}
	edges := append(edgesOf(a), edgesOf(b)...)
	for i := range edges {
		for j := i + 1; j < len(edges); j++ {
			if x, ok := crossLng(edges[i], edges[j]); ok {
				xs = append(xs, x)
			}
		}
	}
	slices.Sort(xs)
	xs = slices.Compact(xs)
	for i := 0; i+1 < len(xs); i++ {
		w, x := xs[i+1]-xs[i], (xs[i]+xs[i+1])/2
		sa, sb := spans(a, x), spans(b, x)
		areaA += w * spanLen(sa)
		areaB += w * spanLen(sb)
		for j := 0; j+1 < len(sa); j += 2 {
			for k := 0; k+1 < len(sb); k += 2 {
				both += w * math.Max(0, math.Min(sa[j+1], sb[k+1])-math.Max(sa[j], sb[k]))
			}
		}
	}
	// Degrees² to m² on the local plane, as pointInPolygon treats degrees.
	m := math.Pi / 180 * earthRadiusM
	f := m * m * math.Cos(a[0].Lat*math.Pi/180)
	return areaA * f, areaB * f, both * f
}

type segment struct{ p, q Point }

func edgesOf(poly []Point) []segment {
	es := make([]segment, len(poly))
	for i := range poly {
		es[i] = segment{poly[i], poly[(i+1)%len(poly)]}
	}
	return es
}

// crossLng is the longitude where two segments meet, if they meet at one point.
func crossLng(s, t segment) (float64, bool) {
	dx1, dy1 := s.q.Lng-s.p.Lng, s.q.Lat-s.p.Lat
	dx2, dy2 := t.q.Lng-t.p.Lng, t.q.Lat-t.p.Lat
	den := dx1*dy2 - dy1*dx2
	if den == 0 {
		return 0, false // parallel: where they touch, their vertices are already cuts
	}
	ex, ey := t.p.Lng-s.p.Lng, t.p.Lat-s.p.Lat
	u := (ex*dy2 - ey*dx2) / den
	v := (ex*dy1 - ey*dx1) / den
	if u < 0 || u > 1 || v < 0 || v > 1 {
		return 0, false
	}
	return s.p.Lng + u*dx1, true
}

// spans are the latitudes where the line of longitude x enters and leaves
// poly, sorted: inside from spans[0] to spans[1], spans[2] to spans[3], ...
func spans(poly []Point, x float64) []float64 {
	var ys []float64
	for i := range poly {
		p, q := poly[i], poly[(i+1)%len(poly)]
		if (p.Lng < x) != (q.Lng < x) {
			ys = append(ys, p.Lat+(x-p.Lng)*(q.Lat-p.Lat)/(q.Lng-p.Lng))
		}
	}
	slices.Sort(ys)
	return ys
}

func spanLen(ys []float64) float64 {
	l := 0.0
	for j := 0; j+1 < len(ys); j += 2 {
		l += ys[j+1] - ys[j]
	}
	return l
}
