// Package flows owns the conversations: the flow definitions loaded from
// configs/ (flows.yaml, messages.yaml), the engine that moves a resident
// through a report one message at a time, the deputies' chat commands,
// ratings, and supervision (督办). A session is a compact JSON blob the
// caller keeps (dispatch keeps it in Redis); cases, bindings and
// notifications are written through the narrow Store interface in the
// domain's terms (store.DB in production).
package flows

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lianxin/lianxin"
)

// Store is what the engine records in SQLite (store.DB).
type Store interface {
	RegisterAttachment(ctx context.Context, m *lianxin.Inbound) (int64, error)
	CreateCase(ctx context.Context, num lianxin.CaseNumbering, r lianxin.Report, events []lianxin.Event, notices []lianxin.Notice, assign lianxin.Assigner) (*lianxin.Case, bool, error)
	Cases(ctx context.Context, f lianxin.CaseFilter) ([]lianxin.Case, error)
	Case(ctx context.Context, number string) (*lianxin.Case, error)
	Transition(ctx context.Context, tr lianxin.Transition) (*lianxin.Case, error)
	AwaitingRating(ctx context.Context, openid string, within time.Duration) (*lianxin.Case, error)
	AmendNotices(ctx context.Context, caseID int64, events []lianxin.Event, amendments []lianxin.NoticeAmendment) error
	AttachmentStatuses(ctx context.Context, ids []int64) (map[int64]lianxin.AttachmentStatus, error)
	ResidentStatus(ctx context.Context, openid string) (lianxin.ResidentStatus, error)
	QueueNotices(ctx context.Context, caseID int64, notices []lianxin.Notice) error
	ReturnedBy(ctx context.Context, caseID int64) ([]string, error)
	Bind(ctx context.Context, code, openid string) (lianxin.Deputy, error)
	DeputyByOpenID(ctx context.Context, openid string) (lianxin.Deputy, bool, error)
	AssignView() lianxin.AssignView
}

// recordingStore notes whether a turn wrote to SQLite. Such a turn's reply
// acknowledges something the database keeps, so the webhook lets it leave
// only once the write is on disk (lianxin.Reply.Recorded). Any call counts,
// failed ones too: a failure may follow a commit.
type recordingStore struct {
	Store
	wrote bool
}

func (r *recordingStore) RegisterAttachment(ctx context.Context, m *lianxin.Inbound) (int64, error) {
	r.wrote = true
	return r.Store.RegisterAttachment(ctx, m)
}

func (r *recordingStore) CreateCase(ctx context.Context, num lianxin.CaseNumbering, rep lianxin.Report, events []lianxin.Event, notices []lianxin.Notice, assign lianxin.Assigner) (*lianxin.Case, bool, error) {
	r.wrote = true
	return r.Store.CreateCase(ctx, num, rep, events, notices, assign)
}

func (r *recordingStore) Transition(ctx context.Context, tr lianxin.Transition) (*lianxin.Case, error) {
	r.wrote = true
	return r.Store.Transition(ctx, tr)
}

func (r *recordingStore) AmendNotices(ctx context.Context, caseID int64, events []lianxin.Event, amendments []lianxin.NoticeAmendment) error {
	r.wrote = true
	return r.Store.AmendNotices(ctx, caseID, events, amendments)
}

func (r *recordingStore) QueueNotices(ctx context.Context, caseID int64, notices []lianxin.Notice) error {
	r.wrote = true
	return r.Store.QueueNotices(ctx, caseID, notices)
}

func (r *recordingStore) Bind(ctx context.Context, code, openid string) (lianxin.Deputy, error) {
	r.wrote = true
	return r.Store.Bind(ctx, code, openid)
}

// EngineConfig is everything the engine needs.
type EngineConfig struct {
	Texts      Texts
	Flows      *Flows
	Categories lianxin.Categories
	Directory  *lianxin.Directory
	Store      Store
	Numbering  lianxin.CaseNumbering
	IdleTTL    time.Duration // a draft untouched this long is paused and offered back
	DraftTTL   time.Duration // a draft untouched this long is discarded
	Notify     NotifyConfig
	// RemindAt is the share of a deadline's window after which a case is
	// shown yellow (临期) and its deputy reminded.
	RemindAt float64
	// Delivery reports whether notices are going out now (WeChat answers,
	// an AppSecret is set), so a deputy is told «已通知群众» only when it is
	// true. Nil means they are.
	Delivery func() bool
	// Casework is what console actions read (nil: no console).
	Casework CaseworkStore
	// Now is the clock console actions read (default time.Now).
	Now func() time.Time
	// MeToo is when a report is offered to join an open case nearby
	// (同一件); a zero radius turns the offer off.
	MeToo lianxin.MeTooConfig
	// Reception is how reception days are booked in chat (zero fields
	// take the shipped defaults).
	Reception lianxin.ReceptionSettings
}

