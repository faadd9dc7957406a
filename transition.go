package lianxin

// Transition is one change to a case made by a deputy, a resident, staff or
// the supervisor: its new state, the timeline events and the notices it
// causes, all written in one transaction. It applies only if the case is
// still as the caller saw it (From, FromAssignee); otherwise the store
// returns an ECONFLICT error and writes nothing.
type Transition struct {
	CaseID       int64
	From         []Status // allowed current statuses; empty: any
	FromAssignee *string  // required current assignee; nil: any

	Status       Status  // new status; "" leaves it
	Assignee     *string // new assignee; nil leaves it
	NeedsStaff   *bool
	Satisfaction string // "" leaves it
	Events       []Event
	Notices      []Notice
}
