package service_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/bot/wxcrypt"
	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
)

func TestWebhookAnswersInAllThreeModes(t *testing.T) {
	ts := startService(t, testConfig(t))
	for _, mode := range []wxsim.Mode{wxsim.Plain, wxsim.Compat, wxsim.Safe} {
		t.Run(string(mode), func(t *testing.T) {
			c := ts.Client(mode)
			user := "oUser_" + string(mode) + "_000000000001"
			r := send(t, c, wxsim.Event(user, "subscribe", ""))
			if r.Status != 200 {
				t.Fatalf("follow: HTTP %d %s", r.Status, r.Body)
			}
			mustContain(t, r.Content, "欢迎", "报事", "进度", "帮助")
			if r.To != user || r.From != c.Account || r.MsgType != "text" {
				t.Errorf("reply addressed To=%q From=%q type %q", r.To, r.From, r.MsgType)
			}
			if r.Encrypted != (mode != wxsim.Plain) {
				t.Errorf("encrypted reply = %v in %s mode", r.Encrypted, mode)
			}
			mustContain(t, say(t, c, user, "帮助"), "使用帮助")
			mustContain(t, say(t, c, user, "随便说点什么"), "报事")
		})
	}
}

func TestWebhookVerifiesURL(t *testing.T) {
	ts := startService(t, testConfig(t))
	ts0 := strconv.FormatInt(time.Now().Unix(), 10)
	q := url.Values{"timestamp": {ts0}, "nonce": {"123"}, "echostr": {"echo-5551"}, "signature": {wxcrypt.Signature(testToken, ts0, "123")}}
	resp, err := http.Get(ts.Server.URL + "/wechat?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "echo-5551" {
		t.Errorf("verification: %d %q", resp.StatusCode, body)
	}
	q.Set("signature", wxcrypt.Signature("wrong", ts0, "123"))
	resp, err = http.Get(ts.Server.URL + "/wechat?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("forged verification: %d", resp.StatusCode)
	}
}

func TestWebhookKeyRotation(t *testing.T) {
	cfg := testConfig(t)
	oldKey := cfg.WeChat.AESKey
	cfg.WeChat.AESKey = wxsim.NewAESKey()
	cfg.WeChat.AESKeyPrev = oldKey
	ts := startService(t, cfg)

	fresh := ts.Client(wxsim.Safe)
	mustContain(t, say(t, fresh, "oRotation_new_00000000001", "帮助"), "使用帮助")

	// WeChat still on the old key: decrypted with the previous key, and the
	// reply is encrypted with the key WeChat used.
	stale := ts.Client(wxsim.Safe)
	stale.AESKey = oldKey
	mustContain(t, say(t, stale, "oRotation_old_00000000001", "帮助"), "使用帮助")

	unknown := ts.Client(wxsim.Safe)
	unknown.AESKey = wxsim.NewAESKey()
	if r := send(t, unknown, wxsim.Text("oRotation_bad_00000000001", "帮助")); r.Status != http.StatusBadRequest {
		t.Errorf("a key that is neither current nor previous: HTTP %d", r.Status)
	}
}

// hostile builds a request WeChat would never send.
type hostile struct {
	name   string
	status int
	reason string
	build  func(c *wxsim.Client) (*wxsim.Request, string) // request and HTTP method
}

func signedPlain(c *wxsim.Client, body string) *wxsim.Request {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	nonce := wxsim.Nonce()
	return &wxsim.Request{Query: url.Values{
		"timestamp": {ts}, "nonce": {nonce}, "signature": {wxcrypt.Signature(c.Token, ts, nonce)},
	}, Body: []byte(body)}
}

