// Package wxapi is lianxin's client for the WeChat official-account API and
// the WeCom group-robot webhook: the access token every serve process shares
// through Redis, the sends later issues use (customer-service text and news,
// template messages with client_msg_id, robot text and markdown) and media
// downloads, with every failure typed so callers can decide (see ErrTransient
// and its siblings).
//
// It is built on the silenceper/wechat SDK's HTTP layer (util.HTTPGetContext,
// util.PostJSONContext, util.CommonError), not on the SDK's account objects:
// those cache the token per process (so two processes supersede each other's
// token), never refresh on 40001, hide errcodes in fmt errors, and build some
// URLs past the URI modifier.
//
// # Where requests go
//
// The SDK's URI modifier and HTTP client (util.SetURIModifier,
// util.DefaultHTTPClient) are process globals. cmd sets them once at start,
// to URIModifier(LIANXIN_WECHAT_API_BASE) and HTTPClient(). This package does
// not depend on them being set for correctness: a Client builds every URL from
// its own Config.Base (the real API by default) and rewrites WeChat hosts in
// robot URLs itself, so the global modifier, when installed, finds nothing
// left to rewrite. That is what lets each test run its own fake WeChat
// (bot/fakewx) on its own port, in parallel, with no global state to fight
// over. Media downloads need the answer's Content-Type, which the SDK's
// helpers drop, so they use Config.HTTPClient (util.DefaultHTTPClient when
// nil) directly; per-call deadlines come from Config.Timeout either way, so
// the SDK's timeout-less default client cannot hang a call.
package wxapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/silenceper/wechat/v2/util"
)

// DefaultBase is the real WeChat API.
const DefaultBase = "https://api.weixin.qq.com"

// The real hosts the SDK and the robot webhook URLs use.
const (
	wechatHost = "https://api.weixin.qq.com"
	weComHost  = "https://qyapi.weixin.qq.com"
)

// Defaults for Config's zero fields.
const (
	DefaultTimeout       = 15 * time.Second
	DefaultMaxMedia      = 10 << 20
	DefaultRefreshBefore = 5 * time.Minute
	DefaultLockTTL       = 20 * time.Second
	DefaultWaitToken     = 25 * time.Second
)

// Config configures a Client.
type Config struct {
	AppID, AppSecret string

	// Base is where requests for api.weixin.qq.com and
	// qyapi.weixin.qq.com go (LIANXIN_WECHAT_API_BASE): the real API
	// (DefaultBase, the default), an egress proxy, or a fake.
	Base string

	// StableToken uses POST /cgi-bin/stable_token instead of /cgi-bin/token.
	StableToken bool

	// Redis holds the access token every process shares, and the lock that
	// lets one of them refresh it at a time. Required.
	Redis redis.UniversalClient
	// KeyPrefix prefixes the Redis keys; default "lx:"+AppID+":", serve's
	// namespace, so the token lives at lx:{appid}:wx:token.
	KeyPrefix string

	// Timeout bounds each HTTP call (default 15 s).
	Timeout time.Duration
	// MaxMedia caps a media download (default 10 MiB); larger is ErrTooLarge.
	MaxMedia int64
	// RefreshBefore is how long before expiry the token is refreshed (default
	// 5 min, at most half the token's lifetime).
	RefreshBefore time.Duration
	// LockTTL bounds how long one process may hold the refresh lock (default
	// 20 s): if it dies holding it, the others wait at most that long.
	LockTTL time.Duration
	// WaitToken bounds how long a call waits for another process to finish
	// refreshing (default 25 s).
	WaitToken time.Duration

	// MediaHosts are the hosts a PicUrl may be fetched from (default
	// DefaultMediaHosts, WeChat's image CDN); Base's host is always
	// allowed too. A PicUrl is a link inside a message, so without this
	// whoever could send one could make lianxin fetch any address its
	// network reaches. An entry is a host name, or host:port for one port.
	MediaHosts []string

	// HTTPClient downloads media; nil uses util.DefaultHTTPClient.
	HTTPClient *http.Client

	// Now is the clock for token expiry (default time.Now).
	Now func() time.Time
	Log *slog.Logger
}

// DefaultMediaHosts are WeChat's image CDN hosts, where PicUrls point.
var DefaultMediaHosts = []string{"mmbiz.qpic.cn", "mmbiz.qlogo.cn"}

// Client calls the WeChat API. It is safe for concurrent use; one per process
// is enough, and any number of processes may share one Redis.
type Client struct {
	cfg        Config
	rewrite    func(string) string
	keys       tokenKeys
	mediaHosts map[string]bool // lower case: host names, and host:port
	tagIDs     tagCache        // user tags' ids by name (mass.go)
}

