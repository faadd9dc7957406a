package main

import (
	"bufio"
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lianxin/lianxin/bot/wxapi"
	"github.com/lianxin/lianxin/internal/testenv"
)

// TestFakewxCommand runs `lianxin fakewx`, sends through it as serve would,
// and reads the send in its live view with the recipient masked.
func TestFakewxCommand(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"LIANXIN_CONFIG": dir, "LIANXIN_WECHAT_APPID": "wxfake", "LIANXIN_WECHAT_APPSECRET": "fake-secret"}
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"fakewx", "-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, nil, pw, io.Discard)
		pw.Close()
	}()
	defer func() {
		cancel()
		go io.Copy(io.Discard, pr) // let it finish writing
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("fakewx exited %d", code)
			}
		case <-time.After(10 * time.Second):
			t.Error("fakewx did not stop when cancelled")
		}
	}()

	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	next := func(re *regexp.Regexp) []string {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("output ended before a line matching %s", re)
				}
				if m := re.FindStringSubmatch(l); m != nil {
					return m
				}
			case <-timeout:
				t.Fatalf("no line matching %s", re)
			}
		}
	}
	base := next(regexp.MustCompile(`LIANXIN_WECHAT_API_BASE=(http://\S+)`))[1]

	c, err := wxapi.New(wxapi.Config{AppID: "wxfake", AppSecret: "fake-secret", Base: base, Redis: testenv.Redis(t), KeyPrefix: "lx:" + testenv.Prefix(t) + ":"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendText(context.Background(), "oResident12345678", "您的事项已登记"); err != nil {
		t.Fatal(err)
	}
	next(regexp.MustCompile(`GET\s+/cgi-bin/token → ok`))
	line := next(regexp.MustCompile(`/cgi-bin/message/custom/send → ok.*`))[0]
	if !strings.Contains(line, "to=oRes***5678") || !strings.Contains(line, "您的事项已登记") || strings.Contains(line, "oResident12345678") {
		t.Errorf("live view line %q", line)
	}

	wrong, _ := wxapi.New(wxapi.Config{AppID: "wxfake", AppSecret: "wrong", Base: base, Redis: testenv.Redis(t), KeyPrefix: "lx:" + testenv.Prefix(t) + ":"})
	if err := wrong.SendText(context.Background(), "oResident12345678", "x"); err == nil {
		t.Error("the fake accepted a wrong AppSecret from the configuration")
	}
	next(regexp.MustCompile(`/cgi-bin/token → errcode 40125`))
}
