package lianxin

import (
	"time"
)

// Mass sends (群发): one machinery for every practice that pushes a text to
// many followers at once — a consultation's publication, a reception day's
// reminder. A send goes to a WeChat user tag (标签: a station's residents
// carry StationTag) or to every follower, waits in a durable queue (the
// table mass_sends) that a worker drains with a lease, and counts in a
// per-month ledger against the account's quota: WeChat lets a service
// account (服务号) reach each follower with at most 4 mass sends a month,
// so the ledger counts, per tag, the sends of the month that reach its
// followers (those to the tag plus those to everyone). The quota is
// configurable (mass.quota) for accounts with other limits; WeChat's own
// refusal (45028) settles it for the month whatever the ledger counted.

// StationTag is the WeChat user tag (标签) the residents of a station carry,
// which a mass send to the station's residents goes to. Residents get it
// when a case of theirs is routed to the station or they book a reception.
func StationTag(stationID string) string { return "联络站:" + stationID }

// MassSend is a push to many followers at once (群发), queued by a
// practice and sent by a worker within the month's quota.
type MassSend struct {
	ID int64 `json:"id" db:"id"`
	// Purpose says what queued it and makes it unique: "consultation:ID",
	// "reception:STATION:2026-12-15" (a reception day is reminded once).
	Purpose string `json:"purpose" db:"purpose"`
	// Tag is the WeChat tag it goes to; "" is every follower.
	Tag         string     `json:"tag" db:"tag"`
	Text        string     `json:"text" db:"text"`
	Month       string     `json:"month" db:"month"` // 2026-12, the stations' month it counts in
	Status      string     `json:"status" db:"status"`
	Attempts    int        `json:"attempts" db:"attempts"`
	LastError   string     `json:"last_error,omitempty" db:"last_error"`
	CreatedAt   time.Time  `json:"created_at" db:"created_at"`
	SentAt      *time.Time `json:"sent_at,omitempty" db:"sent_at"`
	NextAttempt time.Time  `json:"-" db:"next_attempt"`
}

// MassSendQuota is how many mass sends WeChat lets a service account make
// to each follower in a month: the default of mass.quota.
const MassSendQuota = 4

// Mass-send statuses (besides the outbox's pending, sent and dead).
const (
	// MassQuotaUsed: WeChat refused it, the month's quota is used up.
	MassQuotaUsed = "quota"
)

// ErrMassQuota: the month's mass-send quota is used up.
var ErrMassQuota = Errorf(ECONFLICT, "the month's mass-send quota is used up")

// MassMonth is the month a send made at t counts in, in the stations' zone.
func MassMonth(t time.Time, loc *time.Location) string {
	if loc != nil {
		t = t.In(loc)
	}
	return t.Format("2006-01")
}

// MassUse is a tag's line of the month's ledger: how many sends reach its
// followers, of how many allowed, and whether WeChat already said no.
type MassUse struct {
	Tag     string `json:"tag"`
	Used    int    `json:"used"`
	Quota   int    `json:"quota"`
	Refused bool   `json:"refused,omitempty"`
}

// Left is how many more sends the tag's followers may get this month.
func (u MassUse) Left() int {
	if u.Refused || u.Used >= u.Quota {
		return 0
	}
	return u.Quota - u.Used
}

// ResidentTag is a resident waiting to be given a station's tag in WeChat
// (a queue, like the outbox: the tagging worker leases it).
type ResidentTag struct {
	ID        int64      `json:"-" db:"-"`
	OpenID    string     `json:"openid" db:"openid"`
	Tag       string     `json:"tag" db:"tag"`
	Status    string     `json:"status" db:"status"`
	Attempts  int        `json:"attempts" db:"attempts"`
	LastError string     `json:"last_error,omitempty" db:"last_error"`
	TaggedAt  *time.Time `json:"tagged_at,omitempty" db:"tagged_at"`
}
