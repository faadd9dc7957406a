package lianxin_test

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
)

func TestRouteStation(t *testing.T) {
	d := sampleDirectory(t)
	at := func(p lianxin.Point) lianxin.Location { return lianxin.Location{Lat: p.Lat, Lng: p.Lng} }
	for _, tc := range []struct {
		name   string
		loc    lianxin.Location
		choice string
		want   string // "" when unroutable
		reason string // prefix of the reason
	}{
		{"location in 水滩社区", at(inShuitan), "", "shuitan", "定位在辖区内：水滩社区人大代表联络点"},
		{"location in 平潭街 outside its points", at(inPingtanjie), "", "pingtanjie", "定位在辖区内"},
		{"location in 赛鱼", at(inSaiyu), "", "saiyu", "定位在辖区内"},
		{"the location beats the choice", at(inShuitan), "qiaotou", "shuitan", "定位在辖区内"},
		{"just outside goes to the nearest", at(southOfPTJ), "", "pingtanjie", "就近分派：距平潭街街道人大代表联络站约3"},
		{"in a gap, nearer 平潭街", at(gapNearPTJ), "", "pingtanjie", "就近分派"},
		{"in a gap, nearer 桥头", at(gapNearQT), "", "qiaotou", "就近分派"},
		{"far away", at(farAway), "", "", ""},
		{"far away, typed address", lianxin.Location{Lat: farAway.Lat, Lng: farAway.Lng, Address: "东窑房2号楼"}, "", "dongyaofang", "按地址：东窑房"},
		{"far away, resident chose", at(farAway), "saiyu", "saiyu", "群众自选：赛鱼街道人大代表联络站"},
		{"address naming a point and its station", lianxin.Location{Address: "平潭街水滩社区5号楼"}, "", "shuitan", "按地址：水滩"},
		{"address naming only the station", lianxin.Location{Address: "平潭街菜市场门口"}, "", "pingtanjie", "按地址"},
		{"WeChat's label names the place", lianxin.Location{Label: "阳泉市矿区河滩西巷"}, "", "dongyaofang", "按地址：河滩西巷"},
		{"address naming two stations is ambiguous", lianxin.Location{Address: "赛鱼到桥头的公交车"}, "", "", ""},
		{"ambiguous address, resident chose", lianxin.Location{Address: "赛鱼到桥头的公交车"}, "qiaotou", "qiaotou", "群众自选"},
		{"address with no place", lianxin.Location{Address: "3号楼2单元"}, "", "", ""},
		{"choice by full name", lianxin.Location{}, "桥头街道人大代表联络站", "qiaotou", "群众自选"},
		{"choice of a point", lianxin.Location{}, " dongyaofang ", "dongyaofang", "群众自选"},
		{"unknown choice", lianxin.Location{}, "nowhere", "", ""},
		{"nothing at all", lianxin.Location{}, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, reason, ok := d.RouteStation(tc.loc, tc.choice)
			if ok != (tc.want != "") || id != tc.want {
				t.Fatalf("RouteStation = %q, %q, %v; want %q", id, reason, ok, tc.want)
			}
			if !strings.HasPrefix(reason, tc.reason) {
				t.Errorf("reason %q; want it to start %q", reason, tc.reason)
			}
		})
	}
}

