package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/lianxin/lianxin"
)

// DeputyRecords lists deputies in directory order, inactive ones last.
func (db *DB) DeputyRecords(ctx context.Context) (_ []lianxin.DeputyRecord, err error) {
	defer wrap(&err, "DeputyRecords")
	var rows []struct {
		Data    string         `db:"data"`
		OpenID  sql.NullString `db:"openid"`
		BoundAt *time.Time     `db:"bound_at"`
		Active  bool           `db:"active"`
	}
	if err := db.read.SelectContext(ctx, &rows, `SELECT data, openid, bound_at, active FROM deputies ORDER BY active DESC, position`); err != nil {
		return nil, err
	}
	out := make([]lianxin.DeputyRecord, len(rows))
	for i, r := range rows {
		if err := json.Unmarshal([]byte(r.Data), &out[i].Deputy); err != nil {
			return nil, err
		}
		out[i].OpenID, out[i].Bound, out[i].BoundAt, out[i].Active = r.OpenID.String, r.OpenID.Valid, r.BoundAt, r.Active
	}
	return out, nil
}

// DeputyByOpenID returns the active deputy bound to a WeChat user.
func (db *DB) DeputyByOpenID(ctx context.Context, openid string) (_ lianxin.Deputy, _ bool, err error) {
	defer wrap(&err, "DeputyByOpenID(%s)", lianxin.MaskOpenID(openid))
	var data string
	err = db.read.GetContext(ctx, &data, `SELECT data FROM deputies WHERE openid = ? AND active = TRUE`, openid)
	if errors.Is(err, sql.ErrNoRows) {
		return lianxin.Deputy{}, false, nil
	} else if err != nil {
		return lianxin.Deputy{}, false, err
	}
	var d lianxin.Deputy
	err = json.Unmarshal([]byte(data), &d)
	return d, err == nil, err
}

// DeputyOpenID returns the WeChat user a deputy is bound to ("" if none).
func (db *DB) DeputyOpenID(ctx context.Context, deputyID string) (_ string, err error) {
	defer wrap(&err, "DeputyOpenID(%s)", deputyID)
	var openid sql.NullString
	err = db.read.GetContext(ctx, &openid, `SELECT openid FROM deputies WHERE id = ?`, deputyID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", lianxin.Errorf(lianxin.ENOTFOUND, "no deputy %s", deputyID)
	}
	return openid.String, err
}

// UnbindDeputy undoes a deputy's binding (a lost phone): whoever has that
// WeChat no longer acts as the deputy, who binds again with a new code. It
// is audited in the same transaction. bound is false when the deputy was
// not bound.
func (db *DB) UnbindDeputy(ctx context.Context, deputyID string, a lianxin.AuditEntry) (bound bool, err error) {
	defer wrap(&err, "UnbindDeputy(%s)", deputyID)
	now := db.now()
	err = db.Tx(ctx, func(tx *Tx) error {
		var openid sql.NullString
		if err := tx.Get(&openid, `SELECT openid FROM deputies WHERE id = ?`, deputyID); errors.Is(err, sql.ErrNoRows) {
			return lianxin.Errorf(lianxin.ENOTFOUND, "no deputy %q (see lianxin deputy list)", deputyID)
		} else if err != nil {
			return err
		}
		bound = openid.Valid
		if _, err := tx.Exec(`UPDATE deputies SET openid = NULL, bound_at = NULL WHERE id = ?`, deputyID); err != nil {
			return err
		}
		return audit(tx, a, now)
	})
	return bound, err
}

func codeHash(code string) string {
	h := sha256.Sum256([]byte("lianxin-invite:" + code))
	return hex.EncodeToString(h[:])
}

// CreateInvite makes a one-time 6-digit code for a deputy to bind their
// WeChat with (绑定 CODE). Earlier unused codes of the deputy stop working.
func (db *DB) CreateInvite(ctx context.Context, deputyID string, ttl time.Duration) (code string, expires time.Time, err error) {
	defer wrap(&err, "CreateInvite(%s)", deputyID)
	now := db.now()
	expires = now.Add(ttl)
	err = db.Tx(ctx, func(tx *Tx) error {
		var n int
		if err := tx.Get(&n, `SELECT COUNT(*) FROM deputies WHERE id = ? AND active = TRUE`, deputyID); err != nil {
			return err
		} else if n == 0 {
			return lianxin.Errorf(lianxin.ENOTFOUND, "no active deputy %q (see lianxin deputy list)", deputyID)
		}
		if _, err := tx.Exec(`DELETE FROM deputy_invites WHERE deputy_id = ? AND used_at IS NULL`, deputyID); err != nil {
			return err
		}
		for attempt := 0; attempt < 10; attempt++ {
			v, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
			if err != nil {
				return err
			}
			code = fmt.Sprintf("%06d", v.Int64())
			res, err := tx.Exec(`INSERT INTO deputy_invites (code_hash, deputy_id, expires_at, created_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (code_hash) DO NOTHING`, codeHash(code), deputyID, expires, now)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				return nil
			}
		}
		return errors.New("store: could not find a free invite code")
	})
	return code, expires, err
}

