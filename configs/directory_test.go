package configs

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/lianxin/lianxin"
)

func embeddedCategoryKeys(t *testing.T) []string {
	t.Helper()
	b, err := ReadData("", "categories.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cats, err := LoadCategories(b)
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]string, len(cats))
	for i, c := range cats {
		keys[i] = c.Key
	}
	return keys
}

func TestEmbeddedDirectoryLoads(t *testing.T) {
	b, err := ReadData("", "directory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := LoadDirectory(b, embeddedCategoryKeys(t))
	if err != nil {
		t.Fatal(err)
	}
	main, ok := d.Station("pingtanjie")
	if !ok || main.Kind != lianxin.StationKind {
		t.Fatalf("pingtanjie = %+v, %v; want the main station", main, ok)
	}
	stations := 0
	for _, s := range d.Stations {
		if s.Kind == lianxin.StationKind {
			stations++
		}
		// Every unit receives the public on the 15th (每月15日为接待群众日).
		has15 := false
		for _, r := range s.Reception {
			has15 = has15 || r.MonthDay == 15
		}
		if !has15 {
			t.Errorf("%s has no reception on the 15th", s.ID)
		}
		if _, ok := d.Head(s.ID); !ok {
			t.Errorf("%s has no head", s.ID)
		}
	}
	if stations < 3 {
		t.Errorf("%d stations; the 选择联络站 list needs several", stations)
	}
	for _, id := range []string{"shuitan", "dongyaofang"} {
		if p, ok := d.StationOf(id); !ok || p.ID != "pingtanjie" {
			t.Errorf("StationOf(%s) = %s, %v; want pingtanjie", id, p.ID, ok)
		}
	}
}

// Every category's default department must be in the directory, or a
// forwarded case would name a department nobody can look up.
func TestCategoryDepartmentsInDirectory(t *testing.T) {
	b, err := ReadData("", "directory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := LoadDirectory(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := ReadData("", "categories.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cats, err := LoadCategories(cb)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cats {
		if _, ok := d.Department(c.Department); !ok {
			t.Errorf("category %s: department %q is not in directory.yaml", c.Key, c.Department)
		}
	}
}

// validDirectory is small and valid; each bad case edits one spot of it and
// marks the line the error must name with "#<-".
const validDirectory = `stations:
  - id: s1
    name: 一站
    kind: station
    area:
      polygon:
        - {lat: 37.850, lng: 113.560}
        - {lat: 37.850, lng: 113.570}
        - {lat: 37.860, lng: 113.570}
        - {lat: 37.860, lng: 113.560}
    reception:
      - {month_day: 15, start: "09:00", end: "11:30"}
      - {weekday: 周三, start: "9:00", end: "11:00", deputies: [d2]}
    places: [一街]
  - id: p1
    name: 一点
    kind: point
    parent: s1
    area:
      center: {lat: 37.855, lng: 113.565}
      radius_m: 200
  - id: s2
    name: 二站
    kind: station
    area:
      polygon:
        - {lat: 37.850, lng: 113.570}
        - {lat: 37.850, lng: 113.580}
        - {lat: 37.860, lng: 113.580}
        - {lat: 37.860, lng: 113.570}
deputies:
  - {id: d1, name: 甲, level: 区级, station: s1, specialties: [heating], head: true}
  - {id: d2, name: 乙, level: 市级, station: s1, specialties: [roads]}
  - {id: d3, name: 丙, level: 区级, station: p1, head: true}
departments:
  - {id: heating_company, name: 供热站, contact: "0353-0000101"}
`

// The two stations' outlines, as validDirectory draws them.
const (
	s1Polygon = "      polygon:\n        - {lat: 37.850, lng: 113.560}\n        - {lat: 37.850, lng: 113.570}\n        - {lat: 37.860, lng: 113.570}\n        - {lat: 37.860, lng: 113.560}\n"
	s2Polygon = "      polygon:\n        - {lat: 37.850, lng: 113.570}\n        - {lat: 37.850, lng: 113.580}\n        - {lat: 37.860, lng: 113.580}\n        - {lat: 37.860, lng: 113.570}\n"
)

var testCategories = []string{"heating", "roads", "other"}

func TestLoadDirectoryValid(t *testing.T) {
	d, err := LoadDirectory([]byte(validDirectory), testCategories)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Stations) != 3 || len(d.Deputies) != 3 || len(d.Departments) != 1 {
		t.Errorf("loaded %d stations, %d deputies, %d departments", len(d.Stations), len(d.Deputies), len(d.Departments))
	}
}

var lineRE = regexp.MustCompile(`line (\d+):`)

func TestLoadDirectoryRefuses(t *testing.T) {
	for _, tc := range []struct {
		name     string
		old, new string
		want     string // in the error message
	}{
		{"unknown field", "    kind: station\n    area:", "    kind: station\n    aera: {} #<-\n    area:", "field aera not found"},
		{"missing id", "  - id: p1\n", "  - idd: p1 #<-\n", "field idd not found"},
		{"empty id", "  - id: p1\n", "  - id: \"\" #<-\n", "id is missing"},
		{"bad id", "  - id: p1\n", "  - id: P 1 #<-\n", "may hold only"},
		{"duplicate station id", "  - id: s2\n", "  - id: s1 #<-\n", `"s1" is already used on line 2`},
		{"deputy id reuses a station id", "{id: d2,", "{id: s2, #<-\n   ", `"s2" is already used`},
		{"duplicate department id", "  - {id: heating_company, name: 供热站", "  - {id: d1, name: 供热站 #<-\n   ", `"d1" is already used`},
		{"missing name", "  - id: s2\n    name: 二站\n", "  - id: s2 #<-\n", "s2: name is missing"},
		{"bad kind", "    kind: point\n", "    kind: spot #<-\n", `kind "spot"`},
		{"unknown parent", "    parent: s1\n", "    parent: s9 #<-\n", `parent "s9" is not a station`},
		{"point under a point", "    parent: s1\n", "    parent: p1 #<-\n", `is a point, not a station`},
		{"station with parent", "    name: 二站\n", "    name: 二站\n    parent: s1 #<-\n", "a station has no parent"},
		{"polygon of two points", s2Polygon, "      polygon: #<-\n        - {lat: 37.850, lng: 113.570}\n        - {lat: 37.850, lng: 113.580}\n",
			"polygon needs at least 3 points"},
		{"latitude out of range", "{lat: 37.850, lng: 113.580}", "{lat: 113.580, lng: 37.850} #<-", "not a place on earth"},
		{"missing coordinates", "{lat: 37.850, lng: 113.580}", "{} #<-", "has no lat and lng"},
		{"no area", "  - id: p1\n    name: 一点\n    kind: point\n    parent: s1\n    area:\n      center: {lat: 37.855, lng: 113.565}\n      radius_m: 200\n",
			"  - id: p1 #<-\n    name: 一点\n    kind: point\n    parent: s1\n", "area needs a polygon"},
		{"no radius", "      radius_m: 200\n", "      radius_m: 0 #<-\n", "needs radius_m"},
		{"point outside its station", "    area:\n      center: {lat: 37.855, lng: 113.565}", "    area: #<-\n      center: {lat: 37.855, lng: 113.5705}", "p1: area is not inside"},
		{"stations overlap", "    area:\n" + s2Polygon,
			"    area: #<-\n" + strings.Replace(s2Polygon, "113.570}\n        - {lat: 37.850", "113.568}\n        - {lat: 37.850", 1), "s2: area overlaps s1's (line 5)"},
		{"identical stations", "    area:\n" + s2Polygon, "    area: #<-\n" + s1Polygon, "s2: area overlaps s1's"},
		{"point overlaps station next door", "    area:\n      center: {lat: 37.855, lng: 113.565}", "    area: #<-\n      center: {lat: 37.855, lng: 113.569}",
			"p1: area is not inside"},
		{"month day 32", "{month_day: 15,", "{month_day: 32, #<-\n        ", "month_day 32"},
		{"month day and weekday", "{month_day: 15,", "{month_day: 15, weekday: 周三, #<-\n        ", "both month_day and weekday"},
		{"no day", "{month_day: 15,", "{ #<-\n        ", "needs month_day or weekday"},
		{"bad weekday", "weekday: 周三", "weekday: 周八 #<-\n        ", `"周八" is not a weekday`},
		{"bad start", `start: "09:00"`, `start: "9点" #<-` + "\n        ", "start:"},
		{"minutes out of range", `end: "11:30"`, `end: "11:60" #<-` + "\n        ", "end:"},
		{"end before start", `end: "11:30"`, `end: "08:30" #<-` + "\n        ", "ends (08:30) before it starts"},
		{"unknown reception deputy", "deputies: [d2]}", "deputies: [d2,\n          d9]} #<-", `"d9" is not in deputies`},
		{"reception deputy of another station", "    area:\n      polygon:\n        - {lat: 37.850, lng: 113.570}",
			"    reception: [{month_day: 15, start: \"09:00\", end: \"11:30\", deputies: [d1]}] #<-\n    area:\n      polygon:\n        - {lat: 37.850, lng: 113.570}",
			"s2: reception deputy d1 belongs to s1"},
		{"robot webhook not https", "    places: [一街]\n", "    places: [一街]\n    robot_webhook: http://example.com/x #<-\n", "not an https URL"},
		{"department robot not https", "  - {id: heating_company, name: 供热站", "  - {id: heating_company, robot_webhook: \"http://x/y\", #<-\n    name: 供热站", "not an https URL"},
		{"department openid", "  - {id: heating_company, name: 供热站", "  - {id: heating_company, openid: \"o 1\", #<-\n    name: 供热站", "is not a WeChat openid"},
		{"station phone not a number", "    places: [一街]\n", "    places: [一街]\n    phone: 找王主任 #<-\n", "is not a telephone number"},
		{"place twice", "    kind: point\n", "    kind: point\n    places: [一街] #<-\n", `place "一街" is already s1's`},
		{"bad level", "level: 市级", "level: 省级 #<-\n   ", `level "省级"`},
		{"deputy at unknown station", "station: s1, specialties: [roads]", "station: s7, #<-\n    specialties: [roads]", `station "s7" is not a station`},
		{"unknown specialty", "specialties: [roads]}", "specialties: [roads,\n    plumbing]} #<-", `specialty "plumbing" is not a category key`},
		{"two heads", "specialties: [roads]}", "specialties: [roads],\n    head: true} #<-", "s1 already has a head (line 32)"},
		{"no head", "{id: d3, name: 丙, level: 区级, station: p1, head: true}", "{id: d3, name: 丙, level: 区级, station: p1} #<-", "p1 has deputies but no head"},
		{"no stations", validDirectory[:strings.Index(validDirectory, "\ndeputies:")+1], "stations: [] #<-\n", "no stations"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(validDirectory, tc.old) {
				t.Fatalf("the case's old text is not in validDirectory: %q", tc.old)
			}
			src := strings.Replace(validDirectory, tc.old, tc.new, 1)
			_, err := LoadDirectory([]byte(src), testCategories)
			if err == nil {
				t.Fatalf("loaded; want an error with %q", tc.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) {
				t.Fatalf("error %q does not say %q", msg, tc.want)
			}
			want := markedLine(src)
			if want == 0 {
				return // the case's line is in its message (unmarkable: the marked text was deleted)
			}
			// The line must be on the error that says what is wrong.
			for _, part := range strings.Split(msg, "\n") {
				if !strings.Contains(part, tc.want) {
					continue
				}
				m := lineRE.FindStringSubmatch(part)
				if m == nil || m[1] != strconv.Itoa(want) {
					t.Errorf("error %q; want it at line %d\n%s", part, want, numbered(src))
				}
				return
			}
		})
	}
}

// Every problem is reported at once, in file order, so an editor fixes them
// in one pass.
func TestLoadDirectoryReportsAll(t *testing.T) {
	src := strings.Replace(validDirectory, "level: 市级", "level: 省级", 1)
	src = strings.Replace(src, "kind: point", "kind: spot", 1)
	_, err := LoadDirectory([]byte(src), testCategories)
	if err == nil {
		t.Fatal("loaded")
	}
	var lines []string
	for _, m := range lineRE.FindAllStringSubmatch(err.Error(), -1) {
		lines = append(lines, m[1])
	}
	if strings.Join(lines, ",") != "17,33" {
		t.Errorf("lines %v; want 17,33 in order:\n%v", lines, err)
	}
}

func TestLoadDirectoryEmpty(t *testing.T) {
	for _, src := range []string{"", "# nothing\n"} {
		if _, err := LoadDirectory([]byte(src), nil); err == nil {
			t.Errorf("%q loaded", src)
		}
	}
}

// markedLine is the 1-based line holding "#<-", or 0.
func markedLine(src string) int {
	for i, l := range strings.Split(src, "\n") {
		if strings.Contains(l, "#<-") {
			return i + 1
		}
	}
	return 0
}

func numbered(src string) string {
	var b strings.Builder
	for i, l := range strings.Split(src, "\n") {
		b.WriteString(strconv.Itoa(i+1) + "\t" + l + "\n")
	}
	return b.String()
}

// Staff settings are checked like the rest, at the line at fault.
func TestLoadDirectoryChecksStaff(t *testing.T) {
	const staff = "    places: [一街]\n    staff:\n      robot_webhook: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k\n      openids: [oStaffOne00000000000000001]\n"
	const district = "district:\n  name: 矿区人大常委会代表联络工作室\n  hours: 工作日 8:30–17:30\n  staff:\n    openids: [oStaffDistrict000000000001]\n"
	valid := strings.Replace(validDirectory, "    places: [一街]\n", staff, 1) + district
	d, err := LoadDirectory([]byte(valid), testCategories)
	if err != nil {
		t.Fatal(err)
	}
	if s, u, ok := d.StaffFor("p1"); !ok || u.ID != "s1" || s.OpenIDs[0] != "oStaffOne00000000000000001" {
		t.Errorf("the point's staff: %+v of %q, %v; want its station's", s, u.ID, ok)
	}
	if s, u, ok := d.StaffFor("s2"); !ok || u.ID != "" || s.OpenIDs[0] != "oStaffDistrict000000000001" {
		t.Errorf("a station without staff: %+v of %q, %v; want the district's", s, u.ID, ok)
	}
	for _, tc := range []struct{ name, old, new, want string }{
		{"robot not https", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k\n", "http://qyapi.weixin.qq.com/x #<-\n", "staff robot_webhook"},
		{"not an openid", "openids: [oStaffOne00000000000000001]", "openids: [13812345678] #<-", `staff openid "13812345678" is not a WeChat openid`},
		{"openid twice", "openids: [oStaffOne00000000000000001]", "openids: [oStaffOne00000000000000001,\n        oStaffOne00000000000000001] #<-", "listed twice"},
		{"nobody to tell", "    staff:\n      robot_webhook: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k\n      openids: [oStaffOne00000000000000001]\n",
			"    staff: {} #<-\n", "s1: staff need a robot_webhook or openids"},
		{"district openid", "openids: [oStaffDistrict000000000001]", "openids: [\"o 1\"] #<-", `district: staff openid "o 1"`},
		{"unknown district field", "  hours: 工作日", "  phones: x #<-\n  hours: 工作日", "field phones not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(valid, tc.old) {
				t.Fatalf("the case's old text is not in the directory: %q", tc.old)
			}
			src := strings.Replace(valid, tc.old, tc.new, 1)
			_, err := LoadDirectory([]byte(src), testCategories)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want one saying %q", err, tc.want)
			}
			want := markedLine(src)
			for _, part := range strings.Split(err.Error(), "\n") {
				if m := lineRE.FindStringSubmatch(part); strings.Contains(part, tc.want) && (m == nil || m[1] != strconv.Itoa(want)) {
					t.Errorf("error %q; want it at line %d\n%s", part, want, numbered(src))
				}
			}
		})
	}
}
