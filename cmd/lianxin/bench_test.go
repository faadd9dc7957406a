package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/silenceper/wechat/v2"
	"github.com/silenceper/wechat/v2/cache"
	offConfig "github.com/silenceper/wechat/v2/officialaccount/config"
	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/sirupsen/logrus"

	"github.com/lianxin/lianxin/bot/wxsim"
)

// bareSDKServer is the baseline: the silenceper/wechat SDK's own server
// answering every message with an echo, and nothing else (no dedupe, no
// journal, no conversation state).
func bareSDKServer(appID, token, aesKey string) *httptest.Server {
	wc := wechat.NewWechat()
	// NewWechat turns logrus to debug, logging every message; a deployment
	// turns that off, and so does the baseline (it makes the SDK faster).
	logrus.SetLevel(logrus.InfoLevel)
	oa := wc.GetOfficialAccount(&offConfig.Config{AppID: appID, AppSecret: "x", Token: token, EncodingAESKey: aesKey, Cache: cache.NewMemory()})
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv := oa.GetServer(r, w)
		srv.SetMessageHandler(func(m *message.MixMessage) *message.Reply {
			return &message.Reply{MsgType: message.MsgTypeText, MsgData: message.NewText(m.Content)}
		})
		if err := srv.Serve(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		srv.Send()
	}))
}

// helpScript: each worker is one resident asking for help, over and over.
type helpScript struct{ prefix string }

func (s helpScript) Next(w, i int) wxsim.Message {
	return wxsim.Text(fmt.Sprintf("o%sbench%05d", s.prefix, w), "帮助")
}

func (s helpScript) Check(w, i int, m wxsim.Message, r *wxsim.Reply) error {
	if r.Status != 200 || r.Content == "" {
		return fmt.Errorf("HTTP %d %q", r.Status, r.Content)
	}
	return nil
}

const benchSenders = 32

func reportLoad(b *testing.B, st wxsim.LoadStats) {
	b.ReportMetric(st.PerSecond(), "msg/s")
	b.ReportMetric(float64(st.P50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(st.P99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(st.Errors), "errors")
	b.ReportMetric(0, "ns/op") // throughput is the figure; ns/op of a parallel run misleads
}

// BenchmarkWebhookAES compares, in one run, the whole lianxin webhook (verify,
// decrypt, replay guard, dedupe, Redis conversation, SQLite journal,
// encrypted reply) with the bare SDK echo server, both in AES mode over real
// HTTP with 32 concurrent senders.
//
//	go test ./cmd/lianxin -run '^$' -bench WebhookAES -benchtime 20000x
func BenchmarkWebhookAES(b *testing.B) {
	b.Run("lianxin", func(b *testing.B) {
		cfg := testConfig(b)
		ts := startService(b, cfg)
		c := &wxsim.Client{URL: ts.srv.URL + "/wechat", Token: cfg.WeChat.Token, AppID: cfg.WeChat.AppID, AESKey: cfg.WeChat.AESKey, Account: "gh_bench", Mode: wxsim.Safe}
		b.ResetTimer()
		reportLoad(b, wxsim.Load(context.Background(), c, helpScript{prefix: "lx"}, benchSenders, b.N))
	})
	b.Run("bare-sdk", func(b *testing.B) {
		key := wxsim.NewAESKey()
		srv := bareSDKServer("wxbenchbaseline0001", testToken, key)
		defer srv.Close()
		c := &wxsim.Client{URL: srv.URL, Token: testToken, AppID: "wxbenchbaseline0001", AESKey: key, Account: "gh_bench", Mode: wxsim.Safe}
		b.ResetTimer()
		reportLoad(b, wxsim.Load(context.Background(), c, helpScript{prefix: "sdk"}, benchSenders, b.N))
	})
}

// reportScript plays each worker as a resident filing reports one after
// another: 报事, category, description, two photos, 完成, a location, no
// phone, 确认 — nine messages a conversation.
type reportScript struct{ prefix string }

const reportSteps = 9

func (s reportScript) user(w int) string { return fmt.Sprintf("o%sreport%05d", s.prefix, w) }

func (s reportScript) Next(w, i int) wxsim.Message {
	u := s.user(w)
	switch i % reportSteps {
	case 0:
		return wxsim.Text(u, "报事")
	case 1:
		return wxsim.Text(u, "2")
	case 2:
		return wxsim.Text(u, "3号楼2单元暖气一直不热,屋里才十四五度,老人受不了")
	case 3, 4:
		id := fmt.Sprintf("BENCH_%s_%d", u, i)
		return wxsim.Image(u, id, "http://mmbiz.qpic.cn/"+id)
	case 5:
		return wxsim.Text(u, "完成")
	case 6:
		return wxsim.Location(u, 37.8560, 113.5726, "阳泉市矿区水滩社区3号楼")
	case 7:
		return wxsim.Text(u, "跳过")
	}
	return wxsim.Text(u, "确认")
}

func (s reportScript) Check(w, i int, m wxsim.Message, r *wxsim.Reply) error {
	if r.Status != 200 || r.Content == "" {
		return fmt.Errorf("step %d: HTTP %d %q", i%reportSteps, r.Status, r.Content)
	}
	if i%reportSteps == reportSteps-1 && !strings.Contains(r.Content, "提交成功") {
		return fmt.Errorf("confirm: %q", r.Content)
	}
	return nil
}

// BenchmarkReportConversation measures whole report conversations (nine
// messages each, AES mode, over HTTP, real Redis and SQLite) per second, and
// the Redis footprint of a session holding a finished draft.
//
//	go test ./cmd/lianxin -run '^$' -bench ReportConversation -benchtime 2000x
func BenchmarkReportConversation(b *testing.B) {
	cfg := testConfig(b)
	ts := startService(b, cfg)
	c := &wxsim.Client{URL: ts.srv.URL + "/wechat", Token: cfg.WeChat.Token, AppID: cfg.WeChat.AppID, AESKey: cfg.WeChat.AESKey, Account: "gh_bench", Mode: wxsim.Safe}
	script := reportScript{prefix: "rc"}
	b.ResetTimer()
	st := wxsim.Load(context.Background(), c, script, benchSenders, b.N*reportSteps)
	b.StopTimer()
	b.ReportMetric(st.PerSecond()/reportSteps, "conversations/s")
	b.ReportMetric(st.PerSecond(), "msg/s")
	b.ReportMetric(float64(st.P99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(st.Errors), "errors")
	b.ReportMetric(0, "ns/op")

	// A draft one step before 确认: category, description, two photos, location.
	user := "oBenchSessionSize"
	for i := 0; i < reportSteps-1; i++ {
		m := script.Next(0, i)
		m.From = user
		if _, err := c.Send(context.Background(), m); err != nil {
			b.Fatal(err)
		}
	}
	key := redisPrefix(cfg) + "s:" + user
	blob, err := ts.rdb.Get(context.Background(), key).Result()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(blob)), "session-bytes")
	if mem, err := ts.rdb.MemoryUsage(context.Background(), key).Result(); err == nil {
		b.ReportMetric(float64(mem), "redis-bytes")
	}
}
