package flows

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/lianxin/lianxin"
)

// toPhoneStep takes a resident through a heating report to 【联系电话】.
func (c *sessionMap) toPhoneStep(t *testing.T, user string) {
	t.Helper()
	r := c.say(t, user, "报事", "2", "3号楼2单元暖气一直不热，屋里才十四五度", "跳过", "[location 37.8560 113.5726 水滩社区3号楼]")
	contains(t, "reaching the phone step", r, "【联系电话】")
}

// The phone step takes numbers as phones and voice recognition send them,
// and a refusal says why once instead of repeating the whole prompt.
func TestPhoneStepAcceptsWhatPeopleSend(t *testing.T) {
	for _, tc := range []struct{ said, shown string }{
		{"13812345678。", "138****5678"},
		{"１３８１２３４５６７８", "138****5678"},
		{"我的电话13812345678", "138****5678"},
		{"电话：138-1234-5678，谢谢", "138****5678"},
		{"[voice] 13812345678。", "138****5678"},
		{"0353-1234567", "035*****4567"},
		{"座机0353 1234567", "035*****4567"},
	} {
		c := newChat(t)
		c.toPhoneStep(t, "oPhone")
		contains(t, tc.said, c.say(t, "oPhone", tc.said), "【确认提交】", "电话："+tc.shown)
	}

	c := newChat(t)
	c.toPhoneStep(t, "oPhoneBad")
	const prompt = "请留下11位手机号，方便代表联系您"
	for _, bad := range []string{"12345", "1381234567", "不知道", "138123456789"} {
		r := c.say(t, "oPhoneBad", bad)
		contains(t, bad, r, "【联系电话】", "跳过")
		lacks(t, bad, r, prompt, "【确认提交】")
		if strings.Count(r, "手机号") > 2 {
			t.Errorf("%s: the refusal repeats itself: %q", bad, r)
		}
	}
	contains(t, "10 digits", c.say(t, "oPhoneBad", "1381234567"), "10位")
}

// After 菜单 in the middle of a report, the menu works as it says and the
// draft waits; a new problem typed there is kept, not dropped.
func TestPausedMenuWorks(t *testing.T) {
	c := newChat(t)
	const u = "oPaused"
	c.say(t, u, "报事", "1", "物业好几个月不收垃圾也不打扫楼道")
	contains(t, "菜单", c.say(t, u, "菜单"), "1 报事", "已保存")
	contains(t, "2 (进度)", c.say(t, u, "2"), "还没有反映过问题", "未填完")
	contains(t, "3 (帮助)", c.say(t, u, "3"), "使用帮助", "未填完")
	contains(t, "1 (报事)", c.say(t, u, "1"), "未完成的反映", "物业管理", "继续")
	contains(t, "继续", c.say(t, u, "继续"), "【上传照片】")

	// A new problem typed at the paused menu.
	c.say(t, u, "菜单")
	const other = "楼道里的灯坏了一个星期了，晚上上下楼看不见"
	r := c.say(t, u, other)
	contains(t, "a new problem at the paused menu", r, "楼道里的灯坏了", "继续", "新的")
	// The old draft first; then the new problem is offered back.
	contains(t, "继续", c.say(t, u, "继续"), "【上传照片】")
	done := c.say(t, u, "跳过", "水滩社区3号楼", "跳过", "确认")
	contains(t, "submitting the old draft", done, "提交成功", "楼道里的灯坏了", "报事")
	contains(t, "报事 for the new problem", c.say(t, u, "报事"), "楼道里的灯坏了", "【选择类别】")
	sum := c.say(t, u, "4", "跳过", "水滩社区3号楼", "跳过")
	contains(t, "the new problem's summary", sum, other)

	// Or the new problem instead of the old draft.
	c2 := newChat(t)
	c2.say(t, u, "报事", "1", "物业好几个月不收垃圾也不打扫楼道", "菜单", other)
	contains(t, "新的", c2.say(t, u, "新的"), "【选择类别】")
	contains(t, "the new draft", c2.say(t, u, "4", "跳过", "水滩社区3号楼", "跳过"), other)
}

