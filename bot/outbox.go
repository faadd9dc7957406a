package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/bot/wxapi"
	"github.com/lianxin/lianxin/internal/queue"
)

// The outbox delivery worker sends what the rest of lianxin queued in the
// outbox table (in the same transaction as the change that caused it):
// customer-service texts to residents and deputies, template messages, and
// posts to a station's WeCom group robot.
//
// Guarantees, and the one gap:
//
//   - Several processes share the queue. A row is claimed with a lease
//     (store.ClaimOutbox) before it is sent and marked sent (or rescheduled,
//     or dead) only by the lease holder, so two processes never send the same
//     row at once, and a row marked sent is never sent again.
//   - Each recipient gets their messages in order: a row is not claimed while
//     an earlier row to the same recipient is pending.
//   - State lives in SQLite, so a restart resumes where it stopped; a row
//     claimed by a process that died is taken over when its lease (2 min) runs
//     out.
//   - The gap is at-least-once: if a process dies (or its database write
//     fails) after WeChat accepted a send but before the row is marked sent,
//     the row is sent again after the lease runs out. For template messages
//     that is closed by client_msg_id (wxapi.ClientMsgID of the idem_key):
//     WeChat delivers a repeated touser+client_msg_id once within 10 minutes,
//     which is why the lease must stay well under 10 minutes. Customer-service
//     messages and robot posts have no such key; a duplicate is possible in
//     that window, and only there.
//
// A cs_text row may carry a template fallback (lianxin.NotifyPayload): when
// WeChat refuses the text because the recipient's 48-hour window is closed
// (45015, 45047), the template is sent instead. That is how deputies who
// have not written lately are reached.
//
// Recipients: an openid; "deputy:ID" (lianxin.DeputyRecipient), resolved at
// send time to the WeChat user the deputy has bound, the row waiting without
// using up attempts until they bind; for robot rows, the robot's webhook URL
// or a key OutboxConfig.RobotURL maps to one.

// OutboxStore is the outbox as the delivery worker sees it (store.DB).
type OutboxStore interface {
	ClaimOutbox(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]lianxin.OutboxMessage, error)
	MarkOutboxSent(ctx context.Context, id int64, owner, via string, now time.Time) error
	RetryOutbox(ctx context.Context, id int64, owner string, next time.Time, lastErr string) error
	DeferOutbox(ctx context.Context, id int64, owner string, next time.Time, reason string) error
	MarkOutboxDead(ctx context.Context, id int64, owner string, lastErr string) error
}

// DeputyDirectory finds the WeChat user a deputy is bound to (store.DB):
// "" while they have not bound, a lianxin ENOTFOUND error for no such deputy.
type DeputyDirectory interface {
	DeputyOpenID(ctx context.Context, deputyID string) (string, error)
}

// CaseStates says where a case is now (store.DB), for the rules notices
// carry (lianxin.NoticeRule).
type CaseStates interface {
	CaseState(ctx context.Context, caseID int64) (lianxin.Status, string, error)
}

// Dropper ends a claimed send that is no longer worth sending (store.DB).
type Dropper interface {
	MarkOutboxDropped(ctx context.Context, id int64, owner, reason string) error
}

// InboundWindow says when a WeChat user last wrote to the account
// (store.DB): WeChat accepts customer-service messages only within 48 hours
// of that.
type InboundWindow interface {
	LastInbound(ctx context.Context, openid string) (time.Time, bool, error)
}

// serviceWindow is how long after a user's last message WeChat accepts
// customer-service messages to them.
const serviceWindow = 48 * time.Hour

// deputyPrefix marks a recipient that is a deputy rather than an openid
// (lianxin.DeputyRecipient). Openids never contain a colon.
const deputyPrefix = "deputy:"

// Sender sends through WeChat (wxapi.Client); its errors carry the wxapi
// kinds.
type Sender interface {
	SendText(ctx context.Context, openid, text string) error
	SendTemplate(ctx context.Context, m wxapi.TemplateMessage) (msgID int64, err error)
	SendRobot(ctx context.Context, webhookURL string, m wxapi.RobotMessage) error
	UploadMedia(ctx context.Context, mediaType, filename string, data []byte) (mediaID string, err error)
	SendImage(ctx context.Context, openid, mediaID string) error
	SendVoice(ctx context.Context, openid, mediaID string) error
}

