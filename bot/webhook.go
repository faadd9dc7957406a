// Package bot is the WeChat side of lianxin: the webhook that verifies,
// decrypts, deduplicates and journals what WeChat posts and answers within
// WeChat's 5-second deadline; the replayer for messages that arrived while
// Redis was down; and the HTTP surface (health, readiness, metrics).
package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/bot/wxcrypt"
)

// Conversations is what the webhook hands messages to (dispatch.Dispatcher,
// in Redis). It is also the first replay guard: Dispatch refuses a message
// whose (timestamp, nonce) came before with another body.
type Conversations interface {
	Dispatch(ctx context.Context, d lianxin.Delivery) (lianxin.Result, error)
	// CheckNonce records a pair that came without a message (a URL
	// verification) where Dispatch records messages' pairs.
	CheckNonce(ctx context.Context, n lianxin.Nonce) error
}

// MessageJournal durably records every accepted message (store.DB). It is
// also the replay guard every process shares when Redis does not answer:
// each plaintext message's (timestamp, nonce) is recorded with it.
type MessageJournal interface {
	// Journal returns once the record is on disk.
	Journal(ctx context.Context, m *lianxin.Inbound, outcome lianxin.Outcome, reply string, n *lianxin.Nonce) (lianxin.Journaled, error)
	// JournalCommitted returns once it is committed (it survives a crash of
	// the process; the disk follows milliseconds later).
	JournalCommitted(ctx context.Context, m *lianxin.Inbound, outcome lianxin.Outcome, reply string, n *lianxin.Nonce) (lianxin.Journaled, error)
	// CheckNonce records a pair that came without a message.
	CheckNonce(ctx context.Context, n lianxin.Nonce) error
}

// WebhookConfig is what the webhook needs to know about the account.
type WebhookConfig struct {
	Token      string
	AppID      string
	AESKey     string // may be empty: plaintext mode only
	AESKeyPrev string // the key before the last rotation, tried second
	// AllowPlaintext accepts plaintext requests although a key is set
	// (while the account moves from 明文 to 兼容 or 安全 mode). Otherwise,
	// with a key, only encrypted requests are WeChat's: a plaintext
	// request's signature covers no part of its body.
	AllowPlaintext bool
	MaxBody        int64
	Budget         time.Duration // the whole request, well inside WeChat's 5 s
	Skew           time.Duration // how far a request's timestamp may be from now
	BusyText       string        // Redis unavailable: the message was journaled
	LateText       string        // not applied in time: the reply will follow
}

// Webhook is the handler WeChat posts to.
type Webhook struct {
	cfg      WebhookConfig
	keys     []wxcrypt.Key
	conv     Conversations
	journal  MessageJournal
	replayer *Replayer
	metrics  *Metrics
	log      *slog.Logger
	// Now is the clock; tests replace it.
	Now func() time.Time

	// warned is when each operator-facing refusal was last logged at warn.
	warnMu sync.Mutex
	warned map[string]time.Time
}

// NewWebhook builds the webhook. replayer may be nil (no catch-up).
func NewWebhook(cfg WebhookConfig, conv Conversations, journal MessageJournal, replayer *Replayer, metrics *Metrics, log *slog.Logger) (*Webhook, error) {
	h := &Webhook{cfg: cfg, conv: conv, journal: journal, replayer: replayer, metrics: metrics, log: log, Now: time.Now}
	for _, k := range []string{cfg.AESKey, cfg.AESKeyPrev} {
		if k == "" {
			continue
		}
		key, err := wxcrypt.DecodeKey(k)
		if err != nil {
			return nil, err
		}
		h.keys = append(h.keys, key)
	}
	return h, nil
}

// reject is a refused request: its status and the metric reason.
type reject struct {
	status int
	reason string
}

func (r *reject) Error() string { return r.reason }

func refuse(status int, reason string) *reject { return &reject{status: status, reason: reason} }

var (
	errBadSignature = refuse(http.StatusForbidden, "bad_signature")
	errStale        = refuse(http.StatusForbidden, "stale_timestamp")
	errReplay       = refuse(http.StatusForbidden, "replay")
	errPlaintext    = refuse(http.StatusForbidden, "plaintext_refused")
	errUnguarded    = refuse(http.StatusServiceUnavailable, "replay_guard_unavailable")
	errTooLarge     = refuse(http.StatusRequestEntityTooLarge, "too_large")
	errMethod       = refuse(http.StatusMethodNotAllowed, "method")
)

