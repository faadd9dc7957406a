package store

import (
	"context"
	"math"
	"time"

	"github.com/lianxin/lianxin"
)

// Mass sends (群发), one machinery for every practice (consultations,
// reception reminders): the queue (mass_sends) a worker leases, the
// month's ledger that keeps a follower within the account's quota, and the
// queue that gives residents their station's WeChat tag (resident_tags).

// enqueueMassSend queues a mass send within the month's quota, refused
// with lianxin.ErrMassQuota when one more would exceed it for any follower
// it reaches. A purpose queued before is not queued again (created false).
func enqueueMassSend(tx *Tx, s lianxin.MassSend, quota int, now time.Time) (id int64, err error) {
	var have []int64
	if err := tx.Select(&have, `SELECT id FROM mass_sends WHERE purpose = ?`, s.Purpose); err != nil {
		return 0, err
	}
	if len(have) > 0 {
		return have[0], nil
	}
	used, err := massSendsUsed(tx, s.Month, s.Tag)
	if err != nil {
		return 0, err
	}
	if used >= quota {
		return 0, lianxin.ErrMassQuota
	}
	id, _, err = tx.insertID(`INSERT INTO mass_sends (purpose, tag, text, month, status, next_attempt, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		s.Purpose, s.Tag, s.Text, s.Month, lianxin.OutboxPending, now, now)
	return id, err
}

// massSendsUsed is how many mass sends of a month reach a follower with
// the tag: those to every follower and those to the tag ("" : to every
// follower, the most any tag's residents got).
func massSendsUsed(tx queryer, month, tag string) (int, error) {
	// WeChat saying the quota is used up (to every follower, or to this
	// tag's) settles it for the month, whatever we counted.
	var refused int
	if err := tx.Get(&refused, `SELECT COUNT(*) FROM mass_sends WHERE month = ? AND status = ? AND (tag = '' OR tag = ? OR ? = '')`,
		month, lianxin.MassQuotaUsed, tag, tag); err != nil {
		return 0, err
	}
	if refused > 0 {
		return math.MaxInt32, nil
	}
	live := `month = ? AND status IN ('pending', 'sent')`
	var all int
	if err := tx.Get(&all, `SELECT COUNT(*) FROM mass_sends WHERE `+live+` AND tag = ''`, month); err != nil {
		return 0, err
	}
	var tagged int
	if tag != "" {
		if err := tx.Get(&tagged, `SELECT COUNT(*) FROM mass_sends WHERE `+live+` AND tag = ?`, month, tag); err != nil {
			return 0, err
		}
	} else if err := tx.Get(&tagged, `SELECT COALESCE(MAX(n), 0) FROM (SELECT COUNT(*) AS n FROM mass_sends WHERE `+live+` AND tag <> '' GROUP BY tag) t`, month); err != nil {
		return 0, err
	}
	return all + tagged, nil
}

// MassSendsUsed is how many of the month's mass sends reach the followers
// with the tag ("" every follower), for the console to show before staff
// publish.
func (db *DB) MassSendsUsed(ctx context.Context, month, tag string) (_ int, err error) {
	defer wrap(&err, "MassSendsUsed(%s)", month)
	return massSendsUsed(db.read, month, tag)
}

// MassSends lists the mass sends of a purpose ("consultation:3"), oldest first.
func (db *DB) MassSends(ctx context.Context, purposePrefix string) (_ []lianxin.MassSend, err error) {
	defer wrap(&err, "MassSends(%s)", purposePrefix)
	var out []lianxin.MassSend
	err = db.read.SelectContext(ctx, &out, `SELECT id, purpose, tag, text, month, status, attempts, last_error, created_at, sent_at, next_attempt
		FROM mass_sends WHERE purpose = ? OR purpose LIKE ? ORDER BY id`, purposePrefix, purposePrefix+":%")
	return out, err
}

// ClaimMassSends leases due mass sends to owner (the mass-send worker).
func (db *DB) ClaimMassSends(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) (_ []lianxin.MassSend, err error) {
	defer wrap(&err, "ClaimMassSends")
	now = now.UTC()
	var out []lianxin.MassSend
	err = db.Tx(ctx, func(tx *Tx) error {
		out = out[:0]
		return tx.Select(&out, `UPDATE mass_sends SET lease_owner = ?, lease_until = ?, attempts = attempts + 1
			WHERE id IN (SELECT id FROM mass_sends WHERE status = 'pending' AND next_attempt <= ? AND (lease_until IS NULL OR lease_until <= ?)
				ORDER BY id LIMIT ?`+tx.d.skipLocked()+`)
			RETURNING id, purpose, tag, text, month, status, attempts, last_error, created_at, sent_at, next_attempt`,
			owner, now.Add(lease), now, now, limit)
	})
	return out, err
}

// FinishMassSend records what became of a claimed mass send: sent, retried
// at next (status pending), or given up (dead, or quota) with the reason.
func (db *DB) FinishMassSend(ctx context.Context, id int64, owner, status string, next time.Time, reason string) (err error) {
	defer wrap(&err, "FinishMassSend(%d)", id)
	now := db.now()
	switch status {
	case lianxin.OutboxSent:
		return db.finishLeased(ctx, "mass_sends", id, owner, `status = 'sent', sent_at = ?, last_error = ''`, now)
	case lianxin.OutboxPending:
		return db.finishLeased(ctx, "mass_sends", id, owner, `next_attempt = ?, last_error = ?`, next.UTC(), reason)
	}
	return db.finishLeased(ctx, "mass_sends", id, owner, `status = ?, last_error = ?`, status, reason)
}

// MassLedger is the month's ledger: for every follower (tag "") and each
// tag given, how many of the month's sends reach them, of quota.
func (db *DB) MassLedger(ctx context.Context, month string, tags []string, quota int) (_ []lianxin.MassUse, err error) {
	defer wrap(&err, "MassLedger(%s)", month)
	out := make([]lianxin.MassUse, 0, len(tags)+1)
	for _, tag := range append([]string{""}, tags...) {
		used, err := massSendsUsed(db.read, month, tag)
		if err != nil {
			return nil, err
		}
		u := lianxin.MassUse{Tag: tag, Used: used, Quota: quota}
		if used == math.MaxInt32 {
			u.Used, u.Refused = quota, true
		}
		out = append(out, u)
	}
	return out, nil
}

// MassSendsOfMonth lists a month's mass sends, newest first.
func (db *DB) MassSendsOfMonth(ctx context.Context, month string) (_ []lianxin.MassSend, err error) {
	defer wrap(&err, "MassSendsOfMonth(%s)", month)
	var out []lianxin.MassSend
	err = db.read.SelectContext(ctx, &out, `SELECT id, purpose, tag, text, month, status, attempts, last_error, created_at, sent_at, next_attempt
		FROM mass_sends WHERE month = ? ORDER BY id DESC`, month)
	return out, err
}

// tagResident queues giving the resident the tag (once; a resident tagged
// before is not tagged again).
func tagResident(tx *Tx, openid, tag string, now time.Time) error {
	if openid == "" || tag == "" {
		return nil
	}
	_, err := tx.Exec(`INSERT INTO resident_tags (openid, tag, next_attempt, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (openid, tag) DO NOTHING`,
		openid, tag, now, now)
	return err
}

// TagResidentsOfCases queues giving each resident whose case was routed
// (or re-routed) to a station since then that station's tag, and returns
// when it looked, for the next call. The reception loop calls it each
// round, so case registration itself is untouched; a tag queued before is
// not queued again.
func (db *DB) TagResidentsOfCases(ctx context.Context, since time.Time) (next time.Time, err error) {
	defer wrap(&err, "TagResidentsOfCases")
	now := db.now()
	var rows []struct {
		OpenID    string `db:"openid"`
		StationID string `db:"station_id"`
	}
	if err := db.read.SelectContext(ctx, &rows, `SELECT DISTINCT openid, station_id FROM cases
		WHERE updated_at >= ? AND openid <> '' AND station_id <> ''`, since.UTC()); err != nil {
		return since, err
	}
	if len(rows) == 0 {
		return now, nil
	}
	err = db.Tx(ctx, func(tx *Tx) error {
		for _, r := range rows {
			if err := tagResident(tx, r.OpenID, lianxin.StationTag(r.StationID), now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return since, err
	}
	return now, nil
}

// ClaimResidentTags leases due taggings to owner (the tagging worker).
func (db *DB) ClaimResidentTags(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) (_ []lianxin.ResidentTag, err error) {
	defer wrap(&err, "ClaimResidentTags")
	now = now.UTC()
	var out []residentTagRow
	err = db.Tx(ctx, func(tx *Tx) error {
		out = out[:0]
		return tx.Select(&out, `UPDATE resident_tags SET lease_owner = ?, lease_until = ?, attempts = attempts + 1
			WHERE id IN (SELECT id FROM resident_tags WHERE status = 'pending' AND next_attempt <= ? AND (lease_until IS NULL OR lease_until <= ?)
				ORDER BY id LIMIT ?`+tx.d.skipLocked()+`)
			RETURNING id, openid, tag, status, attempts, last_error, tagged_at`,
			owner, now.Add(lease), now, now, limit)
	})
	tags := make([]lianxin.ResidentTag, len(out))
	for i, r := range out {
		tags[i] = r.ResidentTag
		tags[i].ID = r.ID
	}
	return tags, err
}

type residentTagRow struct {
	ID int64 `db:"id"`
	lianxin.ResidentTag
}

// FinishResidentTag records what became of a claimed tagging: done,
// retried at next (status pending), or given up (dead) with the reason.
func (db *DB) FinishResidentTag(ctx context.Context, id int64, owner, status string, next time.Time, reason string) (err error) {
	defer wrap(&err, "FinishResidentTag(%d)", id)
	now := db.now()
	switch status {
	case lianxin.OutboxSent:
		return db.finishLeased(ctx, "resident_tags", id, owner, `status = 'sent', tagged_at = ?, last_error = ''`, now)
	case lianxin.OutboxPending:
		return db.finishLeased(ctx, "resident_tags", id, owner, `next_attempt = ?, last_error = ?`, next.UTC(), reason)
	}
	return db.finishLeased(ctx, "resident_tags", id, owner, `status = ?, last_error = ?`, status, reason)
}

// ResidentTags lists the taggings of a resident (tests, the operator).
func (db *DB) ResidentTags(ctx context.Context, openid string) (_ []lianxin.ResidentTag, err error) {
	defer wrap(&err, "ResidentTags")
	var out []lianxin.ResidentTag
	err = db.read.SelectContext(ctx, &out, `SELECT openid, tag, status, attempts, last_error, tagged_at FROM resident_tags WHERE openid = ? ORDER BY id`, openid)
	return out, err
}
