package service_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/lianxin/lianxin"
)

// TestReceptionInBrowser: a clerk puts a deputy on tomorrow's roster in a
// real browser, opens that day's list, adds a walk-in as they come and
// registers what they raised as a case with one click.
func TestReceptionInBrowser(t *testing.T) {
	cfg := testConfig(t)
	withFakeWeChat(t, &cfg)
	s := startService(t, cfg)
	base := s.Server.URL
	s.AddUser(t, "pt-clerk", lianxin.RoleStaff, "pingtanjie", "", testPassword)
	ctx := newBrowser(t)
	login(t, ctx, base, "pt-clerk")
	day := time.Now().In(cfg.Location()).AddDate(0, 0, 1).Format(lianxin.DayLayout)
	run(t, ctx, "roster", chromedp.Navigate(base+"/console/reception/roster"), chromedp.WaitVisible(chromedp.CSS(`#roster-add`)),
		chromedp.SetValue(chromedp.CSS(`#roster-add input[name=day]`), day),
		chromedp.SetValue(chromedp.CSS(`#roster-add select[name=deputy]`), "d-pt-04"),
		chromedp.SetValue(chromedp.CSS(`#roster-add input[name=start]`), "14:00"),
		chromedp.SetValue(chromedp.CSS(`#roster-add input[name=end]`), "16:00"),
		chromedp.Click(chromedp.CSS(`#roster-add button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.flash`)))
	if h := textOf(t, ctx, "#roster"); !strings.Contains(h, day) || !strings.Contains(h, "刘示例") || !strings.Contains(h, "14:00–16:00") {
		t.Fatalf("roster after adding: %s", h)
	}
	run(t, ctx, "the day's list", chromedp.Navigate(base+"/console/reception?station=pingtanjie&day="+day), chromedp.WaitVisible(chromedp.CSS(`#walkin`)))
	if h := textOf(t, ctx, "#day-info"); !strings.Contains(h, "坐堂代表：刘示例") || !strings.Contains(h, "按值班表") {
		t.Errorf("day info: %s", h)
	}
	run(t, ctx, "walk-in", chromedp.SendKeys(chromedp.CSS(`#walkin input[name=name]`), "王大爷"),
		chromedp.SendKeys(chromedp.CSS(`#walkin input[name=topic]`), "三号楼楼道灯坏了"),
		chromedp.Click(chromedp.CSS(`#walkin button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`form.register`)))
	if h := textOf(t, ctx, "#day-list"); !strings.Contains(h, "王大爷") || !strings.Contains(h, "现场") {
		t.Fatalf("list after the walk-in: %s", h)
	}
	run(t, ctx, "register", chromedp.SetValue(chromedp.CSS(`form.register select[name=category]`), "roads"),
		chromedp.Click(chromedp.CSS(`form.register button[type=submit]`)),
		// The case page's own header: the day's list still shows the
		// walk-in's flash until the browser has left it.
		chromedp.WaitVisible(chromedp.CSS(`article.case header.case-head`)))
	if h := textOf(t, ctx, "main"); !strings.Contains(h, "三号楼楼道灯坏了") || !strings.Contains(h, "来访") {
		t.Errorf("the case page: %s", h)
	}
}
