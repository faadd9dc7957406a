package store

import (
	"context"
	"time"

	"github.com/lianxin/lianxin"
)

// AwaitingRating returns the resident's most recently resolved case that has
// not been rated, resolved within the window; nil when there is none.
func (db *DB) AwaitingRating(ctx context.Context, openid string, within time.Duration) (_ *lianxin.Case, err error) {
	defer wrap(&err, "AwaitingRating(%s)", lianxin.MaskOpenID(openid))
	var r caseRow
	err = db.read.GetContext(ctx, &r, `SELECT * FROM cases WHERE openid = ? AND status = 'resolved' AND satisfaction = ''
		AND resolved_at > ? ORDER BY resolved_at DESC LIMIT 1`, openid, db.now().Add(-within))
	if err != nil {
		if isNoRows(err) {
			return nil, nil
		}
		return nil, err
	}
	return r.toCase(), nil
}