// Engine moves a resident's session forward one message at a time.
type Engine struct {
	cfg    EngineConfig
	texts  Texts
	report *Flow
	dir    atomic.Pointer[directorySnapshot]
	log    *slog.Logger
}

// directorySnapshot is the directory and categories a turn works with;
// SetDirectory swaps it whole when staff import a new directory.
type directorySnapshot struct {
	dir  *lianxin.Directory
	cats lianxin.Categories
	cl   *Classifier
}

// SetDirectory replaces the directory and categories for the turns that follow.
func (e *Engine) SetDirectory(dir *lianxin.Directory, cats lianxin.Categories) {
	if dir == nil {
		dir = &lianxin.Directory{}
	}
	texts := e.texts
	dir.Phrase = func(code string, pairs ...string) string { return texts.Get("reason_"+code, pairs...) }
	e.dir.Store(&directorySnapshot{dir: dir, cats: cats, cl: NewClassifier(cats)})
}

// NewEngine returns an engine.
func NewEngine(cfg EngineConfig, log *slog.Logger) *Engine {
	if cfg.IdleTTL == 0 {
		cfg.IdleTTL = 30 * time.Minute
	}
	if cfg.DraftTTL == 0 {
		cfg.DraftTTL = 24 * time.Hour
	}
	if cfg.Numbering.Location == nil {
		cfg.Numbering.Location = time.UTC
	}
	if cfg.RemindAt <= 0 || cfg.RemindAt >= 1 {
		cfg.RemindAt = 0.75
	}
	e := &Engine{cfg: cfg, texts: cfg.Texts, log: log}
	e.SetDirectory(cfg.Directory, cfg.Categories)
	if cfg.Flows != nil {
		e.report = cfg.Flows.Flow("report")
	}
	return e
}

// Texts returns the engine's texts.
func (e *Engine) Texts() Texts { return e.texts }

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

// Load decodes a stored session. It never fails: an unreadable or outdated
// session starts over, and the next reply apologises.
func (e *Engine) Load(blob string, now time.Time) *Session {
	s, ok := decodeSession(blob)
	if !ok {
		e.log.Warn("stored session unreadable; starting over")
		s.note = "session_reset"
	}
	return s
}

// Save encodes the session and says how long Redis should keep it: a draft
// for DraftTTL plus draftNoticeGrace, anything else for the rating window
// (a few bytes a resident). The draft
// is discarded after DraftTTL by the next turn (from the session's own
// timestamps); keeping the session past that is what lets the turn tell the
// resident their draft is gone, instead of greeting them as a stranger.
func (e *Engine) Save(s *Session, now time.Time) (string, time.Duration) {
	s.Ver = sessionVersion
	b, _ := json.Marshal(s)
	if s.inFlow() {
		return string(b), e.cfg.DraftTTL + draftNoticeGrace
	}
	// Kept while a rating may be open: when the resident last wrote is
	// what tells a reply to the rating question from the menu's numbers.
	return string(b), max(e.cfg.IdleTTL, ratingWindow)
}

// draftNoticeGrace is how long past its discarding a draft's session stays,
// so a resident who comes back within a week is told what happened to it.
const draftNoticeGrace = 7 * 24 * time.Hour

// Apply applies one message to the session and returns the reply. It never
// panics and never fails: an internal error leaves the session as it was and
// the resident gets an apology (the message itself is in the journal).
func (e *Engine) Apply(ctx context.Context, s *Session, m *lianxin.Inbound, now time.Time) (reply lianxin.Reply) {
	before := cloneSession(s)
	st := &recordingStore{Store: e.cfg.Store}
	defer func() {
		if p := recover(); p != nil {
			e.log.Error("conversation step panicked", "panic", p, "stack", string(debug.Stack()))
			*s = *before
			reply = lianxin.Reply{Text: e.texts.Get("error")}
		}
		reply.Recorded = st.wrote
	}()
	snap := e.dir.Load()
	t := &turn{e: e, ctx: ctx, s: s, m: m, now: now, st: st, dir: snap.dir, cats: snap.cats, cl: snap.cl}
	text, err := t.run()
	if err != nil {
		e.log.Error("conversation step failed", "resident", lianxin.MaskOpenID(m.OpenID), "err", err)
		*s = *before
		return lianxin.Reply{Text: e.texts.Get(lianxin.ErrorTextKey(err))}
	}
	s.Last = now.Unix()
	return lianxin.Reply{Text: text}
}

