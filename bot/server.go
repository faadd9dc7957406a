package bot

import (
	"context"
	"encoding/json"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Check is one readiness dependency (Redis, SQLite).
type Check struct {
	Name string
	Ping func(ctx context.Context) error
}

// NewMux routes what WeChat reaches: the webhook at /wechat and /healthz
// (the process answers). operator, when not nil, is served beside them at
// /readyz and /metrics; nil keeps those off this address (they are then
// served on an operator address of their own, see NewOperatorMux).
func NewMux(webhook, operator http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/wechat", webhook)
	mux.HandleFunc("GET /healthz", healthz)
	if operator != nil {
		mux.Handle("GET /readyz", operator)
		mux.Handle("GET /metrics", operator)
	}
	return mux
}

// NewOperatorMux routes what operators and their monitoring read: /readyz
// (whether each dependency answers: only "ok" or "unavailable" per check;
// the reasons, which name internal addresses, go to the log), /metrics
// (Prometheus) and /healthz.
func NewOperatorMux(reg *prometheus.Registry, checks []Check, log *slog.Logger) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", healthz)
	r := &readiness{checks: checks, log: log, failing: map[string]bool{}}
	mux.HandleFunc("GET /readyz", r.serve)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return mux
}

func healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// readiness answers /readyz. It logs a check when it starts failing (at
// warn, with the reason) and when it recovers, not on every probe.
type readiness struct {
	checks  []Check
	log     *slog.Logger
	mu      sync.Mutex
	failing map[string]bool
}

func (rd *readiness) serve(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	errs := make([]error, len(rd.checks))
	var wg sync.WaitGroup
	for i, c := range rd.checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.Ping(ctx)
		}()
	}
	wg.Wait()
	status := map[string]string{}
	code := http.StatusOK
	rd.mu.Lock()
	for i, c := range rd.checks {
		was := rd.failing[c.Name]
		if errs[i] != nil {
			status[c.Name] = "unavailable"
			code = http.StatusServiceUnavailable
			if !was {
				rd.log.Warn("not ready", "check", c.Name, "err", errs[i])
			}
		} else {
			status[c.Name] = "ok"
			if was {
				rd.log.Info("ready again", "check", c.Name)
			}
		}
		rd.failing[c.Name] = errs[i] != nil
	}
	rd.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(status)
}

// NewServer is an HTTP server with the limits every lianxin listener has:
// the headers within 5 s, the request within 10 s, the answer within 10 s,
// idle connections closed after 2 minutes. What net/http has to say goes
// to log: accept errors (the process is out of file descriptors: nothing
// is served) at warn, the chatter about single connections (a bad request
// line, a TLS handshake) at debug.
func NewServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          serverLog(log),
	}
}

func serverLog(l *slog.Logger) *log.Logger {
	return log.New(logWriter(func(p []byte) {
		msg := strings.TrimSpace(string(p))
		level := slog.LevelDebug
		if strings.Contains(msg, "Accept error") {
			level = slog.LevelWarn
		}
		l.Log(context.Background(), level, msg)
	}), "", 0)
}

type logWriter func(p []byte)

func (f logWriter) Write(p []byte) (int, error) {
	f(p)
	return len(p), nil
}

// LimitListener caps the connections open at once at max. A connection
// past the cap is closed as soon as it is accepted and counted
// (lianxin_http_connections_refused_total, and a warning at most every 10
// s), so a flood of idle connections cannot take every file descriptor and
// goroutine; WeChat retries what it could not deliver.
func LimitListener(ln net.Listener, max int, m *Metrics, log *slog.Logger) net.Listener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, max), m: m, log: log}
}

type limitListener struct {
	net.Listener
	slots    chan struct{}
	m        *Metrics
	log      *slog.Logger
	lastWarn atomic.Int64 // unix nanoseconds
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			l.m.Conns.Inc()
			return &limitConn{Conn: c, l: l}, nil
		default:
		}
		// Counted and logged before it is closed, so whoever sees it
		// closed also sees it counted.
		l.m.ConnsRefused.Inc()
		now := time.Now().UnixNano()
		if last := l.lastWarn.Load(); now-last >= int64(10*time.Second) && l.lastWarn.CompareAndSwap(last, now) {
			l.log.Warn("connection cap reached: closing new connections (LIANXIN_MAX_CONNS)", "max", cap(l.slots))
		}
		c.Close()
	}
}

// limitConn gives its slot back when it is closed (once, however often).
type limitConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *limitConn) Close() error {
	c.once.Do(func() {
		<-c.l.slots
		c.l.m.Conns.Dec()
	})
	return c.Conn.Close()
}
