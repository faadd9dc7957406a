package dispatch

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// scriptRunner runs one of the dispatcher's scripts.
type scriptRunner interface {
	run(ctx context.Context, s *redis.Script, keys []string, args ...any) ([]string, error)
}

// directRunner sends each script call on its own.
type directRunner struct{ rdb redis.Scripter }

func (d directRunner) run(ctx context.Context, s *redis.Script, keys []string, args ...any) ([]string, error) {
	return s.Run(ctx, d.rdb, keys, args...).StringSlice()
}

// pipeliner is the part of a Redis client the batcher needs.
type pipeliner interface {
	redis.Scripter
	Pipeline() redis.Pipeliner
}

// batchRunner sends the script calls of concurrent requests together, as one
// pipeline: one write and one read for the batch on this side, one wake-up
// and one reply buffer on Redis's, instead of one each per call. Calls that
// arrive while a pipeline is in flight form the next one, so a lone call
// waits for nothing (the same natural batching as the SQLite writer).
type batchRunner struct {
	rdb   pipeliner
	calls chan *scriptCall
	// mu guards closed against sends: a call is queued only while the lanes
	// still read the queue, so none is stranded at shutdown.
	mu     sync.RWMutex
	closed bool
	lanes  sync.WaitGroup
}

type scriptCall struct {
	ctx  context.Context
	s    *redis.Script
	keys []string
	args []any
	res  []string
	err  error
	done chan struct{}
}

// maxBatch bounds a pipeline, so one slow batch cannot hold many requests.
const maxBatch = 64

// newBatchRunner starts lanes pipelines that may be in flight at once. When
// ctx is cancelled the queue closes: the lanes send what it still holds and
// return, and calls made after that go straight to Redis.
func newBatchRunner(ctx context.Context, rdb pipeliner, lanes int) *batchRunner {
	b := &batchRunner{rdb: rdb, calls: make(chan *scriptCall, 1024)}
	b.lanes.Add(lanes + 1)
	for i := 0; i < lanes; i++ {
		go func() {
			defer b.lanes.Done()
			b.lane()
		}()
	}
	go func() {
		defer b.lanes.Done()
		<-ctx.Done()
		b.mu.Lock()
		b.closed = true
		close(b.calls)
		b.mu.Unlock()
	}()
	return b
}

// wait returns once the queue is closed and every lane has sent what it held.
func (b *batchRunner) wait() { b.lanes.Wait() }

func (b *batchRunner) run(ctx context.Context, s *redis.Script, keys []string, args ...any) ([]string, error) {
	c := &scriptCall{ctx: ctx, s: s, keys: keys, args: args, done: make(chan struct{})}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return s.Run(ctx, b.rdb, keys, args...).StringSlice()
	}
	select {
	case b.calls <- c:
		b.mu.RUnlock()
	case <-ctx.Done():
		b.mu.RUnlock()
		return nil, ctx.Err()
	}
	select {
	case <-c.done:
		return c.res, c.err
	case <-ctx.Done():
		// The call may still run, exactly as when a reply is lost on the wire.
		return nil, ctx.Err()
	}
}

// lane sends the queued calls as pipelines until the queue is closed and empty.
func (b *batchRunner) lane() {
	batch := make([]*scriptCall, 0, maxBatch)
	for first := range b.calls {
		batch = append(batch[:0], first)
		// Let the goroutines that are ready to run go first: under load they
		// are requests about to queue their calls, which then share this
		// pipeline (one write and one read here, one wake-up on Redis's
		// side). Idle, Gosched returns at once.
		for yields := 0; yields < maxYields; yields++ {
			n := len(batch)
			runtime.Gosched()
		gather:
			for len(batch) < maxBatch {
				select {
				case c, ok := <-b.calls:
					if !ok {
						break gather
					}
					batch = append(batch, c)
				default:
					break gather
				}
			}
			if len(batch) == n || len(batch) >= maxBatch {
				break
			}
		}
		b.send(batch)
	}
}

// maxYields bounds how many times a lane steps aside to let its batch grow.
const maxYields = 4

func (b *batchRunner) send(batch []*scriptCall) {
	// The pipeline outlives no caller by more than the client's own
	// timeouts; callers that gave up earlier have stopped waiting already.
	deadline := time.Now().Add(2 * time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	live := batch[:0:0]
	for _, c := range batch {
		if c.ctx.Err() != nil {
			c.err = c.ctx.Err()
			close(c.done)
			continue
		}
		live = append(live, c)
	}
	if len(live) == 0 {
		return
	}
	pipe := b.rdb.Pipeline()
	cmds := make([]*redis.Cmd, len(live))
	for i, c := range live {
		cmds[i] = c.s.EvalSha(ctx, pipe, c.keys, c.args...)
	}
	_, _ = pipe.Exec(ctx)
	for i, c := range live {
		c.res, c.err = cmds[i].StringSlice()
		if c.err != nil && strings.HasPrefix(c.err.Error(), "NOSCRIPT") {
			// Redis restarted and forgot the scripts: send the body.
			c.res, c.err = c.s.Run(ctx, b.rdb, c.keys, c.args...).StringSlice()
		}
		close(c.done)
	}
}
