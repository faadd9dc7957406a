package lianxin

import (
	"fmt"
	"strings"
	"time"
)

// Status is where a case is in its life: 群众提事 → 网格听事 → 代表议事 → 组织办事.
type Status string

// Case statuses. A case starts registered, is accepted by its deputy, may be
// forwarded to a department, is resolved, and may be reopened (重办) when the
// resident is not satisfied.
const (
	StatusRegistered Status = "registered" // 已登记: waiting for a deputy to accept
	StatusAccepted   Status = "accepted"   // 已受理
	StatusForwarded  Status = "forwarded"  // 已转办: with a department, the deputy supervises
	StatusResolved   Status = "resolved"   // 已办结
	StatusReopened   Status = "reopened"   // 重办: the resident was not satisfied
	StatusCancelled  Status = "cancelled"  // 已撤销
)

// Open reports whether the case still needs work.
func (s Status) Open() bool { return s != StatusResolved && s != StatusCancelled }

// Location is where a problem is: a WeChat location, a typed address, or both.
type Location struct {
	Lat     float64 `json:"lat,omitempty"`
	Lng     float64 `json:"lng,omitempty"`
	Label   string  `json:"label,omitempty"`   // WeChat's label for a location message
	Address string  `json:"address,omitempty"` // what the resident typed
}

// HasPoint reports whether the location carries coordinates.
func (l Location) HasPoint() bool { return l.Lat != 0 || l.Lng != 0 }

// Point is the location's coordinates.
func (l Location) Point() Point { return Point{Lat: l.Lat, Lng: l.Lng} }

// String is the location as a resident or deputy reads it.
func (l Location) String() string {
	switch {
	case l.Address != "":
		return l.Address
	case l.Label != "":
		return l.Label
	case l.HasPoint():
		return fmt.Sprintf("%.5f,%.5f", l.Lat, l.Lng)
	}
	return ""
}

// Case is one registered resident report (登记) and everything done about it.
type Case struct {
	ID           int64        `json:"id" db:"id"`
	Number       string       `json:"number" db:"number"`
	Status       Status       `json:"status" db:"status"`
	CategoryKey  string       `json:"category" db:"category"`
	StationID    string       `json:"station_id" db:"station_id"`
	AssigneeID   string       `json:"assignee_id" db:"assignee_id"`
	Description  string       `json:"description" db:"description"`
	Location     Location     `json:"location"`
	Phone        string       `json:"-" db:"phone"`
	OpenID       string       `json:"-" db:"openid"`
	NeedsStaff   bool         `json:"needs_staff" db:"needs_staff"`
	Satisfaction string       `json:"satisfaction" db:"satisfaction"`
	Source       string       `json:"source" db:"source"`                     // SourceWeChat, SourceVisit, ...
	ContactName  string       `json:"-" db:"contact_name"`                    // the resident's name, when staff took it down
	Private      bool         `json:"private" db:"private"`                   // kept out of every public view
	MergedInto   string       `json:"merged_into,omitempty" db:"merged_into"` // the case this one duplicates
	CreatedAt    time.Time    `json:"created_at" db:"created_at"`
	UpdatedAt    time.Time    `json:"updated_at" db:"updated_at"`
	AcceptDue    *time.Time   `json:"accept_due,omitempty" db:"accept_due"`
	ResolveDue   *time.Time   `json:"resolve_due,omitempty" db:"resolve_due"`
	ResolvedAt   *time.Time   `json:"resolved_at,omitempty" db:"resolved_at"`
	AcceptedAt   *time.Time   `json:"accepted_at,omitempty" db:"accepted_at"`
	Attachments  []Attachment `json:"attachments"`
	Events       []Event      `json:"timeline"`
}

// Satisfaction ratings a resident gives after 办结.
const (
	Satisfied       = "satisfied"        // 满意
	FairlySatisfied = "fairly_satisfied" // 基本满意
	Unsatisfied     = "unsatisfied"      // 不满意
)

// ShortNumber is the part of a case number a deputy types: KQ20261127-0007 → 7.
func ShortNumber(number string) string {
	i := strings.LastIndexByte(number, '-')
	if i < 0 {
		return number
	}
	s := strings.TrimLeft(number[i+1:], "0")
	if s == "" {
		return "0"
	}
	return s
}

// CaseNumber formats the register number of the seq-th case of a day: KQ20261127-0007.
func CaseNumber(prefix string, day time.Time, seq int) string {
	return fmt.Sprintf("%s%s-%04d", prefix, day.Format("20060102"), seq)
}

