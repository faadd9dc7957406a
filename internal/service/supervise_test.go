package service_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/internal/transcript"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
)

// noticesTo returns the texts queued for a recipient, oldest first.
func noticesTo(t *testing.T, ts *testService, recipient string) []string {
	t.Helper()
	rows, err := ts.DB.Outbox(context.Background(), 500)
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

func countContaining(texts []string, frag string) int {
	n := 0
	for _, s := range texts {
		if strings.Contains(s, frag) {
			n++
		}
	}
	return n
}

// TestSupervisionRemindsThenEscalates: a heating case must be accepted
// within 4 hours and resolved within 2 days. Three quarters into each window
// its deputy is reminded; when a deadline passes the station head is told.
// Each notice goes out once, whichever of two processes checks first, and
// the case shows green, yellow, red.
func TestSupervisionRemindsThenEscalates(t *testing.T) {
	cfg := testConfig(t)
	clock := testenv.NewClock(transcript.Start)
	a := startService(t, cfg, clock)
	b := startService(t, cfg, clock) // a second process checking the same cases
	ctx := context.Background()
	number := a.ReportCase(t, "oSuperviseResident000001")
	assignee, head := "deputy:d-st-02", "deputy:d-pt-01"

	sla := func() string {
		c, err := a.DB.Case(ctx, number)
		if err != nil {
			t.Fatal(err)
		}
		cat := lianxin.Category{AcceptHours: 4, ResolveDays: 2}
		return string(c.SLA(clock.Now(), cfg.Supervision.RemindAt, cat))
	}
	poll := func() {
		for _, s := range []*testService{a, b, a} {
			if _, err := s.Supervisor.Poll(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	step := func(d time.Duration, wantSLA string, wantRemind, wantOverdue int) {
		t.Helper()
		clock.Add(d)
		poll()
		if got := sla(); got != wantSLA {
			t.Errorf("at +%s: SLA %s, want %s", clock.Now().Sub(transcript.Start), got, wantSLA)
		}
		// Reminders go to the deputy; overdue notices to the head (and a copy to the deputy).
		r := countContaining(noticesTo(t, a, assignee), "督办提醒")
		o := countContaining(noticesTo(t, a, head), "超期督办")
		if r != wantRemind || o != wantOverdue {
			t.Errorf("at +%s: %d reminders to the deputy and %d overdue notices to the head, want %d and %d",
				clock.Now().Sub(transcript.Start), r, o, wantRemind, wantOverdue)
		}
	}
	step(time.Hour, "green", 0, 0)
	step(2*time.Hour+time.Minute, "yellow", 1, 0) // 3h01m: three quarters of the 4-hour acceptance window
	step(time.Hour, "red", 1, 1)                  // 4h01m: not accepted in time; the head is told
	if got := noticesTo(t, a, head); len(got) != 1 || !strings.Contains(got[0], "受理时限") {
		t.Errorf("the station head's notices: %q", got)
	}

	c := a.Client(wxsim.Safe)
	bindDeputy(t, a, c, "oSuperviseDeputy00000001", "d-st-02")
	mustContain(t, say(t, c, "oSuperviseDeputy00000001", "受理 1"), "已受理")
	step(time.Hour, "green", 1, 1)     // accepted: the resolve deadline counts now
	step(31*time.Hour, "yellow", 2, 1) // 36h+: three quarters of two days
	step(13*time.Hour, "red", 2, 2)    // past two days
	step(24*time.Hour, "red", 2, 2)    // nothing is sent twice
}