func cloneSession(s *Session) *Session {
	c := *s
	c.Hist = append([]string(nil), s.Hist...)
	c.Done = append([]string(nil), s.Done...)
	if s.Ans != nil {
		a := *s.Ans
		a.Photos = append([]int64(nil), s.Ans.Photos...)
		a.Voices = append([]int64(nil), s.Ans.Voices...)
		if s.Ans.Extra != nil {
			a.Extra = make(map[string]string, len(s.Ans.Extra))
			for k, v := range s.Ans.Extra {
				a.Extra[k] = v
			}
		}
		c.Ans = &a
	}
	if s.Op != nil {
		op := *s.Op
		c.Op = &op
	}
	if s.Bk != nil {
		bk := *s.Bk
		bk.Choices = append([]string(nil), s.Bk.Choices...)
		c.Bk = &bk
	}
	return &c
}

// turn is one message being applied.
type turn struct {
	e   *Engine
	ctx context.Context
	s   *Session
	m   *lianxin.Inbound
	now time.Time
	// overflow is set when a photo arrived after the draft already had the
	// most photos allowed.
	overflow bool
	// st is the store, noting whether this turn wrote to it.
	st *recordingStore
	// idle is set when the draft was left for longer than IdleTTL.
	idle bool

	dir  *lianxin.Directory
	cats lianxin.Categories
	cl   *Classifier

	// console is the console action this turn carries out (no message).
	console *lianxin.CaseAction
}

func (t *turn) txt(key string, pairs ...string) string { return t.e.texts.Get(key, pairs...) }

func join(parts ...string) string {
	out := parts[:0]
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "\n")
}

func (t *turn) run() (string, error) {
	s := t.s
	var notes []string
	if s.note != "" {
		notes = append(notes, t.txt(s.note))
		s.note = ""
	}
	if s.inFlow() {
		idle := t.now.Sub(time.Unix(s.Last, 0))
		switch {
		case t.e.report == nil || s.Flow != t.e.report.ID:
			s.clearFlow()
			notes = append(notes, t.txt("flow_updated"))
		case s.FlowVer != t.e.cfg.Flows.Version && t.e.report.step(s.Step) == nil:
			// The flow changed under this draft and its step is gone.
			s.clearFlow()
			notes = append(notes, t.txt("flow_updated"))
		case s.Last != 0 && idle > t.e.cfg.DraftTTL:
			s.clearFlow()
			notes = append(notes, t.txt("draft_expired"))
		case s.Last != 0 && idle > t.e.cfg.IdleTTL && !s.Paused:
			t.idle = true
		}
		if s.inFlow() {
			s.FlowVer = t.e.cfg.Flows.Version
		}
	}
	reply, err := t.dispatch()
	if err != nil {
		return "", err
	}
	return join(append(notes, reply)...), nil
}

func (t *turn) dispatch() (string, error) {
	m := t.m
	switch m.Kind {
	case lianxin.KindEvent:
		return t.event()
	case lianxin.KindText, lianxin.KindVoice, lianxin.KindImage, lianxin.KindLocation:
	default:
		// Video, files, links: not supported, but kept in the journal.
		reply := t.txt("unsupported")
		if t.s.inFlow() && !t.s.Paused {
			reply = join(reply, t.short())
		}
		return reply, nil
	}
	if m.Kind == lianxin.KindVoice && strings.TrimSpace(m.Text) == "" {
		// Unrecognised: ask again, but keep the recording with the draft.
		id, err := t.st.RegisterAttachment(t.ctx, m)
		if err != nil {
			return "", err
		}
		if t.s.inFlow() {
			t.s.Ans.Voices = append(t.s.Ans.Voices, id)
		}
		return t.txt("voice_unrecognized"), nil
	}
	if reply, ok, err := t.deputyTurn(); ok || err != nil {
		return reply, err
	}
	if reply, ok, err := t.gridTurn(); ok || err != nil {
		return reply, err
	}
	if reply, ok, err := t.opinionTurn(); ok || err != nil {
		return reply, err
	}
	if reply, ok, err := t.bookingTurn(); ok || err != nil {
		return reply, err
	}
	if reply, ok, err := t.followUpTurn(); ok || err != nil {
		return reply, err
	}
	if reply, ok, err := t.ratingTurn(); ok || err != nil {
		return reply, err
	}
	switch {
	case !t.s.inFlow():
		return t.topLevel()
	case t.s.Paused:
		return t.paused()
	case t.idle:
		return t.afterIdle()
	}
	return t.inFlow()
}

