package service_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/servicetest"
	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/internal/wxtest/fakewx"
	"github.com/lianxin/lianxin/internal/wxtest/photos"
	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
	"github.com/lianxin/lianxin/web"
)

// The console in a real browser: headless Debian chromium driven by
// chromedp (testenv.Chromium finds it; CI installs it and fails without it).

// chromium finds the browser.
func chromium(t *testing.T) string { return testenv.Chromium(t) }

// newBrowser starts a fresh headless chromium (its own profile, nothing
// fetched from outside) and returns a tab's context.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("lang", "zh-CN"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		loc, _ := chromedp.Run(sctx, chromedp.Location())
		body, _ := chromedp.Run(sctx, chromedp.Text(chromedp.CSS("body")))
		cancel()
		t.Fatalf("%s: %v\nat %s:\n%s", what, err, loc, body)
	}
}

// value runs an action that returns something.
func value[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// wait waits until a JavaScript condition holds on the page.
func wait(expr string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[bool](expr)(ctx, tg)
		return chromedp.Void{}, err
	}
}

func login(t *testing.T, ctx context.Context, base, user string) {
	t.Helper()
	run(t, ctx, "sign in as "+user,
		chromedp.Navigate(base+"/console/cases"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=username]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), user),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), testPassword),
		chromedp.Click(chromedp.CSS(`form[action="/console/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`table.cases`)))
}

func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return value(t, ctx, "read "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// screenshot saves the page as docs/NAME.png when LIANXIN_SCREENSHOTS names
// the directory (the README's pictures are made this way).
func screenshot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("LIANXIN_SCREENSHOTS")
	if dir == "" {
		return
	}
	png := value(t, ctx, "screenshot", chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestConsoleInBrowser signs in as each role and does a station's day:
// a case filed in chat with two photos is listed and shown with its photos,
// staff assign it and answer the resident, register a walk-in with a photo
// from the computer, the deputy accepts and resolves from the console, a
// deputy opens a case from WeChat without a password, and another
// station's clerk cannot see it.
func TestConsoleInBrowser(t *testing.T) {
	cfg := testConfig(t)
	fw := withFakeWeChat(t, &cfg)
	cfg.Console.PublicURL = servicetest.AutoPublicURL
	s := startService(t, cfg)
	base := s.Server.URL
	resident := "oBrowserResident"
	c := s.Client(wxsim.Safe)
	say(t, c, resident, "报事")
	say(t, c, resident, "2")
	say(t, c, resident, "3号楼2单元暖气一直不热，屋里才十四五度，老人孩子都冻感冒了")
	for range 2 {
		id := fw.AddGeneratedPhoto(37.8561, 113.5727)
		send(t, c, wxsim.Image(resident, id, fw.PicURL(id)))
	}
	say(t, c, resident, "完成")
	send(t, c, wxsim.Location(resident, 37.8560, 113.5726, "水滩社区3号楼"))
	say(t, c, resident, "13812345678")
	number := regexp.MustCompile(`KQ\d{8}-\d{4}`).FindString(say(t, c, resident, "确认"))
	ctx0 := context.Background()
	waitFor(t, 20*time.Second, "photos stored", func() bool {
		got, _ := s.DB.Case(ctx0, number)
		n := 0
		for _, a := range got.Attachments {
			if a.Status == lianxin.AttachmentStored {
				n++
			}
		}
		return n == 2
	})
	// A deputy binds their WeChat; they will act from the console.
	deputyOpenID := "oBrowserDeputy"
	bindDeputy(t, s, c, deputyOpenID, "d-st-03")
	s.AddUser(t, "admin", lianxin.RoleAdmin, "", "", testPassword)
	s.AddUser(t, "pt-clerk", lianxin.RoleStaff, "pingtanjie", "", testPassword)
	s.AddUser(t, "sy-clerk", lianxin.RoleStaff, "saiyu", "", testPassword)
	s.AddUser(t, "sun", lianxin.RoleDeputy, "", "d-st-03", testPassword)

	// The clerk of the case's station.
	ctx := newBrowser(t)
	login(t, ctx, base, "pt-clerk")
	if list := textOf(t, ctx, "table.cases"); !strings.Contains(list, number) || !strings.Contains(list, "照片2") {
		t.Fatalf("the clerk's list lacks %s with its two photos:\n%s", number, list)
	}
	run(t, ctx, "open the case", chromedp.Click(chromedp.CSS(`a[href="/console/cases/`+number+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`ol.timeline`)))
	run(t, ctx, "photos load", wait(`Array.from(document.querySelectorAll("ul.photos img")).filter(i => i.complete && i.naturalWidth > 0).length == 2`))
	if loaded := value(t, ctx, "count photos", chromedp.Evaluate[int](`Array.from(document.querySelectorAll("ul.photos img")).filter(i => i.naturalWidth > 0).length`)); loaded != 2 {
		t.Fatalf("%d of 2 photos shown", loaded)
	}
	// Assign to a named deputy.
	run(t, ctx, "assign", chromedp.SetValue(chromedp.CSS(`form[action$="/assign"] select[name=deputy]`), "d-st-03"),
		chromedp.Click(chromedp.CSS(`form[action$="/assign"] button`)), chromedp.WaitVisible(chromedp.CSS(`p.flash`)))
	if got := textOf(t, ctx, "dl"); !strings.Contains(got, "孙演示") {
		t.Errorf("after assigning, the case shows: %s", got)
	}
	// The deputy, signed in with a password: their case; accept it.
	dctx := newBrowser(t)
	login(t, dctx, base, "sun")
	if list := textOf(t, dctx, "table.cases"); !strings.Contains(list, number) {
		t.Fatalf("the deputy's list lacks their case %s:\n%s", number, list)
	}
	run(t, dctx, "deputy accepts", chromedp.Navigate(base+"/console/cases/"+number), chromedp.WaitVisible(chromedp.CSS(`ol.timeline`)),
		chromedp.Click(chromedp.CSS(`form[action$="/accept"] button`)), chromedp.WaitVisible(chromedp.CSS(`p.flash`)))
	waitSent(t, fw, resident, "已由孙演示代表受理")
	// Answer the resident.
	answer := "您好，供热站师傅明天上午到3号楼排查管道，请家里留人。"
	// The clerk's page is stale now (the deputy accepted): answering says so
	// and keeps the words; after a reload it goes through.
	run(t, ctx, "answer on a stale page", chromedp.SendKeys(chromedp.CSS(`#text`), answer),
		chromedp.Click(chromedp.CSS(`#answer-form button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(`p.alert`)))
	if kept := value(t, ctx, "kept text", chromedp.Evaluate[string](`document.getElementById("text").value`)); kept != answer {
		t.Errorf("the stale form lost the answer: %q", kept)
	}
	run(t, ctx, "reload", chromedp.Navigate(base+"/console/cases/"+number), chromedp.WaitVisible(chromedp.CSS(`ol.timeline`)))
	run(t, ctx, "answer", chromedp.SendKeys(chromedp.CSS(`#text`), answer),
		chromedp.Click(chromedp.CSS(`#answer-form button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(`p.flash`)))
	waitSent(t, fw, resident, "明天上午到3号楼排查管道", number)
	screenshot(t, ctx, "console-case")
	run(t, ctx, "list", chromedp.Navigate(base+"/console/cases"), chromedp.WaitVisible(chromedp.CSS(`table.cases`)))

	// A walk-in with a photo from the computer.
	photo := filepath.Join(t.TempDir(), "现场照片.jpg")
	if err := os.WriteFile(photo, photos.JPEGWithGPS(800, 600, 37.85, 113.57), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "walk-in", chromedp.Navigate(base+"/console/new"), chromedp.WaitVisible(chromedp.CSS(`form.walkin`)),
		chromedp.SetValue(chromedp.CSS(`select[name=category]`), "roads"),
		chromedp.SendKeys(chromedp.CSS(`#description`), "东窑房社区门口路面塌了一个坑，晚上看不见"),
		chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "张大爷"),
		chromedp.SendKeys(chromedp.CSS(`input[name=phone]`), "13900001111"),
		chromedp.SetValue(chromedp.CSS(`select[name=station]`), "dongyaofang"),
		chromedp.SetUploadFiles(chromedp.CSS(`input[name=photos]`), []string{photo}),
		chromedp.Click(chromedp.CSS(`form.walkin button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.flash`)),
		wait(`document.querySelectorAll("ul.photos img").length == 1 && document.querySelector("ul.photos img").naturalWidth > 0`))
	if got := textOf(t, ctx, "dl"); !strings.Contains(got, "来访") || !strings.Contains(got, "张大爷") {
		t.Errorf("the walk-in's page: %s", got)
	}
	run(t, ctx, "list again", chromedp.Navigate(base+"/console/cases"), chromedp.WaitVisible(chromedp.CSS(`table.cases`)))
	screenshot(t, ctx, "console-list")

	// The deputy resolves it from the console.
	run(t, dctx, "deputy resolves", chromedp.Navigate(base+"/console/cases/"+number), chromedp.WaitVisible(chromedp.CSS(`ol.timeline`)),
		chromedp.SendKeys(chromedp.CSS(`#text`), "管道已疏通，屋里22度。"),
		chromedp.Click(chromedp.CSS(`#answer-form button[formaction$="/resolve"]`)), chromedp.WaitVisible(chromedp.CSS(`p.flash`)))
	waitSent(t, fw, resident, "已办结", "管道已疏通")
	got, _ := s.DB.Case(ctx0, number)
	if got.Status != lianxin.StatusResolved {
		t.Errorf("after 办结 the case is %s", got.Status)
	}

	// Another station's clerk: the case is not there.
	octx := newBrowser(t)
	login(t, octx, base, "sy-clerk")
	if list := textOf(t, octx, "table.cases"); strings.Contains(list, number) {
		t.Errorf("another station's clerk sees %s", number)
	}
	run(t, octx, "other station's case page", chromedp.Navigate(base+"/console/cases/"+number), chromedp.WaitVisible(chromedp.CSS(`.error-page`)))
	if e := textOf(t, octx, ".error-page"); !strings.Contains(e, "404") || !strings.Contains(e, "没有找到") {
		t.Errorf("another station's clerk on the case page: %s", e)
	}

	// The deputy on the phone: the link in their WeChat notice opens the
	// case through web authorisation, no password.
	var link string
	for _, m := range fw.Sent() {
		if m.To == deputyOpenID && strings.Contains(m.Text, "/console/wx?case=") {
			link = regexp.MustCompile(`http://\S+/console/wx\?case=\S+`).FindString(m.Text)
		}
	}
	if link == "" || link != web.CaseLink(s.Cfg.Console.PublicURL, number) {
		t.Fatalf("the deputy's notice has no link to the case (got %q)", link)
	}
	// The template message (outside the 48-hour window) opens the same page.
	msgs, _ := s.DB.Outbox(ctx0, 200)
	withURL := false
	for _, m := range msgs {
		withURL = withURL || (m.Recipient == lianxin.DeputyRecipient("d-st-03") && strings.Contains(m.Payload, `"url":"`+link+`"`))
	}
	if !withURL {
		t.Error("the deputy's template fallback does not carry the case link as its url")
	}
	wctx := newBrowser(t)
	run(t, wctx, "open from WeChat on a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile),
		chromedp.Navigate(fw.BrowseAsURL(deputyOpenID, link)), chromedp.WaitVisible(chromedp.CSS(`ol.timeline`)))
	// Readable on the phone: nothing wider than the screen.
	if wide := value(t, wctx, "page width", chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`)); !wide {
		t.Error("the case page is wider than a phone's screen")
	}
	if who := textOf(t, wctx, "form.who"); !strings.Contains(who, "sun") {
		t.Errorf("signed in from WeChat as %q", who)
	}
	if n := len(fw.CallsTo(fakewx.PathOAuthToken)); n != 1 {
		t.Errorf("%d code exchanges, want 1", n)
	}

	// The admin sees the audit log of all this.
	actx := newBrowser(t)
	login(t, actx, base, "admin")
	run(t, actx, "audit", chromedp.Navigate(base+"/console/audit"), chromedp.WaitVisible(chromedp.CSS(`table`)))
	audit := textOf(t, actx, "table")
	for _, want := range []string{"指派代表", "答复", "登记反映", "受理", "办结", "微信登录"} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit log lacks %s", want)
		}
	}
}
