package lianxin

import "time"

// Transition is one change to a case made by a deputy, a resident, staff or
// the supervisor: its new state, the timeline events and the notices it
// causes, all written in one transaction. It applies only if the case is
// still as the caller saw it (From, FromAssignee); otherwise the store
// returns an ECONFLICT error and writes nothing.
type Transition struct {
	CaseID       int64
	From         []Status // allowed current statuses; empty: any
	FromAssignee *string  // required current assignee; nil: any
	// Seen, when set, is the case's updated_at as the caller read it: any
	// change since (a stale console form) is a conflict.
	Seen *time.Time
	// Scope, when set, must allow the case as it is now (console actions).
	Scope *Scope

	Status       Status  // new status; "" leaves it
	Assignee     *string // new assignee; nil leaves it
	NeedsStaff   *bool
	Satisfaction string // "" leaves it
	Category     string // "" leaves it
	StationID    *string
	Private      *bool
	MergedInto   string // "" leaves it
	Events       []Event
	Notices      []Notice
	// HideAttachment hides this photo of the case (its file stays).
	HideAttachment int64
	// Block blocks or unblocks the case's sender.
	Block *Block
	// Audit entries of the staff action that made the change.
	Audit []AuditEntry
	// Related is a change to another case made in the same transaction
	// (merging a duplicate tells the case it joins).
	Related *Transition
}

// Block is blocking (On) or unblocking a sender who abused the account.
type Block struct {
	OpenID string
	On     bool
	Reason string
	By     string
}
