package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/lianxin/lianxin"
)

// Outbox kinds.
const (
	OutboxText     = "cs_text"  // customer-service text message to an openid
	OutboxTemplate = "template" // template message to an openid
	OutboxRobot    = "robot"    // WeCom group robot post
)

// OutboxMessage is one queued send.
type OutboxMessage struct {
	ID          int64      `db:"id" json:"id"`
	IdemKey     string     `db:"idem_key" json:"idem_key"`
	Kind        string     `db:"kind" json:"kind"`
	Recipient   string     `db:"recipient" json:"-"`
	Payload     string     `db:"payload" json:"payload"`
	CaseID      *int64     `db:"case_id" json:"case_id,omitempty"`
	Status      string     `db:"status" json:"status"`
	Attempts    int        `db:"attempts" json:"attempts"`
	NextAttempt time.Time  `db:"next_attempt" json:"next_attempt"`
	LeaseOwner  string     `db:"lease_owner" json:"-"`
	LeaseUntil  *time.Time `db:"lease_until" json:"-"`
	LastError   string     `db:"last_error" json:"last_error,omitempty"`
	CreatedAt   time.Time  `db:"created_at" json:"created_at"`
	SentAt      *time.Time `db:"sent_at" json:"sent_at,omitempty"`
}

// TextPayload is the payload of a customer-service text message.
type TextPayload struct {
	Text string `json:"text"`
}

// enqueue adds a send inside the caller's transaction; a second enqueue with
// the same idempotency key is a no-op.
func enqueue(tx *sqlx.Tx, now time.Time, idemKey, kind, recipient string, payload any, caseID *int64) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	_, err = tx.Exec(`INSERT INTO outbox (idem_key, kind, recipient, payload, case_id, next_attempt, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idem_key) DO NOTHING`,
		idemKey, kind, recipient, string(b), caseID, now, now)
	return err
}

// EnqueueReply queues the reply to a message that could not be answered in
// the webhook response (applied late, or replayed after Redis came back) as a
// customer-service message, and records it on the journal in the same
// transaction. At most one such reply is ever queued per message.
func (db *DB) EnqueueReply(ctx context.Context, m *lianxin.Inbound, outcome string, reply lianxin.Reply) error {
	now := db.now()
	return db.Tx(ctx, func(tx *sqlx.Tx) error {
		if !reply.Empty() {
			if err := enqueue(tx, now, "reply:"+m.Account+":"+m.Key(), OutboxText, m.OpenID, TextPayload{Text: reply.Text}, nil); err != nil {
				return err
			}
		}
		_, err := tx.Exec(`UPDATE journal SET outcome = ?, reply = ? WHERE account = ? AND msg_key = ?`, outcome, reply.Text, m.Account, m.Key())
		return err
	})
}

// Outbox lists queued sends, newest first (for operators and tests).
func (db *DB) Outbox(ctx context.Context, limit int) ([]OutboxMessage, error) {
	var out []OutboxMessage
	err := db.read.SelectContext(ctx, &out, `SELECT * FROM outbox ORDER BY id DESC LIMIT ?`, limit)
	return out, err
}
