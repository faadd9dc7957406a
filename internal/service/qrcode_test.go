package service_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/internal/wxtest/fakewx"
	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
	"github.com/lianxin/lianxin/report"
	"github.com/lianxin/lianxin/web"
)

// qrContent is the URL the first QR code on a page encodes.
var qrContent = regexp.MustCompile(`<svg[^>]*data-content="([^"]+)"`)

func caseRecord(t *testing.T, s *testService, number string) *lianxin.Case {
	t.Helper()
	c, err := s.DB.Case(context.Background(), number)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func timelineText(c *lianxin.Case) string {
	var b strings.Builder
	for _, e := range c.Events {
		b.WriteString(e.Text + "\n")
	}
	return b.String()
}

// sceneOf is the scene WeChat knows a QR code on a page by, as a scanning
// phone would read it from the printed image.
func sceneOf(t *testing.T, fw *fakewx.Server, page string) (url, scene string) {
	t.Helper()
	m := qrContent.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no QR code on the page:\n%s", page)
	}
	url = strings.ReplaceAll(m[1], "&amp;", "&")
	if scene = fw.QRScene(url); scene == "" {
		t.Fatalf("the QR code encodes %q, which is no code WeChat made (made: %+v)", url, fw.QRCodes())
	}
	return url, scene
}

// TestDeputyQRCodeRoutesTheNextReport: staff print a deputy's poster (the
// code is made through WeChat on that first demand, drawn by the service
// from the ticket URL); a resident follows the account by scanning it, is
// told whose code it was, and their report goes to that deputy although
// the location lies in another unit (扫代表码 on the timeline). The scan
// decides that one report only. A follower scanning a station's code gets
// their report routed to that station.
func TestDeputyQRCodeRoutesTheNextReport(t *testing.T) {
	cfg := testConfig(t)
	fw := withFakeWeChat(t, &cfg)
	s := startService(t, cfg)
	c := s.Client(wxsim.Safe)
	const resident, follower = "oQRResident00000000000000001", "oQRFollower00000000000000001"

	s.AddUser(t, "pt-clerk", lianxin.RoleStaff, "pingtanjie", "", testPassword)
	s.AddUser(t, "admin", lianxin.RoleAdmin, "", "", testPassword)
	clerk := s.Login(t, "pt-clerk", testPassword)
	code, page := s.Get(t, clerk, "/console/qrcodes")
	if code != 200 || !strings.Contains(page, "赵演示") || !strings.Contains(page, "未生成") || strings.Contains(page, "沈示范") {
		t.Fatalf("the QR page lists the station's deputies only: HTTP %d\n%s", code, page)
	}
	code, poster := s.Get(t, clerk, "/console/qrcodes/deputy/d-pt-03/poster")
	if code != 200 {
		t.Fatalf("poster: HTTP %d\n%s", code, poster)
	}
	mustContain(t, poster, "赵演示", "区级人大代表", "平潭街街道人大代表联络站", "微信扫一扫", "<svg")
	url, scene := sceneOf(t, fw, poster)
	if scene != "deputy:d-pt-03" {
		t.Fatalf("the poster's code is for %q", scene)
	}
	// The image is the ticket URL's QR code, drawn here (prints offline).
	want, err := web.QRSVG(url)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(poster, string(want)) {
		t.Error("the poster's QR image is not the code of the ticket URL")
	}
	made := fw.QRCodes()
	if len(made) != 1 || !made[0].Permanent {
		t.Fatalf("WeChat was asked for %+v, want one permanent code", made)
	}
	// Printed again: the kept code, WeChat not asked again.
	s.Get(t, clerk, "/console/qrcodes/deputy/d-pt-03/poster")
	if n := len(fw.QRCodes()); n != 1 {
		t.Errorf("a second poster asked WeChat again (%d codes)", n)
	}
	if _, page := s.Get(t, clerk, "/console/qrcodes"); !strings.Contains(page, "已生成") {
		t.Error("the QR page does not show the code made")
	}
	// Another station's deputy is out of the clerk's scope.
	if code, _ := s.Get(t, clerk, "/console/qrcodes/deputy/d-sy-02/poster"); code != http.StatusNotFound {
		t.Errorf("another station's poster: HTTP %d, want 404", code)
	}

	// A deputy prints their own poster, no one else's, and makes no binding codes.
	s.AddUser(t, "zhao", lianxin.RoleDeputy, "", "d-pt-03", testPassword)
	zhao := s.Login(t, "zhao", testPassword)
	if code, page := s.Get(t, zhao, "/console/qrcodes"); code != 200 || !strings.Contains(page, "赵演示") || strings.Contains(page, "李示范") ||
		strings.Contains(page, "扫码绑定") {
		t.Errorf("a deputy's QR page: HTTP %d\n%s", code, page)
	}
	if code, _ := s.Get(t, zhao, "/console/qrcodes/deputy/d-pt-03/poster"); code != 200 {
		t.Errorf("a deputy's own poster: HTTP %d", code)
	}
	if code, _ := s.Get(t, zhao, "/console/qrcodes/deputy/d-pt-02/poster"); code != http.StatusNotFound {
		t.Errorf("a colleague's poster for a deputy: HTTP %d", code)
	}
	if code, _, _ := s.Post(t, zhao, "/console/qrcodes/bind/d-pt-03", nil); code != http.StatusForbidden {
		t.Errorf("a deputy making a binding code: HTTP %d", code)
	}

	// The resident follows by scanning and is told whose code it was.
	welcome := send(t, c, wxsim.ScanSubscribe(resident, scene)).Content
	mustContain(t, welcome, "欢迎", "平潭街街道人大代表联络站的赵演示代表", "7天内")
	number := s.ReportCase(t, resident) // a heating problem located in 水滩社区
	got := caseRecord(t, s, number)
	if got.AssigneeID != "d-pt-03" || got.StationID != "pingtanjie" {
		t.Fatalf("after scanning 赵演示's code: assignee %q, station %q", got.AssigneeID, got.StationID)
	}
	mustContain(t, timelineText(got), "赵演示（扫代表码）", "扫代表码：赵演示")
	// The scan decided that report; the next goes by the location.
	next := caseRecord(t, s, s.ReportCase(t, resident))
	if next.StationID != "shuitan" || next.AssigneeID == "d-pt-03" {
		t.Errorf("the report after: station %q, assignee %q; want 水滩 by location", next.StationID, next.AssigneeID)
	}

	// A follower scans a station's code (SCAN, no subscribe).
	code, page = s.Get(t, s.Login(t, "admin", testPassword), "/console/qrcodes/station/saiyu/poster")
	if code != 200 {
		t.Fatalf("station poster: HTTP %d\n%s", code, page)
	}
	mustContain(t, page, "赛鱼街道人大代表联络站", "有事找联络站")
	_, scene = sceneOf(t, fw, page)
	reply := send(t, c, wxsim.Scan(follower, scene)).Content
	mustContain(t, reply, "赛鱼街道人大代表联络站")
	if strings.Contains(reply, "欢迎关注") {
		t.Errorf("a follower's scan was welcomed as a new follower: %q", reply)
	}
	st := caseRecord(t, s, s.ReportCase(t, follower))
	if st.StationID != "saiyu" || st.AssigneeID == "" {
		t.Fatalf("after scanning 赛鱼's code: station %q, assignee %q", st.StationID, st.AssigneeID)
	}
	mustContain(t, timelineText(st), "扫联络站码：赛鱼街道人大代表联络站")
}

