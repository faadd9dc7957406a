package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"

	"github.com/lianxin/lianxin"
)

// Open311 clients' API keys. Only a key's hash is kept: the key is shown
// once, when it is made.

func open311KeyHash(key string) string {
	h := sha256.Sum256([]byte("lianxin-open311:" + key))
	return hex.EncodeToString(h[:])
}

// CreateOpen311Key makes an API key for a client named name (audited) and
// returns it; it is not kept in clear anywhere.
func (db *DB) CreateOpen311Key(ctx context.Context, name string, a lianxin.AuditEntry) (key string, c lianxin.Open311Client, err error) {
	defer wrap(&err, "CreateOpen311Key(%s)", name)
	name = strings.TrimSpace(name)
	if name == "" || len([]rune(name)) > 40 {
		return "", c, lianxin.Errorf(lianxin.EINVALID, "a client's name is 1 to 40 characters (it becomes the source of its cases)")
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", c, err
	}
	key = "lx311_" + base64.RawURLEncoding.EncodeToString(b)
	now := db.now()
	c = lianxin.Open311Client{Name: name, CreatedAt: now}
	err = db.Tx(ctx, func(tx *Tx) error {
		id, _, err := tx.insertID(`INSERT INTO open311_keys (name, key_hash, created_at) VALUES (?, ?, ?)`, name, open311KeyHash(key), now)
		if err != nil {
			return err
		}
		c.ID = id
		a.Action, a.Subject = lianxin.AuditOpen311KeyAdd, "open311:"+strconv.FormatInt(id, 10)
		a.Detail = name
		return audit(tx, a, now)
	})
	return key, c, err
}

// Open311Keys lists every client, revoked ones too, oldest first.
func (db *DB) Open311Keys(ctx context.Context) (_ []lianxin.Open311Client, err error) {
	defer wrap(&err, "Open311Keys")
	out := []lianxin.Open311Client{}
	err = db.read.SelectContext(ctx, &out, `SELECT id, name, created_at, revoked_at, last_used_at FROM open311_keys ORDER BY id`)
	return out, err
}

// RevokeOpen311Key stops a client's key (by id, or by name when one live
// key has it); audited. ENOTFOUND when no live key matches.
func (db *DB) RevokeOpen311Key(ctx context.Context, idOrName string, a lianxin.AuditEntry) (_ lianxin.Open311Client, err error) {
	defer wrap(&err, "RevokeOpen311Key(%s)", idOrName)
	now := db.now()
	var c lianxin.Open311Client
	err = db.Tx(ctx, func(tx *Tx) error {
		var rows []lianxin.Open311Client
		id, _ := strconv.ParseInt(idOrName, 10, 64)
		if err := tx.Select(&rows, `SELECT id, name, created_at, revoked_at, last_used_at FROM open311_keys
			WHERE revoked_at IS NULL AND (id = ? OR name = ?)`+tx.d.forUpdate(), id, idOrName); err != nil {
			return err
		}
		switch len(rows) {
		case 0:
			return lianxin.Errorf(lianxin.ENOTFOUND, "no live Open311 key %q (see lianxin open311 key list)", idOrName)
		case 1:
		default:
			return lianxin.Errorf(lianxin.ECONFLICT, "%d live keys are named %q: revoke one by its id", len(rows), idOrName)
		}
		c = rows[0]
		if _, err := tx.Exec(`UPDATE open311_keys SET revoked_at = ? WHERE id = ?`, now, c.ID); err != nil {
			return err
		}
		c.RevokedAt = &now
		a.Action, a.Subject, a.Detail = lianxin.AuditOpen311KeyRevoke, "open311:"+strconv.FormatInt(c.ID, 10), c.Name
		return audit(tx, a, now)
	})
	return c, err
}

// Open311Client is the live client a key belongs to, noting its use.
// EUNAUTHORIZED for an unknown or revoked key.
func (db *DB) Open311Client(ctx context.Context, key string) (_ lianxin.Open311Client, err error) {
	defer wrap(&err, "Open311Client")
	var c lianxin.Open311Client
	err = db.read.GetContext(ctx, &c, `SELECT id, name, created_at, revoked_at, last_used_at FROM open311_keys
		WHERE key_hash = ? AND revoked_at IS NULL`, open311KeyHash(key))
	if errors.Is(err, sql.ErrNoRows) {
		return c, lianxin.Errorf(lianxin.EUNAUTHORIZED, "unknown or revoked Open311 API key")
	} else if err != nil {
		return c, err
	}
	now := db.now()
	err = db.Tx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`UPDATE open311_keys SET last_used_at = ? WHERE id = ?`, now, c.ID)
		return err
	})
	return c, err
}
