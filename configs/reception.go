package configs

import "time"

// Mass is the mass sends (群发) every practice shares: Quota is how many a
// follower may get in a month. WeChat allows a service account (服务号) 4
// a month per follower, the default; a subscription account (订阅号) may
// send once a day, so such an account would set up to 31. The ledger
// counts against it before anything is queued; WeChat's own refusal
// (45028) still ends the month.
type Mass struct {
	Quota int `yaml:"quota"`
}

// Reception is how reception days (接待日) are booked and reminded: the
// slots a day is cut into (SlotMinutes) and how many residents each takes
// (SlotCapacity), how far ahead residents book (BookAheadDays) and how
// many days they are offered at once (OfferDays), how many days before a
// reception day its station's residents are reminded by mass send
// (RemindDays; 0 turns the reminder off), and how often the reminder
// worker looks (Interval).
type Reception struct {
	SlotMinutes   int      `yaml:"slot_minutes"`
	SlotCapacity  int      `yaml:"slot_capacity"`
	BookAheadDays int      `yaml:"book_ahead_days"`
	OfferDays     int      `yaml:"offer_days"`
	RemindDays    int      `yaml:"remind_days"`
	Interval      Duration `yaml:"interval"`
}

// DefaultMass and DefaultReception are the shipped settings.
var (
	DefaultMass      = Mass{Quota: 4}
	DefaultReception = Reception{SlotMinutes: 60, SlotCapacity: 5, BookAheadDays: 45, OfferDays: 3, RemindDays: 3,
		Interval: Duration{10 * time.Minute}}
)

// MassQuota is the month's quota of mass sends per follower: mass.quota,
// or the older consultations.mass_quota when only that was changed.
func (c *Config) MassQuota() int {
	if c.Mass.Quota == DefaultMass.Quota && c.Consultations.MassQuota > 0 && c.Consultations.MassQuota != DefaultMass.Quota {
		return c.Consultations.MassQuota
	}
	return c.Mass.Quota
}

// validateReception checks mass and reception.
func (c *Config) validateReception(bad func(name, format string, args ...any)) {
	if c.Mass.Quota < 1 || c.Mass.Quota > 100 {
		bad("mass.quota", "must be between 1 and 100 (WeChat allows a service account 4 mass sends a month per follower)")
	}
	r := c.Reception
	if r.SlotMinutes < 10 || r.SlotMinutes > 480 {
		bad("reception.slot_minutes", "must be between 10 and 480")
	}
	if r.SlotCapacity < 1 || r.SlotCapacity > 500 {
		bad("reception.slot_capacity", "must be between 1 and 500 (residents a slot takes)")
	}
	if r.BookAheadDays < 1 || r.BookAheadDays > 366 {
		bad("reception.book_ahead_days", "must be between 1 and 366")
	}
	if r.OfferDays < 1 || r.OfferDays > 9 {
		bad("reception.offer_days", "must be between 1 and 9 (reception days offered in one message)")
	}
	if r.RemindDays < 0 || r.RemindDays > 30 {
		bad("reception.remind_days", "must be between 0 (no reminder) and 30")
	}
	if r.Interval.Duration < time.Second {
		bad("reception.interval", "must be at least 1s")
	}
}
