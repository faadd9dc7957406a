package service_test

import (
	"archive/zip"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/servicetest"
	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/internal/wxtest/fakewx"
	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
	"github.com/lianxin/lianxin/report"
)

// writeDocs rewrites the README's picture of the written suggestions
// (docs/consultation-suggestions.png) from this test's consultation.
var writeDocs = flag.Bool("docs", false, "write docs/consultation-suggestions.png (needs chromium)")

// draftDocx is a Word document of a draft regulation, as a station gets it
// from the people's congress: a title, a chapter heading, articles
// numbered in Chinese numerals (one spanning two paragraphs).
func draftDocx(t *testing.T) []byte {
	t.Helper()
	paras := []string{
		"阳泉市电动自行车管理条例（草案）",
		"（征求意见稿）",
		"第一章　总则",
		"第一条　为了加强电动自行车管理，保障道路交通安全，根据有关法律法规，结合本市实际，制定本条例。",
		"第二条　驾驶电动自行车应当佩戴安全头盔。",
		"第二章　登记和通行",
		"第三条　电动自行车应当依法登记，取得号牌后方可上道路行驶。",
		"第四条　电动自行车不得在人行道上行驶。",
		"在非机动车道内行驶时，最高时速不得超过十五公里。",
		"第五条　本条例施行前购买的不符合国家标准的电动自行车，设置过渡期。",
	}
	var doc strings.Builder
	doc.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`)
	for _, p := range paras {
		// Word splits a paragraph's text into runs as the author typed.
		r := []rune(p)
		half := len(r) / 2
		fmt.Fprintf(&doc, `<w:p><w:pPr><w:jc w:val="both"/></w:pPr><w:r><w:t>%s</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">%s</w:t></w:r></w:p>`,
			string(r[:half]), string(r[half:]))
	}
	doc.WriteString(`<w:sectPr/></w:body></w:document>`)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range map[string]string{
		"[Content_Types].xml": `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`,
		"word/document.xml":   doc.String(),
	} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// postMultipart submits a form with a file, as a browser does.
func postMultipart(t *testing.T, s *testService, b *http.Client, path string, fields map[string]string, file string, data []byte) (int, string, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if file != "" {
		fw, err := mw.CreateFormFile("file", file)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(data)
	}
	mw.Close()
	resp, err := b.Post(s.Server.URL+path, mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(out)
}

// waitSentKind waits until WeChat delivered a message of a kind to `to`
// containing every fragment.
func waitSentKind(t *testing.T, fw *fakewx.Server, kind, to string, fragments ...string) fakewx.Sent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var found fakewx.Sent
	err := fw.WaitSent(ctx, func(sent []fakewx.Sent) bool {
		for _, s := range sent {
			if s.Kind != kind || s.To != to {
				continue
			}
			ok := true
			for _, f := range fragments {
				ok = ok && strings.Contains(s.Text, f)
			}
			if ok {
				found = s
				return true
			}
		}
		return false
	})
	if err != nil {
		var got []string
		for _, s := range fw.Sent() {
			got = append(got, s.Kind+" "+s.To+": "+clipRunes(s.Text, 80))
		}
		t.Fatalf("no %s message to %s containing %q; sent:\n%s", kind, to, fragments, strings.Join(got, "\n"))
	}
	return found
}

