package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/lianxin/lianxin"
)

// MediaLifetime is how long WeChat keeps a user's media for media/get.
const MediaLifetime = 72 * time.Hour

// RegisterAttachment records a photo or voice message the moment it arrives,
// queued for download, and returns its id. It is idempotent per message: a
// retry or a replay returns the same attachment.
func (db *DB) RegisterAttachment(ctx context.Context, m *lianxin.Inbound) (id int64, err error) {
	now := db.now()
	err = db.Tx(ctx, func(tx *sqlx.Tx) error {
		id, err = registerAttachment(tx, m, now)
		return err
	})
	return id, err
}

func registerAttachment(tx *sqlx.Tx, m *lianxin.Inbound, now time.Time) (int64, error) {
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
		m.OpenID, key, string(m.Kind), m.MediaID, m.PicURL, recognition, now, received.Add(MediaLifetime), now, now)
	if err != nil {
		return 0, err
	}
	var id int64
	err = tx.Get(&id, `SELECT id FROM attachments WHERE msg_key = ?`, key)
	return id, err
}

// Attachment returns one attachment.
func (db *DB) Attachment(ctx context.Context, id int64) (*lianxin.Attachment, error) {
	var a lianxin.Attachment
	err := db.read.GetContext(ctx, &a, `SELECT `+attachmentColumns+` FROM attachments WHERE id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, lianxin.Errorf(lianxin.ENOTFOUND, "attachment %d not found", id)
	}
	return &a, err
}

const attachmentColumns = `id, case_id, kind, media_id, pic_url, status, path, thumb_path, sha256, mime, size, error, attempts, created_at`