func TestWebhookRefusesHostileRequests(t *testing.T) {
	ts := startService(t, testConfig(t))
	user := "oHostile_000000000000000001"
	cases := []hostile{
		{"forged signature", 403, "bad_signature", func(c *wxsim.Client) (*wxsim.Request, string) {
			r, _ := c.Build(wxsim.Text(user, "hi"))
			r.Query.Set("signature", wxcrypt.Signature("not-the-token", r.Query.Get("timestamp"), r.Query.Get("nonce")))
			return r, "POST"
		}},
		{"no signature", 403, "bad_signature", func(c *wxsim.Client) (*wxsim.Request, string) {
			r, _ := c.Build(wxsim.Text(user, "hi"))
			r.Query.Del("signature")
			return r, "POST"
		}},
		{"timestamp 6 minutes old", 403, "stale_timestamp", func(c *wxsim.Client) (*wxsim.Request, string) {
			r, _ := c.BuildAt(wxsim.Text(user, "hi"), strconv.FormatInt(time.Now().Add(-6*time.Minute).Unix(), 10), "42")
			return r, "POST"
		}},
		{"timestamp 6 minutes ahead", 403, "stale_timestamp", func(c *wxsim.Client) (*wxsim.Request, string) {
			r, _ := c.BuildAt(wxsim.Text(user, "hi"), strconv.FormatInt(time.Now().Add(6*time.Minute).Unix(), 10), "43")
			return r, "POST"
		}},
		{"body over 64 KiB", 413, "too_large", func(c *wxsim.Client) (*wxsim.Request, string) {
			r, _ := c.Build(wxsim.Text(user, strings.Repeat("长", 23000)))
			return r, "POST"
		}},
		{"malformed XML", 400, "malformed_xml", func(c *wxsim.Client) (*wxsim.Request, string) {
			return signedPlain(c, "<xml><ToUserName>gh</ToUserName><FromUserName>u"), "POST"
		}},
		{"not XML at all", 400, "malformed_xml", func(c *wxsim.Client) (*wxsim.Request, string) {
			return signedPlain(c, `{"MsgType":"text"}`), "POST"
		}},
		{"DOCTYPE", 400, "xml_entities", func(c *wxsim.Client) (*wxsim.Request, string) {
			return signedPlain(c, `<!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">]><xml><ToUserName>gh</ToUserName><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&a;</Content></xml>`), "POST"
		}},
		{"external entity", 400, "xml_entities", func(c *wxsim.Client) (*wxsim.Request, string) {
			return signedPlain(c, `<xml><ToUserName>gh</ToUserName><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&xxe;</Content></xml>`), "POST"
		}},
		{"invalid UTF-8", 400, "invalid_utf8", func(c *wxsim.Client) (*wxsim.Request, string) {
			return signedPlain(c, "<xml><ToUserName>gh</ToUserName><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>\xc3\x28</Content></xml>"), "POST"
		}},
		{"missing sender", 400, "missing_field", func(c *wxsim.Client) (*wxsim.Request, string) {
			return signedPlain(c, "<xml><ToUserName>gh</ToUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content></xml>"), "POST"
		}},
		{"forged msg_signature", 403, "bad_msg_signature", func(c *wxsim.Client) (*wxsim.Request, string) {
			aes := *c
			aes.Mode = wxsim.Safe
			r, _ := aes.Build(wxsim.Text(user, "hi"))
			r.Query.Set("msg_signature", strings.Repeat("0", 40))
			return r, "POST"
		}},
		{"ciphertext that does not decrypt", 400, "decrypt_failed", func(c *wxsim.Client) (*wxsim.Request, string) {
			r := signedPlain(c, "")
			enc := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
			r.Body = []byte("<xml><ToUserName><![CDATA[gh]]></ToUserName><Encrypt><![CDATA[" + enc + "]]></Encrypt></xml>")
			r.Query.Set("encrypt_type", "aes")
			r.Query.Set("msg_signature", wxcrypt.Signature(c.Token, r.Query.Get("timestamp"), r.Query.Get("nonce"), enc))
			return r, "POST"
		}},
		{"encrypted envelope without Encrypt", 400, "missing_encrypt", func(c *wxsim.Client) (*wxsim.Request, string) {
			r := signedPlain(c, "<xml><ToUserName>gh</ToUserName></xml>")
			r.Query.Set("encrypt_type", "aes")
			return r, "POST"
		}},
		{"unknown method", 405, "method", func(c *wxsim.Client) (*wxsim.Request, string) {
			r, _ := c.Build(wxsim.Text(user, "hi"))
			return r, "PUT"
		}},
	}
	c := ts.Client(wxsim.Plain)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, method := tc.build(c)
			status, body := rawRequest(t, ts.Server.URL+"/wechat", method, req)
			if status != tc.status {
				t.Errorf("HTTP %d (%s), want %d", status, strings.TrimSpace(body), tc.status)
			}
			if got := metricValue(t, ts, "lianxin_webhook_rejected_total", `reason="`+tc.reason+`"`); got < 1 {
				t.Errorf("not counted under reason %q", tc.reason)
			}
		})
	}

	// A replayed (timestamp, nonce) with another body is refused; the same
	// body again is a retry and gets the same reply.
	first, _ := c.BuildAt(wxsim.Text(user, "帮助"), strconv.FormatInt(time.Now().Unix(), 10), "777001")
	status, body1 := rawRequest(t, ts.Server.URL+"/wechat", "POST", first)
	if status != 200 {
		t.Fatalf("first: %d", status)
	}
	other, _ := c.BuildAt(wxsim.Text(user, "换了内容"), first.Query.Get("timestamp"), "777001")
	if status, _ := rawRequest(t, ts.Server.URL+"/wechat", "POST", other); status != http.StatusForbidden {
		t.Errorf("replayed nonce with a different body: HTTP %d", status)
	}
	if status, body2 := rawRequest(t, ts.Server.URL+"/wechat", "POST", first); status != 200 || body2 != body1 {
		t.Errorf("retry of the same request: HTTP %d, reply changed: %v", status, body1 != body2)
	}

	// None of it hurt the service, and none of it was logged as an error.
	resp, err := http.Get(ts.Server.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz after hostile requests: %v %v", resp, err)
	}
	resp.Body.Close()
	mustContain(t, say(t, c, user, "帮助"), "使用帮助")
	if lines := ts.Logs.ErrorLines(); len(lines) > 0 {
		t.Errorf("refused requests were logged as errors:\n%s", strings.Join(lines, "\n"))
	}
}

