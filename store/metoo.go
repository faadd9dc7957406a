package store

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/lianxin/lianxin"
)

// «Me too» (同一件): residents who joined an open case as the same problem,
// and grid workers who reported a case for a resident. Both are told what
// its resident is told: Transition fans each change out to them through
// SupporterNotices, in the change's own transaction.

// metersPerDegree is a degree of latitude in metres (and of longitude at
// the equator): enough for a bounding box a precise distance then trims.
const metersPerDegree = 111_320

// NearbyOpenCases are the open cases of a category registered since
// `since` within radiusM of p, nearest first, that the resident (openid)
// neither reported nor joined; private and merged cases are left out.
func (db *DB) NearbyOpenCases(ctx context.Context, category string, p lianxin.Point, radiusM float64, since time.Time, openid string) (_ []lianxin.NearbyCase, err error) {
	defer wrap(&err, "NearbyOpenCases(%s)", category)
	dLat := radiusM / metersPerDegree
	dLng := radiusM / (metersPerDegree * math.Max(0.01, math.Cos(p.Lat*math.Pi/180)))
	var rows []caseRow
	err = db.read.SelectContext(ctx, &rows, `SELECT * FROM cases c WHERE c.category = ? AND c.created_at >= ?
		AND c.lat BETWEEN ? AND ? AND c.lng BETWEEN ? AND ? AND c.lat <> 0
		AND `+openSQL+` AND c.merged_into = '' AND c.private = FALSE AND c.openid <> ?
		AND NOT EXISTS (SELECT 1 FROM case_supporters s WHERE s.case_id = c.id AND s.openid = ?)
		ORDER BY c.id DESC LIMIT 100`,
		category, since.UTC(), p.Lat-dLat, p.Lat+dLat, p.Lng-dLng, p.Lng+dLng, openid, openid)
	if err != nil {
		return nil, err
	}
	var out []lianxin.NearbyCase
	for i := range rows {
		c := rows[i].toCase()
		if d := lianxin.DistanceM(p, c.Location.Point()); d <= radiusM {
			out = append(out, lianxin.NearbyCase{Case: *c, DistanceM: d})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].DistanceM < out[j].DistanceM })
	for i := range out {
		if err := db.read.GetContext(ctx, &out[i].Supporters, `SELECT COUNT(*) FROM case_supporters WHERE case_id = ? AND role = ?`,
			out[i].ID, lianxin.SupporterResident); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// JoinCase makes a resident a supporter of an open case (同一件): their
// words and photos are added to it, with its timeline entries, in one
// transaction. It returns how many residents the case concerns now
// (its reporter and its supporters). A retried message joins once; a case
// closed or merged meanwhile is a lianxin ECONFLICT.
func (db *DB) JoinCase(ctx context.Context, j lianxin.Join) (residents int, err error) {
	defer wrap(&err, "JoinCase(case %d)", j.CaseID)
	now := db.now()
	err = db.TxCommitted(ctx, func(tx *Tx) error {
		var done int
		if err := tx.Get(&done, `SELECT COUNT(*) FROM case_supporters WHERE source_key = ?`, j.SourceKey); err != nil {
			return err
		}
		if done == 0 {
			var st struct {
				Status string `db:"status"`
				Merged string `db:"merged_into"`
			}
			if err := tx.Get(&st, `SELECT status, merged_into FROM cases WHERE id = ?`, j.CaseID); isNoRows(err) {
				return lianxin.Errorf(lianxin.ENOTFOUND, "case %d not found", j.CaseID)
			} else if err != nil {
				return err
			}
			if !lianxin.Status(st.Status).Open() || st.Merged != "" {
				return lianxin.Errorf(lianxin.ECONFLICT, "case %d is %s", j.CaseID, st.Status)
			}
			if _, err := tx.Exec(`INSERT INTO case_supporters (case_id, openid, phone, text, role, source_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (case_id, openid) DO NOTHING`, j.CaseID, j.OpenID, j.Phone, j.Text, lianxin.SupporterResident, j.SourceKey, now); err != nil {
				return err
			}
			for _, a := range j.Photos {
				if _, err := tx.Exec(`UPDATE attachments SET case_id = ?, updated_at = ? WHERE id = ? AND openid = ? AND case_id IS NULL`, j.CaseID, now, a, j.OpenID); err != nil {
					return err
				}
			}
			if err := record(tx, j.CaseID, j.Events, nil, now); err != nil {
				return err
			}
			if _, err := tx.Exec(`UPDATE cases SET updated_at = ? WHERE id = ?`, now, j.CaseID); err != nil {
				return err
			}
		}
		var n int
		if err := tx.Get(&n, `SELECT COUNT(*) FROM case_supporters WHERE case_id = ? AND role = ?`, j.CaseID, lianxin.SupporterResident); err != nil {
			return err
		}
		residents = n + 1
		return nil
	})
	return residents, err
}

// addReporter makes the grid worker who reported a case for a resident
// follow it, in the case's own transaction.
func addReporter(tx *Tx, caseID int64, openid string, now time.Time) error {
	_, err := tx.Exec(`INSERT INTO case_supporters (case_id, openid, role, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (case_id, openid) DO NOTHING`,
		caseID, openid, lianxin.SupporterReporter, now)
	return err
}

// Supporters lists a case's supporters (and its reporting grid worker).
func (db *DB) Supporters(ctx context.Context, caseID int64) (_ []lianxin.Supporter, err error) {
	defer wrap(&err, "Supporters(%d)", caseID)
	var out []lianxin.Supporter
	err = db.read.SelectContext(ctx, &out, `SELECT case_id, openid, phone, text, role, created_at FROM case_supporters WHERE case_id = ? ORDER BY id`, caseID)
	return out, err
}

// FollowedCases are the cases a WeChat user follows without having
// reported them (同一件, or reported for a resident), newest first.
func (db *DB) FollowedCases(ctx context.Context, openid string, limit int) (_ []lianxin.Case, err error) {
	defer wrap(&err, "FollowedCases(%s)", lianxin.MaskOpenID(openid))
	var rows []caseRow
	if err := db.read.SelectContext(ctx, &rows, `SELECT c.* FROM cases c JOIN case_supporters s ON s.case_id = c.id
		WHERE s.openid = ? AND c.openid <> ? ORDER BY c.id DESC LIMIT ?`, openid, openid, limit); err != nil {
		return nil, err
	}
	out := make([]lianxin.Case, len(rows))
	for i := range rows {
		out[i] = *rows[i].toCase()
	}
	return out, nil
}

// fanOut queues, in a change's transaction, what the case's supporters are
// told of it (SupporterNotices decides the words; nil tells nobody).
func (db *DB) fanOut(tx *Tx, tr lianxin.Transition, now time.Time) error {
	if db.SupporterNotices == nil || len(tr.Events) == 0 {
		return nil
	}
	var sup []lianxin.Supporter
	if err := tx.Select(&sup, `SELECT case_id, openid, phone, text, role, created_at FROM case_supporters WHERE case_id = ? ORDER BY id`, tr.CaseID); err != nil {
		return err
	}
	if len(sup) == 0 {
		return nil
	}
	var row caseRow
	if err := tx.Get(&row, `SELECT * FROM cases WHERE id = ?`, tr.CaseID); err != nil {
		return err
	}
	idem := fmt.Sprintf("support:%d:%d", tr.CaseID, now.UnixNano())
	for _, n := range db.SupporterNotices(*row.toCase(), tr.Events, sup, idem) {
		if err := enqueueNotice(tx, now, tr.CaseID, n); err != nil {
			return err
		}
	}
	return nil
}

// SimilarCandidates are the cases within the scope registered in [from,
// to) that similar-case grouping looks at: with coordinates, not cancelled
// or merged, each with how many supporters it has; the newest 5,000 when
// there are more (a district registers a few hundred a month).
func (db *DB) SimilarCandidates(ctx context.Context, scope lianxin.Scope, from, to time.Time) (_ []lianxin.CaseRow, err error) {
	defer wrap(&err, "SimilarCandidates")
	w, args := scopeWhere(scope)
	var rows []struct {
		caseRow
		Supporters int `db:"supporters"`
		Photos     int `db:"photos"`
	}
	err = db.read.SelectContext(ctx, &rows, `SELECT c.*,
		(SELECT COUNT(*) FROM case_supporters s WHERE s.case_id = c.id AND s.role = 'resident') AS supporters,
		(SELECT COUNT(*) FROM attachments a WHERE a.case_id = c.id AND a.kind = 'image') AS photos
		FROM cases c WHERE `+w+` AND c.created_at >= ? AND c.created_at < ? AND c.lat <> 0 AND c.status <> 'cancelled' AND c.merged_into = ''
		ORDER BY c.id DESC LIMIT 5000`, append(args, from.UTC(), to.UTC())...)
	if err != nil {
		return nil, err
	}
	out := make([]lianxin.CaseRow, len(rows))
	for i := range rows {
		c := rows[i].toCase()
		c.Supporters = rows[i].Supporters
		out[i] = lianxin.CaseRow{Case: *c, Photos: rows[i].Photos}
	}
	return out, nil
}

// eraseSupporters forgets who followed a case whose contact details are
// erased for retention: each supporter row keeps its place in the count,
// and their unsent notices about it are given up.
func eraseSupporters(tx *Tx, caseID int64) error {
	if _, err := tx.Exec(`UPDATE outbox SET status = 'dead', last_error = 'contact erased'
		WHERE case_id = ? AND status = 'pending' AND recipient IN (SELECT openid FROM case_supporters WHERE case_id = ?)`, caseID, caseID); err != nil {
		return err
	}
	_, err := tx.Exec(`UPDATE case_supporters SET openid = 'erased:' || CAST(id AS TEXT), phone = '', text = '' WHERE case_id = ? AND openid NOT LIKE 'erased:%'`, caseID)
	return err
}
