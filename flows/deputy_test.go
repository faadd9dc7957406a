package flows

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
)

// A bound deputy is a resident too: only a command word with a case
// reference is a command, and 帮助 / 命令 show their commands at any time.
func TestCommandsDoNotSwallowADeputysOwnLife(t *testing.T) {
	c := newChat(t)
	const deputy = "oOwnLifeDeputy"
	c.bind(t, deputy, "d-st-02")

	r := c.say(t, deputy, "我的暖气也坏了，屋里才12度")
	contains(t, "我的暖气也坏了", r, "【选择类别】")
	lacks(t, "我的暖气也坏了", r, "您在办的反映", "您目前没有在办的反映")
	contains(t, "命令 in a report", c.say(t, deputy, "命令"), "受理 编号", "【选择类别】")
	c.say(t, deputy, "取消")

	contains(t, "我的", c.say(t, deputy, "我的"), "您目前没有在办的反映")
	for _, w := range []string{"帮助", "命令"} {
		contains(t, w, c.say(t, deputy, w), "受理 编号", "转办 编号", "报事")
	}
	contains(t, "受理 alone", c.say(t, deputy, "受理"), "请写上反映编号")
	lacks(t, "进展怎么样了", c.say(t, deputy, "进展怎么样了"), "请写上反映编号", "请在编号后写上内容")

	// Residents asking for help still get the residents' help.
	contains(t, "a resident's 帮助", c.say(t, "oOwnLifeResident", "帮助"), "使用帮助")
}

// 转办 says what it means: the departments when none is named, a question
// when the name fits two, the note after a full-width space, the department
// told when it can be reached, the note kept from the resident, and whose
// case it is when it is not the deputy's.
func TestForwardSaysWhatItMeans(t *testing.T) {
	c := newChat(t)
	const resident, deputy, other = "oFwdResident", "oFwdDeputy", "oFwdOther"
	number := c.fileReport(t, resident)
	c.bind(t, deputy, "d-st-02")
	c.bind(t, other, "d-st-03")

	r := c.say(t, other, "受理 1")
	contains(t, "another deputy's 受理", r, "郑示范", "不归您办理")

	r = c.say(t, deputy, "转办 1")
	contains(t, "转办 without a department", r, "矿区供热站", "区民政局")
	lacks(t, "转办 without a department", r, "明天上门查看")

	r = c.say(t, deputy, "转办 1 区住建局 请尽快处理")
	contains(t, "a name fitting two departments", r, "区住建局物业管理办公室", "区住建局（房屋产权）")
	lacks(t, "a name fitting two departments", r, "已转")

	// The heating company has a WeCom robot, the water company a WeChat user.
	snap := c.e.dir.Load()
	dir := *snap.dir
	dir.Departments = append([]lianxin.Department(nil), dir.Departments...)
	for i := range dir.Departments {
		switch dir.Departments[i].ID {
		case "heating_company":
			dir.Departments[i].RobotWebhook = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=heating"
		case "water_power_gas":
			dir.Departments[i].OpenID = "oWaterCompanyDesk0001"
		}
	}
	c.e.SetDirectory(&dir, snap.cats)

	r = c.say(t, deputy, "转办 1　供热站　请尽快排查3号楼2单元的管道")
	contains(t, "转办 with full-width spaces", r, "已转矿区供热站（供热公司）办理")
	rows, _ := c.db.Outbox(context.Background(), 100)
	var toDept string
	for _, m := range rows {
		if m.Kind == lianxin.OutboxRobot && strings.Contains(m.Recipient, "key=heating") {
			toDept = payloadText(m.Payload)
		}
	}
	contains(t, "the heating company's robot post", toDept, number, "请尽快排查3号楼2单元的管道", "郑示范")
	told := c.noticeTexts(t, resident)
	last := told[len(told)-1]
	contains(t, "the resident's notice", last, "矿区供热站（供热公司）")
	lacks(t, "the resident's notice", last, "请尽快排查")
	lacks(t, "the resident's timeline", c.say(t, resident, "进度 1"), "请尽快排查")

	c.say(t, deputy, "转办 1 供水 水压也不够，请一起查")
	told = c.noticeTexts(t, "oWaterCompanyDesk0001")
	if len(told) != 1 || !strings.Contains(told[0], "水压也不够") {
		t.Errorf("the water company's desk was told %q", told)
	}
}

// «已通知群众» only when the resident can be reached and the notices are
// going out; otherwise the deputy hears what will happen instead.
func TestDeputiesAreToldTheTruth(t *testing.T) {
	c := newChat(t)
	const resident, deputy = "oTruthResident", "oTruthDeputy"
	c.fileReport(t, resident)
	c.bind(t, deputy, "d-st-02")

	delivering := true
	c.e.cfg.Delivery = func() bool { return delivering }
	contains(t, "进展 while sending works", c.say(t, deputy, "进展 1 明天上门"), "已通知群众")

	delivering = false
	r := c.say(t, deputy, "受理 1")
	contains(t, "受理 while nothing can be sent", r, "已受理", "排队")
	lacks(t, "受理 while nothing can be sent", r, "已通知群众")

	delivering = true
	// The resident unfollows the account: nothing can reach them.
	unfollow := &lianxin.Inbound{Account: "gh", OpenID: resident, Kind: lianxin.KindEvent, Event: lianxin.EventUnsubscribe,
		CreateTime: c.clock.Now().Unix()}
	if _, err := c.db.Journal(context.Background(), unfollow, lianxin.OutcomeReplied, "", nil); err != nil {
		t.Fatal(err)
	}
	r = c.say(t, deputy, "进展 1 师傅下午到")
	contains(t, "进展 to a resident who unfollowed", r, "取消关注", "联系电话")
	lacks(t, "进展 to a resident who unfollowed", r, "已通知群众")
	c.clock.Add(time.Minute)
}

// A deputy who binds after cases were assigned to them gets one summary,
// not the backlog of 【新反映】 queued while nobody could be reached.
func TestLateBindingGetsOneSummary(t *testing.T) {
	c := newChat(t)
	c.fileReport(t, "oLateResident1")
	c.fileReport(t, "oLateResident2")
	if n := len(c.pendingTexts(t, "deputy:d-st-02")); n != 2 {
		t.Fatalf("%d notices waiting for the deputy, want 2", n)
	}
	code, _, err := c.db.CreateInvite(context.Background(), "d-st-02", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	r := c.say(t, "oLateDeputy", "绑定 "+code)
	contains(t, "binding late", r, "绑定成功", "您有2件待办，回复「我的」查看")
	if left := c.pendingTexts(t, "deputy:d-st-02"); len(left) != 0 {
		t.Errorf("the backlog still goes out: %q", left)
	}
	// Nothing waiting: no summary.
	code, _, _ = c.db.CreateInvite(context.Background(), "d-st-03", 24*time.Hour)
	lacks(t, "binding with nothing to do", c.say(t, "oLateOther", "绑定 "+code), "待办")
}

// The notices that ask a deputy to act carry the rule that keeps them from
// going out once the case has moved on (the outbox checks it).
func TestNoticesThatAskForActionCarryTheirRule(t *testing.T) {
	c := newChat(t)
	c.fileReport(t, "oRuleResident")
	rows, err := c.db.Outbox(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range rows {
		if m.Recipient == "deputy:d-st-02" && m.ValidWhile == "" {
			t.Errorf("the 【新反映】 to its deputy has no rule: %+v", m)
		}
	}
}
