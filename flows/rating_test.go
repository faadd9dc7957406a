package flows

import (
	"context"
	"strings"
	"testing"

	"github.com/lianxin/lianxin"
)

// resolvedCase files a report for resident, has its deputy close it and
// returns the case number.
func (c *sessionMap) resolvedCase(t *testing.T, resident, deputy string) string {
	t.Helper()
	number := c.fileReport(t, resident)
	c.bind(t, deputy, "d-st-02")
	contains(t, "办结", c.say(t, deputy, "办结 "+number+" 已更换阀门，室温20度"), "已办结")
	return number
}

func (c *sessionMap) satisfaction(t *testing.T, number string) (lianxin.Status, string) {
	t.Helper()
	got, err := c.db.Case(context.Background(), number)
	if err != nil {
		t.Fatal(err)
	}
	return got.Status, got.Satisfaction
}

// A menu number is not a rating: only the reply to the rating question
// counts, and the question names the case.
func TestRatingIsTheReplyToTheQuestionOnly(t *testing.T) {
	t.Run("the question names the case and its reply counts", func(t *testing.T) {
		c := newChat(t)
		number := c.resolvedCase(t, "oRateAtOnce", "oRateDeputy1")
		told := c.noticeTexts(t, "oRateAtOnce")
		question := told[len(told)-1]
		contains(t, "the 办结 notice", question, number, "满意", "不满意")
		contains(t, "1 after the question", c.say(t, "oRateAtOnce", "1"), "感谢")
		if _, sat := c.satisfaction(t, number); sat != lianxin.Satisfied {
			t.Errorf("satisfaction %q, want satisfied", sat)
		}
	})
	t.Run("a later 1 means 报事", func(t *testing.T) {
		c := newChat(t)
		number := c.resolvedCase(t, "oRateLater", "oRateDeputy2")
		c.say(t, "oRateLater", "[wait 2h]")
		c.say(t, "oRateLater", "谢谢")
		c.say(t, "oRateLater", "[wait 1h]")
		contains(t, "1 after another message", c.say(t, "oRateLater", "1"), "【选择类别】")
		if st, sat := c.satisfaction(t, number); sat != "" || st != lianxin.StatusResolved {
			t.Errorf("the menu's 1 rated the case: %s %q", st, sat)
		}
		c.say(t, "oRateLater", "取消")
		lacks(t, "3 after another message", c.say(t, "oRateLater", "3"), "重新交办", "不满意")
		if st, _ := c.satisfaction(t, number); st != lianxin.StatusResolved {
			t.Errorf("the menu's 3 reopened the case: %s", st)
		}
		// Words still count while the rating is open.
		contains(t, "基本满意 in words", c.say(t, "oRateLater", "基本满意"), "感谢")
		if _, sat := c.satisfaction(t, number); sat != lianxin.FairlySatisfied {
			t.Errorf("satisfaction %q, want fairly_satisfied", sat)
		}
	})
}

// 不满意 asks what is still wrong, and the answer goes to the deputy with
// the 重办 notice.
func TestUnsatisfiedAsksWhatIsStillWrong(t *testing.T) {
	c := newChat(t)
	number := c.resolvedCase(t, "oRateUnhappy", "oRateDeputy3")
	ask := c.say(t, "oRateUnhappy", "不满意")
	contains(t, "不满意", ask, number, "？")
	if st, sat := c.satisfaction(t, number); st != lianxin.StatusReopened || sat != lianxin.Unsatisfied {
		t.Errorf("after 不满意: %s %q", st, sat)
	}
	contains(t, "the answer", c.say(t, "oRateUnhappy", "暖气还是不热，屋里只有16度"), "代表")
	var reopen []string
	for _, n := range c.pendingTexts(t, "deputy:d-st-02") {
		if strings.Contains(n, "重办") {
			reopen = append(reopen, n)
		}
	}
	if len(reopen) != 1 || !strings.Contains(reopen[0], "暖气还是不热，屋里只有16度") {
		t.Errorf("the deputy is to get %q; want one 重办 notice with the resident's words", reopen)
	}
	detail := c.say(t, "oRateUnhappy", "进度 "+number)
	contains(t, "the resident's timeline", detail, "暖气还是不热")
}

// pendingTexts are the texts still to be sent to a recipient, oldest first.
func (c *sessionMap) pendingTexts(t *testing.T, recipient string) []string {
	t.Helper()
	rows, err := c.db.OutboxWithStatus(context.Background(), lianxin.OutboxPending, 500)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(rows) - 1; i >= 0; i-- {
		if rows[i].Recipient == recipient {
			out = append(out, payloadText(rows[i].Payload))
		}
	}
	return out
}

// What a resident says long after being asked what is still wrong is not
// taken as the answer.
func TestUnsatisfiedQuestionDoesNotLinger(t *testing.T) {
	c := newChat(t)
	number := c.resolvedCase(t, "oRateLinger", "oRateDeputy4")
	c.say(t, "oRateLinger", "不满意")
	r := c.say(t, "oRateLinger", "[wait 2h]", "楼道里的灯坏了一个星期了，晚上看不见")
	lacks(t, "a new problem two hours later", r, "已转告代表")
	got, _ := c.db.Case(context.Background(), number)
	for _, ev := range got.Events {
		if ev.Type == lianxin.EventFollowUp {
			t.Errorf("taken as what is still wrong: %+v", ev)
		}
	}
}
