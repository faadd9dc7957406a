package embedredis

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// A lock set with a TTL must free itself as time passes, as in real Redis,
// or a resident whose applier died would wait forever.
func TestKeysExpireInRealTime(t *testing.T) {
	s, err := Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := redis.NewClient(&redis.Options{Addr: s.Addr()})
	defer c.Close()
	ctx := context.Background()
	if err := c.Set(ctx, "lock", "applier", 50*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	// Poll (with a deadline far beyond the TTL) for the key to go.
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := c.Exists(ctx, "lock").Result()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a key with a 50 ms TTL was still there after 5 s")
		}
		<-time.After(5 * time.Millisecond)
	}
	s.Close() // twice is fine
}
