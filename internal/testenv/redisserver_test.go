package testenv

import (
	"context"
	"testing"
)

func TestRedisServerRestartKeepsData(t *testing.T) {
	s := StartRedisServer(t)
	c := RedisAt(t, s.Addr())
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	if c.Ping(ctx).Err() == nil {
		t.Fatal("Redis answers after Stop")
	}
	s.Restart()
	v, err := c.Get(ctx, "k").Result()
	if err != nil || v != "v" {
		t.Fatalf("after restart: %q %v", v, err)
	}
	s.Stop()
	s.Restart()
	if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("after a second restart: %q %v", v, err)
	}
}
