package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lianxin/lianxin"
)

// This file is the register as the numbers and the export read it: the one
// filter every list, sheet and figure takes (caseWhere), the SQL meaning of
// each figure (measureSQL), and the streaming reads behind the register
// export (RegisterRows) and the numbers (Facts). Figures are judged from the
// history the triggers of migration 017 keep (case_rounds, case_assignees,
// case_ratings) as things stood at the end of the period, so a month's
// numbers do not move when its cases change later.

// sourceSQL is where a case came from (来源), as the register writes it:
// the label of cases.source (lianxin.Source*; chat is 微信, the console
// registers walk-ins and calls). Filters and figures use the label too, so
// a figure's filter lists exactly the cases it counts.
const sourceSQL = `(CASE c.source WHEN 'visit' THEN '来访' WHEN 'call' THEN '来电' WHEN 'other' THEN '其他渠道' WHEN 'grid' THEN '网格' ELSE '微信' END)`

// tsFormat is how the sqlite3 driver stores a time.Time. Times are stored in
// UTC, so their text sorts as the times do, and the period bounds below are
// written as literals of the same form.
const tsFormat = "2006-01-02 15:04:05.999999999-07:00"

func ts(t time.Time) string { return "'" + t.UTC().Format(tsFormat) + "'" }

// period is a filter's period as SQL literals: its start, and the moment its
// figures are judged at (its end, or now when that is earlier).
func period(f lianxin.CaseFilter, now time.Time) (from, cut string) {
	start := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	if !f.From.IsZero() {
		start = f.From
	}
	end := now
	if !f.To.IsZero() && f.To.Before(now) {
		end = f.To
	}
	return ts(start), ts(end)
}

// deputyAtSQL is the deputy who had the case at cut.
func deputyAtSQL(cut string) string {
	return `COALESCE((SELECT a.deputy_id FROM case_assignees a WHERE a.case_id = c.id AND a.at < ` + cut + ` ORDER BY a.id DESC LIMIT 1), '')`
}

// lastRoundSQL holds when the case's latest round started before cut meets cond (on r).
func lastRoundSQL(cut, cond string) string {
	return `EXISTS (SELECT 1 FROM case_rounds r WHERE r.case_id = c.id AND r.round =
		(SELECT MAX(r2.round) FROM case_rounds r2 WHERE r2.case_id = c.id AND r2.started_at < ` + cut + `) AND ` + cond + `)`
}

// lastRatingSQL is the last rating given in [from, cut).
func lastRatingSQL(from, cut string) string {
	return `(SELECT g.rating FROM case_ratings g WHERE g.case_id = c.id AND g.at >= ` + from + ` AND g.at < ` + cut +
		` ORDER BY g.at DESC, g.id DESC LIMIT 1)`
}

