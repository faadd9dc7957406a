package service_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/internal/wxtest/fakewx"
	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
)

// receptionClock is 08:00 on the latest 13th whose next day's 10:00 is in
// the past: the workers keep real time, so the reminder the day before a
// booking on the 14th is due when the outbox looks, and the 15th (every
// station's monthly reception day) is two days ahead.
func receptionClock(loc *time.Location) *testenv.Clock {
	now := time.Now().In(loc)
	at := time.Date(now.Year(), now.Month(), 13, 8, 0, 0, 0, loc)
	for !at.Add(26 * time.Hour).Before(now) {
		at = at.AddDate(0, -1, 0)
	}
	return testenv.NewClock(at)
}

// TestReceptionDayThroughTheWebhook is the must-show for booking,
// through the real webhook and the fake WeChat API: a clerk puts a deputy
// on the roster for tomorrow in the console; a resident books it in chat
// (the menu button, the day with the deputy on duty, a slot, the topic,
// 确认) and gets a booking number; the reminder the day before reaches
// them; the station's reminder of the 15th goes out as a mass send to the
// station's tag, which the resident now carries; the quota used up is said
// plainly on the day's page; the clerk adds a walk-in and registers it as a
// case (来访, to the deputy on duty); the resident cancels with 取消预约.
func TestReceptionDayThroughTheWebhook(t *testing.T) {
	cfg := testConfig(t)
	fw := withFakeWeChat(t, &cfg)
	cfg.Mass.Quota = 1
	clock := receptionClock(cfg.Location())
	s := startService(t, cfg, clock)
	ctx := context.Background()
	c := s.Client(wxsim.Safe)
	s.AddUser(t, "pt-clerk", lianxin.RoleStaff, "pingtanjie", "", testPassword)
	s.AddUser(t, "sy-clerk", lianxin.RoleStaff, "saiyu", "", testPassword)
	clerk := s.Login(t, "pt-clerk", testPassword)
	tomorrow := clock.Now().In(cfg.Location()).AddDate(0, 0, 1)
	day := tomorrow.Format(lianxin.DayLayout)

	// The roster: 刘示例 sits at 平潭街 tomorrow, 9:00–10:00.
	roster := url.Values{"station": {"pingtanjie"}, "day": {day}, "deputy": {"d-pt-04"}, "start": {"09:00"}, "end": {"10:00"}}
	if code, loc, body := s.Post(t, clerk, "/console/reception/roster", roster); code != http.StatusSeeOther {
		t.Fatalf("adding to the roster: HTTP %d %s\n%s", code, loc, body)
	}
	if code, body := s.Get(t, clerk, "/console/reception/roster?station=pingtanjie"); code != 200 || !strings.Contains(body, "刘示例") || !strings.Contains(body, day) {
		t.Fatalf("roster page: HTTP %d\n%s", code, body)
	}
	bad := url.Values{"station": {"pingtanjie"}, "day": {day}, "deputy": {"d-pt-05"}, "start": {"11:00"}, "end": {"10:00"}}
	if code, _, body := s.Post(t, clerk, "/console/reception/roster", bad); code != http.StatusBadRequest || !strings.Contains(body, "结束要晚于开始") {
		t.Errorf("hours the wrong way round: HTTP %d\n%s", code, body)
	}
	// Another station's clerk cannot put deputies on 平潭街's roster.
	if code, _, _ := s.Post(t, s.Login(t, "sy-clerk", testPassword), "/console/reception/roster", roster); code != http.StatusForbidden {
		t.Errorf("another station's clerk: HTTP %d, want 403", code)
	}

	// The resident books in chat.
	const resident = "oReceptionRes000000000001"
	mustContain(t, send(t, c, wxsim.Event(resident, "CLICK", "BOOK")).Content, "请选择联络站", "平潭街街道人大代表联络站")
	mustContain(t, say(t, c, resident, "1"), "平潭街街道人大代表联络站近期的接待日", tomorrow.Format("1月2日")+"（", "刘示例坐堂")
	mustContain(t, say(t, c, resident, "1"), "1 9:00–10:00（还剩5个名额）")
	mustContain(t, say(t, c, resident, "1"), "一句话")
	mustContain(t, say(t, c, resident, "小区门口的路灯坏了一个月"), "【确认预约】", "9:00–10:00")
	done := say(t, c, resident, "确认")
	mustContain(t, done, "预约成功", "预约号 JD")
	number := regexp.MustCompile(`JD\d+`).FindString(done)

	// The reminder the day before reaches them.
	waitSentTo(t, fw, resident, "【接待日提醒】", "明天", "小区门口的路灯坏了一个月")

	// The 15th's reminder goes to 平潭街's residents by their tag, which the
	// resident was given when they booked.
	if _, err := s.RemindReceptions(ctx); err != nil {
		t.Fatal(err)
	}
	waitSentKind(t, fw, fakewx.KindMass, "tag:"+lianxin.StationTag("pingtanjie"), "【接待日提醒】平潭街街道人大代表联络站", "预约接待")
	waitFor(t, 10*time.Second, "the resident's tag", func() bool {
		return strings.Contains(strings.Join(fw.TagMembers(lianxin.StationTag("pingtanjie")), ","), resident)
	})
	// A resident whose case is routed to 水滩社区 gets that point's tag.
	const reporter = "oReceptionRes000000000002"
	s.ReportCase(t, reporter)
	waitFor(t, 10*time.Second, "the reporter's tag", func() bool {
		return strings.Contains(strings.Join(fw.TagMembers(lianxin.StationTag("shuitan")), ","), reporter)
	})
	// With a quota of one a month, the day's page says it is used up.
	fifteenth := clock.Now().In(cfg.Location()).AddDate(0, 0, 2).Format(lianxin.DayLayout)
	code, page := s.Get(t, clerk, "/console/reception?station=pingtanjie&day="+fifteenth)
	if code != 200 || !strings.Contains(page, "已群发提醒本站居民") {
		t.Errorf("the 15th's page: HTTP %d\n%s", code, page)
	}
	if _, page := s.Get(t, clerk, "/console/reception?station=pingtanjie&day="+day); !strings.Contains(page, "本月群发次数已用完") {
		t.Errorf("tomorrow's page does not say the quota is used up:\n%s", page)
	}

	// Tomorrow's list: the booking, then a walk-in the clerk adds.
	code, page = s.Get(t, clerk, "/console/reception?station=pingtanjie&day="+day)
	if code != 200 || !strings.Contains(page, number) || !strings.Contains(page, "小区门口的路灯坏了一个月") || !strings.Contains(page, "坐堂代表：刘示例") {
		t.Fatalf("day list: HTTP %d\n%s", code, page)
	}
	if code, loc, body := s.Post(t, clerk, "/console/reception/walkins", url.Values{"station": {"pingtanjie"}, "day": {day},
		"name": {"王大爷"}, "phone": {"13800001111"}, "topic": {"三号楼暖气不热"}}); code != http.StatusSeeOther {
		t.Fatalf("walk-in: HTTP %d %s\n%s", code, loc, body)
	}
	if code, _, body := s.Post(t, clerk, "/console/reception/walkins", url.Values{"station": {"pingtanjie"}, "day": {day}, "topic": {""}}); code != http.StatusBadRequest ||
		!strings.Contains(body, "请写下来访群众反映的事情") {
		t.Errorf("a walk-in without a topic: HTTP %d", code)
	}
	_, page = s.Get(t, clerk, "/console/reception?station=pingtanjie&day="+day)
	if strings.Index(page, number) > strings.Index(page, "三号楼暖气不热") {
		t.Errorf("the walk-in is listed before the booking")
	}
	walkin := regexp.MustCompile(`/console/reception/bookings/(\d+)/register`).FindAllStringSubmatch(page, -1)
	if len(walkin) != 2 {
		t.Fatalf("register buttons: %v", walkin)
	}
	// One click registers it: a case from a visit, with the deputy on duty.
	if !strings.Contains(page, `<option value="d-pt-04">刘示例接待</option>`) {
		t.Errorf("the register form does not offer the deputy on duty")
	}
	form := url.Values{"station": {"pingtanjie"}, "day": {day}, "category": {"heating"}, "description": {"三号楼暖气不热，已经一周了"}, "deputy": {"d-pt-04"}}
	code, loc, body := s.Post(t, clerk, "/console/reception/bookings/"+walkin[1][1]+"/register", form)
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/cases/") {
		t.Fatalf("register: HTTP %d %s\n%s", code, loc, body)
	}
	caseNumber := strings.TrimPrefix(strings.Split(loc, "?")[0], "/console/cases/")
	cs, err := s.DB.Case(ctx, caseNumber)
	if err != nil || cs.Source != lianxin.SourceVisit || cs.StationID != "pingtanjie" || cs.AssigneeID != "d-pt-04" {
		t.Fatalf("registered case: %v %+v", err, cs)
	}
	if code, _, _ := s.Post(t, clerk, "/console/reception/bookings/"+walkin[1][1]+"/register", form); code != http.StatusBadRequest {
		t.Errorf("registering twice: HTTP %d", code)
	}
	_, page = s.Get(t, clerk, "/console/reception?station=pingtanjie&day="+day)
	if !strings.Contains(page, caseNumber) || !strings.Contains(page, "已登记为案件") {
		t.Errorf("the list does not link the case")
	}

	// The deputy on duty sees the day's list; another station's deputy does not.
	s.AddUser(t, "liu", lianxin.RoleDeputy, "", "d-pt-04", testPassword)
	s.AddUser(t, "sy-deputy", lianxin.RoleDeputy, "", "d-sy-02", testPassword)
	if code, page := s.Get(t, s.Login(t, "liu", testPassword), "/console/reception?station=pingtanjie&day="+day); code != 200 ||
		!strings.Contains(page, number) || !strings.Contains(page, "三号楼暖气不热") || strings.Contains(page, "登记为案件</button>") {
		t.Errorf("the deputy on duty's list: HTTP %d\n%s", code, page)
	}
	if code, _ := s.Get(t, s.Login(t, "sy-deputy", testPassword), "/console/reception?station=pingtanjie&day="+day); code != http.StatusForbidden {
		t.Errorf("another station's deputy: HTTP %d, want 403", code)
	}

	// The resident cancels.
	mustContain(t, say(t, c, resident, "取消预约"), "已取消预约 "+number)
	mustContain(t, say(t, c, resident, "取消预约"), "没有待参加的预约")
	if _, page := s.Get(t, clerk, "/console/reception?station=pingtanjie&day="+day); !strings.Contains(page, "已取消") {
		t.Errorf("the cancelled booking is not shown as such")
	}
}

// waitSentTo waits for a message of any kind to openid containing every fragment.
func waitSentTo(t *testing.T, fw *fakewx.Server, openid string, fragments ...string) {
	t.Helper()
	waitFor(t, 10*time.Second, "a message to "+openid+" with "+strings.Join(fragments, " "), func() bool {
		for _, s := range fw.Sent() {
			ok := s.To == openid
			for _, f := range fragments {
				ok = ok && strings.Contains(s.Text, f)
			}
			if ok {
				return true
			}
		}
		return false
	})
}
