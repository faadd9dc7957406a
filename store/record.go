package store

import (
	"context"
	"strings"
	"time"

	"github.com/lianxin/lianxin"
)

// DeputyFacts streams the cases a deputy acted on in [from, to) (their
// entries on the timelines), as their record (履职档案) counts them, judged
// as things stood at to (or now).
func (db *DB) DeputyFacts(ctx context.Context, deputyID string, from, to time.Time, fn func(*lianxin.DeputyCaseFacts) error) (err error) {
	defer wrap(&err, "DeputyFacts(%s)", deputyID)
	f, cut := period(lianxin.CaseFilter{From: from, To: to}, db.now())
	actor := "'" + strings.ReplaceAll(lianxin.DeputyRecipient(deputyID), "'", "''") + "'"
	mine := `e.case_id = c.id AND e.actor = ` + actor + ` AND e.at >= ` + f + ` AND e.at < ` + cut
	// The round an entry belongs to: the latest one started by then.
	roundOf := `r.case_id = e.case_id AND r.round = (SELECT MAX(r2.round) FROM case_rounds r2 WHERE r2.case_id = e.case_id AND r2.started_at <= e.at)`
	query := `SELECT c.id, c.number, c.category, c.station_id, c.created_at,
		EXISTS (SELECT 1 FROM case_events e WHERE ` + mine + ` AND e.type IN ('accepted', 'answered', 'forwarded', 'progress', 'resolved')),
		EXISTS (SELECT 1 FROM case_events e WHERE ` + mine + ` AND e.type = 'answered'),
		COALESCE((SELECT ` + db.d.concatUnitSep(`e.text`, `e.id`) + ` FROM case_events e WHERE ` + mine + ` AND e.type = 'forwarded'), ''),
		EXISTS (SELECT 1 FROM case_events e WHERE ` + mine + ` AND e.type = 'resolved'),
		NOT EXISTS (SELECT 1 FROM case_events e JOIN case_rounds r ON ` + roundOf + ` WHERE ` + mine + ` AND e.type = 'resolved'
			AND r.resolve_due IS NOT NULL AND e.at > r.resolve_due),
		NOT EXISTS (SELECT 1 FROM case_events e JOIN case_rounds r ON ` + roundOf + ` WHERE ` + mine + `
			AND e.type IN ('accepted', 'answered', 'forwarded', 'resolved') AND r.accepted_at = e.at
			AND r.accept_due IS NOT NULL AND r.accepted_at > r.accept_due),
		EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = c.id AND e.type = 'forwarded' AND e.at < ` + cut + `),
		COALESCE((SELECT g.rating FROM case_ratings g WHERE g.case_id = c.id AND g.at < ` + cut + ` ORDER BY g.at DESC, g.id DESC LIMIT 1), '')
		FROM cases c WHERE c.id IN (SELECT e.case_id FROM case_events e WHERE e.actor = ` + actor + ` AND e.at >= ` + f + ` AND e.at < ` + cut + `)
		ORDER BY c.id`
	rows, err := db.read.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var d lianxin.DeputyCaseFacts
		var fwd string
		if err := rows.Scan(&d.CaseID, &d.Number, &d.Category, &d.StationID, &d.CreatedAt, &d.Took, &d.Answered, &fwd,
			&d.Resolved, &d.ResolvedOnTime, &d.AcceptedOnTime, &d.EverForwarded, &d.Rating); err != nil {
			return err
		}
		if fwd != "" {
			d.Forwarded = strings.Split(fwd, "\x1f")
		}
		if err := fn(&d); err != nil {
			return err
		}
	}
	return rows.Err()
}
