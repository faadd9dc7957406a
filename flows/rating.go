package flows

import (
	"fmt"
	"strings"
	"time"

	"github.com/lianxin/lianxin"
)

// ratingWindow is how long after 办结 a rating is taken.
const ratingWindow = 7 * 24 * time.Hour

// followUpWait is how long the 重办 notice waits for the resident to say
// what is still wrong, so the deputy gets it with their words; after that
// it goes without them (and their words follow on their own).
const followUpWait = 10 * time.Minute

// Rating words residents use; "不满意" is checked before "满意".
var (
	wordsUnsatisfied = set("不满意", "不太满意", "很不满意", "非常不满意", "没解决", "没有解决")
	wordsFairly      = set("基本满意", "还行", "一般", "还可以", "凑合")
	wordsSatisfied   = set("满意", "非常满意", "很满意", "挺满意", "好评")
	ratingNumbers    = map[string]string{"1": lianxin.Satisfied, "2": lianxin.FairlySatisfied, "3": lianxin.Unsatisfied}
)

// followUp is a 不满意 waiting for the resident to say what is still wrong.
type followUp struct {
	Number string `json:"n"`
	At     int64  `json:"t"` // when the resident was asked, unix seconds
	// Key is the idempotency key the held-back 重办 notices were queued
	// under, each followed by ":" and its deputy's id.
	Key string `json:"k"`
}

// ratingTurn takes a resident's rating of their last resolved case. The 办结
// notice asks for it by number (1 满意, 2 基本满意, 3 不满意); a number is a
// rating only as the first thing the resident says after that question, and
// only outside a report, where numbers mean steps' choices. Any later number
// is the menu's again. The words count as long as the rating is open.
// handled is false when the message is not a rating or nothing awaits one.
func (t *turn) ratingTurn() (string, bool, error) {
	if t.m.Kind != lianxin.KindText && t.m.Kind != lianxin.KindVoice {
		return "", false, nil
	}
	w := normalizeReply(t.m.Text)
	rating, byNumber := ratingWord(w), false
	if rating == "" && !t.s.inFlow() && ratingNumbers[w] != "" {
		rating, byNumber = ratingNumbers[w], true
	}
	if rating == "" {
		return "", false, nil
	}
	c, err := t.e.cfg.Store.AwaitingRating(t.ctx, t.m.OpenID, ratingWindow)
	if err != nil || c == nil {
		return "", false, err
	}
	// The session's Last is when the resident last wrote: a number written
	// after something else said since the question is not its answer.
	if byNumber && c.ResolvedAt != nil && t.s.Last != 0 && c.ResolvedAt.Unix() < t.s.Last {
		return "", false, nil
	}
	return t.rate(c, rating)
}

func ratingWord(w string) string {
	switch {
	case wordsUnsatisfied[w]:
		return lianxin.Unsatisfied
	case wordsFairly[w]:
		return lianxin.FairlySatisfied
	case wordsSatisfied[w]:
		return lianxin.Satisfied
	}
	return ""
}

func (t *turn) rate(c *lianxin.Case, rating string) (string, bool, error) {
	label := t.txt("rating_" + rating)
	tr := lianxin.Transition{CaseID: c.ID, From: []lianxin.Status{lianxin.StatusResolved}, Satisfaction: rating,
		Events: []lianxin.Event{{Type: lianxin.EventRated, Actor: "resident", Text: label, Audience: lianxin.AudienceResident}}}
	if rating != lianxin.Unsatisfied {
		if _, err := t.st.Transition(t.ctx, tr); err != nil {
			return "", true, err
		}
		return t.txt("rated_thanks"), true, nil
	}
	// 不满意: the case is done again (重办) at once, so supervision runs;
	// its deputy and the station head are told once the resident has said
	// what is still wrong, or after followUpWait.
	tr.Status = lianxin.StatusReopened
	tr.Events = append(tr.Events, lianxin.Event{Type: lianxin.EventReopened, Actor: "resident", Audience: lianxin.AudienceResident})
	key := fmt.Sprintf("reopen:%s:%s", c.Number, t.m.Account+":"+t.m.Key())
	tr.Notices = t.reopenNotices(c, key, "", followUpWait)
	if _, err := t.st.Transition(t.ctx, tr); err != nil {
		return "", true, err
	}
	t.s.Why = &followUp{Number: c.Number, Key: key, At: t.now.Unix()}
	return t.txt("rated_unsatisfied", "number", c.Number), true, nil
}