func xmlReject(err error) *reject {
	switch {
	case errors.Is(err, errXMLUTF8):
		return refuse(http.StatusBadRequest, "invalid_utf8")
	case errors.Is(err, errXMLDoctype), errors.Is(err, errXMLEntity):
		return refuse(http.StatusBadRequest, "xml_entities")
	case errors.Is(err, errMissingField):
		return refuse(http.StatusBadRequest, "missing_field")
	case errors.Is(err, errBadNumber):
		return refuse(http.StatusBadRequest, "bad_number")
	}
	return refuse(http.StatusBadRequest, "malformed_xml")
}

// ServeHTTP answers WeChat. Whatever happens downstream, the answer leaves
// within the configured budget; nothing here panics out to net/http.
func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	mode := "plain"
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("webhook panic", "panic", p)
			h.metrics.Requests.WithLabelValues("unknown", "error").Inc()
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
		h.metrics.observeLatency(mode, time.Since(start).Seconds())
	}()
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h.verifyURL(w, r)
	case http.MethodPost:
		h.receive(w, r, &mode)
	default:
		h.refused(w, errMethod)
	}
}

func (h *Webhook) refused(w http.ResponseWriter, rj *reject) {
	h.metrics.Rejected.WithLabelValues(rj.reason).Inc()
	h.metrics.Requests.WithLabelValues("unknown", "rejected").Inc()
	// 4xx are the client's problem: debug, not error. But a refused
	// signature or timestamp is usually this side's configuration (the
	// Token, the AES key, the clock), and then no resident gets an answer:
	// the operator is told, once a minute per reason.
	if hint, ok := operatorHints[rj.reason]; ok && h.warnDue(rj.reason) {
		h.log.Warn("webhook request refused; if every request is, check "+hint, "reason", rj.reason, "status", rj.status)
	} else {
		h.log.Debug("webhook request refused", "reason", rj.reason, "status", rj.status)
	}
	http.Error(w, rj.reason, rj.status)
}

// operatorHints: the refusals a misconfiguration causes, with what to check.
var operatorHints = map[string]string{
	"bad_signature":     "that LIANXIN_WECHAT_TOKEN (and LIANXIN_WECHAT_AESKEY) match the account's server configuration",
	"stale_timestamp":   "this machine's clock",
	"plaintext_refused": "the account's message mode (LIANXIN_WECHAT_ALLOW_PLAINTEXT while switching from 明文)",
}

// warnDue reports whether reason was not logged at warn in the last minute.
func (h *Webhook) warnDue(reason string) bool {
	h.warnMu.Lock()
	defer h.warnMu.Unlock()
	now := h.Now()
	if last, ok := h.warned[reason]; ok && now.Sub(last) < time.Minute {
		return false
	}
	if h.warned == nil {
		h.warned = map[string]time.Time{}
	}
	h.warned[reason] = now
	return true
}

// signed is a request's verified (timestamp, nonce) pair.
type signed struct {
	timestamp, nonce string
	// until is when the pair may be forgotten: its timestamp is refused
	// from then on (a second's margin covers the rounding to seconds).
	until time.Time
}

func (s signed) nonceKey() string { return s.timestamp + ":" + s.nonce }

// checkSignature verifies the URL signature and the timestamp window.
func (h *Webhook) checkSignature(q url.Values) (signed, *reject) {
	timestamp, nonce := q.Get("timestamp"), q.Get("nonce")
	if !wxcrypt.SignatureOK(q.Get("signature"), wxcrypt.Signature(h.cfg.Token, timestamp, nonce)) {
		return signed{}, errBadSignature
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return signed{}, errStale
	}
	if d := h.Now().Sub(time.Unix(ts, 0)); d > h.cfg.Skew || d < -h.cfg.Skew {
		return signed{}, errStale
	}
	return signed{timestamp: timestamp, nonce: nonce, until: time.Unix(ts, 0).Add(h.cfg.Skew + time.Second)}, nil
}

