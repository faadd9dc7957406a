package wxapi

import "context"

// TokenReplacing exposes the compare-and-refresh step: the token to use after
// WeChat refused stale.
func (c *Client) TokenReplacing(ctx context.Context, stale string) (string, error) {
	return c.token(ctx, stale)
}

// TokenKey is the Redis key holding the shared token.
func (c *Client) TokenKey() string { return c.keys.value }

// LockKey is the Redis key of the refresh lock.
func (c *Client) LockKey() string { return c.keys.lock }
