package testenv

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy is a TCP proxy in front of a dependency (Redis) that a test can cut
// (connections refused and existing ones dropped: the server is down) or hang
// (connections accepted, nothing forwarded: the server is stuck), then restore.
type Proxy struct {
	target string
	ln     net.Listener
	mu     sync.Mutex
	state  proxyState
	conns  map[net.Conn]struct{}
	held   []net.Conn
	wg     sync.WaitGroup
}

type proxyState int

const (
	proxyUp proxyState = iota
	proxyDown
	proxyHung
)

// NewProxy starts a proxy to target on a loopback port; it stops with the test.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{target: target, ln: ln, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// Addr is the address clients should use instead of the target's.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Cut drops every connection and refuses new ones until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	p.state = proxyDown
	p.dropLocked()
	p.mu.Unlock()
}

// Hang drops existing connections and then accepts new ones without ever
// answering, like a server that is stuck, until Restore.
func (p *Proxy) Hang() {
	p.mu.Lock()
	p.state = proxyHung
	p.dropLocked()
	p.mu.Unlock()
}

// Restore forwards again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	p.state = proxyUp
	for _, c := range p.held {
		c.Close()
	}
	p.held = nil
	p.mu.Unlock()
}

func (p *Proxy) dropLocked() {
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]struct{}{}
}

// Close stops the proxy.
func (p *Proxy) Close() {
	p.ln.Close()
	p.mu.Lock()
	p.dropLocked()
	for _, c := range p.held {
		c.Close()
	}
	p.held = nil
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		switch p.state {
		case proxyDown:
			p.mu.Unlock()
			c.Close()
			continue
		case proxyHung:
			p.held = append(p.held, c)
			p.mu.Unlock()
			continue
		}
		p.mu.Unlock()
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.state != proxyUp {
			p.mu.Unlock()
			c.Close()
			up.Close()
			continue
		}
		p.conns[c] = struct{}{}
		p.conns[up] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

func (p *Proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	io.Copy(dst, src)
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}