// reopenNotices are the 重办 notices to the case's deputy and its station's
// head, with the resident's words when they have said what is wrong.
func (t *turn) reopenNotices(c *lianxin.Case, key, why string, delay time.Duration) []lianxin.Notice {
	cat, _ := t.cats.ByKey(c.CategoryKey)
	d, _ := t.dir.Deputy(c.AssigneeID)
	body := t.txt("notify_reopened", "number", c.Number, "category", cat.Name, "deputy", d.Name)
	if why != "" {
		body = join(body, t.txt("notify_reopened_why", "text", why))
	}
	title := t.txt("notify_reopened_title")
	var out []lianxin.Notice
	add := func(id string) {
		n := t.notice(key+":"+id, lianxin.DeputyRecipient(id), body, title, c, d.Name)
		n.Delay = delay
		// Worth sending while the case is open and still its deputy's.
		n.Valid = &lianxin.NoticeRule{Statuses: lianxin.OpenStatuses, Assignee: c.AssigneeID}
		out = append(out, n)
	}
	if c.AssigneeID != "" {
		add(c.AssigneeID)
	}
	if st, ok := t.dir.StationOf(c.StationID); ok {
		if head, ok := t.dir.Head(st.ID); ok && head.ID != c.AssigneeID {
			add(head.ID)
		}
	}
	return out
}

// followUpTurn takes what a resident who was not satisfied says next, within
// IdleTTL of the question, as what is still wrong, unless it is a command of
// its own (报事, 进度, ...), and passes it to the deputy with the 重办 notice.
func (t *turn) followUpTurn() (string, bool, error) {
	why := t.s.Why
	if why == nil {
		return "", false, nil
	}
	t.s.Why = nil
	if t.now.Sub(time.Unix(why.At, 0)) > t.e.cfg.IdleTTL {
		return "", false, nil // the question was long ago: this is something else
	}
	text := strings.TrimSpace(textOf(t.m))
	w := normalizeReply(text)
	if text == "" || isCommandWord(w) {
		return "", false, nil
	}
	if wordsSkip[w] || wordsCancel[w] {
		return t.txt("follow_up_none", "number", why.Number), true, nil
	}
	c, err := t.e.cfg.Store.Case(t.ctx, why.Number)
	if err != nil {
		return "", true, err
	}
	text = clip(text, 500)
	full := t.reopenNotices(c, why.Key+":why", text, 0)
	d, _ := t.dir.Deputy(c.AssigneeID)
	var amend []lianxin.NoticeAmendment
	for _, n := range full {
		id := strings.TrimPrefix(n.Recipient, lianxin.DeputyRecipientPrefix)
		more := t.notice(why.Key+":more:"+id, n.Recipient, t.txt("notify_follow_up", "number", c.Number, "text", text),
			t.txt("notify_reopened_title"), c, d.Name)
		amend = append(amend, lianxin.NoticeAmendment{Drop: why.Key + ":" + id, Replacement: n, FollowUp: more})
	}
	ev := []lianxin.Event{{Type: lianxin.EventFollowUp, Actor: "resident", Text: text, Audience: lianxin.AudienceResident}}
	if err := t.st.AmendNotices(t.ctx, c.ID, ev, amend); err != nil {
		return "", true, err
	}
	return t.txt("follow_up_thanks", "number", c.Number), true, nil
}

// isCommandWord reports whether a normalised message is one of the words
// that mean something by themselves anywhere.
func isCommandWord(w string) bool {
	if _, ok := menuNumbers[w]; ok {
		return true
	}
	return wordsReport[w] || wantsProgress(w) || wordsHelp[w] || wordsMenu[w] || wordsStaff[w] ||
		wordsContinue[w] || wordsRestart[w] || ratingWord(w) != ""
}
