package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// SentinelGroup is a Redis watched by Sentinel, of the test's own: a master,
// a replica and three sentinels (real redis-server processes, the sentinels
// run as redis-sentinel, or redis-server --sentinel), on spare loopback
// ports, stopped when the test ends. The test can kill the master and
// watch the sentinels promote the replica.
type SentinelGroup struct {
	t         testing.TB
	dir       string
	Master    string // the name the sentinels know it by
	sentinels []string
	procs     map[string]*exec.Cmd // by address
}

// StartSentinelGroup starts the group and waits until the sentinels know
// the replica and each other (a failover needs both). Without redis-server
// it skips the test, or fails it when LIANXIN_TEST_REDIS_URL says real Redis
// must be there (CI).
func StartSentinelGroup(t testing.TB) *SentinelGroup {
	t.Helper()
	server, err := exec.LookPath("redis-server")
	if err != nil {
		if u := os.Getenv(RedisEnv); u != "" && u != "embedded" {
			t.Fatalf("%s is set but redis-server is not installed: cannot run Sentinel", RedisEnv)
		}
		t.Skip("no redis-server here (apt-get install redis-server): the Sentinel test is skipped; CI runs it")
	}
	g := &SentinelGroup{t: t, dir: t.TempDir(), Master: "lianxin", procs: map[string]*exec.Cmd{}}
	t.Cleanup(g.stop)
	master, replica := freeAddr(t), freeAddr(t)
	g.start(server, master, "--port", port(master), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", g.dirFor(master))
	g.start(server, replica, "--port", port(replica), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", g.dirFor(replica),
		"--replicaof", "127.0.0.1", port(master))
	sentinelBin, sentinelArgs := server, []string{"--sentinel"}
	if p, err := exec.LookPath("redis-sentinel"); err == nil {
		sentinelBin, sentinelArgs = p, nil
	}
	for range 3 {
		addr := freeAddr(t)
		conf := filepath.Join(g.dirFor(addr), "sentinel.conf")
		body := fmt.Sprintf("port %s\nbind 127.0.0.1\ndir %s\nsentinel monitor %s 127.0.0.1 %s 2\n"+
			"sentinel down-after-milliseconds %s 1000\nsentinel failover-timeout %s 10000\nsentinel parallel-syncs %s 1\n",
			port(addr), g.dirFor(addr), g.Master, port(master), g.Master, g.Master, g.Master)
		if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		g.start(sentinelBin, addr, append([]string{conf}, sentinelArgs...)...)
		g.sentinels = append(g.sentinels, addr)
	}
	// Ready: the replica in sync, and every sentinel knowing the replica and
	// the two other sentinels.
	g.waitFor(20*time.Second, "the replica to sync and the sentinels to find each other", func(ctx context.Context) bool {
		r := redis.NewClient(&redis.Options{Addr: replica})
		info, err := r.Info(ctx, "replication").Result()
		r.Close()
		if err != nil || !strings.Contains(info, "master_link_status:up") {
			return false
		}
		for _, s := range g.sentinels {
			c := redis.NewSentinelClient(&redis.Options{Addr: s})
			others, err1 := c.Sentinels(ctx, g.Master).Result()
			replicas, err2 := c.Replicas(ctx, g.Master).Result()
			c.Close()
			if err1 != nil || err2 != nil || len(others) < 2 || len(replicas) < 1 {
				return false
			}
		}
		return true
	})
	return g
}

// URL is LIANXIN_REDIS_URL for the group.
func (g *SentinelGroup) URL() string {
	return "redis-sentinel://" + strings.Join(g.sentinels, ",") + "/" + g.Master
}

// MasterAddr is the master as the sentinels name it now.
func (g *SentinelGroup) MasterAddr() string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, s := range g.sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: s})
		a, err := c.GetMasterAddrByName(ctx, g.Master).Result()
		c.Close()
		if err == nil && len(a) == 2 {
			return net.JoinHostPort(a[0], a[1])
		}
	}
	return ""
}

// KillMaster kills the current master's process (SIGKILL: no goodbye to its
// replica or clients) and returns its address.
func (g *SentinelGroup) KillMaster() string {
	addr := g.MasterAddr()
	cmd := g.procs[addr]
	if cmd == nil {
		g.t.Fatalf("no process for the master %q", addr)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	delete(g.procs, addr)
	return addr
}

// WaitForNewMaster waits until the sentinels name a master other than old
// and it answers as a master.
func (g *SentinelGroup) WaitForNewMaster(old string, timeout time.Duration) string {
	var now string
	g.waitFor(timeout, "the sentinels to promote the replica", func(ctx context.Context) bool {
		now = g.MasterAddr()
		if now == "" || now == old {
			return false
		}
		c := redis.NewClient(&redis.Options{Addr: now})
		defer c.Close()
		info, err := c.Info(ctx, "replication").Result()
		return err == nil && strings.Contains(info, "role:master")
	})
	return now
}

func (g *SentinelGroup) waitFor(timeout time.Duration, what string, cond func(ctx context.Context) bool) {
	g.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		ok := cond(ctx)
		cancel()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			g.t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (g *SentinelGroup) dirFor(addr string) string {
	d := filepath.Join(g.dir, port(addr))
	os.MkdirAll(d, 0o755)
	return d
}

func (g *SentinelGroup) start(bin, addr string, args ...string) {
	g.t.Helper()
	cmd := exec.Command(bin, args...)
	log, err := os.Create(filepath.Join(g.dirFor(addr), "log"))
	if err != nil {
		g.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		g.t.Fatalf("%s: %v", bin, err)
	}
	g.procs[addr] = cmd
	g.waitFor(10*time.Second, bin+" at "+addr+" to answer", func(ctx context.Context) bool {
		c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 200 * time.Millisecond})
		defer c.Close()
		return c.Ping(ctx).Err() == nil
	})
}

func (g *SentinelGroup) stop() {
	for _, cmd := range g.procs {
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}
	if g.t.Failed() {
		logs, _ := filepath.Glob(filepath.Join(g.dir, "*", "log"))
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			g.t.Logf("%s:\n%s", l, tail(string(b), 2000))
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}
