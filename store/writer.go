package store

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jmoiron/sqlx"
)

// writer is the single writer of the database. Requests that arrive while a
// transaction commits are gathered into the next one, so N concurrent writes
// cost one fsync instead of N (group commit). A failing request does not
// undo the others: the group is then rerun one request at a time.
type writer struct {
	db   *sqlx.DB
	reqs chan *writeReq
	stop chan struct{}
	done sync.WaitGroup
	once sync.Once
}

type writeReq struct {
	ctx  context.Context
	fn   func(*sqlx.Tx) error
	errc chan error
}

// maxGroup bounds how many writes share a transaction, so one commit never
// holds the lock long enough to starve another process.
const maxGroup = 256

var errClosed = errors.New("store: closed")

func newWriter(db *sqlx.DB) *writer {
	w := &writer{db: db, reqs: make(chan *writeReq, 1024), stop: make(chan struct{})}
	w.done.Add(1)
	go w.loop()
	return w
}

func (w *writer) do(ctx context.Context, fn func(*sqlx.Tx) error) error {
	r := &writeReq{ctx: ctx, fn: fn, errc: make(chan error, 1)}
	select {
	case w.reqs <- r:
	case <-w.stop:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued the write will be attempted; wait for its outcome so the
	// caller knows whether it is durable.
	return <-r.errc
}

func (w *writer) close() {
	w.once.Do(func() { close(w.stop) })
	w.done.Wait()
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
			// write is dropped.
			for {
				select {
				case r := <-w.reqs:
					w.commit(append(group[:0], r))
				default:
					return
				}
			}
		}
		group = append(group[:0], first)
	gather:
		for len(group) < maxGroup {
			select {
			case r := <-w.reqs:
				group = append(group, r)
			default:
				break gather
			}
		}
		w.commit(group)
	}
}

func (w *writer) commit(group []*writeReq) {
	errs := make([]error, len(group))
	failed, err := w.runGroup(group, errs)
	if err == nil && !failed {
		for _, r := range group {
			r.errc <- nil
		}
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
		if err == nil && failed {
			err = one[0]
		}
		r.errc <- err
	}
}

// runGroup runs the group in one transaction. If a write fails, the
// transaction is rolled back, failed is true and errs says which; the
// returned error is the transaction's own (begin or commit).
func (w *writer) runGroup(group []*writeReq, errs []error) (failed bool, err error) {
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
		if errs[i] = safeRun(r.fn, tx); errs[i] != nil {
			failed = true
		}
	}
	if failed {
		tx.Rollback()
		return true, nil
	}
	if err := tx.Commit(); err != nil {
		tx.Rollback()
		return false, fmt.Errorf("store: commit: %w", err)
	}
	return false, nil
}

// safeRun keeps a panicking write from killing the writer (and with it every
// future write): the panic becomes that write's error.
func safeRun(fn func(*sqlx.Tx) error, tx *sqlx.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store: write panicked: %v", p)
		}
	}()
	return fn(tx)
}