// MediaLibrary is where the stored photos and voice are (store.DB): an
// OutboxMedia row sends one, uploaded once as WeChat temporary media.
type MediaLibrary interface {
	AttachmentToSend(ctx context.Context, id int64) (*lianxin.Attachment, error)
	RememberUpload(ctx context.Context, id int64, mediaID string, at time.Time) error
}

// Defaults for OutboxConfig's zero fields.
const (
	DefaultOutboxConcurrency = 4
	DefaultOutboxMaxAttempts = 12
	DefaultOutboxLease       = 2 * time.Minute
	DefaultOutboxInterval    = 2 * time.Second
	DefaultOutboxRetryBase   = 5 * time.Second
	DefaultOutboxRetryMax    = 30 * time.Minute
	DefaultOutboxUnbound     = time.Minute
)

// Ways a sent row went out (outbox.via).
const (
	ViaCustom   = "custom"
	ViaTemplate = "template"
	ViaRobot    = "robot"
)

// OutboxConfig configures an OutboxWorker.
type OutboxConfig struct {
	// Concurrency is how many sends run at once (workers.notify, default 4).
	Concurrency int
	// MaxAttempts is how many times a send is tried before it is dead
	// (workers.max_attempts, default 12: about two hours with the default
	// backoff).
	MaxAttempts int
	// TemplateID is the template used by a fallback or template row that
	// names none (LIANXIN_WECHAT_TEMPLATE_ID).
	TemplateID string
	// RobotURL maps a robot row's recipient, when it is not itself a URL (a
	// station id), to the robot's webhook URL. Nil accepts URLs only.
	RobotURL func(key string) (webhookURL string, ok bool)
	// Window, when set, says when a recipient last wrote, so rows for
	// someone outside the 48-hour window go straight to their template.
	Window InboundWindow
	// Deputies resolves "deputy:ID" recipients to the WeChat user bound at
	// send time, so a notice queued before a deputy binds reaches them once
	// they do. Nil refuses such rows.
	Deputies DeputyDirectory
	// UnboundRetry is how often a row for a deputy who has not bound yet is
	// looked at again (default 1 min); waiting costs no attempts.
	UnboundRetry time.Duration
	// Media and DataDir (LIANXIN_DATA_DIR) are where OutboxMedia rows find
	// the photo or voice to send. Nil refuses such rows.
	Media   MediaLibrary
	DataDir string
	// Cases checks a row's rule (valid_while) against its case just before
	// it is sent; a row whose case has moved on is dropped. It must also
	// be a Dropper. Nil sends every row as it is.
	Cases interface {
		CaseStates
		Dropper
	}
	// Pacing: lease 2 min (it must exceed the API client's timeout and stay
	// well under WeChat's 10-minute client_msg_id memory), a look for due
	// rows every 2 s, retries from 5 s doubling to 30 min.
	queue.Pacing
	// Registerer, when set, gets the worker's metrics.
	Registerer prometheus.Registerer
}

// OutboxWorker delivers queued sends.
// Notify (something was queued: send it now), Run and Poll come from the
// embedded queue runner.
type OutboxWorker struct {
	*queue.Runner[lianxin.OutboxMessage]
	db   OutboxStore
	api  Sender
	cfg  OutboxConfig
	done *prometheus.CounterVec
	// failing is set while the latest send WeChat's API as a whole answered
	// failed (network, 5xx, token, credentials, quota), until one succeeds.
	failing atomic.Bool
}

// Delivering reports whether notices are going out: false from a send
// that failed for reasons of WeChat's API as a whole until the next one
// that succeeds. A refusal for one recipient (45015, an unknown openid)
// says nothing about the others and does not count. Deputies are told
// «已通知群众» only while it is true.
func (w *OutboxWorker) Delivering() bool { return !w.failing.Load() }