// Menu buttons (CLICK events) behave like the words on them.
var menuKeys = map[string]string{"REPORT": "报事", "PROGRESS": "进度", "HELP": "帮助", "MENU": "菜单", "BOOK": "预约接待"}

func (t *turn) event() (string, error) {
	if reply, ok, err := t.scanEvent(); ok || err != nil {
		return reply, err
	}
	switch t.m.Event {
	case lianxin.EventSubscribe:
		return t.txt("welcome", "menu", t.txt("menu")), nil
	case lianxin.EventClick:
		if word, ok := menuKeys[t.m.EventKey]; ok {
			click := *t.m
			click.Kind, click.Text = lianxin.KindText, word
			t.m = &click
			return t.dispatch()
		}
	}
	// Unsubscribe, location reports, template receipts: nothing to say.
	return "", nil
}

func (t *turn) topLevel() (string, error) {
	m := t.m
	switch m.Kind {
	case lianxin.KindImage:
		// Photo first: the photo starts a report and is its first photo.
		t.start()
		if err := t.keepPhoto(); err != nil {
			return "", err
		}
		return join(t.txt("photo_first"), t.prompt()), nil
	case lianxin.KindLocation:
		t.start()
		place := t.keepLocation()
		return join(t.txt("location_first", "place", place), t.prompt()), nil
	}
	raw := textOf(m)
	w := normalizeReply(raw)
	if word, ok := menuNumbers[w]; ok {
		w = word
	}
	switch {
	case wordsReport[w] || (wordsNew[w] && t.pending() != ""):
		if p := t.pending(); p != "" {
			// The problem they typed while another draft was paused.
			t.s.Pending, t.s.PendingAt = "", 0
			reply, err := t.startFromText(p)
			return join(t.txt("pending_started", "text", clip(p, 20)), reply), err
		}
		t.start()
		return t.prompt(), nil
	case wantsProgress(w):
		return t.progress(w)
	case wordsHelp[w]:
		return t.txt("help"), nil
	case wordsGreeting[w]:
		return t.txt("welcome", "menu", t.txt("menu")), nil
	case wordsHere[w]:
		return t.txt("here_reply"), nil
	case wordsThanks[w]:
		return t.txt("thanks_reply"), nil
	case wordsOK[w]:
		return t.txt("ok_reply"), nil
	case wordsMenu[w]:
		return t.txt("menu"), nil
	case wordsStaff[w]:
		return t.staffWithoutDraft()
	case wordsContinue[w] || wordsRestart[w]:
		return join(t.txt("nothing_to_resume"), t.txt("menu")), nil
	case t.isContactQuestion(raw):
		return t.contact()
	case t.cl.LooksLikeProblem(raw):
		return t.startFromText(raw)
	}
	return join(t.txt("unknown"), t.txt("menu")), nil
}

func (t *turn) start() {
	*t.s = Session{Ver: sessionVersion, FlowVer: t.e.cfg.Flows.Version, Flow: t.e.report.ID, Step: t.e.report.Steps[0].ID, Ans: &Answers{},
		Last: t.s.Last, Pending: t.s.Pending, PendingAt: t.s.PendingAt, Scan: t.s.Scan}
	t.applyScan()
	t.s.Step = t.nextFrom(-1)
}

// startFromText starts a report from free text that reads like a problem:
// the text is the description, and its category is suggested.
func (t *turn) startFromText(raw string) (string, error) {
	t.start()
	note := ""
	if st := t.stepOfKind(StepDescription); st != nil {
		var err error
		if note, err = t.describeFrom(st, raw); err != nil {
			return "", err
		}
	}
	return join(note, t.suggestOrPrompt(raw)), nil
}

