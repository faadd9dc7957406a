package lianxin_test

import (
	"fmt"
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
