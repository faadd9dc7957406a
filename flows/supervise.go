package flows

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/lianxin/lianxin"
)

// SuperviseStore is what supervision reads and marks (store.DB).
type SuperviseStore interface {
	Supervised(ctx context.Context, limit int) ([]lianxin.SupervisedCase, error)
	MarkSupervised(ctx context.Context, caseID int64, mark string, events []lianxin.Event, notices []lianxin.Notice) (bool, error)
}

// Supervisor is 督办: it reminds a case's deputy when most of a deadline's
// window is used, and tells the station head when the deadline passes. Its
// schedule is the deadlines stored on the cases and the marks set when each
// notice goes out, so nothing is lost on restart and several processes
// never send one twice.
type Supervisor struct {
	engine   *Engine
	db       SuperviseStore
	log      *slog.Logger
	Interval time.Duration
	Now      func() time.Time
}

// NewSupervisor returns a supervisor; Run it.
func NewSupervisor(e *Engine, db SuperviseStore, interval time.Duration, log *slog.Logger) *Supervisor {
	if interval <= 0 {
		interval = time.Minute
	}
	return &Supervisor{engine: e, db: db, log: log, Interval: interval, Now: time.Now}
}

// Run checks every Interval until ctx is cancelled.
func (s *Supervisor) Run(ctx context.Context) {
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		if _, err := s.Poll(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("supervision pass failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Poll sends what is due now and returns how many notices it sent.
func (s *Supervisor) Poll(ctx context.Context) (int, error) {
	snap := s.engine.dir.Load()
	now := s.Now()
	cases, err := s.db.Supervised(ctx, 1000)
	if err != nil {
		return 0, err
	}
	sent := 0
	for i := range cases {
		c := &cases[i]
		cat, _ := snap.cats.ByKey(c.CategoryKey)
		due := []struct {
			at           *time.Time
			window       time.Duration
			pending      bool
			remind, over string
			reminded     bool
			overdue      bool
			remindKey    string
			what         string
		}{
			{c.AcceptDue, time.Duration(cat.AcceptHours) * time.Hour, c.AcceptedAt == nil && (c.Status == lianxin.StatusRegistered || c.Status == lianxin.StatusReopened),
				lianxin.MarkAcceptReminded, lianxin.MarkAcceptOverdue, c.AcceptReminded, c.AcceptOverdue, "remind_accept", "overdue_accept"},
			{c.ResolveDue, time.Duration(cat.ResolveDays) * 24 * time.Hour, true,
				lianxin.MarkResolveReminded, lianxin.MarkResolveOverdue, c.ResolveReminded, c.ResolveOverdue, "remind_resolve", "overdue_resolve"},
		}
		for _, d := range due {
			if d.at == nil || !d.pending {
				continue
			}
			remindAt := d.at.Add(-time.Duration(float64(d.window) * (1 - s.engine.cfg.RemindAt)))
			if !d.reminded && !now.Before(remindAt) && now.Before(*d.at) {
				ok, err := s.notify(ctx, snap, &c.Case, d.remind, d.remindKey, *d.at, false)
				if err != nil {
					return sent, err
				}
				if ok {
					sent++
				}
			}
			if !d.overdue && !now.Before(*d.at) {
				ok, err := s.notify(ctx, snap, &c.Case, d.over, d.what, *d.at, true)
				if err != nil {
					return sent, err
				}
				if ok {
					sent++
				}
			}
		}
	}
	return sent, nil
}

// notify writes one reminder (to the case's deputy) or overdue notice (to
// the station head, and the deputy) with its mark.
func (s *Supervisor) notify(ctx context.Context, snap *directorySnapshot, c *lianxin.Case, mark, key string, due time.Time, overdue bool) (bool, error) {
	e := s.engine
	tx := func(k string, pairs ...string) string { return e.texts.Get(k, pairs...) }
	cat := snap.cats.Name(c.CategoryKey)
	dep, _ := snap.dir.Deputy(c.AssigneeID)
	deputyName := dep.Name
	if deputyName == "" {
		deputyName = tx("unassigned")
	}
	when := due.In(e.cfg.Numbering.Location).Format("01-02 15:04")
	idem := fmt.Sprintf("supervise:%s:%s", c.Number, mark)
	var recipients []string
	var body, title string
	event := lianxin.Event{Type: lianxin.EventReminded, Actor: "system", Text: when, Audience: lianxin.AudienceStaff}
	if overdue {
		event.Type = lianxin.EventOverdue
		body = tx("overdue", "number", c.Number, "category", cat, "deputy", deputyName, "what", tx(key), "due", when)
		title = tx("overdue_title")
		if st, ok := snap.dir.StationOf(c.StationID); ok {
			if head, ok := snap.dir.Head(st.ID); ok {
				recipients = append(recipients, head.ID)
			}
		}
		if c.AssigneeID != "" && (len(recipients) == 0 || recipients[0] != c.AssigneeID) {
			recipients = append(recipients, c.AssigneeID)
		}
	} else {
		body = tx(key, "number", c.Number, "category", cat, "due", when, "short", lianxin.ShortNumber(c.Number))
		title = tx("remind_title")
		if c.AssigneeID != "" {
			recipients = append(recipients, c.AssigneeID)
		} else if st, ok := snap.dir.StationOf(c.StationID); ok {
			if head, ok := snap.dir.Head(st.ID); ok {
				recipients = append(recipients, head.ID)
			}
		}
	}
	// A reminder to accept is stale once the case is accepted or goes to
	// someone else; any other once the case is closed or moves.
	rule := &lianxin.NoticeRule{Statuses: lianxin.OpenStatuses, Assignee: c.AssigneeID}
	if mark == lianxin.MarkAcceptReminded || mark == lianxin.MarkAcceptOverdue {
		rule.Statuses = []lianxin.Status{lianxin.StatusRegistered, lianxin.StatusReopened}
	}
	var notices []lianxin.Notice
	for _, r := range recipients {
		n := e.notice(idem+":"+r, lianxin.DeputyRecipient(r), body, title, c, deputyName, snap.cats, snap.dir)
		n.Valid = rule
		notices = append(notices, n)
	}
	if c.NeedsStaff && c.AssigneeID == "" {
		// In a staff queue: its staff are reminded, as a deputy would be
		// (without staff configured, the station head as before).
		what := "overdue_accept"
		if mark == lianxin.MarkResolveReminded || mark == lianxin.MarkResolveOverdue {
			what = "overdue_resolve"
		}
		if staff := e.staffSupervision(snap, c, idem, what, when, overdue); len(staff) > 0 {
			notices = staff
		}
	}
	done, err := s.db.MarkSupervised(ctx, c.ID, mark, []lianxin.Event{event}, notices)
	if done {
		s.log.Info("supervision notice", "case", c.Number, "mark", mark, "recipients", len(notices))
	}
	return done, err
}
