package flows

import (
	"context"
	"testing"

	"github.com/lianxin/lianxin"
)

// TestBookingFullSlotAndRoster: a full slot is refused with the day's
// other slots, a full day with the next days; a roster day staff added is
// offered with its deputy; one booking a day; a resident whose case went
// to a station books there without choosing.
func TestBookingFullSlotAndRoster(t *testing.T) {
	c := newChat(t)
	c.e.cfg.Reception = lianxin.ReceptionSettings{SlotMinutes: 90, Capacity: 1, BookAhead: 30, Offer: 3}
	// A roster day on Saturday 11-28 at 平潭街, 李示范 alone, 9:00–10:30: one slot.
	dir, cats := c.e.Directory()
	d := *dir
	d.Roster = []lianxin.RosterEntry{{StationID: "pingtanjie", Day: "2026-11-28", DeputyID: "d-pt-02", Start: "09:00", End: "10:30"}}
	c.e.SetDirectory(&d, cats)

	const a, b = "oBookerA000000000000000001", "oBookerB000000000000000001"
	c.say(t, a, "预约接待")
	contains(t, "roster day offered", c.say(t, a, "1"), "11月28日（周六） 9:00–10:30，李示范坐堂", "12月1日")
	contains(t, "one slot", c.say(t, a, "1"), "1 9:00–10:30（还剩1个名额）")
	c.say(t, a, "1", "想反映小区路灯不亮")
	contains(t, "booked", c.say(t, a, "确认"), "预约号 JD00001")
	// B finds the day full and is offered the next days.
	c.say(t, b, "预约接待", "1")
	contains(t, "day full", c.say(t, b, "1"), "11月28日（周六）的时段都已约满", "1 11月28日")
	// 12-01 has two slots of 90 minutes: B takes the first; A, booking it
	// too, is refused with the one left.
	c.say(t, b, "2", "1", "楼道堆放杂物很危险")
	contains(t, "B booked", c.say(t, b, "确认"), "预约号 JD00002")
	c.say(t, a, "预约接待")
	c.say(t, a, "2")
	contains(t, "slot full", c.say(t, a, "1"), "9:00–10:30这个时段已经约满了", "2 10:30–11:30（还剩1个名额）")
	c.say(t, a, "2", "再说一件事情")
	contains(t, "A books the other", c.say(t, a, "确认"), "预约号 JD00003")
	c.say(t, a, "预约接待")
	contains(t, "once a day", c.say(t, a, "2"), "每人每天限约一次")

	// A resident whose case went to 赛鱼 is offered 赛鱼's days at once.
	if _, _, err := c.db.CreateCase(context.Background(), c.e.cfg.Numbering, lianxin.Report{OpenID: "oSaiyu0000000000000000001", Category: lianxin.Category{Key: "heating"},
		Description: "暖气不热", StationID: "saiyu", SourceKey: "t:1"}, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	contains(t, "own station", c.say(t, "oSaiyu0000000000000000001", "预约接待"), "赛鱼街道人大代表联络站近期的接待日")
}

// TestBookingOffThePath: 预约接待 typed again mid-booking starts over; a
// problem told where a choice is asked is heard as a report, not refused
// as «没有这个选项» and lost.
func TestBookingOffThePath(t *testing.T) {
	c := newChat(t)
	const u = "oBookerC000000000000000001"
	c.say(t, u, "预约接待", "1")
	contains(t, "again", c.say(t, u, "预约接待"), "请选择联络站")
	c.say(t, u, "1")
	contains(t, "a problem instead of a slot", c.say(t, u, "1", "小区楼道灯坏了好几天了没人修"), "【选择类别】")
	// Its words are the report's description: the flow goes on to photos.
	contains(t, "the words kept", c.say(t, u, "是"), "【上传照片】")
}
