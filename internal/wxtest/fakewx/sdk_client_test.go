// These tests drive the fake through the SDK's own clients
// (officialaccount, work/robot), as production code does. Those packages
// import the SDK's cache package, so the module must require gomemcache,
// go-redis v8, logrus and gjson (indirectly); sdk_test.go covers the SDK's
// HTTP layer with util alone.

package fakewx_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lianxin/lianxin/internal/wxtest/photos"

	"github.com/silenceper/wechat/v2/cache"
	"github.com/silenceper/wechat/v2/officialaccount"
	oaconfig "github.com/silenceper/wechat/v2/officialaccount/config"
	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/silenceper/wechat/v2/util"
	"github.com/silenceper/wechat/v2/work"
	workconfig "github.com/silenceper/wechat/v2/work/config"
	"github.com/silenceper/wechat/v2/work/robot"

	"github.com/lianxin/lianxin/internal/wxtest/fakewx"
)

func account(stable bool) *officialaccount.OfficialAccount {
	return officialaccount.NewOfficialAccount(&oaconfig.Config{
		AppID: testAppID, AppSecret: testSecret, Cache: cache.NewMemory(), UseStableAK: stable,
	})
}

// TestSDKTalksToFake drives the fake through the silenceper SDK exactly as the
// production client does: token, customer-service text, template, media.
func TestSDKTalksToFake(t *testing.T) {
	s := start(t, fakewx.Options{})
	useFake(t, s)
	oa := account(false)

	tok, err := oa.GetAccessToken()
	if err != nil {
		t.Fatalf("SDK token: %v", err)
	}
	if err := oa.GetCustomerMessageManager().Send(message.NewCustomerTextMessage("oResident1", "您反映的暖气问题已登记，编号 2024-0042")); err != nil {
		t.Fatalf("SDK custom send: %v", err)
	}
	msgID, err := oa.GetTemplate().Send(&message.TemplateMessage{
		ToUser: "oDeputy1", TemplateID: "tpl-new-case", ClientMsgID: "case-42-assign",
		Data: map[string]*message.TemplateDataItem{"first": {Value: "新事项待处理"}, "keyword1": {Value: "暖气不热"}},
	})
	if err != nil || msgID == 0 {
		t.Fatalf("SDK template send: %d, %v", msgID, err)
	}

	sent := s.Sent()
	if len(sent) != 2 || sent[0].Kind != fakewx.KindCustom || sent[0].To != "oResident1" ||
		sent[0].Text != "您反映的暖气问题已登记，编号 2024-0042" || sent[1].MsgID != msgID {
		t.Fatalf("sent = %+v", sent)
	}
	// The SDK cached the token: one issuance for three calls.
	if n := s.TokenIssued(); n != 1 {
		t.Errorf("TokenIssued = %d, want 1", n)
	}
	if q := s.CallsTo(fakewx.PathCustomSend)[0].Query.Get("access_token"); q != tok {
		t.Errorf("custom send used token %q, SDK holds %q", q, tok)
	}

	// Media: the SDK only builds the URL (with the real host, unmodified);
	// fetching through util.HTTPGet applies the modifier, and
	// util.HandleFileResponse tells JSON errors from bytes.
	photo := s.AddGeneratedPhoto(37.8569, 113.5839)
	mediaURL, err := oa.GetMaterial().GetMediaURL(photo)
	if err != nil || !strings.HasPrefix(mediaURL, "https://api.weixin.qq.com/") {
		t.Fatalf("GetMediaURL = %q, %v", mediaURL, err)
	}
	raw, err := util.HTTPGetContext(context.Background(), mediaURL)
	if err != nil {
		t.Fatal(err)
	}
	data, err := util.HandleFileResponse(raw, "MediaGet")
	if err != nil || !photos.HasGPS(data) {
		t.Fatalf("media: %d bytes, err %v", len(data), err)
	}
	missing, _ := oa.GetMaterial().GetMediaURL("no-such-media")
	raw, err = util.HTTPGetContext(context.Background(), missing)
	if err != nil {
		t.Fatal(err)
	}
	var ce *util.CommonError
	if _, err := util.HandleFileResponse(raw, "MediaGet"); !errors.As(err, &ce) || ce.ErrCode != 40007 {
		t.Fatalf("unknown media through the SDK: %v", err)
	}

	// An error code reaches the caller as an error carrying it.
	s.Set45015("oResident1", true)
	err = oa.GetCustomerMessageManager().Send(message.NewCustomerTextMessage("oResident1", "x"))
	if err == nil || !strings.Contains(err.Error(), "errcode=45015") {
		t.Errorf("45015 through the SDK: %v", err)
	}
}

