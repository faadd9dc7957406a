package bot_test

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lianxin/lianxin/bot"
)

// syncBuffer is a log sink the server's goroutines write to while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// gauge reads a counter or gauge (summed over its labels) from reg.
func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

// waitUntil checks cond every few milliseconds until it holds, failing the
// test after 10 s: for what the server does on its own goroutines.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestConnectionCap: past the cap a connection is closed at once and
// counted, instead of taking another file descriptor and goroutine; once a
// connection ends, a new one is served again.
func TestConnectionCap(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := bot.NewMetrics(reg)
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := bot.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }), log)
	go srv.Serve(bot.LimitListener(ln, 2, m, log))
	defer srv.Close()

	// Two idle connections take the two places.
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	waitUntil(t, "the two connections to be accepted", func() bool { return gauge(t, reg, "lianxin_http_connections") == 2 })
	third, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	third.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := third.Read(make([]byte, 1)); err == nil || n != 0 {
		t.Errorf("a third connection was kept open (%d, %v)", n, err)
	}
	if got := gauge(t, reg, "lianxin_http_connections_refused_total"); got != 1 {
		t.Errorf("refused connections counted %v, want 1", got)
	}
	if !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("a refused connection was not logged at warn:\n%s", logs)
	}

	held[0].Close()
	waitUntil(t, "a place to free up", func() bool { return gauge(t, reg, "lianxin_http_connections") == 1 })
	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("after a place freed up: HTTP %d", resp.StatusCode)
	}
}

// flakyListener fails its first Accept as a process out of file
// descriptors does.
type flakyListener struct {
	net.Listener
	once sync.Once
}

func (l *flakyListener) Accept() (net.Conn, error) {
	var failed bool
	l.once.Do(func() { failed = true })
	if failed {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept", syscall.EMFILE)}
	}
	return l.Listener.Accept()
}

// TestAcceptErrorsAreWarnings: running out of file descriptors is something
// an operator must see (at warn), unlike the chatter net/http logs about
// single connections (at debug).
func TestAcceptErrorsAreWarnings(t *testing.T) {
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := bot.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), log)
	go srv.Serve(&flakyListener{Listener: ln})
	defer srv.Close()
	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if out := logs.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, "too many open files") {
		t.Errorf("the accept error was not logged at warn:\n%s", out)
	}
}
