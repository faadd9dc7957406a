package service_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/bot/wxcrypt"
	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
)

func TestWebhookAnswersInAllThreeModes(t *testing.T) {
	ts := startService(t, testConfig(t))
	// An account in plaintext mode (明文) has no EncodingAESKey.
	plainCfg := testConfig(t)
	plainCfg.WeChat.AESKey = ""
	plain := startService(t, plainCfg)
	for _, mode := range []wxsim.Mode{wxsim.Plain, wxsim.Compat, wxsim.Safe} {
		t.Run(string(mode), func(t *testing.T) {
			c := ts.Client(mode)
			if mode == wxsim.Plain {
				c = plain.Client(mode)
			}
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
	name string
	// strict sends it to a service configured as production is (an AES
	// key, plaintext not allowed); the others go to one that still accepts
	// plaintext, so the parser's cases reach the parser.
	strict bool
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

// inMode is the client c speaking in another of WeChat's modes.
func inMode(c *wxsim.Client, m wxsim.Mode) *wxsim.Client {
	cc := *c
	cc.Mode = m
	return &cc
}

func TestWebhookRefusesHostileRequests(t *testing.T) {
	lenient := testConfig(t)
	lenient.WeChat.AllowPlaintext = true
	ts := startService(t, lenient)
	strict := startService(t, testConfig(t))
	user := "oHostile_000000000000000001"
	cases := []hostile{
		{name: "forged signature", status: 403, reason: "bad_signature", build: func(c *wxsim.Client) (*wxsim.Request, string) {
			r, _ := c.Build(wxsim.Text(user, "hi"))
			r.Query.Set("signature", wxcrypt.Signature("not-the-token", r.Query.Get("timestamp"), r.Query.Get("nonce")))
			return r, "POST"
		}},
		{name: "no signature", status: 403, reason: "bad_signature", build: func(c *wxsim.Client) (*wxsim.Request, string) {
			r, _ := c.Build(wxsim.Text(user, "hi"))
			r.Query.Del("signature")
			return r, "POST"
		}},
		{name: "timestamp 6 minutes old", status: 403, reason: "stale_timestamp", build: func(c *wxsim.Client) (*wxsim.Request, string) {
			r, _ := c.BuildAt(wxsim.Text(user, "hi"), strconv.FormatInt(time.Now().Add(-6*time.Minute).Unix(), 10), "42")
			return r, "POST"
		}},
		{name: "timestamp 6 minutes ahead", status: 403, reason: "stale_timestamp", build: func(c *wxsim.Client) (*wxsim.Request, string) {
			r, _ := c.BuildAt(wxsim.Text(user, "hi"), strconv.FormatInt(time.Now().Add(6*time.Minute).Unix(), 10), "43")
			return r, "POST"
		}},
		{name: "body over 64 KiB", status: 413, reason: "too_large", build: func(c *wxsim.Client) (*wxsim.Request, string) {
			r, _ := c.Build(wxsim.Text(user, strings.Repeat("长", 23000)))
			return r, "POST"
		}},
		{name: "malformed XML", status: 400, reason: "malformed_xml", build: func(c *wxsim.Client) (*wxsim.Request, string) {
			return signedPlain(c, "<xml><ToUserName>gh</ToUserName><FromUserName>u"), "POST"
		}},
		{name: "not XML at all", status: 400, reason: "malformed_xml", build: func(c *wxsim.Client) (*wxsim.Request, string) {
			return signedPlain(c, `{"MsgType":"text"}`), "POST"
		}},
		{name: "DOCTYPE", status: 400, reason: "xml_entities", build: func(c *wxsim.Client) (*wxsim.Request, string) {
			return signedPlain(c, `<!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">]><xml><ToUserName>gh</ToUserName><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&a;</Content></xml>`), "POST"
		}},
		{name: "external entity", status: 400, reason: "xml_entities", build: func(c *wxsim.Client) (*wxsim.Request, string) {
			return signedPlain(c, `<xml><ToUserName>gh</ToUserName><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&xxe;</Content></xml>`), "POST"
		}},
		{name: "invalid UTF-8", status: 400, reason: "invalid_utf8", build: func(c *wxsim.Client) (*wxsim.Request, string) {
			return signedPlain(c, "<xml><ToUserName>gh</ToUserName><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>\xc3\x28</Content></xml>"), "POST"
		}},
		{name: "missing sender", status: 400, reason: "missing_field", build: func(c *wxsim.Client) (*wxsim.Request, string) {
			return signedPlain(c, "<xml><ToUserName>gh</ToUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content></xml>"), "POST"
		}},
		{name: "forged msg_signature", status: 403, reason: "bad_msg_signature", build: func(c *wxsim.Client) (*wxsim.Request, string) {
			r, _ := inMode(c, wxsim.Safe).Build(wxsim.Text(user, "hi"))
			r.Query.Set("msg_signature", strings.Repeat("0", 40))
			return r, "POST"
		}},
		{name: "ciphertext that does not decrypt", status: 400, reason: "decrypt_failed", build: func(c *wxsim.Client) (*wxsim.Request, string) {
			r := signedPlain(c, "")
			enc := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
			r.Body = []byte("<xml><ToUserName><![CDATA[gh]]></ToUserName><Encrypt><![CDATA[" + enc + "]]></Encrypt></xml>")
			r.Query.Set("encrypt_type", "aes")
			r.Query.Set("msg_signature", wxcrypt.Signature(c.Token, r.Query.Get("timestamp"), r.Query.Get("nonce"), enc))
			return r, "POST"
		}},
		{name: "encrypted envelope without Encrypt", status: 400, reason: "missing_encrypt", build: func(c *wxsim.Client) (*wxsim.Request, string) {
			r := signedPlain(c, "<xml><ToUserName>gh</ToUserName></xml>")
			r.Query.Set("encrypt_type", "aes")
			return r, "POST"
		}},
		{name: "unknown method", status: 405, reason: "method", build: func(c *wxsim.Client) (*wxsim.Request, string) {
			r, _ := c.Build(wxsim.Text(user, "hi"))
			return r, "PUT"
		}},

		// With an AES key only encrypted requests are WeChat's: the
		// signature of a plaintext request covers no part of its body.
		{name: "plaintext although an AES key is set", strict: true, status: 403, reason: "plaintext_refused", build: func(c *wxsim.Client) (*wxsim.Request, string) {
			r, _ := c.Build(wxsim.Text(user, "hi"))
			return r, "POST"
		}},
		{name: "encrypt_type=raw although an AES key is set", strict: true, status: 403, reason: "plaintext_refused", build: func(c *wxsim.Client) (*wxsim.Request, string) {
			r, _ := c.Build(wxsim.Text(user, "hi"))
			r.Query.Set("encrypt_type", "raw")
			return r, "POST"
		}},
		{name: "compatible-mode body without msg_signature", strict: true, status: 403, reason: "bad_msg_signature", build: func(c *wxsim.Client) (*wxsim.Request, string) {
			r, _ := inMode(c, wxsim.Compat).Build(wxsim.Text(user, "hi"))
			r.Query.Del("msg_signature")
			return r, "POST"
		}},
		// Coordinates that are no place on earth are refused as they arrive,
		// not retried for ever as if Redis had failed.
		{name: "location at NaN", strict: true, status: 400, reason: "bad_number", build: func(c *wxsim.Client) (*wxsim.Request, string) {
			r, _ := inMode(c, wxsim.Safe).Build(wxsim.Location(user, math.NaN(), 113.57, "水滩"))
			return r, "POST"
		}},
		{name: "location at infinity", strict: true, status: 400, reason: "bad_number", build: func(c *wxsim.Client) (*wxsim.Request, string) {
			r, _ := inMode(c, wxsim.Safe).Build(wxsim.Location(user, 37.86, math.Inf(1), "水滩"))
			return r, "POST"
		}},
		{name: "latitude beyond the pole", strict: true, status: 400, reason: "bad_number", build: func(c *wxsim.Client) (*wxsim.Request, string) {
			r, _ := inMode(c, wxsim.Safe).Build(wxsim.Location(user, 91, 113.57, "水滩"))
			return r, "POST"
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			target := ts
			if tc.strict {
				target = strict
			}
			req, method := tc.build(target.Client(wxsim.Plain))
			status, body := rawRequest(t, target.Server.URL+"/wechat", method, req)
			if status != tc.status {
				t.Errorf("HTTP %d (%s), want %d", status, strings.TrimSpace(body), tc.status)
			}
			if got := metricValue(t, target, "lianxin_webhook_rejected_total", `reason="`+tc.reason+`"`); got < 1 {
				t.Errorf("not counted under reason %q", tc.reason)
			}
		})
	}

	// A replayed (timestamp, nonce) with another body is refused; the same
	// body again is a retry and gets the same reply.
	c := ts.Client(wxsim.Plain)
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

	// A message type WeChat does not have is answered, but does not become
	// a metric label of its own: labels an attacker picks would grow the
	// metrics without bound.
	odd := wxsim.Message{From: user, Type: "x_odd_" + wxsim.Nonce(), Content: "hi", MsgID: wxsim.NextMsgID()}
	if r := send(t, strict.Client(wxsim.Safe), odd); r.Status != 200 {
		t.Errorf("an unknown message type: HTTP %d", r.Status)
	}
	if got := metricValue(t, strict, "lianxin_webhook_requests_total", odd.Type); got != 0 {
		t.Errorf("the message type %q became a metric label", odd.Type)
	}
	if got := metricValue(t, strict, "lianxin_webhook_requests_total", `type="other"`); got < 1 {
		t.Error("an unknown message type is not counted as type=\"other\"")
	}

	// None of it hurt the service, and none of it was logged as an error.
	for _, target := range []*testService{ts, strict} {
		resp, err := http.Get(target.Server.URL + "/healthz")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("healthz after hostile requests: %v %v", resp, err)
		}
		resp.Body.Close()
		if lines := target.Logs.ErrorLines(); len(lines) > 0 {
			t.Errorf("refused requests were logged as errors:\n%s", strings.Join(lines, "\n"))
		}
	}
	mustContain(t, say(t, c, user, "帮助"), "使用帮助")
	mustContain(t, say(t, strict.Client(wxsim.Safe), user, "帮助"), "使用帮助")
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

// forged is an attacker's request: the query (signature, timestamp, nonce)
// of one they captured, with a body of their own. WeChat's signature covers
// only the token, the timestamp and the nonce, so in plaintext mode the
// body can be anything.
func forged(captured url.Values, c *wxsim.Client, m wxsim.Message) *wxsim.Request {
	q := url.Values{}
	for _, k := range []string{"signature", "timestamp", "nonce"} {
		q.Set(k, captured.Get(k))
	}
	if m.CreateTime == 0 {
		m.CreateTime = time.Now().Unix()
	}
	return &wxsim.Request{Query: q, Body: m.XML(c.Account)}
}

// verifyQuery is WeChat's URL verification (GET with echostr), signed.
func verifyQuery(token, echostr string) url.Values {
	ts, nonce := strconv.FormatInt(time.Now().Unix(), 10), wxsim.Nonce()
	return url.Values{"timestamp": {ts}, "nonce": {nonce}, "echostr": {echostr}, "signature": {wxcrypt.Signature(token, ts, nonce)}}
}

func getStatus(t *testing.T, u string, q url.Values) (int, string) {
	t.Helper()
	resp, err := http.Get(u + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestReplayGuardHasNoGaps attacks the replay guard as someone who captured
// signed queries would, against an account in plaintext mode (where the
// signature covers no part of the body) served by two processes sharing one
// SQLite file and one Redis, which goes down in some of the cases.
func TestReplayGuardHasNoGaps(t *testing.T) {
	cfg := testConfig(t)
	cfg.WeChat.AESKey = ""
	proxy := testenv.NewProxy(t, testenv.RedisAddr(t))
	cfg.RedisURL = "redis://" + proxy.Addr() + "/" + testenv.RedisDB(t)
	a, b := startService(t, cfg), startService(t, cfg)
	rdb := testenv.Redis(t)
	ctx := context.Background()
	post := func(t *testing.T, ts *testService, req *wxsim.Request) *wxsim.Reply {
		t.Helper()
		r, err := ts.Client(wxsim.Plain).Do(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for i, tc := range []struct {
		name   string
		attack func(t *testing.T, user string)
	}{
		{"a nonce is kept until its timestamp is too old", func(t *testing.T, user string) {
			// Signed four minutes ahead, the request is accepted for nine
			// more minutes; its nonce must be refused for as long.
			c := a.Client(wxsim.Plain)
			ts := strconv.FormatInt(time.Now().Add(4*time.Minute).Unix(), 10)
			req, _ := c.BuildAt(wxsim.Text(user, "帮助"), ts, wxsim.Nonce())
			if r := post(t, a, req); r.Status != 200 {
				t.Fatalf("HTTP %d", r.Status)
			}
			ttl, err := rdb.PTTL(ctx, a.ConversationPrefix()+"n:"+ts+":"+req.Query.Get("nonce")).Result()
			if err != nil {
				t.Fatal(err)
			}
			if want := 8 * time.Minute; ttl < want {
				t.Errorf("the nonce is remembered for %s, want at least %s (until its timestamp leaves the window)", ttl, want)
			}
		}},
		{"captured before an outage, replayed during it", func(t *testing.T, user string) {
			c := a.Client(wxsim.Plain)
			req, _ := c.Build(wxsim.Text(user, "帮助"))
			if r := post(t, a, req); r.Status != 200 {
				t.Fatalf("HTTP %d", r.Status)
			}
			proxy.Cut()
			if r := post(t, b, forged(req.Query, c, wxsim.Text(user, "我要投诉"))); r.Status != http.StatusForbidden {
				t.Errorf("replayed during the outage: HTTP %d %q, want 403", r.Status, r.Content)
			}
		}},
		{"replayed to another process during an outage", func(t *testing.T, user string) {
			c := a.Client(wxsim.Plain)
			proxy.Cut()
			req, _ := c.Build(wxsim.Text(user, "帮助"))
			if r := post(t, a, req); r.Status != 200 {
				t.Fatalf("HTTP %d", r.Status)
			}
			if r := post(t, b, forged(req.Query, c, wxsim.Text(user, "我要投诉"))); r.Status != http.StatusForbidden {
				t.Errorf("replayed to the other process: HTTP %d %q, want 403", r.Status, r.Content)
			}
			// WeChat retrying the same request is no attack.
			if r := post(t, b, req); r.Status != 200 {
				t.Errorf("WeChat's retry during the outage: HTTP %d", r.Status)
			}
		}},
		{"a URL verification's nonce reused for a message", func(t *testing.T, user string) {
			q := verifyQuery(cfg.WeChat.Token, "echo")
			if status, _ := getStatus(t, a.Server.URL+"/wechat", q); status != 200 {
				t.Fatalf("verification: HTTP %d", status)
			}
			if r := post(t, b, forged(q, a.Client(wxsim.Plain), wxsim.Text(user, "我要投诉"))); r.Status != http.StatusForbidden {
				t.Errorf("the verification's nonce on a message: HTTP %d %q, want 403", r.Status, r.Content)
			}
		}},
		{"a URL verification's nonce reused during an outage", func(t *testing.T, user string) {
			q := verifyQuery(cfg.WeChat.Token, "echo")
			if status, _ := getStatus(t, a.Server.URL+"/wechat", q); status != 200 {
				t.Fatalf("verification: HTTP %d", status)
			}
			proxy.Cut()
			if r := post(t, b, forged(q, a.Client(wxsim.Plain), wxsim.Text(user, "我要投诉"))); r.Status != http.StatusForbidden {
				t.Errorf("the verification's nonce on a message during the outage: HTTP %d %q, want 403", r.Status, r.Content)
			}
		}},
		{"a URL verification replayed with another echostr", func(t *testing.T, user string) {
			q := verifyQuery(cfg.WeChat.Token, "echo")
			if status, body := getStatus(t, a.Server.URL+"/wechat", q); status != 200 || body != "echo" {
				t.Fatalf("verification: HTTP %d %q", status, body)
			}
			if status, body := getStatus(t, b.Server.URL+"/wechat", q); status != 200 || body != "echo" {
				t.Errorf("WeChat repeating its verification: HTTP %d %q", status, body)
			}
			q.Set("echostr", "<script>alert(1)</script>")
			if status, body := getStatus(t, b.Server.URL+"/wechat", q); status != http.StatusForbidden {
				t.Errorf("echostr (which is not signed) changed: HTTP %d %q, want 403", status, body)
			}
		}},
		{"WeChat retries an applied message during an outage", func(t *testing.T, user string) {
			c := a.Client(wxsim.Plain)
			m := wxsim.Text(user, "帮助")
			m.CreateTime = time.Now().Unix()
			first := send(t, c, m)
			mustContain(t, first.Content, "使用帮助")
			proxy.Cut()
			// The retry carries the same message with a fresh nonce. It was
			// applied: its reply is in the journal, and promising to handle
			// it later would be a promise nobody keeps.
			retry := send(t, b.Client(wxsim.Plain), m)
			if retry.Status != 200 || retry.Content != first.Content {
				t.Errorf("the retry got HTTP %d %q, want the reply the message got: %q", retry.Status, retry.Content, first.Content)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer proxy.Restore()
			tc.attack(t, fmt.Sprintf("oReplayGuard_%02d_00000000000", i))
		})
	}
	for _, ts := range []*testService{a, b} {
		if lines := ts.Logs.ErrorLines(); len(lines) > 0 {
			t.Errorf("attacks were logged as errors:\n%s", strings.Join(lines, "\n"))
		}
	}
}

// TestRepliesAreAlwaysWellFormedXML: characters XML forbids (control
// characters, U+FFFE, U+FFFF) in what a resident typed must never reach a
// reply, where they would make WeChat drop it, and a bad description
// already in the register must not break every 详情 of it.
func TestRepliesAreAlwaysWellFormedXML(t *testing.T) {
	ts := startService(t, testConfig(t))
	ctx := context.Background()
	const bad = "暖气\x01一直\x1b不热\uFFFE，屋里才十四五度\uFFFF"
	for _, tc := range []struct {
		name string
		try  func(t *testing.T, user string) []*wxsim.Reply
	}{
		{"typed by a resident", func(t *testing.T, user string) []*wxsim.Reply {
			c := ts.Client(wxsim.Safe)
			var replies []*wxsim.Reply
			for _, text := range []string{"报事", "2", bad, "跳过", "水滩社区3号楼", "跳过"} {
				replies = append(replies, send(t, c, wxsim.Text(user, text)))
			}
			return replies // the last one is the summary, quoting the description
		}},
		{"stored before the fix", func(t *testing.T, user string) []*wxsim.Reply {
			number := ts.ReportCase(t, user)
			db, err := sql.Open("sqlite3", "file:"+ts.Cfg.DBPath+"?_busy_timeout=10000")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.ExecContext(ctx, `UPDATE cases SET description = ? WHERE number = ?`, bad, number); err != nil {
				t.Fatal(err)
			}
			c := ts.Client(wxsim.Safe)
			deputy := "oXMLDeputy_" + user[len(user)-6:]
			bindDeputy(t, ts, c, deputy, "d-st-02")
			return []*wxsim.Reply{
				send(t, c, wxsim.Text(deputy, "详情 "+lianxin.ShortNumber(number))),
				send(t, c, wxsim.Text(deputy, "详情 "+lianxin.ShortNumber(number))),
				send(t, c, wxsim.Text(user, "进度 "+number)),
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user := "oXML_" + strings.ReplaceAll(tc.name, " ", "_") + "_000000"
			for i, r := range tc.try(t, user) {
				if r.Status != 200 || r.Content == "" {
					t.Fatalf("reply %d: HTTP %d %q", i, r.Status, r.Body)
				}
				if strings.ContainsAny(r.Content, "\x01\x1b\uFFFE\uFFFF") {
					t.Errorf("reply %d carries characters XML forbids: %q", i, r.Content)
				}
			}
		})
	}
}

// TestBindingCodesCannotBeGuessed: six digits are a million codes. An
// attacker with many WeChat accounts is held back globally, and a code
// guessed at too often is withdrawn, as well as each account being held
// back on its own.
func TestBindingCodesCannotBeGuessed(t *testing.T) {
	for _, tc := range []struct {
		name            string
		guessers, tries int
		want, notWanted string
	}{
		// 20 wrong codes in an hour, from accounts that each stay under
		// their own limit of five: binding stops for the hour.
		{"many accounts, few tries each", 5, 4, "错误次数太多", "绑定成功"},
		// 12 wrong codes while this code was valid: it is withdrawn.
		{"a code tried at too often", 3, 4, "绑定码不对", "绑定成功"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startService(t, testConfig(t))
			c := ts.Client(wxsim.Safe)
			code, _, err := ts.DB.CreateInvite(context.Background(), "d-st-02", 24*time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			wrong := 100000
			for g := range tc.guessers {
				for range tc.tries {
					if wrong++; strconv.Itoa(wrong) == code {
						wrong++
					}
					mustContain(t, say(t, c, fmt.Sprintf("oGuesser%02d_000000000000000", g), "绑定 "+strconv.Itoa(wrong)), "绑定码不对")
				}
			}
			reply := say(t, c, "oRealDeputy_0000000000000001", "绑定 "+code)
			mustContain(t, reply, tc.want)
			if strings.Contains(reply, tc.notWanted) {
				t.Errorf("bound after %d wrong guesses: %q", tc.guessers*tc.tries, reply)
			}
		})
	}
}

// TestReadyzTellsOnlyWhetherItIsReady: /readyz fails when SQLite cannot take
// a write (another process holds the write lock: reading still works) or
// Redis is down, and says which, never where: no address, no error text.
func TestReadyzTellsOnlyWhetherItIsReady(t *testing.T) {
	cfg := testConfig(t)
	proxy := testenv.NewProxy(t, testenv.RedisAddr(t))
	cfg.RedisURL = "redis://" + proxy.Addr() + "/" + testenv.RedisDB(t)
	ts := startService(t, cfg)
	for _, tc := range []struct {
		name   string
		fault  func(t *testing.T) (restore func())
		status int
		want   string
	}{
		{"all well", func(*testing.T) func() { return func() {} }, 200, `{"redis":"ok","sqlite":"ok"}`},
		{"Redis down", func(*testing.T) func() { proxy.Cut(); return proxy.Restore }, 503, `{"redis":"unavailable","sqlite":"ok"}`},
		{"SQLite write lock held by another process", func(t *testing.T) func() {
			holder := exec.Command(os.Args[0], "-test.run=^$")
			holder.Env = append(os.Environ(), "LIANXIN_TEST_HOLD_SQLITE_LOCK="+cfg.DBPath)
			stdin, _ := holder.StdinPipe()
			stdout, _ := holder.StdoutPipe()
			if err := holder.Start(); err != nil {
				t.Fatal(err)
			}
			if line, _ := bufio.NewReader(stdout).ReadString('\n'); strings.TrimSpace(line) != "locked" {
				t.Fatalf("lock holder: %q", line)
			}
			return func() { stdin.Close(); holder.Wait() }
		}, 503, `{"redis":"ok","sqlite":"unavailable"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			restore := tc.fault(t)
			defer restore()
			status, body := getStatus(t, ts.Server.URL+"/readyz", nil)
			if status != tc.status || strings.TrimSpace(body) != tc.want {
				t.Errorf("/readyz: HTTP %d %s, want %d %s", status, body, tc.status, tc.want)
			}
		})
	}
}

// TestPhotoLinksReachOnlyWeChat: an image message carries the link its photo
// is fetched from when media/get fails (PicUrl). Sent with a media id WeChat
// does not know and a link into the network, it must not make lianxin fetch
// that link, directly or through a redirect from a host it trusts.
func TestPhotoLinksReachOnlyWeChat(t *testing.T) {
	var hits atomic.Int32
	inside := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "image/png")
		w.Write([]byte("\x89PNG\r\n\x1a\n the router's admin page"))
	}))
	defer inside.Close()
	redirector := httptest.NewServer(http.RedirectHandler(inside.URL+"/admin", http.StatusFound))
	defer redirector.Close()

	cfg := testConfig(t)
	withFakeWeChat(t, &cfg)
	cfg.WeChat.MediaHosts = []string{"mmbiz.qpic.cn", strings.TrimPrefix(redirector.URL, "http://")}
	ts := startService(t, cfg)
	db, err := sql.Open("sqlite3", "file:"+cfg.DBPath+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i, link := range []string{inside.URL + "/admin", redirector.URL + "/photo.png"} {
		user := fmt.Sprintf("oPicURL_%d_00000000000000000", i)
		if r := send(t, ts.Client(wxsim.Safe), wxsim.Image(user, "NO_SUCH_MEDIA_"+user, link)); r.Status != 200 {
			t.Fatalf("HTTP %d", r.Status)
		}
		var status, reason string
		waitFor(t, 20*time.Second, "the photo to be given up", func() bool {
			err := db.QueryRow(`SELECT status, error FROM attachments WHERE openid = ?`, user).Scan(&status, &reason)
			return err == nil && status == string(lianxin.AttachmentFailed)
		})
		if !strings.Contains(reason, "media hosts") {
			t.Errorf("%s: given up because %q, want the link refused", link, reason)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the address inside the network was fetched %d times", n)
	}
}
