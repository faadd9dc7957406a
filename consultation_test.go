package lianxin

import (
	"strings"
	"testing"
)

func TestSplitArticles(t *testing.T) {
	text := "阳泉市电动自行车管理条例（草案）\r\n（征求意见稿）\n\n第一章　总则\n第一条　为了加强管理，制定本条例。\n" +
		"第二条 驾驶人应当佩戴安全头盔。\n第二章 登记\n第十一条：电动自行车应当登记。\n登记免费。\n" +
		"第一百零五条　本条例自公布之日起施行。\n  第５条 全角数字也算。\n本条例第五条规定的过渡期。\n"
	pre, arts := SplitArticles(text)
	if pre != "阳泉市电动自行车管理条例（草案）\n（征求意见稿）" {
		t.Errorf("preamble %q", pre)
	}
	want := []struct{ label, chapter, text string }{
		{"第一条", "第一章 总则", "为了加强管理，制定本条例。"},
		{"第二条", "第一章 总则", "驾驶人应当佩戴安全头盔。"},
		{"第十一条", "第二章 登记", "电动自行车应当登记。\n登记免费。"},
		{"第一百零五条", "第二章 登记", "本条例自公布之日起施行。"},
		// An article's number inside a sentence does not start one.
		{"第５条", "第二章 登记", "全角数字也算。\n本条例第五条规定的过渡期。"},
	}
	if len(arts) != len(want) {
		t.Fatalf("%d articles: %+v", len(arts), arts)
	}
	for i, w := range want {
		a := arts[i]
		if a.Seq != i+1 || a.Label != w.label || a.Chapter != w.chapter || a.Text != w.text {
			t.Errorf("article %d = %+v, want %+v", i+1, a, w)
		}
	}
	// Nothing numbered: one article, nothing lost.
	if _, arts := SplitArticles("关于开展高标准基层立法联系点创建活动的实施方案\n一、总体要求……"); len(arts) != 1 || arts[0].Label != "全文" ||
		!strings.Contains(arts[0].Text, "一、总体要求") {
		t.Errorf("an unnumbered text: %+v", arts)
	}
	if _, arts := SplitArticles("  \n "); len(arts) != 0 {
		t.Errorf("blank text: %+v", arts)
	}
}

func TestArticleNumbers(t *testing.T) {
	for in, want := range map[string]int{"第五条": 5, "五": 5, "5": 5, "第5条": 5, "十": 10, "十二": 12, "二十": 20, "第二十一条": 21,
		"一百零五": 105, "三百一十": 310, "１２": 12, "两": 2, "第一千条": 1000} {
		if n, ok := ArticleNumber(in); !ok || n != want {
			t.Errorf("ArticleNumber(%q) = %d, %v; want %d", in, n, ok, want)
		}
	}
	for _, bad := range []string{"", "第条", "五a", "总体", "第-1条", "零"} {
		if n, ok := ArticleNumber(bad); ok {
			t.Errorf("ArticleNumber(%q) = %d, want no number", bad, n)
		}
	}
}

func TestConsultationEditValidate(t *testing.T) {
	e := ConsultationEdit{Title: " ", Audience: "nobody"}
	errs := e.Validate()
	for _, f := range []string{"title", "deadline", "audience", "text"} {
		if errs[f] == "" {
			t.Errorf("no error for %s: %v", f, errs)
		}
	}
}
