package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lianxin/lianxin/internal/testenv"
)

func TestServeRefusesInvalidConfigurationNamingTheVariable(t *testing.T) {
	var stderr strings.Builder
	code := run(context.Background(), []string{"serve"}, func(k string) string {
		return map[string]string{
			"LIANXIN_CONFIG":        t.TempDir(),
			"LIANXIN_WECHAT_APPID":  "wx123",
			"LIANXIN_WECHAT_AESKEY": strings.Repeat("k", 42),
		}[k]
	}, strings.NewReader(""), io.Discard, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "LIANXIN_WECHAT_AESKEY") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

func TestUnknownCommand(t *testing.T) {
	var stderr strings.Builder
	if code := run(context.Background(), []string{"frobnicate"}, func(string) string { return "" }, nil, io.Discard, &stderr); code != 2 {
		t.Errorf("exit %d", code)
	}
	if !strings.Contains(stderr.String(), "unknown command") {
		t.Errorf("stderr %q", stderr.String())
	}
}

// serving is a `lianxin serve` run as main would run it.
type serving struct {
	addr, operator string // as announced: host:port
	stop           func() int
}

// startServe runs serve with env, waits for it to announce its addresses,
// and returns them with a function that stops it (SIGTERM) and returns its
// exit code.
func startServe(t *testing.T, env map[string]string) *serving {
	t.Helper()
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, nil, io.Discard, pw)
		pw.Close()
	}()
	// Wait for the address line; a serve that never gets there fails the
	// test instead of hanging it.
	found := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		re := regexp.MustCompile(`lianxin serving" addr=(\S+)(?: operator=(\S+))?`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m
				break
			}
		}
		io.Copy(io.Discard, pr)
	}()
	s := &serving{stop: func() int {
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(15 * time.Second):
			t.Fatal("serve did not stop within 15 s of SIGTERM")
			return -1
		}
	}}
	select {
	case m := <-found:
		s.addr, s.operator = m[1], m[2]
	case code := <-done:
		t.Fatalf("serve exited %d before serving", code)
	case <-time.After(15 * time.Second):
		cancel()
		t.Fatal("serve never announced its address")
	}
	return s
}

func serveEnv(t *testing.T) map[string]string {
	dir := t.TempDir()
	return map[string]string{
		"LIANXIN_CONFIG":       dir,
		"LIANXIN_ADDR":         "127.0.0.1:0",
		"LIANXIN_DB":           dir + "/lianxin.DB",
		"LIANXIN_DATA_DIR":     dir,
		"LIANXIN_REDIS_URL":    testenv.RedisURL(t),
		"LIANXIN_WECHAT_APPID": "wx" + testenv.Prefix(t),
	}
}

func statusOf(t *testing.T, u string) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestServeRunsAndStopsGracefully runs `lianxin serve` as main would, waits for
// it to announce its address, checks it answers, then cancels (SIGTERM) and
// expects a clean exit.
func TestServeRunsAndStopsGracefully(t *testing.T) {
	s := startServe(t, serveEnv(t))
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		if status := statusOf(t, "http://"+s.addr+path); status != 200 {
			t.Errorf("%s: %d", path, status)
		}
	}
	if code := s.stop(); code != 0 {
		t.Errorf("serve exited %d after SIGTERM", code)
	}
}

// TestServeOperatorAddress: with LIANXIN_OPERATOR_ADDR the metrics and the
// readiness (which name the service's parts) are served there, and not on
// the address WeChat (and everyone else) reaches.
func TestServeOperatorAddress(t *testing.T) {
	env := serveEnv(t)
	env["LIANXIN_OPERATOR_ADDR"] = "127.0.0.1:0"
	s := startServe(t, env)
	if s.operator == "" {
		t.Fatal("serve did not announce its operator address")
	}
	for _, tc := range []struct {
		addr, path string
		status     int
	}{
		{s.addr, "/metrics", 404},
		{s.addr, "/readyz", 404},
		{s.addr, "/healthz", 200},
		{s.operator, "/metrics", 200},
		{s.operator, "/readyz", 200},
		{s.operator, "/healthz", 200},
		{s.operator, "/wechat", 404},
	} {
		if status := statusOf(t, "http://"+tc.addr+tc.path); status != tc.status {
			t.Errorf("%s%s: HTTP %d, want %d", tc.addr, tc.path, status, tc.status)
		}
	}
	if code := s.stop(); code != 0 {
		t.Errorf("serve exited %d after SIGTERM", code)
	}
}

// TestServeRefusesTheDevelopmentToken: the built-in token is public (it is
// in the source), so serve starts with it only for trying lianxin out on
// this machine: not with real credentials, and not listening beyond
// loopback.
func TestServeRefusesTheDevelopmentToken(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
	}{
		{"with an AppSecret", map[string]string{"LIANXIN_WECHAT_APPSECRET": "0123456789abcdef0123456789abcdef"}},
		{"with an AES key", map[string]string{"LIANXIN_WECHAT_AESKEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}},
		{"listening on every interface", map[string]string{"LIANXIN_ADDR": "0.0.0.0:0"}},
		{"listening on a host name", map[string]string{"LIANXIN_ADDR": "example.com:8080"}},
		{"set explicitly, listening on every interface", map[string]string{"LIANXIN_WECHAT_TOKEN": "lianxin-dev-token", "LIANXIN_ADDR": ":0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := serveEnv(t)
			for k, v := range tc.env {
				env[k] = v
			}
			var stderr strings.Builder
			// A serve that starts anyway is stopped after a while, and fails the test.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			code := run(ctx, []string{"serve"}, func(k string) string { return env[k] }, nil, io.Discard, &stderr)
			if code != 1 || !strings.Contains(stderr.String(), "lianxin serve: LIANXIN_WECHAT_TOKEN") {
				t.Errorf("exit %d, stderr %q: want a refusal naming LIANXIN_WECHAT_TOKEN", code, stderr.String())
			}
		})
	}
}
