package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/lianxin/lianxin"
)

// enqueue adds a send inside the caller's transaction; a second enqueue with
// the same idempotency key is a no-op.
func enqueue(tx *Tx, now time.Time, idemKey, kind, recipient string, payload any, caseID *int64) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	_, err = tx.Exec(`INSERT INTO outbox (idem_key, kind, recipient, payload, case_id, next_attempt, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idem_key) DO NOTHING`,
		idemKey, kind, recipient, string(b), caseID, now, now)
	return err
}

// enqueueNotice queues a change's notice for its case, held back by its
// Delay, with its rule for when it is still worth sending.
func enqueueNotice(tx *Tx, now time.Time, caseID int64, n lianxin.Notice) error {
	b, err := json.Marshal(n.Payload)
	if err != nil {
		return err
	}
	valid := ""
	if n.Valid != nil {
		v, err := json.Marshal(n.Valid)
		if err != nil {
			return err
		}
		valid = string(v)
	}
	_, err = tx.Exec(`INSERT INTO outbox (idem_key, kind, recipient, payload, case_id, next_attempt, created_at, valid_while)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idem_key) DO NOTHING`,
		n.IdemKey, n.Kind, n.Recipient, string(b), caseID, now.Add(n.Delay), now, valid)
	return err
}

// CaseState is a case's status and assignee now, for checking a notice's
// rule just before it is sent.
func (db *DB) CaseState(ctx context.Context, caseID int64) (_ lianxin.Status, assignee string, err error) {
	defer wrap(&err, "CaseState(%d)", caseID)
	var r struct {
		Status   lianxin.Status `db:"status"`
		Assignee string         `db:"assignee_id"`
	}
	if err := db.read.GetContext(ctx, &r, `SELECT status, assignee_id FROM cases WHERE id = ?`, caseID); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return "", "", lianxin.Errorf(lianxin.ENOTFOUND, "case %d not found", caseID)
		}
		return "", "", err
	}
	return r.Status, r.Assignee, nil
}

// MarkOutboxDropped ends a claimed send without sending it, on purpose:
// what it says is no longer true (its case moved on), with the reason.
func (db *DB) MarkOutboxDropped(ctx context.Context, id int64, owner, reason string) (err error) {
	defer wrap(&err, "MarkOutboxDropped(%d)", id)
	return db.finishOutbox(ctx, id, owner, `status = 'dropped', last_error = ?`, reason)
}

// AmendNotices writes events on a case and, for each amendment, drops its
// held-back notice and queues the replacement if the notice is still
// waiting and no worker holds it, or else queues the follow-up: all in one
// transaction, so the recipient gets the fuller notice or both, never
// neither.
func (db *DB) AmendNotices(ctx context.Context, caseID int64, events []lianxin.Event, amendments []lianxin.NoticeAmendment) (err error) {
	defer wrap(&err, "AmendNotices(case %d)", caseID)
	now := db.now()
	return db.TxCommitted(ctx, func(tx *Tx) error {
		for _, e := range events {
			if err := addEvent(tx, caseID, e, now); err != nil {
				return err
			}
		}
		for _, a := range amendments {
			res, err := tx.Exec(`UPDATE outbox SET status = ?, last_error = 'amended before it was sent'
				WHERE idem_key = ? AND status = 'pending' AND (lease_until IS NULL OR lease_until <= ?)`,
				lianxin.OutboxDropped, a.Drop, now.UTC())
			if err != nil {
				return err
			}
			n := a.FollowUp
			if dropped, _ := res.RowsAffected(); dropped == 1 {
				n = a.Replacement
			}
			if err := enqueueNotice(tx, now, caseID, n); err != nil {
				return err
			}
		}
		return nil
	})
}