// New returns a Client.
func New(cfg Config) (*Client, error) {
	if cfg.AppID == "" || cfg.AppSecret == "" {
		return nil, errors.New("wxapi: AppID and AppSecret are required")
	}
	if cfg.Redis == nil {
		return nil, errors.New("wxapi: Redis is required (the access token is shared through it)")
	}
	if cfg.Base == "" {
		cfg.Base = DefaultBase
	}
	cfg.Base = strings.TrimRight(cfg.Base, "/")
	if cfg.KeyPrefix == "" {
		cfg.KeyPrefix = "lx:" + cfg.AppID + ":"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxMedia <= 0 {
		cfg.MaxMedia = DefaultMaxMedia
	}
	if cfg.RefreshBefore <= 0 {
		cfg.RefreshBefore = DefaultRefreshBefore
	}
	if cfg.LockTTL <= 0 {
		cfg.LockTTL = DefaultLockTTL
	}
	if cfg.WaitToken <= 0 {
		cfg.WaitToken = DefaultWaitToken
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	c := &Client{cfg: cfg, rewrite: URIModifier(cfg.Base), mediaHosts: map[string]bool{}}
	hosts := cfg.MediaHosts
	if len(hosts) == 0 {
		hosts = DefaultMediaHosts
	}
	if u, err := url.Parse(cfg.Base); err == nil && u.Host != "" {
		hosts = append(slices.Clip(hosts), u.Host)
	}
	for _, h := range hosts {
		c.mediaHosts[strings.ToLower(h)] = true
	}
	c.keys = tokenKeys{value: cfg.KeyPrefix + "wx:token", lock: cfg.KeyPrefix + "wx:token:lock"}
	return c, nil
}

// URIModifier returns the function cmd installs with util.SetURIModifier:
// it sends requests for api.weixin.qq.com and qyapi.weixin.qq.com to
// apiBase (their paths do not collide, so one base serves both). For the real
// API it returns the identity.
func URIModifier(apiBase string) func(string) string {
	base := strings.TrimRight(apiBase, "/")
	if base == "" || base == wechatHost {
		return func(uri string) string { return uri }
	}
	return func(uri string) string {
		for _, host := range []string{wechatHost, weComHost} {
			if rest, ok := strings.CutPrefix(uri, host); ok && (rest == "" || rest[0] == '/' || rest[0] == '?') {
				return base + rest
			}
		}
		return uri
	}
}

// HTTPClient returns the client cmd installs as util.DefaultHTTPClient (the
// SDK's default has no timeout at all) and the media downloader uses: a
// dead host costs at most 3 s to dial, 5 s of TLS, 10 s waiting for
// headers, 30 s in all. Proxies come from the environment (HTTPS_PROXY), so
// PicUrl downloads from WeChat's CDN can leave through the same egress.
func HTTPClient() *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: 10 * time.Second,
			ExpectContinueTimeout: time.Second,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			// The media worker fetches many photos at once from one host;
			// keep enough idle connections that each fetch does not redial.
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
		},
	}
}

// ClientMsgID derives a template message's client_msg_id (at most 32
// characters, WeChat's limit) from an outbox idempotency key, so a retried
// send of the same outbox row is the same message to WeChat, which delivers
// it once.
func ClientMsgID(idemKey string) string {
	sum := sha256.Sum256([]byte(idemKey))
	return hex.EncodeToString(sum[:16])
}

func (c *Client) httpClient() *http.Client {
	if c.cfg.HTTPClient != nil {
		return c.cfg.HTTPClient
	}
	return util.DefaultHTTPClient
}

// withToken runs one authenticated call. When WeChat refuses the token as
// stale, expired or malformed, it refreshes (unless another process already
// has) and runs the call once more: a call is tried at most twice.
func (c *Client) withToken(ctx context.Context, api string, do func(ctx context.Context, token string) error) error {
	token, err := c.token(ctx, "")
	if err != nil {
		return err
	}
	err = c.once(ctx, token, do)
	var ae *APIError
	if !errors.As(err, &ae) || !isTokenCode(ae.Code) {
		return err
	}
	c.cfg.Log.Info("WeChat refused the access token; refreshing and retrying once", "api", api, "errcode", ae.Code)
	if token, err = c.token(ctx, token); err != nil {
		return err
	}
	return c.once(ctx, token, do)
}

func (c *Client) once(ctx context.Context, token string, do func(ctx context.Context, token string) error) error {
	cctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	return do(cctx, token)
}