// TestSDKTwoProcessesFightOverToken shows why the deployment must share one
// token: two SDK instances with their own caches (two processes) each fetch a
// token, and with WeChat superseding the older one the first process's sends
// fail with 40001 until its cache expires — the SDK never refreshes on error.
func TestSDKTwoProcessesFightOverToken(t *testing.T) {
	s := start(t, fakewx.Options{})
	useFake(t, s)
	a, b := account(false), account(false)
	msg := message.NewCustomerTextMessage("oResident1", "x")

	if err := a.GetCustomerMessageManager().Send(msg); err != nil {
		t.Fatal(err)
	}
	if err := b.GetCustomerMessageManager().Send(msg); err != nil {
		t.Fatal(err)
	}
	err := a.GetCustomerMessageManager().Send(msg)
	if err == nil || !strings.Contains(err.Error(), "errcode=40001") {
		t.Fatalf("first process after being superseded: %v", err)
	}

	// The stable token does not fight: both processes get the same one.
	c, d := account(true), account(true)
	for _, oa := range []*officialaccount.OfficialAccount{c, d, c} {
		if err := oa.GetCustomerMessageManager().Send(msg); err != nil {
			t.Fatalf("stable token: %v", err)
		}
	}
	if n := len(s.CallsTo(fakewx.PathStableToken)); n != 2 {
		t.Errorf("stable_token called %d times, want once per process", n)
	}
}

// TestSDKRobot sends to a WeCom group robot through the SDK. Note that
// RobotBroadcast reports a non-zero errcode only in the returned struct, with
// a nil error.
func TestSDKRobot(t *testing.T) {
	s := start(t, fakewx.Options{RobotKeys: []string{"station-key"}})
	useFake(t, s)
	bot := work.NewWork(&workconfig.Config{CorpID: "ww0", Cache: cache.NewMemory()}).GetRobot()

	var text robot.WebhookSendTextOption
	text.MsgType = "text"
	text.Text.Content = "平潭街街道联络站：今日新登记 3 件"
	if info, err := bot.RobotBroadcast("station-key", text); err != nil || info.ErrCode != 0 {
		t.Fatalf("robot text: %+v, %v", info, err)
	}
	var md robot.WebhookSendMarkdownOption
	md.MsgType = "markdown"
	md.Markdown.Content = "**超时未办结** <font color=\"warning\">1</font> 件"
	if info, err := bot.RobotBroadcast("station-key", md); err != nil || info.ErrCode != 0 {
		t.Fatalf("robot markdown: %+v, %v", info, err)
	}
	info, err := bot.RobotBroadcast("wrong-key", text)
	if err != nil || info.ErrCode != 93000 {
		t.Errorf("wrong key: %+v, %v (the SDK returns a nil error here)", info, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.WaitSent(ctx, func(m []fakewx.Sent) bool { return len(m) == 2 }); err != nil {
		t.Fatal(err)
	}
	if m := s.Sent()[1]; m.Kind != fakewx.KindRobot || m.MsgType != "markdown" || m.To != "station-key" {
		t.Errorf("sent = %+v", m)
	}
}