// Nothing a resident sends is silently thrown away.
func TestNothingIsSilentlyThrownAway(t *testing.T) {
	t.Run("a too-long description is kept, shortened with a note", func(t *testing.T) {
		c := newChat(t)
		long := strings.Repeat("暖气不热", 300) // 1200 characters; the step takes 1000
		c.say(t, "oLong", "报事", "2")
		r := c.say(t, "oLong", long)
		contains(t, "a long description", r, "1000", "【上传照片】")
		sum := c.say(t, "oLong", "跳过", "水滩社区3号楼", "跳过")
		contains(t, "summary", sum, "暖气不热暖气不热")
		c.say(t, "oLong", "确认")
		cases, _ := c.db.Cases(context.Background(), lianxin.CaseFilter{OpenID: "oLong"})
		if len(cases) != 1 || utf8.RuneCountInString(cases[0].Description) < 1000 {
			t.Fatalf("cases %+v", cases)
		}
	})
	t.Run("an answer right after an idle pause is applied", func(t *testing.T) {
		c := newChat(t)
		c.say(t, "oIdle", "报事", "5", "楼前的树枝伸进窗户里，刮风就敲玻璃")
		r := c.say(t, "oIdle", "[wait 31m]", "跳过")
		contains(t, "跳过 after 31 minutes", r, "【所在位置】")
		r = c.say(t, "oIdle", "[wait 40m]", "水滩社区3号楼")
		contains(t, "the address after 40 minutes", r, "已记下位置：水滩社区3号楼", "【联系电话】")
	})
	t.Run("取消 of a draft with photos asks once", func(t *testing.T) {
		c := newChat(t)
		c.say(t, "oCancel", "报事", "2", "3号楼2单元暖气一直不热，屋里才十四五度", "[image]", "[image]")
		r := c.say(t, "oCancel", "取消")
		contains(t, "取消 with two photos", r, "2张照片", "确定")
		lacks(t, "取消 with two photos", r, "已取消")
		contains(t, "继续 after the question", c.say(t, "oCancel", "继续"), "【上传照片】")
		c.say(t, "oCancel", "取消")
		contains(t, "取消 confirmed", c.say(t, "oCancel", "取消"), "已取消")
		// Without photos there is nothing to ask.
		c.say(t, "oCancel", "报事", "2")
		contains(t, "取消 without photos", c.say(t, "oCancel", "取消"), "已取消")
	})
	t.Run("a photo that fails to download is not counted, and the resident is told", func(t *testing.T) {
		c := newChat(t)
		c.db.OnAttachmentFailed = c.e.AttachmentFailedNotices
		c.say(t, "oFailed", "报事", "2", "3号楼2单元暖气一直不热，屋里才十四五度", "[image]", "[image]")
		jobs, err := c.db.ClaimAttachments(context.Background(), "w", c.clock.Now(), time.Minute, 1)
		if err != nil || len(jobs) != 1 {
			t.Fatalf("claim: %v %v", jobs, err)
		}
		if err := c.db.MarkAttachmentFailed(context.Background(), jobs[0].ID, "w", c.clock.Now(), "invalid media_id"); err != nil {
			t.Fatal(err)
		}
		told := c.noticeTexts(t, "oFailed")
		if len(told) != 1 || !strings.Contains(told[0], "照片") || !strings.Contains(told[0], "重新发送") {
			t.Errorf("the resident was told %q", told)
		}
		sum := c.say(t, "oFailed", "完成", "水滩社区3号楼", "跳过")
		contains(t, "summary", sum, "照片：1张", "1张没能收到")
	})
}

// Polite and common words get a short, sensible answer.
func TestPoliteWordsGetASensibleAnswer(t *testing.T) {
	c := newChat(t)
	const u = "oPolite"
	for _, said := range []string{"谢谢", "好的", "在吗", "谢谢你们"} {
		r := c.say(t, u, said)
		lacks(t, said, r, "没太明白", "1 报事（")
		if r == "" || utf8.RuneCountInString(r) > 60 {
			t.Errorf("%s: %q is not a short answer", said, r)
		}
	}
	// The telephone and address: of the station that has the resident's
	// case, or of every station for someone new.
	r := c.say(t, u, "你们电话多少")
	contains(t, "电话 (new resident)", r, "平潭街街道人大代表联络站", "0353-", "矿区平潭街街道办事处一楼")
	c.fileReport(t, u)
	for _, said := range []string{"你们电话多少？", "联络站在哪里", "怎么联系你们"} {
		r := c.say(t, u, said)
		contains(t, said, r, "水滩社区人大代表联络点", "矿区水滩社区党群服务中心", "0353-")
	}
}
