// Package testenv gives tests the real things they run against: a Redis
// connection (the real server CI starts, or an in-process one on a machine
// that has none), isolated key prefixes, temporary SQLite files, and a TCP
// proxy that can cut or hang the connection to a dependency on demand.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/lianxin/lianxin/internal/embedredis"
)

// RedisEnv names the Redis the tests must use. CI sets it so the suite runs
// against real Redis and fails, rather than falls back, when it is missing.
// "embedded" forces the in-process server (to check the fresh-machine path).
const RedisEnv = "LIANXIN_TEST_REDIS_URL"

const defaultRedis = "redis://127.0.0.1:6379/0"

var (
	fallbackOnce sync.Once
	fallback     *embedredis.Server
	fallbackErr  error
)

// RedisAddr returns the host:port of the Redis the tests use.
func RedisAddr(t testing.TB) string {
	t.Helper()
	u := os.Getenv(RedisEnv)
	if u != "" && u != "embedded" {
		opt, err := redis.ParseURL(u)
		if err != nil {
			t.Fatalf("%s: %v", RedisEnv, err)
		}
		if err := ping(opt.Addr); err != nil {
			t.Fatalf("%s=%s is set but Redis does not answer: %v", RedisEnv, u, err)
		}
		return opt.Addr
	}
	opt, _ := redis.ParseURL(defaultRedis)
	if u != "embedded" && ping(opt.Addr) == nil {
		return opt.Addr
	}
	fallbackOnce.Do(func() {
		// For the rest of the test binary's life.
		fallback, fallbackErr = embedredis.Start("")
	})
	if fallbackErr != nil {
		t.Fatalf("no Redis at %s and the in-process one failed: %v", opt.Addr, fallbackErr)
	}
	t.Logf("no Redis at %s: using an in-process Redis-compatible server (set %s to require a real one)", opt.Addr, RedisEnv)
	return fallback.Addr()
}

// RedisDB is the database number of the Redis the tests use: the one in
// LIANXIN_TEST_REDIS_URL ("0" otherwise), so a developer can keep the tests
// out of a database that holds anything else.
func RedisDB(t testing.TB) string {
	t.Helper()
	return strconv.Itoa(redisDB(t))
}

// RedisURL is the URL of the test Redis, database included, for a service
// configuration.
func RedisURL(t testing.TB) string {
	t.Helper()
	return "redis://" + RedisAddr(t) + "/" + RedisDB(t)
}

func redisDB(t testing.TB) int {
	u := os.Getenv(RedisEnv)
	if u == "" || u == "embedded" {
		return 0
	}
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Fatalf("%s: %v", RedisEnv, err)
	}
	return opt.DB
}

func ping(addr string) error {
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 300 * time.Millisecond, MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return c.Ping(ctx).Err()
}

// Redis returns a client for the test Redis, closed when the test ends.
func Redis(t testing.TB) *redis.Client {
	t.Helper()
	return RedisAt(t, RedisAddr(t))
}

// RedisAt returns a client for addr with the service's short timeouts.
func RedisAt(t testing.TB, addr string) *redis.Client {
	c := redis.NewClient(&redis.Options{
		Addr: addr, DB: redisDB(t), DialTimeout: 500 * time.Millisecond,
		ReadTimeout: time.Second, WriteTimeout: time.Second, PoolTimeout: time.Second, MaxRetries: 1,
	})
	t.Cleanup(func() { c.Close() })
	return c
}

// Prefix returns a key prefix (and account id) unique to this test, and
// deletes its keys when the test ends, so tests can share one Redis.
func Prefix(t testing.TB) (id string) {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	id = "t" + hex.EncodeToString(b[:])
	addr, db := RedisAddr(t), redisDB(t)
	t.Cleanup(func() {
		c := redis.NewClient(&redis.Options{Addr: addr, DB: db})
		defer c.Close()
		ctx := context.Background()
		iter := c.Scan(ctx, 0, "*"+id+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	})
	return id
}

// DBPath returns a fresh SQLite file path in the test's temporary directory.
func DBPath(t testing.TB) string {
	return filepath.Join(t.TempDir(), "lianxin.db")
}

// Chromium returns the headless browser the console's and the reports'
// tests drive: LIANXIN_CHROMIUM, or Debian's chromium on PATH. Where it is
// missing the test fails in CI (CI is set: .ci/run installs it, so a
// missing browser there is a broken CI, never a silent skip) and is
// skipped on a developer's machine, so `go test ./...` passes with only Go
// and gcc.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("LIANXIN_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("LIANXIN_CHROMIUM=%s: %v", p, err)
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI must have chromium for the browser tests (.ci/run installs it: apt-get install chromium)")
	}
	t.Skip("no chromium here (apt-get install chromium, or set LIANXIN_CHROMIUM); CI runs this test")
	return ""
}
