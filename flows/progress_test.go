package flows

import (
	"context"
	"strings"
	"testing"

	"github.com/lianxin/lianxin"
)

// Residents see what is meant for them: a deputy's 退回 reason and the
// routing's jargon stay with the deputies and staff; the resident reads in
// plain words who has the case, and is told when it moves to someone else.
func TestResidentsTimelineShowsOnlyWhatIsMeantForThem(t *testing.T) {
	c := newChat(t)
	const resident, deputy = "oAudienceResident", "oAudienceDeputy"
	number := c.fileReport(t, resident)
	c.bind(t, deputy, "d-st-02")
	contains(t, "退回", c.say(t, deputy, "退回 1 房产证的事不归我管"), "已退回")

	got, err := c.db.Case(context.Background(), number)
	if err != nil {
		t.Fatal(err)
	}
	next, _ := c.e.dir.Load().dir.Deputy(got.AssigneeID)
	if next.ID == "" || next.ID == "d-st-02" {
		t.Fatalf("the case went to %q", got.AssigneeID)
	}
	for _, ev := range got.Events {
		if ev.Audience != lianxin.AudienceResident && ev.Audience != lianxin.AudienceStaff {
			t.Errorf("event %s has audience %q", ev.Type, ev.Audience)
		}
		if (ev.Type == lianxin.EventReturned || ev.Type == lianxin.EventRouted) && ev.VisibleTo(true) {
			t.Errorf("a %s event is shown to the resident: %+v", ev.Type, ev)
		}
		if !ev.VisibleTo(false) {
			t.Errorf("staff do not see %+v", ev)
		}
	}

	timeline := c.say(t, resident, "进度 "+number)
	lacks(t, "the resident's timeline", timeline, "房产证的事不归我管", "站长兜底", "唯一可派代表", "待分派", "按专长", "轮流分派", "在办件最少", "定位在辖区内", "退回")
	contains(t, "the resident's timeline", timeline, "已转给郑示范代表办理", "已改由"+next.Name+"代表办理")

	told := c.noticeTexts(t, resident)
	if len(told) == 0 || !strings.Contains(told[len(told)-1], next.Name) || !strings.Contains(told[len(told)-1], number) {
		t.Errorf("the resident was not told who has the case now: %q", told)
	}
	for _, n := range told {
		lacks(t, "a notice to the resident", n, "房产证的事不归我管", "退回")
	}

	// The deputies still see why.
	c.bind(t, "oAudienceNext", next.ID)
	detail := c.say(t, "oAudienceNext", "详情 "+number)
	contains(t, "the deputy's detail", detail, "房产证的事不归我管", "按专长")
}

// 进度 as residents type it: with the short number of one of their own
// cases, alone for a list that tells two similar cases apart, and with
// words after it.
func TestProgressAsResidentsTypeIt(t *testing.T) {
	c := newChat(t)
	const resident, neighbour = "oProgressResident", "oProgressNeighbour"
	first := c.fileReport(t, resident)
	c.say(t, resident, "报事", "2", "5号楼1单元的暖气片漏水,地板都泡了", "跳过", "[location 37.8560 113.5726 水滩社区5号楼]", "跳过", "确认")
	theirs := c.fileReport(t, neighbour)

	list := c.say(t, resident, "进度")
	contains(t, "进度", list, first, "3号楼2单元暖气一直不热", "5号楼1单元的暖气片漏水", "进度 2")
	if strings.Contains(list, theirs) {
		t.Errorf("进度 lists a neighbour's case: %q", list)
	}
	for _, said := range []string{"进度怎么样了", "进度。", "查进度", "我的反映"} {
		if got := c.say(t, resident, said); got != list {
			t.Errorf("%q: %q, want the list", said, got)
		}
	}

	one := c.say(t, resident, "进度 1")
	contains(t, "进度 1", one, first, "3号楼2单元暖气一直不热")
	lacks(t, "进度 1", one, "没有找到")
	if got := c.say(t, resident, "进度1"); got != one {
		t.Errorf("进度1: %q", got)
	}
	contains(t, "进度 2", c.say(t, resident, "进度 2"), "5号楼1单元的暖气片漏水")
	contains(t, "进度 "+first, c.say(t, resident, "进度 "+strings.ToLower(first)), "3号楼2单元暖气一直不热")
	contains(t, "进度 3 (the neighbour's)", c.say(t, resident, "进度 3"), "没有找到")
	contains(t, "the neighbour's full number", c.say(t, resident, "进度 "+theirs), "没有找到")
}
