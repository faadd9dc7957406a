package flows

import (
	"fmt"
	"time"

	"github.com/lianxin/lianxin"
)

// ratingWindow is how long after 办结 a rating is taken.
const ratingWindow = 7 * 24 * time.Hour

// Rating words residents use; "不满意" is checked before "满意".
var (
	wordsUnsatisfied = set("不满意", "不太满意", "很不满意", "非常不满意", "没解决", "没有解决")
	wordsFairly      = set("基本满意", "还行", "一般", "还可以", "凑合")
	wordsSatisfied   = set("满意", "非常满意", "很满意", "挺满意", "好评")
	ratingNumbers    = map[string]string{"1": lianxin.Satisfied, "2": lianxin.FairlySatisfied, "3": lianxin.Unsatisfied}
)

// ratingTurn takes a resident's rating of their last resolved case. The
// numbers 1-3 count only outside a report (inside, steps use numbers); the
// words count anywhere. handled is false when the message is not a rating
// or nothing awaits one.
func (t *turn) ratingTurn() (string, bool, error) {
	if t.m.Kind != lianxin.KindText && t.m.Kind != lianxin.KindVoice {
		return "", false, nil
	}
	w := normalizeReply(t.m.Text)
	var rating string
	switch {
	case wordsUnsatisfied[w]:
		rating = lianxin.Unsatisfied
	case wordsFairly[w]:
		rating = lianxin.FairlySatisfied
	case wordsSatisfied[w]:
		rating = lianxin.Satisfied
	case !t.s.inFlow() && ratingNumbers[w] != "":
		rating = ratingNumbers[w]
	default:
		return "", false, nil
	}
	c, err := t.e.cfg.Store.AwaitingRating(t.ctx, t.m.OpenID, ratingWindow)
	if err != nil || c == nil {
		return "", false, err
	}
	label := t.txt("rating_" + rating)
	tr := lianxin.Transition{CaseID: c.ID, From: []lianxin.Status{lianxin.StatusResolved}, Satisfaction: rating,
		Events: []lianxin.Event{{Type: lianxin.EventRated, Actor: "resident", Text: label, Audience: lianxin.AudienceResident}}}
	if rating != lianxin.Unsatisfied {
		if _, err := t.st.Transition(t.ctx, tr); err != nil {
			return "", true, err
		}
		return t.txt("rated_thanks"), true, nil
	}
	// 不满意: the case is done again (重办); its deputy and the station head are told.
	tr.Status = lianxin.StatusReopened
	tr.Events = append(tr.Events, lianxin.Event{Type: lianxin.EventReopened, Actor: "resident", Audience: lianxin.AudienceResident})
	cat, _ := t.cats.ByKey(c.CategoryKey)
	d, _ := t.dir.Deputy(c.AssigneeID)
	idem := fmt.Sprintf("reopen:%s:%s", c.Number, t.m.Account+":"+t.m.Key())
	body := t.txt("notify_reopened", "number", c.Number, "category", cat.Name, "deputy", d.Name)
	title := t.txt("notify_reopened_title")
	told := map[string]bool{}
	if c.AssigneeID != "" {
		tr.Notices = append(tr.Notices, t.notice(idem+":"+c.AssigneeID, lianxin.DeputyRecipient(c.AssigneeID), body, title, c, d.Name))
		told[c.AssigneeID] = true
	}
	if st, ok := t.dir.StationOf(c.StationID); ok {
		if head, ok := t.dir.Head(st.ID); ok && !told[head.ID] {
			tr.Notices = append(tr.Notices, t.notice(idem+":"+head.ID, lianxin.DeputyRecipient(head.ID), body, title, c, d.Name))
		}
	}
	if _, err := t.st.Transition(t.ctx, tr); err != nil {
		return "", true, err
	}
	return t.txt("rated_unsatisfied", "number", c.Number), true, nil
}
