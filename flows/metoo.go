package flows

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/lianxin/lianxin"
)

// «Me too» (同一件): at 确认, a report of the same category as an open case
// registered nearby lately is offered to join it instead. 同一件 makes the
// resident its supporter (their words and photos go to it, they are told
// its progress and outcome); 确认 or 不是 files it separately, as before.

// MeTooStore is what the offer reads and writes (store.DB).
type MeTooStore interface {
	NearbyOpenCases(ctx context.Context, category string, p lianxin.Point, radiusM float64, since time.Time, openid string) ([]lianxin.NearbyCase, error)
	JoinCase(ctx context.Context, j lianxin.Join) (int, error)
	FollowedCases(ctx context.Context, openid string, limit int) ([]lianxin.Case, error)
	Supporters(ctx context.Context, caseID int64) ([]lianxin.Supporter, error)
}

var meTooTexts = []string{
	"metoo_offer", "metoo_joined", "metoo_gone", "metoo_confirm_expected", "metoo_event", "followed_line", "followed_head",
	"supporter_accepted", "supporter_answered", "supporter_staff_answered", "supporter_forwarded", "supporter_progress",
	"supporter_resolved", "supporter_title", "reporter_prefix", "detail_residents", "detail_reporter",
}

// Default «me too» reach: within 250 m, registered in the last 30 days.
const (
	DefaultMeTooRadiusM = 250
	DefaultMeTooWindow  = 30 * 24 * time.Hour
)

var (
	wordsSame    = set("同一件", "是同一件", "同一件事", "就是这件", "一样", "同一个", "是同一个", "关注")
	wordsNotSame = set("不是", "不是同一件", "单独提交", "单独反映", "不一样", "分开", "分开提交")
)

func (e *Engine) meToo() (MeTooStore, bool) {
	ms, ok := e.cfg.Store.(MeTooStore)
	return ms, ok && e.cfg.MeToo.RadiusM > 0
}

// followed are the cases the sender follows without having reported them
// (同一件; a grid worker's reports for residents).
func (t *turn) followed(limit int) ([]lianxin.Case, error) {
	ms, ok := t.e.cfg.Store.(MeTooStore)
	if !ok {
		return nil, nil
	}
	return ms.FollowedCases(t.ctx, t.m.OpenID, limit)
}

// follows reports whether the sender follows the case.
func (t *turn) follows(c *lianxin.Case) (bool, error) {
	ms, ok := t.e.cfg.Store.(MeTooStore)
	if !ok {
		return false, nil
	}
	sup, err := ms.Supporters(t.ctx, c.ID)
	for _, s := range sup {
		if s.OpenID == t.m.OpenID {
			return true, err
		}
	}
	return false, err
}

// meTooOffer finds an open case like the draft nearby and offers it: ok is
// false when there is none (or the draft has no point to compare).
func (t *turn) meTooOffer() (string, bool, error) {
	a := t.s.Ans
	ms, on := t.e.meToo()
	if !on || a.Proxy != nil || a.MeTooAsked || (a.Lat == 0 && a.Lng == 0) || a.Category == "" {
		return "", false, nil
	}
	a.MeTooAsked = true
	cfg := t.e.cfg.MeToo
	near, err := ms.NearbyOpenCases(t.ctx, a.Category, lianxin.Point{Lat: a.Lat, Lng: a.Lng}, cfg.RadiusM, t.now.Add(-cfg.Window), t.m.OpenID)
	if err != nil || len(near) == 0 {
		return "", false, err
	}
	c := near[0]
	a.MeToo = c.Number
	return t.label(t.current()) + t.txt("metoo_offer", "number", c.Number, "category", t.cats.Name(c.CategoryKey),
		"summary", clip(oneLine(c.Description), 30), "meters", fmt.Sprint(int(math.Round(c.DistanceM))),
		"date", c.CreatedAt.In(t.e.cfg.Numbering.Location).Format("1月2日"), "residents", itoa(c.Supporters+1),
		"status", t.txt("status_"+string(c.Status))), true, nil
}

