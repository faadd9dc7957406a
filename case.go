package lianxin

import (
	"fmt"
	"strconv"
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

// Statuses are all the statuses, in the order a case goes through them.
var Statuses = []Status{StatusRegistered, StatusAccepted, StatusForwarded, StatusResolved, StatusReopened, StatusCancelled}

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
	ID           int64      `json:"id" db:"id"`
	Number       string     `json:"number" db:"number"`
	Status       Status     `json:"status" db:"status"`
	CategoryKey  string     `json:"category" db:"category"`
	StationID    string     `json:"station_id" db:"station_id"`
	AssigneeID   string     `json:"assignee_id" db:"assignee_id"`
	Description  string     `json:"description" db:"description"`
	Location     Location   `json:"location"`
	Phone        string     `json:"-" db:"phone"`
	OpenID       string     `json:"-" db:"openid"`
	NeedsStaff   bool       `json:"needs_staff" db:"needs_staff"`
	Satisfaction string     `json:"satisfaction" db:"satisfaction"`
	Source       string     `json:"source" db:"source"`                     // SourceWeChat, SourceVisit, ...
	ContactName  string     `json:"-" db:"contact_name"`                    // the resident's name, when staff took it down
	Private      bool       `json:"private" db:"private"`                   // kept out of every public view
	MergedInto   string     `json:"merged_into,omitempty" db:"merged_into"` // the case this one duplicates
	CreatedAt    time.Time  `json:"created_at" db:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at" db:"updated_at"`
	AcceptDue    *time.Time `json:"accept_due,omitempty" db:"accept_due"`
	ResolveDue   *time.Time `json:"resolve_due,omitempty" db:"resolve_due"`
	ResolvedAt   *time.Time `json:"resolved_at,omitempty" db:"resolved_at"`
	AcceptedAt   *time.Time `json:"accepted_at,omitempty" db:"accepted_at"`
	// Anonymous: the resident asked to stay anonymous to the deputy; every
	// view and export masks who they are and how to reach them.
	Anonymous bool `json:"anonymous,omitempty" db:"anonymous"`
	// ErasedAt is when the resident's phone and openid were erased
	// (retention, or at their request); the case and its numbers stay.
	ErasedAt *time.Time `json:"erased_at,omitempty" db:"erased_at"`
	// TypicalAt is when staff chose it as a typical case (典型案例) for the
	// monthly report, with why.
	TypicalAt   *time.Time   `json:"typical_at,omitempty" db:"typical_at"`
	TypicalNote string       `json:"typical_note,omitempty" db:"typical_note"`
	Attachments []Attachment `json:"attachments"`
	Events      []Event      `json:"timeline"`

	// GridID is the grid (网格) the case is in; Reporter who reported it on
	// the resident's behalf ("grid:ID", a grid worker), "" the resident.
	GridID   string `json:"grid_id,omitempty" db:"grid_id"`
	Reporter string `json:"reporter,omitempty" db:"reporter"`
	// Supporters are the other residents who said it is their problem too
	// (同一件): the case concerns 1 + Supporters residents.
	Supporters int `json:"supporters" db:"-"`
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
	ID     int64  `json:"id" db:"id"`
	CaseID int64  `json:"-" db:"case_id"`
	Type   string `json:"type" db:"type"`
	Actor  string `json:"actor" db:"actor"`
	// Text is written for the event's audience: a resident event's text
	// may be shown to the resident as it is.
	Text     string    `json:"text" db:"text"`
	Audience Audience  `json:"audience" db:"audience"`
	At       time.Time `json:"at" db:"at"`
}

// Audience is who may read a timeline event. Staff and deputies read every
// event; a resident reads only the events meant for them, so a deputy's
// 退回 reason, routing's reasons and internal notes never reach them. A
// change the resident should know about in other words than staff's gets
// two events: the staff one with the details, and a resident one
// (EventTold) with what the resident was told.
type Audience string

// Audiences.
const (
	AudienceResident Audience = "resident" // the resident, and staff
	AudienceStaff    Audience = "staff"    // deputies and staff only (the default)
)

