// Package dispatch owns the Redis side of conversations: it applies each
// resident's messages one at a time, in arrival order, exactly once, across
// any number of processes sharing one Redis, and remembers every reply so
// WeChat's retries get the same answer (Dispatcher). The Lua scripts that
// make each step one round trip live in lua/. What a message does to a
// conversation is the Machine's business (flows.Engine).
package dispatch

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/lianxin/lianxin"
)

// The dispatcher's Redis scripts. Each is one round trip; a message normally
// costs two (admit, commit).
var (
	//go:embed lua/admit.lua
	admitSrc string
	//go:embed lua/commit.lua
	commitSrc string
	//go:embed lua/poll.lua
	pollSrc string
	//go:embed lua/abandon.lua
	abandonSrc string
	//go:embed lua/nonce.lua
	nonceSrc string

	admitScript   = redis.NewScript(admitSrc)
	commitScript  = redis.NewScript(commitSrc)
	pollScript    = redis.NewScript(pollSrc)
	abandonScript = redis.NewScript(abandonSrc)
	nonceScript   = redis.NewScript(nonceSrc)
)

// Machine is the conversation the dispatcher drives (Engine in production).
type Machine interface {
	// Step applies msgs, in order, to the stored state and returns the new
	// state ("" deletes it), how long Redis keeps it, and one reply per message.
	Step(ctx context.Context, state string, msgs []*lianxin.Inbound, now time.Time) (next string, ttl time.Duration, replies []lianxin.Reply)
}

// LateFunc receives the reply of a message the webhook stopped waiting for.
type LateFunc func(ctx context.Context, m *lianxin.Inbound, r lianxin.Reply)

// Dispatcher applies each resident's messages one at a time, in arrival
// order, exactly once, across any number of processes sharing one Redis.
//
// Per resident there is an inbox list and a lock. Whoever takes the lock is
// the applier: it applies every message in the inbox in order to the
// resident's session, then stores the session and each message's reply in one
// script. Other requests for the same resident wait for their message's reply
// (or take over if the applier vanished). Replies are kept under the
// message's key, so WeChat's retries get the same answer without a second effect.
type Dispatcher struct {
	rdb    redis.Scripter
	runner scriptRunner
	prefix string
	engine Machine
	late   LateFunc
	log    *slog.Logger

	NonceTTL   time.Duration
	PendingTTL time.Duration
	LockTTL    time.Duration
	ReplyTTL   time.Duration
	InboxTTL   time.Duration
	Now        func() time.Time

	applied atomic.Int64
	// Observe, when set, receives how long each part of applying took:
	// "admit" and "commit" (Redis round trips) and "step" (the engine).
	Observe func(part string, d time.Duration)
}

func (d *Dispatcher) observe(part string, since time.Time) {
	if d.Observe != nil {
		d.Observe(part, time.Since(since))
	}
}

// Applied is how many messages this dispatcher has applied to conversations
// (each message exactly once across all processes; retries are not counted).
func (d *Dispatcher) Applied() int64 { return d.applied.Load() }

// NewDispatcher returns a dispatcher keeping its keys under prefix.
func NewDispatcher(rdb redis.Scripter, prefix string, engine Machine, late LateFunc, log *slog.Logger) *Dispatcher {
	return &Dispatcher{
		rdb: rdb, runner: directRunner{rdb}, prefix: prefix, engine: engine, late: late, log: log,
		NonceTTL:   6 * time.Minute, // for deliveries that do not say (NonceUntil)
		PendingTTL: time.Minute,
		LockTTL:    5 * time.Second,
		ReplyTTL:   time.Hour,
		InboxTTL:   time.Hour,
		Now:        time.Now,
	}
}

func (d *Dispatcher) key(kind, id string) string {
	var b strings.Builder
	b.Grow(len(d.prefix) + len(kind) + len(id) + 1)
	b.WriteString(d.prefix)
	b.WriteString(kind)
	b.WriteByte(':')
	b.WriteString(id)
	return b.String()
}

// Keys of one resident's conversation. Every key a script touches for a
// resident (inbox, lock, session, and the keys of the resident's messages)
// carries the resident's hash tag {openid}, so all of them are in one hash
// slot: the scripts' keys are together on one node in a Redis Cluster, as
// they must be. (The replay guard's nonce key is the exception: a nonce is
// not the resident's.)
type residentKeys struct{ tag, inbox, lock, session string }

func (d *Dispatcher) residentKeys(openid string) residentKeys {
	tag := hashTag(openid)
	return residentKeys{tag: tag, inbox: d.key("q", tag), lock: d.key("l", tag), session: d.key("s", tag)}
}

func hashTag(openid string) string { return "{" + openid + "}" }

func (d *Dispatcher) msgKey(m *lianxin.Inbound) string {
	return d.key("m", hashTag(m.OpenID)+":"+m.Key())
}