// verifyURL answers WeChat's URL verification (GET with echostr). Its
// signature is the one a plaintext message with the same pair would carry,
// and echostr is not signed at all, so its pair is recorded like a
// message's: reused with another echostr, or for a message, it is refused.
func (h *Webhook) verifyURL(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sig, rj := h.checkSignature(q)
	if rj != nil {
		h.refused(w, rj)
		return
	}
	sum := sha256.Sum256([]byte(q.Get("echostr")))
	n := lianxin.Nonce{Key: sig.nonceKey(), Hash: "verify:" + hex.EncodeToString(sum[:16]), Until: sig.until, Check: true}
	if rj := h.guardNonce(r.Context(), n); rj != nil {
		h.refused(w, rj)
		return
	}
	h.metrics.Requests.WithLabelValues("verify", "ok").Inc()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, q.Get("echostr"))
}

// guardNonce records a pair that came without a message in Redis, where
// messages' pairs are checked first, and in SQLite, which every process
// asks while Redis is down. One of them must answer.
func (h *Webhook) guardNonce(ctx context.Context, n lianxin.Nonce) *reject {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.Budget)
	defer cancel()
	rerr := h.conv.CheckNonce(ctx, n)
	serr := h.journal.CheckNonce(ctx, n)
	switch {
	case errors.Is(rerr, lianxin.ErrReplay), errors.Is(serr, lianxin.ErrReplay):
		return errReplay
	case rerr != nil && serr != nil:
		h.log.Warn("replay guard unavailable: neither Redis nor SQLite recorded a nonce", "redis", rerr, "sqlite", serr)
		return errUnguarded
	}
	return nil
}

// parsed is a verified, decrypted, parsed request.
type parsed struct {
	signed
	msg      *lianxin.Inbound
	key      wxcrypt.Key // the key that opened it; nil in plaintext mode
	bodyHash string
}

func (h *Webhook) parse(r *http.Request, mode *string) (*parsed, *reject) {
	if r.ContentLength > h.cfg.MaxBody {
		return nil, errTooLarge
	}
	q := r.URL.Query() // parsed once: it allocates
	sig, rj := h.checkSignature(q)
	if rj != nil {
		return nil, rj
	}
	et := q.Get("encrypt_type")
	if len(h.keys) > 0 && et != "aes" && !h.cfg.AllowPlaintext {
		return nil, errPlaintext
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, h.cfg.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errTooLarge
		}
		return nil, refuse(http.StatusBadRequest, "read_body")
	}
	var buf [24]xmlField
	fields, err := parseXML(body, buf[:0])
	if err != nil {
		return nil, xmlReject(err)
	}
	p := &parsed{signed: sig}
	timestamp, nonce := sig.timestamp, sig.nonce
	switch et {
	case "", "raw":
	case "aes":
		*mode = "aes"
		if _, ok := findField(fields, "MsgType"); ok {
			*mode = "compat" // compatible mode: plaintext and ciphertext side by side
		}
		enc, ok := findField(fields, "Encrypt")
		if !ok || enc == "" {
			return nil, refuse(http.StatusBadRequest, "missing_encrypt")
		}
		if !wxcrypt.SignatureOK(q.Get("msg_signature"), wxcrypt.Signature(h.cfg.Token, timestamp, nonce, enc)) {
			return nil, refuse(http.StatusForbidden, "bad_msg_signature")
		}
		if len(h.keys) == 0 {
			return nil, refuse(http.StatusBadRequest, "encryption_not_configured")
		}
		var plain []byte
		for _, k := range h.keys {
			if _, plain, err = wxcrypt.Decrypt(k, h.cfg.AppID, enc); err == nil {
				p.key = k
				break
			}
		}
		if p.key == nil {
			return nil, refuse(http.StatusBadRequest, "decrypt_failed")
		}
		if fields, err = parseXML(plain, buf[:0]); err != nil {
			return nil, xmlReject(err)
		}
	default:
		return nil, refuse(http.StatusBadRequest, "unknown_encrypt_type")
	}
	m, err := inboundFromXML(fields)
	if err != nil {
		return nil, xmlReject(err)
	}
	if p.key == nil {
		// Only a plaintext request's pair is recorded (see receive).
		sum := sha256.Sum256(body)
		p.bodyHash = hex.EncodeToString(sum[:16])
	}
	p.msg = m
	return p, nil
}

