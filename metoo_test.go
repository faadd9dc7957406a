package lianxin

import (
	"testing"
	"time"
)

func TestGroupSimilar(t *testing.T) {
	at := func(number, cat string, lat, lng float64, supporters int) CaseRow {
		return CaseRow{Case: Case{Number: number, CategoryKey: cat, Location: Location{Lat: lat, Lng: lng}, Supporters: supporters,
			CreatedAt: time.Date(2026, 11, len(number), 0, 0, 0, 0, time.UTC)}}
	}
	cases := []CaseRow{
		at("A", "heating", 37.8560, 113.5726, 1),
		at("B", "heating", 37.8570, 113.5728, 0), // 112 m from A
		at("C", "heating", 37.8580, 113.5730, 0), // 112 m from B, 224 m from A: chained
		at("D", "heating", 37.8700, 113.5726, 0), // far
		at("E", "roads", 37.8561, 113.5726, 0),   // near, another category
		at("F", "heating", 0, 0, 0),              // no place
	}
	groups := GroupSimilar(cases, 150, 2, func(c CaseRow) int { return 1 + c.Supporters })
	if len(groups) != 1 {
		t.Fatalf("%d groups: %+v", len(groups), groups)
	}
	g := groups[0]
	if g.Category != "heating" || len(g.Cases) != 3 || g.Residents != 4 || g.Cases[0].Number != "A" {
		t.Errorf("group: %s, %d cases, %d residents, first %s", g.Category, len(g.Cases), g.Residents, g.Cases[0].Number)
	}
	if len(GroupSimilar(cases, 150, 4, func(CaseRow) int { return 1 })) != 0 {
		t.Error("a group smaller than the minimum is kept")
	}
}

func TestGridAt(t *testing.T) {
	d := &Directory{Grids: []Grid{
		{ID: "g1", StationID: "shuitan", Places: []string{"水滩一区"},
			Area: Area{Polygon: []Point{{37.8588, 113.5696}, {37.8588, 113.5730}, {37.8532, 113.5730}, {37.8532, 113.5696}}}},
		{ID: "g2", StationID: "shuitan", Places: []string{"水滩二区"}},
	}}
	for _, tc := range []struct {
		loc  Location
		want string
	}{
		{Location{Lat: 37.8560, Lng: 113.5712}, "g1"},
		{Location{Address: "水滩二区3号楼"}, "g2"},
		{Location{Lat: 37.9, Lng: 113.6, Label: "水滩一区北门"}, "g1"},
		{Location{Address: "赛鱼"}, ""},
	} {
		g, ok := d.GridAt(tc.loc)
		if g.ID != tc.want || ok != (tc.want != "") {
			t.Errorf("GridAt(%+v) = %s, %v; want %q", tc.loc, g.ID, ok, tc.want)
		}
	}
}
