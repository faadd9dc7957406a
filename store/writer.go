package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
)

// writer is the single writer of the database. Requests that arrive while a
// transaction runs are gathered into the next one (group commit). A failing
// request does not undo the others: the group is then rerun one request at a
// time.
//
// Durability is pipelined: SQLite commits without fsync (WAL,
// synchronous=NORMAL) and a separate syncer fsyncs the WAL file while the
// writer runs the next group. A durable write is acknowledged only once a
// sync that began after its commit has finished, so an acknowledged write
// survives a power cut just as with synchronous=FULL, but the writer never
// waits for the disk and every fsync covers all the groups committed during
// the previous one. Commits nobody waits on durably are synced with the next
// durable write, or within lazySync at the latest, so a quiet stream of
// commit-only writes costs a few fsyncs a second, not one per group.
type writer struct {
	db   *sqlx.DB
	reqs chan *writeReq
	stop chan struct{}
	done sync.WaitGroup
	once sync.Once

	wal       string // the WAL file to fsync; "" when SQLite syncs itself
	mu        sync.Mutex
	committed uint64     // commits so far
	synced    uint64     // commits covered by a finished fsync
	waiting   []syncWait // durable writes waiting for their sync
	syncing   bool       // a sync is running
	walFile   *os.File
	stopping  bool
	// kick wakes the syncer: a durable write waits, or the writer stopped.
	kick chan struct{}
	// idle is signalled when the syncer has released every durable write.
	idle chan struct{}

	stats WriterStats
}

type syncWait struct {
	seq  uint64
	errc chan error
}

// WriterStats counts the writer's work, for metrics and benchmarks.
type WriterStats struct {
	Groups, Writes     atomic.Int64
	ExecNanos, Commits atomic.Int64
	CommitNanos        atomic.Int64
	Syncs              atomic.Int64
}

type writeReq struct {
	ctx  context.Context
	fn   func(*Tx) error
	errc chan error
	// durable: acknowledge after the commit is on disk; otherwise as soon
	// as it is committed (visible to readers, durable with the next sync).
	durable bool
}

// maxGroup bounds how many writes share a transaction, so one commit never
// holds the lock long enough to starve another process.
const maxGroup = 256

// maxYields bounds how many times the writer steps aside to let a group
// grow before committing it.
const maxYields = 4

var errClosed = errors.New("store: closed")

func newWriter(db *sqlx.DB, wal string) *writer {
	w := &writer{db: db, reqs: make(chan *writeReq, 1024), stop: make(chan struct{}), wal: wal,
		idle: make(chan struct{}, 1), kick: make(chan struct{}, 1)}
	w.done.Add(1)
	go w.loop()
	if wal != "" {
		w.done.Add(1)
		go w.syncLoop()
	}
	return w
}

func (w *writer) do(ctx context.Context, fn func(*Tx) error, durable bool) error {
	r := &writeReq{ctx: ctx, fn: fn, errc: make(chan error, 1), durable: durable}
	select {
	case w.reqs <- r:
	case <-w.stop:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued the write will be attempted; wait for its outcome, whatever
	// the deadline: a caller that stopped waiting while fn still ran would
	// read fn's results under its feet. Callers that must answer by a
	// deadline wait in a goroutine of their own (the webhook does).
	return <-r.errc
}

// doBy is do for a caller that must answer by deadline: it stops waiting
// then (ErrWriteSlow), although the write still runs. The
// caller must therefore read what fn wrote only when doBy returned nil.
func (w *writer) doBy(deadline time.Time, fn func(*Tx) error, durable bool) error {
	r := &writeReq{ctx: context.Background(), fn: fn, errc: make(chan error, 1), durable: durable}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case w.reqs <- r:
	case <-w.stop:
		return errClosed
	case <-t.C:
		// The queue is full (the writer stalls): the write still lands
		// once there is room, as it would had it been queued in time.
		go func() {
			select {
			case w.reqs <- r:
			case <-w.stop:
			}
		}()
		return ErrWriteSlow
	}
	select {
	case err := <-r.errc:
		return err
	case <-t.C:
		return ErrWriteSlow
	}
}

// ErrWriteSlow is a write that did not finish by its caller's deadline (the
// database is locked by another process, the disk stalls). It may still land.
var ErrWriteSlow = errors.New("store: write did not finish in time")

func (w *writer) close() {
	w.once.Do(func() { close(w.stop) })
	w.done.Wait()
	if w.walFile != nil {
		w.walFile.Close()
	}
}

// committedGroup records a commit and arranges the group's acknowledgements:
// at once for the others, after the next sync for durable writes.
func (w *writer) committedGroup(group []*writeReq) {
	if w.wal == "" {
		for _, r := range group {
			r.errc <- nil
		}
		return
	}
	w.mu.Lock()
	w.committed++
	seq := w.committed
	durable := false
	for _, r := range group {
		if r.durable {
			w.waiting = append(w.waiting, syncWait{seq: seq, errc: r.errc})
			durable = true
		} else {
			r.errc <- nil
		}
	}
	w.mu.Unlock()
	if durable {
		w.wake()
	}
}

func (w *writer) wake() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// lazySync bounds how long a commit-only write stays off the disk when no
// durable write comes along to carry it.
const lazySync = 100 * time.Millisecond