// EnqueueReply queues the reply to a message that could not be answered in
// the webhook response (applied late, or replayed after Redis came back) as a
// customer-service message, and records it on the journal in the same
// transaction. At most one such reply is ever queued per message.
func (db *DB) EnqueueReply(ctx context.Context, m *lianxin.Inbound, outcome lianxin.Outcome, reply lianxin.Reply) (err error) {
	defer wrap(&err, "EnqueueReply(%s %d)", m.Kind, m.MsgID)
	now := db.now()
	return db.Tx(ctx, func(tx *Tx) error {
		if !reply.Empty() {
			if err := enqueue(tx, now, "reply:"+m.Account+":"+m.Key(), lianxin.OutboxText, m.OpenID, lianxin.TextPayload{Text: reply.Text}, nil); err != nil {
				return err
			}
		}
		// Upsert: a late reply can be ready before the webhook request that
		// gave up waiting has journaled the message; whichever lands second,
		// the row ends with the real reply (the webhook's insert keeps it).
		_, err := tx.Exec(`INSERT INTO journal (account, msg_key, openid, kind, content, media_id, payload, sent_at, received_at, outcome, reply)
			VALUES (?, ?, ?, ?, ?, ?, '{}', ?, ?, ?, ?)
			ON CONFLICT (account, msg_key) DO UPDATE SET outcome = excluded.outcome,
				reply = CASE WHEN excluded.reply = '' THEN journal.reply ELSE excluded.reply END`,
			m.Account, m.Key(), m.OpenID, string(m.Kind), m.Summary(), m.MediaID, m.Received().UTC(), now, outcome, reply.Text)
		return err
	})
}

// OutboxWithStatus lists sends with a status (all when ""), newest first.
func (db *DB) OutboxWithStatus(ctx context.Context, status string, limit int) (_ []lianxin.OutboxMessage, err error) {
	defer wrap(&err, "OutboxWithStatus(%s)", status)
	if status == "" {
		return db.Outbox(ctx, limit)
	}
	var out []lianxin.OutboxMessage
	err = db.read.SelectContext(ctx, &out, `SELECT * FROM outbox WHERE status = ? ORDER BY id DESC LIMIT ?`, status, limit)
	return out, err
}

// Outbox lists queued sends, newest first (for operators and tests).
func (db *DB) Outbox(ctx context.Context, limit int) (_ []lianxin.OutboxMessage, err error) {
	defer wrap(&err, "Outbox")
	var out []lianxin.OutboxMessage
	err = db.read.SelectContext(ctx, &out, `SELECT * FROM outbox ORDER BY id DESC LIMIT ?`, limit)
	return out, err
}

// Enqueue queues a send on its own, outside any other change (operators,
// tests); code that changes a case queues its sends in the same transaction
// instead. A second Enqueue with the same idempotency key is a no-op.
func (db *DB) Enqueue(ctx context.Context, idemKey, kind, recipient string, payload any, caseID *int64) (err error) {
	defer wrap(&err, "Enqueue(%s)", kind)
	now := db.now()
	return db.Tx(ctx, func(tx *Tx) error {
		return enqueue(tx, now, idemKey, kind, recipient, payload, caseID)
	})
}

