// Package servicetest runs lianxin as the end-to-end tests and the developer
// tools' tests need it: a whole service (like one `serve` process) on its
// own SQLite file and Redis key prefix, behind a real HTTP server on
// loopback, spoken to by the WeChat player in any of WeChat's three modes.
package servicetest

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lianxin/lianxin/configs"
	"github.com/lianxin/lianxin/internal/service"
	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/internal/wxtest/fakewx"
	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
)

// Token is the WeChat Token test services are configured with.
const Token = "lianxinTestToken"

// Config is a service configuration isolated to one test: its own SQLite
// file, its own Redis key prefix (the app id), encryption on.
func Config(t testing.TB) configs.Config {
	t.Helper()
	cfg := configs.Default()
	cfg.DBPath = testenv.DBPath(t)
	cfg.DataDir = t.TempDir()
	cfg.RedisURL = testenv.RedisURL(t)
	cfg.RedisExplicit = true
	cfg.WeChat.AppID = "wx" + testenv.Prefix(t)
	cfg.WeChat.Token = Token
	cfg.WeChat.AESKey = wxsim.NewAESKey()
	// Tests file the same report at the same place again and again; «me
	// too» would offer each to join the first (同一件). Its tests turn it on.
	cfg.MeToo.RadiusM = 0
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// AutoPublicURL as the console's public URL stands for the test server's
// own address (known only once it listens): deputies' notices then link
// to cases on it.
const AutoPublicURL = "http://servicetest.invalid"

// Running is one running lianxin behind a real HTTP server on loopback.
type Running struct {
	*service.Service
	Cfg    configs.Config
	Server *httptest.Server
	Logs   *LogBuffer
}

// Start runs a service until the test ends; with a clock, conversations,
// the store and supervision read it (see service.Options.Clock). Worker
// retries happen in milliseconds, so outage tests finish quickly.
func Start(t testing.TB, cfg configs.Config, clock ...*testenv.Clock) *Running {
	t.Helper()
	logs := &LogBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts := service.Options{RetryBase: 20 * time.Millisecond, RetryMax: 100 * time.Millisecond, Interval: 50 * time.Millisecond}
	if len(clock) > 0 {
		opts.Clock = clock[0].Now
	}
	srv := httptest.NewUnstartedServer(nil)
	if cfg.Console.PublicURL == AutoPublicURL {
		cfg.Console.PublicURL = "http://" + srv.Listener.Addr().String()
	}
	svc, err := service.New(context.Background(), cfg, log, opts)
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	srv.Config.Handler = svc.Handler()
	srv.Start()
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
	return &Running{Service: svc, Cfg: cfg, Server: srv, Logs: logs}
}

// WithFakeWeChat points the configuration at a fresh fake WeChat API.
func WithFakeWeChat(t testing.TB, cfg *configs.Config) *fakewx.Server {
	t.Helper()
	fw := fakewx.New(fakewx.Options{AppID: cfg.WeChat.AppID, AppSecret: "test-secret"})
	if err := fw.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fw.Close() })
	cfg.WeChat.APIBase = fw.URL()
	cfg.WeChat.AppSecret = "test-secret"
	cfg.WeChat.TemplateID = "TPL_case_notice"
	cfg.WeChat.OAuthBase = fw.URL()
	return fw
}

// Staff of the directory WithStaff writes: 平潭街's clerk and its group
// robot (for the station and its points), and the district office's clerk.
const (
	StationStaff  = "oStaffPingtanjie000000000001"
	StationRobot  = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=pingtanjie-staff"
	DistrictStaff = "oStaffDistrict0000000000001"
)

// WithStaff gives the configuration a directory (the built-in one) whose
// 平潭街 station and district office have staff (StationStaff,
// StationRobot, DistrictStaff); the district's hours are 工作日 8:30–17:30.
func WithStaff(t testing.TB, cfg *configs.Config) {
	t.Helper()
	b, err := configs.ReadData("", "directory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := strings.Replace(string(b), "    robot_webhook: \"\"\n", "    robot_webhook: \"\"\n    staff:\n      robot_webhook: "+StationRobot+
		"\n      openids: ["+StationStaff+"]\n", 1)
	dir = strings.Replace(dir, "  # staff:\n", "  staff:\n    openids: ["+DistrictStaff+"]\n  # staff:\n", 1)
	if !strings.Contains(dir, StationStaff) || !strings.Contains(dir, DistrictStaff) {
		t.Fatal("WithStaff: the built-in directory.yaml no longer has the lines staff are added after")
	}
	cfg.ConfigDir = t.TempDir()
	if err := os.WriteFile(filepath.Join(cfg.ConfigDir, "directory.yaml"), []byte(dir), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Client is a WeChat user's side of the conversation in the given mode.
func (r *Running) Client(mode wxsim.Mode) *wxsim.Client {
	return &wxsim.Client{
		URL: r.Server.URL + "/wechat", Token: r.Cfg.WeChat.Token, AppID: r.Cfg.WeChat.AppID,
		AESKey: r.Cfg.WeChat.AESKey, Account: "gh_test_account", Mode: mode, HTTP: r.Server.Client(),
	}
}

// Env is the environment an operator command run against this service's
// database and data sees.
func (r *Running) Env() func(string) string {
	m := map[string]string{
		"LIANXIN_CONFIG":       r.Cfg.ConfigDir,
		"LIANXIN_DB":           r.Cfg.DBPath,
		"LIANXIN_WECHAT_APPID": r.Cfg.WeChat.AppID,
	}
	return func(k string) string { return m[k] }
}

// ReportCase files a complete heating report through the webhook, as a
// resident would, and returns its number.
func (r *Running) ReportCase(t *testing.T, user string) string {
	t.Helper()
	c := r.Client(wxsim.Safe)
	Say(t, c, user, "报事")
	Say(t, c, user, "2")
	Say(t, c, user, "3号楼2单元暖气一直不热,屋里才十四五度")
	Send(t, c, wxsim.Image(user, "CLI_PHOTO_"+user, "http://mmbiz.qpic.cn/x"))
	Say(t, c, user, "完成")
	Send(t, c, wxsim.Location(user, 37.8560, 113.5726, "水滩社区3号楼"))
	Say(t, c, user, "13812345678")
	reply := Say(t, c, user, "确认")
	i := strings.Index(reply, "编号 ")
	if i < 0 {
		t.Fatalf("no case number in %q", reply)
	}
	return strings.Fields(reply[i+len("编号 "):])[0][:len("KQ20261127-0001")]
}

// Send posts a message and fails the test on transport errors.
func Send(t testing.TB, c *wxsim.Client, m wxsim.Message) *wxsim.Reply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := c.Send(ctx, m)
	if err != nil {
		t.Fatalf("sending %s: %v", m.Type, err)
	}
	return r
}

// Say sends a text and returns the reply text, requiring a 200.
func Say(t testing.TB, c *wxsim.Client, user, text string) string {
	t.Helper()
	r := Send(t, c, wxsim.Text(user, text))
	if r.Status != 200 {
		t.Fatalf("%q: HTTP %d %s", text, r.Status, r.Body)
	}
	return r.Content
}

// MustContain fails the test unless got contains every want.
func MustContain(t testing.TB, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("reply %q does not contain %q", got, w)
		}
	}
}

// LogBuffer collects a service's log lines.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ErrorLines returns the log lines at level ERROR.
func (b *LogBuffer) ErrorLines() []string {
	var out []string
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.Contains(l, "level=ERROR") {
			out = append(out, l)
		}
	}
	return out
}
