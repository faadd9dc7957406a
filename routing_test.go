package lianxin_test

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/configs"
	"github.com/lianxin/lianxin/flows"
)

// sampleDirectory is configs/directory.yaml as the service embeds it.
func sampleDirectory(t *testing.T) *lianxin.Directory {
	t.Helper()
	b, err := configs.ReadData("", "directory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := configs.LoadDirectory(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The timeline's words for reasons, as the service sets them.
	m, err := configs.ReadData("", "messages.yaml")
	if err != nil {
		t.Fatal(err)
	}
	texts, err := flows.LoadTexts(m)
	if err != nil {
		t.Fatal(err)
	}
	d.Phrase = func(code string, pairs ...string) string { return texts.Get("reason_"+code, pairs...) }
	return d
}

// Beijing time; a fixed zone keeps the tests independent of the host's tzdata.
var cst = time.FixedZone("CST", 8*3600)

// Days in March 2026 with known receptions in the sample directory.
var (
	saturday = time.Date(2026, 3, 14, 10, 0, 0, 0, cst) // no reception anywhere
	tuesday  = time.Date(2026, 3, 10, 10, 0, 0, 0, cst) // 平潭街 坐堂: d-pt-02, d-pt-03
	thursday = time.Date(2026, 3, 12, 10, 0, 0, 0, cst) // 平潭街 坐堂: d-pt-04, d-pt-05
	the15th  = time.Date(2026, 3, 15, 10, 0, 0, 0, cst) // 接待群众日 everywhere, everyone
)

var (
	heating  = lianxin.Category{Key: "heating", Name: "供暖"}
	property = lianxin.Category{Key: "property", Name: "物业管理"}
	roads    = lianxin.Category{Key: "roads", Name: "道路设施"}
	// unclassified matches no specialty: what a case without a category gets.
	unclassified = lianxin.Category{}
)

// Places in the sample directory's areas.
var (
	inShuitan     = lianxin.Point{Lat: 37.8560, Lng: 113.5725}
	inDongyaofang = lianxin.Point{Lat: 37.8600, Lng: 113.5815}
	inPingtanjie  = lianxin.Point{Lat: 37.8500, Lng: 113.5780} // in the station, in neither point
	inSaiyu       = lianxin.Point{Lat: 37.8700, Lng: 113.5570}
	inGuishigou   = lianxin.Point{Lat: 37.8730, Lng: 113.5760}
	inQiaotou     = lianxin.Point{Lat: 37.8650, Lng: 113.5970}
	southOfPTJ    = lianxin.Point{Lat: 37.8450, Lng: 113.5760} // ~330 m south of 平潭街's edge
	gapNearPTJ    = lianxin.Point{Lat: 37.8620, Lng: 113.5866} // between 平潭街 (~40 m) and 桥头 (~180 m)
	gapNearQT     = lianxin.Point{Lat: 37.8620, Lng: 113.5882} // between 平潭街 (~200 m) and 桥头 (~40 m)
	farAway       = lianxin.Point{Lat: 37.8300, Lng: 113.5200} // kilometres from every station
)

func TestStationAt(t *testing.T) {
	d := sampleDirectory(t)
	for _, tc := range []struct {
		name          string
		p             lianxin.Point
		unit, station string // "" when nowhere
	}{
		{"水滩社区 is its point", inShuitan, "shuitan", "pingtanjie"},
		{"东窑房社区 is its point", inDongyaofang, "dongyaofang", "pingtanjie"},
		{"平潭街 outside its points", inPingtanjie, "pingtanjie", "pingtanjie"},
		{"赛鱼", inSaiyu, "saiyu", "saiyu"},
		{"贵石沟", inGuishigou, "guishigou", "guishigou"},
		{"桥头", inQiaotou, "qiaotou", "qiaotou"},
		{"outside every area", southOfPTJ, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, ok := d.StationAt(tc.p)
			if ok != (tc.unit != "") || s.ID != tc.unit {
				t.Fatalf("StationAt = %q, %v; want %q", s.ID, ok, tc.unit)
			}
			if !ok {
				return
			}
			st, ok := d.StationOf(s.ID)
			if !ok || st.ID != tc.station {
				t.Errorf("StationOf(%s) = %q, %v; want %q", s.ID, st.ID, ok, tc.station)
			}
		})
	}
}

func TestPoints(t *testing.T) {
	d := sampleDirectory(t)
	var ids []string
	for _, p := range d.Points("pingtanjie") {
		ids = append(ids, p.ID)
	}
	if fmt.Sprint(ids) != "[shuitan dongyaofang]" {
		t.Errorf("Points(pingtanjie) = %v; want [shuitan dongyaofang]", ids)
	}
	if ps := d.Points("saiyu"); len(ps) != 0 {
		t.Errorf("Points(saiyu) = %v; want none", ps)
	}
}