// joinOffered makes the resident a supporter of the case offered, and ends
// the draft. A case closed meanwhile is said so, and the draft waits at
// 确认 to be filed on its own.
func (t *turn) joinOffered() (string, error) {
	ms, _ := t.e.meToo()
	a := t.s.Ans
	c, err := t.e.cfg.Store.Case(t.ctx, a.MeToo)
	if err != nil {
		return "", err
	}
	photos := append(append([]int64(nil), a.Photos...), a.Voices...)
	t.st.wrote = true
	n, err := ms.JoinCase(t.ctx, lianxin.Join{CaseID: c.ID, OpenID: t.m.OpenID, Phone: a.Phone, Text: a.Desc, Photos: photos,
		SourceKey: t.m.Account + ":" + t.m.Key(), Events: []lianxin.Event{{Type: lianxin.EventSupported, Actor: "resident",
			Text: t.txt("metoo_event", "text", clip(oneLine(a.Desc), 100)), Audience: lianxin.AudienceStaff}}})
	if lianxin.ErrorCode(err) == lianxin.ECONFLICT {
		a.MeToo = ""
		return join(t.txt("metoo_gone", "number", c.Number), t.prompt()), nil
	} else if err != nil {
		return "", err
	}
	t.s.clearFlow()
	return join(t.txt("metoo_joined", "number", c.Number, "residents", itoa(n)), t.pendingOffer()), nil
}

// SupporterNotices is what a case's supporters are told of a change's
// events (store.DB.SupporterNotices): residents who joined it (同一件) and
// the grid worker who reported it for a resident hear what its resident
// hears, in words of their own and without the rating question.
func (e *Engine) SupporterNotices(c lianxin.Case, events []lianxin.Event, supporters []lianxin.Supporter, idem string) []lianxin.Notice {
	snap := e.dir.Load()
	var out []lianxin.Notice
	for i, ev := range events {
		if ev.Audience != lianxin.AudienceResident {
			continue
		}
		key := "supporter_" + ev.Type
		if !supporterEvents[ev.Type] {
			continue
		}
		deputy := ev.Text
		if d, ok := snap.dir.Deputy(c.AssigneeID); ok && ev.Type == lianxin.EventAccepted {
			deputy = d.Name
		}
		for _, s := range supporters {
			if s.OpenID == "" || s.OpenID == c.OpenID {
				continue
			}
			text := e.texts.Get(key, "number", c.Number, "category", snap.cats.Name(c.CategoryKey), "text", ev.Text, "deputy", deputy)
			if s.Role == lianxin.SupporterReporter {
				text = e.texts.Get("reporter_prefix", "name", c.ContactName) + text
			}
			out = append(out, e.notice(fmt.Sprintf("%s:%d:%s", idem, i, s.OpenID), s.OpenID, text, e.texts.Get("supporter_title"), &c, "", snap.cats, snap.dir))
		}
	}
	return out
}

// supporterEvents are the changes supporters are told of.
var supporterEvents = map[string]bool{
	lianxin.EventAccepted: true, lianxin.EventAnswered: true, lianxin.EventStaffAnswered: true,
	lianxin.EventForwarded: true, lianxin.EventProgress: true, lianxin.EventResolved: true,
}

// residentsLine says, for a deputy's 详情, how many residents a case
// concerns when more than its reporter, and which grid worker reported it
// for the resident.
func (t *turn) residentsLine(c *lianxin.Case) string {
	var lines []string
	if w, g, ok := t.dir.GridWorker(strings.TrimPrefix(c.Reporter, lianxin.GridRecipientPrefix)); ok && c.Reporter != "" {
		lines = append(lines, t.txt("detail_reporter", "grid", g.Name, "name", w.Name))
	}
	if c.Supporters > 0 {
		lines = append(lines, t.txt("detail_residents", "count", itoa(c.Supporters+1), "more", itoa(c.Supporters)))
	}
	return strings.Join(lines, "\n")
}
