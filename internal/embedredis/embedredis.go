// Package embedredis owns the in-process Redis-compatible server: serve's
// fallback when no Redis answers at the default address, and the tests' on a
// machine without redis-server. It is miniredis with one difference that
// matters to lianxin: keys expire as real time passes. (miniredis ages keys
// only when told to, and the dispatcher relies on expiring locks, pending
// claims and replies: a died applier's lock must free its resident.)
package embedredis

import (
	"time"

	"github.com/alicebob/miniredis/v2"
)

// tick is how often the server is told time has passed: the granularity of
// its expiries.
const tick = 20 * time.Millisecond

// Server is a running in-process Redis. Its address is Addr(); Restart
// (from miniredis) drops connections and listens again on the same address.
type Server struct {
	*miniredis.Miniredis
	stop chan struct{}
	done chan struct{}
}

// Start starts a server on addr ("" picks a free loopback port).
func Start(addr string) (*Server, error) {
	m := miniredis.NewMiniRedis()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if err := m.StartAddr(addr); err != nil {
		return nil, err
	}
	s := &Server{Miniredis: m, stop: make(chan struct{}), done: make(chan struct{})}
	go s.age()
	return s, nil
}

func (s *Server) age() {
	defer close(s.done)
	t := time.NewTicker(tick)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			s.FastForward(now.Sub(last))
			last = now
		}
	}
}

// Close stops the clock and the server. It may be called more than once.
func (s *Server) Close() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
	s.Miniredis.Close()
}