func TestPickDeputy(t *testing.T) {
	d := sampleDirectory(t)
	shuitanAll := []string{"d-st-01", "d-st-02", "d-st-03", "d-st-04"}
	ptjPool := []string{"d-pt-02", "d-pt-03", "d-pt-04", "d-pt-05", "d-pt-06", "d-pt-07"}
	for _, tc := range []struct {
		name   string
		in     lianxin.PickInput
		want   string // "" when nobody
		reason string
	}{
		{
			name:   "the only specialist",
			in:     lianxin.PickInput{StationID: "pingtanjie", Category: property, Now: saturday},
			want:   "d-pt-03",
			reason: "按专长：物业管理",
		},
		{
			name: "specialty beats fewer open cases",
			in: lianxin.PickInput{StationID: "pingtanjie", Category: heating, Now: saturday,
				Open: map[string]int{"d-pt-02": 5, "d-pt-04": 3, "d-pt-03": 0, "d-pt-05": 0}},
			want:   "d-pt-04",
			reason: "按专长：供暖，在办件最少",
		},
		{
			name: "reception duty beats fewer open cases",
			in: lianxin.PickInput{StationID: "pingtanjie", Category: heating, Now: thursday,
				Open: map[string]int{"d-pt-02": 0, "d-pt-04": 4}},
			want:   "d-pt-04",
			reason: "按专长：供暖，接待日值班",
		},
		{
			name:   "specialty beats reception duty",
			in:     lianxin.PickInput{StationID: "pingtanjie", Category: roads, Now: tuesday},
			want:   "d-pt-05",
			reason: "按专长：道路设施",
		},
		{
			name: "reception duty, then fewest open",
			in: lianxin.PickInput{StationID: "pingtanjie", Category: unclassified, Now: tuesday,
				Open: map[string]int{"d-pt-02": 2, "d-pt-03": 1}},
			want:   "d-pt-03",
			reason: "接待日值班，在办件最少",
		},
		{
			name: "on the 15th everyone is on duty, which decides nothing",
			in: lianxin.PickInput{StationID: "pingtanjie", Category: unclassified, Now: the15th,
				Open: map[string]int{"d-pt-02": 1, "d-pt-03": 1, "d-pt-04": 1, "d-pt-05": 1, "d-pt-06": 1}},
			want:   "d-pt-07",
			reason: "在办件最少",
		},
		{
			name: "the 15th is judged in Beijing time",
			in: lianxin.PickInput{StationID: "shuitan", Category: unclassified, Loc: cst,
				Now: time.Date(2026, 3, 14, 17, 0, 0, 0, time.UTC), // 01:00 on the 15th in 阳泉
				// Not on duty on a Saturday, d-st-04 would win on open cases.
				Open: map[string]int{"d-st-02": 1, "d-st-03": 1}},
			want:   "d-st-04",
			reason: "在办件最少",
		},
		{
			name: "weekly 坐堂 at the point",
			in: lianxin.PickInput{StationID: "shuitan", Category: unclassified, Now: time.Date(2026, 3, 11, 15, 0, 0, 0, cst),
				Open: map[string]int{"d-st-02": 3, "d-st-03": 2}},
			want:   "d-st-03",
			reason: "接待日值班，在办件最少",
		},
		{
			name: "fewest open cases",
			in: lianxin.PickInput{StationID: "pingtanjie", Category: unclassified, Now: saturday,
				Open: map[string]int{"d-pt-02": 3, "d-pt-03": 2, "d-pt-04": 1, "d-pt-05": 2, "d-pt-06": 5, "d-pt-07": 4}},
			want:   "d-pt-04",
			reason: "在办件最少",
		},
		{
			name:   "tie: the first in id order",
			in:     lianxin.PickInput{StationID: "pingtanjie", Category: unclassified, Now: saturday},
			want:   "d-pt-02",
			reason: "轮流分派",
		},
		{
			name:   "tie: the one after the last assigned",
			in:     lianxin.PickInput{StationID: "pingtanjie", Category: unclassified, Now: saturday, LastAssigned: "d-pt-04"},
			want:   "d-pt-05",
			reason: "轮流分派",
		},
		{
			name:   "tie: after the last in id order, round to the first",
			in:     lianxin.PickInput{StationID: "pingtanjie", Category: unclassified, Now: saturday, LastAssigned: "d-pt-07"},
			want:   "d-pt-02",
			reason: "轮流分派",
		},
		{
			name:   "tie within the specialists",
			in:     lianxin.PickInput{StationID: "pingtanjie", Category: heating, Now: saturday, LastAssigned: "d-pt-02"},
			want:   "d-pt-04",
			reason: "按专长：供暖，轮流分派",
		},
		{
			name:   "the head is not in the rotation",
			in:     lianxin.PickInput{StationID: "pingtanjie", Category: lianxin.Category{Key: "housing", Name: "房屋产权"}, Now: saturday},
			want:   "d-pt-03", // the head d-pt-01 has housing too
			reason: "按专长：房屋产权",
		},
		{
			name:   "a point's case stays with the point",
			in:     lianxin.PickInput{StationID: "shuitan", Category: heating, Now: saturday},
			want:   "d-st-02",
			reason: "按专长：供暖",
		},
		{
			name:   "the sole deputy left",
			in:     lianxin.PickInput{StationID: "guishigou", Category: roads, Now: saturday},
			want:   "d-gsg-02",
			reason: "唯一可派代表",
		},
		{
			name:   "station head when nobody else can",
			in:     lianxin.PickInput{StationID: "guishigou", Category: heating, Now: saturday, Exclude: []string{"d-gsg-02"}},
			want:   "d-gsg-01",
			reason: "站长兜底",
		},
		{
			name:   "point's head when its pool is used up",
			in:     lianxin.PickInput{StationID: "shuitan", Category: heating, Now: saturday, Exclude: []string{"d-st-02", "d-st-03", "d-st-04"}},
			want:   "d-st-01",
			reason: "联络点负责人兜底",
		},
		{
			name: "then the station's pool",
			in: lianxin.PickInput{StationID: "shuitan", Category: heating, Now: saturday, Exclude: shuitanAll,
				Open: map[string]int{"d-pt-02": 1}},
			want:   "d-pt-04",
			reason: "联络点无可派代表，转联络站，按专长：供暖，在办件最少",
		},
		{
			name:   "then the station's head",
			in:     lianxin.PickInput{StationID: "shuitan", Category: heating, Now: saturday, Exclude: slices.Concat(shuitanAll, ptjPool)},
			want:   "d-pt-01",
			reason: "站长兜底",
		},
		{
			name: "nobody: the district queue",
			in:   lianxin.PickInput{StationID: "shuitan", Category: heating, Now: saturday, Exclude: slices.Concat(shuitanAll, ptjPool, []string{"d-pt-01"})},
			want: "",
		},
		{
			name: "unknown unit",
			in:   lianxin.PickInput{StationID: "nowhere", Category: heating, Now: saturday},
			want: "",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, reason, ok := d.PickDeputy(tc.in)
			if ok != (tc.want != "") || p.ID != tc.want {
				t.Fatalf("PickDeputy = %q (%s), %v; want %q", p.ID, reason, ok, tc.want)
			}
			if reason != tc.reason {
				t.Errorf("reason %q; want %q", reason, tc.reason)
			}
		})
	}
}

