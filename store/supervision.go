package store

import (
	"context"
	"fmt"

	"github.com/lianxin/lianxin"
)

// Supervised lists open cases that still have a reminder or overdue notice
// to come, oldest first.
func (db *DB) Supervised(ctx context.Context, limit int) (_ []lianxin.SupervisedCase, err error) {
	defer wrap(&err, "Supervised")
	var rows []caseRow
	err = db.read.SelectContext(ctx, &rows, `SELECT * FROM cases WHERE status IN ('registered', 'accepted', 'forwarded', 'reopened')
		AND ((accept_due IS NOT NULL AND accepted_at IS NULL AND (accept_reminded_at IS NULL OR accept_overdue_at IS NULL))
		  OR (resolve_due IS NOT NULL AND (resolve_reminded_at IS NULL OR resolve_overdue_at IS NULL)))
		ORDER BY id LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	out := make([]lianxin.SupervisedCase, len(rows))
	for i := range rows {
		r := &rows[i]
		out[i] = lianxin.SupervisedCase{Case: *r.toCase(), AcceptReminded: r.AcceptRemindedAt != nil, AcceptOverdue: r.AcceptOverdueAt != nil,
			ResolveReminded: r.ResolveRemindedAt != nil, ResolveOverdue: r.ResolveOverdueAt != nil}
	}
	return out, nil
}

// MarkSupervised sets a supervision mark and, only if it was not set yet,
// writes the event and notices with it. done is false when another process
// (or an earlier pass) already did.
func (db *DB) MarkSupervised(ctx context.Context, caseID int64, mark string, events []lianxin.Event, notices []lianxin.Notice) (done bool, err error) {
	defer wrap(&err, "MarkSupervised(%d, %s)", caseID, mark)
	switch mark {
	case lianxin.MarkAcceptReminded, lianxin.MarkAcceptOverdue, lianxin.MarkResolveReminded, lianxin.MarkResolveOverdue:
	default:
		return false, fmt.Errorf("store: unknown supervision mark %q", mark)
	}
	now := db.now()
	err = db.Tx(ctx, func(tx *Tx) error {
		done = false
		res, err := tx.Exec(`UPDATE cases SET `+mark+` = ? WHERE id = ? AND `+mark+` IS NULL`, now, caseID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		if err := record(tx, caseID, events, notices, now); err != nil {
			return err
		}
		done = true
		return nil
	})
	return done, err
}
