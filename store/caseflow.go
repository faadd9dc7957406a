package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/lianxin/lianxin"
)

// Transition is one change to a case made by a deputy, a resident or the
// supervisor: its new state, the timeline events and the notices it causes,
// all written in one transaction. It applies only if the case is still as
// the caller saw it (From, FromAssignee); otherwise Transition returns an
// ECONFLICT error and writes nothing.
type Transition struct {
	CaseID       int64
	From         []lianxin.Status // allowed current statuses; empty: any
	FromAssignee *string          // required current assignee; nil: any

	Status       lianxin.Status // new status; "" leaves it
	Assignee     *string        // new assignee; nil leaves it
	NeedsStaff   *bool
	Satisfaction string // "" leaves it
	Events       []lianxin.Event
	Notices      []Notice
}

// Transition applies tr (see the type). It returns once committed; the
// message that caused it is journaled durably before anyone is told.
func (db *DB) Transition(ctx context.Context, tr Transition) (*lianxin.Case, error) {
	now := db.now()
	err := db.TxCommitted(ctx, func(tx *sqlx.Tx) error {
		var cur struct {
			Status     string     `db:"status"`
			Assignee   string     `db:"assignee_id"`
			CreatedAt  time.Time  `db:"created_at"`
			AcceptDue  *time.Time `db:"accept_due"`
			ResolveDue *time.Time `db:"resolve_due"`
		}
		if err := tx.Get(&cur, `SELECT status, assignee_id, created_at, accept_due, resolve_due FROM cases WHERE id = ?`, tr.CaseID); err != nil {
			return err
		}
		if len(tr.From) > 0 && !slices.Contains(tr.From, lianxin.Status(cur.Status)) {
			return lianxin.Errorf(lianxin.ECONFLICT, "case is %s", cur.Status)
		}
		if tr.FromAssignee != nil && *tr.FromAssignee != cur.Assignee {
			return lianxin.Errorf(lianxin.ECONFLICT, "case was reassigned")
		}
		set := `updated_at = ?`
		args := []any{now}
		if tr.Status != "" {
			set += `, status = ?`
			args = append(args, string(tr.Status))
			switch tr.Status {
			case lianxin.StatusAccepted:
				set += `, accepted_at = COALESCE(accepted_at, ?)`
				args = append(args, now)
			case lianxin.StatusResolved:
				// Resolved (again): a new rating is due; earlier ones stay on the timeline.
				set += `, resolved_at = ?, satisfaction = ''`
				args = append(args, now)
			case lianxin.StatusReopened:
				// A reopened case gets its deadlines afresh (the same
				// windows, from now) and is supervised again.
				set += `, resolved_at = NULL, accepted_at = NULL, accept_reminded_at = NULL, accept_overdue_at = NULL,
					resolve_reminded_at = NULL, resolve_overdue_at = NULL, accept_due = ?, resolve_due = ?`
				args = append(args, shift(cur.AcceptDue, cur.CreatedAt, now), shift(cur.ResolveDue, cur.CreatedAt, now))
			}
		}
		if tr.Assignee != nil {
			set += `, assignee_id = ?`
			args = append(args, *tr.Assignee)
		}
		if tr.NeedsStaff != nil {
			set += `, needs_staff = ?`
			args = append(args, *tr.NeedsStaff)
		}
		if tr.Satisfaction != "" {
			set += `, satisfaction = ?`
			args = append(args, tr.Satisfaction)
		}
		args = append(args, tr.CaseID)
		if _, err := tx.Exec(`UPDATE cases SET `+set+` WHERE id = ?`, args...); err != nil {
			return err
		}
		for _, e := range tr.Events {
			if err := addEvent(tx, tr.CaseID, e, now); err != nil {
				return err
			}
		}
		for _, n := range tr.Notices {
			caseID := tr.CaseID
			if err := enqueue(tx, now, n.IdemKey, n.Kind, n.Recipient, n.Payload, &caseID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return db.caseByID(ctx, tr.CaseID)
}

// shift moves a deadline so it is as far from now as it was from created.
func shift(due *time.Time, created, now time.Time) *time.Time {
	if due == nil {
		return nil
	}
	t := now.Add(due.Sub(created))
	return &t
}

// AwaitingRating returns the resident's most recently resolved case that has
// not been rated, resolved within the window; nil when there is none.
func (db *DB) AwaitingRating(ctx context.Context, openid string, within time.Duration) (*lianxin.Case, error) {
	var r caseRow
	err := db.read.GetContext(ctx, &r, `SELECT * FROM cases WHERE openid = ? AND status = 'resolved' AND satisfaction = ''
		AND resolved_at > ? ORDER BY resolved_at DESC LIMIT 1`, openid, db.now().Add(-within))
	if err != nil {
		if isNoRows(err) {
			return nil, nil
		}
		return nil, err
	}
	return r.toCase(), nil
}

// ReturnedBy lists the deputies who returned the case (退回), so it is not
// routed back to them.
func (db *DB) ReturnedBy(ctx context.Context, caseID int64) ([]string, error) {
	var out []string
	err := db.read.SelectContext(ctx, &out, `SELECT DISTINCT actor FROM case_events WHERE case_id = ? AND type = ?`, caseID, lianxin.EventReturned)
	return out, err
}

// Supervision marks: each reminder and overdue notice is sent once per
// deadline, whichever process gets there first.
const (
	MarkAcceptReminded  = "accept_reminded_at"
	MarkAcceptOverdue   = "accept_overdue_at"
	MarkResolveReminded = "resolve_reminded_at"
	MarkResolveOverdue  = "resolve_overdue_at"
)

// SupervisedCase is an open case with its supervision marks.
type SupervisedCase struct {
	lianxin.Case
	AcceptReminded, AcceptOverdue, ResolveReminded, ResolveOverdue bool
}

// Supervised lists open cases that still have a reminder or overdue notice
// to come, oldest first.
func (db *DB) Supervised(ctx context.Context, limit int) ([]SupervisedCase, error) {
	var rows []caseRow
	err := db.read.SelectContext(ctx, &rows, `SELECT * FROM cases WHERE status IN ('registered', 'accepted', 'forwarded', 'reopened')
		AND ((accept_due IS NOT NULL AND accepted_at IS NULL AND (accept_reminded_at IS NULL OR accept_overdue_at IS NULL))
		  OR (resolve_due IS NOT NULL AND (resolve_reminded_at IS NULL OR resolve_overdue_at IS NULL)))
		ORDER BY id LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	out := make([]SupervisedCase, len(rows))
	for i := range rows {
		r := &rows[i]
		out[i] = SupervisedCase{Case: *r.toCase(), AcceptReminded: r.AcceptRemindedAt != nil, AcceptOverdue: r.AcceptOverdueAt != nil,
			ResolveReminded: r.ResolveRemindedAt != nil, ResolveOverdue: r.ResolveOverdueAt != nil}
	}
	return out, nil
}

// MarkSupervised sets a supervision mark and, only if it was not set yet,
// writes the event and notices with it. done is false when another process
// (or an earlier pass) already did.
func (db *DB) MarkSupervised(ctx context.Context, caseID int64, mark string, events []lianxin.Event, notices []Notice) (done bool, err error) {
	switch mark {
	case MarkAcceptReminded, MarkAcceptOverdue, MarkResolveReminded, MarkResolveOverdue:
	default:
		return false, fmt.Errorf("store: unknown supervision mark %q", mark)
	}
	now := db.now()
	err = db.Tx(ctx, func(tx *sqlx.Tx) error {
		done = false
		res, err := tx.Exec(`UPDATE cases SET `+mark+` = ? WHERE id = ? AND `+mark+` IS NULL`, now, caseID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		for _, e := range events {
			if err := addEvent(tx, caseID, e, now); err != nil {
				return err
			}
		}
		for _, n := range notices {
			id := caseID
			if err := enqueue(tx, now, n.IdemKey, n.Kind, n.Recipient, n.Payload, &id); err != nil {
				return err
			}
		}
		done = true
		return nil
	})
	return done, err
}
