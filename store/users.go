package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/lianxin/lianxin"
)

// Console accounts, their sessions and failed sign-ins (migration 013).
// Password hashes are made and checked by the caller (web); the store only
// keeps them.

const userColumns = `id, username, role, station_id, deputy_id, disabled, created_at`

// AddUser creates an account. A taken user name is an ECONFLICT error.
func (db *DB) AddUser(ctx context.Context, u lianxin.User, passwordHash string, a lianxin.AuditEntry) (_ lianxin.User, err error) {
	defer wrap(&err, "AddUser(%s)", u.Username)
	now := db.now()
	err = db.Tx(ctx, func(tx *Tx) error {
		var n int
		if err := tx.Get(&n, `SELECT COUNT(*) FROM users WHERE username = ?`, u.Username); err != nil {
			return err
		} else if n > 0 {
			return lianxin.Errorf(lianxin.ECONFLICT, "user %q already exists", u.Username)
		}
		var err error
		if u.ID, _, err = tx.insertID(`INSERT INTO users (username, role, station_id, deputy_id, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			u.Username, u.Role, u.StationID, u.DeputyID, passwordHash, now, now); err != nil {
			return err
		}
		a.Subject = "user:" + u.Username
		return audit(tx, a, now)
	})
	u.CreatedAt = now
	return u, err
}

// Users lists every account, by name.
func (db *DB) Users(ctx context.Context) (_ []lianxin.User, err error) {
	defer wrap(&err, "Users")
	var out []lianxin.User
	err = db.read.SelectContext(ctx, &out, `SELECT `+userColumns+` FROM users ORDER BY username`)
	return out, err
}

// UserByName returns an account with its password hash ("" when it has none).
func (db *DB) UserByName(ctx context.Context, username string) (_ lianxin.User, hash string, err error) {
	defer wrap(&err, "UserByName(%s)", username)
	var row struct {
		lianxin.User
		Hash string `db:"password_hash"`
	}
	err = db.read.GetContext(ctx, &row, `SELECT `+userColumns+`, password_hash FROM users WHERE username = ?`, username)
	if errors.Is(err, sql.ErrNoRows) {
		return lianxin.User{}, "", lianxin.Errorf(lianxin.ENOTFOUND, "no user %q", username)
	}
	return row.User, row.Hash, err
}

// SetUserDisabled disables (or enables) an account; disabling signs it out
// everywhere.
func (db *DB) SetUserDisabled(ctx context.Context, username string, disabled bool, a lianxin.AuditEntry) (err error) {
	defer wrap(&err, "SetUserDisabled(%s)", username)
	return db.updateUser(ctx, username, a, `disabled = ?`, disabled)
}

// SetPassword replaces an account's password and signs it out everywhere.
func (db *DB) SetPassword(ctx context.Context, username, hash string, a lianxin.AuditEntry) (err error) {
	defer wrap(&err, "SetPassword(%s)", username)
	return db.updateUser(ctx, username, a, `password_hash = ?`, hash)
}

func (db *DB) updateUser(ctx context.Context, username string, a lianxin.AuditEntry, set string, v any) error {
	now := db.now()
	return db.Tx(ctx, func(tx *Tx) error {
		var id int64
		if err := tx.Get(&id, `SELECT id FROM users WHERE username = ?`, username); errors.Is(err, sql.ErrNoRows) {
			return lianxin.Errorf(lianxin.ENOTFOUND, "no user %q", username)
		} else if err != nil {
			return err
		}
		if _, err := tx.Exec(`UPDATE users SET `+set+`, updated_at = ? WHERE id = ?`, v, now, id); err != nil {
			return err
		}
		if _, err := tx.Exec(`DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
			return err
		}
		a.Subject = "user:" + username
		return audit(tx, a, now)
	})
}

// DeputyUser returns the account of a deputy who signs in from WeChat,
// creating it (without a password) the first time: wx-ID.
func (db *DB) DeputyUser(ctx context.Context, deputyID string) (_ lianxin.User, err error) {
	defer wrap(&err, "DeputyUser(%s)", deputyID)
	now := db.now()
	var u lianxin.User
	err = db.Tx(ctx, func(tx *Tx) error {
		err := tx.Get(&u, `SELECT `+userColumns+` FROM users WHERE role = 'deputy' AND deputy_id = ? ORDER BY disabled, id LIMIT 1`, deputyID)
		if err == nil || !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		u = lianxin.User{Username: "wx-" + deputyID, Role: lianxin.RoleDeputy, DeputyID: deputyID, CreatedAt: now}
		u.ID, _, err = tx.insertID(`INSERT INTO users (username, role, deputy_id, created_at, updated_at) VALUES (?, 'deputy', ?, ?, ?)`, u.Username, deputyID, now, now)
		return err
	})
	return u, err
}