// SessionKey is where the conversation of a resident is kept under prefix
// (for tools and tests that look inside Redis).
func SessionKey(prefix, openid string) string { return prefix + "s:" + hashTag(openid) }

func ms(t time.Duration) string { return strconv.FormatInt(t.Milliseconds(), 10) }

func newToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Batch makes concurrent requests share Redis round trips (pipelines) on
// lanes connections until ctx ends; afterwards calls go straight to Redis
// again. Call it before serving; the returned function waits for the lanes
// to finish what they hold.
func (d *Dispatcher) Batch(ctx context.Context, lanes int) (wait func()) {
	p, ok := d.rdb.(pipeliner)
	if !ok || lanes <= 0 {
		return func() {}
	}
	b := newBatchRunner(ctx, p, lanes)
	d.runner = b
	return b.wait
}

// Preload loads the scripts into Redis so the first messages do not pay for
// a NOSCRIPT round trip. Redis forgets scripts on restart; Run falls back to
// EVAL then, transparently.
func (d *Dispatcher) Preload(ctx context.Context) error {
	for _, s := range []*redis.Script{admitScript, commitScript, pollScript, abandonScript, nonceScript} {
		if err := s.Load(ctx, d.rdb).Err(); err != nil {
			return err
		}
	}
	return nil
}

// Dispatch applies the message (or finds its earlier reply) and returns the
// reply. It returns lianxin.ErrReplay, lianxin.ErrLate, or a Redis error (the caller then
// journals the message as deferred for Replay).
func (d *Dispatcher) Dispatch(ctx context.Context, dv lianxin.Delivery) (lianxin.Result, error) {
	m := dv.Msg
	payload, err := json.Marshal(m)
	if err != nil {
		return lianxin.Result{}, err
	}
	rk := d.residentKeys(m.OpenID)
	mk := d.msgKey(m)
	nonceKey := ""
	if dv.NonceKey != "" {
		nonceKey = d.key("n", dv.NonceKey)
	} else {
		nonceKey = mk // unused by the script when the body hash is empty
	}
	token := newToken()
	t0 := time.Now()
	res, err := d.runner.run(ctx, admitScript,
		[]string{nonceKey, mk, rk.inbox, rk.lock, rk.session},
		dv.BodyHash, ms(nonceTTL(dv.NonceUntil, d.NonceTTL)), token, ms(d.PendingTTL), payload, ms(d.LockTTL), ms(d.InboxTTL),
	)
	d.observe("admit", t0)
	if err != nil {
		return lianxin.Result{}, fmt.Errorf("dispatch: admit: %w", err)
	}
	switch res[0] {
	case "replay":
		return lianxin.Result{}, lianxin.ErrReplay
	case "dup":
		r, err := decodeStored(res[1])
		r.Duplicate = true
		return r, err
	case "lead":
		if r, ok, err := d.lead(ctx, token, rk, res[1], res[2:], mk, own{string(payload), m}); err != nil || ok {
			return r, err
		}
	}
	return d.wait(ctx, token, rk, mk, res[0] == "pending")
}

// nonceTTL is how long Redis keeps a nonce: until until (when its
// timestamp leaves the accepted window), or def when the caller did not say.
func nonceTTL(until time.Time, def time.Duration) time.Duration {
	if until.IsZero() {
		return def
	}
	return max(time.Until(until), time.Second)
}

// CheckNonce records a (timestamp, nonce) pair that came without a message
// (WeChat's URL verification) where Dispatch records messages' pairs, and
// returns lianxin.ErrReplay when the pair was seen with another hash. Any
// other error is Redis's.
func (d *Dispatcher) CheckNonce(ctx context.Context, n lianxin.Nonce) error {
	res, err := d.runner.run(ctx, nonceScript, []string{d.key("n", n.Key)}, n.Hash, ms(nonceTTL(n.Until, d.NonceTTL)))
	if err != nil {
		return fmt.Errorf("dispatch: nonce: %w", err)
	}
	if res[0] == "replay" {
		return lianxin.ErrReplay
	}
	return nil
}

// wait polls for the message's reply, taking over as applier when the lock is free.
func (d *Dispatcher) wait(ctx context.Context, token string, rk residentKeys, mk string, duplicate bool) (lianxin.Result, error) {
	backoff := time.Millisecond
	for {
		res, err := d.runner.run(ctx, pollScript, []string{mk, rk.lock, rk.session, rk.inbox}, token, ms(d.LockTTL))
		if err != nil {
			if ctx.Err() != nil {
				return d.abandon(mk)
			}
			return lianxin.Result{}, fmt.Errorf("dispatch: poll: %w", err)
		}
		switch res[0] {
		case "dup":
			r, err := decodeStored(res[1])
			r.Duplicate = duplicate
			return r, err
		case "gone":
			return lianxin.Result{}, fmt.Errorf("dispatch: message %s vanished from Redis", mk)
		case "lead":
			if r, ok, err := d.lead(ctx, token, rk, res[1], res[2:], mk, own{}); err != nil || ok {
				r.Duplicate = duplicate
				return r, err
			}
			continue
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return d.abandon(mk)
		case <-t.C:
		}
		if backoff < 16*time.Millisecond {
			backoff *= 2
		}
	}
}

