package bot_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/bot"
	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
)

// scriptedConversation answers every message with the same result (or
// error: Redis unavailable).
type scriptedConversation struct {
	res lianxin.Result
	err error
}

func (c scriptedConversation) Dispatch(ctx context.Context, d lianxin.Delivery) (lianxin.Result, error) {
	return c.res, c.err
}

func (c scriptedConversation) CheckNonce(ctx context.Context, n lianxin.Nonce) error { return c.err }

// journalSpy records which kind of write each message got.
type journalSpy struct {
	mu     sync.Mutex
	writes []string
}

func (j *journalSpy) record(kind string) (lianxin.Journaled, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.writes = append(j.writes, kind)
	return lianxin.Journaled{ID: int64(len(j.writes)), Fresh: true}, nil
}

func (j *journalSpy) Journal(ctx context.Context, m *lianxin.Inbound, outcome lianxin.Outcome, reply string, n *lianxin.Nonce) (lianxin.Journaled, error) {
	return j.record("durable")
}

func (j *journalSpy) JournalCommitted(ctx context.Context, m *lianxin.Inbound, outcome lianxin.Outcome, reply string, n *lianxin.Nonce) (lianxin.Journaled, error) {
	return j.record("committed")
}

func (j *journalSpy) CheckNonce(ctx context.Context, n lianxin.Nonce) error { return nil }

// A reply that acknowledges a database write (提交成功 with a case number)
// leaves only after the journal record, and with it the case, is on disk; a
// plain step's reply waits only for the commit; a WeChat retry (duplicate)
// waits for the disk, as its first copy's write may not be there yet.
func TestReplyWaitsForTheDiskOnlyWhenItAcknowledgesAWrite(t *testing.T) {
	for _, tc := range []struct {
		name  string
		res   lianxin.Result
		err   error
		reply string
		want  string
	}{
		{name: "plain step", res: lianxin.Result{Reply: lianxin.Reply{Text: "【选择类别】请回复数字"}}, want: "committed"},
		{name: "case registered", res: lianxin.Result{Reply: lianxin.Reply{Text: "提交成功,编号 KQ20261127-0001", Recorded: true}}, want: "durable"},
		{name: "retry of a registered case", res: lianxin.Result{Reply: lianxin.Reply{Text: "提交成功,编号 KQ20261127-0001"}, Duplicate: true}, want: "durable"},
		// Kept only in the journal until Redis returns: it must survive a power cut.
		{name: "deferred while Redis is down", err: errors.New("redis: connection refused"), reply: "系统繁忙", want: "durable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spy := &journalSpy{}
			cfg := bot.WebhookConfig{Token: "tok", AppID: "wxtest", MaxBody: 64 << 10, Budget: 4 * time.Second, Skew: 5 * time.Minute,
				BusyText: "系统繁忙", LateText: "稍后回复"}
			h, err := bot.NewWebhook(cfg, scriptedConversation{tc.res, tc.err}, spy, nil, bot.NewMetrics(prometheus.NewRegistry()),
				slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			c := &wxsim.Client{URL: srv.URL, Token: "tok", AppID: "wxtest", Account: "gh_test"}
			rep, err := c.Send(context.Background(), wxsim.Text("oResident0001", "确认"))
			if err != nil {
				t.Fatal(err)
			}
			want := tc.res.Reply.Text
			if tc.reply != "" {
				want = tc.reply
			}
			if rep.Status != 200 || rep.Content != want {
				t.Fatalf("reply %d %q, want 200 %q", rep.Status, rep.Content, want)
			}
			if len(spy.writes) != 1 || spy.writes[0] != tc.want {
				t.Errorf("journal writes %v, want [%s]", spy.writes, tc.want)
			}
		})
	}
}
