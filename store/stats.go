package store

import (
	"context"
	"database/sql"
	"strings"

	"github.com/lianxin/lianxin"
)

// Facts streams the cases that count in f's period (handled in it, or rated
// in it) among those f's other fields select, each with the figures it
// counts in (every lianxin.Measure) as things stood at the period's end.
// f.Measure and f.Limit are ignored.
func (db *DB) Facts(ctx context.Context, f lianxin.CaseFilter, fn func(*lianxin.CaseFacts) error) (err error) {
	defer wrap(&err, "Facts")
	now := db.now()
	from, cut := period(f, now)
	where, args, err := filterWhere(f, from, cut, false)
	if err != nil {
		return err
	}
	counted := countedSQL(from, cut) + ` AND (` + measureSQL(lianxin.MeasureHandled, from, cut) + ` OR ` + measureSQL(lianxin.MeasureRated, from, cut) + `)`
	if where == "" {
		where = " WHERE " + counted
	} else {
		where += " AND " + counted
	}
	cols := []string{`c.id`, `c.number`, `c.category`, `c.station_id`, deputyAtSQL(cut), sourceSQL, `c.created_at`, `c.lat`, `c.lng`, `c.status`,
		`COALESCE(` + lastRatingSQL(from, cut) + `, '')`,
		`(SELECT ` + db.d.seconds(`r.started_at`, `r.accepted_at`) + ` FROM case_rounds r WHERE r.case_id = c.id
			AND r.accepted_at >= ` + from + ` AND r.accepted_at < ` + cut + ` ORDER BY r.round DESC LIMIT 1)`,
		`(SELECT ` + db.d.seconds(`r.started_at`, `r.closed_at`) + ` FROM case_rounds r WHERE r.case_id = c.id
			AND r.outcome = 'resolved' AND r.closed_at >= ` + from + ` AND r.closed_at < ` + cut + ` AND r.round =
			(SELECT MAX(r2.round) FROM case_rounds r2 WHERE r2.case_id = c.id AND r2.started_at < ` + cut + `))`,
	}
	for _, m := range lianxin.Measures {
		cols = append(cols, `(`+measureSQL(m, from, cut)+`)`)
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM cases c`+where+` ORDER BY c.id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	flags := make([]bool, len(lianxin.Measures))
	for rows.Next() {
		var cf lianxin.CaseFacts
		var accept, resolve sql.NullFloat64
		dest := []any{&cf.CaseID, &cf.Number, &cf.Category, &cf.StationID, &cf.DeputyID, &cf.Source, &cf.CreatedAt, &cf.Location.Lat, &cf.Location.Lng, &cf.Status, &cf.Rating, &accept, &resolve}
		for i := range flags {
			dest = append(dest, &flags[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		cf.AcceptSeconds, cf.ResolveSeconds = -1, -1
		if accept.Valid {
			cf.AcceptSeconds = roundSeconds(accept.Float64)
		}
		if resolve.Valid {
			cf.ResolveSeconds = roundSeconds(resolve.Float64)
		}
		cf.Counts = make(map[lianxin.Measure]bool, len(flags))
		for i, m := range lianxin.Measures {
			if flags[i] {
				cf.Counts[m] = true
			}
		}
		if err := fn(&cf); err != nil {
			return err
		}
	}
	return rows.Err()
}

// CountMeasures counts, in one pass, the cases f selects in each of the
// measures (f.Measure is ignored): the month trend asks this per month.
func (db *DB) CountMeasures(ctx context.Context, f lianxin.CaseFilter, ms []lianxin.Measure) (_ map[lianxin.Measure]int, err error) {
	defer wrap(&err, "CountMeasures")
	from, cut := period(f, db.now())
	where, args, err := filterWhere(f, from, cut, false)
	if err != nil {
		return nil, err
	}
	cols := make([]string, len(ms))
	dest := make([]any, len(ms))
	vals := make([]sql.NullInt64, len(ms))
	for i, m := range ms {
		if !m.Valid() || m == "" {
			return nil, lianxin.Errorf(lianxin.EINVALID, "unknown measure %q", m)
		}
		cols[i] = `SUM(CASE WHEN ` + measureSQL(m, from, cut) + ` THEN 1 ELSE 0 END)`
		dest[i] = &vals[i]
	}
	if where == "" {
		where = " WHERE " + countedSQL(from, cut)
	} else {
		where += " AND " + countedSQL(from, cut)
	}
	if err := db.read.QueryRowContext(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM cases c`+where, args...).Scan(dest...); err != nil {
		return nil, err
	}
	out := make(map[lianxin.Measure]int, len(ms))
	for i, m := range ms {
		out[m] = int(vals[i].Int64)
	}
	return out, nil
}

// roundSeconds drops julianday's floating-point noise (tens of µs).
func roundSeconds(s float64) float64 {
	if s < 0 {
		return 0
	}
	return float64(int64(s + 0.5))
}