// TestConsultationFromPublishToContributorsNotices is the must-show
// for consultations, through the real webhook and the fake WeChat API: a
// clerk uploads a .docx draft (split into articles by 第X条, chapters
// kept), corrects an article, publishes it (a mass send to the station's
// tag, linking the public page, read article by article without signing
// in); residents answer in chat, in one message, step by step with a voice
// message and a name and phone, from a deputy's WeChat, and after the
// deadline (kept, marked late); the clerk merges a duplicate, marks
// outcomes, writes the station's recommendation, exports the written
// suggestions (Excel, the printable document, PDF) and concludes: every
// contributor is told what became of their opinion, and the deputy's
// record counts the opinion they gathered.
func TestConsultationFromPublishToContributorsNotices(t *testing.T) {
	cfg := testConfig(t)
	fw := withFakeWeChat(t, &cfg)
	cfg.Console.PublicURL = servicetest.AutoPublicURL
	fw.AddTag(lianxin.StationTag("pingtanjie"))
	// The workers keep real time: the story is set in the weeks before
	// now, so what it queues is due when the outbox looks.
	clock := testenv.NewClock(time.Now().Add(-25 * 24 * time.Hour))
	shanghai := cfg.Location()
	deadline := clock.Now().In(shanghai).AddDate(0, 0, 14)
	s := startService(t, cfg, clock)
	ctx := context.Background()
	c := s.Client(wxsim.Safe)
	s.AddUser(t, "pt-clerk", lianxin.RoleStaff, "pingtanjie", "", testPassword)
	s.AddUser(t, "sy-clerk", lianxin.RoleStaff, "saiyu", "", testPassword)
	clerk := s.Login(t, "pt-clerk", testPassword)

	// The draft, uploaded as Word.
	code, loc, body := postMultipart(t, s, clerk, "/console/consultations", map[string]string{
		"title": "阳泉市电动自行车管理条例（草案）", "deadline": deadline.Format("2006-01-02"), "audience": lianxin.AudienceStation, "station": "pingtanjie",
	}, "电动自行车管理条例（草案）.docx", draftDocx(t))
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/consultations/") {
		t.Fatalf("creating the consultation: HTTP %d %s\n%s", code, loc, body)
	}
	page := strings.TrimSuffix(strings.Split(loc, "?")[0], "/")
	code, html := s.Get(t, clerk, page)
	if code != 200 {
		t.Fatalf("consultation page: HTTP %d", code)
	}
	for _, want := range []string{"核对条款（共5条）", `value="第一条"`, `value="第五条"`, "第二章 登记和通行", "最高时速不得超过十五公里", "（征求意见稿）"} {
		if !strings.Contains(html, want) {
			t.Errorf("the draft's page lacks %q", want)
		}
	}
	// Another station's clerk does not find it.
	if code, _ := s.Get(t, s.Login(t, "sy-clerk", testPassword), page); code != http.StatusNotFound {
		t.Errorf("another station's clerk got HTTP %d for the consultation, want 404", code)
	}

	// The clerk corrects article 2 and saves.
	seen := regexp.MustCompile(`name="seen" value="(\d+)"`).FindStringSubmatch(html)[1]
	form := url.Values{"seen": {seen}, "title": {"阳泉市电动自行车管理条例（草案）"}, "intro": {"请对草案逐条提出意见。"}, "deadline": {deadline.Format("2006-01-02")},
		"audience": {lianxin.AudienceStation}}
	for _, m := range regexp.MustCompile(`(?s)<input name="label" value="([^"]*)" size="10"> 章节 <input name="chapter" value="([^"]*)" size="20"></label>\s*<textarea name="article" rows="3">([^<]*)</textarea>`).FindAllStringSubmatch(html, -1) {
		text := m[3]
		if m[1] == "第二条" {
			text = "驾驶、乘坐电动自行车应当佩戴安全头盔。"
		}
		form["label"] = append(form["label"], m[1])
		form["chapter"] = append(form["chapter"], m[2])
		form["article"] = append(form["article"], text)
	}
	if len(form["article"]) != 5 {
		t.Fatalf("found %d articles in the edit form, want 5", len(form["article"]))
	}
	if code, loc, body := s.Post(t, clerk, page+"/edit", form); code != http.StatusSeeOther {
		t.Fatalf("saving the articles: HTTP %d %s\n%s", code, loc, body)
	}
	// Publishing pushes it to the station's residents by their tag.
	if code, loc, body := s.Post(t, clerk, page+"/publish", nil); code != http.StatusSeeOther {
		t.Fatalf("publishing: HTTP %d %s\n%s", code, loc, body)
	}
	id := strings.TrimPrefix(page, "/console/consultations/")
	push := waitSentKind(t, fw, fakewx.KindMass, "tag:"+lianxin.StationTag("pingtanjie"), "阳泉市电动自行车管理条例（草案）", deadline.Format("1月2日")+"截止", "/c/"+id, "意见 第X条")
	publicURL := regexp.MustCompile(`http://\S+/c/\d+`).FindString(push.Text)

	// The public page: no sign-in, article by article, nobody's opinions.
	anon := s.Browser(t)
	resp, err := anon.Get(publicURL)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(pub), "逐条阅读（共5条）") || !strings.Contains(string(pub), "/c/"+id+"/4") {
		t.Fatalf("public page: HTTP %d\n%s", resp.StatusCode, pub)
	}
	code, art := s.Get(t, anon, "/c/"+id+"/2")
	if code != 200 || !strings.Contains(art, "驾驶、乘坐电动自行车应当佩戴安全头盔") || !strings.Contains(art, "意见 第二条") ||
		!strings.Contains(art, "/c/"+id+"/1") || !strings.Contains(art, "/c/"+id+"/3") {
		t.Fatalf("article 2 alone: HTTP %d\n%s", code, art)
	}

	// Residents answer in chat.
	const (
		r1, r2, r3, r4 = "oConsultRes0000000000000001", "oConsultRes0000000000000002", "oConsultRes0000000000000003", "oConsultRes0000000000000004"
		deputy         = "oConsultDeputy000000000001"
	)
	mustContain(t, say(t, c, r1, "意见 第五条 建议给老年代步车设置一年过渡期，不要一刀切"), "第五条", "意见编号 YJ"+id+"-001")
	mustContain(t, say(t, c, r2, "意见"), "您的意见是针对哪一条", "第一条", "第五条")
	mustContain(t, say(t, c, r2, "五"), "第五条的意见")
	mustContain(t, send(t, c, wxsim.Voice(r2, "VOICE_R2_OPINION", "老年人的代步车应该给过渡期。")).Content, "姓名和电话")
	mustContain(t, say(t, c, r2, "王大爷 13812345678"), "意见编号 YJ"+id+"-002")
	mustContain(t, say(t, c, r3, "意见 第二条：乘坐人也戴头盔不现实，建议只要求驾驶人"), "意见编号 YJ"+id+"-003")
	bindDeputy(t, s, c, deputy, "d-pt-02")
	mustContain(t, say(t, c, deputy, "意见 总体 建议增加集中充电设施的条款"), "草案整体", "意见编号 YJ"+id+"-004")
	// After the deadline: kept, and marked late.
	clock.Add(20 * 24 * time.Hour)
	mustContain(t, say(t, c, r4, "意见 第四条 限速十五公里太低"), "意见编号 YJ"+id+"-005", "已于"+deadline.Format("1月2日")+"截止")
	clerk = s.Login(t, "pt-clerk", testPassword) // signed out while idle
	ops, err := s.DB.Opinions(ctx, mustID(t, id))
	if err != nil || len(ops) != 5 {
		t.Fatalf("opinions: %v, %d", err, len(ops))
	}
	byN := map[int]lianxin.Opinion{}
	for _, o := range ops {
		byN[o.N] = o
	}
	if o := byN[2]; o.Voice == nil || o.Name != "王大爷" || o.Phone != "13812345678" || o.ArticleSeq != 5 {
		t.Errorf("the step-by-step opinion: %+v", o)
	}
	if byN[4].DeputyID != "d-pt-02" || byN[4].ArticleSeq != 0 || !byN[5].Late || byN[1].Late {
		t.Errorf("deputy %q article %d; late: %v %v", byN[4].DeputyID, byN[4].ArticleSeq, byN[5].Late, byN[1].Late)
	}

	// Review: the duplicate merged, outcomes marked, the recommendation written.
	review := func(oid int64, form url.Values) {
		t.Helper()
		if code, _, body := s.Post(t, clerk, fmt.Sprintf("%s/opinions/%d", page, oid), form); code != http.StatusSeeOther {
			t.Fatalf("reviewing opinion %d: HTTP %d\n%s", oid, code, body)
		}
	}
	review(byN[2].ID, url.Values{"op": {"merge"}, "into": {"YJ" + id + "-001"}})
	review(byN[1].ID, url.Values{"outcome": {lianxin.OpinionAdopted}, "reason": {"已建议增设一年过渡期"}})
	review(byN[3].ID, url.Values{"outcome": {lianxin.OpinionNotAdopted}, "reason": {"上位法要求乘坐人佩戴头盔"}})
	review(byN[5].ID, url.Values{"outcome": {lianxin.OpinionPartly}, "reason": {"建议在主干道另行规定"}})
	if code, _, body := s.Post(t, clerk, page+"/articles/5", url.Values{"recommendation": {"建议对存量超标车设置一年过渡期，并提供以旧换新补贴。"}}); code != http.StatusSeeOther {
		t.Fatalf("recommendation: HTTP %d\n%s", code, body)
	}
	_, html = s.Get(t, clerk, page)
	for _, want := range []string{"与 YJ" + id + "-001 相同", "逾期", "收集代表：李示范", "138****5678", "语音"} {
		if !strings.Contains(html, want) {
			t.Errorf("the review page lacks %q", want)
		}
	}

	// The written suggestions, as Excel.
	resp, err = clerk.Get(s.Server.URL + page + "/export/" + url.PathEscape("书面建议.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	xb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("xlsx export: HTTP %d %s", resp.StatusCode, xb)
	}
	x, err := excelize.OpenReader(bytes.NewReader(xb))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := x.GetRows("书面建议")
	if err != nil {
		t.Fatal(err)
	}
	var art5 []string
	for _, r := range rows {
		if len(r) > 0 && r[0] == "第五条" {
			art5 = r
		}
	}
	// 条款, 条文摘要, 意见数, 群众人数, 代表性表述, 同类意见人数, 合并的编号, 采纳情况, 采纳说明, 联络站建议
	if len(art5) < 10 || art5[2] != "2" || art5[3] != "2" || !strings.Contains(art5[4], "一年过渡期") || art5[5] != "2" ||
		art5[6] != "YJ"+id+"-002" || art5[7] != "采纳" || !strings.Contains(art5[9], "以旧换新") {
		t.Errorf("article 5's row: %q", art5)
	}
	if !strings.Contains(rows[1][0], "共收到意见5条，群众5人，归纳为4项（逾期1条") {
		t.Errorf("the sheet's subtitle: %q", rows[1])
	}
	detail, _ := x.GetRows("意见明细")
	if len(detail) != 6 {
		t.Errorf("the detail sheet has %d rows, want a header and 5 opinions", len(detail))
	}
	if bytes.Contains(xb, []byte("13812345678")) || strings.Contains(strings.Join(flatten(rows, detail), " "), "王大爷") {
		t.Error("the written suggestions carry a resident's name or phone")
	}
	// The printable document.
	code, doc := s.Get(t, clerk, page+"/export/"+url.PathEscape("书面建议.html"))
	if code != 200 || !strings.Contains(doc, "关于《阳泉市电动自行车管理条例（草案）》的书面建议") || !strings.Contains(doc, "联络站建议") ||
		strings.Contains(doc, "王大爷") || strings.Contains(doc, "13812345678") {
		t.Errorf("html export: HTTP %d\n%s", code, clipRunes(doc, 400))
	}
	t.Run("pdf", func(t *testing.T) {
		testenv.Chromium(t)
		if *writeDocs {
			png, err := report.Screenshot(ctx, []byte(doc), 860)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join("..", "..", "docs", "consultation-suggestions.png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := clerk.Get(s.Server.URL + page + "/export/" + url.PathEscape("书面建议.pdf"))
		if err != nil {
			t.Fatal(err)
		}
		pdf, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
			t.Errorf("pdf export: HTTP %d, %d bytes", resp.StatusCode, len(pdf))
		}
	})

	// Concluding tells every contributor what became of their opinion.
	if code, _, body := s.Post(t, clerk, page+"/conclude", nil); code != http.StatusSeeOther {
		t.Fatalf("concluding: HTTP %d\n%s", code, body)
	}
	waitSent(t, fw, r1, "YJ"+id+"-001", "已被采纳", "已建议增设一年过渡期")
	waitSent(t, fw, r2, "YJ"+id+"-002", "已被采纳") // a duplicate shares its primary's outcome
	waitSent(t, fw, r3, "YJ"+id+"-003", "未被采纳", "上位法")
	waitSent(t, fw, deputy, "YJ"+id+"-004", "已汇总报送")
	waitSent(t, fw, r4, "YJ"+id+"-005", "部分采纳")
	// Concluding again tells nobody twice.
	if code, _, _ := s.Post(t, clerk, page+"/conclude", nil); code != http.StatusSeeOther {
		t.Fatalf("concluding again: HTTP %d", code)
	}
	n := 0
	for _, m := range fw.Sent() {
		if m.To == r1 && strings.Contains(m.Text, "已被采纳") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("r1 was told %d times", n)
	}
	// The deputy's record counts the opinion they gathered.
	rec, err := s.Reporter().Record(ctx, "d-pt-02", byN[4].CreatedAt.In(shanghai).Year())
	if err != nil || rec.Opinions != 1 {
		t.Errorf("d-pt-02's record: %v, %d opinions", err, rec.Opinions)
	}
	// Every step is in the audit log.
	log, err := s.DB.AuditLog(ctx, lianxin.AuditFilter{Subject: "consultation:" + id, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	for _, e := range log {
		actions[e.Action]++
	}
	for _, a := range []string{"consultation_create", "consultation_edit", "consultation_publish", "opinion_review", "consultation_recommend", "consultation_export", "consultation_conclude"} {
		if actions[a] == 0 {
			t.Errorf("no %s in the audit log: %v", a, actions)
		}
	}
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	var id int64
	if _, err := fmt.Sscan(s, &id); err != nil {
		t.Fatal(err)
	}
	return id
}

func flatten(sheets ...[][]string) []string {
	var out []string
	for _, rows := range sheets {
		for _, r := range rows {
			out = append(out, r...)
		}
	}
	return out
}

// TestConsultationMassQuota: publishing within the month's quota of mass
// sends; WeChat refusing one (45028) is shown on the page, and a push past
// the quota is refused at once with a clear message, nothing sent.
func TestConsultationMassQuota(t *testing.T) {
	cfg := testConfig(t)
	fw := withFakeWeChat(t, &cfg)
	cfg.Consultations.MassQuota = 2
	fw.SetMassQuota(1)
	s := startService(t, cfg)
	s.AddUser(t, "pt-clerk", lianxin.RoleStaff, "pingtanjie", "", testPassword)
	clerk := s.Login(t, "pt-clerk", testPassword)
	create := func(title string) string {
		t.Helper()
		code, loc, body := postMultipart(t, s, clerk, "/console/consultations", map[string]string{"title": title,
			"deadline": time.Now().AddDate(0, 0, 10).Format("2006-01-02"), "audience": lianxin.AudienceAll, "station": "pingtanjie",
			"text": "第一条 一。\n第二条 二。"}, "", nil)
		if code != http.StatusSeeOther {
			t.Fatalf("creating %s: HTTP %d\n%s", title, code, body)
		}
		return strings.Split(loc, "?")[0]
	}
	first, second, third := create("草案一"), create("草案二"), create("草案三")
	if code, _, body := s.Post(t, clerk, first+"/publish", nil); code != http.StatusSeeOther {
		t.Fatalf("publishing the first: HTTP %d\n%s", code, body)
	}
	waitSentKind(t, fw, fakewx.KindMass, "all", "草案一")
	// Within our count, but WeChat says the quota is used up.
	if code, _, body := s.Post(t, clerk, second+"/publish", nil); code != http.StatusSeeOther {
		t.Fatalf("publishing the second: HTTP %d\n%s", code, body)
	}
	waitFor(t, 10*time.Second, "the second push refused", func() bool {
		_, html := s.Get(t, clerk, second)
		return strings.Contains(html, "本月群发次数已用完，未发出")
	})
	// Past it now: refused before anything is queued.
	code, _, body := s.Post(t, clerk, third+"/publish", nil)
	if code != http.StatusConflict || !strings.Contains(body, "本月群发次数已用完") {
		t.Fatalf("publishing past the quota: HTTP %d\n%s", code, clipRunes(body, 300))
	}
	_, html := s.Get(t, clerk, third)
	if !strings.Contains(html, "发布并推送") {
		t.Error("the refused consultation is no longer a draft")
	}
	// To informants when none has bound their WeChat: said so, nothing sent.
	code, loc, body := postMultipart(t, s, clerk, "/console/consultations", map[string]string{"title": "草案四",
		"deadline": time.Now().AddDate(0, 0, 10).Format("2006-01-02"), "audience": lianxin.AudienceInformants, "station": "pingtanjie",
		"text": "第一条 一。"}, "", nil)
	if code != http.StatusSeeOther {
		t.Fatalf("creating 草案四: HTTP %d\n%s", code, body)
	}
	code, _, body = s.Post(t, clerk, strings.Split(loc, "?")[0]+"/publish", nil)
	if code != http.StatusConflict || !strings.Contains(body, "还没有绑定微信的网格员") {
		t.Errorf("publishing to no informants: HTTP %d\n%s", code, clipRunes(body, 300))
	}
}
