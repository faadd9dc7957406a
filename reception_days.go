package lianxin

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Reception days in practice (接待日, issue 14): the duty roster staff keep
// in the console (who sits at which station on which day), residents'
// bookings made in chat («预约接待»: a day, a time slot with a capacity, the
// topic in a sentence), the walk-ins staff add on the day, and the reminders
// that go out before it.

// DayLayout is how a reception day is written in the roster and bookings.
const DayLayout = "2006-01-02"

// RosterEntry is one deputy on duty at a station on a day (值班表). A day
// with entries for a station overrides the directory's recurring reception
// of that day (who sits there, the hours); a day without one adds a
// reception day.
type RosterEntry struct {
	ID        int64     `json:"id" db:"id"`
	StationID string    `json:"station_id" db:"station_id"`
	Day       string    `json:"day" db:"day"` // 2026-12-15, the stations' date
	DeputyID  string    `json:"deputy_id" db:"deputy_id"`
	Start     string    `json:"start" db:"start_at"`
	End       string    `json:"end" db:"end_at"`
	Note      string    `json:"note,omitempty" db:"note"`
	CreatedBy string    `json:"created_by" db:"created_by"`
	CreatedAt time.Time `json:"created_at" db:"created_at"`
}

// Validate says what is wrong with an entry, as the key of the console's message.
func (e *RosterEntry) Validate(d *Directory) string {
	if _, err := time.Parse(DayLayout, e.Day); err != nil {
		return "roster_day"
	}
	if _, ok := d.Station(e.StationID); !ok {
		return "station_required"
	}
	if _, ok := d.Deputy(e.DeputyID); !ok {
		return "roster_deputy"
	}
	from, err1 := ParseClock(e.Start)
	to, err2 := ParseClock(e.End)
	if err1 != nil || err2 != nil || from >= to {
		return "roster_hours"
	}
	if utf8.RuneCountInString(e.Note) > 200 {
		return "text_too_long"
	}
	return ""
}

// ReceptionDay is a station's reception on one date: by the roster when it
// has entries for that day, else by the directory's recurring reception.
type ReceptionDay struct {
	StationID string
	Day       time.Time // midnight, in the stations' zone
	Start     string
	End       string
	// DeputyIDs on duty; empty means every deputy of the station.
	DeputyIDs  []string
	FromRoster bool
	// Monthly: the station's monthly reception day (每月15日为接待群众日)
	// falls on it — the day its residents are reminded of by mass send,
	// which the month's quota could not afford for every weekly session.
	Monthly bool
}

// Key is the day as the roster and bookings write it.
func (r ReceptionDay) Key() string { return r.Day.Format(DayLayout) }

// StartsAt is when the reception opens.
func (r ReceptionDay) StartsAt() time.Time {
	m, _ := ParseClock(r.Start)
	return r.Day.Add(time.Duration(m) * time.Minute)
}

// ReceptionOn returns the station's reception on day's date (in loc).
func (d *Directory) ReceptionOn(stationID string, day time.Time, loc *time.Location) (ReceptionDay, bool) {
	if loc == nil {
		loc = day.Location()
	}
	y, m, dd := day.In(loc).Date()
	midnight := time.Date(y, m, dd, 0, 0, 0, 0, loc)
	key := midnight.Format(DayLayout)
	rd := ReceptionDay{StationID: stationID, Day: midnight}
	st, known := d.Station(stationID)
	for _, r := range st.Reception {
		rd.Monthly = rd.Monthly || (r.MonthDay > 0 && r.OnDay(midnight, loc))
	}
	for _, e := range d.Roster {
		if e.StationID != stationID || e.Day != key {
			continue
		}
		if !rd.FromRoster || clockBefore(e.Start, rd.Start) {
			rd.Start = e.Start
		}
		if !rd.FromRoster || clockBefore(rd.End, e.End) {
			rd.End = e.End
		}
		rd.FromRoster = true
		if !slices.Contains(rd.DeputyIDs, e.DeputyID) {
			rd.DeputyIDs = append(rd.DeputyIDs, e.DeputyID)
		}
	}
	if rd.FromRoster || !known {
		return rd, rd.FromRoster
	}
	found, everyone := false, false
	for _, r := range st.Reception {
		if !r.OnDay(midnight, loc) {
			continue
		}
		if !found || clockBefore(r.Start, rd.Start) {
			rd.Start = r.Start
		}
		if !found || clockBefore(rd.End, r.End) {
			rd.End = r.End
		}
		found = true
		everyone = everyone || len(r.DeputyIDs) == 0
		for _, id := range r.DeputyIDs {
			if !slices.Contains(rd.DeputyIDs, id) {
				rd.DeputyIDs = append(rd.DeputyIDs, id)
			}
		}
	}
	if everyone {
		rd.DeputyIDs = nil
	}
	return rd, found
}

func clockBefore(a, b string) bool {
	x, err1 := ParseClock(a)
	y, err2 := ParseClock(b)
	return err1 == nil && (err2 != nil || x < y)
}

