package lianxin

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Kinds of liaison unit (Station.Kind): a station per sub-district (街道), a
// point per community (社区) under its station.
const (
	StationKind = "station"
	PointKind   = "point"
)

// Deputy levels (Deputy.Level).
const (
	LevelDistrict = "区级"
	LevelCity     = "市级"
)

// Directory is the liaison stations and points, their deputies and the
// departments cases are forwarded to: everything routing decides with. It is
// small (tens of units, a few hundred deputies at most), so lookups scan.
type Directory struct {
	Stations    []Station    `json:"stations" yaml:"stations"`
	Deputies    []Deputy     `json:"deputies" yaml:"deputies"`
	Departments []Department `json:"departments" yaml:"departments"`
	// District is the district office and its staff (the district queue).
	District District `json:"district" yaml:"district"`
	// Grids are the grids (网格) of the stations and points, with their workers.
	Grids []Grid `json:"grids,omitempty" yaml:"grids"`

	// Phrase turns a reason code and its details into the words staff read
	// on the timeline (the service sets it from configs/messages.yaml).
	Phrase func(code string, pairs ...string) string `json:"-" yaml:"-"`
	// Roster is the duty roster kept in the console (upcoming and recent
	// days), loaded with the directory: it overrides and adds to the
	// stations' recurring reception days (ReceptionOn).
	Roster []RosterEntry `json:"-" yaml:"-"`
}

// Station returns the station or point with the id.
func (d *Directory) Station(id string) (Station, bool) {
	for _, s := range d.Stations {
		if s.ID == id {
			return s, true
		}
	}
	return Station{}, false
}

// StationOf returns the station a unit belongs to: a point's parent, or the
// station itself. Reports and the station-level queue group cases this way.
func (d *Directory) StationOf(id string) (Station, bool) {
	s, ok := d.Station(id)
	if !ok || s.Kind != PointKind {
		return s, ok
	}
	return d.Station(s.Parent)
}

// Points returns the points under a station, in file order.
func (d *Directory) Points(stationID string) []Station {
	var ps []Station
	for _, s := range d.Stations {
		if s.Kind == PointKind && s.Parent == stationID {
			ps = append(ps, s)
		}
	}
	return ps
}

// Deputy returns the deputy with the id.
func (d *Directory) Deputy(id string) (Deputy, bool) {
	for _, p := range d.Deputies {
		if p.ID == id {
			return p, true
		}
	}
	return Deputy{}, false
}

// DeputiesOf returns the deputies attached to one unit (not its points'), in
// file order.
func (d *Directory) DeputiesOf(unitID string) []Deputy {
	var ds []Deputy
	for _, p := range d.Deputies {
		if p.StationID == unitID {
			ds = append(ds, p)
		}
	}
	return ds
}

// Head returns the head of a unit (站长, or a point's 负责人).
func (d *Directory) Head(unitID string) (Deputy, bool) {
	for _, p := range d.Deputies {
		if p.StationID == unitID && p.Head {
			return p, true
		}
	}
	return Deputy{}, false
}

// Department returns the department with the id.
func (d *Directory) Department(id string) (Department, bool) {
	for _, p := range d.Departments {
		if p.ID == id {
			return p, true
		}
	}
	return Department{}, false
}

// StationAt returns the most specific unit whose area contains p: a point
// wins over its station, because the community's own deputies know the
// blocks and the people. Use StationOf for the station above it.
func (d *Directory) StationAt(p Point) (Station, bool) {
	var station *Station
	for i, s := range d.Stations {
		if !s.Area.Contains(p) {
			continue
		}
		if s.Kind == PointKind {
			return s, true
		}
		if station == nil {
			station = &d.Stations[i]
		}
	}
	if station != nil {
		return *station, true
	}
	return Station{}, false
}

// NearestStation returns the station whose area is nearest to p, with the
// distance to its edge, when that is at most maxM. Only stations compete:
// outside every area a resident is in no community's blocks, and a station
// covers the gaps between its points.
func (d *Directory) NearestStation(p Point, maxM float64) (Station, float64, bool) {
	best, bestM := -1, math.Inf(1)
	for i, s := range d.Stations {
		if s.Kind != StationKind {
			continue
		}
		if m := s.Area.DistanceM(p); m < bestM {
			best, bestM = i, m
		}
	}
	if best < 0 || bestM > maxM {
		return Station{}, 0, false
	}
	return d.Stations[best], bestM, true
}

