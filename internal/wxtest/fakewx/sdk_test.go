package fakewx_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lianxin/lianxin/internal/wxtest/photos"

	"github.com/silenceper/wechat/v2/util"

	"github.com/lianxin/lianxin/internal/wxtest/fakewx"
)

// useFake points the SDK's global URI modifier at s for one test. The
// modifier is process-wide, so tests calling this must not be parallel (and
// parallel tests must not use the SDK); parallel tests only resume after every
// sequential test has finished, by which time the modifier is restored.
func useFake(t *testing.T, s *fakewx.Server) {
	t.Helper()
	util.SetURIModifier(s.URIModifier())
	t.Cleanup(func() { util.SetURIModifier(nil) })
}

// The SDK's request URLs and answer shapes, copied from v2.1.10
// (credential/default_access_token.go, officialaccount/message/*.go,
// officialaccount/material/media.go, work/robot/robot.go). This test pins the
// HTTP layer every SDK client goes through, util alone; sdk_client_test.go
// uses the client packages themselves.
const (
	sdkAccessTokenURL = "https://api.weixin.qq.com/cgi-bin/token?grant_type=client_credential&appid=%s&secret=%s"
	sdkStableTokenURL = "https://api.weixin.qq.com/cgi-bin/stable_token"
	sdkCustomSendURL  = "https://api.weixin.qq.com/cgi-bin/message/custom/send"
	sdkMediaGetURL    = "https://api.weixin.qq.com/cgi-bin/media/get"
	sdkRobotURL       = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=%s"
)

type sdkResAccessToken struct {
	util.CommonError

	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

// TestSDKHTTPLayerTalksToFake goes through the SDK's HTTP functions, URI
// modifier and error decoding, with the SDK's exact URLs and bodies: the path
// every SDK client call takes.
func TestSDKHTTPLayerTalksToFake(t *testing.T) {
	s := start(t, fakewx.Options{})
	useFake(t, s)
	ctx := context.Background()

	// credential.GetTokenFromServerContext
	body, err := util.HTTPGetContext(ctx, fmt.Sprintf(sdkAccessTokenURL, testAppID, testSecret))
	if err != nil {
		t.Fatal(err)
	}
	var tok sdkResAccessToken
	if err := json.Unmarshal(body, &tok); err != nil || tok.ErrCode != 0 || tok.AccessToken == "" || tok.ExpiresIn != 7200 {
		t.Fatalf("token answer %s: %v", body, err)
	}

	// StableAccessToken.GetAccessTokenDirectly
	body, err = util.PostJSONContext(ctx, sdkStableTokenURL, map[string]any{
		"grant_type": "client_credential", "appid": testAppID, "secret": testSecret, "force_refresh": false,
	})
	var stable sdkResAccessToken
	if err != nil || json.Unmarshal(body, &stable) != nil || stable.ErrCode != 0 || stable.AccessToken == "" {
		t.Fatalf("stable token %s: %v", body, err)
	}

	// message.Manager.Send with NewCustomerTextMessage's JSON.
	send := func(token, openid, text string) error {
		msg := map[string]any{"touser": openid, "msgtype": "text", "text": map[string]string{"content": text}}
		body, err := util.PostJSON(sdkCustomSendURL+"?access_token="+token, msg)
		if err != nil {
			return err
		}
		return util.DecodeWithCommonError(body, "CustomSend")
	}
	if err := send(tok.AccessToken, "oResident1", "您反映的暖气问题已登记，编号 2024-0042"); err != nil {
		t.Fatal(err)
	}
	if sent := s.Sent(); len(sent) != 1 || sent[0].Text != "您反映的暖气问题已登记，编号 2024-0042" {
		t.Fatalf("sent = %+v", sent)
	}
	var ce *util.CommonError
	if err := send("stale", "oResident1", "x"); !errors.As(err, &ce) || ce.ErrCode != 40001 {
		t.Errorf("stale token: %v", err)
	}

	// Material.GetMediaURL builds the URL with the real host; HTTPGet applies
	// the modifier; HandleFileResponse tells JSON errors from file bytes.
	id := s.AddGeneratedPhoto(37.8569, 113.5839)
	body, err = util.HTTPGetContext(ctx, fmt.Sprintf("%s?access_token=%s&media_id=%s", sdkMediaGetURL, tok.AccessToken, id))
	if err != nil {
		t.Fatal(err)
	}
	if data, err := util.HandleFileResponse(body, "MediaGet"); err != nil || !photos.HasGPS(data) {
		t.Fatalf("media: %d bytes, %v", len(data), err)
	}
	body, err = util.HTTPGetContext(ctx, fmt.Sprintf("%s?access_token=%s&media_id=gone", sdkMediaGetURL, tok.AccessToken))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := util.HandleFileResponse(body, "MediaGet"); !errors.As(err, &ce) || ce.ErrCode != 40007 {
		t.Errorf("unknown media: %v", err)
	}

	// robot.Client.RobotBroadcast on the qyapi host.
	body, err = util.PostJSON(fmt.Sprintf(sdkRobotURL, "station-key"), map[string]any{
		"msgtype": "markdown", "markdown": map[string]string{"content": "**新事项** 3 件"},
	})
	if err != nil || util.DecodeWithCommonError(body, "Robot") != nil {
		t.Fatalf("robot %s: %v", body, err)
	}

	// A transport fault is an SDK error without an errcode: the SDK does not
	// read non-200 bodies.
	s.FailNext(fakewx.PathCustomSend, 1, 503)
	if err := send(tok.AccessToken, "oResident1", "x"); err == nil || !strings.Contains(err.Error(), "statusCode=503") {
		t.Errorf("503: %v", err)
	}
}