// lianxin.OutboxMessage returns one queued send.
func (db *DB) OutboxMessage(ctx context.Context, id int64) (_ *lianxin.OutboxMessage, err error) {
	defer wrap(&err, "OutboxMessage(%d)", id)
	var m lianxin.OutboxMessage
	err = db.read.GetContext(ctx, &m, `SELECT * FROM outbox WHERE id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, lianxin.Errorf(lianxin.ENOTFOUND, "outbox message %d not found", id)
	}
	return &m, err
}

// ClaimOutbox leases up to limit due sends to owner until now+lease,
// counting an attempt on each, oldest first. A send is only claimed when no
// earlier send to the same recipient is still pending (waiting, between
// attempts or leased), so each recipient gets their messages in order. A
// notice held back on purpose (lianxin.Notice.Delay: never tried, no error,
// not yet due) does not hold up the ones after it.
// Selecting and leasing are one statement in one write transaction, so two
// processes never claim the same send.
func (db *DB) ClaimOutbox(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) (_ []lianxin.OutboxMessage, err error) {
	defer wrap(&err, "ClaimOutbox")
	now = now.UTC()
	var msgs []lianxin.OutboxMessage
	err = db.Tx(ctx, func(tx *Tx) error {
		msgs = msgs[:0]
		return tx.Select(&msgs, `UPDATE outbox
			SET lease_owner = ?, lease_until = ?, attempts = attempts + 1
			WHERE id IN (
				SELECT o.id FROM outbox o
				WHERE o.status = 'pending' AND o.next_attempt <= ? AND (o.lease_until IS NULL OR o.lease_until <= ?)
				AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.status = 'pending' AND p.recipient = o.recipient AND p.id < o.id
					AND (p.attempts > 0 OR p.last_error <> '' OR p.next_attempt <= ?))
				ORDER BY o.id LIMIT ?`+tx.d.skipLocked()+`)
			RETURNING *`,
			owner, now.Add(lease), now, now, now, limit)
	})
	return msgs, err
}

// MarkOutboxSent records that WeChat accepted a claimed send, and how it went.
func (db *DB) MarkOutboxSent(ctx context.Context, id int64, owner, via string, now time.Time) (err error) {
	defer wrap(&err, "MarkOutboxSent(%d)", id)
	return db.finishOutbox(ctx, id, owner, `status = 'sent', via = ?, sent_at = ?, last_error = ''`, via, now.UTC())
}

// RetryOutbox gives a claimed send back to the queue, due again at next.
func (db *DB) RetryOutbox(ctx context.Context, id int64, owner string, next time.Time, lastErr string) (err error) {
	defer wrap(&err, "RetryOutbox(%d)", id)
	return db.finishOutbox(ctx, id, owner, `next_attempt = ?, last_error = ?`, next.UTC(), lastErr)
}

// DeferOutbox gives a claimed send back to the queue, due again at next,
// without counting the attempt: there was nobody to send to yet (a deputy who
// has not bound their WeChat), which is waiting, not failing.
func (db *DB) DeferOutbox(ctx context.Context, id int64, owner string, next time.Time, reason string) (err error) {
	defer wrap(&err, "DeferOutbox(%d)", id)
	return db.finishOutbox(ctx, id, owner, `next_attempt = ?, last_error = ?, attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END`, next.UTC(), reason)
}

// MarkOutboxDead gives up on a claimed send, with the reason.
func (db *DB) MarkOutboxDead(ctx context.Context, id int64, owner string, lastErr string) (err error) {
	defer wrap(&err, "MarkOutboxDead(%d)", id)
	return db.finishOutbox(ctx, id, owner, `status = 'dead', last_error = ?`, lastErr)
}

func (db *DB) finishOutbox(ctx context.Context, id int64, owner, set string, args ...any) error {
	return db.finishLeased(ctx, "outbox", id, owner, set, args...)
}

// finishLeased applies set to a pending row of a work queue table
// (attachments, outbox) that this owner holds the lease on, and releases the
// lease. lianxin.ErrLeaseLost means the lease had expired and another worker took
// the row: the caller's outcome is not recorded, theirs will be.
func (db *DB) finishLeased(ctx context.Context, table string, id int64, owner, set string, args ...any) error {
	return db.Tx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE `+table+` SET `+set+`, lease_owner = '', lease_until = NULL
			WHERE id = ? AND lease_owner = ? AND status = 'pending'`, append(args, id, owner)...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return lianxin.ErrLeaseLost
		}
		return nil
	})
}

// RetryDeadOutbox puts a dead send back in the queue, due now with its
// attempts counted afresh, audited.
func (db *DB) RetryDeadOutbox(ctx context.Context, id int64, a lianxin.AuditEntry) (err error) {
	defer wrap(&err, "RetryDeadOutbox(%d)", id)
	now := db.now()
	return db.Tx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE outbox SET status = 'pending', attempts = 0, next_attempt = ?, lease_owner = '', lease_until = NULL
			WHERE id = ? AND status = 'dead'`, now, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return lianxin.Errorf(lianxin.ENOTFOUND, "no dead outbox message %d", id)
		}
		return audit(tx, a, now)
	})
}
