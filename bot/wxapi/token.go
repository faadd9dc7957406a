package wxapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/silenceper/wechat/v2/util"
)

// The access token is shared by every process through one Redis key,
// because /cgi-bin/token supersedes the previous token each time it is
// called: processes that each fetched their own would invalidate one another
// (real WeChat keeps the old one for 5 minutes; after that, 40001).
//
//	{prefix}wx:token       "refreshAtMs:expiresAtMs:token", PX = until expiry
//	{prefix}wx:token:lock  a random owner id, SET NX PX LockTTL
//
// Refreshing takes the lock, so one process at a time asks WeChat; the others
// keep using the current token while it is still valid, or wait (polling with
// a small backoff, bounded by WaitToken and their context) for the new one.
// A call refused with 40001/42001/40014 asks for a refresh "replacing token
// X": when the key no longer holds X, another process has already replaced it
// and the call just uses the new one. That compare-and-refresh is what keeps
// two processes from replacing each other's fresh token.
type tokenKeys struct{ value, lock string }

type sharedToken struct {
	value     string
	refreshAt time.Time // when a process should start replacing it
	expires   time.Time
}

// releaseLock deletes the lock only if this process still holds it.
var releaseLock = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0`)

// AccessToken returns the shared access token, fetching it if no process has.
func (c *Client) AccessToken(ctx context.Context) (string, error) {
	return c.token(ctx, "")
}

// token returns a valid token that is not stale. stale is a token WeChat just
// refused ("" for none).
func (c *Client) token(ctx context.Context, stale string) (string, error) {
	giveUp := time.Now().Add(c.cfg.WaitToken)
	delay := 10 * time.Millisecond
	for {
		cur, err := c.readToken(ctx)
		if err != nil {
			return "", err
		}
		now := c.cfg.Now()
		usable := cur.value != "" && cur.value != stale && now.Before(cur.expires)
		if usable && now.Before(cur.refreshAt) {
			return cur.value, nil
		}
		tok, locked, err := c.refreshLocked(ctx, stale)
		if locked {
			return tok, err
		}
		if err != nil {
			return "", err
		}
		if usable {
			// Due for an early refresh that another process is doing; this
			// one is still good meanwhile.
			return cur.value, nil
		}
		if time.Now().After(giveUp) {
			return "", &APIError{API: "token", Msg: "timed out waiting for another process to refresh the access token", Kind: ErrTransient}
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", &APIError{API: "token", Msg: ctx.Err().Error(), Kind: ErrTransient, Err: ctx.Err()}
		case <-t.C:
		}
		delay = min(delay*2, 200*time.Millisecond)
	}
}

func (c *Client) readToken(ctx context.Context) (sharedToken, error) {
	v, err := c.cfg.Redis.Get(ctx, c.keys.value).Result()
	if errors.Is(err, redis.Nil) {
		return sharedToken{}, nil
	} else if err != nil {
		return sharedToken{}, redisError(ctx, "reading the shared access token", err)
	}
	parts := strings.SplitN(v, ":", 3)
	if len(parts) != 3 {
		return sharedToken{}, nil // unreadable: treat as absent and replace it
	}
	refreshAt, err1 := strconv.ParseInt(parts[0], 10, 64)
	expires, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil {
		return sharedToken{}, nil
	}
	return sharedToken{value: parts[2], refreshAt: time.UnixMilli(refreshAt), expires: time.UnixMilli(expires)}, nil
}

func redisError(ctx context.Context, what string, err error) *APIError {
	cause := err
	if ctx.Err() != nil {
		cause = ctx.Err()
	}
	return &APIError{API: "token", Msg: what + ": " + cause.Error(), Kind: ErrTransient, Err: cause}
}

// refreshLocked tries to take the refresh lock. Without it (locked false) it
// does nothing; with it, it re-reads the key (another process may have
// refreshed between our read and our lock) and asks WeChat only if the token
// there is still missing, stale or due.
func (c *Client) refreshLocked(ctx context.Context, stale string) (tok string, locked bool, err error) {
	owner := randomID()
	ok, err := c.cfg.Redis.SetNX(ctx, c.keys.lock, owner, c.cfg.LockTTL).Result()
	if err != nil {
		return "", false, redisError(ctx, "taking the token refresh lock", err)
	}
	if !ok {
		return "", false, nil
	}
	defer func() {
		// Release even if ctx ended, or the others wait out LockTTL.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		if rerr := releaseLock.Run(rctx, c.cfg.Redis, []string{c.keys.lock}, owner).Err(); rerr != nil {
			c.cfg.Log.Warn("releasing the token refresh lock failed; others wait for it to expire", "err", rerr)
		}
	}()

	cur, err := c.readToken(ctx)
	if err != nil {
		return "", true, err
	}
	now := c.cfg.Now()
	if cur.value != "" && cur.value != stale && now.Before(cur.refreshAt) {
		return cur.value, true, nil
	}
	// The fetch must end well inside the lock's lifetime, or a second
	// process could take the lock and fetch too.
	fctx, cancel := context.WithTimeout(ctx, min(c.cfg.Timeout, c.cfg.LockTTL*3/4))
	defer cancel()
	value, expiresIn, err := c.fetchToken(fctx, false)
	if err == nil && value == stale && c.cfg.StableToken {
		// stable_token handed back the token WeChat just refused (someone
		// forced a refresh elsewhere): force one ourselves.
		value, expiresIn, err = c.fetchToken(fctx, true)
	}
	if err != nil {
		return "", true, err
	}
	life := time.Duration(expiresIn) * time.Second
	if life <= 0 {
		return "", true, &APIError{API: "token", Msg: "WeChat answered a token without expires_in", Kind: ErrTransient}
	}
	early := min(c.cfg.RefreshBefore, life/2)
	rec := fmt.Sprintf("%d:%d:%s", now.Add(life-early).UnixMilli(), now.Add(life).UnixMilli(), value)
	if err := c.cfg.Redis.Set(ctx, c.keys.value, rec, life).Err(); err != nil {
		// WeChat has already superseded the old token; return the new one
		// so at least this call works. The next reader refreshes again.
		c.cfg.Log.Warn("storing the new access token in Redis failed", "err", err)
	}
	c.cfg.Log.Info("WeChat access token refreshed", "expires_in", life.String(), "stable", c.cfg.StableToken)
	return value, true, nil
}

type tokenAnswer struct {
	util.CommonError
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

// fetchToken asks WeChat for a token. Its URL carries the AppSecret, which
// transportError keeps out of the error.
func (c *Client) fetchToken(ctx context.Context, force bool) (string, int64, error) {
	var body []byte
	var err error
	api := "token"
	if c.cfg.StableToken {
		api = "stable_token"
		body, err = util.PostJSONContext(ctx, c.cfg.Base+"/cgi-bin/stable_token", map[string]any{
			"grant_type": "client_credential", "appid": c.cfg.AppID, "secret": c.cfg.AppSecret, "force_refresh": force,
		})
	} else {
		q := url.Values{"grant_type": {"client_credential"}, "appid": {c.cfg.AppID}, "secret": {c.cfg.AppSecret}}
		body, err = util.HTTPGetContext(ctx, c.cfg.Base+"/cgi-bin/token?"+q.Encode())
	}
	if err != nil {
		return "", 0, transportError(ctx, api, err)
	}
	var ans tokenAnswer
	if err := json.Unmarshal(body, &ans); err != nil {
		return "", 0, &APIError{API: api, Msg: "answer is not JSON", Kind: ErrTransient}
	}
	if ans.ErrCode != 0 {
		e := codeError(api, int(ans.ErrCode), ans.ErrMsg)
		if e.Kind == ErrInvalidToken || e.Kind == ErrPermanent {
			// Any refusal of the token endpoint itself is about the
			// account's credentials, which an operator fixes.
			e.Kind = ErrUnauthorized
		}
		return "", 0, e
	}
	if ans.AccessToken == "" {
		return "", 0, &APIError{API: api, Msg: "answer has no access_token", Kind: ErrTransient}
	}
	return ans.AccessToken, ans.ExpiresIn, nil
}

func randomID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}