// abandon marks the message so its eventual applier sends the reply late.
func (d *Dispatcher) abandon(mk string) (lianxin.Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	res, err := abandonScript.Run(ctx, d.rdb, []string{mk}).StringSlice()
	if err != nil {
		return lianxin.Result{}, fmt.Errorf("dispatch: abandon: %w", err)
	}
	if res[0] == "dup" {
		return decodeStored(res[1])
	}
	return lianxin.Result{}, lianxin.ErrLate
}

// own is the caller's message and its inbox entry: met in the inbox (as
// it usually is, alone), it needs no decoding.
type own struct {
	payload string
	msg     *lianxin.Inbound
}

// lead applies the inbox as the resident's applier until it is empty. ok is
// false when mk was not among the applied messages (the caller keeps waiting).
func (d *Dispatcher) lead(ctx context.Context, token string, rk residentKeys, state string, items []string, mk string, mine0 own) (mine lianxin.Result, ok bool, err error) {
	for {
		msgs := make([]*lianxin.Inbound, 0, len(items))
		keys := make([]string, 0, len(items)+3)
		keys = append(keys, rk.session, rk.inbox, rk.lock)
		for _, it := range items {
			if mine0.msg != nil && it == mine0.payload {
				m := *mine0.msg // a copy, as decoding would give
				msgs = append(msgs, &m)
				continue
			}
			m := &lianxin.Inbound{}
			if err := json.Unmarshal([]byte(it), m); err != nil {
				// Cannot happen with our own payloads; answer it with nothing
				// rather than wedge the resident's inbox forever.
				d.log.Error("undecodable inbox entry skipped", "err", err)
				m = nil
			}
			msgs = append(msgs, m)
		}
		valid := make([]*lianxin.Inbound, 0, len(msgs))
		for _, m := range msgs {
			if m != nil {
				valid = append(valid, m)
			}
		}
		now := d.Now()
		t0 := time.Now()
		next, ttl, stepped := d.engine.Step(ctx, state, valid, now)
		d.observe("step", t0)
		replies := make([]lianxin.Reply, len(msgs))
		for i, j := 0, 0; i < len(msgs); i++ {
			if msgs[i] == nil {
				keys = append(keys, d.key("m", rk.tag+":bad:"+newToken()))
				continue
			}
			keys = append(keys, d.msgKey(msgs[i]))
			if j < len(stepped) {
				replies[i] = stepped[j]
			}
			j++
		}
		args := make([]any, 0, len(items)+6)
		args = append(args, token, next, ms(ttl), strconv.Itoa(len(items)), ms(d.ReplyTTL), ms(d.LockTTL))
		stamp := now.Unix()
		for i, r := range replies {
			args = append(args, encodeStored(stamp, r))
			if keys[i+3] == mk {
				mine, ok = lianxin.Result{Reply: r, ReplyTime: stamp}, true
			}
		}
		// The commit must land even if the request's own deadline passed
		// while applying: the effects already happened.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		t1 := time.Now()
		res, err := d.runner.run(cctx, commitScript, keys, args...)
		d.observe("commit", t1)
		cancel()
		if err != nil {
			return lianxin.Result{}, false, fmt.Errorf("dispatch: commit: %w", err)
		}
		if res[0] != "lost" {
			d.applied.Add(int64(len(valid)))
		}
		if res[1] != "" && d.late != nil {
			for _, s := range strings.Split(res[1], ",") {
				i, _ := strconv.Atoi(s)
				if i >= 1 && i <= len(msgs) && msgs[i-1] != nil {
					d.late(ctx, msgs[i-1], replies[i-1])
				}
			}
		}
		switch res[0] {
		case "lost":
			// Our lock expired and someone else applies now; nothing of ours
			// was stored. Wait for their replies.
			d.log.Warn("applier lost its lock; another process took over")
			return lianxin.Result{}, false, nil
		case "done":
			return mine, ok, nil
		}
		state = next
		items = res[2:]
	}
}

// A stored reply is "d|<unix time>|<text>": the text and the time it was made,
// so every copy of a retried message gets byte-identical XML.
func encodeStored(stamp int64, r lianxin.Reply) string {
	return "d|" + strconv.FormatInt(stamp, 10) + "|" + r.Text
}

func decodeStored(s string) (lianxin.Result, error) {
	parts := strings.SplitN(s, "|", 3)
	if len(parts) != 3 || parts[0] != "d" {
		return lianxin.Result{}, fmt.Errorf("dispatch: bad stored reply %q", s)
	}
	t, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return lianxin.Result{}, fmt.Errorf("dispatch: bad stored reply time %q", parts[1])
	}
	return lianxin.Result{Reply: lianxin.Reply{Text: parts[2]}, ReplyTime: t}, nil
}
