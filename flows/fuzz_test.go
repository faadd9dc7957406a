package flows

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/lianxin/lianxin"
)

// memStore is a Store that keeps nothing: fuzzing the conversation needs
// thousands of runs a second, and the store's own behaviour is tested elsewhere.
type memStore struct{ next int64 }

func (s *memStore) RegisterAttachment(ctx context.Context, m *lianxin.Inbound) (int64, error) {
	s.next++
	return s.next, nil
}

func (s *memStore) CreateCase(ctx context.Context, num lianxin.CaseNumbering, r lianxin.Report, events []lianxin.Event, notices []lianxin.Notice, assign lianxin.Assigner) (*lianxin.Case, bool, error) {
	c := &lianxin.Case{ID: 1, Number: "KQ20261127-0001", OpenID: r.OpenID, CategoryKey: r.Category.Key, StationID: r.StationID, Status: lianxin.StatusRegistered}
	if assign != nil {
		a, err := assign(memView{}, c.Number)
		if err != nil {
			return nil, false, err
		}
		c.AssigneeID = a.AssigneeID
	}
	return c, true, nil
}

type memView struct{}

func (memView) OpenCounts([]string) (map[string]int, error) { return map[string]int{}, nil }
func (memView) LastAssignee([]string) (string, error)       { return "", nil }

func (s *memStore) Cases(ctx context.Context, f lianxin.CaseFilter) ([]lianxin.Case, error) {
	return nil, nil
}
func (s *memStore) Case(ctx context.Context, number string) (*lianxin.Case, error) {
	return nil, lianxin.Errorf(lianxin.ENOTFOUND, "no case")
}
func (s *memStore) Transition(ctx context.Context, tr lianxin.Transition) (*lianxin.Case, error) {
	return &lianxin.Case{}, nil
}
func (s *memStore) AwaitingRating(ctx context.Context, openid string, within time.Duration) (*lianxin.Case, error) {
	return nil, nil
}
func (s *memStore) AmendNotices(ctx context.Context, caseID int64, events []lianxin.Event, amendments []lianxin.NoticeAmendment) error {
	return nil
}
func (s *memStore) AttachmentStatuses(ctx context.Context, ids []int64) (map[int64]lianxin.AttachmentStatus, error) {
	return nil, nil
}
func (s *memStore) ResidentStatus(ctx context.Context, openid string) (lianxin.ResidentStatus, error) {
	return lianxin.ResidentStatus{}, nil
}
func (s *memStore) QueueNotices(ctx context.Context, caseID int64, notices []lianxin.Notice) error {
	return nil
}
func (s *memStore) ReturnedBy(ctx context.Context, caseID int64) ([]string, error) { return nil, nil }
func (s *memStore) Bind(ctx context.Context, code, openid string) (lianxin.Deputy, error) {
	return lianxin.Deputy{}, lianxin.ErrBadCode
}
func (s *memStore) DeputyByOpenID(ctx context.Context, openid string) (lianxin.Deputy, bool, error) {
	return lianxin.Deputy{}, false, nil
}
func (s *memStore) AssignView() lianxin.AssignView { return memView{} }

// FuzzCommandParsing: whatever a resident or deputy types, the parsers
// neither panic nor invent a case reference out of other characters.
func FuzzCommandParsing(f *testing.F) {
	for _, s := range []string{"受理 7", "答复KQ20261127-0007 已联系", "转办 7 供热站 请尽快", "绑定 123456", "修改 2", "修改第三项",
		"138 1234 5678", "+86-13812345678", "第5个", "十二", "确认。", "ＯＫ", "受理７", "我的", "", "退回", "进度 kq20261127-0001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if verb, ref, _, ok := deputyCommand(s); ok {
			if verb == "" {
				t.Fatalf("%q: empty verb", s)
			}
			for _, r := range ref {
				if !(r >= '0' && r <= '9' || r == '-' || r >= 'A' && r <= 'Z') {
					t.Fatalf("%q: reference %q holds %q", s, ref, r)
				}
			}
		}
		w := normalizeReply(s)
		if utf8.ValidString(s) && !utf8.ValidString(w) {
			t.Fatalf("normalizing %q made invalid UTF-8", s)
		}
		choiceNumber(w)
		editNumber(w)
		if p, problem, _ := phoneNumber(s); problem == "" && !(len(p) == 11 && p[0] == '1' || p[0] == '0' && strings.Count(p, "-") == 1) {
			t.Fatalf("%q read as phone %q", s, p)
		}
	})
}

// FuzzFlowInput feeds arbitrary messages to every step of the report flow:
// the engine must answer each (never the internal-error apology) and leave a
// session it can read back.
func FuzzFlowInput(f *testing.F) {
	texts, fl, cats, dir := loadShipped(f)
	e := NewEngine(EngineConfig{Texts: texts, Flows: fl, Categories: cats, Directory: dir, Store: &memStore{},
		Numbering: lianxin.CaseNumbering{Prefix: "KQ", Location: time.UTC}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	// The state at each step of a report.
	path := []string{"报事", "2", "3号楼2单元暖气一直不热", "完成", "水滩社区3号楼", "跳过"}
	states := []string{""}
	state := ""
	for i, p := range path {
		m := &lianxin.Inbound{Account: "gh", OpenID: "oFuzz", Kind: lianxin.KindText, MsgID: int64(i + 1), CreateTime: now.Unix(), Text: p}
		state, _, _ = e.Step(context.Background(), state, []*lianxin.Inbound{m}, now)
		states = append(states, state)
	}
	for _, s := range []string{"1", "确认", "修改 3", "返回", "取消", "人工", "菜单", "继续", "帮助", "进度", "满意", "受理 1", "", "  ", "abc", "😀"} {
		f.Add(s, byte(0), uint8(0))
	}
	kinds := []lianxin.MsgKind{lianxin.KindText, lianxin.KindVoice, lianxin.KindImage, lianxin.KindLocation, lianxin.KindVideo, lianxin.KindEvent, lianxin.KindLink, "file"}
	errorText := texts.Get("error")
	f.Fuzz(func(t *testing.T, text string, kind byte, at uint8) {
		m := &lianxin.Inbound{Account: "gh", OpenID: "oFuzz", Kind: kinds[int(kind)%len(kinds)], MsgID: 99, CreateTime: now.Unix(),
			Text: text, MediaID: "M", Lat: 37.856, Lng: 113.5726, Label: text, Event: text, EventKey: text}
		from := states[int(at)%len(states)]
		next, _, replies := e.Step(context.Background(), from, []*lianxin.Inbound{m}, now)
		if replies[0].Text == errorText {
			t.Fatalf("step %d, %s %q: internal error", int(at)%len(states), m.Kind, text)
		}
		if strings.Contains(next, "\x00") {
			t.Fatalf("session holds NUL")
		}
		// The new session is readable and takes another message.
		_, _, again := e.Step(context.Background(), next, []*lianxin.Inbound{{Account: "gh", OpenID: "oFuzz", Kind: lianxin.KindText, MsgID: 100, Text: "帮助"}}, now)
		if again[0].Text == errorText {
			t.Fatalf("session after %q is broken", text)
		}
	})
}