// NewOutboxWorker returns a worker; call Run, or Poll to drive it step by step.
func NewOutboxWorker(db OutboxStore, api Sender, cfg OutboxConfig) (*OutboxWorker, error) {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultOutboxConcurrency
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultOutboxMaxAttempts
	}
	cfg.Pacing = cfg.Pacing.WithDefaults("outbox", queue.Pacing{
		Lease: DefaultOutboxLease, Interval: DefaultOutboxInterval, RetryBase: DefaultOutboxRetryBase, RetryMax: DefaultOutboxRetryMax})
	if cfg.UnboundRetry <= 0 {
		cfg.UnboundRetry = DefaultOutboxUnbound
	}
	w := &OutboxWorker{
		db: db, api: api, cfg: cfg,
		done: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lianxin_outbox_attempts_total",
			Help: "Outbox send attempts by kind and outcome: sent, fallback (sent as a template outside the 48-hour window), retry, waiting (deputy not bound yet), dead, dropped (its case moved on).",
		}, []string{"kind", "outcome"}),
	}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(w.done); err != nil {
			return nil, fmt.Errorf("outbox: metrics: %w", err)
		}
	}
	w.Runner = queue.NewRunner("outbox", cfg.Pacing, cfg.Concurrency, db.ClaimOutbox, w.process)
	return w, nil
}

func (w *OutboxWorker) process(ctx context.Context, m lianxin.OutboxMessage) {
	log := w.cfg.Log.With("outbox", m.ID, "kind", m.Kind, "attempt", m.Attempts, "to", MaskRecipient(m.Kind, m.Recipient))
	if stale, err := w.outgrown(ctx, m); err != nil || stale != "" {
		w.drop(ctx, log, m, stale, err)
		return
	}
	via, err := w.deliver(ctx, m)
	switch {
	case err == nil:
		w.failing.Store(false)
	case ctx.Err() == nil && retryable(err) && !errors.As(err, new(*unboundError)):
		w.failing.Store(true)
	}
	// The outcome is recorded even if ctx ended meanwhile: WeChat may have
	// accepted the send, and forgetting that is what causes duplicates.
	rctx := context.WithoutCancel(ctx)
	switch {
	case err == nil:
		if err := w.db.MarkOutboxSent(rctx, m.ID, w.cfg.Owner, via, w.cfg.Now()); err != nil {
			log.Error("outbox: sent, but recording it failed; it may be sent again", "err", err)
			return
		}
		outcome := "sent"
		if m.Kind == lianxin.OutboxText && via == ViaTemplate {
			outcome = "fallback"
		}
		w.done.WithLabelValues(m.Kind, outcome).Inc()
		log.Info("outbox: sent", "via", via)
	case errors.As(err, new(*dropError)):
		if w.cfg.Cases == nil {
			w.db.MarkOutboxDead(rctx, m.ID, w.cfg.Owner, err.Error())
			return
		}
		w.drop(ctx, log, m, err.Error(), nil)
	case errors.As(err, new(*unboundError)):
		next := w.cfg.Now().Add(w.cfg.UnboundRetry)
		if err := w.db.DeferOutbox(rctx, m.ID, w.cfg.Owner, next, err.Error()); err != nil {
			log.Warn("outbox: deferring failed; the lease will run out", "err", err)
			return
		}
		w.done.WithLabelValues(m.Kind, "waiting").Inc()
		log.Debug("outbox: recipient not bound yet; waiting", "next", next)
	case ctx.Err() != nil:
		// Shutting down mid-send: due again at once, for whoever is left.
		if err := w.db.RetryOutbox(rctx, m.ID, w.cfg.Owner, w.cfg.Now(), m.LastError); err != nil {
			log.Warn("outbox: handing back failed; the lease will run out", "err", err)
		}
	case retryable(err) && m.Attempts < w.cfg.MaxAttempts:
		next := w.cfg.NextAttempt(m.Attempts)
		if err := w.db.RetryOutbox(rctx, m.ID, w.cfg.Owner, next, err.Error()); err != nil {
			log.Warn("outbox: rescheduling failed; the lease will run out", "err", err)
			return
		}
		w.done.WithLabelValues(m.Kind, "retry").Inc()
		log.Info("outbox: send failed; will retry", "next", next, "err", err)
	default:
		reason := err.Error()
		if retryable(err) {
			reason = fmt.Sprintf("gave up after %d attempts: %s", m.Attempts, reason)
		}
		if err := w.db.MarkOutboxDead(rctx, m.ID, w.cfg.Owner, reason); err != nil {
			log.Warn("outbox: marking dead failed; the lease will run out", "err", err)
			return
		}
		w.done.WithLabelValues(m.Kind, "dead").Inc()
		log.Warn("outbox: send given up", "reason", reason)
	}
}

