package flows

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
)

// publish makes a published consultation of the shipped station 平潭街.
func (c *sessionMap) publish(t *testing.T, title string, deadline time.Duration) *lianxin.Consultation {
	t.Helper()
	ctx := context.Background()
	con, err := c.db.CreateConsultation(ctx, lianxin.ConsultationEdit{Title: title, StationID: "pingtanjie", Audience: lianxin.AudienceStation,
		Deadline: c.clock.Now().Add(deadline), Articles: []lianxin.Article{{Label: "第一条", Text: "为了加强管理，制定本条例。"},
			{Label: "第二条", Text: "驾驶人应当佩戴安全头盔。"}, {Label: "第三条", Text: "不得在人行道上行驶。"}}}, "user:t", lianxin.AuditEntry{Actor: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.db.PublishConsultation(ctx, lianxin.Scope{All: true}, con.ID, nil, 4, nil, lianxin.AuditEntry{Actor: "t"}); err != nil {
		t.Fatal(err)
	}
	return con
}

// TestOpinionsInChat: «意见 ……» without an article is left to the rest of
// the conversation; «意见 第二条 ……» is recorded at once; 「意见」 asks
// which article, then the words, then a name and phone (跳过 works); with
// two drafts open it asks which first; 取消 drops the opinion.
func TestOpinionsInChat(t *testing.T) {
	c := newChat(t)
	const u = "oOpinionUser0000000000001"
	// No consultation: the word alone says so; «意见 物业……» is a report.
	contains(t, "no consultation", c.say(t, u, "意见"), "没有正在征求意见")
	lacks(t, "a complaint", c.say(t, u, "意见 第二条 头盔"), "意见编号")
	c.say(t, u, "取消")
	con := c.publish(t, "电动自行车管理条例（草案）", 10*24*time.Hour)
	contains(t, "an everyday complaint", c.say(t, u, "意见很大，物业一直不管楼道卫生"), "【选择类别】")
	c.say(t, u, "取消")
	contains(t, "inline", c.say(t, u, "意见：第二条，乘坐人也要戴头盔不现实"), "对《电动自行车管理条例（草案）》第二条的意见", "YJ")
	// Step by step, with the article and words in one answer.
	contains(t, "step 1", c.say(t, u, "提意见"), "针对哪一条", "第一条 为了加强管理", "第三条")
	contains(t, "a wrong article", c.say(t, u, "第九条"), "草案里没有")
	contains(t, "article and words", c.say(t, u, "第三条 老人骑车慢，人行道应该可以推行"), "姓名和电话")
	contains(t, "no contact", c.say(t, u, "跳过"), "第三条的意见", "意见编号 YJ")
	contains(t, "step 1 again", c.say(t, u, "意见"), "针对哪一条")
	contains(t, "the whole draft", c.say(t, u, "0"), "草案整体")
	contains(t, "cancel", c.say(t, u, "取消"), "已取消这条意见")
	ops, err := c.db.Opinions(context.Background(), con.ID)
	if err != nil || len(ops) != 2 || ops[0].ArticleSeq != 2 || ops[1].ArticleSeq != 3 || !strings.Contains(ops[1].Text, "推行") {
		t.Fatalf("opinions: %v %+v", err, ops)
	}
	// Two drafts open: which one first.
	second := c.publish(t, "养犬管理条例（草案）", 10*24*time.Hour)
	contains(t, "choose", c.say(t, u, "意见 第一条 应该限制大型犬"), "几份草案", "养犬管理条例", "电动自行车管理条例")
	contains(t, "chosen", c.say(t, u, "1"), "对《养犬管理条例（草案）》第一条的意见")
	if ops, _ := c.db.Opinions(context.Background(), second.ID); len(ops) != 1 || ops[0].Text != "应该限制大型犬" {
		t.Errorf("the second draft's opinions: %+v", ops)
	}
	// Numbers answer the step that waits: the draft, then the article.
	contains(t, "step", c.say(t, u, "意见"), "几份草案")
	contains(t, "choose 2", c.say(t, u, "2"), "针对哪一条")
	contains(t, "article 2", c.say(t, u, "2"), "第二条的意见")
	// A question left unanswered for an hour no longer waits.
	c.say(t, u, "取消")
	contains(t, "asked", c.say(t, u, "意见"), "几份草案")
	contains(t, "an hour later", c.say(t, u, "[wait 1h]", "2"), "您还没有反映过问题")
}

func TestContactName(t *testing.T) {
	for in, want := range map[string]string{"王大爷 13812345678": "王大爷", "13812345678": "", "我叫李四，电话0353-1234567": "李四",
		"张三": "张三", "这是一段很长很长的话不是名字而是别的什么内容吧": ""} {
		if got := contactName(in); got != want {
			t.Errorf("contactName(%q) = %q, want %q", in, got, want)
		}
	}
}
