package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/lianxin/lianxin"
)

// RegisterAttachment records a photo or voice message the moment it arrives,
// queued for download, and returns its id. It is idempotent per message: a
// retry or a replay returns the same attachment. It returns once committed;
// the message's journal entry, written durably before the reply, makes it
// durable too (see TxCommitted).
func (db *DB) RegisterAttachment(ctx context.Context, m *lianxin.Inbound) (id int64, err error) {
	defer wrap(&err, "RegisterAttachment(%s %d)", m.Kind, m.MsgID)
	now := db.now()
	err = db.TxCommitted(ctx, func(tx *Tx) error {
		id, err = registerAttachment(tx, m, now)
		return err
	})
	return id, err
}

func registerAttachment(tx *Tx, m *lianxin.Inbound, now time.Time) (int64, error) {
	key := m.Account + ":" + m.Key()
	recognition := ""
	if m.Kind == lianxin.KindVoice {
		recognition = m.Text
	}
	received := m.Received().UTC()
	if received.IsZero() || received.After(now) {
		received = now
	}
	_, err := tx.Exec(`INSERT INTO attachments (openid, msg_key, kind, media_id, pic_url, recognition, next_attempt, expires_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (msg_key) DO NOTHING`,
		m.OpenID, key, string(m.Kind), m.MediaID, m.PicURL, recognition, now, received.Add(lianxin.MediaLifetime), now, now)
	if err != nil {
		return 0, err
	}
	var id int64
	err = tx.Get(&id, `SELECT id FROM attachments WHERE msg_key = ?`, key)
	return id, err
}

// Attachment returns one attachment.
func (db *DB) Attachment(ctx context.Context, id int64) (_ *lianxin.Attachment, err error) {
	defer wrap(&err, "Attachment(%d)", id)
	var a lianxin.Attachment
	err = db.read.GetContext(ctx, &a, `SELECT `+attachmentColumns+` FROM attachments WHERE id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, lianxin.Errorf(lianxin.ENOTFOUND, "attachment %d not found", id)
	}
	return &a, err
}

const attachmentColumns = `id, case_id, kind, media_id, pic_url, status, path, thumb_path, sha256, mime, size, error, attempts, created_at, recognition, hidden`

// ClaimAttachments leases up to limit pending attachments that are due at
// now (and not leased by a live worker) to owner until now+lease, counting
// an attempt on each. Selecting and leasing are one statement in one write
// transaction, so two processes sharing the file never claim the same row.
// Rows past their expiry are claimed too, for the worker to mark failed.
func (db *DB) ClaimAttachments(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) (_ []lianxin.MediaJob, err error) {
	defer wrap(&err, "ClaimAttachments")
	now = now.UTC()
	var jobs []lianxin.MediaJob
	err = db.Tx(ctx, func(tx *Tx) error {
		jobs = jobs[:0]
		return tx.Select(&jobs, `UPDATE attachments
			SET lease_owner = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
			WHERE id IN (
				SELECT id FROM attachments
				WHERE status = 'pending' AND next_attempt <= ? AND (lease_until IS NULL OR lease_until <= ?)
				ORDER BY next_attempt, id LIMIT ?`+tx.d.skipLocked()+`)
			RETURNING id, kind, media_id, pic_url, attempts, expires_at, error`,
			owner, now.Add(lease), now, now, now, limit)
	})
	return jobs, err
}

// MarkAttachmentStored records where a claimed attachment was stored.
func (db *DB) MarkAttachmentStored(ctx context.Context, id int64, owner string, now time.Time, f lianxin.StoredMedia) (err error) {
	defer wrap(&err, "MarkAttachmentStored(%d)", id)
	return db.finishAttachment(ctx, id, owner, `status = 'stored', path = ?, thumb_path = ?, sha256 = ?, mime = ?, size = ?, error = '', updated_at = ?`,
		f.Path, f.ThumbPath, f.SHA256, f.Mime, f.Size, now.UTC())
}

// RetryAttachment gives a claimed attachment back to the queue, due again at
// next, with the reason the attempt failed.
func (db *DB) RetryAttachment(ctx context.Context, id int64, owner string, now, next time.Time, reason string) (err error) {
	defer wrap(&err, "RetryAttachment(%d)", id)
	return db.finishAttachment(ctx, id, owner, `next_attempt = ?, error = ?, updated_at = ?`, next.UTC(), reason, now.UTC())
}

// MarkAttachmentFailed gives up on a claimed attachment, with the reason
// staff will see on the case. The notices OnAttachmentFailed makes (the
// resident is told) are queued in the same transaction.
func (db *DB) MarkAttachmentFailed(ctx context.Context, id int64, owner string, now time.Time, reason string) (err error) {
	defer wrap(&err, "MarkAttachmentFailed(%d)", id)
	if db.OnAttachmentFailed == nil {
		return db.finishAttachment(ctx, id, owner, `status = 'failed', error = ?, updated_at = ?`, reason, now.UTC())
	}
	return db.Tx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE attachments SET status = 'failed', error = ?, updated_at = ?, lease_owner = '', lease_until = NULL
			WHERE id = ? AND lease_owner = ? AND status = 'pending'`, reason, now.UTC(), id, owner)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return lianxin.ErrLeaseLost
		}
		var row struct {
			lianxin.Attachment
			OpenID string  `db:"openid"`
			Number *string `db:"number"`
		}
		if err := tx.Get(&row, `SELECT a.id, a.case_id, a.kind, a.media_id, a.pic_url, a.status, a.path, a.thumb_path, a.sha256,
			a.mime, a.size, a.error, a.attempts, a.created_at, a.openid, c.number
			FROM attachments a LEFT JOIN cases c ON c.id = a.case_id WHERE a.id = ?`, id); err != nil {
			return err
		}
		number := ""
		if row.Number != nil {
			number = *row.Number
		}
		for _, n := range db.OnAttachmentFailed(row.Attachment, row.OpenID, number) {
			if err := enqueue(tx, db.now(), n.IdemKey, n.Kind, n.Recipient, n.Payload, row.CaseID); err != nil {
				return err
			}
		}
		return nil
	})
}

