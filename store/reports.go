package store

import (
	"context"
	"time"

	"github.com/lianxin/lianxin"
)

// Snapshot returns the figures stored for a finished period (ok false when
// none are).
func (db *DB) Snapshot(ctx context.Context, kind, scope string) (data []byte, at time.Time, ok bool, err error) {
	defer wrap(&err, "Snapshot(%s %s)", kind, scope)
	var row struct {
		Data string    `db:"data"`
		At   time.Time `db:"generated_at"`
	}
	err = db.read.GetContext(ctx, &row, `SELECT data, generated_at FROM report_snapshots WHERE kind = ? AND scope = ?`, kind, scope)
	if isNoRows(err) {
		return nil, time.Time{}, false, nil
	} else if err != nil {
		return nil, time.Time{}, false, err
	}
	return []byte(row.Data), row.At, true, nil
}

// PutSnapshot stores a finished period's figures. The first stored wins:
// when another process stored them meanwhile, theirs are returned. replace
// (a recomputation staff asked for, audited as a) overwrites them.
func (db *DB) PutSnapshot(ctx context.Context, kind, scope string, data []byte, replace bool, a lianxin.AuditEntry) (stored []byte, at time.Time, err error) {
	defer wrap(&err, "PutSnapshot(%s %s)", kind, scope)
	now := db.now()
	err = db.Tx(ctx, func(tx *Tx) error {
		if replace {
			if _, err := tx.Exec(`DELETE FROM report_snapshots WHERE kind = ? AND scope = ?`, kind, scope); err != nil {
				return err
			}
			a.Action, a.Subject = lianxin.AuditRecompute, kind+" "+scope
			if err := audit(tx, a, now); err != nil {
				return err
			}
		}
		_, err := tx.Exec(`INSERT INTO report_snapshots (kind, scope, data, generated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (kind, scope) DO NOTHING`, kind, scope, string(data), now)
		return err
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	stored, at, _, err = db.Snapshot(ctx, kind, scope)
	return stored, at, err
}