// describeFrom takes free text as the description when it is long enough
// to be one (a long one is shortened, with the note saying so).
func (t *turn) describeFrom(st *Step, raw string) (note string, err error) {
	text := strings.TrimSpace(raw)
	if runeLen(text) < st.Min {
		return "", nil
	}
	text, note = t.fit(st, text)
	if err := t.setDescription(text); err != nil {
		return "", err
	}
	t.s.markDone(st.ID)
	return note, nil
}

// suggestOrPrompt asks for the category, offering the classifier's guess when
// it is confident.
func (t *turn) suggestOrPrompt(raw string) string {
	st := t.current()
	if st.Kind == StepCategory {
		if sug, ok := t.cl.Suggest(raw); ok {
			if c, found := t.cats.ByKey(sug.Key); found {
				t.s.Suggest = c.Key
				return t.label(st) + t.txt("suggest", "category", c.Name, "options", t.categoryOptions())
			}
		}
	}
	return t.prompt()
}

func (t *turn) stepOfKind(kind string) *Step {
	for i := range t.e.report.Steps {
		if t.e.report.Steps[i].Kind == kind {
			return &t.e.report.Steps[i]
		}
	}
	return nil
}

func (t *turn) current() *Step { return t.e.report.step(t.s.Step) }

// nextFrom is the first step after index i that still needs an answer.
func (t *turn) nextFrom(i int) string {
	f := t.e.report
	for j := i + 1; j < len(f.Steps); j++ {
		st := &f.Steps[j]
		if i >= 0 && f.Steps[i].Next != "" && j < f.index[f.Steps[i].Next] {
			continue
		}
		if t.s.done(st.ID) || !t.holds(st.When) {
			continue
		}
		return st.ID
	}
	return f.Steps[len(f.Steps)-1].ID
}

func (t *turn) holds(when string) bool {
	switch when {
	case whenStationUnknown:
		return t.s.Ans == nil || t.s.Ans.Station == ""
	}
	return true
}

// advance records the current step as answered and moves to the next one.
func (t *turn) advance(ack string) string {
	st := t.current()
	t.s.markDone(st.ID)
	t.s.Fails = 0
	t.s.Suggest = ""
	t.s.Hist = append(t.s.Hist, st.ID)
	t.s.Step = t.nextFrom(t.e.report.index[st.ID])
	return join(ack, t.prompt())
}

// invalidShort refuses an answer with a reason that already says what to
// send, under the step's label, without the whole prompt again.
func (t *turn) invalidShort(reason string) string {
	t.s.Fails++
	reply := t.label(t.current()) + reason
	if t.s.Fails >= 3 {
		reply = join(reply, t.txt("fails_hint"))
	}
	return reply
}

// invalid explains why an answer was refused and asks again.
func (t *turn) invalid(reason string) string {
	t.s.Fails++
	reply := join(reason, t.prompt())
	if t.s.Fails >= 3 {
		reply = join(reply, t.txt("fails_hint"))
	}
	return reply
}

func (t *turn) label(st *Step) string { return "【" + st.Label + "】" }

// prompt asks the current step's question.
func (t *turn) prompt() string {
	st := t.current()
	p := st.Prompt
	switch st.Kind {
	case StepCategory:
		p = strings.ReplaceAll(p, "{options}", t.categoryOptions())
	case StepStation:
		p = strings.ReplaceAll(p, "{options}", t.stationOptions())
	case StepConfirm:
		p = strings.ReplaceAll(p, "{summary}", t.summary())
	case StepPhotos:
		if n := len(t.s.Ans.Photos); n > 0 {
			p = t.txt("photo_kept", "count", itoa(n)) + p
		}
	}
	return t.label(st) + p
}

// short reminds the resident of the current step in one line.
func (t *turn) short() string {
	st := t.current()
	if st == nil {
		return ""
	}
	return t.label(st) + st.Short
}

func itoa(n int) string { return fmt.Sprint(n) }

func (t *turn) categoryOptions() string {
	var b strings.Builder
	for i, c := range t.cats {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%d %s", i+1, c.Name)
	}
	return b.String()
}

func (t *turn) stationOptions() string {
	var b strings.Builder
	for i, st := range t.dir.Stations {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%d %s", i+1, st.Name)
	}
	return b.String()
}

func (t *turn) stationName(id string) string {
	if st, ok := t.dir.Station(id); ok {
		return st.Name
	}
	return id
}