// AttachmentStatuses says how far each of these attachments got.
func (db *DB) AttachmentStatuses(ctx context.Context, ids []int64) (_ map[int64]lianxin.AttachmentStatus, err error) {
	defer wrap(&err, "AttachmentStatuses")
	out := make(map[int64]lianxin.AttachmentStatus, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	// Asked at every report's summary and submission: built and scanned by
	// hand, without sqlx.In's and the struct mapping's reflection.
	var q strings.Builder
	q.WriteString(`SELECT id, status FROM attachments WHERE id IN (?`)
	args := make([]any, len(ids))
	for i, id := range ids {
		if i > 0 {
			q.WriteString(`, ?`)
		}
		args[i] = id
	}
	q.WriteString(`)`)
	rows, err := db.read.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var status string
		if err := rows.Scan(&id, &status); err != nil {
			return nil, err
		}
		out[id] = lianxin.AttachmentStatus(status)
	}
	return out, rows.Err()
}

func (db *DB) finishAttachment(ctx context.Context, id int64, owner, set string, args ...any) error {
	return db.finishLeased(ctx, "attachments", id, owner, set, args...)
}

// AttachmentToSend returns an attachment with its upload to WeChat, for
// sending it on as a message.
func (db *DB) AttachmentToSend(ctx context.Context, id int64) (_ *lianxin.Attachment, err error) {
	defer wrap(&err, "AttachmentToSend(%d)", id)
	var a lianxin.Attachment
	err = db.read.GetContext(ctx, &a, `SELECT `+attachmentColumns+`, wx_media_id, wx_uploaded_at FROM attachments WHERE id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, lianxin.Errorf(lianxin.ENOTFOUND, "attachment %d not found", id)
	}
	return &a, err
}

// RememberUpload records the temporary media id a stored attachment was
// uploaded to WeChat as, and when; an empty id forgets it (WeChat no
// longer has it).
func (db *DB) RememberUpload(ctx context.Context, id int64, mediaID string, at time.Time) (err error) {
	defer wrap(&err, "RememberUpload(%d)", id)
	var when any
	if mediaID != "" {
		when = at.UTC()
	}
	return db.Tx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`UPDATE attachments SET wx_media_id = ?, wx_uploaded_at = ? WHERE id = ?`, mediaID, when, id)
		return err
	})
}

// QueueNotices queues notices about a case that change nothing on it (the
// photos a deputy asked to see), in one transaction.
func (db *DB) QueueNotices(ctx context.Context, caseID int64, notices []lianxin.Notice) (err error) {
	defer wrap(&err, "QueueNotices(case %d)", caseID)
	now := db.now()
	return db.TxCommitted(ctx, func(tx *Tx) error {
		for _, n := range notices {
			if err := enqueueNotice(tx, now, caseID, n); err != nil {
				return err
			}
		}
		return nil
	})
}

// RegisterUpload records a photo staff uploaded (already stored) as an
// attachment in no case yet; registering the walk-in claims it. It has no
// WeChat user (openid ”).
func (db *DB) RegisterUpload(ctx context.Context, m lianxin.StoredMedia) (id int64, err error) {
	defer wrap(&err, "RegisterUpload(%s)", m.SHA256)
	now := db.now()
	var key [12]byte
	if _, err := rand.Read(key[:]); err != nil {
		return 0, err
	}
	err = db.Tx(ctx, func(tx *Tx) error {
		var err error
		id, _, err = tx.insertID(`INSERT INTO attachments (openid, msg_key, kind, media_id, status, path, thumb_path, sha256, mime, size,
			next_attempt, expires_at, created_at, updated_at)
			VALUES ('', ?, 'image', '', 'stored', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			"upload:"+hex.EncodeToString(key[:]), m.Path, m.ThumbPath, m.SHA256, m.Mime, m.Size, now, now, now, now)
		return err
	})
	return id, err
}