// A unit with no deputies at all sends its cases up (a point) or to the
// district (a station).
func TestPickDeputyEmptyUnits(t *testing.T) {
	d := &lianxin.Directory{
		Stations: []lianxin.Station{
			{ID: "s", Kind: lianxin.StationKind},
			{ID: "p", Kind: lianxin.PointKind, Parent: "s"},
			{ID: "empty", Kind: lianxin.StationKind},
		},
		Deputies: []lianxin.Deputy{
			{ID: "d-s-1", StationID: "s", Head: true},
			{ID: "d-s-2", StationID: "s"},
		},
	}
	if p, reason, ok := d.PickDeputy(lianxin.PickInput{StationID: "p", Now: saturday}); !ok || p.ID != "d-s-2" || reason != "parent, sole" { // no phrasebook: the codes
		t.Errorf("point without deputies: %q, %q, %v; want d-s-2 from its station", p.ID, reason, ok)
	}
	if p, _, ok := d.PickDeputy(lianxin.PickInput{StationID: "empty", Now: saturday}); ok {
		t.Errorf("station without deputies picked %q; want the district queue", p.ID)
	}
}

// Over many ties, taking turns gives every deputy the same share, whether
// cases close at once (every count stays equal) or pile up.
func TestPickDeputyRoundRobinIsFair(t *testing.T) {
	d := sampleDirectory(t)
	for _, tc := range []struct {
		name     string
		category lianxin.Category
		closes   bool
		want     map[string]int
	}{
		{"cases close at once", unclassified, true,
			map[string]int{"d-pt-02": 100, "d-pt-03": 100, "d-pt-04": 100, "d-pt-05": 100, "d-pt-06": 100, "d-pt-07": 100}},
		{"cases stay open", unclassified, false,
			map[string]int{"d-pt-02": 100, "d-pt-03": 100, "d-pt-04": 100, "d-pt-05": 100, "d-pt-06": 100, "d-pt-07": 100}},
		{"among specialists", heating, true, map[string]int{"d-pt-02": 300, "d-pt-04": 300}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]int{}
			open := map[string]int{}
			last := ""
			for i := range 600 {
				p, _, ok := d.PickDeputy(lianxin.PickInput{StationID: "pingtanjie", Category: tc.category, Now: saturday, Open: open, LastAssigned: last})
				if !ok {
					t.Fatalf("assignment %d: nobody", i)
				}
				got[p.ID]++
				last = p.ID
				if !tc.closes {
					open[p.ID]++
					if spread := maxMin(open); spread > 1 {
						t.Fatalf("after %d assignments open cases differ by %d: %v", i+1, spread, open)
					}
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("shares %v; want %v", got, tc.want)
			}
		})
	}
}

func maxMin(m map[string]int) int {
	lo, hi := math.MaxInt, 0
	for _, v := range m {
		lo, hi = min(lo, v), max(hi, v)
	}
	return hi - lo
}
