package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"time"

	"github.com/lianxin/lianxin"
)

// QR codes (代表码): the permanent codes WeChat made for deputies and
// stations, and one-time binding tokens shown as temporary codes.

// QRCodes returns every stored permanent code by scene.
func (db *DB) QRCodes(ctx context.Context) (_ map[string]lianxin.QRCode, err error) {
	defer wrap(&err, "QRCodes")
	var rows []lianxin.QRCode
	if err := db.read.SelectContext(ctx, &rows, `SELECT scene, ticket, url, created_at FROM qr_codes`); err != nil {
		return nil, err
	}
	out := make(map[string]lianxin.QRCode, len(rows))
	for _, r := range rows {
		out[r.Scene] = r
	}
	return out, nil
}

// QRCode returns the permanent code of a scene (ENOTFOUND when none was made).
func (db *DB) QRCode(ctx context.Context, scene string) (_ lianxin.QRCode, err error) {
	defer wrap(&err, "QRCode(%s)", scene)
	var q lianxin.QRCode
	err = db.read.GetContext(ctx, &q, `SELECT scene, ticket, url, created_at FROM qr_codes WHERE scene = ?`, scene)
	if errors.Is(err, sql.ErrNoRows) {
		return q, lianxin.Errorf(lianxin.ENOTFOUND, "no QR code for %s yet", scene)
	}
	return q, err
}

// SaveQRCode keeps a permanent code WeChat made. A code already kept for
// the scene wins (two processes asked at once: WeChat gives the same
// ticket for the same permanent scene anyway), and is returned.
func (db *DB) SaveQRCode(ctx context.Context, q lianxin.QRCode) (_ lianxin.QRCode, err error) {
	defer wrap(&err, "SaveQRCode(%s)", q.Scene)
	q.CreatedAt = db.now()
	err = db.Tx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO qr_codes (scene, ticket, url, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (scene) DO NOTHING`,
			q.Scene, q.Ticket, q.URL, q.CreatedAt)
		return err
	})
	if err != nil {
		return q, err
	}
	return db.QRCode(ctx, q.Scene)
}

// CreateBindToken makes a one-time token a deputy binds with by scanning
// the temporary QR code whose scene is bind:TOKEN. It is kept (hashed)
// beside the typed codes, so Bind takes it with their rules: single use,
// expiring, guesses counted. Unlike a typed code it leaves the deputy's
// other codes working: the console may show one while an invitation by
// digits is on its way. It is audited.
func (db *DB) CreateBindToken(ctx context.Context, deputyID string, ttl time.Duration, a lianxin.AuditEntry) (token string, expires time.Time, err error) {
	defer wrap(&err, "CreateBindToken(%s)", deputyID)
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", time.Time{}, err
	}
	// 32 characters, within WeChat's 64 for a scene with its "bind:".
	token = base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
	now := db.now()
	expires = now.Add(ttl)
	err = db.Tx(ctx, func(tx *Tx) error {
		var n int
		if err := tx.Get(&n, `SELECT COUNT(*) FROM deputies WHERE id = ? AND active = TRUE`, deputyID); err != nil {
			return err
		} else if n == 0 {
			return lianxin.Errorf(lianxin.ENOTFOUND, "no active deputy %q", deputyID)
		}
		if _, err := tx.Exec(`INSERT INTO deputy_invites (code_hash, deputy_id, expires_at, created_at) VALUES (?, ?, ?, ?)`,
			codeHash(token), deputyID, expires, now); err != nil {
			return err
		}
		a.Subject = "deputy:" + deputyID
		return audit(tx, a, now)
	})
	return token, expires, err
}
