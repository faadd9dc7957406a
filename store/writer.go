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
// cost one fsync instead of N (group commit). Each request runs inside its
// own savepoint: one failing request does not undo the others.
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
	err := w.runGroup(group, errs)
	if err != nil && len(group) > 1 {
		// The group as a whole failed (busy beyond the timeout, disk error):
		// retry each write alone so one bad write cannot fail its neighbours.
		for i := range group {
			one := []error{nil}
			if err := w.runGroup(group[i:i+1], one); err != nil {
				errs[i] = err
			} else {
				errs[i] = one[0]
			}
		}
		err = nil
	}
	for i, r := range group {
		if err != nil {
			r.errc <- err
		} else {
			r.errc <- errs[i]
		}
	}
}

// runGroup runs the group in one transaction; per-request errors go to errs,
// and the returned error is the transaction's own (begin or commit).
func (w *writer) runGroup(group []*writeReq, errs []error) (err error) {
	tx, err := w.db.Beginx()
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	for i, r := range group {
		if r.ctx.Err() != nil {
			errs[i] = r.ctx.Err()
			continue
		}
		if _, err := tx.Exec("SAVEPOINT w"); err != nil {
			return fmt.Errorf("store: savepoint: %w", err)
		}
		errs[i] = safeRun(r.fn, tx)
		if errs[i] != nil {
			if _, err := tx.Exec("ROLLBACK TO w"); err != nil {
				return fmt.Errorf("store: rollback to savepoint: %w", err)
			}
		}
		if _, err := tx.Exec("RELEASE w"); err != nil {
			return fmt.Errorf("store: release savepoint: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
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
