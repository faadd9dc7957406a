package lianxin

import (
	"encoding/json"
	"fmt"
	"time"
)

// Outcome is what became of a journaled message.
type Outcome string

// Journal outcomes.
const (
	OutcomeReceived  Outcome = "received"  // journaled, not yet through the conversation
	OutcomeReplied   Outcome = "replied"   // went through the conversation, reply sent
	OutcomeDeferred  Outcome = "deferred"  // Redis was unavailable: the resident was told, replay pending
	OutcomeReplayed  Outcome = "replayed"  // a deferred message applied later, reply sent by customer-service message
	OutcomeLate      Outcome = "late"      // applied after the webhook had to answer; reply sent by customer-service message
	OutcomeFailed    Outcome = "failed"    // could not be applied (kept for staff)
	OutcomeDuplicate Outcome = "duplicate" // a retry of a message already journaled
)

// Journaled is what journaling a message found: its entry's id, whether
// this call made the entry, and otherwise (a WeChat retry of a message
// journaled before) what became of the first copy and the reply it got.
type Journaled struct {
	ID      int64
	Fresh   bool
	Outcome Outcome
	Reply   string
}

// JournalEntry is one journaled inbound message: every message a resident
// sent is kept, whatever became of it.
type JournalEntry struct {
	ID         int64     `db:"id" json:"id"`
	Account    string    `db:"account" json:"account"`
	MsgKey     string    `db:"msg_key" json:"msg_key"`
	OpenID     string    `db:"openid" json:"-"`
	Kind       string    `db:"kind" json:"kind"`
	Content    string    `db:"content" json:"content"`
	MediaID    string    `db:"media_id" json:"media_id,omitempty"`
	Payload    string    `db:"payload" json:"-"`
	SentAt     time.Time `db:"sent_at" json:"sent_at"`
	ReceivedAt time.Time `db:"received_at" json:"received_at"`
	Outcome    Outcome   `db:"outcome" json:"outcome"`
	Reply      string    `db:"reply" json:"reply,omitempty"`
}

// Inbound decodes the journaled message (kept whole only while it may need
// replaying).
func (e *JournalEntry) Inbound() (*Inbound, error) {
	var m Inbound
	if err := json.Unmarshal([]byte(e.Payload), &m); err != nil {
		return nil, fmt.Errorf("journal entry %d: %w", e.ID, err)
	}
	m.JournalID = e.ID
	return &m, nil
}

// ResidentStatus is what the journal tells about whether a WeChat user can
// be sent a message: whether they still follow the account, and when they
// last wrote (WeChat takes customer-service messages for 48 hours after).
type ResidentStatus struct {
	Known       bool // they have written to the account
	Subscribed  bool
	LastInbound time.Time
}

// ServiceWindow is how long after a user's last message WeChat accepts
// customer-service messages to them; later only a template message gets
// through.
const ServiceWindow = 48 * time.Hour
