package store

import (
	"context"
	"strings"
	"time"

	"github.com/lianxin/lianxin"
)

// EraseContact erases the resident's phone number and openid from a case
// (at their request), with its attachments' and notices' copies of the
// openid, in one transaction with the timeline entry and the audit entry.
// The case, its timeline and its numbers stay. Erasing an erased case again
// changes nothing and is not an error.
func (db *DB) EraseContact(ctx context.Context, number string, a lianxin.AuditEntry) (_ *lianxin.Case, err error) {
	defer wrap(&err, "EraseContact(%s)", number)
	now := db.now()
	var id int64
	err = db.Tx(ctx, func(tx *Tx) error {
		if err := tx.Get(&id, `SELECT id FROM cases WHERE number = ?`, strings.ToUpper(strings.TrimSpace(number))); err != nil {
			if isNoRows(err) {
				return lianxin.Errorf(lianxin.ENOTFOUND, "case %s not found", number)
			}
			return err
		}
		erased, err := eraseCase(tx, id, now)
		if err != nil || !erased {
			return err
		}
		if err := addEvent(tx, id, lianxin.Event{Type: lianxin.EventErased, Actor: a.Actor, Text: a.Detail}, now); err != nil {
			return err
		}
		a.Action, a.Subject = lianxin.AuditErase, strings.ToUpper(strings.TrimSpace(number))
		return audit(tx, a, now)
	})
	if err != nil {
		return nil, err
	}
	return db.caseByID(ctx, id)
}

// eraseCase blanks a case's contact details and the copies of them; erased
// is false when there was nothing left to erase.
func eraseCase(tx *Tx, id int64, now time.Time) (erased bool, err error) {
	var cur struct {
		OpenID   string     `db:"openid"`
		Phone    string     `db:"phone"`
		ErasedAt *time.Time `db:"erased_at"`
	}
	if err := tx.Get(&cur, `SELECT openid, phone, erased_at FROM cases WHERE id = ?`+tx.d.forUpdate(), id); err != nil {
		return false, err
	}
	if cur.OpenID == "" && cur.Phone == "" && cur.ErasedAt != nil {
		return false, nil
	}
	if _, err := tx.Exec(`UPDATE cases SET openid = '', phone = '', erased_at = ? WHERE id = ?`, now, id); err != nil {
		return false, err
	}
	if _, err := tx.Exec(`UPDATE attachments SET openid = '' WHERE case_id = ?`, id); err != nil {
		return false, err
	}
	if cur.OpenID == "" {
		return true, nil
	}
	// Notices to the resident about this case: sent ones forget whom they
	// went to; unsent ones are given up (there is nobody to send them to).
	if _, err := tx.Exec(`UPDATE outbox SET recipient = '', status = CASE WHEN status = 'pending' THEN 'dead' ELSE status END,
		last_error = CASE WHEN status = 'pending' THEN 'contact erased' ELSE last_error END
		WHERE case_id = ? AND recipient = ?`, id, cur.OpenID); err != nil {
		return false, err
	}
	// The resident's own record keeps their last phone number only while a
	// case of theirs still holds it.
	_, err = tx.Exec(`UPDATE residents SET phone = '' WHERE openid = ?
		AND NOT EXISTS (SELECT 1 FROM cases WHERE openid = ? AND phone <> '')`, cur.OpenID, cur.OpenID)
	return true, err
}

// EraseExpired erases the contact details of cases closed before before
// (the retention period), at most limit of them, each with its timeline
// entry and audit entry, and returns how many it erased.
func (db *DB) EraseExpired(ctx context.Context, before time.Time, limit int) (n int, err error) {
	defer wrap(&err, "EraseExpired")
	var ids []struct {
		ID     int64  `db:"id"`
		Number string `db:"number"`
	}
	if err := db.read.SelectContext(ctx, &ids, `SELECT id, number FROM cases WHERE erased_at IS NULL
		AND status IN ('resolved', 'cancelled') AND COALESCE(resolved_at, updated_at) < ? AND (openid <> '' OR phone <> '')
		ORDER BY id LIMIT ?`, before.UTC(), limit); err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, nil
	}
	now := db.now()
	err = db.Tx(ctx, func(tx *Tx) error {
		n = 0
		for _, c := range ids {
			// Checked again inside the transaction: the case may have been
			// reopened since it was listed.
			var still int
			if err := tx.Get(&still, `SELECT COUNT(*) FROM cases WHERE id = ? AND status IN ('resolved', 'cancelled')
				AND COALESCE(resolved_at, updated_at) < ?`, c.ID, before.UTC()); err != nil {
				return err
			}
			if still == 0 {
				continue
			}
			erased, err := eraseCase(tx, c.ID, now)
			if err != nil {
				return err
			}
			if !erased {
				continue
			}
			if err := eraseSupporters(tx, c.ID); err != nil {
				return err
			}
			if err := addEvent(tx, c.ID, lianxin.Event{Type: lianxin.EventErased, Actor: "system", Text: "超过保存期限"}, now); err != nil {
				return err
			}
			if err := audit(tx, lianxin.AuditEntry{Actor: "system", Action: lianxin.AuditRetention, Subject: c.Number}, now); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// SetTypical marks a case as a typical case (典型案例) for the monthly
// report, or clears the mark, with its timeline and audit entries.
func (db *DB) SetTypical(ctx context.Context, number string, typical bool, note string, a lianxin.AuditEntry) (_ *lianxin.Case, err error) {
	defer wrap(&err, "SetTypical(%s)", number)
	now := db.now()
	number = strings.ToUpper(strings.TrimSpace(number))
	var id int64
	err = db.Tx(ctx, func(tx *Tx) error {
		if err := tx.Get(&id, `SELECT id FROM cases WHERE number = ?`, number); err != nil {
			if isNoRows(err) {
				return lianxin.Errorf(lianxin.ENOTFOUND, "case %s not found", number)
			}
			return err
		}
		var at any
		text := note
		if typical {
			at = now
		} else {
			note, text = "", "-"
		}
		if _, err := tx.Exec(`UPDATE cases SET typical_at = ?, typical_note = ? WHERE id = ?`, at, note, id); err != nil {
			return err
		}
		if err := addEvent(tx, id, lianxin.Event{Type: lianxin.EventTypical, Actor: a.Actor, Text: text}, now); err != nil {
			return err
		}
		a.Action, a.Subject, a.Detail = lianxin.AuditTypical, number, text
		return audit(tx, a, now)
	})
	if err != nil {
		return nil, err
	}
	return db.caseByID(ctx, id)
}
