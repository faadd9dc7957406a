package lianxin_test

import (
	"testing"
	"time"

	"github.com/lianxin/lianxin"
)

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
