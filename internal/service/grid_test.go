package service_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
)

// TestGridWorkerReportsForAResident: staff make a binding code in the
// console; the grid worker binds in chat and reports on a resident's
// behalf (代报): who first, then the report with a photo forwarded from
// the group. The case records both the resident and the worker, counts
// under the source 网格, is in the worker's grid, tells the resident (whose
// WeChat is known from the phone they left on an earlier report), and the
// worker hears its progress and follows the grid's cases (我的网格, 进度).
// An anonymous report tells nobody but the worker.
func TestGridWorkerReportsForAResident(t *testing.T) {
	cfg := testConfig(t)
	fw := withFakeWeChat(t, &cfg)
	s := startService(t, cfg)
	ctx := context.Background()
	c := s.Client(wxsim.Safe)
	const (
		worker   = "oGridWorker00000000000001"
		resident = "oGridResident0000000000001"
		deputy   = "oGridDeputy000000000000001"
		stranger = "oGridStranger0000000000001"
	)
	// The resident reported before and left their phone (13812345678).
	s.ReportCase(t, resident)
	bindDeputy(t, s, c, deputy, "d-st-02")

	// A stranger is no grid worker.
	mustContain(t, say(t, c, stranger, "代报"), "网格员替群众反映问题用的", "报事")

	// Staff make the worker's binding code in the console.
	s.AddUser(t, "pt-clerk", lianxin.RoleStaff, "pingtanjie", "", testPassword)
	clerk := s.Login(t, "pt-clerk", testPassword)
	code, page := s.Get(t, clerk, "/console/grids")
	if code != 200 || !strings.Contains(page, "水滩第一网格") || !strings.Contains(page, "张网格") || !strings.Contains(page, "未绑定") {
		t.Fatalf("grids page: HTTP %d\n%s", code, page)
	}
	code, _, page = s.Post(t, clerk, "/console/grids/workers/w-st-1/invite", nil)
	m := regexp.MustCompile(`<b class="code">(\d{6})</b>`).FindStringSubmatch(page)
	if code != 200 || m == nil {
		t.Fatalf("invite: HTTP %d\n%s", code, page)
	}
	mustContain(t, say(t, c, worker, "绑定 "+m[1]), "绑定成功", "张网格", "水滩第一网格", "代报")
	if _, page := s.Get(t, clerk, "/console/grids"); !strings.Contains(page, "已绑定") {
		t.Error("the grids page does not show the worker bound")
	}

	// The station's informants (信息员): its bound grid workers, told one by one.
	code, loc, body := postMultipart(t, s, clerk, "/console/consultations", map[string]string{"title": "养犬管理条例（草案）",
		"deadline": time.Now().AddDate(0, 0, 10).Format("2006-01-02"), "audience": lianxin.AudienceInformants, "station": "pingtanjie",
		"text": "第一条 携犬出户应当束犬链。"}, "", nil)
	if code != http.StatusSeeOther {
		t.Fatalf("a consultation for informants: HTTP %d\n%s", code, body)
	}
	if code, _, body := s.Post(t, clerk, strings.Split(loc, "?")[0]+"/publish", nil); code != http.StatusSeeOther {
		t.Fatalf("publishing to informants: HTTP %d\n%s", code, body)
	}
	waitSent(t, fw, worker, "【信息员】", "养犬管理条例（草案）", "意见 第X条")

	// 代报: who, then the report as usual, with a photo from the group.
	mustContain(t, say(t, c, worker, "代报"), "群众的姓名和电话", "匿名")
	mustContain(t, say(t, c, worker, "李大妈，13812345678"), "为李大妈（138****5678）代报", "选择问题类别")
	say(t, c, worker, "2")
	say(t, c, worker, "水滩一区5号楼暖气片漏水，地上全是水")
	id := fw.AddGeneratedPhoto(37.8561, 113.5712)
	send(t, c, wxsim.Image(worker, id, fw.PicURL(id)))
	say(t, c, worker, "完成")
	summary := send(t, c, wxsim.Location(worker, 37.8560, 113.5712, "水滩一区5号楼")).Content
	mustContain(t, summary, "代报群众：李大妈（138****5678）", "确认提交")
	if strings.Contains(summary, "联系电话】") {
		t.Errorf("the worker was asked for a phone: %q", summary)
	}
	reply := say(t, c, worker, "确认")
	mustContain(t, reply, "提交成功", "已在公众号里通知群众")
	number := regexp.MustCompile(`KQ\d{8}-\d{4}`).FindString(reply)
	got, err := s.DB.Case(ctx, number)
	if err != nil {
		t.Fatal(err)
	}
	if got.Source != lianxin.SourceGrid || got.ContactName != "李大妈" || got.Phone != "13812345678" || got.OpenID != resident ||
		got.Reporter != "grid:w-st-1" || got.GridID != "g-st-1" || len(got.Attachments) != 1 {
		t.Errorf("the case: source %s name %s phone %s openid %s reporter %s grid %s photos %d",
			got.Source, got.ContactName, got.Phone, got.OpenID, got.Reporter, got.GridID, len(got.Attachments))
	}
	waitSent(t, fw, resident, "网格员张网格已替您反映问题", number)
	// The register counts it under 网格.
	grid, err := s.DB.Cases(ctx, lianxin.CaseFilter{Source: "网格"})
	if err != nil || len(grid) != 1 || grid[0].Number != number {
		t.Errorf("cases from 网格: %v %d", err, len(grid))
	}

	// The deputy takes it up: the resident is told, and so is the worker.
	mustContain(t, say(t, c, deputy, "详情 "+lianxin.ShortNumber(number)), "网格员代报：水滩第一网格 张网格", "13812345678")
	mustContain(t, say(t, c, deputy, "受理 "+lianxin.ShortNumber(number)), "已受理")
	waitSent(t, fw, resident, number, "郑示范代表受理")
	waitSent(t, fw, worker, "【您代报的】", number, "郑示范代表受理")

	// The worker follows the grid.
	mustContain(t, say(t, c, worker, "我的网格"), "水滩第一网格", number, "已受理")
	mustContain(t, say(t, c, worker, "进度 "+lianxin.ShortNumber(number)), number, "已受理")

	// Anonymous: nobody to tell but the worker.
	mustContain(t, say(t, c, worker, "代报"), "匿名")
	mustContain(t, say(t, c, worker, "匿名"), "为匿名群众代报")
	say(t, c, worker, "2")
	say(t, c, worker, "水滩一区7号楼整栋暖气不热")
	say(t, c, worker, "跳过")
	mustContain(t, send(t, c, wxsim.Location(worker, 37.8562, 113.5710, "水滩一区7号楼")).Content, "代报群众：匿名")
	reply = say(t, c, worker, "确认")
	mustContain(t, reply, "提交成功", "请把编号告诉群众")
	anon, err := s.DB.Case(ctx, regexp.MustCompile(`KQ\d{8}-\d{4}`).FindString(reply))
	if err != nil || !anon.Anonymous || anon.Phone != "" || anon.OpenID != "" || anon.Source != lianxin.SourceGrid {
		t.Errorf("anonymous case: %v %+v", err, anon)
	}
	// The console shows who reported it, and lists 网格 as a source.
	_, casePage := s.Get(t, clerk, "/console/cases/"+number)
	if !strings.Contains(casePage, "网格员代报：水滩第一网格 张网格") || !strings.Contains(casePage, "网格") {
		t.Errorf("the case page does not say the grid worker reported it")
	}
	if code, list := s.Get(t, clerk, "/console/cases?source=grid"); code != http.StatusOK || !strings.Contains(list, number) {
		t.Errorf("the case list by source 网格: HTTP %d", code)
	}
}
