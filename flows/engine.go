// Package flows owns the conversations: flow definitions loaded from
// configs/, the engine that moves a resident through them, and the Redis
// state that keeps each resident's session and applies their messages one at
// a time, in order, exactly once (Dispatcher).
package flows

import (
	"context"
	"encoding/json"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/lianxin/lianxin"
)

// Engine moves a resident's session forward one message at a time.
type Engine struct {
	texts    Texts
	log      *slog.Logger
	idleTTL  time.Duration
	draftTTL time.Duration
}

// EngineConfig configures an Engine.
type EngineConfig struct {
	Texts    Texts
	IdleTTL  time.Duration
	DraftTTL time.Duration
}

// NewEngine returns an engine.
func NewEngine(cfg EngineConfig, log *slog.Logger) *Engine {
	if cfg.IdleTTL == 0 {
		cfg.IdleTTL = 30 * time.Minute
	}
	if cfg.DraftTTL == 0 {
		cfg.DraftTTL = 24 * time.Hour
	}
	return &Engine{texts: cfg.Texts, log: log, idleTTL: cfg.IdleTTL, draftTTL: cfg.DraftTTL}
}

// Texts returns the engine's texts.
func (e *Engine) Texts() Texts { return e.texts }

// Load decodes a stored session. It never fails: an unreadable or outdated
// session starts over, and the next reply apologises.
func (e *Engine) Load(blob string, now time.Time) *Session {
	s, ok := decodeSession(blob)
	if !ok {
		e.log.Warn("stored session unreadable; starting over")
	}
	return s
}

// Save encodes the session and says how long Redis should keep it.
func (e *Engine) Save(s *Session, now time.Time) (string, time.Duration) {
	s.Ver = sessionVersion
	b, _ := json.Marshal(s)
	if s.Flow != "" {
		return string(b), e.draftTTL
	}
	return string(b), e.idleTTL
}

// Step applies messages in order to a stored session (the Machine the
// Dispatcher drives).
func (e *Engine) Step(ctx context.Context, state string, msgs []*lianxin.Inbound, now time.Time) (string, time.Duration, []lianxin.Reply) {
	s := e.Load(state, now)
	replies := make([]lianxin.Reply, len(msgs))
	for i, m := range msgs {
		replies[i] = e.Apply(ctx, s, m, now)
	}
	next, ttl := e.Save(s, now)
	return next, ttl, replies
}

// Apply applies one message to the session and returns the reply. It never
// panics and never fails: an internal error leaves the session as it was and
// the resident gets an apology (the message itself is in the journal).
func (e *Engine) Apply(ctx context.Context, s *Session, m *lianxin.Inbound, now time.Time) (reply lianxin.Reply) {
	before := *s
	defer func() {
		if p := recover(); p != nil {
			e.log.Error("conversation step panicked", "panic", p, "stack", string(debug.Stack()))
			*s = before
			reply = lianxin.Reply{Text: e.texts.Get("error")}
		}
	}()
	reply = e.apply(ctx, s, m, now)
	s.Last = now.Unix()
	return reply
}

func (e *Engine) apply(ctx context.Context, s *Session, m *lianxin.Inbound, now time.Time) lianxin.Reply {
	switch m.Kind {
	case lianxin.KindEvent:
		switch m.Event {
		case lianxin.EventSubscribe:
			return lianxin.Reply{Text: e.texts.Get("welcome")}
		case lianxin.EventUnsubscribe, lianxin.EventLocation:
			return lianxin.Reply{}
		}
		return lianxin.Reply{Text: e.texts.Get("welcome")}
	case lianxin.KindText:
		switch strings.TrimSpace(m.Text) {
		case "帮助", "3", "?", "？":
			return lianxin.Reply{Text: e.texts.Get("help")}
		}
	}
	return lianxin.Reply{Text: e.texts.Get("welcome")}
}
