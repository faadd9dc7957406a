package service_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/servicetest"
)

// TestConsultationInBrowser: a clerk pastes a draft into the console in a
// real browser, checks the articles it was split into and publishes it;
// a resident reads it on a phone, article by article, without signing in,
// and nothing is wider than the screen.
func TestConsultationInBrowser(t *testing.T) {
	cfg := testConfig(t)
	withFakeWeChat(t, &cfg)
	cfg.Console.PublicURL = servicetest.AutoPublicURL
	s := startService(t, cfg)
	base := s.Server.URL
	s.AddUser(t, "pt-clerk", lianxin.RoleStaff, "pingtanjie", "", testPassword)
	ctx := newBrowser(t)
	login(t, ctx, base, "pt-clerk")
	draft := "阳泉市智能网联汽车管理办法（草案）\n第一条 为了促进智能网联汽车产业发展，保障道路交通安全，制定本办法。\n" +
		"第二条 本办法适用于本市行政区域内智能网联汽车的道路测试、示范应用和运营。\n第三条 测试车辆应当配备安全员，安全员应当随时接管车辆。"
	run(t, ctx, "new consultation", chromedp.Navigate(base+"/console/consultations"), chromedp.WaitVisible(chromedp.CSS(`main`)),
		chromedp.Click(chromedp.CSS(`a[href="/console/consultations/new"]`)), chromedp.WaitVisible(chromedp.CSS(`#text`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=title]`), "阳泉市智能网联汽车管理办法（草案）"),
		chromedp.SetValue(chromedp.CSS(`input[name=deadline]`), time.Now().AddDate(0, 0, 20).Format("2006-01-02")),
		chromedp.SetValue(chromedp.CSS(`#text`), draft),
		chromedp.Click(chromedp.CSS(`form[action="/console/consultations"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.flash`)))
	if h := textOf(t, ctx, "main"); !strings.Contains(h, "核对条款（共3条）") {
		t.Fatalf("after saving: %s", h)
	}
	// The confirmation dialog is the browser's own: say yes to it.
	value(t, ctx, "answer yes to confirmations", chromedp.Evaluate[bool](`(window.confirm = () => true, true)`))
	run(t, ctx, "publish",
		chromedp.Click(chromedp.CSS(`form[action$="/publish"] button`)),
		// The draft's page had a flash too: wait for what only a published one has.
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/conclude"]`)))
	if h := textOf(t, ctx, "main"); !strings.Contains(h, "征求意见中") || !strings.Contains(h, "/c/1") {
		t.Fatalf("after publishing: %s", h)
	}

	// A resident on a phone, from the push's link: no sign-in.
	pctx := newBrowser(t)
	run(t, pctx, "the draft on a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile),
		chromedp.Navigate(base+"/c/1"), chromedp.WaitVisible(chromedp.CSS(`ul.toc`)))
	if wide := value(t, pctx, "page width", chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`)); !wide {
		t.Error("the draft is wider than a phone's screen")
	}
	if toc := textOf(t, pctx, "ul.toc"); !strings.Contains(toc, "第一条") || !strings.Contains(toc, "第三条") {
		t.Errorf("table of contents: %s", toc)
	}
	screenshot(t, pctx, "consultation-public")
	run(t, pctx, "article 2", chromedp.Click(chromedp.CSS(`a[href="/c/1/2"]`)), chromedp.WaitVisible(chromedp.CSS(`.articletext`)))
	if a := textOf(t, pctx, "main"); !strings.Contains(a, "示范应用和运营") || !strings.Contains(a, "意见 第二条") || !strings.Contains(a, "第三条 →") {
		t.Errorf("article 2 on a phone: %s", a)
	}
	// Article 3's page is the one whose previous article is 2.
	run(t, pctx, "next article", chromedp.Click(chromedp.CSS(`nav.pager a[href="/c/1/3"]`)), chromedp.WaitVisible(chromedp.CSS(`nav.pager a[href="/c/1/2"]`)))
	if a := textOf(t, pctx, ".articletext"); !strings.Contains(a, "安全员应当随时接管车辆") {
		t.Errorf("article 3: %s", a)
	}
}