func (h *Webhook) receive(w http.ResponseWriter, r *http.Request, mode *string) {
	p, rj := h.parse(r, mode)
	if rj != nil {
		h.refused(w, rj)
		return
	}
	m := p.msg
	deadline := time.Now().Add(h.cfg.Budget)
	// Leave room after the conversation for the journal write and the reply.
	ctx, cancel := context.WithDeadline(r.Context(), deadline.Add(-h.cfg.Budget/4))
	defer cancel()

	outcome, res, rj := h.converse(ctx, p)
	if rj != nil {
		h.refused(w, rj)
		return
	}
	typ := kindLabel(m.Kind)
	// The reply may leave once the message is committed, unless it
	// acknowledges something that must survive a power cut: a message kept
	// only in the journal (deferred, late), or a write the conversation made
	// (a case, a photo, a deputy's action), whose commit the journal's sync
	// covers. A retry waits too, as its first copy's write may not be on disk
	// yet. A plain step's state lives in Redis, which keeps it no more
	// durably than a commit does.
	durable := outcome != lianxin.OutcomeReplied || res.Reply.Recorded
	// A plaintext request's pair is recorded with the message, so SQLite
	// knows it should Redis go down; a deferred message was checked by
	// nobody else, so the journal refuses its pair if it came with another
	// body. (An encrypted request's msg_signature covers its body: with
	// another body it fails the signature, and whole it is a retry.)
	var nonce *lianxin.Nonce
	if p.key == nil {
		nonce = &lianxin.Nonce{Key: p.nonceKey(), Hash: p.bodyHash, Until: p.until, Check: outcome == lianxin.OutcomeDeferred}
	}
	t1 := time.Now()
	j, err := h.journalBy(deadline, m, outcomeForJournal(outcome), res.Reply.Text, nonce, durable)
	h.metrics.ObservePhase("journal", time.Since(t1).Seconds())
	if errors.Is(err, lianxin.ErrReplay) {
		h.refused(w, errReplay)
		return
	}
	if err != nil {
		// Not durable: do not acknowledge, so WeChat retries the message.
		h.log.Error("journal write failed; asking WeChat to retry", "resident", lianxin.MaskOpenID(m.OpenID), "err", err)
		h.metrics.Requests.WithLabelValues(typ, "error").Inc()
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	if outcome == lianxin.OutcomeDeferred {
		if j.Fresh {
			h.metrics.Deferred.Inc()
		} else {
			outcome = lianxin.OutcomeDuplicate
			h.metrics.Duplicates.Inc()
			res.Reply = retryReply(j, res.Reply)
		}
		if h.replayer != nil {
			h.replayer.Notify()
		}
	}
	h.metrics.Requests.WithLabelValues(typ, string(outcome)).Inc()
	h.writeReply(w, p, res)
}

// retryReply answers a WeChat retry, while Redis is down, of a message
// journaled before, from the journal: the reply its first copy got. Only
// a first copy still waiting for replay makes the busy text (which
// promises a later answer) true.
func retryReply(j lianxin.Journaled, busy lianxin.Reply) lianxin.Reply {
	switch j.Outcome {
	case lianxin.OutcomeReceived, lianxin.OutcomeDeferred:
		return busy
	case lianxin.OutcomeReplied:
		return lianxin.Reply{Text: j.Reply}
	}
	// Late or replayed: the reply went, or goes, out as a customer-service
	// message; failed: staff have it.
	return lianxin.Reply{}
}

// kindLabel is a message kind as the type label of the metrics: WeChat's
// kinds, and "other" for anything else, so a sender cannot grow the label
// set (and Prometheus's memory) with kinds of their own.
func kindLabel(k lianxin.MsgKind) string {
	switch k {
	case lianxin.KindText, lianxin.KindImage, lianxin.KindVoice, lianxin.KindVideo, lianxin.KindShortVideo,
		lianxin.KindLocation, lianxin.KindLink, lianxin.KindFile, lianxin.KindEvent:
		return string(k)
	}
	return "other"
}

// converse hands the message to the conversation and says what became of
// it: replied (or a duplicate of a message already applied), late (applied
// after the deadline; the reply follows by customer-service message), or
// deferred (Redis unavailable: the journal keeps it for replay). A replayed
// (timestamp, nonce) is refused.
func (h *Webhook) converse(ctx context.Context, p *parsed) (lianxin.Outcome, lianxin.Result, *reject) {
	m := p.msg
	var err error
	if h.replayer != nil && h.replayer.HasBacklog() {
		// Messages this resident sent while Redis was down go first, so the
		// conversation sees them in the order they were sent. If they cannot
		// go now, this one must not overtake them: it waits in the journal too.
		err = h.replayer.CatchUp(ctx, m.OpenID)
		if err != nil {
			h.log.Warn("catch-up before new message failed; deferring it too", "resident", lianxin.MaskOpenID(m.OpenID), "err", err)
		}
	}
	var res lianxin.Result
	if err == nil {
		t0 := time.Now()
		dv := lianxin.Delivery{Msg: m}
		if p.key == nil {
			// A plaintext request's signature covers no part of its body:
			// its pair is recorded so a replay with another body is
			// refused. An encrypted request's msg_signature covers its
			// body, so a replay is either refused by the signature or the
			// same message, which the message's key makes a retry; its
			// pair needs no record (nor a key in Redis for minutes).
			dv.NonceKey, dv.BodyHash, dv.NonceUntil = p.nonceKey(), p.bodyHash, p.until
		}
		res, err = h.conv.Dispatch(ctx, dv)
		h.metrics.ObservePhase("conversation", time.Since(t0).Seconds())
	}
	switch {
	case err == nil:
		if res.Duplicate {
			h.metrics.Duplicates.Inc()
			return lianxin.OutcomeDuplicate, res, nil
		}
		return lianxin.OutcomeReplied, res, nil
	case errors.Is(err, lianxin.ErrReplay):
		return "", res, errReplay
	case errors.Is(err, lianxin.ErrLate):
		return lianxin.OutcomeLate, lianxin.Result{Reply: lianxin.Reply{Text: h.cfg.LateText}, ReplyTime: m.CreateTime}, nil
	}
	// Redis is unavailable (down, hung, or failing). Keep the message in
	// the journal for replay (which checks its nonce) and tell the resident
	// it is safe.
	h.log.Warn("conversation unavailable; message deferred", "resident", lianxin.MaskOpenID(m.OpenID), "err", err)
	return lianxin.OutcomeDeferred, lianxin.Result{Reply: lianxin.Reply{Text: h.cfg.BusyText}, ReplyTime: m.CreateTime}, nil
}

// journalBy journals the message, giving up waiting at the deadline (the
// database is locked by another process, the disk is stalled): the write
// still lands, but the reply cannot wait for it, so WeChat is asked to retry.
func (h *Webhook) journalBy(deadline time.Time, m *lianxin.Inbound, outcome lianxin.Outcome, reply string, n *lianxin.Nonce, durable bool) (lianxin.Journaled, error) {
	if dj, ok := h.journal.(deadlineJournal); ok {
		return dj.JournalBy(deadline, m, outcome, reply, n, durable)
	}
	type result struct {
		j   lianxin.Journaled
		err error
	}
	done := make(chan result, 1)
	go func() {
		write := h.journal.JournalCommitted
		if durable {
			write = h.journal.Journal
		}
		j, err := write(context.Background(), m, outcome, reply, n)
		done <- result{j, err}
	}()
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case r := <-done:
		return r.j, r.err
	case <-t.C:
		return lianxin.Journaled{}, errJournalSlow
	}
}

