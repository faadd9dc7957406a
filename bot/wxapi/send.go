package wxapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"

	"github.com/silenceper/wechat/v2/util"
)

// The SDK's message managers return fmt errors that hide the errcode, so the
// sends are posted here with util.PostJSONContext and decoded with
// util.CommonError.

// SendText sends a customer-service text message. It fails with
// ErrOutOfWindow when the user has not written in the last 48 hours.
func (c *Client) SendText(ctx context.Context, openid, text string) error {
	return c.sendCustom(ctx, map[string]any{
		"touser": openid, "msgtype": "text", "text": map[string]string{"content": text},
	})
}

// SendImage sends a customer-service image message: temporary media
// uploaded with UploadMedia. Like SendText it needs the 48-hour window; a
// media id WeChat no longer keeps is ErrInvalidMedia.
func (c *Client) SendImage(ctx context.Context, openid, mediaID string) error {
	return c.sendCustom(ctx, map[string]any{
		"touser": openid, "msgtype": "image", "image": map[string]string{"media_id": mediaID},
	})
}

// SendVoice sends a customer-service voice message (see SendImage).
func (c *Client) SendVoice(ctx context.Context, openid, mediaID string) error {
	return c.sendCustom(ctx, map[string]any{
		"touser": openid, "msgtype": "voice", "voice": map[string]string{"media_id": mediaID},
	})
}

// Article is one customer-service news article (WeChat sends one per message).
type Article struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	URL         string `json:"url,omitempty"`
	PicURL      string `json:"picurl,omitempty"`
}

// SendNews sends a customer-service news message: a card that opens URL.
func (c *Client) SendNews(ctx context.Context, openid string, a Article) error {
	return c.sendCustom(ctx, map[string]any{
		"touser": openid, "msgtype": "news", "news": map[string]any{"articles": []Article{a}},
	})
}

func (c *Client) sendCustom(ctx context.Context, msg map[string]any) error {
	const api = "custom/send"
	return c.withToken(ctx, api, func(ctx context.Context, token string) error {
		body, err := util.PostJSONContext(ctx, c.cfg.Base+"/cgi-bin/message/custom/send?access_token="+url.QueryEscape(token), msg)
		if err != nil {
			return transportError(ctx, api, err)
		}
		return decodeAnswer(api, body, nil)
	})
}

// TemplateMessage is a template message: what reaches a user outside the
// 48-hour customer-service window.
type TemplateMessage struct {
	ToUser     string
	TemplateID string
	URL        string            // the page the message opens; optional
	Data       map[string]string // field name → value (first, keyword1, ..., remark)
	// ClientMsgID makes the send idempotent: WeChat delivers a repeated
	// touser+client_msg_id once (for 10 minutes). Use ClientMsgID(idemKey).
	ClientMsgID string
}

// SendTemplate sends a template message and returns WeChat's msgid.
func (c *Client) SendTemplate(ctx context.Context, m TemplateMessage) (msgID int64, err error) {
	const api = "template/send"
	type item struct {
		Value string `json:"value"`
	}
	data := make(map[string]item, len(m.Data))
	for k, v := range m.Data {
		data[k] = item{v}
	}
	req := map[string]any{"touser": m.ToUser, "template_id": m.TemplateID, "data": data}
	if m.URL != "" {
		req["url"] = m.URL
	}
	if m.ClientMsgID != "" {
		req["client_msg_id"] = m.ClientMsgID
	}
	err = c.withToken(ctx, api, func(ctx context.Context, token string) error {
		body, err := util.PostJSONContext(ctx, c.cfg.Base+"/cgi-bin/message/template/send?access_token="+url.QueryEscape(token), req)
		if err != nil {
			return transportError(ctx, api, err)
		}
		var ans struct {
			MsgID int64 `json:"msgid"`
		}
		if err := decodeAnswer(api, body, &ans); err != nil {
			return err
		}
		msgID = ans.MsgID
		return nil
	})
	return msgID, err
}

// RobotMessage is a WeCom group-robot post: MsgType "text" or "markdown".
type RobotMessage struct {
	MsgType string
	Content string
	// MentionedMobiles @-mentions group members by phone (text only);
	// "@all" mentions everyone.
	MentionedMobiles []string
}

// SendRobot posts to a WeCom group robot. webhookURL is the robot's full
// address (https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...), which
// is a secret: log it only through MaskRobotURL. The robot needs no access
// token; 45009 (over 20 a minute) is ErrRateLimited.
func (c *Client) SendRobot(ctx context.Context, webhookURL string, m RobotMessage) error {
	const api = "robot"
	var req map[string]any
	switch m.MsgType {
	case "text":
		text := map[string]any{"content": m.Content}
		if len(m.MentionedMobiles) > 0 {
			text["mentioned_mobile_list"] = m.MentionedMobiles
		}
		req = map[string]any{"msgtype": "text", "text": text}
	case "markdown":
		req = map[string]any{"msgtype": "markdown", "markdown": map[string]string{"content": m.Content}}
	default:
		return &APIError{API: api, Msg: "unsupported robot message type " + m.MsgType, Kind: ErrPermanent}
	}
	u, err := url.Parse(webhookURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return &APIError{API: api, Msg: "not a robot webhook URL", Kind: ErrPermanent}
	}
	cctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	body, err := util.PostJSONContext(cctx, c.rewrite(webhookURL), req)
	if err != nil {
		return transportError(cctx, api, err)
	}
	return decodeAnswer(api, body, nil)
}

// MaskRobotURL shows which robot a webhook URL is without its key.
func MaskRobotURL(webhookURL string) string {
	u, err := url.Parse(webhookURL)
	if err != nil {
		return "***"
	}
	key := u.Query().Get("key")
	if len(key) > 8 {
		key = key[:4] + "***"
	} else {
		key = "***"
	}
	return u.Host + u.Path + "?key=" + key
}

// decodeAnswer reads WeChat's JSON answer: errcode 0 decodes into out (when
// not nil), anything else becomes an APIError.
func decodeAnswer(api string, body []byte, out any) error {
	var ce *util.CommonError
	err := util.DecodeWithCommonError(body, api)
	switch {
	case errors.As(err, &ce):
		return codeError(api, int(ce.ErrCode), strings.TrimSpace(ce.ErrMsg))
	case err != nil:
		// A 200 that is not WeChat's JSON: a captive proxy or a truncated
		// answer. Worth another try.
		return &APIError{API: api, Msg: "answer is not JSON", Kind: ErrTransient}
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return &APIError{API: api, Msg: "answer is not the JSON expected", Kind: ErrTransient}
		}
	}
	return nil
}
