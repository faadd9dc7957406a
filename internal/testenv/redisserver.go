package testenv

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lianxin/lianxin/internal/embedredis"
)

// RedisServer is a Redis of the test's own that it can stop and start again
// on the same address, as an operator restarting Redis would: a real
// redis-server with an append-only file (so what was written survives the
// restart) when one is installed, else the in-process server. The shared test
// Redis cannot be restarted: other packages' tests use it at the same time.
type RedisServer struct {
	t    testing.TB
	addr string
	dir  string
	cmd  *exec.Cmd
	mini *embedredis.Server
}

// StartRedisServer starts a restartable Redis; it stops with the test. CI
// installs redis-server, and there the real one is required.
func StartRedisServer(t testing.TB) *RedisServer {
	t.Helper()
	s := &RedisServer{t: t, dir: t.TempDir()}
	bin, err := exec.LookPath("redis-server")
	if err != nil && os.Getenv(RedisEnv) != "" && os.Getenv(RedisEnv) != "embedded" {
		t.Fatalf("%s is set but redis-server is not installed: cannot run a restartable real Redis", RedisEnv)
	}
	if err != nil || os.Getenv(RedisEnv) == "embedded" {
		if s.mini, err = embedredis.Start(""); err != nil {
			t.Fatal(err)
		}
		s.addr = s.mini.Addr()
		t.Logf("restartable Redis: in-process at %s (no redis-server installed)", s.addr)
		t.Cleanup(s.mini.Close)
		return s
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	ln.Close()
	s.start(bin)
	t.Cleanup(func() { s.Stop() })
	return s
}

// Addr is host:port.
func (s *RedisServer) Addr() string { return s.addr }

// Real reports whether this is a real redis-server.
func (s *RedisServer) Real() bool { return s.mini == nil }

func (s *RedisServer) start(bin string) {
	s.t.Helper()
	_, port, _ := net.SplitHostPort(s.addr)
	s.cmd = exec.Command(bin, "--bind", "127.0.0.1", "--port", port, "--dir", s.dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no", "--loglevel", "notice")
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	s.cmd.Stderr = s.cmd.Stdout
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("redis-server: %v", err)
	}
	// Redis says when it is ready (after loading its append-only file).
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			if !signalled && strings.Contains(line, "Ready to accept connections") {
				close(ready)
				signalled = true
			}
			if strings.Contains(line, "# ") && (strings.Contains(line, "rror") || strings.Contains(line, "FATAL")) {
				fmt.Fprintln(os.Stderr, "redis-server:", line)
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		s.t.Fatalf("redis-server on %s did not start", s.addr)
	}
}

// Stop stops Redis (SIGTERM: it finishes writing its append-only file).
func (s *RedisServer) Stop() {
	if s.mini != nil {
		// Only the listener: its clock keeps going for Restart, and
		// the cleanup stops it.
		s.mini.Miniredis.Close()
		return
	}
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(os.Interrupt)
	s.cmd.Wait()
	s.cmd = nil
}

// Restart starts Redis again on the same address with the same data.
func (s *RedisServer) Restart() {
	s.t.Helper()
	if s.mini != nil {
		if err := s.mini.Restart(); err != nil {
			s.t.Fatal(err)
		}
		return
	}
	bin, _ := exec.LookPath("redis-server")
	s.start(bin)
}

// AOF is the append-only file, for checking it exists.
func (s *RedisServer) AOF() string { return filepath.Join(s.dir, "appendonlydir") }