var errJournalSlow = errors.New("journal write did not finish in time")

// deadlineJournal is a journal that waits for its writer only until a
// deadline itself (store.DB): the webhook then needs no goroutine of its
// own per message to give up waiting.
type deadlineJournal interface {
	JournalBy(deadline time.Time, m *lianxin.Inbound, outcome lianxin.Outcome, reply string, n *lianxin.Nonce, durable bool) (lianxin.Journaled, error)
}

func outcomeForJournal(outcome lianxin.Outcome) lianxin.Outcome {
	if outcome == lianxin.OutcomeDuplicate {
		// A retry's record is its first copy's; the insert leaves it be.
		return lianxin.OutcomeReplied
	}
	return outcome
}

func (h *Webhook) writeReply(w http.ResponseWriter, p *parsed, res lianxin.Result) {
	if res.Reply.Empty() {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "success")
		return
	}
	xml := textReplyXML(p.msg.OpenID, p.msg.Account, res.ReplyTime, res.Reply.Text)
	if p.key != nil {
		enc := wxcrypt.Encrypt(p.key, h.cfg.AppID, xml)
		xml = encryptedReplyXML(enc, wxcrypt.Signature(h.cfg.Token, p.timestamp, p.nonce, enc), p.timestamp, p.nonce)
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Write(xml)
}
