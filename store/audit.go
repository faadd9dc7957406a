package store

import (
	"context"
	"time"

	"github.com/lianxin/lianxin"
)

// audit writes one audit log entry in the caller's transaction, so the log
// holds exactly the actions that happened.
func audit(tx *Tx, a lianxin.AuditEntry, now time.Time) error {
	at := a.At
	if at.IsZero() {
		at = now
	}
	_, err := tx.Exec(`INSERT INTO audit_log (at, actor, action, subject, detail, addr) VALUES (?, ?, ?, ?, ?, ?)`,
		at.UTC(), a.Actor, a.Action, a.Subject, a.Detail, a.Addr)
	return err
}

// Audit records an entry on its own: an action whose only effect is being
// seen (a full phone number shown), or one whose own write happens elsewhere.
func (db *DB) Audit(ctx context.Context, a lianxin.AuditEntry) (err error) {
	defer wrap(&err, "Audit(%s)", a.Action)
	now := db.now()
	return db.Tx(ctx, func(tx *Tx) error { return audit(tx, a, now) })
}

// AuditLog lists entries newest first; before pages back (0: from the newest).
func (db *DB) AuditLog(ctx context.Context, f lianxin.AuditFilter) (_ []lianxin.AuditEntry, err error) {
	defer wrap(&err, "AuditLog")
	q := `SELECT id, at, actor, action, subject, detail, addr FROM audit_log WHERE 1=1`
	var args []any
	if f.Actor != "" {
		q, args = q+` AND actor = ?`, append(args, f.Actor)
	}
	if f.Subject != "" {
		q, args = q+` AND subject = ?`, append(args, f.Subject)
	}
	if f.Action != "" {
		q, args = q+` AND action = ?`, append(args, f.Action)
	}
	if f.Before > 0 {
		q, args = q+` AND id < ?`, append(args, f.Before)
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	var out []lianxin.AuditEntry
	err = db.read.SelectContext(ctx, &out, q, args...)
	return out, err
}
