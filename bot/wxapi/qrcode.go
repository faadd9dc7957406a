package wxapi

import (
	"context"
	"errors"
	"net/url"
	"time"

	"github.com/silenceper/wechat/v2/util"
)

// Parametric QR codes (qrcode/create), for deputies' and stations' codes
// (代表码) and one-time binding codes.

// ErrQRLimit: WeChat refused a permanent code because the account has made
// as many as it may (45029; 100 000 permanent codes per account).
var ErrQRLimit = errors.New("wxapi: permanent QR code limit reached")

// QRCode is a code WeChat made: Ticket fetches its image from WeChat, URL
// is what the image encodes (so lianxin draws it itself).
type QRCode struct {
	Ticket  string
	URL     string
	Expires time.Time // zero for a permanent code
}

// CreateQRCode makes a code for a string scene (at most 64 bytes):
// permanent (QR_LIMIT_STR_SCENE) when ttl is 0, otherwise temporary
// (QR_STR_SCENE) for ttl (WeChat allows up to 30 days).
func (c *Client) CreateQRCode(ctx context.Context, scene string, ttl time.Duration) (QRCode, error) {
	const api = "qrcode/create"
	req := map[string]any{
		"action_name": "QR_LIMIT_STR_SCENE",
		"action_info": map[string]any{"scene": map[string]string{"scene_str": scene}},
	}
	if ttl > 0 {
		req["action_name"] = "QR_STR_SCENE"
		req["expire_seconds"] = int64(ttl / time.Second)
	}
	var ans struct {
		Ticket        string `json:"ticket"`
		ExpireSeconds int64  `json:"expire_seconds"`
		URL           string `json:"url"`
	}
	err := c.withToken(ctx, api, func(ctx context.Context, token string) error {
		body, err := util.PostJSONContext(ctx, c.cfg.Base+"/cgi-bin/qrcode/create?access_token="+url.QueryEscape(token), req)
		if err != nil {
			return transportError(ctx, api, err)
		}
		return decodeAnswer(api, body, &ans)
	})
	var ae *APIError
	if errors.As(err, &ae) && ae.Code == 45029 {
		ae.Kind = ErrQRLimit
	}
	if err != nil {
		return QRCode{}, err
	}
	if ans.URL == "" {
		return QRCode{}, &APIError{API: api, Msg: "answer has no url", Kind: ErrTransient}
	}
	q := QRCode{Ticket: ans.Ticket, URL: ans.URL}
	if ans.ExpireSeconds > 0 {
		q.Expires = c.cfg.Now().Add(time.Duration(ans.ExpireSeconds) * time.Second)
	}
	return q, nil
}
