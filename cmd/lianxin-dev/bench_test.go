package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/lianxin/lianxin/dispatch"
	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
)

// bareSDKServer serves the baseline on a test server.
func bareSDKServer(appID, token, aesKey string) *httptest.Server {
	return httptest.NewServer(bareSDKHandler(appID, token, aesKey))
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
		c := &wxsim.Client{URL: ts.Server.URL + "/wechat", Token: cfg.WeChat.Token, AppID: cfg.WeChat.AppID, AESKey: cfg.WeChat.AESKey, Account: "gh_bench", Mode: wxsim.Safe}
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

// BenchmarkReportConversation measures whole report conversations (nine
// messages each, AES mode, over HTTP, real Redis and SQLite) per second, and
// the Redis footprint of a session holding a finished draft.
//
//	go test ./cmd/lianxin -run '^$' -bench ReportConversation -benchtime 2000x
func BenchmarkReportConversation(b *testing.B) {
	cfg := testConfig(b)
	ts := startService(b, cfg)
	c := &wxsim.Client{URL: ts.Server.URL + "/wechat", Token: cfg.WeChat.Token, AppID: cfg.WeChat.AppID, AESKey: cfg.WeChat.AESKey, Account: "gh_bench", Mode: wxsim.Safe}
	script := wxsim.ReportScript{Prefix: "rc", Strict: true}
	b.ResetTimer()
	st := wxsim.Load(context.Background(), c, script, benchSenders, b.N*wxsim.ReportSteps)
	b.StopTimer()
	b.ReportMetric(st.PerSecond()/wxsim.ReportSteps, "conversations/s")
	b.ReportMetric(st.PerSecond(), "msg/s")
	b.ReportMetric(float64(st.P99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(st.Errors), "errors")
	b.ReportMetric(0, "ns/op")

	// A draft one step before 确认: category, description, two photos, location.
	user := "oBenchSessionSize"
	for i := 0; i < wxsim.ReportSteps-1; i++ {
		m := script.Next(0, i)
		m.From = user
		if _, err := c.Send(context.Background(), m); err != nil {
			b.Fatal(err)
		}
	}
	key := dispatch.SessionKey(ts.ConversationPrefix(), user)
	blob, err := ts.Redis.Get(context.Background(), key).Result()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(blob)), "session-bytes")
	if mem, err := ts.Redis.MemoryUsage(context.Background(), key).Result(); err == nil {
		b.ReportMetric(float64(mem), "redis-bytes")
	}
}
