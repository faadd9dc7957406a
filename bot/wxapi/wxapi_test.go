package wxapi_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/silenceper/wechat/v2/util"

	"github.com/lianxin/lianxin/bot/wxapi"
	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/internal/wxtest/fakewx"
	"github.com/lianxin/lianxin/internal/wxtest/photos"
)

// TestMain installs the production HTTP client as the SDK's global client,
// once, as cmd does. The URI modifier stays unset: every test runs its own
// fake on its own port and points its clients at it through Config.Base, so
// tests run in parallel without touching process globals.
func TestMain(m *testing.M) {
	util.DefaultHTTPClient = wxapi.HTTPClient()
	os.Exit(m.Run())
}

const testSecret = "3f0c9a1e5b7d2c4e6a8b0d1f3e5c7a9b"

func startFake(t *testing.T, opts fakewx.Options) *fakewx.Server {
	t.Helper()
	s := fakewx.New(opts)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// account is one official account in Redis: the clients of every "process"
// of one test share it.
type account struct {
	appID string
	rdb   *redis.Client
	fake  *fakewx.Server
}

func newAccount(t *testing.T, opts fakewx.Options) *account {
	t.Helper()
	return &account{appID: "wx" + testenv.Prefix(t), rdb: testenv.Redis(t), fake: startFake(t, opts)}
}

// process returns a Client as one serve process would have it: its own
// object, the shared Redis.
func (a *account) process(t *testing.T, mod func(*wxapi.Config)) *wxapi.Client {
	t.Helper()
	cfg := wxapi.Config{AppID: a.appID, AppSecret: testSecret, Base: a.fake.URL(), Redis: a.rdb, Timeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	c, err := wxapi.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func sentTo(s *fakewx.Server, openid string) []fakewx.Sent {
	var out []fakewx.Sent
	for _, m := range s.Sent() {
		if m.To == openid {
			out = append(out, m)
		}
	}
	return out
}

// TestTwoProcessesShareOneToken: with WeChat superseding tokens at once
// (TokenGrace 0), two processes sending concurrently from a cold start
// fetch one token between them and never invalidate each other.
func TestTwoProcessesShareOneToken(t *testing.T) {
	t.Parallel()
	acc := newAccount(t, fakewx.Options{})
	a, b := acc.process(t, nil), acc.process(t, nil)
	ctx := ctxT(t)

	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		c := a
		if i%2 == 1 {
			c = b
		}
		wg.Go(func() { errs <- c.SendText(ctx, "oResident1", "您的事项已登记") })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := acc.fake.TokenIssued(); n != 1 {
		t.Errorf("TokenIssued = %d, want 1", n)
	}
	for _, c := range acc.fake.CallsTo(fakewx.PathCustomSend) {
		if c.ErrCode != 0 {
			t.Errorf("a send was refused with %d: the processes fought over the token", c.ErrCode)
		}
	}
	if n := len(sentTo(acc.fake, "oResident1")); n != 40 {
		t.Errorf("delivered %d, want 40", n)
	}
}

// TestExpiredTokenRefreshedOnceAndRetried: a token that expires mid-run is
// refreshed once, by one process, and each refused call is retried.
func TestExpiredTokenRefreshedOnceAndRetried(t *testing.T) {
	t.Parallel()
	acc := newAccount(t, fakewx.Options{})
	a, b := acc.process(t, nil), acc.process(t, nil)
	ctx := ctxT(t)
	if err := a.SendText(ctx, "oResident1", "第一条"); err != nil {
		t.Fatal(err)
	}
	acc.fake.ExpireTokens()

	var wg sync.WaitGroup
	for i, c := range []*wxapi.Client{a, b, a, b} {
		wg.Go(func() {
			if err := c.SendText(ctx, "oResident1", "过期后"); err != nil {
				t.Errorf("send %d after expiry: %v", i, err)
			}
		})
	}
	wg.Wait()
	if n := acc.fake.TokenIssued(); n != 2 {
		t.Errorf("TokenIssued = %d, want 2 (the first and one refresh)", n)
	}
	var expired, ok int
	for _, c := range acc.fake.CallsTo(fakewx.PathCustomSend) {
		switch c.ErrCode {
		case 42001:
			expired++
		case 0:
			ok++
		default:
			t.Errorf("unexpected errcode %d", c.ErrCode)
		}
	}
	if ok != 5 || expired < 1 || expired > 4 {
		t.Errorf("sends: %d ok, %d refused as expired; want 5 ok and each refused one retried", ok, expired)
	}
}

// TestStaleTokenDoesNotReplaceANewerOne is the compare in compare-and-refresh:
// a process whose call failed with a token another process has since
// replaced takes the new token instead of fetching (and superseding) again.
func TestStaleTokenDoesNotReplaceANewerOne(t *testing.T) {
	t.Parallel()
	acc := newAccount(t, fakewx.Options{})
	a, b := acc.process(t, nil), acc.process(t, nil)
	ctx := ctxT(t)
	old, err := a.AccessToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// b's call is refused with the current token: b replaces it.
	fresh, err := b.TokenReplacing(ctx, old)
	if err != nil || fresh == old {
		t.Fatalf("refresh: %q, %v", fresh, err)
	}
	// a's in-flight call with the old token fails too, later: a must adopt
	// b's token, not fetch a third one that would invalidate b's.
	got, err := a.TokenReplacing(ctx, old)
	if err != nil || got != fresh {
		t.Fatalf("a after b refreshed: %q, %v; want b's token", got, err)
	}
	if n := acc.fake.TokenIssued(); n != 2 {
		t.Errorf("TokenIssued = %d, want 2", n)
	}
	if err := b.SendText(ctx, "oResident1", "x"); err != nil {
		t.Errorf("b's token was invalidated: %v", err)
	}
}

// TestRefreshLockHolderDied: a process that died holding the refresh lock
// delays the others by at most the lock's lifetime.
func TestRefreshLockHolderDied(t *testing.T) {
	t.Parallel()
	acc := newAccount(t, fakewx.Options{})
	c := acc.process(t, func(c *wxapi.Config) { c.LockTTL = 2 * time.Second })
	ctx := ctxT(t)
	if err := acc.rdb.Set(ctx, c.LockKey(), "dead-process", 300*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := c.SendText(ctx, "oResident1", "x"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("sent after %v, before the dead holder's lock expired", d)
	}
	if n := acc.fake.TokenIssued(); n != 1 {
		t.Errorf("TokenIssued = %d, want 1", n)
	}
}

// TestEarlyRefresh: a token within RefreshBefore of expiry is replaced by
// the next call, before WeChat would refuse it.
func TestEarlyRefresh(t *testing.T) {
	t.Parallel()
	clk := testenv.NewClock(time.Now())
	acc := newAccount(t, fakewx.Options{TokenTTL: time.Hour})
	c := acc.process(t, func(c *wxapi.Config) { c.Now = clk.Now })
	ctx := ctxT(t)
	first, err := c.AccessToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(50 * time.Minute) // 10 min left: not due yet
	if tok, _ := c.AccessToken(ctx); tok != first {
		t.Errorf("refreshed with 10 minutes left")
	}
	clk.Add(6 * time.Minute) // 4 min left: due
	second, err := c.AccessToken(ctx)
	if err != nil || second == first {
		t.Errorf("not refreshed with 4 minutes left: %v", err)
	}
	if n := acc.fake.TokenIssued(); n != 2 {
		t.Errorf("TokenIssued = %d, want 2", n)
	}
}

// TestStableToken: stable_token mode shares the token the same way and
// refreshes it once when it expires.
func TestStableToken(t *testing.T) {
	t.Parallel()
	acc := newAccount(t, fakewx.Options{})
	stable := func(c *wxapi.Config) { c.StableToken = true }
	a, b := acc.process(t, stable), acc.process(t, stable)
	ctx := ctxT(t)
	for _, c := range []*wxapi.Client{a, b, a} {
		if err := c.SendText(ctx, "oResident1", "x"); err != nil {
			t.Fatal(err)
		}
	}
	acc.fake.ExpireTokens()
	for _, c := range []*wxapi.Client{b, a} {
		if err := c.SendText(ctx, "oResident1", "y"); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(acc.fake.CallsTo(fakewx.PathStableToken)); n != 2 {
		t.Errorf("stable_token called %d times, want 2", n)
	}
	if n := len(acc.fake.CallsTo(fakewx.PathToken)); n != 0 {
		t.Errorf("/cgi-bin/token called %d times in stable mode", n)
	}
}

func TestCredentialsRefused(t *testing.T) {
	t.Parallel()
	acc := newAccount(t, fakewx.Options{AppSecret: "the-right-secret"})
	c := acc.process(t, nil)
	err := c.SendText(ctxT(t), "oResident1", "x")
	if !errors.Is(err, wxapi.ErrUnauthorized) {
		t.Fatalf("wrong secret: %v, want ErrUnauthorized", err)
	}
	if strings.Contains(err.Error(), testSecret) {
		t.Errorf("error shows the AppSecret: %v", err)
	}
}

func TestOutOfWindowTyped(t *testing.T) {
	t.Parallel()
	acc := newAccount(t, fakewx.Options{})
	c := acc.process(t, nil)
	acc.fake.Set45015("oGone", true)
	err := c.SendText(ctxT(t), "oGone", "x")
	var ae *wxapi.APIError
	if !errors.Is(err, wxapi.ErrOutOfWindow) || !errors.As(err, &ae) || ae.Code != 45015 {
		t.Fatalf("45015: %v", err)
	}
	if errors.Is(err, wxapi.ErrTransient) || errors.Is(err, wxapi.ErrPermanent) {
		t.Errorf("45015 is more than one kind: %v", err)
	}
	acc.fake.FailNextErrCode(fakewx.PathCustomSend, 1, 45047, "")
	if err := c.SendText(ctxT(t), "oResident1", "x"); !errors.Is(err, wxapi.ErrOutOfWindow) {
		t.Errorf("45047: %v, want ErrOutOfWindow", err)
	}
	acc.fake.SetRateLimited(fakewx.PathCustomSend, 1)
	if err := c.SendText(ctxT(t), "oResident1", "x"); !errors.Is(err, wxapi.ErrRateLimited) {
		t.Errorf("45009: %v, want ErrRateLimited", err)
	}
	acc.fake.FailNextErrCode(fakewx.PathCustomSend, 1, -1, "")
	if err := c.SendText(ctxT(t), "oResident1", "x"); !errors.Is(err, wxapi.ErrTransient) {
		t.Errorf("-1: %v, want ErrTransient", err)
	}
	acc.fake.FailNextErrCode(fakewx.PathCustomSend, 1, 43004, "")
	if err := c.SendText(ctxT(t), "oResident1", "x"); !errors.Is(err, wxapi.ErrPermanent) {
		t.Errorf("43004: %v, want ErrPermanent", err)
	}
}

// TestInvalidTokenAfterRetry: a token refused twice in a row is reported,
// not retried forever.
func TestInvalidTokenAfterRetry(t *testing.T) {
	t.Parallel()
	acc := newAccount(t, fakewx.Options{})
	c := acc.process(t, nil)
	acc.fake.FailNextErrCode(fakewx.PathCustomSend, 2, 40001, "invalid credential")
	err := c.SendText(ctxT(t), "oResident1", "x")
	if !errors.Is(err, wxapi.ErrInvalidToken) {
		t.Fatalf("%v, want ErrInvalidToken", err)
	}
	if n := len(acc.fake.CallsTo(fakewx.PathCustomSend)); n != 2 {
		t.Errorf("%d calls, want 2 (one retry)", n)
	}
}

func TestHTTP5xxTransient(t *testing.T) {
	t.Parallel()
	acc := newAccount(t, fakewx.Options{})
	c := acc.process(t, nil)
	ctx := ctxT(t)
	tok, err := c.AccessToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	acc.fake.FailNext(fakewx.PathCustomSend, 1, 503)
	err = c.SendText(ctx, "oResident1", "x")
	var ae *wxapi.APIError
	if !errors.Is(err, wxapi.ErrTransient) || !errors.As(err, &ae) || ae.Status != 503 {
		t.Fatalf("503: %v", err)
	}
	if strings.Contains(err.Error(), tok) || strings.Contains(err.Error(), "access_token") {
		t.Errorf("error shows the token: %v", err)
	}
	acc.fake.SetDown("", true)
	if _, _, err := c.GetMedia(ctx, "any"); !errors.Is(err, wxapi.ErrTransient) {
		t.Errorf("media/get down: %v", err)
	}
}

// TestTimeoutHonoured: a WeChat that does not answer costs Config.Timeout,
// not forever (the SDK's default client has no timeout).
func TestTimeoutHonoured(t *testing.T) {
	t.Parallel()
	acc := newAccount(t, fakewx.Options{})
	c := acc.process(t, func(c *wxapi.Config) { c.Timeout = 200 * time.Millisecond })
	ctx := ctxT(t)
	if _, err := c.AccessToken(ctx); err != nil {
		t.Fatal(err)
	}
	acc.fake.SetLatency(fakewx.PathCustomSend, 5*time.Second)
	acc.fake.SetLatency(fakewx.PathMediaGet, 5*time.Second)
	start := time.Now()
	err := c.SendText(ctx, "oResident1", "x")
	if !errors.Is(err, wxapi.ErrTransient) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow send: %v", err)
	}
	if _, _, err := c.GetMedia(ctx, "any"); !errors.Is(err, wxapi.ErrTransient) {
		t.Fatalf("slow media: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("two timed-out calls took %v", d)
	}
	if strings.Contains(err.Error(), "access_token") {
		t.Errorf("error shows the URL: %v", err)
	}
	// The caller's own cancellation is visible as such.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.SendText(cctx, "oResident1", "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestGetMedia(t *testing.T) {
	t.Parallel()
	acc := newAccount(t, fakewx.Options{})
	c := acc.process(t, nil)
	ctx := ctxT(t)
	id := acc.fake.AddGeneratedPhoto(37.8569, 113.5839)
	data, ct, err := c.GetMedia(ctx, id)
	_, want, _ := acc.fake.Media(id)
	if err != nil || ct != "image/jpeg" || !bytes.Equal(data, want) {
		t.Fatalf("GetMedia: %d bytes %q, %v", len(data), ct, err)
	}
	voice := acc.fake.AddVoice()
	if data, ct, err := c.GetMedia(ctx, voice); err != nil || ct != "audio/amr" || !bytes.HasPrefix(data, []byte("#!AMR")) {
		t.Fatalf("voice: %d bytes %q, %v", len(data), ct, err)
	}

	_, _, err = c.GetMedia(ctx, "no-such-media")
	var ae *wxapi.APIError
	if !errors.Is(err, wxapi.ErrInvalidMedia) || !errors.As(err, &ae) || ae.Code != 40007 {
		t.Errorf("unknown media: %v", err)
	}

	// The PicUrl fallback needs no token.
	if data, ct, err := c.GetURL(ctx, acc.fake.PicURL(id)); err != nil || ct != "image/jpeg" || !bytes.Equal(data, want) {
		t.Errorf("GetURL: %d bytes %q, %v", len(data), ct, err)
	}
	if _, _, err := c.GetURL(ctx, acc.fake.PicURL("gone")); !errors.Is(err, wxapi.ErrPermanent) {
		t.Errorf("GetURL 404: %v", err)
	}
	if _, _, err := c.GetURL(ctx, "file:///etc/passwd"); !errors.Is(err, wxapi.ErrPermanent) {
		t.Errorf("GetURL file: %v", err)
	}

	small := acc.process(t, func(c *wxapi.Config) { c.MaxMedia = 1000 })
	if _, _, err := small.GetMedia(ctx, id); !errors.Is(err, wxapi.ErrTooLarge) {
		t.Errorf("over MaxMedia: %v", err)
	}
}

// TestTemplateClientMsgID: a retried template send with the same
// client_msg_id is delivered once.
func TestTemplateClientMsgID(t *testing.T) {
	t.Parallel()
	acc := newAccount(t, fakewx.Options{})
	c := acc.process(t, nil)
	ctx := ctxT(t)
	id := wxapi.ClientMsgID("notify:case:42:assign:deputy-7")
	if len(id) > 32 {
		t.Fatalf("client_msg_id %q longer than 32", id)
	}
	m := wxapi.TemplateMessage{ToUser: "oDeputy1", TemplateID: "tpl", URL: "https://example.org/c/42",
		Data: map[string]string{"first": "新事项", "keyword1": "暖气不热"}, ClientMsgID: id}
	first, err := c.SendTemplate(ctx, m)
	if err != nil || first == 0 {
		t.Fatalf("template: %d, %v", first, err)
	}
	second, err := c.SendTemplate(ctx, m)
	if err != nil || second != first {
		t.Fatalf("repeat: %d, %v; want the first msgid", second, err)
	}
	sent := sentTo(acc.fake, "oDeputy1")
	if len(sent) != 1 || sent[0].ClientMsgID != id || sent[0].Text != "first: 新事项\nkeyword1: 暖气不热" || sent[0].URL != m.URL {
		t.Errorf("sent = %+v", sent)
	}
}

func TestSendNews(t *testing.T) {
	t.Parallel()
	acc := newAccount(t, fakewx.Options{})
	c := acc.process(t, nil)
	err := c.SendNews(ctxT(t), "oResident1", wxapi.Article{Title: "事项 KQ20261127-0007", Description: "已办结", URL: "https://example.org/c/7"})
	if err != nil {
		t.Fatal(err)
	}
	if s := sentTo(acc.fake, "oResident1"); len(s) != 1 || s[0].MsgType != "news" || !strings.HasPrefix(s[0].Text, "事项 KQ20261127-0007") {
		t.Errorf("sent = %+v", s)
	}
}

// TestRobot posts to a robot by its real qyapi URL: the client's Base
// rewrites the host, with no global URI modifier installed.
func TestRobot(t *testing.T) {
	t.Parallel()
	acc := newAccount(t, fakewx.Options{RobotKeys: []string{"station-key-1"}, RobotPerMinute: 2})
	c := acc.process(t, nil)
	ctx := ctxT(t)
	u := "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=station-key-1"
	if err := c.SendRobot(ctx, u, wxapi.RobotMessage{MsgType: "markdown", Content: "**新事项** 1 件"}); err != nil {
		t.Fatal(err)
	}
	if err := c.SendRobot(ctx, u, wxapi.RobotMessage{MsgType: "text", Content: "请及时处理", MentionedMobiles: []string{"@all"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.SendRobot(ctx, u, wxapi.RobotMessage{MsgType: "text", Content: "third"}); !errors.Is(err, wxapi.ErrRateLimited) {
		t.Errorf("over the robot's limit: %v", err)
	}
	err := c.SendRobot(ctx, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wrong", wxapi.RobotMessage{MsgType: "text", Content: "x"})
	if !errors.Is(err, wxapi.ErrPermanent) {
		t.Errorf("wrong key: %v", err)
	}
	if n := acc.fake.TokenIssued(); n != 0 {
		t.Errorf("the robot fetched %d access tokens", n)
	}
	if got := wxapi.MaskRobotURL(u); strings.Contains(got, "station-key-1") {
		t.Errorf("MaskRobotURL = %q", got)
	}
}

func TestURIModifier(t *testing.T) {
	mod := wxapi.URIModifier("http://127.0.0.1:8090/")
	for in, want := range map[string]string{
		"https://api.weixin.qq.com/cgi-bin/token?x=1":            "http://127.0.0.1:8090/cgi-bin/token?x=1",
		"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k": "http://127.0.0.1:8090/cgi-bin/webhook/send?key=k",
		"https://api.weixin.qq.com.evil.example/cgi-bin/token":   "https://api.weixin.qq.com.evil.example/cgi-bin/token",
		"http://mmbiz.qpic.cn/mmbiz_jpg/abc/0":                   "http://mmbiz.qpic.cn/mmbiz_jpg/abc/0",
		"http://127.0.0.1:8090/cgi-bin/message/custom/send?a=b":  "http://127.0.0.1:8090/cgi-bin/message/custom/send?a=b",
	} {
		if got := mod(in); got != want {
			t.Errorf("modify(%q) = %q, want %q", in, got, want)
		}
	}
	if got := wxapi.URIModifier(wxapi.DefaultBase)("https://qyapi.weixin.qq.com/x"); got != "https://qyapi.weixin.qq.com/x" {
		t.Errorf("the real base rewrote %q", got)
	}
}

func TestRedact(t *testing.T) {
	in := `http get error : uri=http://h/cgi-bin/token?appid=wx1&secret=s3cr3t&grant_type=x , statusCode=500; access_token=abc.def-1 key=k`
	got := wxapi.Redact(in)
	for _, s := range []string{"s3cr3t", "abc.def-1", "key=k"} {
		if strings.Contains(got, s) {
			t.Errorf("Redact left %q in %q", s, got)
		}
	}
}

// Deputies are sent a case's photos and voice: uploaded as temporary media,
// then sent as customer-service image and voice messages; a media id WeChat
// no longer keeps is ErrInvalidMedia, so the caller uploads again.
func TestUploadAndSendMedia(t *testing.T) {
	a := newAccount(t, fakewx.Options{})
	c := a.process(t, nil)
	photo := photos.JPEGWithGPS(64, 48, 37.85, 113.57)
	id, err := c.UploadMedia(ctxT(t), wxapi.MediaImage, "1.jpg", photo)
	if err != nil || id == "" {
		t.Fatalf("UploadMedia: %q, %v", id, err)
	}
	if _, got, ok := a.fake.Media(id); !ok || !bytes.Equal(got, photo) {
		t.Fatalf("WeChat keeps %d bytes under %s, want the %d uploaded", len(got), id, len(photo))
	}
	voice, err := c.UploadMedia(ctxT(t), wxapi.MediaVoice, "1.amr", fakewx.VoiceAMR())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendImage(ctxT(t), "oDeputy", id); err != nil {
		t.Fatal(err)
	}
	if err := c.SendVoice(ctxT(t), "oDeputy", voice); err != nil {
		t.Fatal(err)
	}
	sent := sentTo(a.fake, "oDeputy")
	if len(sent) != 2 || sent[0].MsgType != "image" || sent[1].MsgType != "voice" || !strings.Contains(sent[0].Text, id) {
		t.Errorf("sent %+v", sent)
	}
	if err := c.SendImage(ctxT(t), "oDeputy", "EXPIRED"); !errors.Is(err, wxapi.ErrInvalidMedia) {
		t.Errorf("an unknown media id: %v, want ErrInvalidMedia", err)
	}
}

// TestPicURLOnlyFromWeChatsHosts: a PicUrl is a link inside a message, so
// whoever can send one could make lianxin fetch any address its network
// reaches. It is fetched only from WeChat's image hosts (and the API base's,
// the fake CDN in tests), and no redirect leads elsewhere.
func TestPicURLOnlyFromWeChatsHosts(t *testing.T) {
	t.Parallel()
	acc := newAccount(t, fakewx.Options{})
	ctx := ctxT(t)
	id := acc.fake.AddGeneratedPhoto(37.8569, 113.5839)
	var hits atomic.Int32
	inside := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write([]byte("\xff\xd8\xff internal admin page"))
	}))
	defer inside.Close()
	redirector := httptest.NewServer(http.RedirectHandler(inside.URL+"/admin", http.StatusFound))
	defer redirector.Close()
	redirHost := strings.TrimPrefix(redirector.URL, "http://")

	c := acc.process(t, nil)
	if _, _, err := c.GetURL(ctx, acc.fake.PicURL(id)); err != nil {
		t.Fatalf("a PicUrl on the API base's host: %v", err)
	}
	allowsRedirector := acc.process(t, func(c *wxapi.Config) { c.MediaHosts = []string{"mmbiz.qpic.cn", redirHost} })
	for _, tc := range []struct {
		name   string
		client *wxapi.Client
		url    string
	}{
		{"an address inside the network", c, inside.URL + "/admin"},
		{"the API base's host name on another port", c, "http://127.0.0.1:" + strings.Split(inside.URL, ":")[2] + "/x"},
		{"a redirect from an allowed host to elsewhere", allowsRedirector, redirector.URL + "/pic"},
		{"WeChat's host name inside another host's", c, "http://mmbiz.qpic.cn.example.com/x"},
	} {
		if _, _, err := tc.client.GetURL(ctx, tc.url); !errors.Is(err, wxapi.ErrPermanent) {
			t.Errorf("%s: %v, want a permanent refusal", tc.name, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the address inside the network was fetched %d times", n)
	}
}

// TestWeChatErrmsgIsRedacted: WeChat's errmsg ends up in logs and in the
// outbox's last_error; what it echoes of the request (an openid, a token)
// must not.
func TestWeChatErrmsgIsRedacted(t *testing.T) {
	t.Parallel()
	acc := newAccount(t, fakewx.Options{})
	c := acc.process(t, nil)
	const openid = "oAbCdEfGhIjKlMnOpQrStUvWxYz1"
	acc.fake.FailNextErrCode(fakewx.PathCustomSend, 1, 40003, "invalid openid "+openid+" hint: [x] access_token=SECRETTOKEN rid: 1")
	err := c.SendText(ctxT(t), openid, "您好")
	if err == nil {
		t.Fatal("the send did not fail")
	}
	msg := err.Error()
	for _, secret := range []string{openid, "SECRETTOKEN"} {
		if strings.Contains(msg, secret) {
			t.Errorf("the error %q shows %q", msg, secret)
		}
	}
	if !strings.Contains(msg, "40003") || !strings.Contains(msg, "invalid openid") {
		t.Errorf("the error %q no longer says what went wrong", msg)
	}
}