// Event is one entry on a case's timeline.
type Event struct {
	ID     int64     `json:"id" db:"id"`
	CaseID int64     `json:"-" db:"case_id"`
	Type   string    `json:"type" db:"type"`
	Actor  string    `json:"actor" db:"actor"`
	Text   string    `json:"text" db:"text"`
	At     time.Time `json:"at" db:"at"`
}

// Timeline event types.
const (
	EventCreated   = "created"
	EventRouted    = "routed"
	EventAssigned  = "assigned"
	EventStaff     = "staff_requested"
	EventAccepted  = "accepted"
	EventAnswered  = "answered"
	EventForwarded = "forwarded"
	EventProgress  = "progress"
	EventResolved  = "resolved"
	EventReturned  = "returned"
	EventRated     = "rated"
	EventReopened  = "reopened"
	EventReminded  = "reminded"
	EventOverdue   = "overdue"

	// Console actions.
	EventNote        = "note"         // an internal note
	EventMerged      = "merged"       // closed as a duplicate of another case
	EventDuplicate   = "duplicate"    // another case was merged into this one
	EventPrivate     = "private"      // marked private, or public again
	EventPhotoHidden = "photo_hidden" // a photo hidden (its original kept for admins)
	EventRerouted    = "rerouted"     // category or station changed, routed again
	EventBlocked     = "blocked"      // the sender was blocked or unblocked
)

// internalEvents are the timeline entries meant for staff and deputies
// only: why a case went where it went, returns, supervision, notes and
// moderation. Residents see the others.
var internalEvents = map[string]bool{
	EventRouted: true, EventAssigned: true, EventReturned: true, EventReminded: true, EventOverdue: true,
	EventNote: true, EventPrivate: true, EventPhotoHidden: true, EventRerouted: true, EventBlocked: true,
}

// Internal reports whether the entry is for staff and deputies only.
// (When events carry their audience, this reads it instead of the type.)
func (e *Event) Internal() bool { return internalEvents[e.Type] }

// Report is what a resident submitted through the report flow: the draft a
// case is registered from.
type Report struct {
	// SourceKey identifies the message that submitted it, so a retried or
	// replayed submission registers one case, not two.
	SourceKey     string
	OpenID        string
	Category      Category
	Description   string
	Location      Location
	StationID     string
	StationReason string
	Phone         string
	Attachments   []int64 // photos and voice messages, in the order sent
	NeedsStaff    bool    // 人工: the resident asked for a person
	// Source is how the case came in ("" is SourceWeChat); ContactName the
	// resident's name when staff took it down (walk-ins and calls).
	Source      string
	ContactName string
	// Audit is written with the case when staff registered it.
	Audit []AuditEntry
}

// SLAState is a case's standing against its deadlines, as supervision shows
// it: green (on time), yellow (临期: most of the window used), red (超期).
type SLAState string

// SLA states; a closed case has none.
const (
	SLAGreen  SLAState = "green"
	SLAYellow SLAState = "yellow"
	SLARed    SLAState = "red"
)

// SLA judges the case at now. While it waits to be accepted the accept
// deadline counts, afterwards the resolve deadline. It turns yellow once
// remindAt of the deadline's window (from the category) is used.
func (c *Case) SLA(now time.Time, remindAt float64, cat Category) SLAState {
	if !c.Status.Open() {
		return ""
	}
	due, window := c.ResolveDue, time.Duration(cat.ResolveDays)*24*time.Hour
	if c.AcceptedAt == nil && c.AcceptDue != nil && (c.Status == StatusRegistered || c.Status == StatusReopened) {
		due, window = c.AcceptDue, time.Duration(cat.AcceptHours)*time.Hour
	}
	if due == nil {
		return SLAGreen
	}
	switch {
	case !now.Before(*due):
		return SLARed
	case window > 0 && !now.Before(due.Add(-time.Duration(float64(window)*(1-remindAt)))):
		return SLAYellow
	}
	return SLAGreen
}

// CaseNumbering is how case numbers are made: a prefix, the date in the
// stations' time zone and the day's sequence (KQ20261127-0007).
type CaseNumbering struct {
	Prefix   string
	Location *time.Location
}

// CaseFilter selects cases for listing.
type CaseFilter struct {
	OpenID     string
	AssigneeID string
	StationID  string
	Status     []Status
	Limit      int
}

// OpenStatuses are the statuses of a case that still needs work (Status.Open).
var OpenStatuses = []Status{StatusRegistered, StatusAccepted, StatusForwarded, StatusReopened}