// measureSQL is the condition, on a case c, of counting in figure m over the
// period [from, cut). These are the definitions of lianxin.Measure; the
// report package says them in Chinese.
func measureSQL(m lianxin.Measure, from, cut string) string {
	// A round is active in the period when it started before its end and
	// had not closed before its start.
	active := `r.started_at < ` + cut + ` AND (r.closed_at IS NULL OR r.closed_at >= ` + from + `)`
	handled := `EXISTS (SELECT 1 FROM case_rounds r WHERE r.case_id = c.id AND ` + active + `)`
	resolvedIn := `r.outcome = 'resolved' AND r.closed_at >= ` + from + ` AND r.closed_at < ` + cut
	// A round's response is judged when it was taken up in time, or else
	// when its accept deadline passed.
	onTimeAccept := `r.accepted_at IS NOT NULL AND (r.accept_due IS NULL OR r.accepted_at <= r.accept_due)`
	// A round closed (cancelled) before its accept deadline without being
	// taken up has no response to judge.
	judgedAt := `(CASE WHEN ` + onTimeAccept + ` THEN r.accepted_at
		WHEN r.accepted_at IS NULL AND r.closed_at IS NOT NULL AND r.closed_at <= r.accept_due THEN NULL ELSE r.accept_due END)`
	judged := judgedAt + ` >= ` + from + ` AND ` + judgedAt + ` < ` + cut
	// Overdue in the period: the time between a deadline and meeting it
	// (or now) overlaps the period. A cancelled round stops its clocks.
	taken := `COALESCE(r.accepted_at, r.closed_at)`
	overdue := `r.started_at < ` + cut + ` AND (
		(r.accept_due IS NOT NULL AND r.accept_due < ` + cut + ` AND (` + taken + ` IS NULL OR (` + taken + ` > r.accept_due AND ` + taken + ` > ` + from + `)))
		OR (r.resolve_due IS NOT NULL AND r.resolve_due < ` + cut + ` AND (r.closed_at IS NULL OR (r.closed_at > r.resolve_due AND r.closed_at > ` + from + `))))`
	switch m {
	case lianxin.MeasureReceived:
		return `(c.created_at >= ` + from + ` AND c.created_at < ` + cut + `)`
	case lianxin.MeasureHandled:
		return handled
	case lianxin.MeasureCarried:
		return `(c.created_at < ` + from + ` AND ` + handled + `)`
	case lianxin.MeasureReopened:
		return `EXISTS (SELECT 1 FROM case_rounds r WHERE r.case_id = c.id AND r.round > 1 AND r.started_at >= ` + from + ` AND r.started_at < ` + cut + `)`
	case lianxin.MeasureAccepted:
		return `(` + handled + ` AND ` + lastRoundSQL(cut, `r.accepted_at < `+cut) + `)`
	case lianxin.MeasureAcceptJudged:
		return `EXISTS (SELECT 1 FROM case_rounds r WHERE r.case_id = c.id AND ` + judged + `)`
	case lianxin.MeasureAcceptedOnTime:
		return `(EXISTS (SELECT 1 FROM case_rounds r WHERE r.case_id = c.id AND ` + judged + `)
			AND NOT EXISTS (SELECT 1 FROM case_rounds r WHERE r.case_id = c.id AND ` + judged + ` AND NOT (` + onTimeAccept + `)))`
	case lianxin.MeasureResolved:
		return lastRoundSQL(cut, resolvedIn)
	case lianxin.MeasureResolvedOnTime:
		return lastRoundSQL(cut, resolvedIn+` AND (r.resolve_due IS NULL OR r.closed_at <= r.resolve_due)`)
	case lianxin.MeasureOpen:
		return `(c.created_at < ` + cut + ` AND ` + lastRoundSQL(cut, `(r.closed_at IS NULL OR r.closed_at >= `+cut+`)`) + `)`
	case lianxin.MeasureOverdue:
		return `EXISTS (SELECT 1 FROM case_rounds r WHERE r.case_id = c.id AND ` + overdue + `)`
	case lianxin.MeasureRated:
		return `EXISTS (SELECT 1 FROM case_ratings g WHERE g.case_id = c.id AND g.at >= ` + from + ` AND g.at < ` + cut + `)`
	case lianxin.MeasureSatisfied, lianxin.MeasureFairly, lianxin.MeasureUnsatisfied:
		return `COALESCE(` + lastRatingSQL(from, cut) + ` = '` + string(m) + `', FALSE)`
	case lianxin.MeasureRatedResolved:
		return lastRoundSQL(cut, resolvedIn+` AND EXISTS (SELECT 1 FROM case_ratings g WHERE g.case_id = c.id AND g.at >= r.closed_at AND g.at < `+cut+`)`)
	}
	return ""
}

// countedSQL narrows a period's cases to those that can count in it before
// any figure is judged: registered before its end, and open in it or rated
// in it. Every measure implies it; it is evaluated once per statement (an
// index range on case_rounds and case_ratings), so a month of a large
// register reads that month's cases, not the whole register.
func countedSQL(from, cut string) string {
	return `(c.created_at < ` + cut + ` AND c.id IN (
		SELECT case_id FROM case_rounds WHERE closed_at IS NULL OR closed_at >= ` + from + `
		UNION SELECT case_id FROM case_ratings WHERE at >= ` + from + ` AND at < ` + cut + `))`
}

// caseWhere is the WHERE clause (with a leading space) of a filter on cases c.
func caseWhere(f lianxin.CaseFilter, now time.Time) (string, []any, error) {
	from, cut := period(f, now)
	return filterWhere(f, from, cut, true)
}

// filterWhere is caseWhere for the period [from, cut); withPeriod false
// leaves out the period's own condition (registered in it, or its measure).
func filterWhere(f lianxin.CaseFilter, from, cut string, withPeriod bool) (string, []any, error) {
	if !f.Measure.Valid() {
		return "", nil, lianxin.Errorf(lianxin.EINVALID, "unknown measure %q", f.Measure)
	}
	var where []string
	var args []any
	eq := func(cond string, v any) {
		where, args = append(where, cond), append(args, v)
	}
	in := func(col string, vals []string) {
		q := make([]string, len(vals))
		for i, v := range vals {
			q[i] = "?"
			args = append(args, v)
		}
		where = append(where, col+" IN ("+strings.Join(q, ",")+")")
	}
	if f.OpenID != "" {
		eq("c.openid = ?", f.OpenID)
	}
	if f.AssigneeID != "" {
		eq("c.assignee_id = ?", f.AssigneeID)
	}
	if f.StationID != "" {
		eq("c.station_id = ?", f.StationID)
	}
	if len(f.Status) > 0 {
		s := make([]string, len(f.Status))
		for i, v := range f.Status {
			s[i] = string(v)
		}
		in("c.status", s)
	}
	if len(f.Units) > 0 {
		in("c.station_id", f.Units)
	}
	if f.Category != "" {
		eq("c.category = ?", f.Category)
	}
	if f.Source != "" {
		eq(sourceSQL+" = ?", f.Source)
	}
	switch f.Deputy {
	case "":
	case lianxin.NoDeputy:
		eq(deputyAtSQL(cut)+" = ?", "")
	default:
		eq(deputyAtSQL(cut)+" = ?", f.Deputy)
	}
	if f.Typical {
		where = append(where, "c.typical_at IS NOT NULL")
	}
	if f.Scope != nil {
		w, a := scopeWhere(*f.Scope)
		where, args = append(where, w), append(args, a...)
	}
	switch {
	case !withPeriod:
	case f.Measure != "":
		where = append(where, countedSQL(from, cut), measureSQL(f.Measure, from, cut))
	case !f.From.IsZero() || !f.To.IsZero():
		where = append(where, measureSQL(lianxin.MeasureReceived, from, cut))
	}
	if len(where) == 0 {
		return "", nil, nil
	}
	return " WHERE " + strings.Join(where, " AND "), args, nil
}

