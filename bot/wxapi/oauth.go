package wxapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/silenceper/wechat/v2/officialaccount/config"
	wxcontext "github.com/silenceper/wechat/v2/officialaccount/context"
	"github.com/silenceper/wechat/v2/officialaccount/oauth"
)

// DefaultAuthorizeBase is where WeChat's web authorisation page lives.
const DefaultAuthorizeBase = "https://open.weixin.qq.com"

// OAuth is WeChat web authorisation (网页授权) with snsapi_base: the silent
// kind, which tells a page opened inside WeChat the user's openid and
// nothing else. The URL and the answer's shape are the silenceper SDK's
// (officialaccount/oauth); the code exchange is made here against Base, as
// every other call of this package, so the SDK's process-wide URI modifier
// plays no part and each test can run its own fake WeChat.
type OAuth struct {
	AppID, AppSecret string
	// Base is where api.weixin.qq.com requests go (LIANXIN_WECHAT_API_BASE).
	Base string
	// AuthorizeBase is where open.weixin.qq.com is (the fake's URL in tests).
	AuthorizeBase string
	HTTP          *http.Client
}

// AuthorizeURL is where to send a browser to learn who it is; WeChat sends
// it back to redirectURI with ?code=…&state=state.
func (o *OAuth) AuthorizeURL(redirectURI, state string) string {
	sdk := oauth.NewOauth(&wxcontext.Context{Config: &config.Config{AppID: o.AppID}})
	u, _ := sdk.GetRedirectURL(redirectURI, "snsapi_base", state)
	base := strings.TrimRight(o.AuthorizeBase, "/")
	if base == "" {
		return u
	}
	return base + strings.TrimPrefix(u, DefaultAuthorizeBase)
}

// Exchange trades a code from the authorisation redirect for the openid
// (sns/oauth2/access_token). A code works once, for five minutes.
func (o *OAuth) Exchange(ctx context.Context, code string) (string, error) {
	base := strings.TrimRight(o.Base, "/")
	if base == "" {
		base = DefaultBase
	}
	u := base + "/sns/oauth2/access_token?appid=" + url.QueryEscape(o.AppID) + "&secret=" + url.QueryEscape(o.AppSecret) +
		"&code=" + url.QueryEscape(code) + "&grant_type=authorization_code"
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	hc := o.HTTP
	if hc == nil {
		hc = HTTPClient()
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("sns/oauth2/access_token: %w", redactErr(err, o.AppSecret))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("sns/oauth2/access_token: HTTP %d", resp.StatusCode)
	}
	var res oauth.ResAccessToken
	if err := json.Unmarshal(body, &res); err != nil {
		return "", fmt.Errorf("sns/oauth2/access_token: %w", err)
	}
	if res.ErrCode != 0 || res.OpenID == "" {
		return "", fmt.Errorf("sns/oauth2/access_token: errcode %d", res.ErrCode)
	}
	return res.OpenID, nil
}

// redactErr keeps the AppSecret out of an error that quotes the URL.
func redactErr(err error, secret string) error {
	if secret == "" {
		return err
	}
	return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), url.QueryEscape(secret), "***"))
}