func rawRequest(t *testing.T, u, method string, r *wxsim.Request) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u+"?"+r.Query.Encode(), bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metricValue scrapes /metrics and returns the sample of name whose labels
// contain the given fragment (0 when absent).
func metricValue(t *testing.T, ts *testService, name, labels string) float64 {
	t.Helper()
	resp, err := http.Get(ts.Server.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, name) || (labels != "" && !strings.Contains(line, labels)) {
			continue
		}
		if rest := line[len(name):]; rest != "" && rest[0] != '{' && rest[0] != ' ' {
			continue
		}
		f := strings.Fields(line)
		v, _ := strconv.ParseFloat(f[len(f)-1], 64)
		return v
	}
	return 0
}

func TestConcurrentCopiesOfOneMessageHaveOneEffect(t *testing.T) {
	cfg := testConfig(t)
	a := startService(t, cfg)
	b := startService(t, cfg) // a second `serve` process: same Redis, same SQLite file
	for _, tc := range []struct {
		name    string
		targets []*testService
	}{
		{"one process", []*testService{a, a, a}},
		{"two processes", []*testService{a, b, a}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user := "oCopies_" + strings.ReplaceAll(tc.name, " ", "_") + "_0000001"
			req, err := a.Client(wxsim.Safe).Build(wxsim.Text(user, "帮助"))
			if err != nil {
				t.Fatal(err)
			}
			before := a.Dispatcher.Applied() + b.Dispatcher.Applied()
			replies := make([]*wxsim.Reply, 3)
			var wg sync.WaitGroup
			for i, target := range tc.targets {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r, err := target.Client(wxsim.Safe).Do(context.Background(), req)
					if err != nil {
						t.Error(err)
						return
					}
					replies[i] = r
				}()
			}
			wg.Wait()
			if t.Failed() {
				return
			}
			for i, r := range replies {
				if r.Status != 200 {
					t.Fatalf("copy %d: HTTP %d %s", i, r.Status, r.Body)
				}
				if !bytes.Equal(r.XML, replies[0].XML) {
					t.Errorf("copy %d got a different reply:\n%s\nvs\n%s", i, r.XML, replies[0].XML)
				}
			}
			mustContain(t, replies[0].Content, "使用帮助")
			if got := a.Dispatcher.Applied() + b.Dispatcher.Applied() - before; got != 1 {
				t.Errorf("the message was applied %d times", got)
			}
			entries, err := a.DB.Transcript(context.Background(), user, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 || entries[0].Outcome != lianxin.OutcomeReplied {
				t.Errorf("journal has %d entries for the message: %+v", len(entries), entries)
			}
		})
	}
}

