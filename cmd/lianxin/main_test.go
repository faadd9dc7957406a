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

// TestServeRunsAndStopsGracefully runs `lianxin serve` as main would, waits for
// it to announce its address, checks it answers, then cancels (SIGTERM) and
// expects a clean exit.
func TestServeRunsAndStopsGracefully(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{
		"LIANXIN_CONFIG":       dir,
		"LIANXIN_ADDR":         "127.0.0.1:0",
		"LIANXIN_DB":           dir + "/lianxin.DB",
		"LIANXIN_DATA_DIR":     dir,
		"LIANXIN_REDIS_URL":    testenv.RedisURL(t),
		"LIANXIN_WECHAT_APPID": "wx" + testenv.Prefix(t),
	}
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, nil, io.Discard, pw)
		pw.Close()
	}()
	// Wait for the address line; a serve that never gets there fails the
	// test instead of hanging it.
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		re := regexp.MustCompile(`lianxin serving" addr=(\S+)`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		io.Copy(io.Discard, pr)
	}()
	var addr string
	select {
	case addr = <-found:
	case <-time.After(15 * time.Second):
		cancel()
		t.Fatal("serve never announced its address")
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d after SIGTERM", code)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop within 15 s of SIGTERM")
	}
}
