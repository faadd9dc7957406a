package lianxin_test

import (
	"testing"

	"github.com/lianxin/lianxin"
)

func TestAreaOverlapsWithin(t *testing.T) {
	square := func(lat, lng, side float64) lianxin.Area {
		return lianxin.Area{Polygon: []lianxin.Point{
			{Lat: lat, Lng: lng}, {Lat: lat, Lng: lng + side}, {Lat: lat + side, Lng: lng + side}, {Lat: lat + side, Lng: lng},
		}}
	}
	circle := func(lat, lng, r float64) lianxin.Area {
		return lianxin.Area{Center: &lianxin.Point{Lat: lat, Lng: lng}, RadiusM: r}
	}
	a := square(37.85, 113.56, 0.01)
	for _, tc := range []struct {
		name             string
		x, y             lianxin.Area
		overlaps, within bool // x overlaps y, x within y
	}{
		{"same", a, a, true, true},
		{"shared edge", square(37.85, 113.57, 0.01), a, false, false},
		{"apart", square(37.87, 113.58, 0.01), a, false, false},
		{"half over", square(37.85, 113.565, 0.01), a, true, false},
		{"thin triangle over a shared edge", lianxin.Area{Polygon: []lianxin.Point{
			{Lat: 37.85, Lng: 113.568}, {Lat: 37.85, Lng: 113.58}, {Lat: 37.86, Lng: 113.57},
		}}, a, true, false},
		{"inside", square(37.852, 113.562, 0.002), a, true, true},
		{"circle inside", circle(37.855, 113.565, 300), a, true, true},
		{"circle touching the edge from inside", circle(37.855, 113.565, 440), a, true, true},
		{"circle sticking out", circle(37.855, 113.569, 300), a, true, false},
		{"circle outside", circle(37.855, 113.58, 300), a, false, false},
		{"no area", lianxin.Area{}, a, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.x.Overlaps(tc.y); got != tc.overlaps {
				t.Errorf("Overlaps = %v; want %v", got, tc.overlaps)
			}
			if got := tc.y.Overlaps(tc.x); got != tc.overlaps {
				t.Errorf("Overlaps, the other way round = %v; want %v", got, tc.overlaps)
			}
			if got := tc.x.Within(tc.y); got != tc.within {
				t.Errorf("Within = %v; want %v", got, tc.within)
			}
		})
	}
}

// The sample's stations lie in 阳泉市矿区, each around its own centre.
func TestSampleStationsInDistrict(t *testing.T) {
	d := sampleDirectory(t)
	for _, s := range d.Stations {
		if s.Kind != lianxin.StationKind {
			continue
		}
		var lat, lng float64
		for _, p := range s.Area.Polygon {
			lat += p.Lat / float64(len(s.Area.Polygon))
			lng += p.Lng / float64(len(s.Area.Polygon))
		}
		if lat < 37.84 || lat > 37.89 || lng < 113.54 || lng > 113.61 {
			t.Errorf("%s is centred at %.4f, %.4f: outside 阳泉市矿区", s.ID, lat, lng)
		}
		if !s.Area.Contains(lianxin.Point{Lat: lat, Lng: lng}) {
			t.Errorf("%s does not contain its own centre", s.ID)
		}
	}
}