func TestRedisDownMidConversation(t *testing.T) {
	cfg := testConfig(t)
	proxy := testenv.NewProxy(t, testenv.RedisAddr(t))
	cfg.RedisURL = "redis://" + proxy.Addr() + "/" + testenv.RedisDB(t)
	ts := startService(t, cfg)
	c := ts.Client(wxsim.Safe)
	user := "oRedisDown_00000000000001"
	ctx := context.Background()

	mustContain(t, say(t, c, user, "你好"), "报事")

	proxy.Cut()
	r := send(t, c, wxsim.Text(user, "帮助"))
	if r.Status != 200 {
		t.Fatalf("with Redis down: HTTP %d %s", r.Status, r.Body)
	}
	mustContain(t, r.Content, "系统繁忙，您的消息已记录")
	entries, _ := ts.DB.Transcript(ctx, user, 10)
	if len(entries) != 2 || entries[1].Outcome != lianxin.OutcomeDeferred || entries[1].Content != "帮助" {
		t.Fatalf("journal while Redis is down: %+v", entries)
	}
	if err := ts.Replayer.Pass(ctx); err == nil {
		t.Error("replay reported success while Redis is down")
	}

	proxy.Restore()
	if err := ts.Replayer.Pass(ctx); err != nil {
		t.Fatalf("replay after Redis returned: %v", err)
	}
	entries, _ = ts.DB.Transcript(ctx, user, 10)
	if entries[1].Outcome != lianxin.OutcomeReplayed {
		t.Errorf("deferred message outcome after replay: %s", entries[1].Outcome)
	}
	// The reply the resident could not get in the webhook response goes out
	// as a customer-service message.
	out, _ := ts.DB.Outbox(ctx, 10)
	if len(out) != 1 || out[0].Recipient != user || !strings.Contains(out[0].Payload, "使用帮助") {
		t.Errorf("outbox after replay: %+v", out)
	}
	// And the conversation goes on normally.
	mustContain(t, say(t, c, user, "帮助"), "使用帮助")
}

func TestHungRedisStillAnswersWithinWeChatsDeadline(t *testing.T) {
	cfg := testConfig(t)
	proxy := testenv.NewProxy(t, testenv.RedisAddr(t))
	cfg.RedisURL = "redis://" + proxy.Addr() + "/" + testenv.RedisDB(t)
	ts := startService(t, cfg)
	c := ts.Client(wxsim.Safe)
	user := "oRedisHung_00000000000001"
	mustContain(t, say(t, c, user, "你好"), "报事")

	proxy.Hang()
	r := send(t, c, wxsim.Text(user, "帮助"))
	if r.Status != 200 {
		t.Fatalf("with Redis hung: HTTP %d %s", r.Status, r.Body)
	}
	mustContain(t, r.Content, "系统繁忙，您的消息已记录")
	// WeChat gives up at 5 s and retries; the reply must beat that.
	if r.Latency >= 5*time.Second {
		t.Errorf("reply took %s with Redis hung", r.Latency)
	}
	proxy.Restore()
	if err := ts.Replayer.Pass(context.Background()); err != nil {
		t.Fatalf("replay: %v", err)
	}
	entries, _ := ts.DB.Transcript(context.Background(), user, 10)
	if len(entries) != 2 || entries[1].Outcome != lianxin.OutcomeReplayed {
		t.Errorf("journal after Redis recovered: %+v", entries)
	}
}
