package wxapi

import (
	"context"
	"errors"
	"net/url"
	"sync"

	"github.com/silenceper/wechat/v2/util"
)

// Mass sends (群发) and user tags (标签), the machinery every practice
// pushes through (consultations, reception reminders): the residents of a
// station are given its tag (tags/create once, then tags/members/
// batchtagging), and a mass send goes to a tag (message/mass/sendall with
// filter.tag_id) or to every follower.

// ErrNoMassQuota: WeChat refused a mass send because the account's quota
// of the month is used up (45028). Waiting for next month is the only cure.
var ErrNoMassQuota = errors.New("wxapi: no mass-send quota left this month")

// ErrNoSuchTag: a mass send named a tag the account does not have.
var ErrNoSuchTag = errors.New("wxapi: no such user tag")

// ErrTooManyTags: the account has its 100 tags, or the follower their 20
// (45056, 45059): a person has to tidy the tags in the back office.
var ErrTooManyTags = errors.New("wxapi: too many user tags")

// tagCache remembers tag ids by name: they never change once created.
type tagCache struct {
	mu  sync.Mutex
	ids map[string]int64
}

func (c *Client) tags() *tagCache {
	c.tagIDs.mu.Lock()
	if c.tagIDs.ids == nil {
		c.tagIDs.ids = map[string]int64{}
	}
	c.tagIDs.mu.Unlock()
	return &c.tagIDs
}

// SendToTag mass-sends a text to every follower carrying the tag named tag
// ("" : every follower), once per clientMsgID (WeChat refuses a repeated
// clientmsgid with 45065, which means it was sent: no error), and returns
// WeChat's msg_id.
func (c *Client) SendToTag(ctx context.Context, tag, text, clientMsgID string) (int64, error) {
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
	switch {
	case errors.As(err, &ae) && ae.Code == 45028:
		ae.Kind = ErrNoMassQuota
	case errors.As(err, &ae) && ae.Code == 45065:
		return 0, nil // sent before under this clientmsgid
	}
	return ans.MsgID, err
}

// ConsultationSendToTag is SendToTag under the name the consultations'
// stand-in had.
//
// Deprecated: use SendToTag.
func (c *Client) ConsultationSendToTag(ctx context.Context, tag, text, clientMsgID string) (int64, error) {
	return c.SendToTag(ctx, tag, text, clientMsgID)
}

// EnsureTag returns the id of the account's tag with this name, creating
// it when it does not exist yet.
func (c *Client) EnsureTag(ctx context.Context, name string) (int64, error) {
	id, err := c.tagID(ctx, name)
	if !errors.Is(err, ErrNoSuchTag) {
		return id, err
	}
	const api = "tags/create"
	var ans struct {
		Tag struct {
			ID int64 `json:"id"`
		} `json:"tag"`
	}
	err = c.withToken(ctx, api, func(ctx context.Context, token string) error {
		body, err := util.PostJSONContext(ctx, c.cfg.Base+"/cgi-bin/tags/create?access_token="+url.QueryEscape(token),
			map[string]any{"tag": map[string]string{"name": name}})
		if err != nil {
			return transportError(ctx, api, err)
		}
		return decodeAnswer(api, body, &ans)
	})
	var ae *APIError
	switch {
	case errors.As(err, &ae) && ae.Code == 45157:
		// Created meanwhile by another process: read it back.
		c.forgetTags()
		return c.tagID(ctx, name)
	case errors.As(err, &ae) && ae.Code == 45056:
		ae.Kind = ErrTooManyTags
		return 0, err
	case err != nil:
		return 0, err
	}
	tc := c.tags()
	tc.mu.Lock()
	tc.ids[name] = ans.Tag.ID
	tc.mu.Unlock()
	return ans.Tag.ID, nil
}

// TagUsers gives followers (at most 50 a call) the tag.
func (c *Client) TagUsers(ctx context.Context, tagID int64, openids []string) error {
	const api = "tags/members/batchtagging"
	err := c.withToken(ctx, api, func(ctx context.Context, token string) error {
		body, err := util.PostJSONContext(ctx, c.cfg.Base+"/cgi-bin/tags/members/batchtagging?access_token="+url.QueryEscape(token),
			map[string]any{"openid_list": openids, "tagid": tagID})
		if err != nil {
			return transportError(ctx, api, err)
		}
		return decodeAnswer(api, body, nil)
	})
	var ae *APIError
	if errors.As(err, &ae) && ae.Code == 45059 {
		ae.Kind = ErrTooManyTags
	}
	return err
}

func (c *Client) forgetTags() {
	tc := c.tags()
	tc.mu.Lock()
	clear(tc.ids)
	tc.mu.Unlock()
}

// tagID finds the id of the account's user tag with this name.
func (c *Client) tagID(ctx context.Context, name string) (int64, error) {
	tc := c.tags()
	tc.mu.Lock()
	id, ok := tc.ids[name]
	tc.mu.Unlock()
	if ok {
		return id, nil
	}
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
	tc.mu.Lock()
	defer tc.mu.Unlock()
	for _, t := range ans.Tags {
		tc.ids[t.Name] = t.ID
	}
	if id, ok := tc.ids[name]; ok {
		return id, nil
	}
	return 0, &APIError{API: api, Msg: "no tag named " + name, Kind: ErrNoSuchTag}
}
