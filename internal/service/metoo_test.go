package service_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/wxtest/fakewx"
	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
)

// fileUntilConfirm takes a heating report with a photo at a place up to
// its last answer before 确认, and returns the reply to 确认.
func fileUntilConfirm(t *testing.T, s *testService, fw *fakewx.Server, user, desc string, lat, lng float64, label string) string {
	t.Helper()
	c := s.Client(wxsim.Safe)
	say(t, c, user, "报事")
	say(t, c, user, "2")
	say(t, c, user, desc)
	id := fw.AddGeneratedPhoto(lat, lng)
	send(t, c, wxsim.Image(user, id, fw.PicURL(id)))
	say(t, c, user, "完成")
	send(t, c, wxsim.Location(user, lat, lng, label))
	say(t, c, user, "跳过")
	return say(t, c, user, "确认")
}

// TestMeTooAndSuggestion: a report like an open case nearby is offered to
// join it (同一件): the supporter is told its progress and outcome (never
// asked to rate it), the deputy's 详情 and the console say how many
// residents it concerns; declining files a case of its own. The two cases
// are grouped as similar for staff, turned into a suggestion with its own
// handling, and its answer tells the residents of both cases, supporter
// included.
func TestMeTooAndSuggestion(t *testing.T) {
	cfg := testConfig(t)
	fw := withFakeWeChat(t, &cfg)
	cfg.MeToo.RadiusM = 250 // on, as shipped
	s := startService(t, cfg)
	ctx := context.Background()
	c := s.Client(wxsim.Safe)
	const (
		first    = "oMeTooFirst00000000000001"
		joiner   = "oMeTooJoiner0000000000001"
		decliner = "oMeTooDecliner00000000001"
		deputy   = "oMeTooDeputy0000000000001"
		head     = "oMeTooHead000000000000001"
	)
	bindDeputy(t, s, c, deputy, "d-st-02")
	bindDeputy(t, s, c, head, "d-dyf-01") // another point's head
	a := s.ReportCase(t, first)           // 水滩社区3号楼, heating

	// About 110 m away, the same category: offered.
	offer := fileUntilConfirm(t, s, fw, joiner, "我家也是暖气不热，只有十五度", 37.8570, 113.5728, "水滩社区5号楼")
	mustContain(t, offer, "附近已有人反映过", a, "【供暖】", "暖气一直不热", "约11", "同一件")
	mustContain(t, say(t, c, joiner, "同一件"), "您已关注 "+a, "2位群众反映")
	if mine, err := s.DB.Cases(ctx, lianxin.CaseFilter{OpenID: joiner}); err != nil || len(mine) != 0 {
		t.Fatalf("joining filed a case: %v %d", err, len(mine))
	}
	// Declining files a case of its own, as before.
	offer = fileUntilConfirm(t, s, fw, decliner, "3号楼暖气管道漏水，楼道里都是水", 37.8562, 113.5724, "水滩社区3号楼楼道")
	mustContain(t, offer, "附近已有人反映过", a)
	reply := say(t, c, decliner, "不是")
	mustContain(t, reply, "提交成功")
	b := regexp.MustCompile(`KQ\d{8}-\d{4}`).FindString(reply)

	// The case concerns two residents now: its timeline, 详情 and the console say so.
	got, err := s.DB.Case(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if got.Supporters != 1 || len(got.Attachments) != 2 {
		t.Errorf("%s: %d supporters, %d photos (the joiner's photo joins it)", a, got.Supporters, len(got.Attachments))
	}
	mustContain(t, say(t, c, deputy, "详情 "+lianxin.ShortNumber(a)), "涉及群众：2人", "只有十五度")
	s.AddUser(t, "pt-clerk", lianxin.RoleStaff, "pingtanjie", "", testPassword)
	clerk := s.Login(t, "pt-clerk", testPassword)
	if _, page := s.Get(t, clerk, "/console/cases/"+a); !strings.Contains(page, "涉及群众") || !strings.Contains(page, "2人") {
		t.Error("the case page does not say how many residents it concerns")
	}

	// Progress and outcome reach the supporter too; the rating question does not.
	mustContain(t, say(t, c, deputy, "受理 "+lianxin.ShortNumber(a)), "已受理")
	waitSent(t, fw, first, a, "郑示范代表受理")
	waitSent(t, fw, joiner, "您关注的问题（"+a+"）已由郑示范代表受理")
	mustContain(t, say(t, c, joiner, "进度"), "您关注的事", a)
	mustContain(t, say(t, c, joiner, "进度 "+a), a, "郑示范代表已受理")
	mustContain(t, say(t, c, deputy, "进展 "+lianxin.ShortNumber(a)+" 已联系供热站明天上门"), "已记下进展")
	waitSent(t, fw, joiner, "您关注的问题（"+a+"）有新进展", "明天上门")

	// Grouped for staff with the declined one: 3 residents, 2 cases.
	code, clusters := s.Get(t, clerk, "/console/clusters")
	if code != 200 || !strings.Contains(clusters, a) || !strings.Contains(clusters, b) || !strings.Contains(clusters, "2件 · 涉及群众3人") {
		t.Fatalf("clusters: HTTP %d\n%s", code, clusters)
	}
	// Turned into a suggestion.
	code, loc, body := s.Post(t, clerk, "/console/suggestions", url.Values{"cases": {a + " " + b}, "title": {"关于解决水滩社区3号楼一带供暖问题的建议"},
		"summary": {"水滩社区3号楼一带多户暖气不热、管道漏水，建议供热站统一排查更换老旧管网。"}})
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/suggestions/") {
		t.Fatalf("proposing: HTTP %d %s\n%s", code, loc, body)
	}
	sug := strings.Split(loc, "?")[0]
	code, page := s.Get(t, clerk, sug)
	if code != 200 || !strings.Contains(page, "2件反映 · 涉及群众3人") || !strings.Contains(page, "水滩社区3号楼") {
		t.Fatalf("suggestion page: HTTP %d\n%s", code, page)
	}
	// Another point's head may not see it.
	s.AddUser(t, "dyf-head", lianxin.RoleDeputy, "", "d-dyf-01", testPassword)
	if code, _ := s.Get(t, s.Login(t, "dyf-head", testPassword), sug); code != http.StatusNotFound {
		t.Errorf("another point's head got HTTP %d for the suggestion, want 404", code)
	}
	for _, step := range []struct{ verb, text, dept string }{
		{"progress", "已约供热站现场踏勘", ""},
		{"forwarded", "请一并排查3号楼周边管网", "heating_company"},
		{"answered", "供热站已更换3号楼一带老旧管网，室温恢复到20度以上。", ""},
	} {
		if code, _, body := s.Post(t, clerk, sug+"/"+step.verb, url.Values{"text": {step.text}, "department": {step.dept}}); code != http.StatusSeeOther {
			t.Fatalf("%s: HTTP %d\n%s", step.verb, code, body)
		}
	}
	for _, who := range []struct{ openid, number string }{{first, a}, {joiner, a}, {decliner, b}} {
		waitSent(t, fw, who.openid, who.number, "代表建议《关于解决水滩社区3号楼一带供暖问题的建议》", "室温恢复到20度以上")
	}
	_, page = s.Get(t, clerk, sug)
	for _, want := range []string{"已办复", "交办部门", "矿区供热站", "已约供热站现场踏勘"} {
		if !strings.Contains(page, want) {
			t.Errorf("the suggestion page lacks %q", want)
		}
	}
	mustContain(t, say(t, c, decliner, "进度 "+b), "代表建议《关于解决水滩社区3号楼一带供暖问题的建议》办理结果")
	// Answered: no more actions.
	if code, _, _ := s.Post(t, clerk, sug+"/progress", url.Values{"text": {"再补一句"}}); code != http.StatusConflict {
		t.Errorf("acting on an answered suggestion: HTTP %d, want 409", code)
	}

	// The case resolved: the supporter hears it without the rating question.
	mustContain(t, say(t, c, deputy, "办结 "+lianxin.ShortNumber(a)+" 已更换管网"), "已办结")
	resolved := waitSent(t, fw, joiner, "您关注的问题（"+a+"）已办结", "已更换管网")
	if strings.Contains(resolved.Text, "评价") {
		t.Errorf("the supporter is asked to rate: %q", resolved.Text)
	}
	waitSent(t, fw, first, a, "已办结", "满意")
	n := 0
	for _, m := range fw.Sent() {
		if m.To == joiner {
			n++
		}
	}
	if n != 4 {
		var got []string
		for _, m := range fw.Sent() {
			if m.To == joiner {
				got = append(got, clipRunes(m.Text, 40))
			}
		}
		t.Errorf("the supporter got %d messages, want 4 (accepted, progress, suggestion, resolved): %s", n, strings.Join(got, " | "))
	}
}