// ReceptionDays are the station's next n reception days from t's date on
// (today's included while it has not ended), looking at most horizon days
// ahead.
func (d *Directory) ReceptionDays(stationID string, t time.Time, n, horizon int, loc *time.Location) []ReceptionDay {
	if loc == nil {
		loc = t.Location()
	}
	var out []ReceptionDay
	y, m, dd := t.In(loc).Date()
	for i := 0; i <= horizon && len(out) < n; i++ {
		day := time.Date(y, m, dd+i, 0, 0, 0, 0, loc)
		rd, ok := d.ReceptionOn(stationID, day, loc)
		if !ok {
			continue
		}
		end, err := ParseClock(rd.End)
		if err != nil || !day.Add(time.Duration(end)*time.Minute).After(t) {
			continue
		}
		out = append(out, rd)
	}
	return out
}

// ReceptionSettings are the reception days' settings (reception in
// lianxin.yaml): the slots a day is booked in, how many residents a slot
// takes, how far ahead residents book, how many days they are offered, and
// how many days before a reception day its residents are reminded.
type ReceptionSettings struct {
	SlotMinutes int
	Capacity    int
	BookAhead   int // days
	Offer       int // reception days offered at once
	RemindDays  int
}

// Slot is a time slot of a reception day, "09:00-10:00".
type Slot struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Key is how a slot is stored: "09:00-10:00".
func (s Slot) Key() string { return s.Start + "-" + s.End }

// String is how residents read it: 9:00–10:00.
func (s Slot) String() string { return trimClock(s.Start) + "–" + trimClock(s.End) }

// Slots cuts the reception's hours into slots of minutes (the last one
// shorter when the hours do not divide).
func (r ReceptionDay) Slots(minutes int) []Slot {
	from, err1 := ParseClock(r.Start)
	to, err2 := ParseClock(r.End)
	if err1 != nil || err2 != nil || minutes <= 0 {
		return nil
	}
	var out []Slot
	for s := from; s < to; s += minutes {
		e := min(s+minutes, to)
		out = append(out, Slot{Start: clock(s), End: clock(e)})
	}
	return out
}

func clock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// Booking kinds and statuses.
const (
	BookingKindBooked = "booking" // 预约: booked in chat
	BookingKindWalkIn = "walkin"  // 现场: added by staff as they come

	BookingBooked     = "booked"     // 已预约
	BookingCancelled  = "cancelled"  // 已取消
	BookingArrived    = "arrived"    // 已到场
	BookingRegistered = "registered" // 已登记为案件
)

// Booking is a resident's appointment at a reception day, or a walk-in
// staff added on the day.
type Booking struct {
	ID        int64  `json:"id" db:"id"`
	Kind      string `json:"kind" db:"kind"`
	StationID string `json:"station_id" db:"station_id"`
	Day       string `json:"day" db:"day"`
	Slot      string `json:"slot" db:"slot"` // "09:00-10:00"; "" for a walk-in
	OpenID    string `json:"-" db:"openid"`
	Name      string `json:"name" db:"name"`
	Phone     string `json:"phone" db:"phone"`
	Topic     string `json:"topic" db:"topic"`
	Status    string `json:"status" db:"status"`
	// CaseNumber is the case registered from what was raised; DeputyID the
	// deputy on duty it went to.
	CaseNumber  string     `json:"case_number,omitempty" db:"case_number"`
	DeputyID    string     `json:"deputy_id,omitempty" db:"deputy_id"`
	SourceKey   string     `json:"-" db:"source_key"`
	CreatedBy   string     `json:"created_by" db:"created_by"`
	CreatedAt   time.Time  `json:"created_at" db:"created_at"`
	CancelledAt *time.Time `json:"cancelled_at,omitempty" db:"cancelled_at"`
}

// Number is the booking number residents are told: JD and the id.
func (b *Booking) Number() string { return BookingNumber(b.ID) }

// BookingNumber is booking id's number, JD00012.
func BookingNumber(id int64) string { return fmt.Sprintf("JD%05d", id) }

// ParseBookingNumber reads JD00012 (or jd12) back.
func ParseBookingNumber(s string) (int64, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	rest, ok := strings.CutPrefix(s, "JD")
	if !ok || rest == "" {
		return 0, false
	}
	var id int64
	for _, r := range rest {
		if r < '0' || r > '9' {
			return 0, false
		}
		id = id*10 + int64(r-'0')
		if id > 1<<40 {
			return 0, false
		}
	}
	return id, id > 0
}

// SlotFromKey reads "09:00-10:00".
func SlotFromKey(k string) Slot {
	a, b, _ := strings.Cut(k, "-")
	return Slot{Start: a, End: b}
}

// NewBooking is a booking to make: a resident's in chat (SourceKey is the
// message that confirmed it) or a walk-in staff add (Kind walkin).
type NewBooking struct {
	Booking
	Capacity int
	// Tag is the station's tag to give the resident.
	Tag string
	// Reminder is the notice the day before (nil: none).
	Reminder *Notice
	Audit    *AuditEntry
}

// Errors booking can meet.
var (
	// ErrSlotFull: the slot has as many bookings as its capacity.
	ErrSlotFull = Errorf(ECONFLICT, "the time slot is full")
	// ErrAlreadyBooked: the resident already has a booking that day.
	ErrAlreadyBooked = Errorf(ECONFLICT, "already booked that day")
)