// outgrown checks a row's rule against its case: stale says why the row
// is no longer worth sending, "" when it is (or has no rule).
func (w *OutboxWorker) outgrown(ctx context.Context, m lianxin.OutboxMessage) (stale string, err error) {
	if m.ValidWhile == "" || m.CaseID == nil || w.cfg.Cases == nil {
		return "", nil
	}
	var rule lianxin.NoticeRule
	if err := json.Unmarshal([]byte(m.ValidWhile), &rule); err != nil {
		return "", nil // an unreadable rule does not stop a notice
	}
	status, assignee, err := w.cfg.Cases.CaseState(ctx, *m.CaseID)
	switch {
	case lianxin.ErrorCode(err) == lianxin.ENOTFOUND:
		return "its case no longer exists", nil
	case err != nil:
		return "", err
	case !rule.Holds(status, assignee):
		return fmt.Sprintf("its case moved on (now %s, assigned to %q)", status, assignee), nil
	}
	return "", nil
}

// drop records a row its case has outgrown as dropped, or, when the case
// could not be read, gives the row back to try again.
func (w *OutboxWorker) drop(ctx context.Context, log *slog.Logger, m lianxin.OutboxMessage, stale string, err error) {
	rctx := context.WithoutCancel(ctx)
	if err != nil {
		if rerr := w.db.RetryOutbox(rctx, m.ID, w.cfg.Owner, w.cfg.NextAttempt(m.Attempts), "checking its case: "+err.Error()); rerr != nil {
			log.Warn("outbox: rescheduling failed; the lease will run out", "err", rerr)
		}
		return
	}
	if err := w.cfg.Cases.MarkOutboxDropped(rctx, m.ID, w.cfg.Owner, stale); err != nil {
		log.Warn("outbox: dropping failed; the lease will run out", "err", err)
		return
	}
	w.done.WithLabelValues(m.Kind, "dropped").Inc()
	log.Info("outbox: dropped, its case moved on", "reason", stale)
}

// outsideWindow reports whether the recipient has certainly not written
// within the last 48 hours. Unknown means try the customer-service message
// (WeChat's 45015 still sends the template then).
func (w *OutboxWorker) outsideWindow(ctx context.Context, openid string) bool {
	if w.cfg.Window == nil {
		return false
	}
	last, ok, err := w.cfg.Window.LastInbound(ctx, openid)
	if err != nil || !ok {
		return false
	}
	return w.cfg.Now().Sub(last) > serviceWindow
}