// VisibleTo reports whether a reader sees the event: a resident (resident
// true) only resident events, deputies and staff (false) all of them. An
// event without an audience is staff-only.
func (e Event) VisibleTo(resident bool) bool { return !resident || e.Audience == AudienceResident }

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
	// EventTold is what the resident was told about a change, in their words
	// (always AudienceResident): "已改由孙演示代表办理".
	EventTold = "told"
	// EventNote is an internal note (always AudienceStaff), e.g. a deputy's
	// words to the department a case is forwarded to.
	EventNote = "note"
	// EventFollowUp is what the resident added when asked (不满意: what is
	// still wrong); AudienceResident.
	EventFollowUp = "follow_up"
	// EventStaffAnswered is station or district staff answering the
	// resident (lianxin cases reply, the console).
	EventStaffAnswered = "staff_answered"

	// Console actions.
	EventMerged      = "merged"       // closed as a duplicate of another case
	EventDuplicate   = "duplicate"    // another case was merged into this one
	EventPrivate     = "private"      // marked private, or public again
	EventPhotoHidden = "photo_hidden" // a photo hidden (its original kept for admins)
	EventRerouted    = "rerouted"     // category or station changed, routed again
	EventBlocked     = "blocked"      // the sender was blocked or unblocked
)

// Internal reports whether the event is for staff and deputies only (the
// console marks it 内部); residents read the others (VisibleTo).
func (e *Event) Internal() bool { return !e.VisibleTo(true) }

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
	// Anonymous: the resident asked to stay anonymous to the deputy (the
	// conversation that asks is issue 11's; the register honours the flag).
	Anonymous bool
	// Source is how the case came in ("" is SourceWeChat); ContactName the
	// resident's name when staff took it down (walk-ins and calls).
	Source      string
	ContactName string
	// GridID is the grid the case is in (Directory.GridAt); Reporter the
	// grid worker reporting it for the resident ("grid:ID"), whose WeChat
	// (ReporterOpenID) sent the photos and follows the case.
	GridID         string
	Reporter       string
	ReporterOpenID string
	// ScanDeputy is the deputy whose QR code (代表码) the resident scanned
	// before reporting: they take the case.
	ScanDeputy string
	// ReceivedBy is the deputy who heard it in person (on duty at a
	// reception day): the case goes to them rather than by the rules.
	ReceivedBy string
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

// Number resolves a case reference as staff type it: a whole number
// (KQ20261127-0007, in any case), a day and its sequence (20261127-7), or
// the sequence alone (7: today's, in the stations' time zone, at now). ok
// is false for anything else.
func (n CaseNumbering) Number(ref string, now time.Time) (string, bool) {
	ref = strings.ToUpper(strings.TrimSpace(ref))
	day, seq, hasDay := strings.Cut(ref, "-")
	if !hasDay {
		day, seq = now.In(n.Location).Format("20060102"), ref
	}
	day = strings.TrimPrefix(day, n.Prefix)
	d, err1 := time.ParseInLocation("20060102", day, n.Location)
	i, err2 := strconv.Atoi(seq)
	if err1 != nil || err2 != nil || len(day) != 8 || i < 1 || len(seq) > 6 {
		return "", false
	}
	return CaseNumber(n.Prefix, d, i), true
}

// CaseFilter selects cases for listing, exporting and counting: the case
// list, the register export and every figure of the numbers take the same
// filter, so a sheet equals the list it was exported from and each figure
// links to the cases it counts. Empty fields select everything.
type CaseFilter struct {
	OpenID     string
	AssigneeID string // the deputy the case is assigned to now
	StationID  string // exactly this unit (not its points: see Units)
	Status     []Status
	Limit      int

	// Units: cases of any of these stations or points (Directory.Units gives
	// a station with its points; "" is the district queue).
	Units    []string `json:",omitempty"`
	Category string   `json:",omitempty"`
	// Source is where the report came from (微信, 来访, 来电, 其他渠道).
	Source string `json:",omitempty"`
	// Deputy is the deputy who had the case at the end of the period (To,
	// or now): the 承办代表 a figure is broken down by.
	Deputy  string `json:",omitempty"`
	Typical bool   `json:",omitempty"`

	// From and To are a period: with no Measure, the cases registered in
	// it; with one, the cases that figure counts in it, judged as things
	// stood at To (or now, when To is later). Zero From is the beginning;
	// zero To is now.
	From    time.Time `json:",omitzero"`
	To      time.Time `json:",omitzero"`
	Measure Measure   `json:",omitempty"`
	// Scope, when set, narrows to what a console user may see (the
	// console's numbers are the user's scope's).
	Scope *Scope `json:"-"`
}

// OpenStatuses are the statuses of a case that still needs work (Status.Open).
var OpenStatuses = []Status{StatusRegistered, StatusAccepted, StatusForwarded, StatusReopened}
