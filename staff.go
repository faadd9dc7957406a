package lianxin

import (
	"fmt"
	"strings"
	"time"
)

// Staff are the people who answer a staff queue: a station's clerks, or the
// district office's. A case is in a staff queue (Case.NeedsStaff) when the
// resident asked for a person (人工), when nobody could be assigned (every
// deputy returned it), or when no station could be decided; it is in its
// station's queue, or the district's when it has no station. Staff are told
// through a WeCom group robot and/or customer-service messages to their own
// WeChat (the staff follow the official account; their openids are in the
// directory).
type Staff struct {
	RobotWebhook string   `json:"robot_webhook,omitempty" yaml:"robot_webhook"`
	OpenIDs      []string `json:"openids,omitempty" yaml:"openids"`
}

// Reachable reports whether anyone can be told.
func (s *Staff) Reachable() bool { return s != nil && (s.RobotWebhook != "" || len(s.OpenIDs) > 0) }

// District is the district office (区人大常委会代表联络工作室): its staff take
// the district queue, and a station's when the station has no staff of its
// own.
type District struct {
	// Name is how residents are told who will contact them; empty: the
	// messages' district_office.
	Name string `json:"name,omitempty" yaml:"name"`
	// Hours is when its staff work, as residents read it (工作日 8:30–17:30).
	Hours string `json:"hours,omitempty" yaml:"hours"`
	Staff *Staff `json:"staff,omitempty" yaml:"staff"`
}

// StaffFor returns who answers the staff queue of a unit (a station or a
// point; "" for the district queue): a point's own staff, else its
// station's, else the district's. unit is the unit whose staff they are,
// zero when they are the district's. ok is false when no one is
// configured anywhere: the case is then only in the register.
func (d *Directory) StaffFor(unitID string) (staff Staff, unit Station, ok bool) {
	for id := unitID; id != ""; {
		u, found := d.Station(id)
		if !found {
			break
		}
		if u.Staff.Reachable() {
			return *u.Staff, u, true
		}
		id = u.Parent
	}
	if d.District.Staff.Reachable() {
		return *d.District.Staff, Station{}, true
	}
	return Staff{}, Station{}, false
}

// ContactUnit is the unit whose staff will contact a resident about a case
// of unitID: the one StaffFor finds, or, when only the district (or nobody)
// has staff, the case's own station, whose register holds it all the same.
// It is zero for the district.
func (d *Directory) ContactUnit(unitID string) Station {
	if _, u, ok := d.StaffFor(unitID); ok && u.ID != "" {
		return u
	} else if ok {
		return Station{}
	}
	u, _ := d.StationOf(unitID)
	return u
}

// ReceptionHours lists a unit's receptions as residents read them:
// "每月15日 9:00–11:30；每周三 9:00–11:00".
func (s Station) ReceptionHours() string {
	parts := make([]string, len(s.Reception))
	for i, r := range s.Reception {
		parts[i] = r.String()
	}
	return strings.Join(parts, "；")
}

// NextReceptionText is the unit's next reception after t as residents
// read it, "11月28日（周三）9:00–11:00", or "" when it has none.
func (s Station) NextReceptionText(t time.Time, loc *time.Location) string {
	r, start, ok := s.NextReception(t, loc)
	if !ok {
		return ""
	}
	if loc != nil {
		start = start.In(loc)
	}
	return fmt.Sprintf("%d月%d日（周%s）%s–%s", start.Month(), start.Day(), weekdayZh[start.Weekday()], trimClock(r.Start), trimClock(r.End))
}
