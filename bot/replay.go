package bot

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lianxin/lianxin"
)

// ReplayStore is the journal as the replayer sees it (store.DB).
type ReplayStore interface {
	Unsettled(ctx context.Context, before time.Time, limit int) ([]lianxin.JournalEntry, error)
	UnsettledFor(ctx context.Context, openid string) ([]lianxin.JournalEntry, error)
	EnqueueReply(ctx context.Context, m *lianxin.Inbound, outcome lianxin.Outcome, reply lianxin.Reply) error
	SettleJournal(ctx context.Context, id int64, outcome lianxin.Outcome, reply string) error
}

// Replayer feeds messages journaled while Redis was unavailable back into
// their conversations once it is available again, oldest first. Their
// replies can no longer ride on the webhook response, so they go out as
// customer-service messages through the outbox.
type Replayer struct {
	db      ReplayStore
	conv    Conversations
	metrics *Metrics
	log     *slog.Logger
	wake    chan struct{}
	backlog atomic.Bool
	mu      sync.Mutex // one replay pass at a time in this process
	// Interval is how often the journal is checked for deferred messages
	// (also those deferred by other processes). It bounds how long this
	// process can be unaware of another's backlog after an outage, during
	// which a resident's new message could overtake their deferred ones; a
	// check of the (normally empty) unsettled index costs microseconds.
	Interval time.Duration
}

// NewReplayer returns a replayer; call Run to start it.
func NewReplayer(db ReplayStore, conv Conversations, metrics *Metrics, log *slog.Logger) *Replayer {
	r := &Replayer{db: db, conv: conv, metrics: metrics, log: log, wake: make(chan struct{}, 1), Interval: 250 * time.Millisecond}
	r.backlog.Store(true) // unknown until the first pass: a crash may have left some
	return r
}

// Notify tells the replayer a message was deferred.
func (r *Replayer) Notify() {
	r.backlog.Store(true)
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// HasBacklog reports whether deferred messages may be waiting.
func (r *Replayer) HasBacklog() bool { return r.backlog.Load() }

// Run replays until ctx is cancelled.
func (r *Replayer) Run(ctx context.Context) {
	t := time.NewTicker(r.Interval)
	defer t.Stop()
	for {
		if err := r.Pass(ctx); err != nil && ctx.Err() == nil {
			r.log.Debug("replay pass stopped early; will retry", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		case <-t.C:
		}
	}
}

// Pass replays every deferred message it can; it stops at the first Redis
// failure (Redis is still down: try again later).
func (r *Replayer) Pass(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		rows, err := r.db.Unsettled(ctx, time.Now(), 100)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			r.backlog.Store(false)
			return nil
		}
		r.backlog.Store(true)
		for i := range rows {
			if err := r.replay(ctx, &rows[i]); err != nil {
				return err
			}
		}
	}
}

// CatchUp replays one resident's deferred messages before a new one is applied.
func (r *Replayer) CatchUp(ctx context.Context, openid string) error {
	rows, err := r.db.UnsettledFor(ctx, openid)
	if err != nil {
		return err
	}
	for i := range rows {
		if err := r.replay(ctx, &rows[i]); err != nil {
			return err
		}
	}
	return nil
}

func (r *Replayer) replay(ctx context.Context, e *lianxin.JournalEntry) error {
	m, err := e.Inbound()
	if err != nil {
		// A payload that cannot be decoded cannot be replayed; keep it for staff.
		r.log.Error("journal entry cannot be replayed", "id", e.ID, "err", err)
		return r.db.SettleJournal(ctx, e.ID, lianxin.OutcomeFailed, "")
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := r.conv.Dispatch(dctx, lianxin.Delivery{Msg: m})
	switch {
	case err == nil:
	case errors.Is(err, lianxin.ErrLate):
		// Applied later by another applier, which sends the reply itself.
		return r.db.EnqueueReply(ctx, m, lianxin.OutcomeLate, lianxin.Reply{})
	default:
		return err
	}
	if err := r.db.EnqueueReply(ctx, m, lianxin.OutcomeReplayed, res.Reply); err != nil {
		return err
	}
	r.metrics.Replayed.Inc()
	r.log.Info("deferred message replayed", "resident", lianxin.MaskOpenID(m.OpenID), "journal", e.ID)
	return nil
}