// deliver sends one row and says how it went out.
func (w *OutboxWorker) deliver(ctx context.Context, m lianxin.OutboxMessage) (via string, err error) {
	if m.Kind != lianxin.OutboxRobot {
		if m.Recipient, err = w.openID(ctx, m.Recipient); err != nil {
			return "", err
		}
	}
	switch m.Kind {
	case lianxin.OutboxText:
		var p lianxin.NotifyPayload
		if err := json.Unmarshal([]byte(m.Payload), &p); err != nil {
			return "", badRow("payload is not a text message: %v", err)
		}
		if p.Template != nil && w.outsideWindow(ctx, m.Recipient) {
			// Known to be outside the 48 hours: the customer-service
			// message would only be refused.
			return ViaTemplate, w.sendTemplate(ctx, m, *p.Template)
		}
		err := w.api.SendText(ctx, m.Recipient, p.Text)
		if !errors.Is(err, wxapi.ErrOutOfWindow) {
			return ViaCustom, err
		}
		if p.Template == nil {
			return "", fmt.Errorf("%w (no template fallback)", err)
		}
		return ViaTemplate, w.sendTemplate(ctx, m, *p.Template)
	case lianxin.OutboxTemplate:
		var p lianxin.TemplatePayload
		if err := json.Unmarshal([]byte(m.Payload), &p); err != nil {
			return "", badRow("payload is not a template message: %v", err)
		}
		return ViaTemplate, w.sendTemplate(ctx, m, p)
	case lianxin.OutboxMedia:
		var p lianxin.MediaPayload
		if err := json.Unmarshal([]byte(m.Payload), &p); err != nil {
			return "", badRow("payload is not a media message: %v", err)
		}
		return ViaCustom, w.sendMedia(ctx, m.Recipient, p.AttachmentID)
	case lianxin.OutboxRobot:
		var p lianxin.RobotPayload
		if err := json.Unmarshal([]byte(m.Payload), &p); err != nil {
			return "", badRow("payload is not a robot message: %v", err)
		}
		u, err := w.robotURL(m.Recipient)
		if err != nil {
			return "", err
		}
		return ViaRobot, w.api.SendRobot(ctx, u, wxapi.RobotMessage{MsgType: p.MsgType, Content: p.Content, MentionedMobiles: p.MentionedMobiles})
	}
	return "", badRow("unknown outbox kind %q", m.Kind)
}

func (w *OutboxWorker) sendTemplate(ctx context.Context, m lianxin.OutboxMessage, p lianxin.TemplatePayload) error {
	id := p.TemplateID
	if id == "" {
		id = w.cfg.TemplateID
	}
	if id == "" {
		return badRow("no template id (set LIANXIN_WECHAT_TEMPLATE_ID)")
	}
	_, err := w.api.SendTemplate(ctx, wxapi.TemplateMessage{
		ToUser: m.Recipient, TemplateID: id, URL: p.URL, Data: p.Data,
		ClientMsgID: wxapi.ClientMsgID(m.IdemKey),
	})
	return err
}

// uploadKeep is how long an upload is reused: WeChat keeps temporary media
// 3 days; an hour's margin keeps a send from racing its expiry.
const uploadKeep = lianxin.MediaLifetime - time.Hour

// sendMedia sends a stored photo as an image message, or a voice message as
// voice: uploaded once as temporary media and the upload reused while WeChat
// keeps it. One still being fetched from the resident's message waits (no
// attempt used); one that never arrived is dropped.
func (w *OutboxWorker) sendMedia(ctx context.Context, openid string, id int64) error {
	if w.cfg.Media == nil {
		return badRow("cannot send attachment %d: no media library", id)
	}
	a, err := w.cfg.Media.AttachmentToSend(ctx, id)
	switch {
	case lianxin.ErrorCode(err) == lianxin.ENOTFOUND:
		return &dropError{fmt.Sprintf("attachment %d does not exist", id)}
	case err != nil:
		return err
	case a.Status == lianxin.AttachmentPending:
		return &unboundError{what: fmt.Sprintf("attachment %d is still being fetched", id)}
	case a.Status != lianxin.AttachmentStored:
		return &dropError{fmt.Sprintf("attachment %d never arrived: %s", id, a.Error)}
	}
	send, mediaType := w.api.SendImage, wxapi.MediaImage
	if a.Kind == lianxin.KindVoice {
		send, mediaType = w.api.SendVoice, wxapi.MediaVoice
	}
	reused := a.UploadedMediaID != "" && a.UploadedAt != nil && w.cfg.Now().Sub(*a.UploadedAt) < uploadKeep
	mediaID := a.UploadedMediaID
	if !reused {
		if mediaID, err = w.upload(ctx, a, mediaType); err != nil {
			return err
		}
	}
	err = send(ctx, openid, mediaID)
	if reused && errors.Is(err, wxapi.ErrInvalidMedia) {
		// WeChat let it go sooner than it says: upload it again, once.
		if mediaID, err = w.upload(ctx, a, mediaType); err != nil {
			return err
		}
		err = send(ctx, openid, mediaID)
	}
	return err
}

