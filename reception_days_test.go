package lianxin_test

import (
	"slices"
	"testing"

	"github.com/lianxin/lianxin"
)

// TestRosterDrivesReceptionAndRouting: a roster day overrides the
// directory's recurring reception (who sits, the hours) and routing's
// «on duty» follows it; a roster day the directory lacks is a reception
// day; monthly days stay monthly (the ones reminded by mass send).
func TestRosterDrivesReceptionAndRouting(t *testing.T) {
	d := sampleDirectory(t)
	// Tuesday: 平潭街's weekly 坐堂 names d-pt-02 and d-pt-03.
	rd, ok := d.ReceptionOn("pingtanjie", tuesday, cst)
	if !ok || rd.FromRoster || !slices.Equal(rd.DeputyIDs, []string{"d-pt-02", "d-pt-03"}) || rd.Monthly {
		t.Fatalf("directory's Tuesday: %+v %v", rd, ok)
	}
	d.Roster = []lianxin.RosterEntry{
		{StationID: "pingtanjie", Day: "2026-03-10", DeputyID: "d-pt-05", Start: "14:00", End: "16:00"},
		{StationID: "pingtanjie", Day: "2026-03-14", DeputyID: "d-pt-04", Start: "09:00", End: "10:00"},
		{StationID: "pingtanjie", Day: "2026-03-15", DeputyID: "d-pt-02", Start: "09:00", End: "11:30"},
	}
	rd, ok = d.ReceptionOn("pingtanjie", tuesday, cst)
	if !ok || !rd.FromRoster || !slices.Equal(rd.DeputyIDs, []string{"d-pt-05"}) || rd.Start != "14:00" {
		t.Errorf("roster's Tuesday: %+v", rd)
	}
	if p, _, _ := d.PickDeputy(lianxin.PickInput{StationID: "pingtanjie", Category: unclassified, Now: tuesday, Loc: cst}); p.ID != "d-pt-05" {
		t.Errorf("Tuesday's case went to %s, want the roster's d-pt-05", p.ID)
	}
	if _, ok := d.ReceptionOn("pingtanjie", saturday, cst); !ok {
		t.Errorf("the roster's Saturday is no reception day")
	}
	if p, _, _ := d.PickDeputy(lianxin.PickInput{StationID: "pingtanjie", Category: unclassified, Now: saturday, Loc: cst}); p.ID != "d-pt-04" {
		t.Errorf("Saturday's case went to %s, want the roster's d-pt-04", p.ID)
	}
	if rd, _ := d.ReceptionOn("pingtanjie", the15th, cst); !rd.Monthly || !rd.FromRoster {
		t.Errorf("the 15th with a roster: %+v", rd)
	}
	days := d.ReceptionDays("pingtanjie", saturday.AddDate(0, 0, -5), 3, 30, cst)
	if len(days) != 3 || days[0].Key() != "2026-03-10" || days[1].Key() != "2026-03-12" || days[2].Key() != "2026-03-14" {
		t.Errorf("next days: %+v", days)
	}
	if slots := days[0].Slots(60); len(slots) != 2 || slots[1].String() != "15:00–16:00" {
		t.Errorf("slots: %+v", slots)
	}
	if e := (lianxin.RosterEntry{StationID: "pingtanjie", Day: "2026-3-1", DeputyID: "d-pt-02", Start: "09:00", End: "10:00"}); e.Validate(d) != "roster_day" {
		t.Errorf("bad day accepted")
	}
	if id, ok := lianxin.ParseBookingNumber("jd00012"); !ok || id != 12 || lianxin.BookingNumber(12) != "JD00012" {
		t.Errorf("booking numbers: %d %v", id, ok)
	}
}
