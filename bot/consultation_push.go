package bot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/bot/wxapi"
	"github.com/lianxin/lianxin/internal/queue"
)

// The consultation push: the worker that mass-sends (群发) what publishing
// a consultation queued (table mass_sends), outside any request, with a
// lease so several processes never send one twice, retries for WeChat's
// passing failures, and a clear end when the month's quota is used up.

// Broadcaster mass-sends a text to the followers with a WeChat tag ("" :
// every follower). The reception days' reminders implement it on the
// WeChat client too.
type Broadcaster interface {
	SendToTag(ctx context.Context, tag, text string) error
}

// OnceBroadcaster is a Broadcaster that WeChat deduplicates by a key, so a
// send repeated after a crash between sending and recording it is one.
type OnceBroadcaster interface {
	SendToTagOnce(ctx context.Context, tag, text, clientMsgID string) error
}

// MassPushStore is the mass-send queue (store.DB).
type MassPushStore interface {
	ClaimMassSends(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]lianxin.MassSend, error)
	FinishMassSend(ctx context.Context, id int64, owner, status string, next time.Time, reason string) error
}

// MassPusher sends queued mass sends; Notify, Run and Poll come from the
// embedded queue runner.
type MassPusher struct {
	*queue.Runner[lianxin.MassSend]
	db          MassPushStore
	api         Broadcaster
	pacing      queue.Pacing
	maxAttempts int
}

// NewMassPusher returns the worker. Mass sends are few: one at a time.
func NewMassPusher(db MassPushStore, api Broadcaster, p queue.Pacing, maxAttempts int) *MassPusher {
	p = p.WithDefaults("masspush", queue.Pacing{Lease: 2 * time.Minute, Interval: 10 * time.Second, RetryBase: time.Minute, RetryMax: time.Hour})
	if maxAttempts <= 0 {
		maxAttempts = DefaultOutboxMaxAttempts
	}
	w := &MassPusher{db: db, api: api, pacing: p, maxAttempts: maxAttempts}
	w.Runner = queue.NewRunner("masspush", p, 1, db.ClaimMassSends, w.process)
	return w
}

func (w *MassPusher) process(ctx context.Context, m lianxin.MassSend) {
	log := w.pacing.Log.With("mass_send", m.ID, "purpose", m.Purpose, "attempt", m.Attempts)
	var err error
	if once, ok := w.api.(OnceBroadcaster); ok {
		err = once.SendToTagOnce(ctx, m.Tag, m.Text, fmt.Sprintf("lianxin-mass-%d", m.ID))
	} else {
		err = w.api.SendToTag(ctx, m.Tag, m.Text)
	}
	rctx := context.WithoutCancel(ctx)
	status, next, reason := lianxin.OutboxSent, time.Time{}, ""
	switch {
	case err == nil:
		log.Info("masspush: sent", "tag", m.Tag)
	case errors.Is(err, wxapi.ErrNoMassQuota):
		status, reason = lianxin.MassQuotaUsed, err.Error()
		log.Warn("masspush: the month's mass-send quota is used up", "err", err)
	case ctx.Err() != nil:
		status, next, reason = lianxin.OutboxPending, w.pacing.Now(), m.LastError
	case retryable(err) && m.Attempts < w.maxAttempts:
		status, next, reason = lianxin.OutboxPending, w.pacing.NextAttempt(m.Attempts), err.Error()
		log.Info("masspush: failed; will retry", "next", next, "err", err)
	default:
		status, reason = lianxin.OutboxDead, err.Error()
		log.Warn("masspush: given up", "err", err)
	}
	if err := w.db.FinishMassSend(rctx, m.ID, w.pacing.Owner, status, next, reason); err != nil {
		log.Warn("masspush: recording the outcome failed; the lease will run out", "err", err)
	}
}