// LoginFailures counts failed sign-ins since a time, for the user name and
// for the address.
func (db *DB) LoginFailures(ctx context.Context, username, addr string, since time.Time) (byUser, byAddr int, err error) {
	defer wrap(&err, "LoginFailures")
	err = db.read.QueryRowxContext(ctx, `SELECT
		(SELECT COUNT(*) FROM login_failures WHERE username = ? AND at > ?),
		(SELECT COUNT(*) FROM login_failures WHERE addr = ? AND at > ?)`,
		strings.ToLower(username), since.UTC(), addr, since.UTC()).Scan(&byUser, &byAddr)
	return byUser, byAddr, err
}

// RecordLoginFailure counts a failed sign-in, and forgets those older than a day.
func (db *DB) RecordLoginFailure(ctx context.Context, username, addr string) (err error) {
	defer wrap(&err, "RecordLoginFailure")
	now := db.now()
	return db.Tx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(`INSERT INTO login_failures (username, addr, at) VALUES (?, ?, ?)`, strings.ToLower(username), addr, now); err != nil {
			return err
		}
		_, err := tx.Exec(`DELETE FROM login_failures WHERE at < ?`, now.Add(-24*time.Hour))
		return err
	})
}

// CreateSession stores a session (by the hash of its token) and audits the
// sign-in with it.
func (db *DB) CreateSession(ctx context.Context, id string, userID int64, addr, userAgent string, a lianxin.AuditEntry) (err error) {
	defer wrap(&err, "CreateSession")
	now := db.now()
	return db.Tx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(`INSERT INTO sessions (id, user_id, created_at, last_seen, addr, user_agent) VALUES (?, ?, ?, ?, ?, ?)`,
			id, userID, now, now, addr, clipString(userAgent, 200)); err != nil {
			return err
		}
		return audit(tx, a, now)
	})
}

// sessionTouch is how stale last_seen may get before a request refreshes
// it: idle timeouts are minutes or hours, and a write per page is wasted.
const sessionTouch = time.Minute

// Session returns the live session with the id: ENOTFOUND when there is
// none, it has been idle longer than idle, or its user is disabled.
func (db *DB) Session(ctx context.Context, id string, idle time.Duration) (_ *lianxin.Session, err error) {
	defer wrap(&err, "Session")
	now := db.now()
	var row struct {
		lianxin.User
		Created  time.Time `db:"s_created"`
		LastSeen time.Time `db:"last_seen"`
	}
	err = db.read.GetContext(ctx, &row, `SELECT u.id, u.username, u.role, u.station_id, u.deputy_id, u.disabled, u.created_at,
		s.created_at AS s_created, s.last_seen FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, lianxin.Errorf(lianxin.ENOTFOUND, "no session")
	} else if err != nil {
		return nil, err
	}
	if row.Disabled || now.Sub(row.LastSeen) > idle {
		return nil, lianxin.Errorf(lianxin.ENOTFOUND, "session expired")
	}
	if now.Sub(row.LastSeen) > sessionTouch {
		if err := db.TxCommitted(ctx, func(tx *Tx) error {
			_, err := tx.Exec(`UPDATE sessions SET last_seen = ? WHERE id = ?`, now, id)
			if err != nil {
				return err
			}
			// Forget sessions idle for a week, whatever the timeout.
			_, err = tx.Exec(`DELETE FROM sessions WHERE last_seen < ?`, now.Add(-7*24*time.Hour))
			return err
		}); err != nil {
			return nil, err
		}
		row.LastSeen = now
	}
	return &lianxin.Session{User: row.User, ID: id, Created: row.Created, LastSeen: row.LastSeen}, nil
}

// DeleteSession signs a session out, audited.
func (db *DB) DeleteSession(ctx context.Context, id string, a lianxin.AuditEntry) (err error) {
	defer wrap(&err, "DeleteSession")
	now := db.now()
	return db.Tx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(`DELETE FROM sessions WHERE id = ?`, id); err != nil {
			return err
		}
		return audit(tx, a, now)
	})
}

func clipString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
