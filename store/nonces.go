package store

import (
	"context"
	"errors"
	"time"

	"github.com/lianxin/lianxin"
)

// CheckNonce records a (timestamp, nonce) pair that came without a message
// to journal (WeChat's URL verification) and refuses it with
// lianxin.ErrReplay when it was recorded with another hash.
func (db *DB) CheckNonce(ctx context.Context, n lianxin.Nonce) (err error) {
	defer wrap(&err, "CheckNonce(%s)", n.Key)
	return db.TxCommitted(ctx, func(tx *Tx) error {
		return db.rememberNonce(tx, n, db.now())
	})
}

// rememberNonce records n in tx unless it is recorded already, and returns
// lianxin.ErrReplay when it was recorded with another hash. A pair whose
// time is up counts as absent (its timestamp is refused by now anyway).
func (db *DB) rememberNonce(tx *Tx, n lianxin.Nonce, now time.Time) error {
	// One statement: the pair's hash as recorded now (a new or expired
	// pair takes this one's).
	var hash string
	if err := tx.QueryRowx(`INSERT INTO nonces (key, body_hash, until) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET
			body_hash = CASE WHEN nonces.until < ? THEN excluded.body_hash ELSE nonces.body_hash END,
			until = CASE WHEN nonces.until < ? THEN excluded.until ELSE nonces.until END
		RETURNING body_hash`, n.Key, n.Hash, n.Until.UTC(), now, now).Scan(&hash); err != nil {
		return err
	}
	// Forget what has run out, about once a minute: a few minutes of
	// traffic, in the transaction of whichever write comes next.
	if last := db.noncesPruned.Load(); now.Unix()-last >= 60 && db.noncesPruned.CompareAndSwap(last, now.Unix()) {
		if _, err := tx.Exec(`DELETE FROM nonces WHERE until < ?`, now); err != nil {
			return err
		}
	}
	if hash != n.Hash {
		return lianxin.ErrReplay
	}
	return nil
}

// CheckWritable proves the database takes a write within ctx's deadline
// (readiness): another process holding the write lock, a full disk or a
// read-only file make it fail. The write itself may still finish later.
func (db *DB) CheckWritable(ctx context.Context) (err error) {
	defer wrap(&err, "CheckWritable")
	done := make(chan error, 1)
	go func() {
		done <- db.TxCommitted(context.WithoutCancel(ctx), func(tx *Tx) error {
			_, err := tx.Exec(`INSERT INTO readiness (id, checked_at) VALUES (1, ?)
				ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at`, db.now())
			return err
		})
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return errors.New("no write finished in time: the database is locked or stalled")
	}
}
