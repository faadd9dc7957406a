package lianxin

import (
	"fmt"
	"time"
)

// Suggestion is a formal suggestion (建议) made from a group of similar
// cases (每月一题): what many residents raised, put to the departments as
// one matter, with its own handling and timeline. When it is answered, the
// residents of every case in it are told the outcome.
type Suggestion struct {
	ID        int64  `json:"id" db:"id"`
	Title     string `json:"title" db:"title"`
	Summary   string `json:"summary" db:"summary"`
	Category  string `json:"category" db:"category"`
	StationID string `json:"station_id" db:"station_id"`
	// DeputyID is the deputy who proposed it ("" when staff did).
	DeputyID  string           `json:"deputy_id,omitempty" db:"deputy_id"`
	Status    SuggestionStatus `json:"status" db:"status"`
	Outcome   string           `json:"outcome,omitempty" db:"outcome"`
	CreatedBy string           `json:"created_by" db:"created_by"`
	CreatedAt time.Time        `json:"created_at" db:"created_at"`
	UpdatedAt time.Time        `json:"updated_at" db:"updated_at"`
	ClosedAt  *time.Time       `json:"closed_at,omitempty" db:"closed_at"`
	// Residents counts the residents of its cases (reporters and
	// supporters, each once); CaseCount its cases.
	Residents int               `json:"residents" db:"residents"`
	CaseCount int               `json:"cases" db:"case_count"`
	Cases     []Case            `json:"case_list,omitempty"`
	Events    []SuggestionEvent `json:"timeline,omitempty"`
}

// Number is how the suggestion is referred to: JY12.
func (s *Suggestion) Number() string { return fmt.Sprintf("JY%d", s.ID) }

// SuggestionStatus is where a suggestion is.
type SuggestionStatus string

// Suggestion statuses: proposed (提出), with a department (交办), answered
// (已办复, with its outcome; the residents are told).
const (
	SuggestionOpen      SuggestionStatus = "open"
	SuggestionForwarded SuggestionStatus = "forwarded"
	SuggestionAnswered  SuggestionStatus = "answered"
)

// SuggestionEvent is one entry of a suggestion's timeline.
type SuggestionEvent struct {
	ID    int64     `json:"id" db:"id"`
	Type  string    `json:"type" db:"type"` // created, progress, forwarded, answered, note
	Actor string    `json:"actor" db:"actor"`
	Text  string    `json:"text" db:"text"`
	At    time.Time `json:"at" db:"at"`
}

// Suggestion actions (console).
const (
	SuggestProgress = "progress"
	SuggestForward  = "forwarded"
	SuggestAnswer   = "answered"
	SuggestNote     = "note"
)

// SuggestionChange is one action on a suggestion, written with its
// timeline entry, its audit entry and (on the answer) the notices to the
// residents of its cases, in one transaction.
type SuggestionChange struct {
	ID      int64
	Scope   Scope
	Status  SuggestionStatus // "" leaves it
	Outcome string
	Event   SuggestionEvent
	// CaseEvents are written on its cases' timelines and CaseNotices queued
	// about them (keyed by case id).
	CaseEvents  map[int64][]Event
	CaseNotices map[int64][]Notice
	Audit       AuditEntry
}