// StationByAddress finds the unit a typed address names through its Places.
// When an address names a point and its station ("平潭街水滩社区"), the point
// wins; an address naming two unrelated units is ambiguous and matches none.
// It returns the place name that matched.
func (d *Directory) StationByAddress(text string) (Station, string, bool) {
	if strings.TrimSpace(text) == "" {
		return Station{}, "", false
	}
	type hit struct {
		unit  Station
		place string
	}
	var hits []hit
	for _, s := range d.Stations {
		for _, pl := range s.Places {
			if pl != "" && strings.Contains(text, pl) {
				hits = append(hits, hit{s, pl})
				break
			}
		}
	}
	// Drop a station when one of its own points also matched.
	var kept []hit
	for _, h := range hits {
		shadowed := slices.ContainsFunc(hits, func(o hit) bool {
			return o.unit.Kind == PointKind && o.unit.Parent == h.unit.ID
		})
		if !shadowed {
			kept = append(kept, h)
		}
	}
	if len(kept) != 1 {
		return Station{}, "", false
	}
	return kept[0].unit, kept[0].place, true
}

// Station is a liaison station (联络站) or point (联络点).
type Station struct {
	ID      string `json:"id" yaml:"id"`
	Name    string `json:"name" yaml:"name"`
	Kind    string `json:"kind" yaml:"kind"` // "station" or "point"
	Parent  string `json:"parent,omitempty" yaml:"parent"`
	Address string `json:"address,omitempty" yaml:"address"`
	// Phone is the unit's telephone, given to residents who ask for it.
	Phone     string      `json:"phone,omitempty" yaml:"phone"`
	Area      Area        `json:"area" yaml:"area"`
	Reception []Reception `json:"reception,omitempty" yaml:"reception"`
	// RobotWebhook is the station's WeCom group robot, if it has one.
	RobotWebhook string `json:"robot_webhook,omitempty" yaml:"robot_webhook"`
	// Places are names residents type for somewhere in the unit (estates,
	// lanes, the community's own name), so a typed address routes like a
	// shared location does.
	Places []string `json:"places,omitempty" yaml:"places"`
	// Staff answer the unit's staff queue (see Staff); nil: a point's
	// station's staff, or the district's.
	Staff *Staff `json:"staff,omitempty" yaml:"staff"`
}

// Deputy is a people's-congress deputy attached to a station.
type Deputy struct {
	ID          string   `json:"id" yaml:"id"`
	Name        string   `json:"name" yaml:"name"`
	Level       string   `json:"level" yaml:"level"` // 区级 or 市级
	StationID   string   `json:"station" yaml:"station"`
	Specialties []string `json:"specialties,omitempty" yaml:"specialties"`
	Head        bool     `json:"head,omitempty" yaml:"head"`
}

// Department is a functional department (职能部门) cases are forwarded to.
type Department struct {
	ID      string `json:"id" yaml:"id"`
	Name    string `json:"name" yaml:"name"`
	Contact string `json:"contact,omitempty" yaml:"contact"` // for deputies: a phone number, an office
	// How the department is told of a case forwarded to it, when it can be
	// reached in chat: its WeCom group robot, or the WeChat user (openid)
	// of its desk, who follows the official account. Both are optional.
	RobotWebhook string `json:"robot_webhook,omitempty" yaml:"robot_webhook"`
	OpenID       string `json:"openid,omitempty" yaml:"openid"`
}

// DeputyRecord is a deputy with their WeChat binding.
type DeputyRecord struct {
	Deputy
	OpenID  string     `json:"-"`
	Bound   bool       `json:"bound"`
	BoundAt *time.Time `json:"bound_at,omitempty"`
	Active  bool       `json:"active"`
}

// DirectoryChange is one difference an import made.
type DirectoryChange struct {
	Kind   string   `json:"kind"` // station, deputy, department, category
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Action string   `json:"action"` // added, changed, removed, restored
	Fields []string `json:"fields,omitempty"`
}

func (c DirectoryChange) String() string {
	s := fmt.Sprintf("%-8s %-10s %s (%s)", c.Action, c.Kind, c.ID, c.Name)
	if len(c.Fields) > 0 {
		s += fmt.Sprintf(": %v", c.Fields)
	}
	return s
}
