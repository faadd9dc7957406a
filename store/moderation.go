package store

import (
	"context"

	"github.com/lianxin/lianxin"
)

// SenderBlocked reports whether staff blocked the WeChat user (migration 014).
func (db *DB) SenderBlocked(ctx context.Context, openid string) (_ bool, err error) {
	defer wrap(&err, "SenderBlocked(%s)", lianxin.MaskOpenID(openid))
	var n int
	err = db.read.GetContext(ctx, &n, `SELECT COUNT(*) FROM blocked_senders WHERE openid = ?`, openid)
	return n > 0, err
}

// ResponseTemplates lists the templates, those of any category first.
func (db *DB) ResponseTemplates(ctx context.Context) (_ []lianxin.ResponseTemplate, err error) {
	defer wrap(&err, "ResponseTemplates")
	var out []lianxin.ResponseTemplate
	err = db.read.SelectContext(ctx, &out, `SELECT id, category, title, body, updated_by, updated_at FROM response_templates ORDER BY category, title, id`)
	return out, err
}

// SaveResponseTemplate adds (ID 0) or replaces a template; an empty body
// deletes it. Audited.
func (db *DB) SaveResponseTemplate(ctx context.Context, t lianxin.ResponseTemplate, a lianxin.AuditEntry) (err error) {
	defer wrap(&err, "SaveResponseTemplate(%d)", t.ID)
	now := db.now()
	return db.Tx(ctx, func(tx *Tx) error {
		var err error
		switch {
		case t.ID == 0:
			_, err = tx.Exec(`INSERT INTO response_templates (category, title, body, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)`, t.Category, t.Title, t.Body, a.Actor, now)
		case t.Body == "":
			_, err = tx.Exec(`DELETE FROM response_templates WHERE id = ?`, t.ID)
		default:
			var res interface{ RowsAffected() (int64, error) }
			res, err = tx.Exec(`UPDATE response_templates SET category = ?, title = ?, body = ?, updated_by = ?, updated_at = ? WHERE id = ?`,
				t.Category, t.Title, t.Body, a.Actor, now, t.ID)
			if err == nil {
				if n, _ := res.RowsAffected(); n == 0 {
					return lianxin.Errorf(lianxin.ENOTFOUND, "no template %d", t.ID)
				}
			}
		}
		if err != nil {
			return err
		}
		return audit(tx, a, now)
	})
}
