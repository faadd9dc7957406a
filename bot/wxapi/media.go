package wxapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
)

// GetMedia downloads a user's temporary media (a photo or voice message they
// sent) with /cgi-bin/media/get, and returns its bytes and Content-Type.
// WeChat keeps such media 3 days; after that, or for an id it never issued,
// the error is ErrInvalidMedia. A file over Config.MaxMedia is ErrTooLarge.
//
// The request is built here rather than through the SDK's
// Material.GetMediaURL, which ignores the URI modifier, and sent with our own
// http.Request because the SDK's helpers drop the Content-Type.
func (c *Client) GetMedia(ctx context.Context, mediaID string) (data []byte, contentType string, err error) {
	const api = "media/get"
	if mediaID == "" {
		return nil, "", codeError(api, 41006, "media_id missing")
	}
	err = c.withToken(ctx, api, func(ctx context.Context, token string) error {
		q := url.Values{"access_token": {token}, "media_id": {mediaID}}
		data, contentType, err = c.download(ctx, api, c.cfg.Base+"/cgi-bin/media/get?"+q.Encode())
		if err != nil {
			return err
		}
		// Errors come back as JSON with HTTP 200. No photo or voice format
		// starts with '{', so that is the test, whatever the Content-Type.
		if looksJSON(data, contentType) {
			var ans struct {
				ErrCode  int    `json:"errcode"`
				ErrMsg   string `json:"errmsg"`
				VideoURL string `json:"video_url"`
			}
			if err := json.Unmarshal(data, &ans); err == nil {
				if ans.ErrCode != 0 {
					return codeError(api, ans.ErrCode, ans.ErrMsg)
				}
				if ans.VideoURL != "" {
					return &APIError{API: api, Msg: "WeChat answered a video link, which is not downloaded", Kind: ErrPermanent}
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return data, contentType, nil
}

// GetURL downloads a PicUrl, the CDN link WeChat puts in an image message:
// the fallback when media/get fails. It needs no token. Any answer but 200
// is an error (404: ErrPermanent; 5xx: ErrTransient). Only WeChat's media
// hosts are asked (Config.MediaHosts), and a redirect is followed only to
// one of them; anything else is ErrPermanent.
func (c *Client) GetURL(ctx context.Context, picURL string) (data []byte, contentType string, err error) {
	const api = "picurl"
	u, err := url.Parse(picURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, "", &APIError{API: api, Msg: "not an http(s) URL", Kind: ErrPermanent}
	}
	if !c.mediaHost(u) {
		return nil, "", &APIError{API: api, Msg: fmt.Sprintf("%s is not one of WeChat's media hosts (LIANXIN_WECHAT_MEDIA_HOSTS)", u.Host), Kind: ErrPermanent}
	}
	cctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	hc := *c.httpClient()
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		switch {
		case len(via) >= 5:
			return fmt.Errorf("%w: more than 5", errRedirect)
		case !c.mediaHost(req.URL) || (req.URL.Scheme != "https" && req.URL.Scheme != "http"):
			return fmt.Errorf("%w to %s, which is not one of WeChat's media hosts", errRedirect, req.URL.Host)
		}
		return nil
	}
	return c.downloadWith(cctx, &hc, api, picURL)
}

// errRedirect is a redirect GetURL refused to follow.
var errRedirect = errors.New("redirect refused")

func (c *Client) mediaHost(u *url.URL) bool {
	return c.mediaHosts[strings.ToLower(u.Host)] || c.mediaHosts[strings.ToLower(u.Hostname())]
}

func looksJSON(data []byte, contentType string) bool {
	t := bytes.TrimLeft(data, " \t\r\n")
	return (len(t) > 0 && t[0] == '{') || strings.Contains(contentType, "json")
}

// download GETs u, refusing bodies over MaxMedia without reading them whole.
func (c *Client) download(ctx context.Context, api, u string) ([]byte, string, error) {
	return c.downloadWith(ctx, c.httpClient(), api, u)
}

func (c *Client) downloadWith(ctx context.Context, hc *http.Client, api, u string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", &APIError{API: api, Msg: Redact(err.Error()), Kind: ErrPermanent}
	}
	resp, err := hc.Do(req)
	if errors.Is(err, errRedirect) {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, "", &APIError{API: api, Msg: err.Error(), Kind: ErrPermanent}
	}
	if err != nil {
		return nil, "", transportError(ctx, api, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// Drain a little so the connection can be reused.
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, "", statusError(api, resp.StatusCode)
	}
	max := c.cfg.MaxMedia
	if resp.ContentLength > max {
		return nil, "", tooLarge(api, max)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, "", transportError(ctx, api, err)
	}
	if int64(len(data)) > max {
		return nil, "", tooLarge(api, max)
	}
	contentType := resp.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(contentType); err == nil {
		contentType = mt
	}
	return data, contentType, nil
}

func tooLarge(api string, max int64) *APIError {
	return &APIError{API: api, Msg: fmt.Sprintf("larger than %d bytes", max), Kind: ErrTooLarge}
}

// Temporary media types for UploadMedia.
const (
	MediaImage = "image"
	MediaVoice = "voice"
)

// UploadMedia uploads a file as temporary media (/cgi-bin/media/upload) and
// returns its media_id, which customer-service image and voice messages
// send. WeChat keeps temporary media 3 days (lianxin.MediaLifetime).
// mediaType is MediaImage (JPEG, PNG, GIF; 10 MB) or MediaVoice (AMR, MP3;
// 2 MB, 60 s); filename's extension tells WeChat the format.
func (c *Client) UploadMedia(ctx context.Context, mediaType, filename string, data []byte) (mediaID string, err error) {
	const api = "media/upload"
	var body bytes.Buffer
	form := multipart.NewWriter(&body)
	part, err := form.CreateFormFile("media", filename)
	if err != nil {
		return "", &APIError{API: api, Msg: err.Error(), Kind: ErrPermanent}
	}
	part.Write(data)
	if err := form.Close(); err != nil {
		return "", &APIError{API: api, Msg: err.Error(), Kind: ErrPermanent}
	}
	err = c.withToken(ctx, api, func(ctx context.Context, token string) error {
		q := url.Values{"access_token": {token}, "type": {mediaType}}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.Base+"/cgi-bin/media/upload?"+q.Encode(), bytes.NewReader(body.Bytes()))
		if err != nil {
			return &APIError{API: api, Msg: Redact(err.Error()), Kind: ErrPermanent}
		}
		req.Header.Set("Content-Type", form.FormDataContentType())
		resp, err := c.httpClient().Do(req)
		if err != nil {
			return transportError(ctx, api, err)
		}
		defer resp.Body.Close()
		answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if err != nil {
			return transportError(ctx, api, err)
		}
		if resp.StatusCode != http.StatusOK {
			return statusError(api, resp.StatusCode)
		}
		var ans struct {
			MediaID string `json:"media_id"`
		}
		if err := decodeAnswer(api, answer, &ans); err != nil {
			return err
		}
		if ans.MediaID == "" {
			return &APIError{API: api, Msg: "answer has no media_id", Kind: ErrTransient}
		}
		mediaID = ans.MediaID
		return nil
	})
	return mediaID, err
}