// TestDeputyBindsByScanningAndQRLimit: staff show a deputy's one-time
// binding code; the deputy scans it and is bound (as 绑定 CODE binds); the
// code works once. When WeChat's limit on permanent codes is reached, the
// console says so in Chinese and nothing is lost. The poster prints as an
// A4 PDF.
func TestDeputyBindsByScanningAndQRLimit(t *testing.T) {
	cfg := testConfig(t)
	fw := withFakeWeChat(t, &cfg)
	s := startService(t, cfg)
	c := s.Client(wxsim.Safe)
	const deputy, other = "oQRDeputy000000000000000001", "oQROther0000000000000000001"
	s.AddUser(t, "pt-clerk", lianxin.RoleStaff, "pingtanjie", "", testPassword)
	clerk := s.Login(t, "pt-clerk", testPassword)

	code, _, page := s.Post(t, clerk, "/console/qrcodes/bind/d-st-03", nil)
	if code != 200 {
		t.Fatalf("binding code: HTTP %d\n%s", code, page)
	}
	mustContain(t, page, "请孙演示代表用微信扫描", "只能用一次")
	_, scene := sceneOf(t, fw, page)
	if !strings.HasPrefix(scene, "bind:") {
		t.Fatalf("binding scene %q", scene)
	}
	if made := fw.QRCodes(); len(made) != 1 || made[0].Permanent || made[0].Expire != 600 {
		t.Fatalf("WeChat was asked for %+v, want one 10-minute temporary code", made)
	}
	mustContain(t, send(t, c, wxsim.Scan(deputy, scene)).Content, "绑定成功", "孙演示")
	if d, ok, err := s.DB.DeputyByOpenID(context.Background(), deputy); err != nil || !ok || d.ID != "d-st-03" {
		t.Fatalf("bound deputy: %+v %v %v", d, ok, err)
	}
	// Used: someone else scanning the same code (a photo of the screen) is refused.
	mustContain(t, send(t, c, wxsim.ScanSubscribe(other, scene)).Content, "欢迎", "绑定码不对或已过期")
	if _, ok, _ := s.DB.DeputyByOpenID(context.Background(), other); ok {
		t.Fatal("a used binding code bound a second WeChat")
	}

	// WeChat's limit on permanent codes.
	fw.SetQRLimit(0)
	code, _, page = s.Post(t, clerk, "/console/qrcodes/station/pingtanjie", nil)
	if code != http.StatusConflict {
		t.Fatalf("past the limit: HTTP %d\n%s", code, page)
	}
	mustContain(t, page, "永久二维码已达到微信的数量上限", "已生成的代表码仍可使用")
	if code, page := s.Get(t, clerk, "/console/qrcodes/station/pingtanjie/poster"); code != http.StatusConflict || !strings.Contains(page, "数量上限") {
		t.Fatalf("a poster past the limit: HTTP %d\n%s", code, page)
	}
	// A print run stops at the limit with what was made kept.
	fw.SetQRLimit(3)
	code, _, page = s.Post(t, clerk, "/console/qrcodes/all", nil)
	if code != http.StatusConflict {
		t.Fatalf("making all past the limit: HTTP %d\n%s", code, page)
	}
	mustContain(t, page, "本次已生成 3 个代表码后停止", "数量上限")
	fw.SetQRLimit(100000)
	if code, loc, page := s.Post(t, clerk, "/console/qrcodes/all", nil); code != http.StatusSeeOther || !strings.Contains(loc, "qr_made_all") {
		t.Fatalf("making all: HTTP %d %s\n%s", code, loc, page)
	}
	if _, page := s.Get(t, clerk, "/console/qrcodes"); strings.Contains(page, "<td>未生成</td>") {
		t.Error("codes still missing after making all")
	}
	if code, loc, page := s.Post(t, clerk, "/console/qrcodes/station/pingtanjie", nil); code != http.StatusSeeOther || !strings.Contains(loc, "qr_made") {
		t.Fatalf("making the code: HTTP %d %s\n%s", code, loc, page)
	}

	t.Run("pdf", func(t *testing.T) {
		testenv.Chromium(t)
		if *writeDocs {
			// The README's picture of a deputy's poster, its stylesheet inlined.
			_, html := s.Get(t, clerk, "/console/qrcodes/deputy/d-st-02/poster")
			link := regexp.MustCompile(`<link rel="stylesheet" href="([^"]+)">`).FindStringSubmatch(html)
			_, css := s.Get(t, clerk, link[1])
			html = strings.Replace(html, link[0], "<style>"+css+"</style>", 1)
			html = regexp.MustCompile(`(?s)<p class="tools no-print">.*?</p>`).ReplaceAllString(html, "")
			png, err := report.Screenshot(context.Background(), []byte(html), 794)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join("..", "..", "docs", "deputy-poster.png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := clerk.Get(s.Server.URL + "/console/qrcodes/station/pingtanjie/poster?format=pdf")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !bytes.HasPrefix(b, []byte("%PDF")) {
			t.Fatalf("poster PDF: HTTP %d, %d bytes %q", resp.StatusCode, len(b), b[:min(len(b), 200)])
		}
	})
}

// TestScanExpiresAndTakesADraft: a scan decides reports for a week only
// (lianxin.ScanMemory); a scan while a report is being written takes that
// report at once.
func TestScanExpiresAndTakesADraft(t *testing.T) {
	cfg := testConfig(t)
	withFakeWeChat(t, &cfg)
	clock := testenv.NewClock(time.Now().Add(-10 * 24 * time.Hour))
	s := startService(t, cfg, clock)
	c := s.Client(wxsim.Safe)
	const late, drafting = "oQRLate000000000000000000001", "oQRDrafting00000000000000001"

	mustContain(t, send(t, c, wxsim.ScanSubscribe(late, "deputy:d-pt-03")).Content, "赵演示代表")
	clock.Add(lianxin.ScanMemory + time.Hour)
	if got := caseRecord(t, s, s.ReportCase(t, late)); got.StationID != "shuitan" || got.AssigneeID == "d-pt-03" {
		t.Errorf("a report eight days after the scan: station %q, assignee %q; want 水滩 by location", got.StationID, got.AssigneeID)
	}

	say(t, c, drafting, "报事")
	say(t, c, drafting, "2")
	mustContain(t, send(t, c, wxsim.Scan(drafting, "deputy:d-pt-03")).Content, "您扫描的是平潭街街道人大代表联络站的赵演示代表的代表码，正在填写的这件事会交给这位代表办理")
	say(t, c, drafting, "3号楼2单元暖气一直不热,屋里才十四五度")
	send(t, c, wxsim.Image(drafting, "QR_DRAFT_PHOTO", "http://mmbiz.qpic.cn/x"))
	say(t, c, drafting, "完成")
	send(t, c, wxsim.Location(drafting, 37.8560, 113.5726, "水滩社区3号楼"))
	say(t, c, drafting, "13812345678")
	reply := say(t, c, drafting, "确认")
	m := regexp.MustCompile(`KQ\d{8}-\d{4}`).FindString(reply)
	if m == "" {
		t.Fatalf("no case number in %q", reply)
	}
	if got := caseRecord(t, s, m); got.AssigneeID != "d-pt-03" {
		t.Errorf("a draft scanned mid-way went to %q", got.AssigneeID)
	}
	// An unknown scene (a deputy no longer in the directory) is welcomed, not routed.
	mustContain(t, send(t, c, wxsim.Scan(drafting, "deputy:d-gone")).Content, "这个代表码已停用")
}
