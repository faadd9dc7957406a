package store

import (
	"context"
	"strings"
	"time"

	"github.com/lianxin/lianxin"
)

// Suggestions (建议) made from groups of similar cases: their cases and
// their own timeline (see lianxin.Suggestion).

// scopeSuggestions keeps suggestions within what a console user may see:
// admins all, staff their station's, a deputy those they proposed (and a
// station head their station's).
func scopeSuggestions(s lianxin.Scope) (string, []any) {
	if s.All {
		return "TRUE", nil
	}
	var parts []string
	var args []any
	if len(s.Units) > 0 {
		parts = append(parts, "g.station_id IN ("+placeholders(len(s.Units))+")")
		for _, u := range s.Units {
			args = append(args, u)
		}
	}
	if s.DeputyID != "" {
		parts = append(parts, "g.deputy_id = ?")
		args = append(args, s.DeputyID)
	}
	if len(parts) == 0 {
		return "FALSE", nil
	}
	return "(" + strings.Join(parts, " OR ") + ")", args
}

const suggestionColumns = `g.id, g.title, g.summary, g.category, g.station_id, g.deputy_id, g.status, g.outcome, g.created_by, g.created_at, g.updated_at, g.closed_at,
	(SELECT COUNT(*) FROM suggestion_cases sc WHERE sc.suggestion_id = g.id) AS case_count,
	(SELECT COUNT(*) FROM suggestion_cases sc WHERE sc.suggestion_id = g.id) +
	(SELECT COUNT(*) FROM suggestion_cases sc JOIN case_supporters s ON s.case_id = sc.case_id WHERE sc.suggestion_id = g.id AND s.role = 'resident') AS residents`

// CreateSuggestion makes a suggestion of cases within the scope (each must
// be), with its first timeline entry, an entry on each case's timeline
// and the audit entry, in one transaction.
func (db *DB) CreateSuggestion(ctx context.Context, scope lianxin.Scope, s lianxin.Suggestion, numbers []string, caseEvent lianxin.Event, a lianxin.AuditEntry) (_ *lianxin.Suggestion, err error) {
	defer wrap(&err, "CreateSuggestion")
	if len(numbers) == 0 {
		return nil, lianxin.Errorf(lianxin.EINVALID, "a suggestion needs cases")
	}
	now := db.now()
	var id int64
	err = db.Tx(ctx, func(tx *Tx) error {
		w, args := scopeWhere(scope)
		var ids []int64
		for _, num := range numbers {
			var cid int64
			err := tx.Get(&cid, `SELECT c.id FROM cases c WHERE c.number = ? AND `+w, append([]any{strings.ToUpper(strings.TrimSpace(num))}, args...)...)
			if isNoRows(err) {
				return lianxin.Errorf(lianxin.ENOTFOUND, "case %s not found", num)
			} else if err != nil {
				return err
			}
			ids = append(ids, cid)
		}
		if err := tx.Get(&id, `INSERT INTO suggestions (title, summary, category, station_id, deputy_id, status, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, strings.TrimSpace(s.Title), strings.TrimSpace(s.Summary), s.Category, s.StationID,
			s.DeputyID, lianxin.SuggestionOpen, s.CreatedBy, now, now); err != nil {
			return err
		}
		ev := caseEvent
		ev.Text = strings.ReplaceAll(ev.Text, "{number}", (&lianxin.Suggestion{ID: id}).Number())
		for _, cid := range ids {
			if _, err := tx.Exec(`INSERT INTO suggestion_cases (suggestion_id, case_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, id, cid); err != nil {
				return err
			}
			if err := addEvent(tx, cid, ev, now); err != nil {
				return err
			}
		}
		if err := addSuggestionEvent(tx, id, lianxin.SuggestionEvent{Type: "created", Actor: s.CreatedBy, Text: s.Summary}, now); err != nil {
			return err
		}
		a.Subject = (&lianxin.Suggestion{ID: id}).Number()
		return audit(tx, a, now)
	})
	if err != nil {
		return nil, err
	}
	return db.Suggestion(ctx, lianxin.Scope{All: true}, id)
}

func addSuggestionEvent(tx *Tx, id int64, e lianxin.SuggestionEvent, now time.Time) error {
	_, err := tx.Exec(`INSERT INTO suggestion_events (suggestion_id, type, actor, text, at) VALUES (?, ?, ?, ?, ?)`, id, e.Type, e.Actor, e.Text, now)
	return err
}