// registerRow is a register line as read: the case and what its timeline adds.
type registerRow struct {
	caseRow
	Source     string     `db:"src"`
	AcceptedAt *time.Time `db:"round_accepted_at"`
	Forwarded  string     `db:"forwarded"`
	Result     string     `db:"result"`
	Progress   string     `db:"progress"`
	Rating     string     `db:"last_rating"`
	Overdue    bool       `db:"overdue"`
}

// RegisterRows streams the register (登记簿): the cases f selects, oldest
// first, each with its source, when its latest round was taken up, where it
// was forwarded, the result, the last rating and whether it ran over a
// deadline. One row is in memory at a time, whatever the register's size.
func (db *DB) RegisterRows(ctx context.Context, f lianxin.CaseFilter, fn func(*lianxin.RegisterRow) error) (err error) {
	defer wrap(&err, "RegisterRows")
	now := db.now()
	where, args, err := caseWhere(f, now)
	if err != nil {
		return err
	}
	query := registerSelect(db.d, now) + where + ` ORDER BY c.id`
	if f.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	return db.streamRegister(ctx, query, args, fn)
}

// registerSelect is the register's SELECT … FROM cases c: the case and
// what its timeline adds, as RegisterRows and RegisterList read it.
func registerSelect(d dialect, now time.Time) string {
	return `SELECT c.*, ` + sourceSQL + ` AS src,
		(SELECT r.accepted_at FROM case_rounds r WHERE r.case_id = c.id ORDER BY r.round DESC LIMIT 1) AS round_accepted_at,
		COALESCE((SELECT ` + d.concatUnitSep(`e.text`, `e.id`) + ` FROM case_events e WHERE e.case_id = c.id AND e.type = 'forwarded'), '') AS forwarded,
		COALESCE((SELECT e.text FROM case_events e WHERE e.case_id = c.id AND e.type IN ('resolved', 'answered') AND e.text <> ''
			ORDER BY e.type = 'resolved' DESC, e.id DESC LIMIT 1), '') AS result,
		COALESCE((SELECT e.text FROM case_events e WHERE e.case_id = c.id AND e.type = 'progress' ORDER BY e.id DESC LIMIT 1), '') AS progress,
		COALESCE((SELECT g.rating FROM case_ratings g WHERE g.case_id = c.id ORDER BY g.at DESC, g.id DESC LIMIT 1), '') AS last_rating,
		` + measureSQL(lianxin.MeasureOverdue, ts(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)), ts(now)) + ` AS overdue
		FROM cases c`
}

// streamRegister runs a register query and hands its rows to fn one by one.
func (db *DB) streamRegister(ctx context.Context, query string, args []any, fn func(*lianxin.RegisterRow) error) error {
	rows, err := db.read.QueryxContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r registerRow
		if err := rows.StructScan(&r); err != nil {
			return err
		}
		out := &lianxin.RegisterRow{Case: *r.toCase(), Source: r.Source, AcceptedAt: r.AcceptedAt, Result: r.Result, Progress: r.Progress,
			Rating: r.Rating, Overdue: r.Overdue}
		if r.Forwarded != "" {
			out.Forwarded = strings.Split(r.Forwarded, "\x1f")
		}
		if err := fn(out); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Rounds are a case's handling rounds, first first.
func (db *DB) Rounds(ctx context.Context, caseID int64) (_ []lianxin.Round, err error) {
	defer wrap(&err, "Rounds(%d)", caseID)
	var out []lianxin.Round
	err = db.read.SelectContext(ctx, &out, `SELECT round, started_at, accept_due, resolve_due, accepted_at, closed_at, outcome
		FROM case_rounds WHERE case_id = ? ORDER BY round`, caseID)
	return out, err
}
