package lianxin

import "time"

// Case sources: how a case came in. Chat is WeChat; staff register walk-ins
// (来访) and calls (来电) in the console.
const (
	SourceWeChat = "wechat"
	SourceVisit  = "visit"
	SourceCall   = "call"
	SourceOther  = "other"
)

// Sources are the case sources in the order the console offers them.
var Sources = []string{SourceWeChat, SourceVisit, SourceCall, SourceOther, SourceGrid}

// Console queues: what needs a person, at a glance.
const (
	QueueStaff      = "staff"      // 人工: the resident asked for a person, or nobody could be assigned
	QueueUnassigned = "unassigned" // open with no deputy
	QueueDistrict   = "district"   // open and routed to no station: the district office's
	QueueOverdue    = "overdue"    // 超期
	QueueRating     = "rating"     // resolved, waiting for the resident's rating
)

// Queues in navigation order.
var Queues = []string{QueueStaff, QueueUnassigned, QueueDistrict, QueueOverdue, QueueRating}

// Sorts of the case list.
const (
	SortNewest  = "newest"
	SortOldest  = "oldest"
	SortDue     = "due"     // nearest deadline first
	SortUpdated = "updated" // most recently changed first
)

// CaseQuery is the console's case list filter, as it appears in the URL.
// Every field narrows; the zero value lists everything the scope allows.
type CaseQuery struct {
	Status   []Status
	Units    []string // stations and points; a station given alone includes its points (the caller expands it)
	Category string
	Deputy   string
	SLA      SLAState
	Source   string
	Queue    string
	From, To time.Time // registered in [From, To); zero: open-ended
	// Measure: only the cases a figure of the numbers counts (the links of
	// /console/stats). From and To are then the figure's period, judged as
	// things stood at its end, instead of a registration date range, and
	// Deputy is who had the case at the period's end (CaseFilter's
	// meaning), so the list has exactly the figure's cases.
	Measure Measure
	// Typical: only the cases staff chose as typical (典型案例).
	Typical bool
	// Search is a case number (full or short), words of the description
	// (every word must appear), or the last four digits of a phone.
	Search  string
	Sort    string
	Page    int // from 1
	PerPage int

	// Now and Thresholds are the clock and the categories' yellow windows
	// the SLA colour and the overdue queue are judged by.
	Now        time.Time
	Thresholds []SLAThreshold
}

// RatingWindow is how long after 办结 a resident's rating is taken.
const RatingWindow = 7 * 24 * time.Hour

// SLAThreshold says when a category's deadlines turn yellow (临期): when
// the deadline is within this much of now. The store compares deadlines
// against now plus it, per category, to filter by SLA colour in SQL.
type SLAThreshold struct {
	Category        string
	Accept, Resolve time.Duration
}

// Thresholds are each category's yellow windows at remindAt (see Case.SLA).
func (cs Categories) Thresholds(remindAt float64) []SLAThreshold {
	out := make([]SLAThreshold, len(cs))
	for i, c := range cs {
		out[i] = SLAThreshold{Category: c.Key,
			Accept:  time.Duration(float64(time.Duration(c.AcceptHours)*time.Hour) * (1 - remindAt)),
			Resolve: time.Duration(float64(time.Duration(c.ResolveDays)*24*time.Hour) * (1 - remindAt))}
	}
	return out
}

// CaseRow is a case as the list shows it.
type CaseRow struct {
	Case
	Photos int
}

// CasePage is one page of the case list with what the filters count.
type CasePage struct {
	Cases []CaseRow
	Total int // matching cases, all pages
	// ByStatus counts the matching cases per status ignoring the status
	// filter, so the status tabs say what each would show.
	ByStatus map[Status]int
	Page     int
	Pages    int
}

// QueueCounts are the number of cases in each queue within a scope.
type QueueCounts map[string]int

// Case actions staff and deputies take in the console (CaseAction.Verb).
// The deputy verbs are the chat commands' own.
const (
	ActAssign    = "assign"     // to a named deputy
	ActAccept    = "accept"     // 受理 (staff: on the deputy's behalf)
	ActAnswer    = "answer"     // 答复
	ActForward   = "forward"    // 转办
	ActProgress  = "progress"   // 进展
	ActResolve   = "resolve"    // 办结
	ActReturn    = "return"     // 退回
	ActReopen    = "reopen"     // 重办
	ActNote      = "note"       // internal note
	ActReroute   = "reroute"    // change category or station, routed again
	ActMerge     = "merge"      // close as a duplicate of another case
	ActPrivate   = "private"    // mark private (or public again)
	ActHidePhoto = "hide_photo" // hide a photo, the original kept for admins
	ActBlock     = "block"      // block (or unblock) the case's sender
)

// DeputyActs are the verbs a deputy may use in the console: what they can
// do in chat, and notes.
var DeputyActs = []string{ActAccept, ActAnswer, ActForward, ActProgress, ActResolve, ActReturn, ActNote}

// CaseAction is one console action on a case, carried out in one
// transaction with its timeline event, its notices and its audit entry.
type CaseAction struct {
	Verb   string
	Number string
	Actor  User
	Scope  Scope      // the actor's: a case outside it is not found
	Seen   *time.Time // the case's updated_at as the form showed it
	Addr   string     // the actor's address, for the audit log
	// IdemKey identifies the submission, so a form sent twice acts once.
	IdemKey string

	Text         string // answer, progress, resolution, reason, note
	DeputyID     string // assign
	DepartmentID string // forward
	Category     string // reroute ("" keeps it)
	StationID    string // reroute ("" keeps it)
	Duplicate    string // merge: the case number this one duplicates
	On           bool   // private, block: set (true) or clear
	AttachmentID int64  // hide_photo
}

// ResponseTemplate is a canned answer staff start from when answering a
// resident, per category ("" for any).
type ResponseTemplate struct {
	ID        int64     `db:"id"`
	Category  string    `db:"category"`
	Title     string    `db:"title"`
	Body      string    `db:"body"`
	UpdatedBy string    `db:"updated_by"`
	UpdatedAt time.Time `db:"updated_at"`
}