// Bind binds the sender's WeChat to the deputy the code was made for, and
// drops the notices still waiting for the deputy (the caller sums them up
// instead of sending a backlog of stale instructions). A wrong, used or
// expired code is counted as a failure. Every attempt is refused after
// lianxin.BindLimit failures of the sender, or lianxin.BindGlobalLimit
// failures of anyone, in lianxin.BindWindow; and a code is void once
// lianxin.BindCodeLimit failures happened since it was made. So six digits
// cannot be guessed, however many accounts guess.
func (db *DB) Bind(ctx context.Context, code, openid string) (_ lianxin.Deputy, err error) {
	defer wrap(&err, "Bind(%s)", lianxin.MaskOpenID(openid))
	now := db.now()
	var dep lianxin.Deputy
	var outcome error
	err = db.TxCommitted(ctx, func(tx *Tx) error {
		outcome = nil
		if throttled, err := bindThrottled(tx, openid, now); err != nil || throttled {
			if throttled {
				outcome = lianxin.ErrTooManyTries
			}
			return err
		}
		var failures int
		var inv struct {
			DeputyID  string     `db:"deputy_id"`
			ExpiresAt time.Time  `db:"expires_at"`
			UsedAt    *time.Time `db:"used_at"`
			CreatedAt time.Time  `db:"created_at"`
		}
		err := tx.Get(&inv, `SELECT deputy_id, expires_at, used_at, created_at FROM deputy_invites WHERE code_hash = ?`+tx.d.forUpdate(), codeHash(code))
		if err == nil && inv.UsedAt == nil && now.Before(inv.ExpiresAt) {
			// Guessed at too often while it was valid: void.
			if err := tx.Get(&failures, `SELECT COUNT(*) FROM bind_failures WHERE at >= ?`, inv.CreatedAt); err != nil {
				return err
			}
			if failures >= lianxin.BindCodeLimit {
				if _, err := tx.Exec(`UPDATE deputy_invites SET expires_at = ? WHERE code_hash = ?`, now, codeHash(code)); err != nil {
					return err
				}
				inv.ExpiresAt = now
			}
		}
		if errors.Is(err, sql.ErrNoRows) || (err == nil && (inv.UsedAt != nil || !now.Before(inv.ExpiresAt))) {
			outcome = lianxin.ErrBadCode
			_, err = tx.Exec(`INSERT INTO bind_failures (openid, at) VALUES (?, ?)`, openid, now)
			return err
		} else if err != nil {
			return err
		}
		// One WeChat user is one deputy: a re-bind moves the binding.
		if _, err := tx.Exec(`UPDATE deputies SET openid = NULL, bound_at = NULL WHERE openid = ? AND id <> ?`, openid, inv.DeputyID); err != nil {
			return err
		}
		if _, err := tx.Exec(`UPDATE deputies SET openid = ?, bound_at = ? WHERE id = ?`, openid, now, inv.DeputyID); err != nil {
			return err
		}
		if _, err := tx.Exec(`UPDATE deputy_invites SET used_at = ? WHERE code_hash = ?`, now, codeHash(code)); err != nil {
			return err
		}
		// What was queued for them while nobody could be reached is not
		// sent as a backlog: the binding's reply sums it up (我的).
		if _, err := tx.Exec(`UPDATE outbox SET status = ?, last_error = 'summed up when the deputy bound their WeChat'
			WHERE recipient = ? AND status = 'pending' AND (lease_until IS NULL OR lease_until <= ?)`,
			lianxin.OutboxDropped, lianxin.DeputyRecipient(inv.DeputyID), now.UTC()); err != nil {
			return err
		}
		var data string
		if err := tx.Get(&data, `SELECT data FROM deputies WHERE id = ?`, inv.DeputyID); err != nil {
			return err
		}
		return json.Unmarshal([]byte(data), &dep)
	})
	if err != nil {
		return lianxin.Deputy{}, err
	}
	return dep, outcome
}

// bindThrottled reports whether a binding attempt from openid must be
// refused unheard: too many failed codes from this WeChat user, or from
// everyone, within the window (deputies' and grid workers' codes alike).
func bindThrottled(tx *Tx, openid string, now time.Time) (bool, error) {
	var failures int
	if err := tx.Get(&failures, `SELECT COUNT(*) FROM bind_failures WHERE openid = ? AND at > ?`, openid, now.Add(-lianxin.BindWindow)); err != nil {
		return false, err
	}
	if failures >= lianxin.BindLimit {
		return true, nil
	}
	if err := tx.Get(&failures, `SELECT COUNT(*) FROM bind_failures WHERE at > ?`, now.Add(-lianxin.BindWindow)); err != nil {
		return false, err
	}
	return failures >= lianxin.BindGlobalLimit, nil
}