func TestNearestStation(t *testing.T) {
	d := sampleDirectory(t)
	s, m, ok := d.NearestStation(southOfPTJ, lianxin.NearbyLimitM)
	if !ok || s.ID != "pingtanjie" || m < 250 || m > 400 {
		t.Errorf("NearestStation(south of 平潭街) = %s, %.0f m, %v; want pingtanjie at ~330 m", s.ID, m, ok)
	}
	if _, _, ok := d.NearestStation(southOfPTJ, 200); ok {
		t.Error("NearestStation with a 200 m limit found a station ~330 m away")
	}
	// Points never compete: 0 m from a point's area is still its station.
	if s, m, ok := d.NearestStation(inShuitan, 100); !ok || s.ID != "pingtanjie" || m != 0 {
		t.Errorf("NearestStation(in 水滩) = %s, %.0f m, %v; want pingtanjie at 0", s.ID, m, ok)
	}
}

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
		{"location in 水滩社区", at(inShuitan), "", "shuitan", "定位在辖区内: 水滩社区人大代表联络点"},
		{"location in 平潭街 outside its points", at(inPingtanjie), "", "pingtanjie", "定位在辖区内"},
		{"location in 赛鱼", at(inSaiyu), "", "saiyu", "定位在辖区内"},
		{"the location beats the choice", at(inShuitan), "qiaotou", "shuitan", "定位在辖区内"},
		{"just outside goes to the nearest", at(southOfPTJ), "", "pingtanjie", "就近分派: 距平潭街街道人大代表联络站约3"},
		{"in a gap, nearer 平潭街", at(gapNearPTJ), "", "pingtanjie", "就近分派"},
		{"in a gap, nearer 桥头", at(gapNearQT), "", "qiaotou", "就近分派"},
		{"far away", at(farAway), "", "", ""},
		{"far away, typed address", lianxin.Location{Lat: farAway.Lat, Lng: farAway.Lng, Address: "东窑房2号楼"}, "", "dongyaofang", "按地址: 东窑房"},
		{"far away, resident chose", at(farAway), "saiyu", "saiyu", "群众自选: 赛鱼街道人大代表联络站"},
		{"address naming a point and its station", lianxin.Location{Address: "平潭街水滩社区5号楼"}, "", "shuitan", "按地址: 水滩"},
		{"address naming only the station", lianxin.Location{Address: "平潭街菜市场门口"}, "", "pingtanjie", "按地址"},
		{"WeChat's label names the place", lianxin.Location{Label: "阳泉市矿区河滩西巷"}, "", "dongyaofang", "按地址: 河滩西巷"},
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
			reason: "按专长: 物业管理",
		},
		{
			name: "specialty beats fewer open cases",
			in: lianxin.PickInput{StationID: "pingtanjie", Category: heating, Now: saturday,
				Open: map[string]int{"d-pt-02": 5, "d-pt-04": 3, "d-pt-03": 0, "d-pt-05": 0}},
			want:   "d-pt-04",
			reason: "按专长: 供暖,在办件最少",
		},
		{
			name: "reception duty beats fewer open cases",
			in: lianxin.PickInput{StationID: "pingtanjie", Category: heating, Now: thursday,
				Open: map[string]int{"d-pt-02": 0, "d-pt-04": 4}},
			want:   "d-pt-04",
			reason: "按专长: 供暖,接待日值班",
		},
		{
			name:   "specialty beats reception duty",
			in:     lianxin.PickInput{StationID: "pingtanjie", Category: roads, Now: tuesday},
			want:   "d-pt-05",
			reason: "按专长: 道路设施",
		},
		{
			name: "reception duty, then fewest open",
			in: lianxin.PickInput{StationID: "pingtanjie", Category: unclassified, Now: tuesday,
				Open: map[string]int{"d-pt-02": 2, "d-pt-03": 1}},
			want:   "d-pt-03",
			reason: "接待日值班,在办件最少",
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
			reason: "接待日值班,在办件最少",
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
			reason: "按专长: 供暖,轮流分派",
		},
		{
			name:   "the head is not in the rotation",
			in:     lianxin.PickInput{StationID: "pingtanjie", Category: lianxin.Category{Key: "housing", Name: "房屋产权"}, Now: saturday},
			want:   "d-pt-03", // the head d-pt-01 has housing too
			reason: "按专长: 房屋产权",
		},
		{
			name:   "a point's case stays with the point",
			in:     lianxin.PickInput{StationID: "shuitan", Category: heating, Now: saturday},
			want:   "d-st-02",
			reason: "按专长: 供暖",
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
			reason: "联络点无可派代表,转联络站,按专长: 供暖,在办件最少",
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

func TestReception(t *testing.T) {
	monthly := lianxin.Reception{MonthDay: 15, Start: "09:00", End: "11:30"}
	weekly := lianxin.Reception{Weekday: "周三", Start: "9:00", End: "11:00"}
	day31 := lianxin.Reception{MonthDay: 31, Start: "09:00", End: "11:30"}
	at := func(mo time.Month, d, h, m int) time.Time { return time.Date(2026, mo, d, h, m, 0, 0, cst) }

	for _, tc := range []struct {
		name          string
		r             lianxin.Reception
		t             time.Time
		onDay, onDuty bool
		next          time.Time // start of Next
	}{
		{"before the session on the day", monthly, at(3, 15, 8, 59), true, false, at(3, 15, 9, 0)},
		{"at the start", monthly, at(3, 15, 9, 0), true, true, at(3, 15, 9, 0)},
		{"during", monthly, at(3, 15, 11, 29), true, true, at(3, 15, 9, 0)},
		{"at the end (exclusive)", monthly, at(3, 15, 11, 30), true, false, at(4, 15, 9, 0)},
		{"another day", monthly, at(3, 16, 10, 0), false, false, at(4, 15, 9, 0)},
		{"across the year", monthly, at(12, 20, 10, 0), false, false, time.Date(2027, 1, 15, 9, 0, 0, 0, cst)},
		{"weekly, on a Wednesday", weekly, at(3, 11, 10, 0), true, true, at(3, 11, 9, 0)},
		{"weekly, on a Thursday", weekly, at(3, 12, 10, 0), false, false, at(3, 18, 9, 0)},
		{"the 31st skips April", day31, at(4, 1, 10, 0), false, false, at(5, 31, 9, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.r.OnDay(tc.t, cst); got != tc.onDay {
				t.Errorf("OnDay = %v; want %v", got, tc.onDay)
			}
			if got := tc.r.OnDuty(tc.t, cst); got != tc.onDuty {
				t.Errorf("OnDuty = %v; want %v", got, tc.onDuty)
			}
			start, end, ok := tc.r.Next(tc.t, cst)
			if !ok || !start.Equal(tc.next) || !end.After(start) {
				t.Errorf("Next = %v–%v, %v; want start %v", start, end, ok, tc.next)
			}
		})
	}

	// Duty is judged in the reception's zone, not the instant's.
	if !monthly.OnDay(time.Date(2026, 3, 14, 17, 0, 0, 0, time.UTC), cst) {
		t.Error("17:00 UTC on the 14th is the 15th in 阳泉")
	}
	if _, _, ok := (lianxin.Reception{MonthDay: 15, Start: "11:00", End: "09:00"}).Next(at(3, 1, 0, 0), cst); ok {
		t.Error("Next of a reception ending before it starts")
	}
	for r, want := range map[*lianxin.Reception]string{&monthly: "每月15日 9:00–11:30", &weekly: "每周三 9:00–11:00"} {
		if got := r.String(); got != want {
			t.Errorf("String = %q; want %q", got, want)
		}
	}
}

func TestNextReception(t *testing.T) {
	d := sampleDirectory(t)
	ptj, _ := d.Station("pingtanjie")
	for _, tc := range []struct {
		t    time.Time
		want string
		at   time.Time
	}{
		{saturday, "每月15日 9:00–11:30", time.Date(2026, 3, 15, 9, 0, 0, 0, cst)},
		{time.Date(2026, 3, 15, 12, 0, 0, 0, cst), "每周二 9:00–11:30", time.Date(2026, 3, 17, 9, 0, 0, 0, cst)},
		{time.Date(2026, 3, 17, 10, 0, 0, 0, cst), "每周二 9:00–11:30", time.Date(2026, 3, 17, 9, 0, 0, 0, cst)}, // in progress
	} {
		r, at, ok := ptj.NextReception(tc.t, cst)
		if !ok || r.String() != tc.want || !at.Equal(tc.at) {
			t.Errorf("NextReception(%v) = %q at %v, %v; want %q at %v", tc.t, r.String(), at, ok, tc.want, tc.at)
		}
	}
	if _, _, ok := (lianxin.Station{}).NextReception(saturday, cst); ok {
		t.Error("a station without receptions has a next one")
	}
}

func TestParseClock(t *testing.T) {
	for in, want := range map[string]int{"09:00": 540, "9:00": 540, "11:30": 690, "00:00": 0, "23:59": 1439} {
		if got, err := lianxin.ParseClock(in); err != nil || got != want {
			t.Errorf("ParseClock(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "9", "9点", "24:00", "12:60", "9:5", "-1:00", "123:00", "9:00am"} {
		if got, err := lianxin.ParseClock(in); err == nil {
			t.Errorf("ParseClock(%q) = %d; want an error", in, got)
		}
	}
}

func TestParseWeekday(t *testing.T) {
	for in, want := range map[string]time.Weekday{
		"wednesday": time.Wednesday, "Wednesday": time.Wednesday, "周三": time.Wednesday,
		"星期三": time.Wednesday, "周日": time.Sunday, "周天": time.Sunday, "星期天": time.Sunday, "周六": time.Saturday,
	} {
		if got, err := lianxin.ParseWeekday(in); err != nil || got != want {
			t.Errorf("ParseWeekday(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "wed", "周八", "礼拜三"} {
		if _, err := lianxin.ParseWeekday(in); err == nil {
			t.Errorf("ParseWeekday(%q) succeeded", in)
		}
	}
}

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
