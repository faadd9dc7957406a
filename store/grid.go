package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/lianxin/lianxin"
)

// Grid workers (网格员): their WeChat bindings and one-time binding codes,
// and the cases of a grid. The grids and their workers are the directory's
// (imported with it, table grids).

// gridWorkerKnown reports whether the worker is in an active grid.
func gridWorkerKnown(q queryer, workerID string) (bool, error) {
	var rows []string
	if err := q.Select(&rows, `SELECT data FROM grids WHERE active = TRUE`); err != nil {
		return false, err
	}
	for _, data := range rows {
		var g lianxin.Grid
		if err := json.Unmarshal([]byte(data), &g); err != nil {
			return false, err
		}
		for _, w := range g.Workers {
			if w.ID == workerID {
				return true, nil
			}
		}
	}
	return false, nil
}

func gridCodeHash(code string) string { return codeHash("grid:" + code) }

// CreateGridInvite makes a one-time 6-digit code for a grid worker to bind
// their WeChat with (绑定 CODE), as for deputies; the worker's earlier
// unused codes stop working. It is audited.
func (db *DB) CreateGridInvite(ctx context.Context, workerID string, ttl time.Duration, a lianxin.AuditEntry) (code string, expires time.Time, err error) {
	defer wrap(&err, "CreateGridInvite(%s)", workerID)
	now := db.now()
	expires = now.Add(ttl)
	err = db.Tx(ctx, func(tx *Tx) error {
		if ok, err := gridWorkerKnown(tx, workerID); err != nil {
			return err
		} else if !ok {
			return lianxin.Errorf(lianxin.ENOTFOUND, "no grid worker %q in the directory (see lianxin grid list)", workerID)
		}
		if _, err := tx.Exec(`DELETE FROM grid_invites WHERE worker_id = ? AND used_at IS NULL`, workerID); err != nil {
			return err
		}
		for attempt := 0; attempt < 10; attempt++ {
			v, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
			if err != nil {
				return err
			}
			code = fmt.Sprintf("%06d", v.Int64())
			// A code must not also be a deputy's live code: 绑定 tries grids first.
			var clash int
			if err := tx.Get(&clash, `SELECT COUNT(*) FROM deputy_invites WHERE code_hash = ? AND used_at IS NULL`, codeHash(code)); err != nil {
				return err
			}
			if clash > 0 {
				continue
			}
			res, err := tx.Exec(`INSERT INTO grid_invites (code_hash, worker_id, expires_at, created_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (code_hash) DO NOTHING`, gridCodeHash(code), workerID, expires, now)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				a.Subject = "grid_worker:" + workerID
				return audit(tx, a, now)
			}
		}
		return errors.New("store: could not find a free invite code")
	})
	return code, expires, err
}

