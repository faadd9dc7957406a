package bot_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/bot"
	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
)

// lockedBuffer is a log sink the webhook's goroutines may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// When the account's Token does not match LIANXIN_WECHAT_TOKEN, WeChat's
// every request is refused and no resident gets an answer: the operator
// reading the log at the default level must see it, once a minute rather
// than once a message, with the variable to check.
func TestRefusedSignaturesAreLoggedForTheOperator(t *testing.T) {
	var log lockedBuffer
	cfg := bot.WebhookConfig{Token: "tok", AppID: "wxtest", MaxBody: 64 << 10, Budget: 4 * time.Second, Skew: 5 * time.Minute,
		BusyText: "系统繁忙", LateText: "稍后回复"}
	h, err := bot.NewWebhook(cfg, scriptedConversation{res: lianxin.Result{Reply: lianxin.Reply{Text: "好"}}}, &journalSpy{}, nil,
		bot.NewMetrics(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	h.Now = func() time.Time { return now }
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := &wxsim.Client{URL: srv.URL, Token: "the-platform-token", AppID: "wxtest", Account: "gh_test"}
	for i := 0; i < 3; i++ {
		if rep, err := c.Send(context.Background(), wxsim.Text("oResident0001", "你好")); err != nil || rep.Status != 403 {
			t.Fatalf("a request with another token: %v %+v", err, rep)
		}
	}
	if n := strings.Count(log.String(), "level=WARN"); n != 1 || !strings.Contains(log.String(), "bad_signature") || !strings.Contains(log.String(), "LIANXIN_WECHAT_TOKEN") {
		t.Errorf("%d warnings for 3 refused requests, want 1 naming the Token:\n%s", n, log.String())
	}
	if strings.Contains(log.String(), "oResident0001") {
		t.Errorf("the log names the sender:\n%s", log.String())
	}
}
