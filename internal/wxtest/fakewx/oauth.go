package fakewx

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"time"
)

// Web authorisation (网页授权, snsapi_base). Inside WeChat, a page that
// sends the browser to open.weixin.qq.com/connect/oauth2/authorize gets it
// back at its redirect_uri with a one-time code; the page's server trades
// the code for the user's openid at sns/oauth2/access_token.
//
// The fake's browser side needs to know which WeChat user is "in" the
// browser: PathBrowseAs sets it (a cookie on the fake's own origin) and
// sends the browser on, as tapping a link in a chat would. Codes are valid
// for five minutes and once, as WeChat's are.
const (
	PathOAuthAuthorize = "/connect/oauth2/authorize"
	PathOAuthToken     = "/sns/oauth2/access_token"
	// PathBrowseAs is a control endpoint: /fakewx/as?openid=O&next=URL.
	PathBrowseAs = "/fakewx/as"
)

const browserUserCookie = "fakewx_openid"

// oauthCodeTTL is how long WeChat's web authorisation code works.
const oauthCodeTTL = 5 * time.Minute

type oauthCode struct {
	openid  string
	appid   string
	expires time.Time
	used    bool
}

// BrowseAsURL is the link that opens next in a browser as the WeChat user
// openid would from inside WeChat.
func (s *Server) BrowseAsURL(openid, next string) string {
	return s.URL() + PathBrowseAs + "?openid=" + url.QueryEscape(openid) + "&next=" + url.QueryEscape(next)
}

func (s *Server) serveBrowseAs(w http.ResponseWriter, r *http.Request) {
	openid, next := r.URL.Query().Get("openid"), r.URL.Query().Get("next")
	if openid == "" {
		http.Error(w, "fakewx: openid required", http.StatusBadRequest)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: browserUserCookie, Value: openid, Path: "/", HttpOnly: true})
	if next == "" {
		w.Write([]byte("fakewx: browsing as " + openid + "\n"))
		return
	}
	http.Redirect(w, r, next, http.StatusFound)
}

func (s *Server) serveOAuthAuthorize(r *http.Request, _ []byte) reply {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	switch {
	case q.Get("appid") == "" || (s.opts.AppID != "" && q.Get("appid") != s.opts.AppID):
		return page(http.StatusBadRequest, "appid 参数错误")
	case err != nil || redirect.Scheme == "" || redirect.Host == "":
		return page(http.StatusBadRequest, "redirect_uri 参数错误")
	case q.Get("response_type") != "code":
		return page(http.StatusBadRequest, "response_type 参数错误")
	case q.Get("scope") != "snsapi_base" && q.Get("scope") != "snsapi_userinfo":
		return page(http.StatusBadRequest, "scope 参数错误")
	}
	c, err := r.Cookie(browserUserCookie)
	if err != nil || c.Value == "" {
		return page(http.StatusForbidden, "请在微信客户端打开链接")
	}
	b := make([]byte, 16)
	rand.Read(b)
	code := hex.EncodeToString(b)
	s.mu.Lock()
	if s.oauthCodes == nil {
		s.oauthCodes = map[string]*oauthCode{}
	}
	s.oauthCodes[code] = &oauthCode{openid: c.Value, appid: q.Get("appid"), expires: s.opts.Now().Add(oauthCodeTTL)}
	s.mu.Unlock()
	v := redirect.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	redirect.RawQuery = v.Encode()
	return reply{status: http.StatusFound, header: http.Header{"Location": {redirect.String()}}, contentType: "text/html; charset=utf-8"}
}

func (s *Server) serveOAuthToken(r *http.Request, _ []byte) reply {
	q := r.URL.Query()
	switch {
	case q.Get("grant_type") != "authorization_code":
		return wxError(40002, "invalid grant_type")
	case q.Get("appid") == "":
		return wxError(41002, "appid missing")
	case q.Get("secret") == "":
		return wxError(41004, "appsecret missing")
	case s.opts.AppID != "" && q.Get("appid") != s.opts.AppID:
		return wxError(40013, "invalid appid")
	case s.opts.AppSecret != "" && q.Get("secret") != s.opts.AppSecret:
		return wxError(40125, "invalid appsecret")
	case q.Get("code") == "":
		return wxError(41008, "missing code")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.oauthCodes[q.Get("code")]
	switch {
	case c == nil || c.appid != q.Get("appid") || !s.opts.Now().Before(c.expires):
		return wxError(40029, "invalid code")
	case c.used:
		return wxError(40163, "code been used")
	}
	c.used = true
	return jsonReply(struct {
		AccessToken  string `json:"access_token"`
		ExpiresIn    int    `json:"expires_in"`
		RefreshToken string `json:"refresh_token"`
		OpenID       string `json:"openid"`
		Scope        string `json:"scope"`
	}{newTokenValue(), 7200, newTokenValue(), c.openid, "snsapi_base"})
}

func page(status int, text string) reply {
	return reply{status: status, contentType: "text/html; charset=utf-8", body: []byte("<!doctype html><title>微信</title><p>" + text + "</p>\n")}
}
