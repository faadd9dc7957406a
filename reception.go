package lianxin

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Reception is a recurring reception day (接待日), e.g. every month on the 15th.
type Reception struct {
	MonthDay int    `json:"month_day,omitempty" yaml:"month_day"`
	Weekday  string `json:"weekday,omitempty" yaml:"weekday"`
	Start    string `json:"start" yaml:"start"`
	End      string `json:"end" yaml:"end"`
	// DeputyIDs on duty that day, in turn (坐堂接诊); empty means all.
	DeputyIDs []string `json:"deputies,omitempty" yaml:"deputies"`
}

// onDuty returns who is on reception duty on t's date: those a reception that
// day names, wherever they are attached (a point's deputy may sit at the
// station), and every deputy of a unit whose reception that day names nobody.
// Duty is by the day, not the hours: whoever sat at the station that day is
// already receiving residents and expects the cases.
func (d *Directory) onDuty(t time.Time, loc *time.Location) func(Deputy) bool {
	named := map[string]bool{}
	allOf := map[string]bool{}
	for _, s := range d.Stations {
		// The roster's day, when it has one, else the recurring reception.
		rd, ok := d.ReceptionOn(s.ID, t, loc)
		if !ok {
			continue
		}
		if len(rd.DeputyIDs) == 0 {
			allOf[s.ID] = true
		}
		for _, id := range rd.DeputyIDs {
			named[id] = true
		}
	}
	return func(p Deputy) bool { return named[p.ID] || allOf[p.StationID] }
}

// ParseClock reads a reception time, "9:00" or "09:00", as minutes after midnight.
func ParseClock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || len(h) < 1 || len(h) > 2 ||
		hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, fmt.Errorf("%q is not a time like 09:00", s)
	}
	return hh*60 + mm, nil
}

// weekdayZh is how a weekday is written after 周 or 星期.
var weekdayZh = [7]string{"日", "一", "二", "三", "四", "五", "六"}

// weekdayNames are the spellings ParseWeekday accepts: English for whoever
// edits the file in an editor, Chinese as the stations write it.
var weekdayNames = func() map[string]time.Weekday {
	m := map[string]time.Weekday{"周天": time.Sunday, "星期天": time.Sunday}
	for d := time.Sunday; d <= time.Saturday; d++ {
		m[strings.ToLower(d.String())] = d
		m["周"+weekdayZh[d]] = d
		m["星期"+weekdayZh[d]] = d
	}
	return m
}()

// ParseWeekday reads a weekday as stations write it: "wednesday", "周三" or "星期三".
func ParseWeekday(s string) (time.Weekday, error) {
	if d, ok := weekdayNames[strings.ToLower(strings.TrimSpace(s))]; ok {
		return d, nil
	}
	return 0, fmt.Errorf("%q is not a weekday like wednesday or 周三", s)
}

// OnDay reports whether t's date (in loc; nil means t's own zone) is a day
// of this reception. A month_day the month lacks (31 in April) is no day.
func (r Reception) OnDay(t time.Time, loc *time.Location) bool {
	if loc != nil {
		t = t.In(loc)
	}
	switch {
	case r.MonthDay > 0:
		return t.Day() == r.MonthDay
	case r.Weekday != "":
		wd, err := ParseWeekday(r.Weekday)
		return err == nil && t.Weekday() == wd
	}
	return false
}

// OnDuty reports whether t falls within a session: its day, from Start up to
// (not including) End.
func (r Reception) OnDuty(t time.Time, loc *time.Location) bool {
	start, end, ok := r.Next(t, loc)
	return ok && !t.Before(start) && t.Before(end)
}

// Next returns the session in progress at t or, failing that, the next one.
// ok is false for a reception whose times do not parse.
func (r Reception) Next(t time.Time, loc *time.Location) (start, end time.Time, ok bool) {
	if loc == nil {
		loc = t.Location()
	}
	from, err1 := ParseClock(r.Start)
	to, err2 := ParseClock(r.End)
	if err1 != nil || err2 != nil || from >= to {
		return time.Time{}, time.Time{}, false
	}
	y, m, dd := t.In(loc).Date()
	// A month_day of 31 skips the short months; a year bounds any valid reception.
	for i := 0; i <= 366; i++ {
		day := time.Date(y, m, dd+i, 0, 0, 0, 0, loc)
		if !r.OnDay(day, loc) {
			continue
		}
		start = day.Add(time.Duration(from) * time.Minute)
		end = day.Add(time.Duration(to) * time.Minute)
		if end.After(t) {
			return start, end, true
		}
	}
	return time.Time{}, time.Time{}, false
}

// String is the reception as residents read it: "每月15日 9:00–11:30",
// "每周三 9:00–11:30".
func (r Reception) String() string {
	day := ""
	switch {
	case r.MonthDay > 0:
		day = fmt.Sprintf("每月%d日", r.MonthDay)
	case r.Weekday != "":
		if wd, err := ParseWeekday(r.Weekday); err == nil {
			day = "每周" + weekdayZh[wd]
		}
	}
	return fmt.Sprintf("%s %s–%s", day, trimClock(r.Start), trimClock(r.End))
}

// trimClock drops an hour's leading zero: "09:00" reads as 9:00 in Chinese text.
func trimClock(s string) string {
	if len(s) == 5 && s[0] == '0' {
		return s[1:]
	}
	return s
}

// NextReception returns the station's reception in progress at t or coming
// next, with when it starts.
func (s Station) NextReception(t time.Time, loc *time.Location) (Reception, time.Time, bool) {
	var best Reception
	var bestAt time.Time
	found := false
	for _, r := range s.Reception {
		start, _, ok := r.Next(t, loc)
		if ok && (!found || start.Before(bestAt)) {
			best, bestAt, found = r, start, true
		}
	}
	return best, bestAt, found
}
