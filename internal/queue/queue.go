// Package queue owns the loop the durable work queues (photos to fetch,
// messages to send) share: claim due rows from SQLite with a lease, process
// them with bounded concurrency, back off exponentially with jitter, and wake
// early when new work is registered. The tables, the claiming SQL and what
// "process" means live with each worker (bot/media, bot); this package only
// knows items and slots.
package queue

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"time"
)

// Pacing is how a queue worker paces itself. Workers embed it in their
// configuration; WithDefaults fills the zero fields with the worker's own
// defaults.
type Pacing struct {
	// Lease is how long a claimed row is this worker's. It must exceed the
	// time one item may take (the API client's timeout).
	Lease time.Duration
	// Interval is how often Run looks for due rows without being notified:
	// retries coming due, rows other processes queued.
	Interval time.Duration
	// RetryBase and RetryMax shape the backoff between attempts: RetryBase
	// doubled per attempt up to RetryMax, with jitter.
	RetryBase, RetryMax time.Duration
	// Owner names this worker in lease columns (default
	// host:pid:worker:random).
	Owner string
	// Now is the clock (default time.Now); Rand the jitter source (default
	// math/rand).
	Now  func() time.Time
	Rand func() float64
	// Log gets the worker's lines (default: discarded).
	Log *slog.Logger
}

// WithDefaults returns p with its zero fields taken from def, and an owner
// id, clock and logger when none is set.
func (p Pacing) WithDefaults(worker string, def Pacing) Pacing {
	if p.Lease <= 0 {
		p.Lease = def.Lease
	}
	if p.Interval <= 0 {
		p.Interval = def.Interval
	}
	if p.RetryBase <= 0 {
		p.RetryBase = def.RetryBase
	}
	if p.RetryMax < p.RetryBase {
		p.RetryMax = max(def.RetryMax, p.RetryBase)
	}
	if p.Owner == "" {
		p.Owner = Owner(worker)
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	return p
}

// NextAttempt is when an item that failed its attempts-th attempt is due again.
func (p Pacing) NextAttempt(attempts int) time.Time {
	return p.Now().Add(Backoff(attempts, p.RetryBase, p.RetryMax, p.Rand))
}

// Runner drives one queue: Notify wakes it, Run polls until its context
// ends, Poll drains what is due now. Workers embed it and supply how to claim
// and how to process an item.
type Runner[T any] struct {
	name    string
	pacing  Pacing
	slots   int
	wake    chan struct{}
	claim   ClaimFunc[T]
	process func(ctx context.Context, item T)
}

// ClaimFunc leases up to limit items due at now to owner for lease (the
// store's Claim* methods).
type ClaimFunc[T any] func(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]T, error)

// NewRunner returns a runner that claims at most slots items at a time, paced
// by p (which should have its defaults filled). name prefixes its log lines.
func NewRunner[T any](name string, p Pacing, slots int, claim ClaimFunc[T], process func(ctx context.Context, item T)) *Runner[T] {
	return &Runner[T]{name: name, pacing: p, slots: slots, wake: make(chan struct{}, 1), claim: claim, process: process}
}

// Notify says new work was queued, so it is taken now rather than at the
// next interval. It never blocks.
func (r *Runner[T]) Notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run processes due items until ctx is cancelled.
func (r *Runner[T]) Run(ctx context.Context) {
	Loop(ctx, r.pacing.Interval, r.wake, func(ctx context.Context) {
		if _, err := r.Poll(ctx); err != nil && ctx.Err() == nil {
			r.pacing.Log.Warn(r.name+": claiming failed; will retry", "err", err)
		}
	})
}

// Poll processes every item due now and returns how many it processed.
// Tests call it directly, with the worker's clock, to step through retries
// deterministically.
func (r *Runner[T]) Poll(ctx context.Context) (int, error) {
	return Drain(ctx, r.slots, func(ctx context.Context, n int) ([]T, error) {
		return r.claim(ctx, r.pacing.Owner, r.pacing.Now(), r.pacing.Lease, n)
	}, r.process)
}

// Drain claims and processes everything due now, at most slots items at a
// time, and returns how many it processed. It claims again whenever a slot
// frees, so work that becomes due because another item finished (the next
// message to the same recipient) is taken in the same pass; it returns when a
// claim finds nothing and nothing is in flight, or at the first claim error
// (after the items in flight finish). process must respect ctx and record
// its own outcome; Drain only counts.
func Drain[T any](ctx context.Context, slots int, claim func(ctx context.Context, n int) ([]T, error), process func(ctx context.Context, item T)) (int, error) {
	slots = max(slots, 1)
	done := make(chan struct{}, slots)
	inflight, n := 0, 0
	for {
		if free := slots - inflight; free > 0 && ctx.Err() == nil {
			items, err := claim(ctx, free)
			if err != nil {
				for ; inflight > 0; inflight-- {
					<-done
				}
				return n, err
			}
			for _, it := range items {
				inflight++
				n++
				go func() {
					defer func() { done <- struct{}{} }()
					process(ctx, it)
				}()
			}
			if len(items) == free {
				// Every slot taken: wait for one below.
			} else if len(items) > 0 {
				continue // fewer than asked: one more claim confirms nothing else is due
			}
		}
		if inflight == 0 {
			return n, ctx.Err()
		}
		<-done
		inflight--
	}
}

// Loop calls poll at once, then whenever wake fires or interval passes,
// until ctx ends. poll's errors are its own to log.
func Loop(ctx context.Context, interval time.Duration, wake <-chan struct{}, poll func(ctx context.Context)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-t.C:
		}
	}
}

// Backoff is the delay after the attempts-th failed attempt: base doubled
// per attempt, capped at max, with equal jitter (half fixed, half random) so
// rows that failed together (WeChat was down) do not all retry together.
// rnd returns a float in [0, 1); nil uses math/rand.
func Backoff(attempts int, base, max time.Duration, rnd func() float64) time.Duration {
	if rnd == nil {
		rnd = rand.Float64
	}
	d := base
	for i := 1; i < attempts && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	return d/2 + time.Duration(rnd()*float64(d/2))
}

// Owner returns a lease owner id for one worker in this process: the host
// and pid say where it runs (for an operator reading the table), the random
// part keeps two workers of one process apart.
func Owner(worker string) string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = crand.Read(b)
	return fmt.Sprintf("%s:%d:%s:%s", host, os.Getpid(), worker, hex.EncodeToString(b))
}
