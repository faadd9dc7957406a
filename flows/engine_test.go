package flows

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/configs"
	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/store"
)

func loadShipped(t testing.TB) (Texts, *Flows, []lianxin.Category, *lianxin.Directory) {
	t.Helper()
	read := func(name string) []byte {
		b, err := configs.ReadData("", name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	texts, err := LoadTexts(read("messages.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fl, err := LoadFlows(read("flows.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cats, err := configs.LoadCategories(read("categories.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := configs.LoadDirectory(read("directory.yaml"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return texts, fl, cats, dir
}

func newTestEngine(t *testing.T, fl *Flows) *Engine {
	texts, shipped, cats, dir := loadShipped(t)
	if fl == nil {
		fl = shipped
	}
	db, err := store.Open(context.Background(), testenv.DBPath(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return NewEngine(EngineConfig{Texts: texts, Flows: fl, Categories: cats, Directory: dir, Store: db,
		Numbering: lianxin.CaseNumbering{Prefix: "KQ", Location: time.UTC}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

var msgSeq int64

func msg(text string) *lianxin.Inbound {
	msgSeq++
	return &lianxin.Inbound{Account: "gh", OpenID: "oEngine", Kind: lianxin.KindText, MsgID: msgSeq, CreateTime: 1, Text: text}
}

// say runs texts through the engine from state and returns the last reply and the state.
func say(t *testing.T, e *Engine, state string, now time.Time, texts ...string) (string, string) {
	t.Helper()
	msgs := make([]*lianxin.Inbound, len(texts))
	for i, s := range texts {
		msgs[i] = msg(s)
	}
	next, _, replies := e.Step(context.Background(), state, msgs, now)
	return replies[len(replies)-1].Text, next
}

func TestShippedFlowsLoad(t *testing.T) {
	_, fl, _, _ := loadShipped(t)
	r := fl.Flow("report")
	var labels []string
	for _, s := range r.Steps {
		labels = append(labels, s.Label)
	}
	if got := strings.Join(labels, " "); got != "选择类别 问题描述 上传照片 所在位置 选择联络站 联系电话 确认提交" {
		t.Errorf("report steps: %s", got)
	}
}

func TestLoadFlowsRefusesBadDefinitions(t *testing.T) {
	base, err := os.ReadFile("../configs/flows.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct{ from, to, want string }{
		"unknown kind":      {"kind: phone", "kind: telephone", `line 80: flow report, step 6: kind "telephone"`},
		"missing options":   {"{options}\n        short: 请回复类别", "\n        short: 请回复类别", "step 1: the prompt must contain {options}"},
		"brackets in label": {"label: 联系电话", "label: 【联系电话】", "step 6: label must be a short name"},
		"unknown condition": {"when: station_unknown", "when: raining", `when "raining"`},
		"backwards next":    {"kind: phone\n", "kind: phone\n        next: category\n", `next "category" must name a later step`},
		"too many photos":   {"max: 9", "max: 12", "photos max must be 1 to 9"},
	} {
		bad := strings.Replace(string(base), tc.from, tc.to, 1)
		if bad == string(base) {
			t.Fatalf("%s: the replacement did not apply", name)
		}
		_, err := LoadFlows([]byte(bad))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", name, err, tc.want)
		}
	}
}

func TestSessionFromAnOlderFlowIsCarriedOverOrResetWithAnApology(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	e := newTestEngine(t, nil)
	_, state := say(t, e, "", now, "报事", "2")

	// A new flow version that still has the step: carried over.
	var s Session
	json.Unmarshal([]byte(state), &s)
	s.FlowVer = 0
	old, _ := json.Marshal(s)
	reply, _ := say(t, e, string(old), now, "3号楼暖气一直不热,屋里才十四度")
	if !strings.HasPrefix(reply, "【上传照片】") {
		t.Errorf("a session from an older version with a known step should carry on: %q", reply)
	}

	// An older version whose step no longer exists: restarted, with an apology.
	s.Step = "building_number"
	gone, _ := json.Marshal(s)
	reply, next := say(t, e, string(gone), now, "3号楼暖气一直不热,屋里才十四度")
	if !strings.Contains(reply, "服务内容已更新") {
		t.Errorf("reply to a session whose step is gone: %q", reply)
	}
	var after Session
	json.Unmarshal([]byte(next), &after)
	if after.Step == "building_number" {
		t.Error("the session still points at a step that does not exist")
	}

	// Garbage in Redis (or a session layout from another release).
	for _, blob := range []string{"{not json", `{"v":99,"f":"report","s":"photos"}`, `{"v":1,"f":"report","s":"photos","a":null}`} {
		reply, _ := say(t, e, blob, now, "完成")
		if reply == "" || strings.Contains(reply, "请稍后再试") {
			t.Errorf("state %q: reply %q", blob, reply)
		}
	}
}

func TestEngineNeverPanicsOnAnyMessage(t *testing.T) {
	e := newTestEngine(t, nil)
	now := time.Now()
	kinds := []lianxin.MsgKind{lianxin.KindText, lianxin.KindImage, lianxin.KindVoice, lianxin.KindLocation, lianxin.KindVideo, lianxin.KindLink, lianxin.KindEvent, "file", ""}
	state := ""
	for step := 0; step < 200; step++ {
		m := msg([]string{"报事", "2", "", "跳过", "修改 1", "返回", "确认", "菜单", "继续", "人工", "取消", "1", "完成"}[step%13])
		m.Kind = kinds[step%len(kinds)]
		m.MediaID = "M"
		if m.Kind == lianxin.KindEvent {
			m.Event = []string{"subscribe", "CLICK", "unsubscribe"}[step%3]
		}
		next, _, replies := e.Step(context.Background(), state, []*lianxin.Inbound{m}, now)
		if strings.Contains(replies[0].Text, "请稍后再试") {
			t.Fatalf("step %d (%s %q) hit an internal error", step, m.Kind, m.Text)
		}
		state = next
	}
}

// A reply that acknowledges something kept in SQLite (a photo attached, a
// case registered) is marked so the webhook holds it until the write is on
// disk; a plain step's reply is not, so it is not held for a sync.
func TestRepliesThatAcknowledgeADatabaseWriteAreMarkedRecorded(t *testing.T) {
	e := newTestEngine(t, nil)
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	steps := []struct {
		m        *lianxin.Inbound
		recorded bool
	}{
		{msg("报事"), false},
		{msg("2"), false},
		{msg("3号楼2单元暖气一直不热,屋里才十四五度"), false},
		{&lianxin.Inbound{Account: "gh", OpenID: "oEngine", Kind: lianxin.KindImage, MsgID: 9001, CreateTime: 1, MediaID: "M1", PicURL: "http://x/1"}, true},
		{msg("完成"), false},
		{&lianxin.Inbound{Account: "gh", OpenID: "oEngine", Kind: lianxin.KindLocation, MsgID: 9002, CreateTime: 1, Lat: 37.8560, Lng: 113.5726, Label: "阳泉市矿区水滩社区3号楼"}, false},
		{msg("跳过"), false},
		{msg("确认"), true},
	}
	state := ""
	for i, s := range steps {
		next, _, replies := e.Step(context.Background(), state, []*lianxin.Inbound{s.m}, now)
		if replies[0].Recorded != s.recorded {
			t.Errorf("step %d (%q): Recorded = %v, want %v; reply %q", i, s.m.Text, replies[0].Recorded, s.recorded, replies[0].Text)
		}
		state = next
	}
	if last, _ := say(t, e, state, now, "进度"); !strings.Contains(last, "KQ") {
		t.Errorf("the conversation did not end in a case: %q", last)
	}
}
