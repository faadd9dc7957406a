package flows

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/internal/transcript"
)

// fileReport takes a resident through a heating report in 水滩 and returns
// the case number.
func (c *sessionMap) fileReport(t *testing.T, user string) string {
	t.Helper()
	var reply string
	for _, line := range []string{"报事", "2", "3号楼2单元暖气一直不热,屋里才十四五度", "跳过", "[location 37.8560 113.5726 水滩社区3号楼]", "跳过", "确认"} {
		m, _, err := transcript.Message(line, user, c.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		reply = c.Send(t, m)
	}
	i := strings.Index(reply, "编号 ")
	if i < 0 {
		t.Fatalf("no case number in %q", reply)
	}
	return strings.Fields(reply[i+len("编号 "):])[0][:len("KQ20261127-0001")]
}

// noticeTexts are the texts queued for a recipient, oldest first.
func (c *sessionMap) noticeTexts(t *testing.T, recipient string) []string {
	t.Helper()
	rows, err := c.db.Outbox(context.Background(), 500)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(rows) - 1; i >= 0; i-- {
		if rows[i].Recipient == recipient {
			var p lianxin.NotifyPayload
			json.Unmarshal([]byte(rows[i].Payload), &p)
			out = append(out, p.Text)
		}
	}
	return out
}

// 督办: a heating case must be accepted within 4 hours. Three quarters in,
// its deputy is reminded; when the deadline passes the station head is
// told; nothing is sent twice, however often supervision looks.
func TestSupervisorRemindsThenEscalates(t *testing.T) {
	clock := testenv.NewClock(transcript.Start)
	conv := newSessionMap(t, clock, testenv.DBPath(t))
	conv.fileReport(t, "oSupervised")
	sup := NewSupervisor(conv.e, conv.db, time.Minute, slog.New(slog.NewTextHandler(io.Discard, nil)))
	sup.Now = clock.Now
	count := func(recipient, frag string) int {
		n := 0
		for _, s := range conv.noticeTexts(t, recipient) {
			if strings.Contains(s, frag) {
				n++
			}
		}
		return n
	}
	for _, step := range []struct {
		after           time.Duration
		remind, overdue int
	}{
		{time.Hour, 0, 0},
		{2*time.Hour + time.Minute, 1, 0}, // 3h01m: three quarters of the window
		{time.Hour, 1, 1},                 // 4h01m: overdue, the head is told
		{time.Hour, 1, 1},                 // and not again
	} {
		clock.Add(step.after)
		for range 2 {
			if _, err := sup.Poll(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		at := clock.Now().Sub(transcript.Start)
		if got := count("deputy:d-st-02", "督办提醒"); got != step.remind {
			t.Errorf("at +%s: %d reminders to the deputy, want %d", at, got, step.remind)
		}
		if got := count("deputy:d-pt-01", "超期督办"); got != step.overdue {
			t.Errorf("at +%s: %d overdue notices to the head, want %d", at, got, step.overdue)
		}
	}
}
