package service

import (
	"context"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/bot/wxapi"
	"github.com/lianxin/lianxin/configs"
	"github.com/lianxin/lianxin/store"
)

// Reception days and the mass sends every practice shares, wired: the
// broadcaster and tagger on the WeChat client, the background loop that
// queues each reception day's reminder (never on the webhook's path) and
// the residents' station tags, and the console's reception desk.

// massBroadcaster mass-sends through the WeChat client; a station's tag is
// created the first time it is sent to, so a send to a station none of
// whose residents has been tagged yet reaches nobody rather than failing.
type massBroadcaster struct{ api *wxapi.Client }

func (b massBroadcaster) SendToTag(ctx context.Context, tag, text string) error {
	return b.SendToTagOnce(ctx, tag, text, "")
}

func (b massBroadcaster) SendToTagOnce(ctx context.Context, tag, text, clientMsgID string) error {
	if tag != "" {
		if _, err := b.api.EnsureTag(ctx, tag); err != nil {
			return err
		}
	}
	_, err := b.api.SendToTag(ctx, tag, text, clientMsgID)
	return err
}

// receptionSettings are the engine's reception settings from the configuration.
func receptionSettings(cfg configs.Config) lianxin.ReceptionSettings {
	r := cfg.Reception
	return lianxin.ReceptionSettings{SlotMinutes: r.SlotMinutes, Capacity: r.SlotCapacity, BookAhead: r.BookAheadDays,
		Offer: r.OfferDays, RemindDays: r.RemindDays}
}

// tagLookBack is how far back the first round looks for residents to tag.
const tagLookBack = 90 * 24 * time.Hour

// receptionLoop runs every reception.interval: residents whose cases were
// routed to a station are queued for its tag, and the reception days
// coming within remind_days are reminded (once each).
func (s *Service) receptionLoop(ctx context.Context) {
	every := s.Config.Reception.Interval.Duration
	if s.opts.Interval > 0 {
		// Tests pace workers in milliseconds; this loop reads the register.
		every = min(every, max(s.opts.Interval, 200*time.Millisecond))
	}
	t := time.NewTicker(every)
	defer t.Stop()
	// At start the residents of the last quarter's cases; then those of
	// cases changed since the previous round (a minute's overlap covers
	// writes committing while it looked).
	since := s.opts.Clock().Add(-tagLookBack)
	for {
		if next, err := s.DB.TagResidentsOfCases(ctx, since); err != nil && ctx.Err() == nil {
			s.log.Warn("reception: queueing residents' station tags failed", "err", err)
		} else if err == nil {
			since = next.Add(-time.Minute)
		}
		if _, err := s.RemindReceptions(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("reception: queueing reminders failed", "err", err)
		}
		if s.Tagging != nil {
			s.Tagging.Notify()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RemindReceptions queues the reminder of every monthly reception day
// (每月接待群众日) coming within reception.remind_days, as a mass send to
// its station's residents within the month's quota; each day once, and a
// day the quota cannot afford is recorded so (the console says so). It
// returns how many days are reminded or recorded.
func (s *Service) RemindReceptions(ctx context.Context) (int, error) {
	days := s.Config.Reception.RemindDays
	if days <= 0 {
		return 0, nil
	}
	dir, _ := s.Engine.Directory()
	loc := s.Config.Location()
	now := s.opts.Clock()
	n := 0
	for _, st := range dir.Stations {
		for _, d := range dir.ReceptionDays(st.ID, now, days+1, days, loc) {
			if !d.Monthly || !d.StartsAt().After(now) {
				continue
			}
			send := lianxin.MassSend{Purpose: "reception:" + st.ID + ":" + d.Key(), Tag: lianxin.StationTag(st.ID),
				Text: s.Engine.ReceptionReminder(d), Month: lianxin.MassMonth(now, loc)}
			status, err := s.DB.RemindReception(ctx, st.ID, d.Key(), send, s.Config.MassQuota(), s.Engine.ReceptionQuotaNotices(d, s.Config.MassQuota()))
			if err != nil {
				return n, err
			}
			if status == store.ReminderQuota {
				s.log.Debug("reception: the month's mass-send quota is used up; the day is not reminded", "station", st.ID, "day", d.Key())
			}
			n++
		}
	}
	if n > 0 {
		s.wakePractices()
	}
	return n, nil
}

// receptionDesk is the console's reception days.
type receptionDesk struct {
	*store.DB
	s *Service
}

func (d receptionDesk) ReceptionSettings() lianxin.ReceptionSettings {
	return receptionSettings(d.s.Config)
}

func (d receptionDesk) AddRosterEntry(ctx context.Context, scope lianxin.Scope, e lianxin.RosterEntry, a lianxin.AuditEntry) (int64, error) {
	id, err := d.DB.AddRosterEntry(ctx, scope, e, a)
	if err == nil {
		err = d.s.reloadDirectory(ctx)
	}
	return id, err
}

func (d receptionDesk) RemoveRosterEntry(ctx context.Context, scope lianxin.Scope, id int64, a lianxin.AuditEntry) error {
	err := d.DB.RemoveRosterEntry(ctx, scope, id, a)
	if err == nil {
		err = d.s.reloadDirectory(ctx)
	}
	return err
}

// RegisterBooking registers what a booking or walk-in raised as a case at
// its station (source 来访; the resident who booked in chat follows it
// there), assigned to the deputy on duty who heard it (or by the rules,
// which prefer the deputies on duty), and links the two. A second click finds the case the first registered.
func (d receptionDesk) RegisterBooking(ctx context.Context, scope lianxin.Scope, id int64, category, description, deputyID string, actor lianxin.User, addr string) (*lianxin.Case, error) {
	b, err := d.Booking(ctx, scope, id)
	if err != nil {
		return nil, err
	}
	if b.CaseNumber != "" {
		return nil, lianxin.Errorf(lianxin.ECONFLICT, "booking %d is already registered as %s", id, b.CaseNumber)
	}
	cats := d.s.data.Categories
	if _, c := d.s.Engine.Directory(); c != nil {
		cats = c
	}
	cat, _ := cats.ByKey(category)
	c, err := d.s.Engine.Register(ctx, lianxin.Report{SourceKey: "reception:" + b.Number(), OpenID: b.OpenID, Category: cat,
		Description: description, StationID: b.StationID, Phone: b.Phone, ContactName: b.Name, Source: lianxin.SourceVisit, ReceivedBy: deputyID}, actor, addr)
	if err != nil {
		return nil, err
	}
	if err := d.LinkBookingCase(ctx, id, c.Number, c.AssigneeID, lianxin.AuditEntry{Actor: actor.Ref(), Addr: addr}); err != nil {
		return nil, err
	}
	d.s.wakePractices()
	return c, nil
}

func (d receptionDesk) MassStanding(ctx context.Context, stationID, month, fromDay string) (lianxin.MassUse, map[string]string, error) {
	ledger, err := d.MassLedger(ctx, month, []string{lianxin.StationTag(stationID)}, d.s.Config.MassQuota())
	if err != nil {
		return lianxin.MassUse{}, nil, err
	}
	rs, err := d.ReceptionReminders(ctx, fromDay)
	if err != nil {
		return lianxin.MassUse{}, nil, err
	}
	out := map[string]string{}
	for _, r := range rs {
		if r.StationID == stationID {
			out[r.Day] = r.Status
		}
	}
	return ledger[1], out, nil
}
