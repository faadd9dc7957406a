package store

import (
	"context"
	"slices"
	"time"

	"github.com/lianxin/lianxin"
)

// Transition applies tr (see lianxin.Transition). It returns once committed; the
// message that caused it is journaled durably before anyone is told.
func (db *DB) Transition(ctx context.Context, tr lianxin.Transition) (_ *lianxin.Case, err error) {
	defer wrap(&err, "Transition(case %d)", tr.CaseID)
	now := db.now()
	err = db.TxCommitted(ctx, func(tx *Tx) error {
		if err := applyTransition(tx, tr, now); err != nil {
			return err
		}
		if err := db.fanOut(tx, tr, now); err != nil {
			return err
		}
		if tr.Related != nil {
			if err := applyTransition(tx, *tr.Related, now); err != nil {
				return err
			}
			return db.fanOut(tx, *tr.Related, now)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return db.caseByID(ctx, tr.CaseID)
}

// reopenDues are a reopened case's new deadlines: its first round's
// windows (the category's when it was registered), from now. (Measuring them
// from the current deadlines would stretch them by every earlier round.)
func reopenDues(tx *Tx, caseID int64, now time.Time) (acceptDue, resolveDue *time.Time, err error) {
	var first struct {
		Start      time.Time  `db:"started_at"`
		AcceptDue  *time.Time `db:"accept_due"`
		ResolveDue *time.Time `db:"resolve_due"`
	}
	if err := tx.Get(&first, `SELECT started_at, accept_due, resolve_due FROM case_rounds WHERE case_id = ? AND round = 1`, caseID); err != nil {
		return nil, nil, err
	}
	shift := func(due *time.Time) *time.Time {
		if due == nil {
			return nil
		}
		t := now.Add(due.Sub(first.Start))
		return &t
	}
	return shift(first.AcceptDue), shift(first.ResolveDue), nil
}

// ReturnedBy lists the deputies who returned the case (退回), so it is not
// routed back to them.
func (db *DB) ReturnedBy(ctx context.Context, caseID int64) (_ []string, err error) {
	defer wrap(&err, "ReturnedBy(%d)", caseID)
	var out []string
	err = db.read.SelectContext(ctx, &out, `SELECT DISTINCT actor FROM case_events WHERE case_id = ? AND type = ?`, caseID, lianxin.EventReturned)
	return out, err
}

// applyTransition applies one transition inside tx.
func applyTransition(tx *Tx, tr lianxin.Transition, now time.Time) error {
	var cur struct {
		Number     string     `db:"number"`
		Status     string     `db:"status"`
		Assignee   string     `db:"assignee_id"`
		StationID  string     `db:"station_id"`
		CreatedAt  time.Time  `db:"created_at"`
		UpdatedAt  time.Time  `db:"updated_at"`
		AcceptDue  *time.Time `db:"accept_due"`
		ResolveDue *time.Time `db:"resolve_due"`
	}
	if err := tx.Get(&cur, `SELECT number, status, assignee_id, station_id, created_at, updated_at, accept_due, resolve_due FROM cases WHERE id = ?`+tx.d.forUpdate(), tr.CaseID); err != nil {
		if isNoRows(err) {
			return lianxin.Errorf(lianxin.ENOTFOUND, "case %d not found", tr.CaseID)
		}
		return err
	}
	// A console action outside the user's scope is as if the case did
	// not exist: the answer must not tell it apart from a wrong number.
	if tr.Scope != nil && !tr.Scope.Allows(cur.StationID, cur.Assignee) {
		return lianxin.Errorf(lianxin.ENOTFOUND, "case %d not found", tr.CaseID)
	}
	if tr.Seen != nil && !tr.Seen.Equal(cur.UpdatedAt) {
		return lianxin.Errorf(lianxin.ECONFLICT, "case changed since it was read")
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
			acceptDue, resolveDue, err := reopenDues(tx, tr.CaseID, now)
			if err != nil {
				return err
			}
			args = append(args, acceptDue, resolveDue)
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
	if tr.Category != "" {
		set += `, category = ?`
		args = append(args, tr.Category)
	}
	if tr.StationID != nil {
		set += `, station_id = ?`
		args = append(args, *tr.StationID)
	}
	if tr.Private != nil {
		set += `, private = ?`
		args = append(args, *tr.Private)
	}
	if tr.MergedInto != "" {
		set += `, merged_into = ?`
		args = append(args, tr.MergedInto)
	}
	args = append(args, tr.CaseID)
	if _, err := tx.Exec(`UPDATE cases SET `+set+` WHERE id = ?`, args...); err != nil {
		return err
	}
	if err := record(tx, tr.CaseID, tr.Events, tr.Notices, now); err != nil {
		return err
	}
	for _, a := range tr.Audit {
		if a.Subject == "" {
			a.Subject = cur.Number
		}
		if err := audit(tx, a, now); err != nil {
			return err
		}
	}
	if tr.HideAttachment != 0 {
		res, err := tx.Exec(`UPDATE attachments SET hidden = TRUE, updated_at = ? WHERE id = ? AND case_id = ?`, now, tr.HideAttachment, tr.CaseID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return lianxin.Errorf(lianxin.ENOTFOUND, "attachment %d not in case %d", tr.HideAttachment, tr.CaseID)
		}
	}
	if b := tr.Block; b != nil {
		if b.On {
			_, err := tx.Exec(`INSERT INTO blocked_senders (openid, reason, blocked_by, at) VALUES (?, ?, ?, ?)
				ON CONFLICT (openid) DO UPDATE SET reason = excluded.reason, blocked_by = excluded.blocked_by, at = excluded.at`, b.OpenID, b.Reason, b.By, now)
			if err != nil {
				return err
			}
		} else if _, err := tx.Exec(`DELETE FROM blocked_senders WHERE openid = ?`, b.OpenID); err != nil {
			return err
		}
	}
	return nil
}
