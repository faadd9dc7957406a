package wxapi

import (
	"context"
	"errors"
	"net/url"

	"github.com/silenceper/wechat/v2/util"
)

// A minimal mass send (群发) by tag, for publishing consultations (issue 14).
// The reception days' reminders bring the fuller one (tags, members, the
// quota); this file is written to be replaced by it: ConsultationSendToTag
// is what internal/service's consultation push calls.

// ErrNoMassQuota: WeChat refused a mass send because the account's quota
// of the month is used up (45028). Waiting for next month is the only cure.
var ErrNoMassQuota = errors.New("wxapi: no mass-send quota left this month")

// ErrNoSuchTag: a mass send named a tag the account does not have.
var ErrNoSuchTag = errors.New("wxapi: no such user tag")

// ConsultationSendToTag mass-sends a text to every follower carrying the
// tag named tag ("" : every follower), once per clientMsgID (WeChat
// ignores a repeated clientmsgid), and returns WeChat's msg_id.
func (c *Client) ConsultationSendToTag(ctx context.Context, tag, text, clientMsgID string) (int64, error) {
	filter := map[string]any{"is_to_all": true}
	if tag != "" {
		id, err := c.tagID(ctx, tag)
		if err != nil {
			return 0, err
		}
		filter = map[string]any{"is_to_all": false, "tag_id": id}
	}
	const api = "mass/sendall"
	var ans struct {
		MsgID int64 `json:"msg_id"`
	}
	err := c.withToken(ctx, api, func(ctx context.Context, token string) error {
		body, err := util.PostJSONContext(ctx, c.cfg.Base+"/cgi-bin/message/mass/sendall?access_token="+url.QueryEscape(token), map[string]any{
			"filter": filter, "msgtype": "text", "text": map[string]string{"content": text}, "send_ignore_reprint": 0, "clientmsgid": clientMsgID,
		})
		if err != nil {
			return transportError(ctx, api, err)
		}
		return decodeAnswer(api, body, &ans)
	})
	var ae *APIError
	if errors.As(err, &ae) && ae.Code == 45028 {
		ae.Kind = ErrNoMassQuota
	}
	return ans.MsgID, err
}

// tagID finds the id of the account's user tag with this name.
func (c *Client) tagID(ctx context.Context, name string) (int64, error) {
	const api = "tags/get"
	var ans struct {
		Tags []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"tags"`
	}
	err := c.withToken(ctx, api, func(ctx context.Context, token string) error {
		body, err := util.HTTPGetContext(ctx, c.cfg.Base+"/cgi-bin/tags/get?access_token="+url.QueryEscape(token))
		if err != nil {
			return transportError(ctx, api, err)
		}
		return decodeAnswer(api, body, &ans)
	})
	if err != nil {
		return 0, err
	}
	for _, t := range ans.Tags {
		if t.Name == name {
			return t.ID, nil
		}
	}
	return 0, &APIError{API: api, Msg: "no tag named " + name, Kind: ErrNoSuchTag}
}
