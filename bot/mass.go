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

// Mass sends (群发), the machinery every practice shares: MassPusher sends
// what practices queued (table mass_sends: a consultation's publication, a
// reception day's reminder), outside any request, with a lease so several
// processes never send one twice, retries for WeChat's passing failures,
// and a clear end when the month's quota is used up; TagWorker gives
// residents their station's WeChat tag, which the sends go to.

// Broadcaster mass-sends a text to the followers with a WeChat tag ("" :
// every follower).
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

// Tagger gives followers a WeChat tag, creating the tag the first time.
type Tagger interface {
	EnsureTag(ctx context.Context, name string) (int64, error)
	TagUsers(ctx context.Context, tagID int64, openids []string) error
}

// TagStore is the tagging queue (store.DB).
type TagStore interface {
	ClaimResidentTags(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]lianxin.ResidentTag, error)
	FinishResidentTag(ctx context.Context, id int64, owner, status string, next time.Time, reason string) error
}

// TagWorker tags residents (table resident_tags); Notify, Run and Poll come
// from the embedded queue runner.
type TagWorker struct {
	*queue.Runner[lianxin.ResidentTag]
	db          TagStore
	api         Tagger
	pacing      queue.Pacing
	maxAttempts int
}

// NewTagWorker returns the worker: one tagging at a time (WeChat takes up
// to 50 openids a call, but residents arrive one by one).
func NewTagWorker(db TagStore, api Tagger, p queue.Pacing, maxAttempts int) *TagWorker {
	p = p.WithDefaults("tagging", queue.Pacing{Lease: time.Minute, Interval: 30 * time.Second, RetryBase: time.Minute, RetryMax: 6 * time.Hour})
	if maxAttempts <= 0 {
		maxAttempts = DefaultOutboxMaxAttempts
	}
	w := &TagWorker{db: db, api: api, pacing: p, maxAttempts: maxAttempts}
	w.Runner = queue.NewRunner("tagging", p, 1, db.ClaimResidentTags, w.process)
	return w
}

func (w *TagWorker) process(ctx context.Context, rt lianxin.ResidentTag) {
	log := w.pacing.Log.With("tagging", rt.ID, "tag", rt.Tag, "attempt", rt.Attempts)
	id, err := w.api.EnsureTag(ctx, rt.Tag)
	if err == nil {
		err = w.api.TagUsers(ctx, id, []string{rt.OpenID})
	}
	rctx := context.WithoutCancel(ctx)
	status, next, reason := lianxin.OutboxSent, time.Time{}, ""
	switch {
	case err == nil:
	case errors.Is(err, wxapi.ErrTooManyTags):
		status, reason = lianxin.OutboxDead, err.Error()
		log.Warn("tagging: too many tags; tidy the account's tags in the back office", "err", err)
	case ctx.Err() != nil:
		status, next, reason = lianxin.OutboxPending, w.pacing.Now(), rt.LastError
	case retryable(err) && rt.Attempts < w.maxAttempts:
		status, next, reason = lianxin.OutboxPending, w.pacing.NextAttempt(rt.Attempts), err.Error()
	default:
		status, reason = lianxin.OutboxDead, err.Error()
		log.Warn("tagging: given up", "err", err)
	}
	if err := w.db.FinishResidentTag(rctx, rt.ID, w.pacing.Owner, status, next, reason); err != nil {
		log.Warn("tagging: recording the outcome failed; the lease will run out", "err", err)
	}
}