// Suggestion returns a suggestion within the scope with its cases (each
// with its supporters counted) and its timeline.
func (db *DB) Suggestion(ctx context.Context, scope lianxin.Scope, id int64) (_ *lianxin.Suggestion, err error) {
	defer wrap(&err, "Suggestion(%d)", id)
	w, args := scopeSuggestions(scope)
	var s lianxin.Suggestion
	err = db.read.GetContext(ctx, &s, `SELECT `+suggestionColumns+` FROM suggestions g WHERE g.id = ? AND `+w, append([]any{id}, args...)...)
	if isNoRows(err) {
		return nil, lianxin.Errorf(lianxin.ENOTFOUND, "suggestion %d not found", id)
	} else if err != nil {
		return nil, err
	}
	var rows []struct {
		caseRow
		Supporters int `db:"supporters"`
	}
	if err := db.read.SelectContext(ctx, &rows, `SELECT c.*, (SELECT COUNT(*) FROM case_supporters s WHERE s.case_id = c.id AND s.role = 'resident') AS supporters
		FROM cases c JOIN suggestion_cases sc ON sc.case_id = c.id WHERE sc.suggestion_id = ? ORDER BY c.created_at`, id); err != nil {
		return nil, err
	}
	for i := range rows {
		c := rows[i].toCase()
		c.Supporters = rows[i].Supporters
		s.Cases = append(s.Cases, *c)
	}
	err = db.read.SelectContext(ctx, &s.Events, `SELECT id, type, actor, text, at FROM suggestion_events WHERE suggestion_id = ? ORDER BY id`, id)
	return &s, err
}

// Suggestions lists the suggestions within the scope, newest first.
func (db *DB) Suggestions(ctx context.Context, scope lianxin.Scope) (_ []lianxin.Suggestion, err error) {
	defer wrap(&err, "Suggestions")
	w, args := scopeSuggestions(scope)
	var out []lianxin.Suggestion
	err = db.read.SelectContext(ctx, &out, `SELECT `+suggestionColumns+` FROM suggestions g WHERE `+w+` ORDER BY g.id DESC LIMIT 200`, args...)
	return out, err
}

// SuggestionsOf lists the suggestions a case went into.
func (db *DB) SuggestionsOf(ctx context.Context, caseID int64) (_ []lianxin.Suggestion, err error) {
	defer wrap(&err, "SuggestionsOf(%d)", caseID)
	var out []lianxin.Suggestion
	err = db.read.SelectContext(ctx, &out, `SELECT `+suggestionColumns+` FROM suggestions g JOIN suggestion_cases x ON x.suggestion_id = g.id
		WHERE x.case_id = ? ORDER BY g.id`, caseID)
	return out, err
}

// ChangeSuggestion applies one action to a suggestion within the scope:
// its status and outcome, its timeline entry, its cases' timeline entries
// and notices, and the audit entry, in one transaction. An answered
// suggestion takes no more actions.
func (db *DB) ChangeSuggestion(ctx context.Context, ch lianxin.SuggestionChange) (err error) {
	defer wrap(&err, "ChangeSuggestion(%d)", ch.ID)
	now := db.now()
	return db.Tx(ctx, func(tx *Tx) error {
		w, args := scopeSuggestions(ch.Scope)
		var status string
		err := tx.Get(&status, `SELECT g.status FROM suggestions g WHERE g.id = ? AND `+w, append([]any{ch.ID}, args...)...)
		if isNoRows(err) {
			return lianxin.Errorf(lianxin.ENOTFOUND, "suggestion %d not found", ch.ID)
		} else if err != nil {
			return err
		}
		if lianxin.SuggestionStatus(status) == lianxin.SuggestionAnswered {
			return lianxin.Errorf(lianxin.ECONFLICT, "suggestion %d is already answered", ch.ID)
		}
		set, sargs := `updated_at = ?`, []any{now}
		if ch.Status != "" {
			set += `, status = ?`
			sargs = append(sargs, ch.Status)
			if ch.Status == lianxin.SuggestionAnswered {
				set += `, outcome = ?, closed_at = ?`
				sargs = append(sargs, strings.TrimSpace(ch.Outcome), now)
			}
		}
		if _, err := tx.Exec(`UPDATE suggestions SET `+set+` WHERE id = ?`, append(sargs, ch.ID)...); err != nil {
			return err
		}
		if err := addSuggestionEvent(tx, ch.ID, ch.Event, now); err != nil {
			return err
		}
		for cid, evs := range ch.CaseEvents {
			if err := record(tx, cid, evs, ch.CaseNotices[cid], now); err != nil {
				return err
			}
		}
		for cid, ns := range ch.CaseNotices {
			if _, has := ch.CaseEvents[cid]; has {
				continue
			}
			if err := record(tx, cid, nil, ns, now); err != nil {
				return err
			}
		}
		a := ch.Audit
		a.Subject = (&lianxin.Suggestion{ID: ch.ID}).Number()
		return audit(tx, a, now)
	})
}
