package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lianxin/lianxin/bot/fakewx"
	"github.com/lianxin/lianxin/bot/wxsim"
	"github.com/lianxin/lianxin/configs"
	"github.com/lianxin/lianxin/internal/testenv"
)

const testToken = "lianxinTestToken"

// testConfig is a service configuration isolated to one test: its own SQLite
// file, its own Redis key prefix (the app id), encryption on.
func testConfig(t testing.TB) configs.Config {
	t.Helper()
	cfg := configs.Default()
	cfg.DBPath = testenv.DBPath(t)
	cfg.DataDir = t.TempDir()
	cfg.RedisURL = "redis://" + testenv.RedisAddr(t) + "/0"
	cfg.RedisExplicit = true
	cfg.WeChat.AppID = "wx" + testenv.Prefix(t)
	cfg.WeChat.Token = testToken
	cfg.WeChat.AESKey = wxsim.NewAESKey()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// testService is one running lianxin (like one `serve` process) behind a
// real HTTP server on loopback.
type testService struct {
	*service
	cfg  configs.Config
	srv  *httptest.Server
	logs *logBuffer
}

func startService(t testing.TB, cfg configs.Config, clock ...*testenv.Clock) *testService {
	t.Helper()
	logs := &logBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// Retries in milliseconds, so outage tests finish quickly.
	svc, err := newService(context.Background(), cfg, log, serviceTuning{retryBase: 20 * time.Millisecond, retryMax: 100 * time.Millisecond, interval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if len(clock) > 0 {
		// Before anything runs: the workers read the clocks.
		svc.disp.Now = clock[0].Now
		svc.db.Now = clock[0].Now
		svc.supervisor.Now = clock[0].Now
	}
	srv := httptest.NewServer(svc.Handler())
	ctx, cancel := context.WithCancel(context.Background())
	wait := svc.Start(ctx)
	t.Cleanup(func() {
		srv.Close()
		cancel()
		wait()
		svc.Close()
		if t.Failed() {
			t.Logf("service log:\n%s", logs.String())
		}
	})
	return &testService{service: svc, cfg: cfg, srv: srv, logs: logs}
}

// withFakeWeChat points the configuration at a fresh fake WeChat API.
func withFakeWeChat(t testing.TB, cfg *configs.Config) *fakewx.Server {
	t.Helper()
	fw := fakewx.New(fakewx.Options{AppID: cfg.WeChat.AppID, AppSecret: "test-secret"})
	if err := fw.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fw.Close() })
	cfg.WeChat.APIBase = fw.URL()
	cfg.WeChat.AppSecret = "test-secret"
	cfg.WeChat.TemplateID = "TPL_case_notice"
	return fw
}

// client is a WeChat user's side of the conversation in the given mode.
func (ts *testService) client(mode wxsim.Mode) *wxsim.Client {
	return &wxsim.Client{
		URL: ts.srv.URL + "/wechat", Token: ts.cfg.WeChat.Token, AppID: ts.cfg.WeChat.AppID,
		AESKey: ts.cfg.WeChat.AESKey, Account: "gh_test_account", Mode: mode, HTTP: ts.srv.Client(),
	}
}

// send posts a message and fails the test on transport errors.
func send(t *testing.T, c *wxsim.Client, m wxsim.Message) *wxsim.Reply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := c.Send(ctx, m)
	if err != nil {
		t.Fatalf("sending %s: %v", m.Type, err)
	}
	return r
}

// say sends a text and returns the reply text, requiring a 200.
func say(t *testing.T, c *wxsim.Client, user, text string) string {
	t.Helper()
	r := send(t, c, wxsim.Text(user, text))
	if r.Status != 200 {
		t.Fatalf("%q: HTTP %d %s", text, r.Status, r.Body)
	}
	return r.Content
}

// logBuffer collects a service's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// errorLines returns the log lines at level ERROR.
func (b *logBuffer) errorLines() []string {
	var out []string
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.Contains(l, "level=ERROR") {
			out = append(out, l)
		}
	}
	return out
}

func mustContain(t *testing.T, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("reply %q does not contain %q", got, w)
		}
	}
}
