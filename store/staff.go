package store

import (
	"context"
	"strings"

	"github.com/lianxin/lianxin"
)

// StaffQueue lists the open cases waiting for staff (人工, returned by every
// deputy, no station to route to), oldest first: those of the given units,
// "" standing for the district queue (cases without a station). No units:
// every queue. A station's queue is its own unit and its points' (the
// caller lists them: Directory.Points).
func (db *DB) StaffQueue(ctx context.Context, stationIDs []string) (_ []lianxin.Case, err error) {
	defer wrap(&err, "StaffQueue(%s)", strings.Join(stationIDs, ","))
	// The status list is the index's own, so SQLite uses cases_staff_queue.
	query := `SELECT * FROM cases WHERE ` + db.d.staffFlag(`needs_staff`) + ` AND status IN ('registered', 'accepted', 'forwarded', 'reopened')`
	args := make([]any, len(stationIDs))
	if len(stationIDs) > 0 {
		query += ` AND station_id IN (?` + strings.Repeat(",?", len(stationIDs)-1) + `)`
		for i, id := range stationIDs {
			args[i] = id
		}
	}
	var rows []caseRow
	if err := db.read.SelectContext(ctx, &rows, query+` ORDER BY id`, args...); err != nil {
		return nil, err
	}
	out := make([]lianxin.Case, len(rows))
	for i := range rows {
		out[i] = *rows[i].toCase()
	}
	return out, nil
}
