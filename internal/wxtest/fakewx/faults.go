package fakewx

import (
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// faults are the injected failures. Every setter takes a path: "" means every
// WeChat endpoint, a path ending in "/" (PathPic) every path under it, anything
// else that exact path. When several rules match, the most specific wins
// (exact, then longest prefix, then ""). The control endpoints under /fakewx/
// other than PathPic are never faulted.
//
// A request meets them in this order: latency; then the transport faults
// (SetDown, FailNext, SetFailRate), which answer with a non-200 status before
// anything takes effect; then the method and credential checks; then the
// WeChat-level faults (SetRateLimited, FailNextErrCode, and Set45015 inside
// custom send), which answer HTTP 200 with an errcode; then the endpoint; then
// FailAfterNext, which replaces a successful answer after the endpoint took
// effect.
type faults struct {
	rng         *rand.Rand
	latency     map[string]time.Duration
	down        map[string]bool
	failNext    map[string]*countedStatus
	failAfter   map[string]*countedStatus
	failRate    map[string]float64
	rateLimited map[string]int
	errNext     map[string]*countedErr
	deny45015   map[string]bool // openid; "" = everyone
}

type countedStatus struct {
	n      int
	status int
}

type countedErr struct {
	n    int
	code int
	msg  string
}

func newFaults(rng *rand.Rand) faults {
	f := faults{rng: rng}
	f.clear()
	return f
}

func (f *faults) clear() {
	f.latency = map[string]time.Duration{}
	f.down = map[string]bool{}
	f.failNext = map[string]*countedStatus{}
	f.failAfter = map[string]*countedStatus{}
	f.failRate = map[string]float64{}
	f.rateLimited = map[string]int{}
	f.errNext = map[string]*countedErr{}
	f.deny45015 = map[string]bool{}
}

// bestRule finds the most specific key of m that applies to path.
func bestRule[V any](m map[string]V, path string) (string, bool) {
	bestKey, bestScore := "", -1
	for k := range m {
		var score int
		switch {
		case k == path:
			score = math.MaxInt
		case k == "":
			score = 0
		case strings.HasSuffix(k, "/") && strings.HasPrefix(path, k):
			score = len(k)
		default:
			continue
		}
		if score > bestScore {
			bestKey, bestScore = k, score
		}
	}
	return bestKey, bestScore >= 0
}

// SetLatency delays every answer on path by d (0 removes the delay). The
// delay ends early when the client gives up or the server closes; such a call
// is recorded with Status 499 and has no effect.
func (s *Server) SetLatency(path string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d <= 0 {
		delete(s.faults.latency, path)
		return
	}
	s.faults.latency[path] = d
}

// FailNext answers the next n calls on path with HTTP status (e.g. 500, 503)
// before they take effect. n <= 0 cancels.
func (s *Server) FailNext(path string, n int, status int) {
	s.setCounted(s.faults.failNext, path, n, status)
}

// FailAfterNext lets the next n successful calls on path take effect (a
// message is delivered, a token issued) but answers them with HTTP status, as
// when WeChat's answer is lost on the way back. n <= 0 cancels.
func (s *Server) FailAfterNext(path string, n int, status int) {
	s.setCounted(s.faults.failAfter, path, n, status)
}

func (s *Server) setCounted(m map[string]*countedStatus, path string, n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= 0 {
		delete(m, path)
		return
	}
	m[path] = &countedStatus{n: n, status: status}
}

// SetFailRate answers a fraction p of the calls on path with HTTP 500 (p <= 0
// removes the rule). The draws come from an RNG seeded with Options.Seed and
// are made only for calls a fail-rate rule applies to, so the same seed and the
// same sequence of such calls give the same failures; concurrent callers make
// the sequence, and so the outcome, depend on scheduling.
func (s *Server) SetFailRate(path string, p float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p <= 0 {
		delete(s.faults.failRate, path)
		return
	}
	s.faults.failRate[path] = min(p, 1)
}

// SetDown makes path answer HTTP 503 to everything while down is true.
func (s *Server) SetDown(path string, down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !down {
		delete(s.faults.down, path)
		return
	}
	s.faults.down[path] = true
}

// SetRateLimited answers the next n authenticated calls on path with 45009
// "reach max api daily quota limit". n <= 0 cancels.
func (s *Server) SetRateLimited(path string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= 0 {
		delete(s.faults.rateLimited, path)
		return
	}
	s.faults.rateLimited[path] = n
}

// FailNextErrCode answers the next n authenticated calls on path with WeChat
// error code (e.g. -1 "system error", 45047, 43004). An empty msg uses
// WeChat's usual text for the code. n <= 0 cancels.
func (s *Server) FailNextErrCode(path string, n int, code int, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= 0 {
		delete(s.faults.errNext, path)
		return
	}
	if msg == "" {
		msg = errMsgFor(code)
	}
	s.faults.errNext[path] = &countedErr{n: n, code: code, msg: msg}
}

// Set45015 makes customer-service sends to openid ("" = everyone) fail with
// 45015, WeChat's answer once the 48-hour window since the user's last message
// has passed or the user has unsubscribed.
func (s *Server) Set45015(openid string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !on {
		delete(s.faults.deny45015, openid)
		return
	}
	s.faults.deny45015[openid] = true
}

// ClearFaults removes every injected fault. The fail-rate RNG keeps its state.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.clear()
}

const errMsg45015 = "response out of time limit or subscription is canceled"

func errMsgFor(code int) string {
	switch code {
	case -1:
		return "system error"
	case 40003:
		return "invalid openid"
	case 43004:
		return "require subscribe"
	case 45009:
		return "reach max api daily quota limit"
	case 45015:
		return errMsg45015
	case 45047:
		return "out of response count limit"
	case 48001:
		return "api unauthorized"
	}
	return "fakewx injected error"
}

func (s *Server) latencyFor(path string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := bestRule(s.faults.latency, path); ok {
		return s.faults.latency[k]
	}
	return 0
}

// httpFault reports the transport failure, if any, for a call on path.
func (s *Server) httpFault(path string) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := &s.faults
	if _, ok := bestRule(f.down, path); ok {
		return http.StatusServiceUnavailable, true
	}
	if status, ok := takeCounted(f.failNext, path); ok {
		return status, true
	}
	if k, ok := bestRule(f.failRate, path); ok && f.rng.Float64() < f.failRate[k] {
		return http.StatusInternalServerError, true
	}
	return 0, false
}

func (s *Server) takeFailAfter(path string) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return takeCounted(s.faults.failAfter, path)
}

func takeCounted(m map[string]*countedStatus, path string) (int, bool) {
	k, ok := bestRule(m, path)
	if !ok {
		return 0, false
	}
	c := m[k]
	c.n--
	if c.n <= 0 {
		delete(m, k)
	}
	return c.status, true
}

// wxFault reports the WeChat-level error, if any, for an authenticated call.
func (s *Server) wxFault(path string) (reply, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := &s.faults
	if k, ok := bestRule(f.rateLimited, path); ok {
		if f.rateLimited[k]--; f.rateLimited[k] <= 0 {
			delete(f.rateLimited, k)
		}
		return wxError(45009, errMsgFor(45009)), true
	}
	if k, ok := bestRule(f.errNext, path); ok {
		c := f.errNext[k]
		if c.n--; c.n <= 0 {
			delete(f.errNext, k)
		}
		return wxError(c.code, c.msg), true
	}
	return reply{}, false
}

func (s *Server) denied45015(openid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults.deny45015[""] || s.faults.deny45015[openid]
}