// syncLoop fsyncs the WAL when a durable write waits for it (or every
// lazySync while commits are off the disk), and releases the durable writes
// each sync covers.
func (w *writer) syncLoop() {
	defer w.done.Done()
	tick := time.NewTicker(lazySync)
	defer tick.Stop()
	for {
		select {
		case <-w.kick:
		case <-tick.C:
		}
		w.mu.Lock()
		if w.synced == w.committed {
			stopping := w.stopping
			w.mu.Unlock()
			if stopping {
				return
			}
			continue
		}
		target := w.committed
		w.syncing = true
		w.mu.Unlock()

		err := w.syncWAL()
		w.stats.Syncs.Add(1)

		w.mu.Lock()
		w.synced = target
		w.syncing = false
		kept := w.waiting[:0]
		for _, sw := range w.waiting {
			if sw.seq <= target {
				sw.errc <- err
			} else {
				kept = append(kept, sw)
			}
		}
		w.waiting = kept
		// Durable writes committed during this sync need another at once;
		// a stopping writer's syncer goes round to sync the rest and return.
		again := len(w.waiting) > 0 || w.stopping
		caughtUp := len(w.waiting) == 0
		w.mu.Unlock()
		if again {
			w.wake()
		}
		if caughtUp {
			select {
			case w.idle <- struct{}{}:
			default:
			}
		}
	}
}

// syncBehind reports whether a sync is running or about to (a durable write
// waits for one).
func (w *writer) syncBehind() bool {
	if w.wal == "" {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.syncing || len(w.waiting) > 0
}

// allDurable reports whether every write in the group waits for the disk.
func allDurable(group []*writeReq) bool {
	for _, r := range group {
		if !r.durable {
			return false
		}
	}
	return true
}

func (w *writer) syncWAL() error {
	if w.walFile == nil {
		f, err := os.OpenFile(w.wal, os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("store: open WAL for sync: %w", err)
		}
		w.walFile = f
	}
	if err := w.walFile.Sync(); err != nil {
		// The file may have been replaced; reopen on the next sync.
		w.walFile.Close()
		w.walFile = nil
		return fmt.Errorf("store: sync WAL: %w", err)
	}
	return nil
}

func (w *writer) loop() {
	defer w.done.Done()
	group := make([]*writeReq, 0, maxGroup)
	for {
		var first *writeReq
		select {
		case first = <-w.reqs:
		case <-w.stop:
			// Drain what was queued before close so no acknowledged-to-queue
			// write is dropped, then let the syncer finish.
			for {
				select {
				case r := <-w.reqs:
					w.commit(append(group[:0], r))
				default:
					w.mu.Lock()
					w.stopping = true
					w.mu.Unlock()
					w.wake()
					return
				}
			}
		}
		group = append(group[:0], first)
		// Let the goroutines that are ready to run go first: under load
		// they are webhook requests about to queue their writes, which then
		// share this transaction (a commit's page writes and WAL checksums
		// cost more than the rows). Idle, Gosched returns at once.
		for yields := 0; yields < maxYields; yields++ {
			n := len(group)
			runtime.Gosched()
		gather:
			for len(group) < maxGroup {
				select {
				case r := <-w.reqs:
					group = append(group, r)
				default:
					break gather
				}
			}
			if len(group) == n || len(group) >= maxGroup {
				break
			}
		}
		// Durable writes cannot be acknowledged before the next sync
		// anyway: while one runs, keep gathering, so each commit (and the
		// pages it writes) serves as many writes as possible. A write that
		// only waits for its commit goes at once.
		if allDurable(group) && w.syncBehind() {
			select {
			case <-w.idle: // drop a stale signal
			default:
			}
		wait:
			for len(group) < maxGroup && allDurable(group) && w.syncBehind() {
				select {
				case r := <-w.reqs:
					group = append(group, r)
				case <-w.idle:
					break wait
				case <-w.stop:
					break wait
				}
			}
		}
		w.commit(group)
	}
}

func (w *writer) commit(group []*writeReq) {
	errs := make([]error, len(group))
	failed, err := w.runGroup(group, errs)
	if err == nil && !failed {
		w.committedGroup(group)
		return
	}
	if len(group) == 1 {
		if err == nil {
			err = errs[0]
		}
		group[0].errc <- err
		return
	}
	// Something in the group failed (a write returned an error, or the
	// commit did): the transaction was rolled back, so run each write alone
	// and give each its own outcome. Errors are rare, so the common case
	// pays for no savepoints.
	for _, r := range group {
		one := []error{nil}
		failed, err := w.runGroup([]*writeReq{r}, one)
		if err == nil && !failed {
			w.committedGroup([]*writeReq{r})
			continue
		}
		if err == nil {
			err = one[0]
		}
		r.errc <- err
	}
}

// runGroup runs the group in one transaction. If a write fails, the
// transaction is rolled back, failed is true and errs says which; the
// returned error is the transaction's own (begin or commit).
func (w *writer) runGroup(group []*writeReq, errs []error) (failed bool, err error) {
	start := time.Now()
	w.stats.Groups.Add(1)
	w.stats.Writes.Add(int64(len(group)))
	tx, err := w.db.Beginx()
	if err != nil {
		return false, fmt.Errorf("store: begin: %w", err)
	}
	for i, r := range group {
		if r.ctx.Err() != nil {
			errs[i] = r.ctx.Err()
			failed = true
			continue
		}
		if errs[i] = safeRun(r.fn, &Tx{tx, sqliteDialect}); errs[i] != nil {
			failed = true
		}
	}
	if failed {
		tx.Rollback()
		return true, nil
	}
	c := time.Now()
	w.stats.ExecNanos.Add(int64(c.Sub(start)))
	defer func() { w.stats.CommitNanos.Add(int64(time.Since(c))); w.stats.Commits.Add(1) }()
	if err := tx.Commit(); err != nil {
		tx.Rollback()
		return false, fmt.Errorf("store: commit: %w", err)
	}
	return false, nil
}

// safeRun keeps a panicking write from killing the writer (and with it every
// future write): the panic becomes that write's error.
func safeRun(fn func(*Tx) error, tx *Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store: write panicked: %v", p)
		}
	}()
	return fn(tx)
}