// upload uploads a stored attachment's file and remembers the media id.
func (w *OutboxWorker) upload(ctx context.Context, a *lianxin.Attachment, mediaType string) (string, error) {
	data, err := os.ReadFile(filepath.Join(w.cfg.DataDir, filepath.FromSlash(a.Path)))
	if err != nil {
		return "", fmt.Errorf("reading attachment %d: %w", a.ID, err)
	}
	mediaID, err := w.api.UploadMedia(ctx, mediaType, path.Base(a.Path), data)
	if err != nil {
		return "", err
	}
	if err := w.cfg.Media.RememberUpload(context.WithoutCancel(ctx), a.ID, mediaID, w.cfg.Now()); err != nil {
		w.cfg.Log.Warn("outbox: remembering an upload failed; it will be uploaded again next time", "attachment", a.ID, "err", err)
	}
	return mediaID, nil
}

// dropError is a row with nothing left to send (the photo never arrived).
type dropError struct{ reason string }

func (e *dropError) Error() string { return e.reason }

// openID resolves a recipient to the openid to send to: an openid is
// itself; "deputy:ID" is whoever the deputy has bound.
func (w *OutboxWorker) openID(ctx context.Context, recipient string) (string, error) {
	id, ok := strings.CutPrefix(recipient, deputyPrefix)
	if !ok {
		return recipient, nil
	}
	if w.cfg.Deputies == nil {
		return "", badRow("cannot resolve %q: no deputy directory", recipient)
	}
	openid, err := w.cfg.Deputies.DeputyOpenID(ctx, id)
	switch {
	case lianxin.ErrorCode(err) == lianxin.ENOTFOUND:
		return "", badRow("no deputy %q", id)
	case err != nil:
		return "", err // the database: retried
	case openid == "":
		return "", &unboundError{what: "deputy " + id + " has not bound their WeChat yet"}
	}
	return openid, nil
}

// unboundError is something a row waits for without using up attempts: a
// deputy who has not bound their WeChat yet, a photo still being fetched.
type unboundError struct{ what string }

func (e *unboundError) Error() string { return e.what }

func (w *OutboxWorker) robotURL(recipient string) (string, error) {
	if strings.HasPrefix(recipient, "https://") || strings.HasPrefix(recipient, "http://") {
		return recipient, nil
	}
	if w.cfg.RobotURL != nil {
		if u, ok := w.cfg.RobotURL(recipient); ok && u != "" {
			return u, nil
		}
	}
	return "", badRow("no robot webhook URL for %q", recipient)
}

// rowError is a row that can never be sent as it is.
type rowError struct{ msg string }

func (e *rowError) Error() string { return e.msg }

func badRow(format string, args ...any) error { return &rowError{fmt.Sprintf(format, args...)} }

// retryable reports whether the same send may succeed later: WeChat or the
// network failing, a quota, the token or the credentials (an operator can
// fix those). Out of the window without a fallback, a refused recipient or
// content, or a malformed row is final.
func retryable(err error) bool {
	var row *rowError
	var drop *dropError
	if errors.As(err, &row) || errors.As(err, &drop) {
		return false
	}
	var ae *wxapi.APIError
	if !errors.As(err, &ae) {
		return true
	}
	for _, k := range []error{wxapi.ErrTransient, wxapi.ErrRateLimited, wxapi.ErrInvalidToken, wxapi.ErrUnauthorized} {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

// MaskRecipient shows whom an outbox row is for without the openid or robot
// key, for logs and operators.
func MaskRecipient(kind, recipient string) string {
	if kind == lianxin.OutboxRobot {
		if strings.Contains(recipient, "://") {
			return wxapi.MaskRobotURL(recipient)
		}
		return recipient // a station id
	}
	if strings.HasPrefix(recipient, deputyPrefix) {
		return recipient
	}
	return lianxin.MaskOpenID(recipient)
}