// BindGrid binds the sender's WeChat to the grid worker a code was made
// for. found is false when the code is no grid worker's live code: the
// caller then tries it as a deputy's (store.DB.Bind), which counts the
// failure. Every attempt is refused (lianxin.ErrTooManyTries) past the
// limits that guard deputies' codes, which count grid codes' failures too.
func (db *DB) BindGrid(ctx context.Context, code, openid string) (workerID string, found bool, err error) {
	defer wrap(&err, "BindGrid(%s)", lianxin.MaskOpenID(openid))
	now := db.now()
	var outcome error
	err = db.TxCommitted(ctx, func(tx *Tx) error {
		outcome, found, workerID = nil, false, ""
		if throttled, err := bindThrottled(tx, openid, now); err != nil || throttled {
			if throttled {
				outcome = lianxin.ErrTooManyTries
			}
			return err
		}
		var failures int
		var inv struct {
			WorkerID  string     `db:"worker_id"`
			ExpiresAt time.Time  `db:"expires_at"`
			UsedAt    *time.Time `db:"used_at"`
			CreatedAt time.Time  `db:"created_at"`
		}
		err := tx.Get(&inv, `SELECT worker_id, expires_at, used_at, created_at FROM grid_invites WHERE code_hash = ?`+tx.d.forUpdate(), gridCodeHash(code))
		if errors.Is(err, sql.ErrNoRows) || (err == nil && (inv.UsedAt != nil || !now.Before(inv.ExpiresAt))) {
			return nil
		} else if err != nil {
			return err
		}
		// Guessed at too often while it was valid: void.
		if err := tx.Get(&failures, `SELECT COUNT(*) FROM bind_failures WHERE at >= ?`, inv.CreatedAt); err != nil {
			return err
		}
		if failures >= lianxin.BindCodeLimit {
			_, err := tx.Exec(`UPDATE grid_invites SET expires_at = ? WHERE code_hash = ?`, now, gridCodeHash(code))
			return err
		}
		// One WeChat user is one grid worker, and a worker has one WeChat.
		if _, err := tx.Exec(`DELETE FROM grid_bindings WHERE openid = ? OR worker_id = ?`, openid, inv.WorkerID); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO grid_bindings (worker_id, openid, bound_at) VALUES (?, ?, ?)`, inv.WorkerID, openid, now); err != nil {
			return err
		}
		if _, err := tx.Exec(`UPDATE grid_invites SET used_at = ? WHERE code_hash = ?`, now, gridCodeHash(code)); err != nil {
			return err
		}
		found, workerID = true, inv.WorkerID
		return nil
	})
	if err != nil {
		return "", false, err
	}
	if outcome != nil {
		return "", false, outcome
	}
	return workerID, found, nil
}

// GridWorkerByOpenID returns the grid worker a WeChat user is bound as.
func (db *DB) GridWorkerByOpenID(ctx context.Context, openid string) (_ string, _ bool, err error) {
	defer wrap(&err, "GridWorkerByOpenID(%s)", lianxin.MaskOpenID(openid))
	var id string
	err = db.read.GetContext(ctx, &id, `SELECT worker_id FROM grid_bindings WHERE openid = ?`, openid)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return id, err == nil, err
}

// GridBindings maps each bound grid worker to when they bound.
func (db *DB) GridBindings(ctx context.Context) (_ map[string]time.Time, err error) {
	defer wrap(&err, "GridBindings")
	var rows []struct {
		ID string    `db:"worker_id"`
		At time.Time `db:"bound_at"`
	}
	if err := db.read.SelectContext(ctx, &rows, `SELECT worker_id, bound_at FROM grid_bindings`); err != nil {
		return nil, err
	}
	out := make(map[string]time.Time, len(rows))
	for _, r := range rows {
		out[r.ID] = r.At
	}
	return out, nil
}

// GridWorkerOpenIDs maps bound grid workers to their WeChat users.
func (db *DB) GridWorkerOpenIDs(ctx context.Context, workerIDs []string) (_ map[string]string, err error) {
	defer wrap(&err, "GridWorkerOpenIDs")
	out := map[string]string{}
	if len(workerIDs) == 0 {
		return out, nil
	}
	q, args, err := sqlx.In(`SELECT worker_id, openid FROM grid_bindings WHERE worker_id IN (?)`, workerIDs)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		ID     string `db:"worker_id"`
		OpenID string `db:"openid"`
	}
	if err := db.read.SelectContext(ctx, &rows, q, args...); err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.ID] = r.OpenID
	}
	return out, nil
}

// UnbindGridWorker undoes a grid worker's binding (a lost phone), audited.
func (db *DB) UnbindGridWorker(ctx context.Context, workerID string, a lianxin.AuditEntry) (bound bool, err error) {
	defer wrap(&err, "UnbindGridWorker(%s)", workerID)
	now := db.now()
	err = db.Tx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`DELETE FROM grid_bindings WHERE worker_id = ?`, workerID)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		bound = n > 0
		a.Subject = "grid_worker:" + workerID
		return audit(tx, a, now)
	})
	return bound, err
}

// GridCases lists the cases of a grid, open ones first, then newest.
func (db *DB) GridCases(ctx context.Context, gridID string, limit int) (_ []lianxin.Case, err error) {
	defer wrap(&err, "GridCases(%s)", gridID)
	var rows []caseRow
	if err := db.read.SelectContext(ctx, &rows, `SELECT * FROM cases WHERE grid_id = ? AND merged_into = ''
		ORDER BY (status IN ('registered', 'accepted', 'forwarded', 'reopened')) DESC, id DESC LIMIT ?`, gridID, limit); err != nil {
		return nil, err
	}
	out := make([]lianxin.Case, len(rows))
	for i := range rows {
		out[i] = *rows[i].toCase()
	}
	return out, nil
}

// ResidentByPhone finds the WeChat user who left this phone number on a
// report, so a resident a grid worker reports for can be told in chat.
func (db *DB) ResidentByPhone(ctx context.Context, phone string) (_ string, _ bool, err error) {
	defer wrap(&err, "ResidentByPhone(%s)", lianxin.MaskPhone(phone))
	if phone == "" {
		return "", false, nil
	}
	var openid string
	err = db.read.GetContext(ctx, &openid, `SELECT openid FROM residents WHERE phone = ? AND subscribed = TRUE ORDER BY last_inbound DESC LIMIT 1`, phone)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return openid, err == nil, err
}
